"""3D search: find shapes by a picture, by a mesh, or by a sketch (the talk's closing demo).

A search engine needs three things, and the talk has given us each:

* a **representation** of every shape: its z (the voxel encoder's 128 numbers), and its light
  field descriptor (Chen et al. 2003: 100 silhouettes, each summarised by 35 Zernike and 10
  contour Fourier magnitudes);
* a **distance**: Euclidean between z's; the LFD distance between descriptors
  (:func:`tutorial_lib.metrics.lfd_distance_matrix`); for one silhouette against a shape, the
  smallest weighted L1 distance to any of the shape's 100 silhouettes (the 2003 paper's use);
* an **index**: :class:`ShapeIndex`, those arrays for every shape of a dataset, built once
  (:func:`build_index`, with a progress bar), saved next to the data
  (``<data root>/<profile>/search_index.npz``) with the fingerprints of the dataset and of the
  models it was built with, and refused when they no longer match (:class:`StaleIndexError`).

Queries (each returns the ``k`` nearest shapes as :class:`Match` rows, nearest first, ties
broken by name so that the order of the index does not matter):

* :meth:`ShapeIndex.by_picture` – a PNG/JPG (framed like the renderings by
  :func:`tutorial_lib.svr.load_image`) or a grey array → the image encoder → z → nearest z;
* :meth:`ShapeIndex.by_drawing` – a line drawing (file or array) → read by
  :func:`tutorial_lib.sketches.drawing_input` → the sketch encoder → z → nearest z;
* :meth:`ShapeIndex.by_mesh` – a mesh file or ``trimesh.Trimesh`` in its own axes → voxels,
  turned by the best of 24 quarter turns unless its axes are given → the voxel encoder →
  nearest z (``by="z"``), or → its LFD → nearest LFD (``by="lfd"``);
* :meth:`ShapeIndex.by_sketch` – a silhouette or a closed line drawing (file or array) → one
  Zernike + Fourier descriptor → nearest silhouette of each shape (the 2003 paper's sketch search).

:func:`search_file` (the CLI) tells a drawing from a picture by
:func:`tutorial_lib.sketches.looks_like_drawing` unless told.

The neighbours are exact (every row is compared): at a few thousand shapes that takes
milliseconds for z. An approximate index (FAISS, annoy, HNSW) trades exactness for speed
and pays off from roughly a million rows of z, or when a query must compare against many
more silhouettes than here; see BENCHMARKS.md for the measured cost of the exact search.
:func:`retrieval_scores` measures the search as a retrieval system (precision@k, average
precision, nDCG); the CLI is ``python -m tutorial_lib search``.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import trimesh

from . import config, data, metrics, provenance, safety

#: Bumped whenever the file's content or a descriptor's definition changes: older files are refused.
FORMAT_VERSION = 2  # 2: light field descriptors summed in float64 by the compiled kernels (the same bits on every machine)
INDEX_FILE = "search_index.npz"
THUMBNAIL_SIZE = 64
#: A framed silhouette (:func:`frame_silhouettes`) reaches this fraction of the image's half-width.
SILHOUETTE_REACH = 0.9
#: A sketch pixel darker than this (white = 1) is ink.
INK_THRESHOLD = 0.95
METHODS = ("z", "lfd")
#: A quarter turn of a query mesh is chosen only when it brings the mesh this much (a fraction) nearer to a stored shape.
TURN_MARGIN = 0.02


class StaleIndexError(ValueError):
    """An index file that does not belong to the present dataset and models (or is no index at all)."""


@dataclass(frozen=True)
class Match:
    """One search result: the ``rank``-th nearest shape (1 = nearest)."""

    rank: int
    name: str
    category: str
    split: str
    distance: float
    row: int  # the shape's row in the index searched


@dataclass(frozen=True)
class Orientation:
    """How a query mesh was turned before it was encoded: the file's ``up`` and ``front`` axes (the
    words of ``data build --up/--front``), given or chosen among the 24 quarter-turn orientations
    as the one whose z lies nearest to a shape of the index (:meth:`ShapeIndex.oriented_mesh_z`)."""

    up: str
    front: str
    chosen: bool
    distance: float | None = None  # z distance to the nearest shape, turned so
    as_is_distance: float | None = None  # ... and as the file is

    def __str__(self) -> str:
        words = f"--up {self.up} --front {self.front}"
        if not self.chosen:
            return f"orientation: {words} (given)"
        return (f"orientation: {words}, chosen of 24 quarter turns (nearest shape at z distance {self.distance:.2f}; "
                f"{self.as_is_distance:.2f} as the file is); give --up and --front to choose yourself")  # fmt: skip


class Matches(list):
    """The rows of a search, nearest first (a list of :class:`Match`), and how the query was read:
    the query mesh's :class:`Orientation` when there was one, and a picture's ``read_as``
    (``"sketch"`` or ``"picture"``; ``guessed`` when the automatic guess chose it)."""

    orientation: Orientation | None = None
    read_as: str | None = None
    guessed: bool = False

    def reading(self) -> str | None:
        """One line on how the query was read, for the command line (None: nothing to say)."""
        if self.orientation is not None:
            return str(self.orientation)
        if self.read_as is None:
            return None
        other = "picture" if self.read_as == "sketch" else "sketch"
        what = "a line drawing, by the sketch encoder" if self.read_as == "sketch" else "a picture, by the image encoder"
        return f"read as {what}" + (f" (guessed; --as {other} to read it as a {other})" if self.guessed else "")


def format_matches(matches: list[Match]) -> str:
    """Ranked results as an aligned text table."""
    lines = [f"{'rank':>4}  {'name':20s} {'category':12s} {'split':6s} {'distance':>10s}"]
    lines += [f"{m.rank:>4}  {m.name:20s} {m.category:12s} {m.split:6s} {m.distance:10.4f}" for m in matches]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Silhouettes → descriptors
# --------------------------------------------------------------------------------------------


def frame_silhouettes(masks: np.ndarray, size: int = metrics.LFD_RESOLUTION, reach: float = SILHOUETTE_REACH) -> np.ndarray:
    """Binary images ``[B, H, W]`` → ``[B, size, size]``, each centred on its area centroid and
    scaled so that its farthest pixel lies at ``reach`` of the half-width.

    Zernike magnitudes change with where the object sits and how big it is; a sketch has no 3D
    scale to normalise, so both the sketch and the index's silhouettes are framed this way
    before their descriptors are compared. An empty image stays empty.
    """
    from . import _raster

    masks = np.ascontiguousarray(masks, dtype=bool)
    if masks.ndim != 3:
        raise ValueError(f"frame_silhouettes takes binary images [B, H, W], got shape {masks.shape}")
    # A compiled kernel: the centroid and reach of each image, then bilinear resampling as
    # torch.nn.functional.grid_sample (align_corners=False, zeros outside) and a threshold at 0.5.
    return _raster._frame(masks, int(size), float(reach))


def silhouette_descriptors(masks: np.ndarray, contour: np.ndarray | None = None) -> np.ndarray:
    """Zernike magnitudes of the framed (:func:`frame_silhouettes`) binary images ``[B, H, W]``
    and their contour Fourier magnitudes: ``[B, 45]``, laid out as a light field descriptor's views.

    The contour part does not depend on the framing (it is a ratio of Fourier magnitudes of
    the distances to the centroid), so a caller that has it already passes it as ``contour``.
    """
    framed = frame_silhouettes(masks)
    contour = metrics.contour_fourier(framed) if contour is None else contour
    return np.concatenate([metrics.zernike_magnitudes(framed), contour], axis=-1).astype(np.float32)


def _grey(image) -> np.ndarray:
    """A grey float image in [0, 1] (white = 1) from a path, a uint8/float/bool array."""
    if isinstance(image, (str, Path)):
        from . import images

        return images.read_grey(image)  # EXIF, 16-bit, animations, giant pictures, a light-grey background: images.read_image
    array = np.asarray(image)
    if array.dtype == bool:
        return np.where(array, 0.0, 1.0).astype(np.float32)  # True = ink
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    return array.astype(np.float32)


def _image_error(message: str):
    from .images import ImageError

    return ImageError(message)


def sketch_mask(image, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """The silhouette a sketch stands for: ink pixels, small gaps closed, enclosed space filled.

    ``image``: a file, a grey array (white background) or a boolean array (True = ink). A
    filled silhouette stays as it is; a closed outline drawing becomes the region it encloses.
    """
    from scipy import ndimage

    grey = _grey(image)
    if grey.ndim != 2:
        raise ValueError(f"a sketch is one grey image [H, W], got shape {grey.shape}")
    ink = grey < threshold
    if not ink.any():
        name = f"{image}: " if isinstance(image, (str, Path)) else ""
        raise _image_error(f"{name}the sketch holds no ink: every pixel is (near) white")
    closed = ndimage.binary_closing(np.pad(ink, 3), iterations=2)[3:-3, 3:-3] | ink
    return ndimage.binary_fill_holes(closed)


# --------------------------------------------------------------------------------------------
# Fingerprints: what an index was built from
# --------------------------------------------------------------------------------------------


def file_fingerprint(path: str | Path) -> str:
    """16 hex digits of the SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def profile_fingerprints(profile: config.Profile) -> dict:
    """What an index of a profile's dataset must have been built from: the dataset splits'
    fingerprints, the shipped autoencoder (weights file and the fingerprint of its training z)
    and the shipped image encoder's weights file."""
    from . import autoencoder, shipping

    folder = data.dataset_dir(profile)
    ae_files, image_files = shipping.paths("autoencoder", profile), shipping.paths("image_encoder", profile)
    for path in (ae_files.weights, ae_files.extra["z"], image_files.weights):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing; the search index needs the shipped models (see README, Shipped checkpoints)")
    return {
        "format_version": FORMAT_VERSION,
        "profile": profile.name,
        "dataset": {s: data.read_attrs(data.split_path(folder, s)).get("fingerprint") for s in data.SPLITS},
        "autoencoder": file_fingerprint(ae_files.weights),
        "autoencoder_z": provenance.array_fingerprint(autoencoder.load_shipped_z(profile)["train_z"]),
        "image_encoder": file_fingerprint(image_files.weights),
        "lfd": _descriptor_settings(),
    }


def _descriptor_settings() -> dict:
    return {"resolution": metrics.LFD_RESOLUTION, "reach": SILHOUETTE_REACH, "thumbnail": THUMBNAIL_SIZE}


def check_fingerprints(path: str | Path, found: dict, expected: dict) -> None:
    """Raise :class:`StaleIndexError`, naming ``path`` and the first difference, unless every expected entry matches."""
    for key, wanted in expected.items():
        if found.get(key) != wanted:
            raise StaleIndexError(
                f"{path}: a stale search index: its {key} is {found.get(key)!r}, the present one {wanted!r}; "
                f"rebuild it with `python -m tutorial_lib search --build-index`"
            )


# --------------------------------------------------------------------------------------------
# The index
# --------------------------------------------------------------------------------------------


class ShapeIndex:
    """Per shape: name, category, split, z ``[N, 128]``, light field descriptor ``[N, 10, 10, 45]``,
    framed silhouette descriptors ``[N, 100, 45]`` and a thumbnail ``[N, 64, 64]`` (uint8).

    ``meta`` holds the format version and the fingerprints of what it was built from. Models
    used by the queries are loaded on first use (the shipped ones of ``profile``, which
    :func:`load_index` sets) unless given as ``autoencoder_model`` / ``image_model``.
    """

    ARRAYS = ("names", "categories", "splits", "z", "lfd", "views", "thumbnails")

    def __init__(self, names, categories, splits, z, lfd, views, thumbnails, meta: dict | None = None):
        self.names = np.asarray(names, dtype=str)
        self.categories = np.asarray(categories, dtype=str)
        self.splits = np.asarray(splits, dtype=str)
        self.z = np.asarray(z, dtype=np.float32)
        self.lfd = np.asarray(lfd, dtype=np.float32)
        self.views = np.asarray(views, dtype=np.float32)
        self.thumbnails = np.asarray(thumbnails, dtype=np.uint8)
        self.meta = dict(meta or {})
        self.profile: config.Profile | None = None
        self.autoencoder_model = None
        self.image_model = None
        self.sketch_model = None
        n = len(self.names)
        for key in self.ARRAYS:
            if len(getattr(self, key)) != n:
                raise ValueError(f"index arrays disagree: {n} names but {len(getattr(self, key))} rows of {key}")

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s} {int((self.splits == s).sum())}" for s in sorted(set(self.splits.tolist())))
        return f"ShapeIndex({len(self)} shapes: {counts})"

    # ---- rows ----------------------------------------------------------------------------

    def take(self, rows) -> ShapeIndex:
        """A new index of the rows ``rows`` (in that order), with the same meta and models."""
        rows = np.asarray(rows)
        out = ShapeIndex(*(getattr(self, k)[rows] for k in self.ARRAYS), meta=self.meta)
        out.profile, out.autoencoder_model, out.image_model = self.profile, self.autoencoder_model, self.image_model
        return out

    def split(self, name: str) -> ShapeIndex:
        """The rows of one split (``"train"`` or ``"test"``)."""
        return self.take(np.flatnonzero(self.splits == name))

    def row(self, name: str) -> int:
        found = np.flatnonzero(self.names == name)
        if len(found) == 0:
            raise KeyError(f"no shape named {name!r} in the index")
        return int(found[0])

    # ---- files ---------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the index to one ``.npz`` file, atomically."""
        with provenance.atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, meta=np.array(json.dumps(self.meta)), **{k: getattr(self, k) for k in self.ARRAYS})
        return Path(path)

    @classmethod
    def load(cls, path: str | Path, expected: dict | None = None) -> ShapeIndex:
        """Read an index; with ``expected`` fingerprints, a stale one raises :class:`StaleIndexError`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no search index here (build one with `python -m tutorial_lib search --build-index`)")
        try:
            with np.load(path, allow_pickle=False) as f:
                meta = json.loads(str(f["meta"]))
                arrays = {k: f[k] for k in cls.ARRAYS}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:  # cut short, or not an index at all
            raise StaleIndexError(f"{path}: not a search index ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
        if meta.get("format_version") != FORMAT_VERSION:
            raise StaleIndexError(
                f"{path}: a search index of format {meta.get('format_version')!r}, this library reads {FORMAT_VERSION}; rebuild it with `python -m tutorial_lib search --build-index`"
            )
        if expected is not None:
            check_fingerprints(path, meta, expected)
        return cls(**arrays, meta=meta)

    # ---- models ---------------------------------------------------------------------------

    def _shipped(self, kind: str):
        from . import shipping

        if self.profile is None:
            raise ValueError(f"this index knows no profile to load the shipped {kind} from: set index.profile, or give the model")
        return shipping.load(kind, self.profile)

    def load_autoencoder(self):
        """The autoencoder whose voxel encoder makes a mesh query's z (the profile's shipped one unless set)."""
        if self.autoencoder_model is None:
            self.autoencoder_model = self._shipped("autoencoder")
        return self.autoencoder_model

    def load_image_encoder(self):
        """The image encoder that makes a picture query's z (the profile's shipped one unless set)."""
        if self.image_model is None:
            self.image_model = self._shipped("image_encoder")
        return self.image_model

    def load_sketch_encoder(self):
        """The sketch encoder that makes a drawing query's z (the profile's shipped one unless set)."""
        if self.sketch_model is None:
            self.sketch_model = self._shipped("sketch_encoder")
        return self.sketch_model

    # ---- distances (queries × rows) ------------------------------------------------------

    def z_distances(self, queries) -> np.ndarray:
        """Euclidean distances ``[Q, N]`` from query z's ``[Q, 128]`` to every row's z."""
        q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        # Explicit differences, not |a|² + |b|² - 2ab: a shape's own z is at distance exactly 0.
        return np.stack([np.sqrt(((self.z - row) ** 2).sum(axis=1)) for row in q])

    def lfd_distances(self, descriptors) -> np.ndarray:
        """LFD distances ``[Q, N]`` from light field descriptors to every row's."""
        return metrics.lfd_distance_matrix(descriptors, self.lfd)

    def view_distances(self, descriptors) -> np.ndarray:
        """``[Q, N]``: from each framed silhouette descriptor ``[Q, 45]`` to the nearest of each
        row's 100 silhouettes, in the LFD's weighted L1 distance."""
        from scipy.spatial.distance import cdist

        weights = metrics.coefficient_weights()
        q = np.atleast_2d(np.asarray(descriptors, dtype=np.float32)) * weights
        # The weighted silhouettes are kept between queries (recomputed if ``views`` is replaced).
        if getattr(self, "_weighted_views", (None,))[0] is not self.views:
            self._weighted_views = (self.views, (self.views * weights).reshape(-1, self.views.shape[-1]))
        return cdist(q, self._weighted_views[1], "cityblock").reshape(len(q), len(self), -1).min(axis=2)

    def ranking(self, distances: np.ndarray, split: str | None = None) -> np.ndarray:
        """Rows ordered by one query's ``distances`` (ties by name), only those of ``split`` if given."""
        order = np.lexsort((self.names, distances))
        return order if split is None else order[self.splits[order] == split]

    def matches(self, distances: np.ndarray, k: int = 5, split: str | None = None) -> Matches:
        rows = self.ranking(distances, split)[:k]
        return Matches(Match(i + 1, str(self.names[r]), str(self.categories[r]), str(self.splits[r]), float(distances[r]), int(r)) for i, r in enumerate(rows))

    # ---- queries --------------------------------------------------------------------------

    def picture_z(self, image) -> np.ndarray:
        """z of a picture: a file (framed like the renderings) or a grey ``[137, 137]`` array in [0, 1] (or uint8)."""
        from . import images, svr

        model = self.load_image_encoder()
        if isinstance(image, (str, Path)):
            image = images.load_image(image, object_size=getattr(model, "object_size", None), profile=self.profile)
        return svr.predict_z(model, _grey(image)[None])[0].numpy()

    def mesh_voxels(self, mesh) -> np.ndarray:
        """A mesh (file or trimesh) normalised as it is (no turn) and voxelised at 64³."""
        from . import geometry

        mesh, name = _mesh(mesh)
        return geometry.voxelize(geometry.normalize_mesh(mesh), config.VOXEL_RESOLUTION, name=name)  # an open mesh is said in one line on stderr

    def mesh_z(self, mesh, up: str = "+y", front: str = "-z") -> np.ndarray:
        """z of a mesh (file or trimesh) whose up and front axes are ``up`` and ``front``: turned
        to the dataset's conventions, normalised, voxelised at 64³, encoded."""
        from . import autoencoder, geometry

        voxels = geometry.rotate_voxels(self.mesh_voxels(mesh), up, front)
        return autoencoder.encode(self.load_autoencoder(), voxels[None]).numpy()[0]

    def oriented_mesh_z(self, mesh, up: str | None = None, front: str | None = None, split: str | None = None) -> tuple[np.ndarray, Orientation]:
        """z of a mesh file in its own axes, and how it was turned.

        With ``up`` (and ``front``, by default :func:`tutorial_lib.geometry.default_front`) the
        mesh is turned as told. Without either, it is voxelised once and the grid is turned to
        each of the 24 quarter-turn orientations (:func:`tutorial_lib.geometry.rotate_voxels`),
        all 24 are encoded in one batch, and the orientation whose z lies nearest to a shape of
        the index (of ``split`` if given) wins: a chair on its back encodes to a z that no
        upright shape has, because the encoder has only ever seen shapes upright. A turn must
        bring the mesh :data:`TURN_MARGIN` nearer than the file's own axes do, else those stay.
        """
        from . import autoencoder, geometry

        if up is not None or front is not None:
            up = up or "+y"
            front = front or geometry.default_front(up)
            return self.mesh_z(mesh, up, front), Orientation(up, front, chosen=False)
        voxels = self.mesh_voxels(mesh)
        turns = geometry.axis_aligned_orientations()
        grids = np.stack([geometry.rotate_voxels(voxels, u, f) for u, f in turns])
        z = autoencoder.encode(self.load_autoencoder(), grids, batch=len(grids)).numpy()
        rows = slice(None) if split is None else self.splits == split
        nearest = self.z_distances(z)[:, rows].min(axis=1)
        best = int(np.argmin(nearest))
        if nearest[best] > (1 - TURN_MARGIN) * nearest[0]:
            best = 0  # no turn clearly better: the file's own axes (a symmetric shape looks alike under several)
        return z[best], Orientation(*turns[best], chosen=True, distance=float(nearest[best]), as_is_distance=float(nearest[0]))

    def by_picture(self, image, k: int = 5, split: str | None = None) -> list[Match]:
        """The ``k`` shapes whose z is nearest to the z the image encoder reads from a picture."""
        return self.matches(self.z_distances(self.picture_z(image))[0], k, split)

    def drawing_z(self, image) -> np.ndarray:
        """z of a line drawing (file or array): read by :func:`tutorial_lib.sketches.drawing_input`, then the sketch encoder."""
        from . import sketches

        return sketches.predict_drawing_z(self.load_sketch_encoder(), [image])[0].numpy()

    def by_drawing(self, image, k: int = 5, split: str | None = None) -> Matches:
        """The ``k`` shapes whose z is nearest to the z the sketch encoder reads from a line drawing."""
        return self.matches(self.z_distances(self.drawing_z(image))[0], k, split)

    def by_mesh(self, mesh, k: int = 5, by: str = "z", split: str | None = None, up: str | None = None, front: str | None = None) -> Matches:
        """The ``k`` shapes nearest to a mesh (file or trimesh): by its z (``by="z"``) or its light field descriptor (``"lfd"``).

        The mesh's own axes: ``up`` and ``front`` as in ``data build`` (``+z`` for ModelNet). By z
        without them, the best of the 24 quarter turns is chosen (:meth:`oriented_mesh_z`); by LFD
        the file is searched as it is, since the LFD distance already takes the best of 60
        rotations of each of 10 light fields. Either way ``.orientation`` of the result says how
        the mesh was turned (``None``: as it is).
        """
        if by == "z":
            z, orientation = self.oriented_mesh_z(mesh, up, front, split)
            found = self.matches(self.z_distances(z)[0], k, split)
            found.orientation = orientation
            return found
        if by == "lfd":
            mesh, _ = _mesh(mesh)
            if up is not None or front is not None:
                from . import geometry

                up = up or "+y"
                front = front or geometry.default_front(up)
                turn = np.eye(4)
                turn[:3, :3] = geometry.orientation_matrix(up, front)
                mesh = mesh.copy()
                mesh.apply_transform(turn)
                found = self.matches(self.lfd_distances(metrics.lfd_descriptor(mesh))[0], k, split)
                found.orientation = Orientation(up, front, chosen=False)
                return found
            return self.matches(self.lfd_distances(metrics.lfd_descriptor(mesh))[0], k, split)
        raise ValueError(f"unknown search method {by!r}: use one of {METHODS}")

    def by_sketch(self, image, k: int = 5, split: str | None = None) -> list[Match]:
        """The ``k`` shapes one of whose LFD silhouettes is nearest to a sketch (silhouette or closed outline)."""
        descriptor = silhouette_descriptors(sketch_mask(image)[None])
        return self.matches(self.view_distances(descriptor)[0], k, split)


def _mesh(mesh) -> tuple[trimesh.Trimesh, str]:
    """A query mesh, simplified above :data:`tutorial_lib.geometry.QUERY_FACE_BUDGET` faces (memory and time stay bounded)."""
    from . import geometry

    if isinstance(mesh, (str, Path)):
        return geometry.load_mesh(mesh, max_faces=geometry.QUERY_FACE_BUDGET), str(mesh)
    geometry.check_mesh(mesh)
    return geometry.simplify_mesh(mesh, geometry.QUERY_FACE_BUDGET), "mesh"


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def shape_descriptors(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray]:
    """(light field descriptor ``[10, 10, 45]``, framed silhouette descriptors ``[100, 45]``) of a mesh, from one set of silhouettes."""
    silhouettes = metrics.lfd_silhouettes(mesh)
    contour = metrics.contour_fourier(silhouettes)
    lfd = np.concatenate([metrics.zernike_magnitudes(silhouettes), contour], axis=-1)
    flat = silhouettes.reshape(-1, *silhouettes.shape[-2:])
    return lfd.astype(np.float32), silhouette_descriptors(flat, contour=contour.reshape(len(flat), -1))


def thumbnails(pixels: np.ndarray, size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """Renderings ``[N, H, W]`` (uint8) downsized to ``[N, size, size]`` (uint8)."""
    images = torch.from_numpy(np.asarray(pixels, dtype=np.float32))[:, None]
    small = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[:, 0]
    return small.round().clamp(0, 255).to(torch.uint8).numpy()


def _stored_descriptors(job: tuple[Path, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shape_descriptors` of the meshes stored in rows ``[start, stop)`` of a split file,
    stacked: a worker's task (the file is opened once for the rows, not once a shape)."""
    import h5py

    path, start, stop = job
    with h5py.File(path, "r") as f:
        vertices, faces = f["mesh_vertices"][start:stop], f["mesh_faces"][start:stop]
    described = [shape_descriptors(trimesh.Trimesh(vertices=v.reshape(-1, 3), faces=t.reshape(-1, 3), process=False)) for v, t in zip(vertices, faces)]
    return np.stack([lfd for lfd, _ in described]), np.stack([views for _, views in described])


def _one_torch_thread() -> None:
    # Each worker process is one of several on the cores already: more threads would fight.
    torch.set_num_threads(1)
    safety.worker_setup()  # ends with its parent, and on SIGTERM removes its temporary files


#: Shapes per task of a worker: few enough to keep the progress bar moving, enough to open each file rarely.
ROWS_PER_TASK = 16


def build_index(folder: str | Path, autoencoder_model=None, codes: dict | None = None, meta: dict | None = None,
                splits=data.SPLITS, progress: bool = True, workers: int | None = None) -> ShapeIndex:  # fmt: skip
    """An index over the split files of a dataset folder.

    z comes from ``codes`` (``{split: [N, 128]}`` in the files' order) when given, else from
    ``autoencoder_model``'s voxel encoder on the files' voxels. The light field descriptors are
    computed from the files' meshes (with a progress bar; they are nearly all of the build's
    time), in ``workers`` processes (default: every core, at most 8; the rows come back in
    order, so any number of workers builds the same index) while this process reads z and
    makes the thumbnails from each shape's first rendering.
    """
    from concurrent.futures import ProcessPoolExecutor

    import h5py
    from tqdm.auto import tqdm

    from . import _raster, autoencoder

    paths, counts, tasks = [], [], []
    for split in splits:
        path = data.split_path(folder, split)
        with data.open_split(path) as f:
            count = len(f["mesh_vertices"]) if "mesh_vertices" in f else 0
        if count == 0:
            data.read_split(path, ("mesh_vertices",))  # raises the file's error (missing keys) with its name
        paths.append(path)
        counts.append(count)
        tasks += [(path, start, min(start + ROWS_PER_TASK, count)) for start in range(0, count, ROWS_PER_TASK)]
    workers = min(workers or config.default_workers(), max(1, len(tasks)))
    bar = tqdm(total=sum(counts), desc="search index (LFD)", disable=not progress)
    pool = None
    if workers == 1:
        descriptors = map(_stored_descriptors, tasks)
    else:
        _raster.warm_up("lfd")  # compile or load the kernels once, here, before the workers start (they inherit them)
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_one_torch_thread)
        descriptors = pool.map(_stored_descriptors, tasks)
    try:
        # While the workers compute descriptors, this process reads names, z and thumbnails.
        columns = {k: [] for k in ShapeIndex.ARRAYS}
        for split, path, count in zip(splits, paths, counts, strict=True):
            arrays = data.read_split(path, ())
            if codes is not None:
                z = np.asarray(codes[split], dtype=np.float32)
                if len(z) != count:
                    raise ValueError(f"{path}: {count} shapes but {len(z)} codes for split {split!r}")
            else:
                if autoencoder_model is None:
                    raise ValueError("build_index needs codes or an autoencoder_model to compute z")
                z = autoencoder.encode(autoencoder_model, data.read_split(path, ("voxels",))["voxels"]).numpy()
            with h5py.File(path, "r") as f:
                first_views = f["pixels"][:, 0]
            columns["names"] += list(arrays["names"])
            columns["categories"] += list(arrays["categories"])
            columns["splits"] += [split] * count
            columns["z"].append(z)
            columns["thumbnails"].append(thumbnails(first_views))
        for lfd, views in descriptors:
            columns["lfd"].append(lfd)
            columns["views"].append(views)
            bar.update(len(lfd))
    finally:
        bar.close()
        if pool is not None:
            safety.close_pool(pool)
    index = ShapeIndex(columns["names"], columns["categories"], columns["splits"], np.concatenate(columns["z"]),
                       np.concatenate(columns["lfd"]), np.concatenate(columns["views"]), np.concatenate(columns["thumbnails"]),
                       meta={"format_version": FORMAT_VERSION, "lfd": _descriptor_settings(), **(meta or {})})  # fmt: skip
    index.autoencoder_model = autoencoder_model
    return index


def index_path(profile: config.Profile) -> Path:
    """Where a profile's index lives: next to its dataset."""
    return data.dataset_dir(profile) / INDEX_FILE


def build_profile_index(profile: config.Profile, progress: bool = True) -> ShapeIndex:
    """Build and save the index of a profile's dataset (built first if missing) with the shipped models.

    z are the shipped autoencoder's (``autoencoder_<profile>_z.npz``). The image encoder that
    :meth:`ShapeIndex.by_picture` loads is checked, when loaded, to have learned those same z.
    """
    with safety.writer_lock(data.dataset_dir(profile), "search index build"):  # two builds of one index: the second waits
        return _build_profile_index(profile, progress)


def _build_profile_index(profile: config.Profile, progress: bool) -> ShapeIndex:
    from . import autoencoder, shipping

    folder = data.ensure_dataset(profile, progress=progress)
    expected = profile_fingerprints(profile)
    codes = autoencoder.load_shipped_z(profile)
    for split in data.SPLITS:
        names = data.read_split(data.split_path(folder, split), ())["names"]
        if list(codes[f"{split}_names"]) != list(names):
            raise provenance.CheckpointError(
                f"{shipping.paths('autoencoder', profile).extra['z']}: its {split} z are not of the shapes of {data.split_path(folder, split)}; "
                "ship the autoencoder again"
            )
    index = build_index(folder, codes={s: codes[f"{s}_z"] for s in data.SPLITS}, meta=expected, progress=progress)
    index.save(index_path(profile))
    index.profile = profile
    return index


def load_index(profile: config.Profile, build: bool = True, progress: bool = True) -> ShapeIndex:
    """The profile's index: read from next to the dataset, or built (and saved) when missing.

    An index built from another dataset or other models is never used: with ``build`` it is
    rebuilt (saying why), else :class:`StaleIndexError` names the file and the difference.
    """
    path = index_path(profile)
    if path.is_file():
        try:
            index = ShapeIndex.load(path, expected=profile_fingerprints(profile))
            index.profile = profile
            return index
        except StaleIndexError as exc:
            if not build:
                raise
            print(f"{exc} — rebuilding it now")
    elif not build:
        raise FileNotFoundError(f"{path}: no search index here (build one with `python -m tutorial_lib search --build-index`)")
    return build_profile_index(profile, progress=progress)


# --------------------------------------------------------------------------------------------
# Query files (the CLI)
# --------------------------------------------------------------------------------------------

from .picture_files import IMAGE_SUFFIXES, query_kind  # noqa: E402, F401  (torch-free: the command line checks its query first)

#: How a picture file is read by z: ``auto`` guesses (:func:`tutorial_lib.sketches.looks_like_drawing`).
READ_AS = ("auto", "sketch", "picture")


def search_file(index: ShapeIndex, path: str | Path, by: str = "z", k: int = 5, split: str | None = None,
                up: str | None = None, front: str | None = None, read_as: str = "auto") -> Matches:  # fmt: skip
    """Search with a file: a picture by z (``by="z"``) or as a sketch against the LFD silhouettes
    (``by="lfd"``); a mesh by z or by its light field descriptor, in its own axes (``up``, ``front``:
    see :meth:`ShapeIndex.by_mesh`).

    By z, a picture is read as a line drawing by the sketch encoder or as a rendering or
    photograph by the image encoder: ``read_as="sketch"`` or ``"picture"``, or ``"auto"`` to
    let :func:`tutorial_lib.sketches.looks_like_drawing` guess. ``.read_as`` of the result says
    which it was.
    """
    if by not in METHODS:
        raise ValueError(f"unknown search method {by!r}: use one of {METHODS}")
    if read_as not in READ_AS:
        raise ValueError(f"unknown reading {read_as!r}: use one of {READ_AS}")
    if query_kind(path) == "picture":
        if up is not None or front is not None:
            raise ValueError(f"{path}: --up and --front turn a mesh; a picture has no axes to give")
        if by == "lfd":
            return index.by_sketch(path, k, split)
        if read_as == "auto":
            from . import sketches

            read_as = "sketch" if sketches.looks_like_drawing(path) else "picture"
            guessed = True
        else:
            guessed = False
        found = index.by_drawing(path, k, split) if read_as == "sketch" else index.by_picture(path, k, split)
        found = found if isinstance(found, Matches) else Matches(found)
        found.read_as, found.guessed = read_as, guessed
        return found
    return index.by_mesh(path, k, by, split, up=up, front=front)


def query_preview(path: str | Path) -> np.ndarray:
    """What a query file looks like, as a grey image: the picture itself, or a rendering of the mesh."""
    if query_kind(path) == "picture":
        return _grey(path)
    from . import geometry, viz

    return viz.render_mesh_image(geometry.normalize_mesh(geometry.load_mesh(path, max_faces=geometry.QUERY_FACE_BUDGET)), size=128)


# --------------------------------------------------------------------------------------------
# Evaluation as a retrieval system
# --------------------------------------------------------------------------------------------


def retrieval_scores(relevant: np.ndarray, cutoffs=(1, 5)) -> dict:
    """Scores of one ranked list, given ``relevant[i]`` (is the ``i``-th result relevant?) over the whole ranking.

    precision@k: relevant among the first k, over k. Average precision: the mean, over the
    relevant results, of the precision at each one's rank. nDCG: discounted cumulative gain
    (gain 1 / log2(rank + 1)) over that of the ideal ranking (all relevant first).
    """
    relevant = np.asarray(relevant, dtype=bool)
    scores = {f"precision@{k}": float(relevant[:k].mean()) for k in cutoffs}
    hits = np.flatnonzero(relevant)
    if len(hits) == 0:
        return scores | {"average_precision": 0.0, "ndcg": 0.0}
    precision_at_hits = np.arange(1, len(hits) + 1) / (hits + 1)
    discounts = 1.0 / np.log2(np.arange(len(relevant)) + 2)
    return scores | {"average_precision": float(precision_at_hits.mean()), "ndcg": float(discounts[hits].sum() / discounts[: len(hits)].sum())}


def evaluate_rankings(index: ShapeIndex, distances: np.ndarray, query_categories, split: str = "train") -> dict:
    """Mean retrieval scores of queries (``distances [Q, N]`` to every row) against the rows of ``split``; relevant = same category."""
    rows = []
    for row, category in zip(distances, query_categories, strict=True):
        ranked = index.ranking(row, split)
        rows.append(retrieval_scores(index.categories[ranked] == category))
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]} | {"queries": len(rows)}


def contact_sheet(query_image, matches: list[Match], index: ShapeIndex, title: str = ""):
    """A figure: the query (an image, or None) beside the thumbnails of its matches, with names and distances."""
    import matplotlib.pyplot as plt

    panels = ([("query", query_image)] if query_image is not None else []) + [
        (f"{m.rank}. {m.name}\n{m.category} · {m.distance:.3g}", index.thumbnails[m.row]) for m in matches
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(2.0 * len(panels), 2.4), squeeze=False)
    for ax, (label, image) in zip(axes[0], panels):
        ax.imshow(np.asarray(image), cmap="gray", vmin=0, vmax=1 if np.asarray(image).dtype != np.uint8 else 255)
        ax.set_title(label, fontsize=8)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


__all__ = [
    "FORMAT_VERSION", "INDEX_FILE", "Match", "ShapeIndex", "StaleIndexError", "build_index", "build_profile_index",
    "check_fingerprints", "contact_sheet", "evaluate_rankings", "file_fingerprint", "format_matches", "frame_silhouettes",
    "index_path", "load_index", "profile_fingerprints", "query_kind", "query_preview", "retrieval_scores", "search_file",
    "shape_descriptors", "silhouette_descriptors", "sketch_mask", "thumbnails",
]  # fmt: skip
