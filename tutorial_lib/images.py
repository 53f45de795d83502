"""Pictures in: reading a user's picture, framing it like the renderings, and the crops the image networks read.

* :func:`read_image` – a picture file (PNG, JPG, TIFF, GIF, WebP, ...; grey, RGB, RGBA, 16-bit or
  float) as float pixels, or a one-line error naming the file; :func:`read_grey` – the same in
  grey with its background made white. Both live in :mod:`tutorial_lib.picture_files` (no torch),
  with EXIF orientation, animations, giant pictures and decompression bombs.
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

from . import config, data
from .config import CROP_SIZE, IMAGE_SIZE
from .picture_files import (  # noqa: F401  (pictures in: read without torch, re-exported here)
    BORDER_FRACTION,
    DARKEST_BACKGROUND,
    IMAGE_SUFFIXES,
    MAX_PIXELS,
    PIXEL_BUDGET,
    ImageError,
    background_level,
    read_grey,
    read_image,
    whiten_background,
)

#: A pixel darker than this (in [0, 1], white = 1) belongs to the object, not the background.
BACKGROUND_THRESHOLD = 0.95


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


def load_image(path: str | Path, object_size: float | None = None, profile: config.Profile | None = None) -> np.ndarray:
    """A picture file as a grey float32 [137, 137] image in [0, 1], framed like the renderings.

    Grey, RGB and RGBA files are accepted (:func:`read_grey`); a transparent background becomes
    white (the renderings' background), and so does a light-grey one. Colours become grey by
    luminance. ``object_size`` is the longer
    side of the object in pixels; by default the median of ``profile``'s training renderings
    (a shipped image encoder carries its own: ``model.object_size``).
    """
    path = Path(path)
    grey = read_grey(path)
    if object_size is None:
        if profile is None:
            raise ValueError(f"{path}: give the object size to frame the picture at, or the profile whose renderings to measure it on")
        object_size = rendering_object_size(data.split_path(data.ensure_dataset(profile), "train"))
    try:
        return frame_like_renderings(grey, object_size)
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from None


def center_crop(image: torch.Tensor, size: int = CROP_SIZE) -> torch.Tensor:
    """The central ``size``×``size`` window of an image ``[..., H, W]`` (torchvision's ``center_crop``,
    which would pad a smaller image: that is refused here). For 137 → 128 the window starts at row and column 4."""
    from torchvision.transforms.v2 import functional as TF

    height, width = image.shape[-2:]
    if size > height or size > width:
        raise ValueError(f"cannot crop {size}×{size} out of an image of {height}×{width}")
    return TF.center_crop(image, [size, size])


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


# --------------------------------------------------------------------------------------------
# Pictures as others would make them: randomisation of the training pictures
# --------------------------------------------------------------------------------------------

#: Ranges of :func:`randomise_pictures` (each drawn per picture).
RANDOMISATION = {
    "reframe_probability": 0.5,  # framed like load_image frames a user's picture, else as rendered
    "object_size_factor": (0.85, 1.15),  # of the framing's object size, when reframed
    "aspect_factor": (0.93, 1.07),  # a wider or taller object (another focal length, another camera)
    "shift_px": 3,  # the object off the centre by up to this many pixels, when reframed
    "gamma": (0.5, 2.0),  # shading curve v ** gamma
    "albedo": (0.45, 1.15),  # a smooth field of surface brightness: parts of different colours
    "albedo_cells": 4,  # the albedo field's resolution across the picture
    "texture": (0.0, 0.15),  # fine multiplicative noise on the surface: texture, grain
    "ambient": (0.0, 0.15),  # light added everywhere on the object
    "background": (0.965, 1.0),  # white or a light grey (above BACKGROUND_THRESHOLD)
    "blur_probability": 0.5,
    "blur_sigma": (0.3, 1.2),  # pixels
    "noise": (0.0, 0.02),  # standard deviation of sensor noise
    "jpeg_probability": 0.3,
    "jpeg_quality": (40, 90),
}


def _uniform(low: float, high: float, size: int, generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(size, generator=generator)


def _object_boxes(pictures: torch.Tensor, threshold: float = BACKGROUND_THRESHOLD) -> torch.Tensor:
    """(top, bottom, left, right) of the object in each picture of [B, 1, H, W], bottom/right exclusive, as floats;
    the whole picture where there is no object (as :func:`object_box`, for a batch, on any device)."""
    inside = pictures[:, 0] < threshold
    boxes = []
    for mask in (inside.any(2), inside.any(1)):  # rows, columns that hold the object
        n = mask.shape[1]
        index = torch.arange(n, device=mask.device).expand_as(mask)
        first = torch.where(mask, index, n).min(1).values
        last = torch.where(mask, index, -1).max(1).values + 1
        empty = ~mask.any(1)
        boxes += [torch.where(empty, 0, first), torch.where(empty, n, last)]
    return torch.stack(boxes, 1).float()


def _reframe(pictures: torch.Tensor, object_sizes: torch.Tensor, aspects: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Pictures [B, 1, H, W] with each object scaled so that its longer side is ``object_sizes``
    pixels (its width times ``aspects``), centred and moved by ``shifts`` [B, 2] (rows, columns) pixels.

    The object's box (with whatever background it holds) is resampled onto a white canvas, as
    :func:`frame_like_renderings` does with a user's picture, for a whole batch at once.
    """
    b, _, height, width = pictures.shape
    top, bottom, left, right = _object_boxes(pictures).T
    scale = object_sizes / torch.maximum(bottom - top, right - left)
    scale_y, scale_x = scale, scale * aspects
    # output pixel (x, y) reads the input at centre_in + ((x, y) - centre_out) / scale; in
    # grid_sample's coordinates (-1 and 1 are the outer edges of the picture: align_corners=False)
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    out_x, out_y = width / 2 + shifts[:, 1].float(), height / 2 + shifts[:, 0].float()
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = 1 / scale_x
    theta[:, 0, 2] = 2 * centre_x / width - 1 + (1 - 2 * out_x / width) / scale_x
    theta[:, 1, 1] = 1 / scale_y
    theta[:, 1, 2] = 2 * centre_y / height - 1 + (1 - 2 * out_y / height) / scale_y
    grid = F.affine_grid(theta.to(pictures), [b, 1, height, width], align_corners=False)
    darkness = F.grid_sample(1 - pictures, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    source_x = (grid[..., 0] + 1) * width / 2  # where each output pixel reads, in input pixels
    source_y = (grid[..., 1] + 1) * height / 2
    in_box = (source_x >= left.view(b, 1, 1)) & (source_x <= right.view(b, 1, 1)) & (source_y >= top.view(b, 1, 1)) & (source_y <= bottom.view(b, 1, 1))
    return torch.where(in_box[:, None], 1 - darkness, torch.ones_like(darkness))


def gaussian_blur(pictures: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """Each picture of [B, C, H, W] blurred with its own Gaussian (torchvision's ``gaussian_blur``;
    ``sigmas`` [B] pixels, 0 leaves a picture as it is; the kernel reaches 2.5 sigma)."""
    from torchvision.transforms.v2 import functional as TF

    out = pictures.clone()
    for i in torch.nonzero(sigmas > 0).flatten().tolist():
        sigma = float(sigmas[i])
        out[i] = TF.gaussian_blur(pictures[i], kernel_size=2 * max(1, int(np.ceil(2.5 * sigma))) + 1, sigma=sigma)
    return out


def jpeg_round_trip(image: torch.Tensor, quality: int) -> torch.Tensor:
    """A grey picture [H, W] in [0, 1] as it comes back from a JPEG file of ``quality`` (Pillow's libjpeg)."""
    import io

    from PIL import Image

    file = io.BytesIO()
    Image.fromarray((image.clamp(0, 1) * 255).round().to(torch.uint8).numpy()).save(file, format="JPEG", quality=quality)
    with Image.open(file) as decoded:
        return torch.from_numpy(np.asarray(decoded, dtype=np.float32) / 255.0)


def randomise_pictures(images: torch.Tensor, object_size: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Our grey renderings ``[B, 1, H, W]`` in [0, 1] (white background) as another camera, light,
    material and file format might have made them; the objects' shapes stay the same.

    For every picture, with settings drawn from :data:`RANDOMISATION` (torch's global generator
    unless one is given: the training loop seeds it per step, so a resumed run draws the same):

    * the object's shading: a gamma curve, a smooth random field of surface brightness (parts of
      other colours), fine texture noise and an ambient term; the background white or a light grey;
    * framing: half the pictures are framed the way :func:`load_image` frames a user's picture
      (the object's longer side ``object_size`` pixels, give or take 15 %, centred, a few pixels
      off), with the width stretched or squeezed a little; the other half keep the renderer's
      framing, where a telephone is small and a loudspeaker large;
    * blur, sensor noise, and JPEG compression for some.

    The object is told from the background by :data:`BACKGROUND_THRESHOLD`, as in
    :func:`load_image` (a rendering's object is darker, its background exactly white).
    """
    r = RANDOMISATION
    b, _, height, width = images.shape
    reframe = torch.rand(b, generator=generator) < r["reframe_probability"]
    sizes = _uniform(*r["object_size_factor"], b, generator) * object_size
    aspects = _uniform(*r["aspect_factor"], b, generator)
    shifts = torch.randint(-r["shift_px"], r["shift_px"] + 1, (b, 2), generator=generator)
    gammas = torch.exp(_uniform(np.log(r["gamma"][0]), np.log(r["gamma"][1]), b, generator))
    cells = r["albedo_cells"]
    albedo = _uniform(*r["albedo"], b * cells * cells, generator).view(b, 1, cells, cells)
    albedo = F.interpolate(albedo, size=(height, width), mode="bilinear", align_corners=False)
    grain = torch.randn(b, 1, (height + 1) // 2, (width + 1) // 2, generator=generator)  # 2-pixel grain: cheaper, and less like sensor noise
    texture = _uniform(*r["texture"], b, generator).view(b, 1, 1, 1) * grain.repeat_interleave(2, 2).repeat_interleave(2, 3)[..., :height, :width]
    ambient = _uniform(*r["ambient"], b, generator).view(b, 1, 1, 1)
    background = _uniform(*r["background"], b, generator).view(b, 1, 1, 1)
    blur = torch.rand(b, generator=generator) < r["blur_probability"]
    sigmas = _uniform(*r["blur_sigma"], b, generator)
    noise = _uniform(*r["noise"], b, generator).view(b, 1, 1, 1) * torch.randn(b, 1, height, width, generator=generator)
    jpeg = torch.rand(b, generator=generator) < r["jpeg_probability"]
    qualities = torch.randint(r["jpeg_quality"][0], r["jpeg_quality"][1] + 1, (b,), generator=generator)
    # drawn on the CPU (the same numbers on any device), applied where the pictures are
    albedo, texture, ambient, background, noise, sigmas = (t.to(images) for t in (albedo, texture, ambient, background, noise, sigmas))
    reframe, blur, sizes, aspects, shifts = (t.to(images.device) for t in (reframe, blur, sizes, aspects, shifts))

    on_object = (images < BACKGROUND_THRESHOLD).float()
    shaded = (ambient + albedo * (1 + texture) * images.clamp(0, 1) ** gammas.view(b, 1, 1, 1)).clamp(0, 0.92)
    pictures = on_object * shaded + (1 - on_object) * background
    # Reframed after the background is shaded, as load_image does with a photo: the object's box,
    # its grey background included, is resampled onto a white canvas.
    if reframe.any():
        pictures[reframe] = _reframe(pictures[reframe], sizes[reframe], aspects[reframe], shifts[reframe])
    pictures = gaussian_blur(pictures, torch.where(blur, sigmas, torch.zeros_like(sigmas)))
    pictures = (pictures + noise).clamp(0, 1)
    for i in torch.nonzero(jpeg).flatten().tolist():  # on the CPU, with libjpeg
        pictures[i, 0] = jpeg_round_trip(pictures[i, 0].cpu(), int(qualities[i])).to(pictures)
    return pictures
