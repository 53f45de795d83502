"""Search and reconstruct by a person's line drawing: the sketch encoder.

A person who draws a chair draws **lines**: the outline, the creases where two faces meet at an
angle, the edges where one part passes in front of another. The image encoder reads shaded
renderings and the light field's sketch search compares filled silhouettes; neither has seen
such a drawing. So this module makes drawings of the dataset's own shapes and trains a network
on them:

* :func:`line_maps` – the lines a person draws, found exactly with a ray caster: where the
  first surface a pixel's ray meets changes abruptly next to it (the outline, and one part in
  front of another: the neighbour's hit point lies off this pixel's surface plane), and where
  the surface bends sharply (a crease: the two faces' normals differ by more than
  :data:`CREASE_DEGREES`). From the views people draw from (:func:`drawing_views`: front, side,
  three-quarter) and random ones.
* :func:`hand_drawn` – those lines made to look drawn by a hand: some interior lines left out
  (a doodle keeps only the outline), wobble, gaps, strokes from hairline to marker, ink that is
  not black on paper that is not white, any margin and picture size.
* :func:`drawing_input` – what the network reads, the same for every drawing, made or given:
  the ink found and framed to fill the picture, thinned to its centre lines and redrawn at one
  stroke width, so that the answer does not depend on the picture's size or the pen. A filled
  silhouette (the light field's sketches) is read as its outline.
* :func:`looks_like_drawing` – the automatic guess of ``search`` between a drawing and a
  rendering or photograph.

The sketch encoder is the image encoder's ResNet (:class:`tutorial_lib.models.ImageEncoder`),
started from the shipped image encoder's weights and trained to give the autoencoder's z of the
shape drawn: the same shape space, so that search by a drawing uses the same index (nearest z)
and a drawing can be decoded into a 3D shape as a picture can. A joint embedding of drawings
and shapes would be trained for retrieval alone; z serves both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from .config import IMAGE_PADDING, IMAGE_SIZE

#: Bumped whenever the drawings change for the same seed: a sketch encoder trained on older ones is stale.
GENERATOR_VERSION = 1
#: Pixels of the rendered line maps (about twice the network's 137, so that lines stay thin).
LINE_MAP_SIZE = 256
#: Two faces meeting at more than this angle make a crease a person draws.
CREASE_DEGREES = 35.0
#: A neighbour's hit point this far (world units; the grid's cell is 1/64) off a pixel's surface plane is another surface.
DEPTH_STEP = 0.02
#: The working canvas of :func:`drawing_input` and the stroke it redraws there (pixels; 137/256 of it in the network's picture).
CANVAS = 256
CANVAS_PADDING = 17  # the renderings' 9 of 137
STROKE_RADIUS = 1


# --------------------------------------------------------------------------------------------
# The lines a person draws
# --------------------------------------------------------------------------------------------


def drawing_views(count: int, rng: np.random.Generator) -> np.ndarray:
    """``[count, 2]`` (azimuth, inclination) in degrees: the views people draw from — front, side,
    three-quarter, a little from above — and a quarter at random as the renderings are."""
    from .rendering import random_views

    kinds = rng.choice(4, size=count, p=[0.2, 0.2, 0.35, 0.25])
    views = random_views(count, rng)
    sign = rng.choice([-1.0, 1.0], size=count)
    front = np.stack([rng.uniform(-10, 10, count), rng.uniform(0, 20, count)], axis=1)
    side = np.stack([sign * rng.uniform(80, 100, count), rng.uniform(0, 20, count)], axis=1)
    three_quarter = np.stack([sign * rng.uniform(25, 65, count), rng.uniform(10, 35, count)], axis=1)
    for kind, chosen in enumerate((front, side, three_quarter)):
        views[kinds == kind] = chosen[kinds == kind]
    return views


def line_maps(mesh, views: np.ndarray, size: int = LINE_MAP_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """``(outline, creases)``: boolean ``[V, size, size]`` maps of the lines of a normalised mesh
    seen from ``views`` (the renderings' camera; see the module's docstring for what a line is).

    A line lies on the pixel nearer to the camera of the two it separates (the outline on the
    shape, not on the paper), so lines are one or two pixels wide.
    """
    from .geometry import check_mesh, ray_intersector
    from .rendering import perspective_rays

    check_mesh(mesh)
    views = np.asarray(views, dtype=np.float64).reshape(-1, 2)
    padding = round(IMAGE_PADDING * size / IMAGE_SIZE)
    origins, directions = perspective_rays(views, size, padding)
    face, ray, hits = ray_intersector(mesh).intersects_id(origins, directions, multiple_hits=False, return_locations=True)
    n = len(origins)
    hit = np.zeros(n, bool)
    hit[ray] = True
    depth = np.full(n, np.inf)
    depth[ray] = np.einsum("ij,ij->i", hits - origins[ray], directions[ray])
    points = np.zeros((n, 3))
    points[ray] = hits
    normals = np.zeros((n, 3))
    normals[ray] = mesh.face_normals[face]
    facing = np.einsum("ij,ij->i", normals, directions) > 0
    normals[facing] *= -1.0  # towards the camera, whichever way the file's faces point
    shape = (len(views), size, size)
    hit, depth, points, normals = hit.reshape(shape), depth.reshape(shape), points.reshape(*shape, 3), normals.reshape(*shape, 3)

    outline = np.zeros(shape, bool)
    creases = np.zeros(shape, bool)
    cos_crease = np.cos(np.radians(CREASE_DEGREES))
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        here = (slice(None), slice(0, size - dy), slice(max(0, -dx), size - max(0, dx)))
        there = (slice(None), slice(dy, size), slice(max(0, dx), size - max(0, -dx)))
        both = hit[here] & hit[there]
        # paper beside the shape: the outline, on the shape's pixel
        edge = hit[here] != hit[there]
        outline[here] |= edge & hit[here]
        outline[there] |= edge & hit[there]
        # another surface: the neighbour's point lies off this pixel's plane (in front or behind)
        off_plane = np.abs(np.einsum("...i,...i->...", points[there] - points[here], normals[here]))
        off_plane = np.maximum(off_plane, np.abs(np.einsum("...i,...i->...", points[here] - points[there], normals[there])))
        jump = both & (off_plane > DEPTH_STEP)
        nearer_here = depth[here] <= depth[there]
        outline[here] |= jump & nearer_here
        outline[there] |= jump & ~nearer_here
        # one surface that bends sharply
        bend = both & ~jump & (np.einsum("...i,...i->...", normals[here], normals[there]) < cos_crease)
        creases[here] |= bend
    return outline, creases & ~outline


# --------------------------------------------------------------------------------------------
# ... drawn by a hand
# --------------------------------------------------------------------------------------------


def _smooth_noise(shape: tuple[int, int], scale: float, rng: np.random.Generator) -> np.ndarray:
    """Noise of unit standard deviation whose features are about ``scale`` pixels across."""
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), scale, mode="wrap")
    return noise / (noise.std() + 1e-12)


def hand_drawn(outline: np.ndarray, creases: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A grey picture (uint8, paper light, ink dark) of one view's lines as a hand might draw them.

    The style is drawn at random for each picture: interior lines (creases) kept in full, in part
    or not at all (a doodle); a wobble of up to a few pixels; gaps where the pen lifted; a picture
    of 96 to 640 pixels with a margin of 2–30 %; a pen from hairline to marker (up to 2.5 % of
    the picture), ink from black to pencil grey on paper from white to light grey.
    """
    from PIL import Image
    from skimage.morphology import disk, skeletonize

    size = outline.shape[0]
    lines = outline.copy()
    if creases.any():
        keep = rng.choice(3, p=[0.5, 0.3, 0.2])  # all, some, none
        if keep == 0:
            lines |= creases
        elif keep == 1:
            parts, count = ndimage.label(creases, structure=np.ones((3, 3)))
            kept = np.flatnonzero(rng.random(count) < rng.uniform(0.3, 0.8)) + 1
            lines |= np.isin(parts, kept)
    if rng.random() < 0.8:  # gaps where the pen lifted
        gaps = _smooth_noise(lines.shape, rng.uniform(2, 6), rng) > rng.uniform(1.2, 2.5)
        lines &= ~gaps
    ink = lines.astype(np.float32)
    wobble = rng.uniform(0, 4.0)
    if wobble > 0.3:  # a smooth displacement of every line: the hand is not a ruler
        rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
        scale = rng.uniform(12, 40)
        rows += wobble * _smooth_noise(lines.shape, scale, rng)
        cols += wobble * _smooth_noise(lines.shape, scale, rng)
        ink = ndimage.map_coordinates(ink, [rows, cols], order=1, mode="constant")
    rows, cols = np.nonzero(ink > 0.3)
    out = int(rng.integers(96, 641))
    if len(rows) == 0:
        return np.full((out, out), 255, np.uint8)
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    margin = rng.uniform(0.02, 0.3)
    scale = out * (1 - 2 * margin) / max(ink.shape)
    shape = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    resized = np.asarray(Image.fromarray(ink).resize(shape, Image.BILINEAR if scale >= 1 else Image.BOX))
    centre_lines = skeletonize(resized > (0.3 if scale >= 1 else 0.3 * scale))  # one pixel wide at the picture's own size
    canvas = np.zeros((out, out), bool)
    top = int(rng.integers(0, out - centre_lines.shape[0] + 1))
    left = int(rng.integers(0, out - centre_lines.shape[1] + 1))
    canvas[top : top + centre_lines.shape[0], left : left + centre_lines.shape[1]] = centre_lines
    pen = int(round(out * rng.choice([0.0, 0.003, 0.006, 0.012], p=[0.35, 0.3, 0.2, 0.15])))  # radius: hairline to marker
    if pen > 0:
        canvas = ndimage.binary_dilation(canvas, structure=disk(pen))
    stroke = ndimage.gaussian_filter(canvas.astype(np.float32), 0.6)  # the anti-aliased edge of a pen or a drawing program
    stroke = np.clip(stroke / max(float(stroke.max()), 1e-6) * 1.6, 0, 1)
    paper, pen_tone = rng.uniform(220, 255), rng.uniform(0, 90)
    grey = paper - (paper - pen_tone) * stroke + rng.normal(0, rng.uniform(0, 3), stroke.shape)
    return np.clip(np.round(grey), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# What the network reads
# --------------------------------------------------------------------------------------------


def _grey01(image) -> np.ndarray:
    """A picture file, a PIL image or an array as grey float32 in [0, 1]."""
    from .search import _grey

    return np.asarray(_grey(image), dtype=np.float32)


def ink_mask(image) -> np.ndarray:
    """Where a drawing has ink: darker than halfway between its paper (a bright percentile) and its darkest ink."""
    grey = _grey01(image)
    paper = float(np.percentile(grey, 90))
    darkest = float(np.percentile(grey, 0.1))
    if paper - darkest < 0.15:
        return np.zeros(grey.shape, bool)  # no contrast: no ink
    return grey < (paper + darkest) / 2


def drawing_input(image) -> np.ndarray:
    """A drawing as the sketch encoder reads it: ``[137, 137]`` float32 in [0, 1], paper 1, lines 0.

    The ink (:func:`ink_mask`) is framed to fill the picture as the renderings fill theirs,
    thinned to its centre lines (``skimage.morphology.skeletonize``) and redrawn with one
    stroke width, so a drawing of 256² and of 1024² pixels, with a fine pen or a marker, give
    nearly the same input. A filled silhouette (its ink much wider than a stroke) is read as its
    outline. An empty drawing raises ``ValueError``.
    """
    from PIL import Image
    from skimage.morphology import skeletonize

    ink = ink_mask(image)
    rows, cols = np.nonzero(ink)
    if len(rows) == 0:
        raise ValueError("the drawing has no ink (no stroke darker than its paper)")
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    side = max(ink.shape)
    inner = CANVAS - 2 * CANVAS_PADDING
    scale = inner / side
    height, width = max(1, round(ink.shape[0] * scale)), max(1, round(ink.shape[1] * scale))
    # Area-average when shrinking (a thin stroke keeps some weight), bilinear when growing.
    resized = np.asarray(Image.fromarray(ink.astype(np.float32)).resize((width, height), Image.BOX if scale < 1 else Image.BILINEAR))
    threshold = 0.5 if scale >= 1 else min(0.5, 0.5 * scale * 2)  # a one-pixel stroke shrunk by `scale` keeps about `scale` of a pixel
    mask = np.zeros((CANVAS, CANVAS), bool)
    top, left = (CANVAS - height) // 2, (CANVAS - width) // 2
    mask[top : top + height, left : left + width] = resized > threshold
    mask = ndimage.binary_closing(mask, structure=np.ones((3, 3)))  # hairline breaks of the resampling
    skeleton = skeletonize(mask)
    stroke = mask.sum() / max(skeleton.sum(), 1)  # ink area / centre-line length: the stroke's width
    if stroke > 0.06 * inner:  # a filled shape, not strokes: draw its outline
        filled = ndimage.binary_fill_holes(mask)
        skeleton = filled & ~ndimage.binary_erosion(filled)
    lines = ndimage.binary_dilation(skeleton, structure=ndimage.generate_binary_structure(2, 1), iterations=STROKE_RADIUS)
    picture = np.asarray(Image.fromarray((~lines).astype(np.float32)).resize((IMAGE_SIZE, IMAGE_SIZE), Image.BOX), np.float32)
    return np.clip(picture, 0.0, 1.0)


def looks_like_drawing(image) -> bool:
    """The automatic guess of ``search``: is a picture a drawing (marks on paper) rather than a
    rendering or a photograph?

    Paper first: the picture's bright tone (its 90th percentile) must be light (≥ 0.6) and the
    marks on it (pixels more than 0.1 darker) must cover less than half of it; a photograph
    fails here. Then the marks are eroded by 1.2 % of their extent: a drawing's **strokes**
    vanish (less than 10 % of the marks survive), or its **closed outlines** enclose paper (the
    marks fill less than half of the region they enclose), or what survives is **one tone** (a
    filled silhouette: its 10th to 90th percentile of grey within 0.03). A rendering's marks are
    a solid region in many shades of grey. On the quick dataset's renderings and the drawings of
    :func:`hand_drawn` the rule was chosen to call few renderings drawings (BENCHMARKS.md, "3D
    search", has how often it is right).
    """
    grey = _grey01(image)
    paper = float(np.percentile(grey, 90))
    marks = grey < paper - 0.1
    if paper < 0.6 or not marks.any() or marks.mean() >= 0.5:
        return False
    rows, cols = np.nonzero(marks)
    erosion = max(1, round(0.012 * (max(np.ptp(rows), np.ptp(cols)) + 1)))
    core = ndimage.binary_erosion(marks, iterations=erosion)
    if core.sum() < 0.1 * marks.sum():
        return True
    enclosed = ndimage.binary_fill_holes(ndimage.binary_closing(marks, iterations=erosion))
    if marks.sum() < 0.5 * enclosed.sum():
        return True
    tones = grey[core]
    return bool(np.percentile(tones, 90) - np.percentile(tones, 10) < 0.03)


# --------------------------------------------------------------------------------------------
# Drawings of the dataset's shapes
# --------------------------------------------------------------------------------------------

#: Each split's drawings come from their own stream of seeds: no test drawing's seed is ever a training one.
_SPLIT_STREAMS = {"train": 0, "test": 1}


def hand_drawn_pictures(mesh, count: int, seed: tuple[int, ...]) -> tuple[list[np.ndarray], np.ndarray]:
    """``count`` hand-drawn-looking pictures of a normalised mesh (uint8, each its own size) and
    their views ``[count, 2]``; the same for the same ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    views = drawing_views(count, rng)
    outline, creases = line_maps(mesh, views)
    return [hand_drawn(o, c, rng) for o, c in zip(outline, creases)], views


def drawings_of(mesh, count: int, seed: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`hand_drawn_pictures` as the network reads them (``[count, 137, 137]`` uint8, paper 255), and their views."""
    pictures, views = hand_drawn_pictures(mesh, count, seed)
    return np.stack([np.round(255 * drawing_input(p)).astype(np.uint8) for p in pictures]), views


def drawing_seed(seed: int, stream: int, row: int) -> tuple[int, ...]:
    """The seed of the drawings of one shape: the generator's version, the run's seed, the split's stream, the shape's row."""
    return (GENERATOR_VERSION, seed, stream, row)


def _drawings_of_rows(job: tuple) -> tuple[np.ndarray, np.ndarray]:
    """A worker's task: the drawings of rows ``[start, stop)`` of a split file."""
    import h5py
    import trimesh

    path, start, stop, count, stream, seed = job
    with h5py.File(path, "r") as f:
        vertices, faces = f["mesh_vertices"][start:stop], f["mesh_faces"][start:stop]
    made = [drawings_of(trimesh.Trimesh(vertices=v.reshape(-1, 3), faces=t.reshape(-1, 3), process=False), count, drawing_seed(seed, stream, row))
            for row, v, t in zip(range(start, stop), vertices, faces)]  # fmt: skip
    return np.stack([p for p, _ in made]), np.stack([v for _, v in made])


def drawing_set_path(split_file: str | Path, count: int, seed: int = 0) -> Path:
    """Where the drawings of a split file are kept: beside it, named by the content they depend
    on (the split's fingerprint, the generator's version, drawings per shape, seed)."""
    import hashlib

    from . import data

    split_file = Path(split_file)
    key = f"{data.read_attrs(split_file).get('fingerprint')}-{GENERATOR_VERSION}-{count}-{seed}"
    return split_file.with_name(f"drawings_{split_file.stem}_{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz")


def ensure_drawings(split_file: str | Path, count: int, seed: int = 0, progress: bool = True, workers: int | None = None) -> dict:
    """The drawings of every shape of a split file: ``pictures [N, count, 137, 137]`` (uint8) and
    ``views [N, count, 2]``; made once, in worker processes with a progress bar, and kept beside
    the split file (:func:`drawing_set_path`; written whole or not at all). An interrupted run
    keeps the groups of shapes it finished (in a folder beside it) and continues from them."""
    import shutil
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    from . import config, data, provenance, safety

    split_file = Path(split_file)
    path = drawing_set_path(split_file, count, seed)
    if path.is_file():
        return provenance.read_arrays(path, ("pictures", "views"), "drawing set")
    parts = path.with_suffix(".parts")
    parts.mkdir(exist_ok=True)
    stream = _SPLIT_STREAMS.get(split_file.stem, 2)
    with data.open_split(split_file) as f:
        shapes = len(f["mesh_vertices"])
    tasks = [(split_file, start, min(start + 16, shapes), count, stream, seed) for start in range(0, shapes, 16)]
    part = {task: parts / f"{task[1]:06d}.npz" for task in tasks}
    todo = [task for task in tasks if not part[task].is_file()]
    workers = min(workers or config.default_workers(), max(1, len(todo)))
    bar = tqdm(total=shapes, initial=shapes - sum(t[2] - t[1] for t in todo), desc=f"drawings of {split_file.name}", disable=not progress)
    pool = None
    if workers == 1:
        made = map(_drawings_of_rows, todo)
    else:
        from .search import _one_torch_thread

        pool = ProcessPoolExecutor(max_workers=workers, initializer=_one_torch_thread)
        made = pool.map(_drawings_of_rows, todo)
    try:
        for task, (pictures, views) in zip(todo, made):
            with provenance.atomic_path(part[task]) as tmp:
                np.savez(tmp, pictures=pictures, views=views)
            bar.update(len(pictures))
    finally:
        bar.close()
        if pool is not None:
            safety.close_pool(pool)
    done = [provenance.read_arrays(part[task], ("pictures", "views"), "drawing set") for task in tasks]
    arrays = {key: np.concatenate([d[key] for d in done]) for key in ("pictures", "views")}
    with provenance.atomic_path(path) as tmp:
        np.savez(tmp, **arrays)
    shutil.rmtree(parts, ignore_errors=True)
    return arrays


class DrawingCodes:
    """(drawing ``[1, 137, 137]`` in [0, 1], z) for every drawing of every shape of a split."""

    def __init__(self, pictures: np.ndarray, codes: np.ndarray):
        import torch

        self.pictures = torch.from_numpy(np.ascontiguousarray(pictures.reshape(-1, *pictures.shape[-2:])))
        self.per_shape = pictures.shape[1]
        self.codes = torch.as_tensor(np.asarray(codes), dtype=torch.float32)
        if len(self.codes) != pictures.shape[0]:
            raise ValueError(f"{pictures.shape[0]} shapes of drawings but {len(self.codes)} codes")

    def __len__(self) -> int:
        return len(self.pictures)

    def __getitem__(self, index: int):
        return self.pictures[index][None].float() / 255.0, self.codes[index // self.per_shape]


# --------------------------------------------------------------------------------------------
# The sketch encoder
# --------------------------------------------------------------------------------------------


def train_sketch_encoder(profile, run, model=None, codes: dict | None = None):
    """Train the profile's sketch encoder: the image encoder's ResNet, started from the shipped
    image encoder's weights, regressing the autoencoder's z from drawings of the training shapes
    (random crops and flips, MSE, Adam with a cosine decay; batch-norm statistics recomputed on
    drawings at the end). ``(model, history)``; resumable through ``run.checkpoint``."""
    from dataclasses import replace

    import torch

    from . import autoencoder, config, data, distributed, provenance, shipping, svr
    from .training import EpochBatches, cosine_schedule, resolve_precision, train

    settings = profile.sketch_encoder
    run = run.with_default_steps(settings.steps)
    run = replace(run, precision=resolve_precision(run.precision, distributed.local_device(run.device), cpu_bf16=True))
    folder = data.ensure_dataset(profile, progress=run.progress)
    codes = codes if codes is not None else autoencoder.load_shipped_z(profile)
    drawings = ensure_drawings(data.split_path(folder, "train"), settings.drawings_per_shape, seed=run.seed, progress=run.progress)
    dataset = DrawingCodes(drawings["pictures"], codes["train_z"])
    config.seed_everything(run.seed)
    if model is None:
        model = svr.make_image_encoder(profile)
        model.load_state_dict(shipping.load("image_encoder", profile).state_dict())  # what it knows of shapes in pictures
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    record = {"model": "sketch_encoder", "steps": run.steps, "batch_size": settings.batch_size, "learning_rate": settings.learning_rate,
              "architecture": dict(getattr(model, "config", {})), "dataset": data.read_attrs(data.split_path(folder, "train")).get("fingerprint"),
              "autoencoder_z": provenance.array_fingerprint(dataset.codes.numpy()), "drawings": drawing_settings(profile),
              "precision": run.precision}  # fmt: skip
    history = train(model, optimizer, svr.z_loss, EpochBatches(dataset, settings.batch_size, run.seed), run,
                    scheduler=cosine_schedule(optimizer, run.steps), description="sketch encoder", record=record)  # fmt: skip
    svr.recalibrate_image_encoder(model, dataset, seed=run.seed)  # batch-norm statistics of drawings, for the final weights
    return model, history


def drawing_settings(profile) -> dict:
    """What the drawings a sketch encoder learned from depend on (its manifest records it; a change makes it stale)."""
    return {"generator_version": GENERATOR_VERSION, "drawings_per_shape": profile.sketch_encoder.drawings_per_shape}


def predict_drawing_z(model, drawings) -> torch.Tensor:  # noqa: F821
    """z for drawings given as pictures (files, arrays or PIL images), each read by :func:`drawing_input`."""
    from . import svr

    return svr.predict_z(model, np.stack([drawing_input(d) for d in drawings]))


def category_precision(z: np.ndarray, categories, train_z: np.ndarray, train_categories) -> tuple[float, dict]:
    """Precision@1 of the category of the nearest training z, overall and per category."""
    from scipy.spatial.distance import cdist

    nearest = np.asarray(train_categories)[cdist(np.asarray(z, np.float64), np.asarray(train_z, np.float64)).argmin(axis=1)]
    right = nearest == np.asarray(categories)
    per = {str(c): float(right[np.asarray(categories) == c].mean()) for c in sorted(set(categories))}
    return float(right.mean()), per


def stale_reasons(manifest: dict, path, profile) -> list[str]:
    """Why a shipped sketch encoder no longer matches the drawings the present code makes."""
    recorded = manifest.get("drawings")
    if recorded != drawing_settings(profile):
        return [f"{path}: learned from drawings made with {recorded}; the present code makes {drawing_settings(profile)}"]
    return []


def shipped_manifest(model, history, profile, device, files, progress: bool = True) -> dict:
    """The sketch encoder's part of shipping: on drawings of every test shape (seeds of their own,
    never used in training), the category of the nearest training z, beside the image encoder
    reading the same drawings as pictures."""
    from dataclasses import asdict

    import torch
    import torch.nn.functional as F

    from . import autoencoder, data, shipping, svr

    folder = data.dataset_dir(profile)
    codes = autoencoder.load_shipped_z(profile)
    settings = profile.sketch_encoder
    test = ensure_drawings(data.split_path(folder, "test"), settings.test_drawings_per_shape, progress=progress)
    pictures = torch.from_numpy(test["pictures"].reshape(-1, *test["pictures"].shape[-2:])).float() / 255.0
    per_shape = test["pictures"].shape[1]
    categories = np.repeat(np.asarray(codes["test_categories"]), per_shape)
    z = svr.predict_z(model, pictures).numpy()
    precision, per_category = category_precision(z, categories, codes["train_z"], codes["train_categories"])
    image_model = shipping.load("image_encoder", profile, device=device)
    as_pictures, _ = category_precision(svr.predict_z(image_model, pictures).numpy(), categories, codes["train_z"], codes["train_categories"])
    test_z = torch.as_tensor(np.repeat(np.asarray(codes["test_z"]), per_shape, axis=0), dtype=torch.float32)
    return {
        "architecture": model.config, "settings": asdict(settings), "drawings": drawing_settings(profile),
        "test_drawings": int(len(pictures)),
        "test_category_precision_at_1": {"sketch_encoder": precision, "image_encoder_on_the_drawings": as_pictures},
        "test_category_precision_at_1_per_category": per_category,
        "test_z_mse": float(F.mse_loss(torch.from_numpy(z), test_z)),
        "final_training_loss": float(np.mean(history.loss[-50:])) if history.loss else None,
        "summary": f"category precision@1 on {len(pictures)} drawings of the test shapes {precision:.3f} "
                   f"(the image encoder on the same drawings: {as_pictures:.3f})",
    }  # fmt: skip
