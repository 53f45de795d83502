"""Pictures in: reading a user's picture, framing it like the renderings, and the crops the image networks read.

* :func:`read_image` – a PNG/JPG (grey, RGB or RGBA) as float pixels, or a one-line error naming the file.
* :func:`load_image` – a picture framed like our renderings: the object centred on a white
  137×137 canvas, scaled to the size objects have in the dataset's renderings
  (:func:`rendering_object_size`, :func:`frame_like_renderings`, :func:`object_box`).
* :func:`center_crop`, :func:`random_crop` – the 128×128 window of a 137×137 rendering that the
  image networks read (central for testing, random for training: a small shift as augmentation);
  :func:`augment` – random crops and horizontal flips of a batch, the talk's "crops and flips".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data
from .config import CROP_SIZE, IMAGE_SIZE

#: A pixel darker than this (in [0, 1], white = 1) belongs to the object, not the background.
BACKGROUND_THRESHOLD = 0.95


class ImageError(ValueError):
    """An image file that cannot be used, with the file named in the message."""


def object_box(image: np.ndarray, threshold: float = BACKGROUND_THRESHOLD) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), bottom/right exclusive, of the non-background pixels; None if blank."""
    rows, cols = np.nonzero(np.asarray(image) < threshold)
    if len(rows) == 0:
        return None
    return int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1


def rendering_object_size(path: str | Path, shapes: int = 40) -> float:
    """Median of the longer side (pixels) of the object's box in the renderings of a split file."""
    pixels = data.read_pixels(path, np.arange(min(shapes, len(data.read_split(path, ())["names"]))))
    sizes = []
    for image in pixels.reshape(-1, *pixels.shape[-2:]) / 255.0:
        box = object_box(image)
        if box is not None:
            sizes.append(max(box[1] - box[0], box[3] - box[2]))
    return float(np.median(sizes))


def frame_like_renderings(grey: np.ndarray, object_size: float, size: int = IMAGE_SIZE) -> np.ndarray:
    """Crop a grey image [H, W] in [0, 1] to its object, scale it so its longer side is
    ``object_size`` pixels, and centre it on a white ``size``×``size`` canvas."""
    box = object_box(grey)
    if box is None:
        raise ImageError("the image holds no object: every pixel is (near) white")
    top, bottom, left, right = box
    crop = torch.from_numpy(np.ascontiguousarray(grey[top:bottom, left:right], dtype=np.float32))[None, None]
    scale = object_size / max(bottom - top, right - left)
    height, width = max(1, round((bottom - top) * scale)), max(1, round((right - left) * scale))
    resized = F.interpolate(crop, size=(height, width), mode="bilinear", antialias=True, align_corners=False)[0, 0].clamp(0, 1)
    canvas = np.ones((size, size), np.float32)
    y, x = (size - height) // 2, (size - width) // 2
    canvas[y : y + height, x : x + width] = resized.numpy()
    return canvas


def read_image(path: str | Path) -> np.ndarray:
    """The pixels of a picture file as float32 [H, W, 3 or 4] in [0, 1], or a one-line error naming it.

    Missing, empty, truncated and non-image files all raise (``FileNotFoundError`` or
    :class:`ImageError`), so a command can check its input before any model runs.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty")
    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened.convert("RGBA") if opened.mode in ("RGBA", "LA", "P", "PA") else opened.convert("RGB")
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file that PIL can read (PNG, JPG, ...)") from None
    except (OSError, SyntaxError, ValueError) as exc:  # PIL reports truncated or corrupt data as these
        raise ImageError(f"{path}: a damaged or truncated image ({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__})") from None
    return np.asarray(image, dtype=np.float32) / 255.0


def load_image(path: str | Path, object_size: float | None = None, profile: str = "quick") -> np.ndarray:
    """A picture file as a grey float32 [137, 137] image in [0, 1], framed like the renderings.

    Grey, RGB and RGBA files are accepted; a transparent background becomes white (the
    renderings' background). Colours become grey by luminance. ``object_size`` is the longer
    side of the object in pixels; by default the median of the profile's training renderings.
    """
    path = Path(path)
    rgba = read_image(path)
    rgb, alpha = (rgba[..., :3], rgba[..., 3:]) if rgba.shape[-1] == 4 else (rgba, np.ones_like(rgba[..., :1]))
    rgb = rgb * alpha + (1 - alpha)  # composite on white
    grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    if object_size is None:
        object_size = rendering_object_size(data.split_path(data.ensure_dataset(profile), "train"))
    try:
        return frame_like_renderings(grey, object_size)
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from None


def center_crop(image: torch.Tensor, size: int = CROP_SIZE) -> torch.Tensor:
    """The central ``size``×``size`` window of an image ``[..., H, W]``.

    When ``H - size`` is odd the extra row (column) is dropped at the bottom (right): for
    137 → 128 the window starts at row and column 4.
    """
    height, width = image.shape[-2:]
    if size > height or size > width:
        raise ValueError(f"cannot crop {size}×{size} out of an image of {height}×{width}")
    top, left = (height - size) // 2, (width - size) // 2
    return image[..., top : top + size, left : left + size]


def random_crop(image: torch.Tensor, size: int = CROP_SIZE, generator: torch.Generator | None = None) -> torch.Tensor:
    """A ``size``×``size`` window at a uniformly random position of an image ``[..., H, W]``.

    Uses torch's global generator unless one is given: the training loop seeds it per step,
    so the crops of a step are the same in a resumed run.
    """
    height, width = image.shape[-2:]
    if size > height or size > width:
        raise ValueError(f"cannot crop {size}×{size} out of an image of {height}×{width}")
    top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
    return image[..., top : top + size, left : left + size]


def augment(images: torch.Tensor, generator: torch.Generator | None = None, size: int = CROP_SIZE) -> torch.Tensor:
    """Random ``size``×``size`` crops (one position per image) and random horizontal flips of
    a batch ``[B, 1, H, W]``, as in the talk's training ("random crops and flips")."""
    b, _, height, width = images.shape
    tops = torch.randint(0, height - size + 1, (b,), generator=generator)
    lefts = torch.randint(0, width - size + 1, (b,), generator=generator)
    flips = torch.rand(b, generator=generator) < 0.5
    out = torch.stack([images[i, :, top : top + size, left : left + size] for i, (top, left) in enumerate(zip(tops.tolist(), lefts.tolist()))])
    out[flips] = out[flips].flip(-1)
    return out
