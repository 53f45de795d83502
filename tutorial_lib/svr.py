"""2D → 3D: from one picture to z, and from z to a mesh (single-view reconstruction).

The talk's title act: a ResNet-18 (:class:`tutorial_lib.models.ImageEncoder`) reads one
128×128 crop of a 137×137 grey rendering and predicts the shape's z, the code the 3D
autoencoder gave that shape; the autoencoder's frozen decoder turns z into occupancy, and
marching cubes into a mesh.

* :func:`load_image` – a user's PNG/JPG (grey, RGB or RGBA) as a grey 137×137 picture framed
  like our renderings (object centred on a white background, scaled to the dataset's size).
* :func:`augment` – random 128×128 crops and horizontal flips for training; :func:`center_crop`
  at test time.
* :class:`ImageCodes` – (image, z) pairs: every view of every shape, with the autoencoder's z.
* :func:`train_image_encoder` – the recipe on the shared training loop (MSE on z).
* :func:`reconstruct_from_image` – picture → z → mesh, in one call.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import config, data
from .classification import center_crop
from .config import CROP_SIZE, IMAGE_SIZE

#: A pixel darker than this (in [0, 1], white = 1) belongs to the object, not the background.
BACKGROUND_THRESHOLD = 0.95


class ImageError(ValueError):
    """An image file that cannot be used, with the file named in the message."""


# --------------------------------------------------------------------------------------------
# Pictures in, framed like the renderings
# --------------------------------------------------------------------------------------------


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


def load_image(path: str | Path, object_size: float | None = None, profile: str = "quick") -> np.ndarray:
    """A picture file as a grey float32 [137, 137] image in [0, 1], framed like the renderings.

    Grey, RGB and RGBA files are accepted; a transparent background becomes white (the
    renderings' background). Colours become grey by luminance. ``object_size`` is the longer
    side of the object in pixels; by default the median of the profile's training renderings.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened.convert("RGBA") if opened.mode in ("RGBA", "LA", "P", "PA") else opened.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from exc
    rgba = np.asarray(image, dtype=np.float32) / 255.0
    rgb, alpha = (rgba[..., :3], rgba[..., 3:]) if rgba.shape[-1] == 4 else (rgba, np.ones_like(rgba[..., :1]))
    rgb = rgb * alpha + (1 - alpha)  # composite on white
    grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    if object_size is None:
        object_size = rendering_object_size(data.split_path(data.ensure_dataset(profile), "train"))
    try:
        return frame_like_renderings(grey, object_size)
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from None


# --------------------------------------------------------------------------------------------
# Training data
# --------------------------------------------------------------------------------------------


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


class ImageCodes:
    """(image [1, 137, 137], z [z_dim]) for every view of every shape of a split file.

    ``codes`` holds one z per shape (in the file's order), usually the shipped autoencoder's
    (:func:`tutorial_lib.autoencoder.load_shipped_z`).
    """

    def __init__(self, path: str | Path, codes: np.ndarray):
        self.images = data.ImageDataset(path)
        self.codes = torch.as_tensor(np.asarray(codes), dtype=torch.float32)
        if len(self.codes) != len(self.images.names):
            raise ValueError(f"{path}: {len(self.images.names)} shapes but {len(self.codes)} codes")

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        image, shape = self.images[index]
        return image, self.codes[shape]


def z_loss(model, batch):
    """MSE between predicted and target z, on augmented crops; for :func:`training.train`."""
    images, codes = batch
    predicted = model(augment(images))
    return F.mse_loss(predicted, codes)


def train_image_encoder(
    train_file: str | Path,
    codes: np.ndarray,
    model: torch.nn.Module,
    steps: int,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    checkpoint: str | Path | None = None,
    device: str = "auto",
    seed: int = 0,
    max_seconds: float | None = None,
    callback=None,
    progress: bool = True,
):
    """Train an image encoder to predict ``codes`` from every view of a split (Adam, cosine decay)."""
    import math

    from .training import EpochBatches, train

    dataset = ImageCodes(train_file, codes)
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    history = train(model, optimizer, z_loss, EpochBatches(dataset, batch_size, seed), steps, scheduler=scheduler, device=device,
                    seed=seed, checkpoint=checkpoint, max_seconds=max_seconds, callback=callback, progress=progress,
                    description="image encoder")  # fmt: skip
    return model, history


# --------------------------------------------------------------------------------------------
# Picture → z → mesh
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def predict_z(model: torch.nn.Module, images) -> torch.Tensor:
    """z for grey images ``[N, 137, 137]`` or ``[N, 1, 137, 137]`` in [0, 1] (centre crops)."""
    model.eval()
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    if x.ndim == 3:
        x = x[:, None]
    return model(center_crop(x).to(device)).cpu()


def reconstruct_from_image(image, image_model: torch.nn.Module, autoencoder_model, resolution: int = 128, out: str | Path | None = None):
    """A mesh from one picture: a file path (any PNG/JPG) or a grey [137, 137] array in [0, 1].

    Returns the mesh; with ``out`` (.obj or .ply) also writes it.
    """
    from . import autoencoder, geometry

    if isinstance(image, (str, Path)):
        image = load_image(image)
    z = predict_z(image_model, np.asarray(image, np.float32)[None])[0]
    mesh = autoencoder.reconstruct_mesh(autoencoder_model, z, resolution)
    if out is not None:
        geometry.save_mesh(mesh, out)
    return mesh


def default_paths(profile: str = "quick") -> dict[str, Path]:
    base = config.shipped_checkpoints_dir() / f"image_encoder_{profile}"
    return {"weights": base.with_suffix(".pt"), "manifest": base.with_suffix(".json")}


# --------------------------------------------------------------------------------------------
# Evaluation against two baselines
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def image_embedding(model, images: torch.Tensor, batch: int = 128) -> torch.Tensor:
    """The image encoder's features before its last layer (ResNet's pooled vector), centre crops."""
    net = model.net
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(images), batch):
        x = center_crop(images[start : start + batch]).to(device)
        x = (x - 0.5) / 0.5  # as ImageEncoder.forward does
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
        out.append(torch.flatten(net.avgpool(x), 1).cpu())
    return torch.cat(out)


def category_mean_shapes(train_file: str | Path) -> dict[str, np.ndarray]:
    """Per category, the mean of its training shapes' 64³ voxels (a float grid in [0, 1])."""
    arrays = data.read_split(train_file, ("voxels",))
    categories = np.array(arrays["categories"])
    return {c: arrays["voxels"][categories == c, ..., 0].mean(axis=0, dtype=np.float32) for c in sorted(set(categories))}


def evaluate(image_model, autoencoder_model, test_file: str | Path, train_file: str | Path, view: int = 0,
             chamfer_points: int = 10_000, progress: bool = True) -> dict:  # fmt: skip
    """IoU at 64³ and Chamfer distance of the network and of two baselines, per test shape.

    For view ``view`` of every test shape:

    * ``network``: image encoder → z → decoder → 64³ occupancy (coarse-to-fine) → mesh;
    * ``retrieval``: the training shape one of whose 20 views is nearest to the test view in
      the image encoder's embedding (its pooled features) — the "recognition" a single-view
      network may be doing instead of reconstruction (Tatarchenko et al., CVPR 2019);
    * ``category_mean``: the mean voxel grid of the test shape's (true) category, at 0.5.

    Returns ``{method: {"iou": [...], "chamfer": [...]}, "categories": [...], "names": [...]}``.
    Chamfer is the talk's (mean squared nearest-neighbour distance, both directions) on
    ``chamfer_points`` surface samples of each mesh.
    """
    from tqdm.auto import tqdm

    from . import autoencoder, geometry, metrics

    test = data.read_split(test_file, ("voxels",))
    train = data.read_split(train_file, ("voxels",))
    test_images = torch.from_numpy(data.read_pixels(test_file)[:, view]).float()[:, None] / 255.0
    train_pixels = torch.from_numpy(data.read_pixels(train_file)).float() / 255.0  # [N, views, H, W]
    n_train, n_views = train_pixels.shape[:2]
    train_embedding = image_embedding(image_model, train_pixels.reshape(-1, 1, *train_pixels.shape[-2:]))
    test_embedding = image_embedding(image_model, test_images)
    nearest_view = torch.cdist(test_embedding, train_embedding).argmin(dim=1).numpy()
    retrieved = nearest_view // n_views
    means = category_mean_shapes(train_file)
    z = predict_z(image_model, test_images)

    results = {m: {"iou": [], "chamfer": []} for m in ("network", "retrieval", "category_mean")}
    for i in tqdm(range(len(test["names"])), desc="evaluating", disable=not progress):
        truth = test["voxels"][i, ..., 0]
        true_points, _ = geometry.sample_surface(data.read_mesh(test_file, i), chamfer_points, seed=i)
        occupancy, _ = autoencoder.reconstruct(autoencoder_model, z[i], 64)
        candidates = {
            "network": (occupancy, lambda o=occupancy: geometry.marching_cubes(o, 0.5)),
            "retrieval": (train["voxels"][retrieved[i], ..., 0], lambda j=int(retrieved[i]): data.read_mesh(train_file, j)),
            "category_mean": (means[test["categories"][i]], lambda c=test["categories"][i]: geometry.marching_cubes(means[c], 0.5)),
        }
        for method, (grid, mesh_of) in candidates.items():
            results[method]["iou"].append(metrics.iou(grid, truth))
            mesh = mesh_of()
            if len(mesh.faces) == 0:
                results[method]["chamfer"].append(float("inf"))
                continue
            points, _ = geometry.sample_surface(mesh, chamfer_points, seed=i)
            results[method]["chamfer"].append(metrics.chamfer_distance(points, true_points))
    results["categories"], results["names"] = test["categories"], test["names"]
    results["retrieved"] = [train["names"][j] for j in retrieved]
    return results
