"""3D → 3D: training the voxel encoder + implicit decoder, progressively 16³ → 32³ → 64³.

The talk's "3D to 3D reconstruction - Training": the encoder turns a shape's 64³ voxels into
z; the decoder is asked "inside?" at the shape's edge-sampled points; the answers are
compared with the true values. Training starts on the coarse 16³ points and moves to 32³,
then 64³, so the decoder learns the overall form before the details.

Three recipes share the architecture:

* ``"paper"`` – IM-NET's own: a sigmoid output trained with mean squared error, Adam with
  learning rate 5e-5 and β₁ = 0.5, equal time at each resolution, every point of the
  stage's sample in every step. Faithful, and slow to converge.
* ``"fast"`` (default) – the same networks trained with binary cross-entropy on the logits
  (whose gradient does not vanish when the sigmoid saturates), a 20× higher learning rate
  that decays along a cosine, most of the time spent at 64³ where the detail is, and a
  random subset of each shape's points per step so the encoder gets many more updates for
  the same compute. At this learning rate the encoder soon pushes the numbers before z's
  sigmoid far from 0, every z ends up within a hair of 0 or 1, the sigmoid's gradient
  vanishes and the encoder stops learning (it hands the decoder a binary hash of the shape,
  which does not generalise). A small penalty on the square of those numbers
  (``code_penalty``) keeps z in the sigmoid's working range (``benchmarks/compare_training.py
  fast no-penalty`` trains with and without it). A quarter of each shape's points are drawn near its
  thin parts (``thin_share``): uniformly drawn, a chair's legs get a few dozen of 2,048 points
  and the decoder can drop them at almost no cost in the loss. On a CPU that multiplies
  bfloat16 in hardware, the steps run in bfloat16 autocast (``cpu_bf16``), which is faster;
  the weights and the evaluation stay float32. Both were measured one at a time against the
  previous recipe at equal wall time (``benchmarks/compare_training.py changes``).
* ``"fast-augmented"`` – the fast recipe on new shapes made from the training shapes at every
  step (:func:`augment_shapes`: other proportions, and mirrored left to right), because the
  encoder, not the decoder, is what fails on unseen shapes; measured against ``"fast"`` by
  ``benchmarks/compare_training.py augmentation``.

Entry points: :func:`train_autoencoder`, :func:`reconstruct`, :func:`evaluate_iou`,
:func:`encode_split`, :func:`load_shipped_z`, and the CLI ``python -m tutorial_lib train ae``; the
shipped model is loaded, trained where missing and shipped by :mod:`tutorial_lib.shipping`
(``shipping.load("autoencoder", profile)``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import config, data, distributed, metrics, provenance, shipping
from .config import Profile
from .geometry import coarse_to_fine_occupancy, dense_occupancy, marching_cubes
from .models import Autoencoder
from .training import EpochBatches, History, RunOptions, cosine_schedule, resolve_precision, train


@dataclass(frozen=True)
class Recipe:
    name: str
    loss: str  # "bce" on logits, or "mse" on the sigmoid output (IM-NET)
    learning_rate: float
    beta1: float
    cosine_decay: bool  # decay the learning rate to 1% along a cosine over the whole run
    stage_fractions: tuple[float, float, float]  # share of the steps spent at 16³, 32³, 64³
    all_points: bool  # every point of the stage's sample in each step (IM-NET) or a subset
    code_penalty: float = 0.0  # weight of mean(u²), u = z before its sigmoid: keeps z off 0 and 1
    thin_share: float = 0.0  # share of each shape's points drawn near its thin parts (data.PointValueDataset)
    cpu_bf16: bool = False  # precision "auto" on a CPU with native bfloat16 arithmetic: bfloat16 autocast
    augment_shrink: float = 0.0  # shrink each training shape along x, y and z by random factors in [1 - this, 1] (augment_shapes)
    augment_mirror: bool = False  # mirror half of the training shapes left to right (augment_shapes)
    augment_stretch: float = 0.0  # stretch each shape by factors in [1, 1 + this] per axis, where the cube has room (augment_shapes)
    code_noise: float = 0.0  # standard deviation of the Gaussian noise added to u (z before its sigmoid) in training


RECIPES = {
    "paper": Recipe("paper", loss="mse", learning_rate=5e-5, beta1=0.5, cosine_decay=False, stage_fractions=(1 / 3, 1 / 3, 1 / 3), all_points=True),
    "fast": Recipe(
        "fast",
        loss="bce",
        learning_rate=1e-3,
        beta1=0.9,
        cosine_decay=True,
        stage_fractions=(0.1, 0.2, 0.7),
        all_points=False,
        code_penalty=1e-3,
        thin_share=0.25,
        cpu_bf16=True,
    ),  # fmt: skip
}


RECIPES["fast-augmented"] = replace(RECIPES["fast"], name="fast-augmented", augment_shrink=0.2, augment_mirror=True)


def get_recipe(name: str | Recipe) -> Recipe:
    """A recipe by name (a :class:`Recipe` is returned as it is, e.g. a variant made with ``dataclasses.replace``)."""
    if isinstance(name, Recipe):
        return name
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}: choose one of {sorted(RECIPES)}") from None


def make_autoencoder(profile: Profile) -> Autoencoder:
    """The autoencoder at the widths of a profile (``full`` is the paper's size)."""
    return Autoencoder(profile.autoencoder.encoder_width, profile.autoencoder.decoder_width)


def stage_boundaries(steps: int, fractions) -> list[tuple[int, int]]:
    """[(resolution, last step of its stage)] for a run of ``steps`` steps."""
    ends = np.round(np.cumsum(fractions) * steps).astype(int)
    ends[-1] = steps
    return list(zip(data.RESOLUTIONS, ends.tolist()))


def resolution_at(step: int, boundaries) -> int:
    for resolution, end in boundaries:
        if step < end:
            return resolution
    return boundaries[-1][0]


class ProgressiveBatches:
    """``batches(step)``: a batch of (voxels, points, values) at the resolution of ``step``'s stage."""

    def __init__(self, dataset: data.PointValueDataset, shapes_per_batch: int, boundaries, seed: int = 0):
        self.dataset = dataset
        self.boundaries = boundaries
        self.epochs = EpochBatches(dataset, shapes_per_batch, seed)

    def __call__(self, step: int):
        self.dataset.resolution = resolution_at(step, self.boundaries)
        return self.epochs(step)


def room_to_grow(voxels: torch.Tensor, padding: int = config.VOXEL_PADDING) -> torch.Tensor:
    """``[B, 3]``: the largest factor along x, y and z by which each shape, scaled about the centre, stays inside the padded cube (at least 1)."""
    n = voxels.shape[-1]
    occupied = voxels[:, 0] > 0.5
    centres = (torch.arange(n, device=voxels.device, dtype=torch.float32) + 0.5) / n - 0.5
    reach_of_cell = centres.abs() + 0.5 / n  # how far from the centre each cell's far face lies
    limit = 0.5 - padding / n
    rooms = []
    for other_axes in ((2, 3), (1, 3), (1, 2)):  # x, y, z of [B, x, y, z]
        present = occupied.any(dim=other_axes)
        reach = torch.where(present, reach_of_cell, torch.zeros_like(reach_of_cell)).amax(dim=1)
        rooms.append(limit / reach.clamp_min(1e-6))
    return torch.stack(rooms, dim=1).clamp_min(1.0)


def augment_shapes(voxels: torch.Tensor, points: torch.Tensor, shrink: float = 0.0, mirror: bool = False, stretch: float = 0.0):
    """New training shapes from a batch: one random transform per shape, applied to its voxels and to its points alike.

    ``voxels [B, 1, n, n, n]`` (indexed ``[x, y, z]``), ``points [B, P, 3]`` in the cube [-0.5, 0.5]³. Each
    shape is scaled about the centre by its own factors along x, y and z, drawn from ``[1 - shrink,
    1 + stretch]``, where a factor above 1 is capped by the room the padded cube leaves along that axis
    (:func:`room_to_grow`; the longest side of a shape already fills it). So a bench gets longer or
    shorter, a table lower or wider; shrinking makes thin parts thinner, stretching makes them
    thicker. With ``mirror`` half of them are mirrored left to right (x → −x; most shapes of the
    dataset are symmetric that way). The points move with the shape, so their inside/outside
    values stay right and need no change; the voxels are resampled (nearest cell, so they stay 0 or 1).
    Why: the encoder learns its training shapes almost by heart and finds the codes of unseen ones
    only roughly, while the decoder draws unseen shapes well from a fitted z (:func:`fit_codes`;
    ``benchmarks/bench_autoencoder.py quality``): the encoder needs more shapes than the dataset has. The random
    numbers come from torch's global generator (seeded per step by the training loop), so a
    resumed run sees the same shapes.
    """
    count = len(voxels)
    highest = torch.ones(count, 3)
    if stretch:
        highest = torch.minimum(torch.full((count, 3), 1.0 + stretch), room_to_grow(voxels).cpu())
    scale = highest - (highest - (1.0 - shrink)) * torch.rand(count, 3)
    if mirror:
        scale[:, 0] = torch.where(torch.rand(count) < 0.5, -scale[:, 0], scale[:, 0])
    scale = scale.to(voxels.device, voxels.dtype)
    # The new shape at p is the old one at p / scale. grid_sample reads its coordinates as (z, y, x) for a
    # volume indexed [x, y, z], in [-1, 1] across the cube, with cell centres where the voxels' centres are.
    theta = torch.zeros(count, 3, 4, device=voxels.device, dtype=voxels.dtype)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, 2, 2] = 1.0 / scale[:, 2], 1.0 / scale[:, 1], 1.0 / scale[:, 0]
    grid = F.affine_grid(theta, list(voxels.shape), align_corners=False)
    resampled = F.grid_sample(voxels, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    return resampled, points * scale[:, None, :].to(points.dtype)


def occupancy_loss(recipe: Recipe):
    """The loss of a recipe as ``loss_fn(model, batch)`` for :func:`tutorial_lib.training.train`."""

    def loss_fn(model, batch):
        voxels, points, values = batch
        if model.training and (recipe.augment_shrink or recipe.augment_mirror or recipe.augment_stretch):
            voxels, points = augment_shapes(voxels, points, recipe.augment_shrink, recipe.augment_mirror, recipe.augment_stretch)
        code = model.encoder.logits(voxels)
        decoded_code = code
        if model.training and recipe.code_noise:
            # Noise on the code in training: the decoder must draw the shape from codes near the encoder's,
            # as it must for an unseen shape, whose code the encoder finds only approximately.
            decoded_code = code + recipe.code_noise * torch.randn_like(code)
        logits = model.decoder(torch.sigmoid(decoded_code), points)
        if recipe.loss == "bce":
            loss = F.binary_cross_entropy_with_logits(logits, values)
        else:
            loss = F.mse_loss(torch.sigmoid(logits), values)
        if recipe.code_penalty:
            loss = loss + recipe.code_penalty * code.pow(2).mean()
        with torch.no_grad():
            accuracy = ((logits > 0).float() == values).float().mean()
        return loss, {"point_accuracy": accuracy}

    return loss_fn


def train_autoencoder(
    profile: Profile,
    run: RunOptions,
    recipe: str | Recipe = "fast",
    model: Autoencoder | None = None,
    dataset: str | Path | None = None,
    shapes_per_batch: int | None = None,
) -> tuple[Autoencoder, History]:
    """Train an autoencoder on a profile's dataset (built first if missing).

    ``run.steps`` defaults to the profile's; ``run.max_seconds`` stops early (the checkpoint, if
    any, lets a later call with the same arguments continue where it stopped, in the same stage
    and on the same learning-rate schedule). With ``run.evaluate_every``, the IoU on the
    edge-sampled 64³ points of a few test shapes is logged as ``sample_iou`` (cheap, and tracks
    the real IoU). ``dataset`` is a folder with ``train.hdf5`` and ``test.hdf5`` to use instead
    of the profile's (e.g. one built with ``data build --source``); ``shapes_per_batch``
    overrides the profile's batch size. On a GPU the training split's arrays are moved there once
    when they fit (:func:`hold_on_device`).
    """
    settings = profile.autoencoder
    rec = get_recipe(recipe)
    device = distributed.local_device(run.device)
    run = run.with_default_steps(settings.steps)
    run = replace(run, precision=resolve_precision(run.precision, device, cpu_bf16=rec.cpu_bf16))  # the manifest says what ran
    steps = run.steps
    folder = Path(dataset) if dataset is not None else data.ensure_dataset(profile, progress=run.progress)
    train_file = data.split_path(folder, "train")
    train_set = data.PointValueDataset(train_file, resolution=16, points_per_shape=None if rec.all_points else settings.points_per_shape,
                                       thin_share=rec.thin_share)  # fmt: skip
    hold_on_device(train_set, device)
    boundaries = stage_boundaries(steps, rec.stage_fractions)
    config.seed_everything(run.seed)  # before the model is built: the seed fixes the initial weights too
    model = model if model is not None else make_autoencoder(profile)
    optimizer = torch.optim.Adam(model.parameters(), lr=rec.learning_rate, betas=(rec.beta1, 0.999))
    scheduler = cosine_schedule(optimizer, steps) if rec.cosine_decay else None
    evaluate = None
    if run.evaluate_every:
        probe = data.PointValueDataset(data.split_path(folder, "test"), resolution=64, resolutions=(64,))
        probe_ids = np.linspace(0, len(probe) - 1, min(16, len(probe))).astype(int)

        def evaluate(m):
            return {"sample_iou": sample_iou(m, probe, probe_ids)}

    batches = ProgressiveBatches(train_set, shapes_per_batch or settings.shapes_per_batch, boundaries, run.seed)
    history = train(
        model, optimizer, occupancy_loss(rec), batches, run, scheduler=scheduler, evaluate=evaluate, description=f"autoencoder ({rec.name})",
        record={"model": "autoencoder", "recipe": rec.name, "steps": steps, "architecture": dict(model.config),
                "dataset": data.read_attrs(train_file).get("fingerprint"), "precision": run.precision},
    )  # fmt: skip
    return model, history


def hold_on_device(dataset: data.PointValueDataset, device: torch.device, share: float = 0.5) -> bool:
    """Move a training split's arrays to a GPU once, if they take at most ``share`` of its free memory.

    The full profile's training split (voxels, and points and values at the three
    resolutions) takes a few GB, so it fits on any training GPU; the model and its
    activations keep the other half. On the CPU nothing moves.
    """
    if device.type != "cuda":
        return False
    free, _ = torch.cuda.mem_get_info(device)
    if dataset.nbytes() > share * free:
        print(f"the training split ({dataset.nbytes() / 2**30:.1f} GiB) stays in CPU memory: "
              f"{free / 2**30:.1f} GiB free on {device}")  # fmt: skip
        return False
    dataset.to(device)
    return True


def _device_of(model) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def sample_iou(model: Autoencoder, dataset: data.PointValueDataset, indices) -> float:
    """Mean IoU over ``indices`` shapes, measured on their edge-sampled points (not the full grid)."""
    device = _device_of(model)
    scores = []
    for i in indices:
        voxels, points, values = (t[None].to(device) for t in dataset[int(i)])
        predicted = model(voxels, points) > 0
        truth = values > 0.5
        union = (predicted | truth).sum().item()
        scores.append((predicted & truth).sum().item() / union if union else 1.0)
    return float(np.mean(scores))


def decoder_field(model: Autoencoder, z: torch.Tensor):
    """``field(points [P, 3] numpy) -> occupancy [P]``: the decoder for one shape, for mesh extraction."""
    device = _device_of(model)
    z = z.reshape(1, -1).to(device)

    def field(points: np.ndarray) -> np.ndarray:
        p = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32)).to(device)
        return model.decoder.occupancy_at(z, p).float().cpu().numpy()

    return field


@torch.no_grad()
def encode(model: Autoencoder, voxels: np.ndarray | torch.Tensor, batch: int = 16) -> torch.Tensor:
    """z for voxel grids ``[N, 64, 64, 64]`` (or with IM-NET's trailing channel axis)."""
    device = _device_of(model)
    v = torch.as_tensor(np.asarray(voxels))
    if v.ndim == 5:
        v = v[..., 0]
    model.eval()
    return torch.cat([model.encoder(v[i : i + batch, None].float().to(device)).cpu() for i in range(0, len(v), batch)])


def fit_codes(model: Autoencoder, voxels: np.ndarray | torch.Tensor, steps: int = 50, points_per_step: int = 4096, learning_rate: float = 0.05,
              batch: int = 16, seed: int = 0, progress: bool = False) -> torch.Tensor:  # fmt: skip
    """z for voxel grids ``[N, 64, 64, 64]``: the encoder's answer, then fitted to each grid with the decoder fixed.

    The encoder finds a code in one pass, but for a shape it has not seen only roughly: its
    error there is the *amortisation gap* (one network answers for every shape at once). The
    decoder can draw many more shapes than the encoder finds codes for (the IoU of both on the
    test split: ``benchmarks/bench_autoencoder.py quality``). Here Adam moves u (z before its sigmoid), starting at the encoder's, for ``steps`` steps to
    lower the cross-entropy between the decoder's occupancy and the grid's own cells: each step
    draws ``points_per_step`` cell centres per shape, half from the cells where inside and outside
    meet (what the IoU depends on) and half from anywhere. Nothing but the input grid is used, so
    this is still an autoencoder: slower (``steps`` decoder passes instead of none) and closer.
    ``steps=0`` is :func:`encode`. The draws come from ``seed``: the same call gives the same z.
    """
    from tqdm.auto import tqdm

    from .geometry import grid_points
    from .training import frozen, precision_context

    v = torch.as_tensor(np.asarray(voxels))
    v = (v[..., 0] if v.ndim == 5 else v).float()
    if v.ndim != 4 or not v.shape[1] == v.shape[2] == v.shape[3]:
        raise ValueError(f"voxels must be grids [N, n, n, n] (or [N, n, n, n, 1]), got shape {tuple(np.shape(voxels))}")
    if steps <= 0:
        with frozen(model):  # the model is given back as it was
            return encode(model, voxels, batch)
    device = _device_of(model)
    n = v.shape[-1]
    centres = torch.from_numpy(grid_points(n)).float().to(device)  # [n³, 3], in the grid's [x, y, z] order
    precision = resolve_precision("auto", device, cpu_bf16=True)
    generator = torch.Generator().manual_seed(seed)
    fitted = []
    with frozen(model), tqdm(total=len(v), desc="fitting z", disable=not progress) as bar:  # the model is given back as it was
        start = encode(model, voxels, batch)
        for first in range(0, len(v), batch):
            grids = v[first : first + batch, None]
            dilated = F.max_pool3d(grids, 3, stride=1, padding=1)
            eroded = -F.max_pool3d(-grids, 3, stride=1, padding=1)
            boundaries = [torch.nonzero(b.flatten())[:, 0] for b in (dilated != eroded)[:, 0]]
            cells = grids.flatten(1) > 0.5
            u = torch.logit(start[first : first + batch].clamp(1e-6, 1 - 1e-6)).to(device).requires_grad_(True)
            optimizer = torch.optim.Adam([u], lr=learning_rate)
            half = points_per_step // 2
            for _ in range(steps):
                picks = torch.stack([torch.cat([boundary[torch.randint(len(boundary), (half,), generator=generator)] if len(boundary) else
                                                torch.randint(n**3, (half,), generator=generator),
                                                torch.randint(n**3, (points_per_step - half,), generator=generator)])
                                     for boundary in boundaries])  # fmt: skip
                truth = torch.gather(cells, 1, picks).float()[..., None].to(device)
                with precision_context(precision, device):
                    logits = model.decoder(torch.sigmoid(u), centres[picks.to(device)])
                loss = F.binary_cross_entropy_with_logits(logits.float(), truth)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            fitted.append(torch.sigmoid(u.detach()).cpu())
            bar.update(len(grids))
    return torch.cat(fitted)


# Coarse-to-fine extraction of a decoder's field: start grid and band (see reconstruct).
EXTRACTION_START = 32
EXTRACTION_BAND = 0.05


def check_resolution(resolution: int) -> int:
    """The grid sizes :func:`reconstruct` accepts: 8 to 64 (dense), or 32 times a power of two up to 512."""
    if not isinstance(resolution, int) or isinstance(resolution, bool):
        raise ValueError(f"resolution must be a whole number, got {resolution!r}")
    coarse_to_fine = resolution > 64 and resolution % EXTRACTION_START == 0 and (resolution // EXTRACTION_START) & (resolution // EXTRACTION_START - 1) == 0
    if not (8 <= resolution <= 64 or (coarse_to_fine and resolution <= 512)):
        raise ValueError(f"resolution {resolution} is not supported: use 8 to 64, or 128, 256 or 512")
    return resolution


def reconstruct(model: Autoencoder, z: torch.Tensor, resolution: int = 64, method: str = "coarse_to_fine") -> tuple[np.ndarray, int]:
    """Occupancy grid decoded from one z and the number of points evaluated.

    Up to 64³ the grid is always evaluated densely (262,144 points: quick, and exactly the grid
    the IoU at 64³ is defined on). Above, ``"coarse_to_fine"`` starts from a 32³ grid and
    refines near the surface, level by level. The dataset has thin parts: a rifle is two or
    three 64³ cells thick, so no 32³ cell centre need fall inside it, and an extractor that
    refines only where the answer changes loses it. So it also refines next to any value of at
    least 0.05: the decoder's output already rises near a thin part. ``benchmarks/bench_autoencoder.py
    extraction`` measures both against the dense grid.
    """
    field = decoder_field(model, z)
    if method == "dense" or resolution <= 64:
        return dense_occupancy(field, resolution)
    return coarse_to_fine_occupancy(field, resolution, start=EXTRACTION_START, band=EXTRACTION_BAND)


def reconstruct_mesh(model: Autoencoder, z: torch.Tensor, resolution: int = 64, method: str = "coarse_to_fine"):
    values, _ = reconstruct(model, z, resolution, method)
    return marching_cubes(values, 0.5)


def evaluate_iou(model: Autoencoder, split_file: str | Path, indices=None, progress: bool = True, fit_steps: int = 0) -> dict:
    """IoU at 64³ between decoded and true voxels for every shape of a split (or ``indices``),
    and how much of the true thin parts the decoded shapes keep. The z are the encoder's, or with
    ``fit_steps`` fitted to each shape's voxels (:func:`fit_codes`).

    Returns ``{"iou": [per shape], "names": [...], "categories": [...], "mean_iou": float,
    "per_category": {category: mean}}`` and, beside the IoU, the thin-part recalls of
    :func:`tutorial_lib.metrics.thin_part_recall` at 64³ (parts at most 3 voxels across):
    ``"thin_recall"`` (rods and plates) and ``"rod_recall"`` (rods only: legs, stems, barrels),
    each per shape (NaN for a shape without such parts), ``"mean_…"`` and ``"per_category_…"``
    (means over the shapes that have them; NaN where none has).
    """
    from tqdm.auto import tqdm

    arrays = data.read_split(split_file, ("voxels",))
    indices = range(len(arrays["names"])) if indices is None else indices
    indices = list(indices)
    z = fit_codes(model, arrays["voxels"][indices], steps=fit_steps, progress=progress) if fit_steps else encode(model, arrays["voxels"][indices])
    scores, thin, rods = [], [], []
    for row, i in enumerate(tqdm(indices, desc="IoU at 64³", disable=not progress)):
        occupancy, _ = reconstruct(model, z[row], 64)
        truth = arrays["voxels"][i, ..., 0]
        scores.append(metrics.iou(occupancy >= 0.5, truth))
        thin.append(metrics.thin_part_recall(occupancy, truth))
        rods.append(metrics.thin_part_recall(occupancy, truth, rods_only=True))
    categories = [arrays["categories"][i] for i in indices]
    per_category = {c: float(np.mean([s for s, k in zip(scores, categories) if k == c])) for c in sorted(set(categories))}
    return {"iou": scores, "names": [arrays["names"][i] for i in indices], "categories": categories,
            "mean_iou": float(np.mean(scores)), "per_category": per_category,
            "thin_recall": thin, "mean_thin_recall": _mean_of_scored(thin),
            "per_category_thin_recall": {c: _mean_of_scored([s for s, k in zip(thin, categories) if k == c]) for c in per_category},
            "rod_recall": rods, "mean_rod_recall": _mean_of_scored(rods),
            "per_category_rod_recall": {c: _mean_of_scored([s for s, k in zip(rods, categories) if k == c]) for c in per_category}}  # fmt: skip


def _mean_of_scored(values) -> float:
    """The mean of the values that are not NaN; NaN when there are none (without numpy's warning)."""
    scored = [v for v in values if not math.isnan(v)]
    return float(np.mean(scored)) if scored else float("nan")


def encode_split(model: Autoencoder, split_file: str | Path) -> dict:
    """z of every shape of a split, with its names and categories."""
    arrays = data.read_split(split_file, ("voxels",))
    return {"z": encode(model, arrays["voxels"]).numpy(), "names": arrays["names"], "categories": arrays["categories"]}


# --------------------------------------------------------------------------------------------
# Shipping (the lifecycle itself is tutorial_lib.shipping's)
# --------------------------------------------------------------------------------------------


def scored_test_shapes(profile: Profile, folder: str | Path) -> list[int] | None:
    """Indices of the test shapes a shipped model is scored on: all (None), or the profile's
    ``evaluation_shapes`` spread evenly over the split (the ``smoke`` profile)."""
    count = profile.evaluation_shapes
    if count is None:
        return None
    total = len(data.read_split(data.split_path(folder, "test"), ())["names"])
    return sorted(set(np.linspace(0, total - 1, min(count, total)).astype(int).tolist()))


def shipped_manifest(model: Autoencoder, history: History, profile: Profile, device, files, progress: bool = True) -> dict:
    """The autoencoder's part of shipping: the test IoU of the shipped weights, and the z of every shape of both splits (its z file)."""
    folder = data.dataset_dir(profile)
    result = evaluate_iou(model, data.split_path(folder, "test"), indices=scored_test_shapes(profile, folder), progress=progress)
    splits = {s: encode_split(model, data.split_path(folder, s)) for s in data.SPLITS}
    with provenance.atomic_path(files.extra["z"]) as tmp:
        np.savez_compressed(tmp, **{f"{s}_{k}": np.asarray(v) for s, d in splits.items() for k, v in d.items()})
    return {
        "recipe": asdict(get_recipe(history.record["recipe"])), "architecture": model.config,
        "z_fingerprint": provenance.array_fingerprint(splits["train"]["z"]),
        "test_metrics": {"mean_iou_64": round(result["mean_iou"], 4), "per_category_iou_64": {k: round(v, 4) for k, v in result["per_category"].items()},
                         "shapes": len(result["iou"])},
        "final_training_loss": float(np.mean(history.loss[-50:])) if history.loss else None,
        "summary": f"test IoU at 64³ {result['mean_iou']:.4f} on {len(result['iou'])} shapes",
    }  # fmt: skip


def load_shipped_z(profile: Profile) -> dict:
    """z of every train and test shape, as computed by the profile's shipped autoencoder (``train_z``, ``train_names``, …)."""
    return shipping.read_z_file(shipping.paths("autoencoder", profile).extra["z"])
