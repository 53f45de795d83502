"""2D → 3D: from one picture to z, and from z to a mesh (single-view reconstruction).

The talk's title act: a ResNet-18 (:class:`tutorial_lib.models.ImageEncoder`) reads one
128×128 crop of a 137×137 grey rendering and predicts the shape's z, the code the 3D
autoencoder gave that shape; the autoencoder's frozen decoder turns z into occupancy, and
marching cubes into a mesh.

* Pictures in (:mod:`tutorial_lib.images`, re-exported here): :func:`load_image` frames a
  user's PNG/JPG like our renderings; :func:`augment` gives random 128×128 crops and flips for
  training, :func:`center_crop` the crop at test time.
* :class:`ImageCodes` – (image, z) pairs: every view of every shape, with the autoencoder's z.
* :func:`train_svr` (any data: :func:`train_image_encoder`) – the recipe on the shared
  training loop: MSE on z, Adam with a cosine decay; CLI ``python -m tutorial_lib train svr``.
* :func:`reconstruct_from_image` – picture → z → mesh, in one call; CLI
  ``python -m tutorial_lib reconstruct IMAGE --out MESH``.
* :func:`evaluate`, :func:`summarize` – IoU and Chamfer distance per test shape and category,
  beside two baselines: retrieval of the nearest training view, and the category's mean shape.
* :func:`shipped_manifest` – what shipping the model adds (its evaluation against both
  baselines); the shipped model is loaded, trained where missing and shipped by
  :mod:`tutorial_lib.shipping` (``shipping.load("image_encoder", profile)``).

An image encoder is tied to the autoencoder whose z it learned: its weights file and manifest
record a fingerprint of those z (``autoencoder_z``), and :func:`tutorial_lib.shipping.load`
refuses to pair it with another autoencoder.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import config, data, provenance
from .config import Profile
from .images import ImageError, augment, center_crop, load_image, randomise_pictures, rendering_object_size
from .models import ImageEncoder
from .training import EpochBatches, RunOptions, cosine_schedule, recalibrate_batch_norm, resolve_precision, train

# --------------------------------------------------------------------------------------------
# Training data
# --------------------------------------------------------------------------------------------


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


def randomised_z_loss(object_size: float):
    """:func:`z_loss` on pictures first randomised as other renderers and cameras would make them
    (:func:`tutorial_lib.images.randomise_pictures`, framing at ``object_size``), then cropped and flipped."""

    def loss_fn(model, batch):
        images, codes = batch
        return z_loss(model, (randomise_pictures(images, object_size), codes))

    return loss_fn


def make_image_encoder(profile: Profile) -> ImageEncoder:
    """The image encoder at the width of a profile (``full``: torchvision's ResNet-18)."""
    return ImageEncoder(width=profile.image_encoder.width)


def train_image_encoder(dataset: ImageCodes, model: torch.nn.Module, run: RunOptions, batch_size: int = 32, learning_rate: float = 1e-3,
                        object_size: float | None = None, evaluate=None):  # fmt: skip
    """Train an image encoder to predict the z of ``dataset`` from every view of its split (Adam, cosine decay).

    Every step takes ``batch_size`` (shape, view) pairs from shuffled epochs over all views of
    all shapes, crops and flips them at random (:func:`z_loss`), and regresses z with MSE.
    With an ``object_size`` (the framing of :func:`rendering_object_size`) the pictures are first
    randomised (:func:`randomised_z_loss`), and the batch-norm statistics are recomputed on
    randomised pictures too. With ``run.checkpoint`` the run can be stopped and continued where it stopped.
    """
    randomise = object_size is not None
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    record = {"model": "image_encoder", "steps": run.steps, "batch_size": batch_size, "learning_rate": learning_rate,
              "architecture": dict(getattr(model, "config", {})), "dataset": data.read_attrs(dataset.images.path).get("fingerprint"),
              "autoencoder_z": provenance.array_fingerprint(dataset.codes.numpy()), "randomise_pictures": randomise,
              "precision": run.precision}  # fmt: skip
    loss_fn = randomised_z_loss(object_size) if randomise else z_loss
    history = train(model, optimizer, loss_fn, EpochBatches(dataset, batch_size, run.seed), run, scheduler=cosine_schedule(optimizer, run.steps),
                    evaluate=evaluate, description="image encoder", record=record)  # fmt: skip
    recalibrate_image_encoder(model, dataset, seed=run.seed, object_size=object_size)
    return model, history


class _CentreCrops:
    """``batches(step)`` of centre-cropped images, as the encoder sees them at test time
    (randomised first when an ``object_size`` is given, as in training)."""

    def __init__(self, batches, object_size: float | None = None):
        self.batches = batches
        self.object_size = object_size

    def __call__(self, step: int):
        images, codes = self.batches(step)
        if self.object_size is not None:
            images = randomise_pictures(images, self.object_size, torch.Generator().manual_seed(step))
        return center_crop(images), codes


def recalibrate_image_encoder(model: ImageEncoder, dataset: ImageCodes, images: int = 6400, batch_size: int = 64, seed: int = 0,
                              object_size: float | None = None) -> None:  # fmt: skip
    """Set the batch-norm statistics the encoder uses at test time from ``images`` training pictures.

    In training, each batch-norm layer normalises with its batch's own statistics and keeps a
    running average (over the last ~10 batches) for test time. While the learning rate is high
    the weights move faster than that average follows, and the encoder is much worse in eval
    mode than in training mode; recomputing the statistics for the final weights from one pass
    over the training pictures ("precise BN") repairs it (measured in docs/benchmark-log.md, "The
    previous `quick` image encoder"). The weights do not change.
    """
    batches = EpochBatches(dataset, batch_size, seed + 1)
    steps = max(1, min(images // batch_size, batches.per_epoch))
    recalibrate_batch_norm(model, _CentreCrops(batches, object_size), steps=steps, device=next(model.parameters()).device)


def test_views(test_file: str | Path, view: int = 0) -> torch.Tensor:
    """View ``view`` of every shape of a split as [N, 1, 137, 137] in [0, 1] (views are at random angles)."""
    return torch.from_numpy(data.read_pixels(test_file)[:, view]).float()[:, None] / 255.0


def train_svr(profile: Profile, run: RunOptions, model: ImageEncoder | None = None, codes: dict | None = None):
    """Train the profile's image encoder on the profile's dataset to predict the shipped autoencoder's z.

    ``codes`` (default: :func:`tutorial_lib.autoencoder.load_shipped_z`) holds ``train_z`` and
    ``test_z``. With ``run.evaluate_every``, the MSE between predicted and true z on one view of
    every test shape is logged as ``test_z_mse``. The returned model's batch-norm statistics
    are recomputed for its final weights (:func:`recalibrate_image_encoder`).
    """
    from . import autoencoder, distributed

    settings = profile.image_encoder
    run = run.with_default_steps(settings.steps)
    run = replace(run, precision=resolve_precision(run.precision, distributed.local_device(run.device), cpu_bf16=settings.cpu_bf16))
    folder = data.ensure_dataset(profile, progress=run.progress)
    codes = codes if codes is not None else autoencoder.load_shipped_z(profile)
    config.seed_everything(run.seed)  # before the model is built: the seed fixes the initial weights too
    model = model if model is not None else make_image_encoder(profile)
    train_file = data.split_path(folder, "train")
    dataset = ImageCodes(train_file, codes["train_z"])  # every training picture, read once (training and batch-norm statistics)
    object_size = rendering_object_size(train_file) if settings.randomise_pictures else None
    evaluate = None
    if run.evaluate_every:
        images, targets = test_views(data.split_path(folder, "test")), torch.as_tensor(codes["test_z"], dtype=torch.float32)

        def evaluate(m):
            # with the batch-norm statistics of the current weights (a cheaper version of the end's)
            recalibrate_image_encoder(m, dataset, images=640, seed=run.seed, object_size=object_size)
            return {"test_z_mse": F.mse_loss(predict_z(m, images), targets).item()}

    return train_image_encoder(dataset, model, run, batch_size=settings.batch_size, learning_rate=settings.learning_rate,
                               object_size=object_size, evaluate=evaluate)  # fmt: skip


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
    return torch.cat([model(center_crop(x[i : i + 256]).to(device)).cpu() for i in range(0, len(x), 256)])


def reconstruct_from_image(image, image_model: torch.nn.Module, autoencoder_model, resolution: int = 128,
                           out: str | Path | None = None, profile: Profile | None = None, clean: bool = False):  # fmt: skip
    """A mesh from one picture: a file path (any PNG/JPG) or a grey [137, 137] array in [0, 1].

    A file is framed like the renderings first (:func:`load_image`), at the image encoder's
    ``object_size`` when it carries one, else as measured on ``profile``'s dataset. The mesh is
    extracted coarse-to-fine at ``resolution``. With ``clean`` the small separate parts of the
    decoded shape are dropped first (:func:`tutorial_lib.geometry.keep_main_parts`). It is off by
    default because the parts it drops are mostly pieces of thin legs that the decoder broke
    up, and dropping them makes the Chamfer distance worse (``benchmarks/bench_foreign.py``
    measures both). Returns the mesh; with ``out`` (.obj or .ply)
    also writes it.
    """
    from . import autoencoder, geometry

    name = image if isinstance(image, (str, Path)) else "the picture"
    if isinstance(image, (str, Path)):
        image = load_image(image, object_size=getattr(image_model, "object_size", None), profile=profile)
    z = predict_z(image_model, np.asarray(image, np.float32)[None])[0]
    occupancy, _ = autoencoder.reconstruct(autoencoder_model, z, resolution)
    if clean:
        occupancy, _ = geometry.keep_main_parts(occupancy, 0.5)
    mesh = geometry.marching_cubes(occupancy, 0.5)
    if out is not None:
        if len(mesh.faces) == 0:
            raise ImageError(f"{name}: the models see no shape in it (the decoded "
                             f"occupancy never reaches 0.5), so {out} was not written; try a picture of one object, centred, on a plain light background")  # fmt: skip
        geometry.save_mesh(mesh, out)
    return mesh


def summarize(results: dict) -> dict:
    """Mean IoU and Chamfer per method, overall and per category, from :func:`evaluate`'s output.

    A method that produced no surface for a shape (an empty mesh) has no Chamfer distance
    there (None); those shapes are counted in ``empty`` and left out of its mean Chamfer,
    which is None when no shape has one.
    """
    methods = [m for m in ("network", "retrieval", "category_mean") if m in results]
    categories = np.array(results["categories"])

    def means(method, mask):
        iou = np.asarray(results[method]["iou"])[mask]
        chamfer = np.array(results[method]["chamfer"], dtype=float)[mask]  # None → NaN
        finite = np.isfinite(chamfer)
        return {"iou": float(iou.mean()), "chamfer": float(chamfer[finite].mean()) if finite.any() else None,
                "empty": int((~finite).sum())}  # fmt: skip

    everything = np.ones(len(categories), bool)
    return {
        "mean": {m: means(m, everything) for m in methods},
        "per_category": {c: {m: means(m, categories == c) for m in methods} for c in sorted(set(categories))},
        "shapes": int(len(categories)),
    }


def to_ship(model: ImageEncoder, profile: Profile):
    """What the image encoder's weights file carries beside the weights: the framing it was trained on
    (longer side of the object in the renderings, pixels), so that a user's picture can be framed the
    same way without the dataset at hand."""
    return model, {"object_size": rendering_object_size(data.split_path(data.dataset_dir(profile), "train"))}


def shipped_manifest(model: ImageEncoder, history, profile: Profile, device, files, progress: bool = True, view: int = 0) -> dict:
    """The image encoder's part of shipping: IoU and Chamfer against both baselines on view ``view`` of
    every test shape (the per-shape scores go to its evaluation file), and the error in z."""
    import json

    from . import autoencoder, shipping

    folder = data.dataset_dir(profile)
    codes = autoencoder.load_shipped_z(profile)
    ae = shipping.load("autoencoder", profile, device=device)
    results = evaluate(model, ae, data.split_path(folder, "test"), data.split_path(folder, "train"), view=view,
                       indices=autoencoder.scored_test_shapes(profile, folder), progress=progress)  # fmt: skip
    summary = summarize(results)
    test_z = torch.as_tensor(codes["test_z"], dtype=torch.float32)
    predicted = predict_z(model, test_views(data.split_path(folder, "test"), view))
    mean_z = torch.as_tensor(codes["train_z"], dtype=torch.float32).mean(dim=0)
    with provenance.atomic_path(files.extra["evaluation"]) as tmp:
        tmp.write_text(json.dumps({k: results[k] for k in ("names", "categories", "retrieved")}
                                  | {m: results[m] for m in EVALUATED_METHODS}) + "\n")  # fmt: skip
    return {
        "architecture": model.config, "settings": asdict(profile.image_encoder),
        "autoencoder_commit": provenance.read_manifest(shipping.paths("autoencoder", profile).manifest).get("commit"),
        "evaluated_view": view,
        "test_metrics": summary,
        "test_z_mse": {"network": float(F.mse_loss(predicted, test_z)), "mean_training_z": float(F.mse_loss(mean_z.expand_as(test_z), test_z))},
        "final_training_loss": float(np.mean(history.loss[-50:])) if history.loss else None,
        "summary": "test IoU at 64³ " + ", ".join(f"{method} {values['iou']:.4f}" for method, values in summary["mean"].items()),
    }  # fmt: skip


# --------------------------------------------------------------------------------------------
# Evaluation against two baselines
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def image_embedding(model, images: torch.Tensor, batch: int = 128) -> torch.Tensor:
    """The image encoder's features before its last layer (ResNet's pooled vector), centre crops."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model.features(center_crop(images[start : start + batch]).to(device)).cpu() for start in range(0, len(images), batch)])


def category_mean_shapes(train_file: str | Path) -> dict[str, np.ndarray]:
    """Per category, the mean of its training shapes' 64³ voxels (a float grid in [0, 1])."""
    arrays = data.read_split(train_file, ("voxels",))
    categories = np.array(arrays["categories"])
    return {c: arrays["voxels"][categories == c, ..., 0].mean(axis=0, dtype=np.float32) for c in sorted(set(categories))}


EVALUATED_METHODS = ("network", "retrieval", "category_mean")


def evaluate(image_model, autoencoder_model, test_file: str | Path, train_file: str | Path, view: int = 0,
             chamfer_points: int = 10_000, indices=None, progress: bool = True, methods=EVALUATED_METHODS) -> dict:  # fmt: skip
    """IoU at 64³ and Chamfer distance of the network and of two baselines, per test shape.

    For view ``view`` of every test shape:

    * ``network``: image encoder → z → decoder → 64³ occupancy (coarse-to-fine) → mesh;
    * ``retrieval``: the training shape one of whose 20 views is nearest to the test view in
      the image encoder's embedding (its pooled features) — the "recognition" a single-view
      network may be doing instead of reconstruction (Tatarchenko et al., CVPR 2019);
    * ``category_mean``: the mean voxel grid of the test shape's (true) category, at 0.5.

    ``indices`` restricts the evaluation to those test shapes (default: all); ``methods`` to some
    of the three (retrieval embeds every view of every training shape: most of the time of a
    check on a few shapes). Returns ``{method: {"iou": [...], "chamfer": [...]}, "categories":
    [...], "names": [...], "retrieved": [...]}`` with one entry per evaluated test shape
    (``"retrieved"``, the retrieved training shapes' names, only with retrieval).
    Chamfer is the talk's (mean squared nearest-neighbour distance, both directions) on
    ``chamfer_points`` surface samples of each mesh.
    """
    from tqdm.auto import tqdm

    from . import autoencoder, geometry, metrics

    test = data.read_split(test_file, ("voxels",))
    indices = np.arange(len(test["names"])) if indices is None else np.asarray(indices, dtype=int)
    unknown = sorted(set(methods) - set(EVALUATED_METHODS))
    if unknown:
        raise ValueError(f"unknown methods {unknown}: choose from {list(EVALUATED_METHODS)}")
    test = {"voxels": test["voxels"][indices], "names": [test["names"][i] for i in indices], "categories": [test["categories"][i] for i in indices]}
    test_images = test_views(test_file, view)[indices]
    if "retrieval" in methods:
        train = data.read_split(train_file, ("voxels",))
        train_pixels = torch.from_numpy(data.read_pixels(train_file)).float() / 255.0  # [N, views, H, W]
        n_train, n_views = train_pixels.shape[:2]
        train_embedding = image_embedding(image_model, train_pixels.reshape(-1, 1, *train_pixels.shape[-2:]))
        del train_pixels
        test_embedding = image_embedding(image_model, test_images)
        nearest_view = torch.cdist(test_embedding, train_embedding).argmin(dim=1).numpy()
        retrieved = nearest_view // n_views
    means = category_mean_shapes(train_file) if "category_mean" in methods else None
    z = predict_z(image_model, test_images)

    results = {m: {"iou": [], "chamfer": []} for m in EVALUATED_METHODS if m in methods}
    for i in tqdm(range(len(test["names"])), desc="evaluating", disable=not progress):
        truth = test["voxels"][i, ..., 0]
        true_points, _ = geometry.sample_surface(data.read_mesh(test_file, int(indices[i])), chamfer_points, seed=int(indices[i]))
        candidates = {}
        if "network" in methods:
            occupancy, _ = autoencoder.reconstruct(autoencoder_model, z[i], 64)
            candidates["network"] = (occupancy, lambda o=occupancy: geometry.marching_cubes(o, 0.5))
        if "retrieval" in methods:
            candidates["retrieval"] = (train["voxels"][retrieved[i], ..., 0], lambda j=int(retrieved[i]): data.read_mesh(train_file, j))
        if "category_mean" in methods:
            candidates["category_mean"] = (means[test["categories"][i]], lambda c=test["categories"][i]: geometry.marching_cubes(means[c], 0.5))
        for method, (grid, mesh_of) in candidates.items():
            results[method]["iou"].append(metrics.iou(grid, truth))
            mesh = mesh_of()
            if len(mesh.faces) == 0:  # no surface: no Chamfer distance (None keeps the JSON strict)
                results[method]["chamfer"].append(None)
                continue
            points, _ = geometry.sample_surface(mesh, chamfer_points, seed=int(indices[i]))
            results[method]["chamfer"].append(metrics.chamfer_distance(points, true_points))
    results["categories"], results["names"] = test["categories"], test["names"]
    if "retrieval" in methods:
        results["retrieved"] = [train["names"][j] for j in retrieved]
    return results
