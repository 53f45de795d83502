"""Picture files in, without torch: reading, turning upright, scaling by the real range, and a white background.

:mod:`tutorial_lib.images` re-exports everything here; this module imports only numpy and PIL,
so that the command line can read (and refuse) a query picture before torch and the models are
loaded, while the process is still small: a giant picture's decoding then adds nothing to the
search's peak memory.

* :func:`read_image` – a picture file as float pixels, or a one-line error naming the file:
  EXIF orientation, 16-bit and floating-point pictures, animations (first frame, said on
  stderr), giant pictures (reduced as they are read) and decompression bombs.
* :func:`read_grey` – the same as one grey image with its background made white
  (:func:`whiten_background`, from the border's grey level: :func:`background_level`).
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np

#: The picture files a query or a reconstruction may be (by suffix).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def query_kind(path: str | Path) -> str:
    """``"picture"`` or ``"mesh"`` by the file's suffix; a missing or unsupported file, or a folder, raises an error naming it."""
    from .geometry import MESH_SUFFIXES

    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a picture or a mesh file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such query file")
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "picture"
    if suffix in MESH_SUFFIXES:
        return "mesh"
    raise ValueError(f"{path}: unsupported query file type {suffix!r}; give a picture ({', '.join(IMAGE_SUFFIXES)}) or a mesh ({', '.join(MESH_SUFFIXES)})")


class ImageError(ValueError):
    """An image file that cannot be used, with the file named in the message."""


#: A picture with more pixels than this is reduced when it is read (JPEG while it is decoded,
#: with PIL's ``draft``; other formats right after, with ``reduce``), so that the arrays made from
#: it stay small: it is framed to 137×137 in the end, and 2048² leaves an object that fills a
#: twentieth of the picture's width still 100 pixels wide.
PIXEL_BUDGET = 2048 * 2048
#: A picture whose header declares more pixels than this is refused before it is decoded (a
#: "decompression bomb": a small file that would need gigabytes once decoded). PIL's own limit
#: (twice ``PIL.Image.MAX_IMAGE_PIXELS``): about 179 megapixels, a 13,000² picture.
MAX_PIXELS = 178_956_970


def read_image(path: str | Path) -> np.ndarray:
    """The pixels of a picture file as float32 [H, W, 3 or 4] in [0, 1], or a one-line error naming it.

    Missing, empty, truncated and non-image files, folders and decompression bombs all raise
    (``FileNotFoundError`` or :class:`ImageError`), so a command can check its input before any
    model runs. A phone photo is turned upright by its EXIF orientation; 16-bit and
    floating-point pictures are scaled by the range their values really use (a float picture
    whose values fit none of [0, 1], [0, 255], [0, 65535] is refused); an animation (GIF, WebP,
    APNG) is read at its first frame, and one line on stderr says so; a picture above
    :data:`PIXEL_BUDGET` pixels is reduced (by a whole factor) as it is read.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not a picture")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's DecompressionBombWarning, EXIF and palette warnings: handled below
            with Image.open(path) as opened:
                width, height = opened.size
                if width * height > MAX_PIXELS:
                    raise Image.DecompressionBombError(f"{width}×{height}")
                frames = getattr(opened, "n_frames", 1)
                if frames > 1:
                    print(f"{path}: an animation of {frames} frames; reading its first frame", file=sys.stderr, flush=True)
                    opened.seek(0)
                orientation = opened.getexif().get(0x0112, 1)  # EXIF Orientation: the reduced copy no longer carries it
                image = _reduced(opened, width, height)
                if orientation in _UPRIGHT:
                    image = image.transpose(_UPRIGHT[orientation])
                pixels = _as_float(image, path)
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file that PIL can read (PNG, JPG, ...)") from None
    except Image.DecompressionBombError as exc:
        import re

        found = re.search(r"\((\d+) pixels\)", str(exc))  # PIL's own check, in Image.open
        size = f"{width}×{height} pixels" if "width" in locals() else f"{int(found.group(1)) if found else 0:,} pixels"
        raise ImageError(f"{path}: a picture of {size}, more than the {MAX_PIXELS / 1e6:.0f} megapixels this program reads (a decompression bomb?)") from None
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # PIL reports truncated or corrupt data as these
        raise ImageError(f"{path}: a damaged or truncated image ({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__})") from None
    return pixels


#: The border of a picture whose grey level is taken for its background: this fraction of the
#: shorter side (at least one pixel) all around.
BORDER_FRACTION = 0.02
#: A background (the border's median grey level) darker than this is refused: the networks know
#: dark objects on white, and a dark background cannot be turned into white.
DARKEST_BACKGROUND = 0.5


def background_level(grey: np.ndarray) -> float:
    """The grey level of a picture's background: the median of its border (:data:`BORDER_FRACTION`)."""
    grey = np.asarray(grey)
    width = max(1, round(BORDER_FRACTION * min(grey.shape)))
    border = np.concatenate([grey[:width].ravel(), grey[-width:].ravel(), grey[:, :width].ravel(), grey[:, -width:].ravel()])
    return float(np.median(border))


def whiten_background(grey: np.ndarray, name: str | Path = "picture") -> np.ndarray:
    """A grey picture [H, W] in [0, 1] with its background (:func:`background_level`) made white.

    Grey levels are divided by the background's and clipped to 1, so a photo on light-grey
    paper (240 of 255) looks like the renderings (objects on pure white); a white background
    stays as it is. A dark background is refused (:class:`ImageError` naming ``name``).
    """
    level = background_level(grey)
    if level < DARKEST_BACKGROUND:
        raise ImageError(f"{name}: the background (the picture's border, grey level {level:.2f} of 1) is dark; "
                         "give a picture of the object on a white or light background")  # fmt: skip
    return np.minimum(np.asarray(grey, dtype=np.float32) / np.float32(level), 1.0)


_LAST_GREY: dict = {}  # (path, size, modification time) -> grey picture: the command line reads its query twice


def read_grey(path: str | Path) -> np.ndarray:
    """A picture file as one grey float32 [H, W] in [0, 1]: :func:`read_image`, transparent parts
    white, colours by luminance, the background made white (:func:`whiten_background`)."""
    path = Path(path)
    key = (str(path.resolve()), *((path.stat().st_size, path.stat().st_mtime_ns) if path.is_file() else (None, None)))
    if key in _LAST_GREY:
        return _LAST_GREY[key].copy()
    rgba = read_image(path)
    rgb, alpha = (rgba[..., :3], rgba[..., 3:]) if rgba.shape[-1] == 4 else (rgba, None)
    if alpha is not None:
        rgb = rgb * alpha + (1 - alpha)  # composite on white
    grey = whiten_background(rgb @ np.array([0.299, 0.587, 0.114], np.float32), path)
    _LAST_GREY.clear()
    _LAST_GREY[key] = grey
    return grey.copy()


def _transposes() -> dict:
    from PIL import Image

    T = Image.Transpose
    return {2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM, 5: T.TRANSPOSE, 6: T.ROTATE_270, 7: T.TRANSVERSE, 8: T.ROTATE_90}


#: EXIF orientation → the transpose that turns the picture upright (as ``PIL.ImageOps.exif_transpose``).
_UPRIGHT = _transposes()


def _reduced(opened, width: int, height: int):
    """The decoded picture, reduced by a whole factor when it has more than :data:`PIXEL_BUDGET` pixels
    (a JPEG is decoded at 1/2, 1/4 or 1/8 of its size already, with PIL's ``draft``)."""
    from PIL import Image

    if width * height > PIXEL_BUDGET and opened.format == "JPEG":
        factor = math.sqrt(width * height / PIXEL_BUDGET)
        opened.draft(opened.mode, (math.ceil(width / factor), math.ceil(height / factor)))
    opened.load()
    image = opened
    width, height = image.size
    if width * height > PIXEL_BUDGET:
        factor = math.ceil(math.sqrt(width * height / PIXEL_BUDGET))
        size = (max(1, width // factor), max(1, height // factor))
        if image.mode in ("1", "P", "PA"):
            image = image.resize(size, Image.Resampling.NEAREST)  # a palette's indices cannot be averaged
        elif image.mode.startswith("I;16"):
            image = image.resize(size, Image.Resampling.BOX)
        else:
            image = image.reduce(factor)
    return image


def _as_float(image, path: Path) -> np.ndarray:
    """PIL image → float32 [H, W, 3 or 4] in [0, 1], 16-bit and float pictures by the range their values use."""
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float32)
        if mode.startswith("I;16"):
            grey = values / 65535.0
        else:
            if not np.isfinite(values).all():
                raise ImageError(f"{path}: a {'floating-point' if mode == 'F' else 'integer'} picture with NaN or infinite values")
            low, high = float(values.min()), float(values.max())
            scale = next((top for top in (1.0, 255.0, 65535.0) if low >= 0 and high <= top and (mode == "F" or top > 1.0)), None)
            if scale is None:
                raise ImageError(f"{path}: a {'floating-point' if mode == 'F' else '32-bit integer'} picture whose values run from {low:g} to {high:g}: "
                                 "not grey levels in [0, 1], [0, 255] or [0, 65535]; save it as an 8- or 16-bit picture")  # fmt: skip
            grey = values / scale
        return np.repeat(grey[..., None], 3, axis=2)
    transparent = mode in ("RGBA", "LA", "P", "PA", "La", "RGBa") or "transparency" in image.info
    return np.asarray(image.convert("RGBA" if transparent else "RGB"), dtype=np.float32) / 255.0


__all__ = [
    "BORDER_FRACTION", "DARKEST_BACKGROUND", "IMAGE_SUFFIXES", "ImageError", "MAX_PIXELS", "PIXEL_BUDGET", "background_level",
    "query_kind", "read_grey", "read_image", "whiten_background",
]  # fmt: skip
