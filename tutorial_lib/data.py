"""The dataset: its HDF5 format, the builder, and torch ``Dataset`` views of it.

One HDF5 file per split (``train.hdf5``, ``test.hdf5``) in a dataset folder. The arrays use
IM-NET's key names, so that code reading our files also reads IM-NET's published
``all_vox256_img_{train,test}.hdf5``:

========================  ==========================  =========================================
key                       shape, dtype                meaning
========================  ==========================  =========================================
``voxels``                [N, 64, 64, 64, 1] uint8    solid occupancy, indexed [i, j, k] = x, y, z
``points_16``             [N, 4096, 3] float32        edge-sampled voxel centres of the 16³ grid
``values_16``             [N, 4096, 1] uint8          1 inside, 0 outside
``points_32/values_32``   [N, 8192, ...]              the same on the 32³ grid
``points_64/values_64``   [N, 32768, ...]             the same on the 64³ grid
``pixels``                [N, 20, 137, 137] uint8     grey renderings, white background
========================  ==========================  =========================================

Our own keys: ``names``, ``categories``, ``variants`` (strings), ``view_angles`` [N, 20, 2]
(azimuth, inclination in degrees), ``sampling_stages`` and ``edge_counts`` [N, 3] (for 16, 32,
64), ``mesh_vertices``/``mesh_faces`` (the normalised mesh, flattened, variable length).
Attributes: ``schema_version``, ``axis_order``, ``point_coordinates``, ``builder`` (JSON of
the build settings), ``seed``, ``fingerprint``.

Points are stored in world coordinates in [-0.5, 0.5]³. IM-NET stores them as uint8 on a
256 grid; :func:`read_split` converts those with ``(p + 0.5) / 256 - 0.5`` so both read alike.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import trimesh

from . import config, safety
from .config import IMAGE_SIZE, POINT_BUDGETS, VIEWS_PER_SHAPE, VOXEL_RESOLUTION

SCHEMA_VERSION = 1
#: Versions of the code that decides what a built shape holds. Bump an entry whenever that code
#: changes its output (a new variant of a category, another lighting, another sampling rule):
#: the version is part of the build settings stored in each split file, so a dataset made by
#: older code is rebuilt instead of being silently reused.
#: Rendering 2: the same cameras, light and shading, pixels found by a z-buffer instead of Embree's
#: rays (on every 10th quick shape, 29 of 100 million pixels differ, at shadow edges and silhouettes).
GENERATOR_VERSIONS = {"shapes": 1, "rendering": 2, "point_sampling": 1}
#: Builds from mesh files also record this version of the voxeliser's answer for meshes that are
#: not one watertight piece (``versions.voxelise``): 2 fills them by their generalised winding
#: number (1: surface samples, hole filling and a trim). Procedural shapes are all watertight and
#: of one piece, voxelised by parity as before, so their settings (and shipped models) are unchanged.
SOURCE_VOXELISER_VERSION = 2
SPLITS = ("train", "test")
RESOLUTIONS = tuple(POINT_BUDGETS)  # (16, 32, 64)
IMNET_KEYS = ("voxels", "points_16", "values_16", "points_32", "values_32", "points_64", "values_64")
#: ShapeNet's synset ids of the 13 categories of IM-NET's subset (folder names in ShapeNetCore).
SHAPENET_SYNSETS = {
    "02691156": "airplane", "02828884": "bench", "02933112": "cabinet", "02958343": "car",
    "03001627": "chair", "03211117": "display", "03636649": "lamp", "03691459": "loudspeaker",
    "04090263": "rifle", "04256520": "sofa", "04379243": "table", "04401088": "telephone",
    "04530566": "watercraft",
}  # fmt: skip


class DatasetError(ValueError):
    """A dataset file that is missing, incomplete or not in a format we can read."""


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def dataset_dir(profile: config.Profile) -> Path:
    """Folder of the procedural dataset of a profile: ``<data root>/<profile name>``."""
    return config.data_root() / profile.name


def split_path(folder: str | Path, split: str) -> Path:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: use one of {SPLITS}")
    return Path(folder) / f"{split}.hdf5"


def open_split(path: str | Path) -> h5py.File:
    """A split file opened for reading (ours or IM-NET's), with one-line errors naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such dataset file (build one with `python -m tutorial_lib data build`)")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DatasetError(f"{path}: not a readable HDF5 file ({exc})") from exc


def _decode(strings) -> list[str]:
    return [s.decode() if isinstance(s, bytes) else str(s) for s in strings]


def read_split(path: str | Path, keys: tuple[str, ...] | None = None) -> dict:
    """Load arrays of a split file (ours or IM-NET's) into memory.

    ``keys`` defaults to everything needed for training; ``"pixels"`` is large, ask for it when
    you need it. Always returns ``names`` and ``categories`` (synthesised for IM-NET files,
    which carry neither). Points come back as float32 world coordinates whatever the file held.
    """
    keys = tuple(keys) if keys is not None else IMNET_KEYS
    with open_split(path) as f:
        missing = [k for k in keys if k not in f]
        if missing:
            raise DatasetError(f"{path}: missing keys {missing}; it has {sorted(f.keys())}")
        count = f[keys[0]].shape[0] if keys else f["voxels"].shape[0]
        out: dict = {}
        for key in keys:
            array = f[key][()]
            if key.startswith("points_") and array.dtype == np.uint8:
                array = (array.astype(np.float32) + 0.5) / 256.0 - 0.5  # IM-NET's 256-grid encoding
            out[key] = array
        if "names" in f:
            for key in ("names", "categories", "variants"):
                if key in f:
                    out[key] = _decode(f[key][()])
        else:  # an IM-NET file: shapes are anonymous
            out["names"] = [f"shape_{i:05d}" for i in range(count)]
            out["categories"] = ["unknown"] * count
        out["attrs"] = dict(f.attrs)
    return out


def read_attrs(path: str | Path) -> dict:
    """The file's attributes, with ``builder`` decoded from JSON."""
    with open_split(path) as f:
        attrs = dict(f.attrs)
    if "builder" in attrs:
        attrs["builder"] = json.loads(attrs["builder"])
    return attrs


def read_mesh(path: str | Path, index: int) -> trimesh.Trimesh:
    """The normalised mesh of shape ``index`` of a split file."""
    with open_split(path) as f:
        if "mesh_vertices" not in f:
            raise DatasetError(f"{path}: holds no meshes (IM-NET files have none); use marching cubes on its voxels")
        vertices = f["mesh_vertices"][index].reshape(-1, 3)
        faces = f["mesh_faces"][index].reshape(-1, 3)
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)


def read_pixels(path: str | Path, indices=None) -> np.ndarray:
    """Renderings ``[N, V, 137, 137]`` (all shapes, or those at ``indices``, in sorted order)."""
    with open_split(path) as f:
        if "pixels" not in f:
            raise DatasetError(f"{path}: has no 'pixels'")
        if indices is None:
            return f["pixels"][()]
        return f["pixels"][np.sort(np.asarray(indices))]


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


#: Compression of the per-shape arrays: deflate (gzip) at this level after HDF5's byte shuffle. Level 1
#: compresses a shape about twice as fast as level 4 (the points take most of it) into files 5%
#: larger (the quick dataset: 472 against 449 MB); any level reads back alike.
COMPRESSION_LEVEL = 1
#: The arrays stored as one chunk per shape, and their dtype in the file.
CHUNKED = {"voxels": np.uint8, "pixels": np.uint8, "view_angles": np.float32, "sampling_stages": np.uint8, "edge_counts": np.int32,
           **{f"points_{r}": np.float32 for r in RESOLUTIONS}, **{f"values_{r}": np.uint8 for r in RESOLUTIONS}}  # fmt: skip


def _chunk_array(record: dict, key: str) -> np.ndarray:
    """One shape's array as the file stores it (voxels get IM-NET's trailing axis of 1)."""
    value = np.asarray(record[key])
    return np.ascontiguousarray(value[..., None] if key == "voxels" else value, dtype=CHUNKED[key])


def encode_chunk(array: np.ndarray, level: int = COMPRESSION_LEVEL) -> bytes:
    """The bytes HDF5 stores for one chunk written through the shuffle and deflate filters:
    the array's bytes regrouped by byte position (shuffle; nothing to do for 1-byte types),
    then zlib-compressed. Any HDF5 reader decodes them as it decodes its own."""
    import zlib

    array = np.ascontiguousarray(array)
    raw = array.view(np.uint8).reshape(-1, array.itemsize).T.tobytes() if array.itemsize > 1 else array.tobytes()
    return zlib.compress(raw, level)


def encode_record(record: dict) -> dict:
    """A record (as made by :func:`build_shape`) with its per-shape arrays already encoded as their
    HDF5 chunks (``chunks``: key -> bytes, ``layout``: key -> shape) and its voxels packed into
    bits for the fingerprint (``voxel_bits``): what :func:`write_split` needs, a tenth of the size.
    The builder's workers do this, so that the compression runs in parallel."""
    arrays = {key: _chunk_array(record, key) for key in CHUNKED}
    encoded = {k: v for k, v in record.items() if k not in CHUNKED}
    encoded["chunks"] = {key: encode_chunk(a) for key, a in arrays.items()}
    encoded["layout"] = {key: a.shape for key, a in arrays.items()}
    encoded["voxel_bits"] = _voxel_bits(record)
    return encoded


def write_split(path: str | Path, records, attrs: dict) -> None:
    """Write one split file from per-shape records (as made by :func:`build_shape`, or encoded by :func:`encode_record`).

    ``records`` may be a list or any sequence that loads each record when indexed (the builder
    passes one that reads each shape from disk), so a split of thousands of shapes is written
    one shape at a time and never held in memory whole. Each shape's arrays are one chunk each,
    shuffled and deflated (gzip); an encoded record's chunks are written as they are (no
    compression here: the builder's workers did it). Written to a temporary name and renamed
    at the end, so an interrupted write never leaves a file that looks complete.
    """
    from .provenance import atomic_path

    path = Path(path)
    n = len(records)
    if n == 0:
        raise ValueError(f"{path}: no shapes to write")
    first = records[0]
    string = h5py.string_dtype()
    digest = hashlib.sha256()
    layout = first["layout"] if "chunks" in first else {key: _chunk_array(first, key).shape for key in CHUNKED}
    texts = {key: [] for key in ("names", "categories", "variants")}
    meshes = {"mesh_vertices": [], "mesh_faces": []}
    with atomic_path(path) as tmp, safety.hdf5_for_writing(tmp, path) as f:
        arrays = {key: f.create_dataset(key, (n,) + tuple(shape), dtype=CHUNKED[key], chunks=(1,) + tuple(shape), compression="gzip",
                                        compression_opts=COMPRESSION_LEVEL, shuffle=True)
                  for key, shape in layout.items()}  # fmt: skip
        for i in range(n):
            r = first if i == 0 else records[i]
            chunks = r["chunks"] if "chunks" in r else {key: encode_chunk(_chunk_array(r, key)) for key in CHUNKED}
            for key, dataset in arrays.items():
                if "layout" in r and tuple(r["layout"][key]) != tuple(layout[key]):
                    raise ValueError(f"{path}: shape {r['name']} has {key} of shape {tuple(r['layout'][key])}, the others {tuple(layout[key])}")
                dataset.id.write_direct_chunk((i,) + (0,) * len(layout[key]), chunks[key], filter_mask=0)
            for key, field in (("names", "name"), ("categories", "category"), ("variants", "variant")):
                texts[key].append(str(r[field]))
            meshes["mesh_vertices"].append(np.asarray(r["mesh_vertices"], dtype=np.float32).ravel())
            meshes["mesh_faces"].append(np.asarray(r["mesh_faces"], dtype=np.int32).ravel())
            _update_fingerprint(digest, r)
        for key, values in texts.items():
            f.create_dataset(key, data=np.array(values, dtype=object), dtype=string)
        for key, dtype in (("mesh_vertices", np.float32), ("mesh_faces", np.int32)):
            column = np.empty(n, dtype=object)
            column[:] = meshes[key]
            f.create_dataset(key, data=column, dtype=h5py.vlen_dtype(dtype))
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["axis_order"] = "xyz"
        f.attrs["point_coordinates"] = "world coordinates of voxel centres, cube [-0.5, 0.5]^3"
        f.attrs["fingerprint"] = digest.hexdigest()[:16]
        for key, value in attrs.items():
            f.attrs[key] = json.dumps(value) if isinstance(value, dict) else value


def _voxel_bits(record: dict) -> np.ndarray:
    if "voxel_bits" in record:
        return np.asarray(record["voxel_bits"], dtype=np.uint8)
    return np.packbits(np.asarray(record["voxels"], dtype=bool))


def _update_fingerprint(digest, record: dict) -> None:
    digest.update(str(record["name"]).encode())
    digest.update(_voxel_bits(record).tobytes())


def fingerprint(records) -> str:
    """A short hash of the shapes' names and voxels: two files with the same fingerprint hold
    the same geometry (checkpoint manifests record it to say which data a model saw)."""
    digest = hashlib.sha256()
    for r in records:
        _update_fingerprint(digest, r)
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Building one shape
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShapeJob:
    """What the builder needs to make one shape: a procedural recipe or a mesh file."""

    name: str
    category: str
    split: str
    seed: int  # all randomness of this shape (generator, sampling, camera angles) derives from it
    source: str = ""  # a mesh file path, or "" for a procedural shape
    up: str = "+y"
    front: str = "-z"


def build_shape(job: ShapeJob, views_per_shape: int = VIEWS_PER_SHAPE) -> dict:
    """Make every array the dataset stores for one shape (the unit of work of the builder)."""
    from . import geometry, point_sampling, rendering

    shape_rng, sample_rng, view_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(job.seed).spawn(3))
    if job.source:
        mesh = geometry.load_mesh(job.source)
        variant = ""
    else:
        from .shapes import make_shape

        shape = make_shape(job.category, shape_rng)
        mesh, variant = shape.mesh, shape.variant
    mesh = geometry.normalize_mesh(mesh, up=job.up, front=job.front)
    label, notes = job.source or job.name, []
    voxels = geometry.voxelize(mesh, VOXEL_RESOLUTION, name=label, report=notes.append)  # a mesh that needs more than parity says so here
    repaired = "; ".join(note.removeprefix(f"{label}: ") for note in notes)  # listed in the build's summary, under the shape's name
    if not voxels.any():
        raise geometry.MeshError(f"{job.source or job.name}: voxelises to an empty grid (too thin or open)")
    samples = point_sampling.sample_all_resolutions(voxels, sample_rng)
    view_angles = rendering.random_views(views_per_shape, view_rng)
    record = {
        "name": job.name,
        "category": job.category,
        "variant": variant,
        "voxels": voxels,
        "pixels": rendering.render_views(mesh, view_angles),
        "view_angles": view_angles,
        "sampling_stages": np.array([samples[r].stage for r in RESOLUTIONS]),
        "edge_counts": np.array([samples[r].edge_count for r in RESOLUTIONS]),
        "mesh_vertices": np.asarray(mesh.vertices, dtype=np.float32),
        "mesh_faces": np.asarray(mesh.faces, dtype=np.int32),
        "repaired": repaired,
    }
    for res in RESOLUTIONS:
        record[f"points_{res}"] = samples[res].points
        record[f"values_{res}"] = samples[res].values
    return record


# --------------------------------------------------------------------------------------------
# Planning a build
# --------------------------------------------------------------------------------------------


def procedural_jobs(profile: config.Profile, seed: int = 0, settings: config.DatasetSettings | None = None) -> list[ShapeJob]:
    """Every shape of a profile's procedural dataset: the same shape numbers in every category.

    ``settings`` replaces the profile's split sizes (e.g. more training shapes, same test shapes).
    """
    from .shapes import CATEGORIES

    numbers = (settings or profile.dataset).split_numbers()
    jobs = []
    for c, category in enumerate(CATEGORIES):
        for split in ("train", "test"):
            for i in numbers[split]:
                shape_seed = int(np.random.SeedSequence([seed, c, i]).generate_state(1)[0])
                jobs.append(ShapeJob(name=f"{category}_{i:04d}", category=category, split=split, seed=shape_seed))
    return jobs


def source_jobs(source: str | Path, seed: int = 0, test_fraction: float = 1 / 6, up: str = "+y", front: str = "-z") -> list[ShapeJob]:
    """Shapes from a folder of meshes in category sub-folders.

    ``<source>/<category>/**/<mesh>`` with mesh files ``.obj/.off/.stl/.ply``. ShapeNet's synset
    folder names are turned into category names. Where a path holds a ``train`` or ``test``
    folder (ModelNet's layout) that split is kept; otherwise every category is split about
    5:1 by a seeded shuffle.
    """
    from .geometry import MESH_SUFFIXES

    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: no such folder of meshes")
    jobs = []
    category_dirs = sorted(p for p in source.iterdir() if p.is_dir())
    if not category_dirs:
        raise DatasetError(f"{source}: expected one sub-folder per category, found none")
    for c, folder in enumerate(category_dirs):
        category = SHAPENET_SYNSETS.get(folder.name, folder.name)
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MESH_SUFFIXES and p.is_file())
        # ShapeNet keeps one model per folder (models/model_normalized.obj): name it by its folder.
        rng = np.random.default_rng([seed, c])
        order = rng.permutation(len(files))
        n_test = max(1, round(len(files) * test_fraction)) if len(files) > 1 else 0
        for rank, i in enumerate(order):
            path = files[i]
            parts = {p.lower() for p in path.relative_to(folder).parts[:-1]}
            split = "test" if "test" in parts else "train" if "train" in parts else ("test" if rank < n_test else "train")
            stem = (
                path.stem if path.stem not in ("model", "model_normalized") else path.parent.name if path.parent.name != "models" else path.parent.parent.name
            )
            jobs.append(ShapeJob(name=f"{category}_{stem}", category=category, split=split,
                                 seed=int(np.random.SeedSequence([seed, c, int(i)]).generate_state(1)[0]),
                                 source=str(path), up=up, front=front))  # fmt: skip
    return jobs


# --------------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------------


def _part_path(parts_dir: Path, name: str) -> Path:
    return parts_dir / f"{name}.npz"


def _build_and_store(job: ShapeJob, parts_dir: Path, views_per_shape: int) -> tuple[str, str, str]:
    """Worker: build one shape and save it as its own file; return (name, error or "", repair or "")."""
    from .provenance import atomic_path

    try:
        record = build_shape(job, views_per_shape)
    except Exception as exc:  # any failure of one shape is reported, never fatal for the build
        return job.name, f"{type(exc).__name__}: {exc}", ""
    encoded = encode_record(record)  # compressed here, in the worker, so that writing the split files is only copying
    index, blob = {"text": {k: str(encoded[k]) for k in ("name", "category", "variant", "repaired")}, "arrays": {}, "chunks": {}}, []
    offset = 0
    for key in ("mesh_vertices", "mesh_faces", "voxel_bits"):
        array = np.ascontiguousarray(encoded[key])
        index["arrays"][key] = [offset, array.nbytes, array.dtype.str, list(array.shape)]
        blob.append(array.tobytes())
        offset += array.nbytes
    for key, chunk in encoded["chunks"].items():
        index["chunks"][key] = [offset, len(chunk), list(encoded["layout"][key])]
        blob.append(chunk)
        offset += len(chunk)
    with atomic_path(_part_path(parts_dir, job.name)) as tmp:  # a part file exists only when complete
        # Two members (a table of contents and the bytes) rather than one per array: the parent reads thousands of these.
        np.savez(tmp, index=np.array(json.dumps(index)), blob=np.frombuffer(b"".join(blob), dtype=np.uint8))
    return job.name, "", record["repaired"]


def _load_part(path: Path) -> dict:
    """A shape saved by :func:`_build_and_store`: an encoded record (:func:`encode_record`)."""
    with np.load(path, allow_pickle=False) as z:
        stored = {k: z[k] for k in z.files}
    if "index" not in stored:  # a part of raw arrays (an older builder's): write_split encodes it itself
        for key in ("name", "category", "variant", "repaired"):
            if key in stored:
                stored[key] = str(stored[key])
        return stored
    index, blob = json.loads(str(stored["index"])), stored["blob"].tobytes()
    record = dict(index["text"])
    for key, (offset, size, dtype, shape) in index["arrays"].items():
        record[key] = np.frombuffer(blob, dtype=np.dtype(dtype), count=size // np.dtype(dtype).itemsize, offset=offset).reshape(shape)
    record["chunks"] = {key: blob[offset : offset + size] for key, (offset, size, _) in index["chunks"].items()}
    record["layout"] = {key: tuple(shape) for key, (_, _, shape) in index["chunks"].items()}
    return record


class _PartRecords:
    """The built shapes of a split, read from their part files one at a time when indexed."""

    def __init__(self, paths: list[Path]):
        self.paths = paths

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> dict:
        return _load_part(self.paths[i])


@dataclass
class BuildReport:
    folder: Path
    counts: dict  # split -> number of shapes written
    failed: dict  # shape name -> error message
    seconds: float
    built_now: int  # shapes built in this run (the rest came from an interrupted earlier run)
    repaired: dict = field(default_factory=dict)  # shape name -> what was repaired (kept in the dataset)

    def summary(self) -> str:
        lines = [f"dataset in {self.folder}: " + ", ".join(f"{k} {v}" for k, v in self.counts.items())
                 + f" ({self.built_now} shapes built in {self.seconds:.0f} s)"]  # fmt: skip
        if self.repaired:
            lines.append(f"{len(self.repaired)} shapes repaired (kept):")
            lines += [f"  {name}: {note}" for name, note in sorted(self.repaired.items())]
        if self.failed:
            lines.append(f"{len(self.failed)} shapes skipped:")
            lines += [f"  {name}: {error}" for name, error in sorted(self.failed.items())]
        return "\n".join(lines)


def builder_settings(profile: config.Profile, source: str | Path | None = None, seed: int = 0, shapes: int | None = None,
                     up: str = "+y", front: str = "-z") -> dict:  # fmt: skip
    """The settings a dataset is built with, stored in its split files (``builder``) and in every model's manifest.

    Two builds with the same settings hold the same data; a change of them (or of a generator's
    version) makes :func:`build_dataset` rebuild, and a shipped model trained on other settings
    is reported by :func:`tutorial_lib.shipping.stale_reasons`. ``shapes`` defaults to the
    profile's procedural shape count.
    """
    if shapes is None:
        from .shapes import CATEGORIES

        shapes = len(CATEGORIES) * profile.dataset.shapes_per_category
    versions = dict(GENERATOR_VERSIONS) | ({"voxelise": SOURCE_VOXELISER_VERSION} if source else {})
    return {"profile": profile.name, "source": str(source) if source else "procedural", "seed": seed,
            "shapes": shapes, "views_per_shape": profile.dataset.views_per_shape, "up": up, "front": front,
            "resolution": VOXEL_RESOLUTION, "padding": config.VOXEL_PADDING,
            "point_budgets": {str(k): v for k, v in POINT_BUDGETS.items()}, "image_size": IMAGE_SIZE,
            "image_padding": config.IMAGE_PADDING, "edge_window": 7, "versions": versions}  # fmt: skip


def build_dataset(
    profile: config.Profile,
    out: str | Path | None = None,
    source: str | Path | None = None,
    workers: int | None = None,
    seed: int = 0,
    up: str = "+y",
    front: str = "-z",
    progress: bool = True,
    jobs: list[ShapeJob] | None = None,
) -> BuildReport:
    """Build (or finish building) a dataset folder with ``train.hdf5`` and ``test.hdf5``.

    Each shape is built by a worker process and saved on its own under ``<out>/parts/`` as
    soon as it is done; the split files are assembled when all are there. Interrupt it at any
    time and run it again: finished shapes are kept. Everything derives from ``seed``, so
    two builds give the same data. Shapes that fail (unreadable or empty meshes from
    ``source``) are skipped and listed in the report. ``jobs`` replaces the planned list of
    shapes (e.g. a subset, for benchmarks).
    """
    start = time.time()
    if source is not None:
        jobs = jobs if jobs is not None else source_jobs(source, seed=seed, up=up, front=front)
        folder = Path(out) if out else config.data_root() / Path(source).name
    else:
        jobs = jobs if jobs is not None else procedural_jobs(profile, seed)
        folder = Path(out) if out else dataset_dir(profile)
    builder = builder_settings(profile, source, seed, len(jobs), up, front)
    with safety.writer_lock(folder, "data build"):  # a second build of the folder waits, then finds it done
        return _build_in(folder, builder, jobs, profile.dataset.views_per_shape, seed, workers, progress, start)


def _build_in(folder: Path, builder: dict, jobs: list[ShapeJob], views_per_shape: int, seed: int, workers: int | None,
              progress: bool, start: float) -> BuildReport:  # fmt: skip
    """:func:`build_dataset`'s work in ``folder``, which the caller holds the writer's lock of."""
    from tqdm.auto import tqdm

    if is_complete(folder, builder):
        return BuildReport(folder, {s: read_attrs(split_path(folder, s))["shapes_in_split"] for s in SPLITS}, {}, 0.0, 0)
    if is_complete(folder):
        print(f"{folder}: made with other build settings or by older generator code; rebuilding it", flush=True)

    parts_dir = folder / "parts"
    stamp = folder / "parts_builder.json"
    if parts_dir.exists() and safety.read_json(stamp, what="build settings file") != builder:
        # Parts of an interrupted build with other settings (or older code) must not be mixed in.
        for old in parts_dir.glob("*.npz"):
            old.unlink()
        for name in ("failures.json", "repaired.json"):
            (folder / name).unlink(missing_ok=True)
    parts_dir.mkdir(parents=True, exist_ok=True)
    safety.write_json(stamp, builder)
    failures_file, repaired_file = folder / "failures.json", folder / "repaired.json"
    failed = safety.read_json(failures_file, {}, what="list of failed shapes")
    repaired = safety.read_json(repaired_file, {}, what="list of repaired shapes")
    todo = [j for j in jobs if not _part_path(parts_dir, j.name).exists() and j.name not in failed]
    workers = workers or config.default_workers()
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc=f"building {folder.name}", unit="shape", disable=not progress, mininterval=1.0)
    if todo:
        pool = None
        try:  # from the pool's start: a signal while the jobs are handed out also closes the bar first
            if workers == 1:
                results = (_build_and_store(job, parts_dir, views_per_shape) for job in todo)
            else:
                from . import _raster, provenance  # noqa: F401  (imported here once, inherited by the workers on fork)

                _raster.warm_up()  # compile or load the kernels once, here, before the workers start (they inherit them)
                pool = ProcessPoolExecutor(max_workers=workers, initializer=safety.worker_setup)
                futures = [pool.submit(_build_and_store, job, parts_dir, views_per_shape) for job in todo]
                results = (future.result() for future in as_completed(futures))
            for name, error, repair in results:
                if error:
                    failed[name] = error
                    safety.write_json(failures_file, failed, indent=1)
                if repair:
                    repaired[name] = repair
                    safety.write_json(repaired_file, repaired, indent=1)
                bar.update()
        finally:
            bar.close()  # before any error is printed: the error's line is not glued to the bar
            if pool is not None:
                safety.close_pool(pool)
    bar.close()

    counts = {}
    for split in SPLITS:
        split_jobs = [j for j in jobs if j.split == split and j.name not in failed]
        records = _PartRecords([_part_path(parts_dir, j.name) for j in split_jobs])
        if not len(records):
            first = next(iter(failed.items()), None)
            hint = (f"{len(failed)} meshes failed, listed in {failures_file} (first: {first[0]}: {first[1]})" if failed
                    else "a category needs at least 2 meshes to give one to the test split")  # fmt: skip
            raise DatasetError(f"{folder}: no shape for the {split} split; {hint}")
        write_split(split_path(folder, split), records, {**{"builder": builder}, "seed": seed, "shapes_in_split": len(records)})
        counts[split] = len(records)
    for job in jobs:  # the split files now hold everything: the parts are no longer needed
        _part_path(parts_dir, job.name).unlink(missing_ok=True)
    shutil.rmtree(parts_dir, ignore_errors=True)  # also the temporary file of a write that a kill -9 cut short
    stamp.unlink(missing_ok=True)
    if failed:
        safety.write_json(failures_file, failed, indent=1)
    return BuildReport(folder, counts, failed, time.time() - start, len(todo), repaired)


def is_complete(folder: str | Path, builder: dict | None = None) -> bool:
    """True when both split files exist (and, if given, were made with these build settings).

    Files written before the builder recorded ``versions`` were made by version 1 of every
    generator, and are compared as such.
    """
    for split in SPLITS:
        path = split_path(folder, split)
        if not path.is_file():
            return False
        if builder is not None:
            try:
                stored = read_attrs(path).get("builder")
                if isinstance(stored, dict):
                    stored = {"versions": dict.fromkeys(GENERATOR_VERSIONS, 1), **stored}
                if stored != builder:
                    return False
            except (DatasetError, OSError, json.JSONDecodeError):
                return False
    return True


def ensure_dataset(profile: config.Profile, progress: bool = True) -> Path:
    """The folder of a profile's procedural dataset, built on first use (build times: BENCHMARKS.md)."""
    report = build_dataset(profile, progress=progress)
    if report.built_now:
        print(report.summary())
    return report.folder


# --------------------------------------------------------------------------------------------
# Torch datasets
# --------------------------------------------------------------------------------------------


def _torch():
    import torch

    return torch


class PointValueDataset:
    """(voxels, points, values) per shape, for the 3D autoencoder.

    ``voxels`` float32 [1, 64, 64, 64]; ``points`` float32 [P, 3]; ``values`` float32 [P, 1]
    at the current ``resolution`` (16, 32 or 64: set the attribute to move between the
    stages of progressive training). All arrays are held in memory (the quick training split:
    about 550 MB). ``points_per_shape`` takes a random subset of the edge-sampled points each time a
    shape is read (from torch's global generator, which the training loop seeds per step).

    ``thin_share`` (with ``points_per_shape``) draws that share of each subset from the points
    near the shape's thin parts, the rest from all points. The edge sample puts points near the
    surface in proportion to its area, so a chair's four legs get a few hundred of 32,768 points
    and a random subset of 2,048 a few dozen: the loss barely notices when the decoder drops
    them. "Near a thin part" is :func:`tutorial_lib.metrics.thin_voxels` of the 64³ voxels,
    grown by one voxel so that the points just outside a leg count too; shapes without thin
    parts draw uniformly. The thin masks take about a minute for the quick training split the
    first time, and are then read from a cache keyed by the arrays' content (:func:`cached_near_thin_points`).
    """

    def __init__(self, path: str | Path, resolution: int = 64, points_per_shape: int | None = None, resolutions: tuple[int, ...] = RESOLUTIONS,
                 thin_share: float = 0.0):  # fmt: skip
        if resolution not in resolutions:
            raise ValueError(f"resolution must be one of {resolutions}, got {resolution}")
        keys = ("voxels",) + tuple(f"{kind}_{r}" for r in resolutions for kind in ("points", "values"))
        arrays = read_split(path, keys)
        torch = _torch()
        self.path = Path(path)
        self.names = arrays["names"]
        self.categories = arrays["categories"]
        self.voxels = torch.from_numpy(arrays["voxels"][..., 0])  # uint8, made float per item
        self.points = {r: torch.from_numpy(arrays[f"points_{r}"]) for r in resolutions}
        self.values = {r: torch.from_numpy(arrays[f"values_{r}"]) for r in resolutions}
        self.resolution = resolution
        self.points_per_shape = points_per_shape
        if not 0.0 <= thin_share < 1.0:
            raise ValueError(f"thin_share must be in [0, 1), got {thin_share}")
        self.thin_share = thin_share
        self.near_thin = None
        if thin_share:
            near = cached_near_thin_points(arrays["voxels"][..., 0], [arrays[f"points_{r}"] for r in resolutions])
            self.near_thin = dict(zip(resolutions, near))

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int):
        torch = _torch()
        points, values = self.points[self.resolution][index], self.values[self.resolution][index]
        if self.points_per_shape and self.points_per_shape < len(points):
            pick = torch.randperm(len(points))[: self.points_per_shape]
            if self.near_thin is not None:
                near = self.near_thin[self.resolution][index]
                n_thin = min(round(self.thin_share * self.points_per_shape), len(near))
                pick[:n_thin] = near[torch.randperm(len(near))[:n_thin]]
            points, values = points[pick], values[pick]
        return self.voxels[index][None].float(), points, values.float()

    def nbytes(self) -> int:
        """Bytes held by the voxels, points and values of every shape."""
        return sum(t.numel() * t.element_size() for t in [self.voxels, *self.points.values(), *self.values.values()])

    def to(self, device) -> PointValueDataset:
        """Hold every array on ``device`` (a GPU: batches are then gathered there, with no copies
        from the CPU per step). Items are drawn with the same random numbers as on the CPU."""
        self.voxels = self.voxels.to(device)
        self.points = {r: t.to(device) for r, t in self.points.items()}
        self.values = {r: t.to(device) for r, t in self.values.items()}
        return self


class ImageDataset:
    """(image, shape index) pairs: one rendering of a shape, for classifiers and the image encoder.

    ``image`` is float32 [1, 137, 137] in [0, 1] (white = 1), or whatever ``transform`` makes of
    it. With ``views="all"`` every (shape, view) pair is an item; with an integer, only that view.
    """

    def __init__(self, path: str | Path, views="all", transform=None):
        torch = _torch()
        self.path = Path(path)
        with open_split(path) as f:
            self.names = _decode(f["names"][()]) if "names" in f else [f"shape_{i:05d}" for i in range(f["pixels"].shape[0])]
            self.categories = _decode(f["categories"][()]) if "categories" in f else ["unknown"] * len(self.names)
            self.pixels = torch.from_numpy(f["pixels"][()])
        n_shapes, n_views = self.pixels.shape[:2]
        self.view_ids = list(range(n_views)) if views == "all" else [int(views)]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.names) * len(self.view_ids)

    def __getitem__(self, index: int):
        shape, view = divmod(index, len(self.view_ids))
        image = self.pixels[shape, self.view_ids[view]][None].float() / 255.0
        if self.transform is not None:
            image = self.transform(image)
        return image, shape


def near_thin_points(voxels: np.ndarray, point_sets: list[np.ndarray]) -> list[list]:
    """For each array of points in ``point_sets`` and each shape, the indices (a torch tensor) of
    the shape's points that lie in or next to a thin part.

    ``voxels`` [N, 64, 64, 64]; each of ``point_sets`` [N, P, 3] in world coordinates (one per
    resolution of the edge sample). A point is near a thin part when its 64³ cell is a thin
    voxel (:func:`tutorial_lib.metrics.thin_voxels`) or touches one (the mask grown by one
    voxel in the 26-neighbourhood).
    """
    from scipy import ndimage

    from . import metrics

    torch = _torch()
    resolution = voxels.shape[1]
    result = [[] for _ in point_sets]
    for i, grid in enumerate(voxels):
        near = ndimage.binary_dilation(metrics.thin_voxels(grid), np.ones((3, 3, 3), dtype=bool))
        for found, points in zip(result, point_sets):
            cells = np.clip(np.floor((points[i].astype(np.float64) + 0.5) * resolution).astype(np.int64), 0, resolution - 1)
            found.append(torch.from_numpy(np.flatnonzero(near[cells[:, 0], cells[:, 1], cells[:, 2]])))
    return result


#: Bump when what "near a thin part" means changes: cached answers of the old meaning are then not read.
NEAR_THIN_VERSION = 1


def cached_near_thin_points(voxels: np.ndarray, point_sets: list[np.ndarray]) -> list[list]:
    """:func:`near_thin_points`, computed once per content: the answer is kept under ``<data root>/cache/``
    in a file named by a hash of the voxels, the points and the definition (never by a file or profile
    name), so a notebook and its worked solution, or two training runs on the same split, compute it once."""
    import hashlib

    from .metrics.voxel import THIN_THICKNESS
    from .provenance import atomic_path

    torch = _torch()
    digest = hashlib.blake2b(f"near-thin v{NEAR_THIN_VERSION} thickness {THIN_THICKNESS}".encode(), digest_size=16)
    digest.update(np.packbits(np.asarray(voxels) > 0).tobytes())
    for points in point_sets:
        digest.update(np.ascontiguousarray(points, dtype=np.float32).tobytes())
    path = config.data_root() / "cache" / f"near_thin_{digest.hexdigest()}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as f:
                return [[torch.from_numpy(part) for part in np.split(f[f"indices_{k}"], f[f"splits_{k}"])] for k in range(len(point_sets))]
        except Exception:  # a damaged cache file is only a lost shortcut: compute again and replace it
            pass
    result = near_thin_points(voxels, point_sets)
    arrays = {}
    for k, per_shape in enumerate(result):
        lengths = np.array([len(t) for t in per_shape], dtype=np.int64)
        arrays[f"indices_{k}"] = np.concatenate([t.numpy() for t in per_shape]) if per_shape else np.zeros(0, np.int64)
        arrays[f"splits_{k}"] = np.cumsum(lengths)[:-1]
    try:
        with atomic_path(path) as tmp:
            np.savez(tmp, **arrays)
    except OSError:  # a read-only or full data root: the answer is still right, only not kept
        pass
    return result


__all__ = [
    "BuildReport", "DatasetError", "ImageDataset", "PointValueDataset", "ShapeJob", "SHAPENET_SYNSETS",
    "build_dataset", "build_shape", "builder_settings", "cached_near_thin_points", "dataset_dir", "ensure_dataset", "fingerprint",
    "is_complete", "open_split", "procedural_jobs", "read_attrs", "read_mesh", "read_pixels", "read_split",
    "source_jobs", "split_path", "write_split",
]  # fmt: skip
