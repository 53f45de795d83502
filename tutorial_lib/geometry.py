"""3D representations and the conversions between them.

The conventions (the talk's "Dataset - Models" slide) live here, in one place:

* World frame: Y is up, the object's front faces −Z, +X is the object's right side.
* The voxel grid of resolution ``N`` covers the cube [-0.5, 0.5]³. Voxel ``(i, j, k)`` is the
  cell whose centre is ``((i, j, k) + 0.5) / N - 0.5``; index ``i`` runs along X, ``j`` along Y,
  ``k`` along Z (axis order "xyz"). This is also how IM-NET's HDF5 files relate points to
  voxel indices, so our points and theirs mean the same thing.
* A normalised mesh has its centre of mass at the origin and is scaled uniformly so that
  it stays ``padding`` voxels away from every face of the 64³ grid.

Functions: :func:`load_mesh`, :func:`normalize_mesh`, :func:`voxelize`,
:func:`marching_cubes`, :func:`sample_surface`, and the grid ↔ world mapping
(:func:`voxel_centers`, :func:`grid_points`, :func:`world_to_grid`, :func:`grid_to_world`,
:func:`filled_voxel_centers`). Function names spell "center" the American way, as numpy, trimesh
and torchvision do (``center_of_mass``); the prose is British.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import trimesh

from .config import VOXEL_PADDING, VOXEL_RESOLUTION

MESH_SUFFIXES = (".obj", ".off", ".stl", ".ply", ".glb", ".gltf")


class MeshError(ValueError):
    """A mesh that cannot be used: empty, not finite, not a mesh at all, or not closed."""


# --------------------------------------------------------------------------------------------
# Grid <-> world
# --------------------------------------------------------------------------------------------


def voxel_centers(resolution: int) -> np.ndarray:
    """World coordinate of the centre of each of the ``resolution`` cells along one axis."""
    return (np.arange(resolution, dtype=np.float64) + 0.5) / resolution - 0.5


def grid_points(resolution: int) -> np.ndarray:
    """All voxel centres as a ``(resolution**3, 3)`` float32 array, in C order of ``grid[i, j, k]``.

    ``grid_points(n).reshape(n, n, n, 3)[i, j, k]`` is the centre of voxel ``(i, j, k)``.
    """
    c = voxel_centers(resolution).astype(np.float32)
    xs, ys, zs = np.meshgrid(c, c, c, indexing="ij")
    return np.stack([xs, ys, zs], axis=-1).reshape(-1, 3)


def grid_to_world(indices: np.ndarray, resolution: int) -> np.ndarray:
    """Voxel indices (integer or fractional) to world coordinates."""
    return (np.asarray(indices, dtype=np.float64) + 0.5) / resolution - 0.5


def filled_voxel_centers(voxels: np.ndarray) -> np.ndarray:
    """World coordinates ``[filled, 3]`` (float32) of the centres of the filled voxels of a cubic grid
    (the points a point-cloud view of the grid shows)."""
    voxels = np.asarray(voxels)
    return grid_to_world(np.argwhere(voxels), voxels.shape[0]).astype(np.float32)


def world_to_grid(points: np.ndarray, resolution: int) -> np.ndarray:
    """World coordinates to fractional voxel indices (the inverse of :func:`grid_to_world`)."""
    return (np.asarray(points, dtype=np.float64) + 0.5) * resolution - 0.5


def fit_half_extent(resolution: int = VOXEL_RESOLUTION, padding: int = VOXEL_PADDING) -> float:
    """Half the side of the cube a normalised mesh must fit in: 0.5 minus the padding."""
    return 0.5 - padding / resolution


# --------------------------------------------------------------------------------------------
# Loading and normalising meshes
# --------------------------------------------------------------------------------------------


#: A mesh given as a query (search by mesh) with more faces than this is simplified to this
#: many by quadric decimation before its voxels and light field are computed: memory and time
#: then stay bounded whatever the file holds (a 2.6-million-face scan is searched in about
#: 1 GB), and at 64³ voxels and 128² silhouettes the finer faces are not seen anyway.
#: ``benchmarks/bench_search.py --query-meshes`` measures what the light field descriptor loses by it.
QUERY_FACE_BUDGET = 100_000
#: Where quadric decimation stops short of the budget, vertices are clustered on grids of this
#: many cells across the mesh, finest first, and no coarser than the last: 1/128 of the mesh's
#: size is about a pixel of the light field's silhouettes and half a 64³ voxel. A mesh that
#: still has more faces is used with them (slower, in the same bounded memory).
CLUSTER_GRIDS = (1024, 512, 256, 128)
#: CPU seconds the quadric decimation of one mesh may take (a 2.6-million-face torus takes about 5).
DECIMATION_CPU_SECONDS = 20
#: Coordinates whose overall size lies outside this range are rescaled to size 1 when a mesh is
#: loaded: merging vertices at a fixed tolerance means nothing at ×1e-30, and overflows at ×1e30.
SANE_EXTENT = (1e-4, 1e6)


def load_mesh(path: str | Path, max_faces: int | None = None) -> trimesh.Trimesh:
    """Read a triangle mesh from ``.obj/.off/.stl/.ply`` (and glTF), with errors that name the file.

    Scenes (several objects in one file) are merged into one mesh. Raises ``FileNotFoundError``
    for a missing file and :class:`MeshError` for a file that holds no usable triangles or
    non-finite (NaN, inf) coordinates. A mesh whose size is outside :data:`SANE_EXTENT` is
    scaled to size 1 (its position and scale mean nothing to the dataset or the search, which
    normalise every mesh). With ``max_faces``, a mesh with more faces is simplified to that
    many (:func:`simplify_mesh`); the largest files are then read without trimesh's copies
    (binary STL, triangle OFF), so the memory stays near that of the file's own arrays.
    """
    path = Path(path)
    if path.is_dir():
        raise MeshError(f"{path}: is a folder, not a mesh file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() not in MESH_SUFFIXES:
        raise MeshError(f"{path}: unsupported file type {path.suffix!r}; expected one of {MESH_SUFFIXES}")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, max_faces)
    if key in _LAST_LOADED:  # the command line reads its query once to check it, and again to search with it
        return _LAST_LOADED[key].copy()
    arrays = _read_large_mesh(path) if max_faces is not None and (_face_count(path) or 0) > max_faces else None
    if arrays is not None:  # straight from the file's arrays to the simplified mesh: no full-size trimesh
        mesh = _simplify_arrays(*_checked_arrays(arrays, str(path)), max_faces, str(path))
        check_mesh(mesh, str(path))
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # numpy's warnings from inside trimesh: the checks below say what is wrong
                loaded = trimesh.load(path, force="mesh", process=False)
        except Exception as exc:  # trimesh raises many kinds of errors for broken files
            raise MeshError(
                f"{path}: could not be read as a mesh ({type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''})"
            ) from None
        if not isinstance(loaded, trimesh.Trimesh):
            raise MeshError(f"{path}: holds no triangles (got {type(loaded).__name__})")
        mesh = _tidy(loaded, str(path), max_faces)
    _LAST_LOADED.clear()
    _LAST_LOADED[key] = mesh
    return mesh.copy()


_LAST_LOADED: dict = {}  # (file, size, modification time, max_faces) -> the mesh load_mesh made of it last


def _tidy(mesh: trimesh.Trimesh, name: str, max_faces: int | None) -> trimesh.Trimesh:
    """Check an unprocessed mesh, bring its size into :data:`SANE_EXTENT`, merge its vertices
    (trimesh's processing), or simplify it to ``max_faces``."""
    if len(mesh.faces) and len(mesh.vertices):
        as_read = np.asarray(mesh.vertices)
        vertices, _ = _checked_arrays([as_read, np.asarray(mesh.faces)], name)
        if vertices is not as_read:  # brought to size 1
            mesh.vertices = vertices
    check_mesh(mesh, name, area=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if max_faces is not None and len(mesh.faces) > max_faces:
            mesh = simplify_mesh(mesh, max_faces, name=name)  # processed, and remembers the full mesh's centre of mass
        else:
            mesh.process()
    check_mesh(mesh, name)
    return mesh


def _checked_arrays(arrays: list, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``[vertices, faces]`` of a mesh as read, checked: faces that name missing vertices and non-finite
    coordinates are refused (before trimesh's processing, which drops NaN vertices without a word),
    and coordinates outside :data:`SANE_EXTENT` are brought to size 1. The list is emptied, so that
    the caller holds no second reference to arrays that may be large."""
    vertices, faces = arrays
    arrays.clear()
    if len(faces) == 0 or len(vertices) == 0:
        raise MeshError(f"{name}: the mesh is empty (no faces)")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise MeshError(f"{name}: faces refer to vertices that do not exist (indices up to {faces.max()}, {len(vertices)} vertices)")
    _check_finite(vertices, name)
    extent = float(np.ptp(vertices, axis=0).max())
    if extent == 0:
        raise MeshError(f"{name}: every vertex lies at the same point")
    if not SANE_EXTENT[0] <= extent <= SANE_EXTENT[1]:
        vertices = (vertices - vertices.mean(axis=0)) / extent
    return vertices, faces


def _check_finite(vertices: np.ndarray, name: str) -> None:
    finite = np.isfinite(np.asarray(vertices)).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise MeshError(
            f"{name}: the mesh has non-finite vertex coordinates (NaN or inf): {len(bad)} of its {len(finite)} vertices, the first at index {bad[0]}"
        )


def simplify_mesh(mesh: trimesh.Trimesh, max_faces: int, name: str = "mesh") -> trimesh.Trimesh:
    """``mesh`` with about ``max_faces`` faces (at most, but where clustering at :data:`CLUSTER_GRIDS` cannot get there), standing for the full mesh.

    Vertices that coincide are merged first (a binary STL stores every triangle's corners
    apart). Then quadric edge-collapse decimation (fast-simplification) reduces the faces; where
    it stops short of the budget (it refuses collapses that would fold the surface or leave
    slivers, which finely subdivided meshes are full of), the vertices are clustered on the grids
    of :data:`CLUSTER_GRIDS`, finest first, until the budget is met or the coarsest was used. Every
    vertex is then moved onto the nearest vertex of the full mesh, its farthest ones kept
    (:func:`_snap_to`), and the result remembers the full mesh's centre of mass
    (:func:`center_of_mass` answers with it until the vertices move): the dataset's normalisation
    and the light field descriptor centre every shape there, and a simplified surface that is no
    longer closed would otherwise be centred on its surface (about 2 % of its size away, enough to
    move its light field descriptor as far as a rotation does). A mesh with at most ``max_faces``
    faces comes back as it is.
    """
    if len(mesh.faces) <= max_faces:
        return mesh
    return _simplify_arrays(np.asarray(mesh.vertices), np.asarray(mesh.faces), max_faces, name)


def _simplify_arrays(vertices: np.ndarray, faces: np.ndarray, max_faces: int, name: str) -> trimesh.Trimesh:
    """:func:`simplify_mesh` of a mesh given as arrays."""
    vertices, faces = _merge_coincident(vertices, faces)
    original = np.asarray(vertices, dtype=np.float64)
    centre = _centre_of_mass(vertices, faces)
    if len(faces) > max_faces:
        vertices, faces = _decimate(vertices, faces, int(max_faces), name)  # None: it ran out of its CPU time; clustering takes over
    size = float(np.ptp(vertices, axis=0).max())
    for cells in CLUSTER_GRIDS:
        if len(faces) <= max_faces:
            break
        vertices, faces = _cluster_vertices(np.asarray(vertices, dtype=np.float64), faces, size / cells)
    vertices, faces = _snap_to(original, np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64), centre)
    if len(faces) == 0:
        raise MeshError(f"{name}: nothing is left of the mesh after simplifying it to {max_faces} faces")
    out = trimesh.Trimesh(vertices=vertices, faces=faces, process=True)
    out.metadata["center_of_mass"] = (centre.tolist(), _vertices_key(out.vertices))
    return out


def _decimate(vertices: np.ndarray, faces: np.ndarray, target: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Quadric decimation (fast-simplification) to ``target`` faces, in a child process where ``fork`` exists.

    The library keeps its working arrays (about 200 bytes a face) in global C++ vectors for the
    life of the process that called it: in a child, that memory goes back when it ends, and the
    caller never holds it (a 2.6-million-face mesh would otherwise keep half a gigabyte). The
    child may use :data:`DECIMATION_CPU_SECONDS` of CPU time (not wall time: the result must not
    depend on how busy the machine is); a mesh that takes longer (finely subdivided flat faces
    make the library refuse collapse after collapse) comes back as it was, for the clustering.
    """
    import multiprocessing
    import signal

    vertices, faces = np.ascontiguousarray(vertices, dtype=np.float32), np.ascontiguousarray(faces, dtype=np.int32)
    if "fork" not in multiprocessing.get_all_start_methods():
        return _decimate_here(vertices, faces, target)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_decimate_child, args=(vertices, faces, target, send), daemon=True)
    child.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        child.join()
        if child.exitcode == -signal.SIGXCPU:
            return vertices, faces
        raise MeshError(f"{name}: its simplification to {target} faces stopped (exit status {child.exitcode}; out of memory?)") from None
    finally:
        receive.close()
    child.join()
    if isinstance(result, BaseException):
        raise result
    return result


def _decimate_here(vertices: np.ndarray, faces: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    import fast_simplification

    return fast_simplification.simplify(vertices, faces, target_count=target)


def _decimate_child(vertices, faces, target, send) -> None:
    import resource

    from .safety import worker_setup

    worker_setup()  # ends with its parent
    used = resource.getrusage(resource.RUSAGE_SELF)
    limit = int(used.ru_utime + used.ru_stime + DECIMATION_CPU_SECONDS)
    resource.setrlimit(resource.RLIMIT_CPU, (limit, resource.getrlimit(resource.RLIMIT_CPU)[1]))  # SIGXCPU ends it there
    try:
        send.send(_decimate_here(vertices, faces, target))
    except Exception as exc:  # noqa: BLE001  (any error goes back to the parent, which raises it)
        send.send(exc)
    finally:
        send.close()


def _vertices_key(vertices: np.ndarray) -> str:
    import hashlib

    return hashlib.sha1(np.ascontiguousarray(vertices, dtype=np.float64).tobytes()).hexdigest()


def _snap_to(original: np.ndarray, vertices: np.ndarray, faces: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each vertex moved to the nearest of the ``original`` vertices, the faces that lost a corner by
    it dropped, and the original's farthest vertices from ``centre`` (in length and along an axis) kept.

    Quadric decimation puts a merged vertex where the error is least, often a little outside a
    curved surface, and clustering at the mean of its cell, inside; and either may remove the
    vertex farthest out. The light field descriptor scales every shape by its farthest vertex
    (and the dataset's normalisation by its largest coordinate), so one vertex out of place would
    resize the whole silhouette: on the original vertices, with its extremes, the simplified
    surface reaches exactly as far as the full one.
    """
    from scipy.spatial import cKDTree

    _, nearest = cKDTree(original).query(vertices)
    offsets = original - centre
    for extreme in (int(np.argmax(np.einsum("ij,ij->i", offsets, offsets))), int(np.argmax(np.abs(offsets).max(axis=1)))):
        if extreme not in nearest:
            nearest[int(np.argmin(np.linalg.norm(vertices - original[extreme], axis=1)))] = extreme
    snapped, index = np.unique(nearest, return_inverse=True)
    faces = index.reshape(-1)[faces]
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])]
    return original[snapped].astype(np.float64), faces


def _centre_of_mass(vertices: np.ndarray, faces: np.ndarray, chunk: int = 1_000_000) -> np.ndarray:
    """:func:`center_of_mass` of a mesh given as arrays, a million faces at a time (no trimesh caches):
    the volume centroid when the surface is closed, consistently wound and of positive volume,
    else the area-weighted centroid of the surface."""
    n = len(vertices)
    forward = (faces.astype(np.int64) * n + np.roll(faces, -1, axis=1)).ravel()
    backward = (np.roll(faces, -1, axis=1).astype(np.int64) * n + faces).ravel()
    forward.sort()
    backward.sort()
    closed = bool(np.all(forward[1:] != forward[:-1]) and np.array_equal(forward, backward))
    del forward, backward
    volume, moment, area, surface = 0.0, np.zeros(3), 0.0, np.zeros(3)
    for i in range(0, len(faces), chunk):
        a, b, c = (vertices[faces[i : i + chunk, k]].astype(np.float64) for k in range(3))
        cross = np.cross(b - a, c - a)
        signed = np.einsum("ij,ij->i", a, np.cross(b, c)) / 6.0
        volume += signed.sum()
        moment += (signed[:, None] * (a + b + c)).sum(axis=0) / 4.0
        areas = np.linalg.norm(cross, axis=1) / 2.0
        area += areas.sum()
        surface += (areas[:, None] * (a + b + c)).sum(axis=0) / 3.0
    if closed and volume > 0:
        return moment / volume
    return surface / max(area, np.finfo(float).tiny)


def _cluster_vertices(vertices: np.ndarray, faces: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertices in one grid cell of side ``cell`` merged into their mean; faces that lost a corner, and repeated faces, dropped."""
    cells = np.floor((vertices - vertices.min(axis=0)) / cell).astype(np.int64)
    keys = (cells[:, 0] << 42) | (cells[:, 1] << 21) | cells[:, 2]  # one number per cell (grids up to 2**21 cells across)
    _, cluster, counts = np.unique(keys, return_inverse=True, return_counts=True)
    cluster = cluster.reshape(-1)
    merged = np.zeros((len(counts), 3))
    np.add.at(merged, cluster, vertices)
    merged /= counts[:, None]
    faces = cluster.astype(np.int32)[faces]
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])]
    corners = np.ascontiguousarray(np.sort(faces, axis=1))  # a face and its repeats (any order of corners) share one 12-byte key
    first = np.unique(corners.view(np.dtype((np.void, 12))).ravel(), return_index=True)[1]
    return merged, faces[np.sort(first)]


def _merge_coincident(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices with exactly the same float32 coordinates merged into one, the faces renumbered.

    Each vertex's 12 bytes are hashed to one 64-bit number, whose sort is fast and small (about 30
    bytes a vertex, where trimesh's merge takes ten times that); the groups are then checked to
    hold equal coordinates, and a collision of the hash falls back to sorting the 12-byte keys.
    """
    keys = np.ascontiguousarray(vertices, dtype=np.float32)
    bits = keys.view(np.uint32)
    hashed = bits[:, 0].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    hashed ^= bits[:, 1].astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
    hashed ^= bits[:, 2].astype(np.uint64) * np.uint64(0x165667B19E3779F9)
    _, first, inverse = np.unique(hashed, return_index=True, return_inverse=True)
    del hashed
    if len(first) == len(keys):
        return vertices, faces
    merged = keys[first]
    if not np.array_equal(merged[inverse.reshape(-1)], keys):  # two different vertices with one hash
        unique, inverse = np.unique(keys.view(np.dtype((np.void, 12))).ravel(), return_inverse=True)
        merged = unique.view(np.float32).reshape(-1, 3)
    return merged, inverse.reshape(-1).astype(np.int32)[faces]


def _face_count(path: Path) -> int | None:
    """The number of faces a mesh file declares (binary STL, PLY, OFF) or holds (OBJ, by its ``f`` lines),
    read without loading the mesh; None where it cannot tell (glTF, ASCII STL, a damaged header)."""
    import mmap

    suffix = path.suffix.lower()
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
            if suffix == ".stl" and len(head) >= 84 and not head.lstrip().startswith(b"solid"):
                count = int(np.frombuffer(head[80:84], "<u4")[0])
                return count if path.stat().st_size == 84 + 50 * count else None
            if suffix == ".ply" and b"end_header" in head:
                for line in head.split(b"end_header")[0].splitlines():
                    words = line.split()
                    if words[:2] == [b"element", b"face"] and len(words) == 3:
                        return int(words[2])
                return None
            if suffix == ".off":
                numbers = _off_header(head)
                return numbers[1] if numbers else None
            if suffix == ".obj" and path.stat().st_size:
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                    text = mapped[:]
                return text.count(b"\nf ") + text.startswith(b"f ")
    except (OSError, ValueError):
        return None
    return None


def _off_header(head: bytes) -> tuple[int, int, int] | None:
    """(vertices, faces, offset of the first vertex line) of an OFF file's start, or None."""
    lines, offset = [], 0
    for line in head.splitlines(keepends=True):
        offset += len(line)
        text = line.split(b"#")[0].strip()
        if text:
            lines.append(text)
        if len(lines) == 2 or (lines and lines[0].startswith(b"OFF") and len(lines[0].split()) == 4):
            break
    words = b" ".join(lines).split()
    if not words or words[0] != b"OFF" or len(words) < 3:
        return None
    return int(words[1]), int(words[2]), offset


def _read_large_mesh(path: Path) -> list[np.ndarray] | None:
    """[vertices, faces] of a binary STL or an OFF file of triangles, read with numpy alone; None for other files."""
    suffix = path.suffix.lower()
    if suffix == ".stl" and (count := _face_count(path)) is not None:
        record = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])
        corners = np.fromfile(path, dtype=record, count=count, offset=84)["corners"].reshape(-1, 3)
        return list(_merge_coincident(corners, np.arange(len(corners), dtype=np.int32).reshape(-1, 3)))
    if suffix == ".off":
        raw = path.read_bytes()
        header = _off_header(raw[:4096])
        if header is None or b"#" in raw[header[2] :]:
            return None
        n_vertices, n_faces, offset = header
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            numbers = np.fromstring(raw[offset:], sep=" ")  # noqa: NPY201  (text mode: one pass, no list of strings)
        del raw
        if len(numbers) != 3 * n_vertices + 4 * n_faces or np.any(numbers[3 * n_vertices :: 4] != 3):
            return None  # polygons, colours or a damaged file: trimesh's reader says what it makes of them
        faces = numbers[3 * n_vertices :].reshape(-1, 4)[:, 1:].astype(np.int64)
        return [numbers[: 3 * n_vertices].reshape(-1, 3), faces]
    return None


def check_mesh(mesh: trimesh.Trimesh, name: str = "mesh", area: bool = True) -> None:
    """Raise :class:`MeshError` (naming ``name``) for an empty, flat or non-finite mesh.

    "Flat" (zero surface area) is judged relative to the mesh's size, so a mesh in units of
    10⁻³⁰ or 10³⁰ is not mistaken for one; ``area=False`` skips that test.
    """
    if not isinstance(mesh, trimesh.Trimesh):
        raise MeshError(f"{name}: expected a trimesh.Trimesh, got {type(mesh).__name__}")
    if len(mesh.faces) == 0 or len(mesh.vertices) == 0:
        raise MeshError(f"{name}: the mesh is empty (no faces)")
    _check_finite(mesh.vertices, name)
    if area:
        extent = float(np.ptp(np.asarray(mesh.vertices), axis=0).max())
        with np.errstate(over="ignore", invalid="ignore"):
            relative = float(mesh.area) / extent**2 if extent > 0 else 0.0
        if not relative > 1e-12:
            raise MeshError(f"{name}: the mesh has zero surface area (all faces degenerate)")


_AXES = {"x": 0, "y": 1, "z": 2}


def _axis_vector(spec: str) -> np.ndarray:
    spec = spec.strip().lower()
    sign = -1.0 if spec.startswith("-") else 1.0
    axis = spec.lstrip("+-")
    if axis not in _AXES:
        raise ValueError(f"axis {spec!r} must be one of +x, -x, +y, -y, +z, -z")
    vec = np.zeros(3)
    vec[_AXES[axis]] = sign
    return vec


def orientation_matrix(up: str = "+y", front: str = "-z") -> np.ndarray:
    """The 3×3 rotation that takes a mesh whose up is ``up`` and front is ``front`` to Y up, front −Z.

    ShapeNet meshes are already Y up; ModelNet meshes are Z up (``up="+z"``).
    """
    u, f = _axis_vector(up), _axis_vector(front)
    if abs(np.dot(u, f)) > 0.5:
        raise ValueError(f"up {up!r} and front {front!r} must be different axes")
    source = np.stack([np.cross(u, -f), u, -f])  # rows: source's right (+X), up (+Y), back (+Z)
    return source  # orthonormal: maps source coordinates to the canonical frame


def default_front(up: str) -> str:
    """The front that goes with ``up`` when only ``up`` is given: the axis that the smallest
    rotation taking ``up`` to +Y takes to −Z. ``+y``: ``-z`` (nothing turns); ``+z`` (ModelNet):
    ``+y``, the usual Z-up to Y-up turn of 90° about X; ``-z``: ``-y``; ``±x`` and ``-y``: ``-z``
    (a turn about Z leaves Z where it is)."""
    spec = up.strip().lower()
    return {"+z": "+y", "z": "+y", "-z": "-y"}.get(spec, "-z")


def axis_aligned_orientations() -> list[tuple[str, str]]:
    """The 24 ways a mesh file can be turned by quarter turns, as ``(up, front)`` pairs in the
    words of :func:`orientation_matrix` (the file's up and front axes); the dataset's own
    (``+y``, ``-z``) first. Six axes for up, four for the front at right angles to it."""
    axes = ["+y", "-z", "+z", "-y", "+x", "-x"]
    pairs = [(up, front) for up in axes for front in ["-z", "+x", "+z", "-x", "+y", "-y"] if up[1] != front[1]]
    assert len(pairs) == 24 and pairs[0] == ("+y", "-z")
    return pairs


def rotate_voxels(voxels: np.ndarray, up: str = "+y", front: str = "-z") -> np.ndarray:
    """The grid of a mesh normalised as it is, turned as :func:`normalize_mesh` with ``up`` and
    ``front`` would have turned the mesh first: an axis permutation and flips of the grid.

    Normalising commutes with quarter turns (the centre of mass turns with the mesh, the largest
    coordinate magnitude that sets the scale does not change, the grid's voxel centres are
    symmetric about the origin), so this is the grid of the turned mesh up to the voxels whose
    centre lies on the surface itself, a tie that the direction of the voxeliser's rays decides.
    """
    rotation = orientation_matrix(up, front)  # rows: new axis i = sign × old axis source[i]
    source = np.abs(rotation).argmax(axis=1)
    turned = np.transpose(voxels, tuple(source) + tuple(range(3, voxels.ndim)))
    flips = tuple(i for i in range(3) if rotation[i, source[i]] < 0)
    return np.ascontiguousarray(np.flip(turned, axis=flips) if flips else turned)  # torch takes no negative strides


def center_of_mass(mesh: trimesh.Trimesh) -> np.ndarray:
    """Volume centroid of a closed mesh; the area-weighted surface centroid of an open one.

    A mesh simplified by :func:`simplify_mesh` answers with the centre of mass of the full mesh
    it stands for, for as long as its vertices are not moved.
    """
    recorded = mesh.metadata.get("center_of_mass") if isinstance(getattr(mesh, "metadata", None), dict) else None
    if recorded is not None and recorded[1] == _vertices_key(mesh.vertices):
        return np.array(recorded[0], dtype=np.float64)
    if mesh.is_volume:
        return np.asarray(mesh.center_mass, dtype=np.float64)
    return np.asarray(mesh.triangles_center.T @ mesh.area_faces / mesh.area, dtype=np.float64)


def normalize_mesh(
    mesh: trimesh.Trimesh,
    *,
    up: str = "+y",
    front: str = "-z",
    resolution: int = VOXEL_RESOLUTION,
    padding: int = VOXEL_PADDING,
) -> trimesh.Trimesh:
    """Return a copy in the talk's conventions: Y up, front −Z, centre of mass at the origin,
    scaled uniformly so that every vertex lies within ``padding`` voxels of the grid's faces.

    Because the centre of mass (not the bounding box) goes to the origin, the scale is set by
    the vertex farthest from it along any axis: ``max |v| = 0.5 - padding / resolution``.
    """
    check_mesh(mesh)
    out = mesh.copy()
    rotation = orientation_matrix(up, front)
    if not np.allclose(rotation, np.eye(3)):
        transform = np.eye(4)
        transform[:3, :3] = rotation
        out.apply_transform(transform)
    out.apply_translation(-center_of_mass(out))
    extent = np.abs(out.vertices).max()
    out.apply_scale(fit_half_extent(resolution, padding) / extent)
    return out


# --------------------------------------------------------------------------------------------
# Mesh -> voxels
# --------------------------------------------------------------------------------------------

# Rays are nudged off the voxel centres by this (irrational-looking) fraction of a voxel, so
# that they do not run exactly along the edges of axis-aligned boxes, where a ray can hit a
# shared edge twice or not at all.
_RAY_JITTER = (0.0131, 0.0173)


def ray_intersector(mesh: trimesh.Trimesh):
    """A ray caster for the mesh: Embree's where ``embreex`` is installed, else trimesh's numpy one (slower, same answers)."""
    if trimesh.ray.has_embree:
        from trimesh.ray.ray_pyembree import RayMeshIntersector

        return RayMeshIntersector(mesh)
    return trimesh.ray.ray_triangle.RayMeshIntersector(mesh)


def _parity_along_axis(intersector, resolution: int, axis: int) -> np.ndarray:
    """Inside/outside of every voxel centre by counting surface crossings along one axis.

    One ray per column of voxels, cast from outside the grid along +``axis``; a voxel centre
    is inside when an odd number of crossings lie before it (the Jordan curve theorem in 3D).
    """
    n = resolution
    centers = voxel_centers(n)
    u_axis, v_axis = [a for a in range(3) if a != axis]
    uu, vv = np.meshgrid(centers + _RAY_JITTER[0] / n, centers + _RAY_JITTER[1] / n, indexing="ij")
    origins = np.zeros((n * n, 3))
    origins[:, u_axis] = uu.ravel()
    origins[:, v_axis] = vv.ravel()
    origins[:, axis] = -1.0
    directions = np.zeros_like(origins)
    directions[:, axis] = 1.0
    locations, ray_index, _ = intersector.intersects_location(origins, directions, multiple_hits=True)

    # Count crossings before each centre for all rays at once: put every ray's hits on its own
    # stretch of one number line (ray r occupies [4r, 4r + 4)) and use one sorted search.
    hit_keys = np.sort(ray_index * 4.0 + (locations[:, axis] + 2.0))
    rays = np.arange(n * n)
    query = rays[:, None] * 4.0 + (centers[None, :] + 2.0)
    crossings = np.searchsorted(hit_keys, query) - np.searchsorted(hit_keys, rays * 4.0)[:, None]
    inside = (crossings % 2 == 1).reshape(n, n, n)  # axes: (u, v, along-ray)
    # Move the along-ray axis back to its place in (x, y, z).
    return np.moveaxis(inside, 2, axis)


def _column_parity(mesh: trimesh.Trimesh, resolution: int, axis: int) -> np.ndarray:
    """What :func:`_parity_along_axis` computes with Embree's rays, computed by projecting each
    triangle onto the grid's columns (a compiled kernel, :func:`tutorial_lib._raster._column_parity`):
    the same crossings (the tracer's rules for near and grazing hits included), much faster."""
    from . import _raster

    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float64)
    faces = np.ascontiguousarray(mesh.faces, dtype=np.int64)
    normals = np.ascontiguousarray(mesh.face_normals, dtype=np.float64)
    offset = max(1e-8, float(mesh.scale) * 1e-6)  # trimesh's step past a hit (ray_pyembree: _ray_offset_floor, _ray_offset_factor)
    inside = _raster._column_parity(vertices, faces, normals, resolution, axis, _RAY_JITTER[0], _RAY_JITTER[1], offset)
    return np.moveaxis(inside, 2, axis)


#: Inside, for the winding number w: w >= 0.5. A closed surface facing outwards has w = 1 inside
#: and 0 outside; a hole lowers w near it by the share of the view it fills as seen from there,
#: so a point is inside while the surface it sees surrounds it more than half-way (Jacobson et
#: al. 2013 cut at 0.5 for the same reason). Across an open sheet w changes by exactly 1.
WINDING_INSIDE = 0.5
#: Clearly inside: the surface surrounds the point at least three-quarters of the way. A region of
#: w >= 0.5 is solid only where it holds such a point: a box with one or two faces missing, or a
#: bowl, reaches 0.85 to 0.96 inside its walls and fills; a curved open sheet has none (a sheet
#: arched by half its width reaches 0.72, a half-pipe 0.71), so the thin lens of w just above
#: 0.5 on its hollow side stays empty. And a surface voxel with no such point among its 26
#: neighbours (or itself) bounds no solid the voxels show: a sheet, a panel thinner than a voxel.
WINDING_CLEARLY_INSIDE = 0.75
#: The winding number is evaluated exactly near the surface and on a lattice of every this many
#: voxels elsewhere, and then wherever two face neighbours disagree (see :func:`_winding_inside`).
WINDING_LATTICE_STEP = 4


def _why_not_parity(mesh: trimesh.Trimesh) -> str:
    """Why the column parity cannot be trusted for ``mesh`` (a short phrase), or "" when it can:
    a watertight mesh of one piece. Parity needs a closed surface; and where closed parts of a
    mesh overlap (models are often built so, without a boolean union), it counts their overlap
    as outside."""
    if mesh.is_watertight:
        bodies = mesh.body_count
        return "" if bodies == 1 else f"{bodies} closed parts, which may overlap"
    edges = mesh.edges_sorted.astype(np.int64)
    _, uses = np.unique(edges[:, 0] * len(mesh.vertices) + edges[:, 1], return_counts=True)  # faces per edge
    boundary, shared = int((uses == 1).sum()), int((uses > 2).sum())
    reasons = [f"{boundary} boundary edge{'s' * (boundary != 1)}"] if boundary else []
    if shared:
        reasons.append(f"{shared} edge{'s' * (shared != 1)} shared by more than two faces")
    return "not watertight (" + ", ".join(reasons or ["edges without a partner face"]) + ")"


def _outward_faces(mesh: trimesh.Trimesh) -> np.ndarray:
    """The mesh's faces, each connected part (faces joined by edges they share in pairs) wound
    one way and facing outwards: a part's faces agree where they meet, and its signed volume,
    measured from the part's own centre, is not negative.

    Files often hold parts turned inside out, or faces wound at random; the winding number
    counts a face backwards then. For a closed part the sign of the volume is exact; for an open
    one it turns the side the part curves around (an open box's inside, a bowl's hollow) inwards.
    A flat part has no volume and keeps the file's winding. So a part inside another one is
    turned outwards too: the voxels of a mesh that needs this are solid, without cavities.
    """
    from scipy import sparse
    from scipy.sparse import csgraph

    faces = np.array(mesh.faces, dtype=np.int64)
    pairs = mesh.face_adjacency
    count = len(faces)
    links = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(count, count))
    parts, label = csgraph.connected_components(links, directed=False)
    if not mesh.is_winding_consistent:
        # Two faces agree when they run their shared edge in opposite directions. Walk each part
        # breadth-first from one face (from a common root, count) and turn a face that disagrees
        # with the face it was reached from, after that face's own turn.
        u, v = mesh.face_adjacency_edges.T
        runs_uv = [np.any((faces[pairs[:, s]] == u[:, None]) & (np.roll(faces[pairs[:, s]], -1, axis=1) == v[:, None]), axis=1) for s in (0, 1)]
        disagree = (runs_uv[0] == runs_uv[1]).astype(np.int8) + 1  # 2: disagree, 1: agree (0 is no edge)
        roots = np.unique(label, return_index=True)[1]
        rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.full(parts, count)])
        cols = np.concatenate([pairs[:, 1], pairs[:, 0], roots])
        graph = sparse.csr_matrix((np.concatenate([disagree, disagree, np.ones(parts, np.int8)]), (rows, cols)), shape=(count + 1, count + 1))
        order, parent = csgraph.breadth_first_order(graph, count, directed=False)
        order = order[1:]
        turn_step = (np.asarray(graph[order, parent[order]]).ravel() == 2).tolist()
        turned = [False] * (count + 1)
        for face, before, step in zip(order.tolist(), parent[order].tolist(), turn_step):
            turned[face] = turned[before] != step
        turn = np.array(turned[:count])
        faces[turn] = faces[turn][:, ::-1]
    corners = np.asarray(mesh.vertices, dtype=np.float64)[faces]
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])  # twice the area, along the normal
    area = np.linalg.norm(cross, axis=1)
    centres = corners.mean(axis=1)
    weight = np.maximum(np.bincount(label, area, parts), np.finfo(float).tiny)
    part_centre = np.stack([np.bincount(label, area * centres[:, d], parts) for d in range(3)], axis=1) / weight[:, None]
    volume = np.bincount(label, np.einsum("ij,ij->i", centres - part_centre[label], cross), parts) / 6
    inside_out = volume < -1e-9 * (weight / 2) ** 1.5  # clearly negative for the part's size
    faces[inside_out[label]] = faces[inside_out[label]][:, ::-1]
    return faces


def _face_changes(inside: np.ndarray) -> np.ndarray:
    """The voxels with a face neighbour of the other answer."""
    out = np.zeros_like(inside)
    for axis in range(3):
        lower, upper = [slice(None)] * 3, [slice(None)] * 3
        lower[axis], upper[axis] = slice(None, -1), slice(1, None)
        change = inside[tuple(lower)] != inside[tuple(upper)]
        out[tuple(lower)] |= change
        out[tuple(upper)] |= change
    return out


def _winding_numbers(vertices: np.ndarray, faces: np.ndarray):
    """``points [P, 3] -> w [P]``: the generalised winding number of the triangles, by libigl's
    fast winding number (Barnes et al. 2018: exact near a triangle, a tree of series expansions
    far from it), with one tree for all the calls where this libigl has it."""
    import igl

    vertices, faces = np.ascontiguousarray(vertices, dtype=np.float64), np.ascontiguousarray(faces, dtype=np.int64)
    if hasattr(igl, "FastWindingNumberBVH"):  # libigl >= 2.6.3
        tree = igl.FastWindingNumberBVH()
        tree.init(vertices, faces)
        return lambda points: tree.winding_number(np.ascontiguousarray(points, dtype=np.float64))
    return lambda points: igl.fast_winding_number(vertices, faces, np.ascontiguousarray(points, dtype=np.float64))


def _winding_inside(winding, resolution: int, near: np.ndarray) -> np.ndarray:
    """The winding number at every voxel centre, evaluated only where the answer can change.

    Exactly at the voxels ``near`` the surface and on a lattice of every
    :data:`WINDING_LATTICE_STEP`-th voxel; the other voxels take the value of the lattice voxel
    nearest to them. Then, round by round, every voxel not evaluated yet whose face neighbour
    has the other answer (inside or not) is evaluated, until there is none. Away from the
    surface w is smooth, and its level 0.5 (across a hole) is traced this way from where it
    meets the surface or the lattice; a region of wrong guesses always borders one of them.
    """
    n = resolution
    values = np.zeros((n, n, n))
    evaluated = np.zeros((n, n, n), dtype=bool)
    lattice = np.arange(min(WINDING_LATTICE_STEP // 2, n - 1), n, WINDING_LATTICE_STEP)
    evaluated[np.ix_(lattice, lattice, lattice)] = True
    evaluated |= near
    index = np.argwhere(evaluated)
    values[tuple(index.T)] = winding(grid_to_world(index, n))
    nearest = lattice[np.minimum(np.arange(n) // WINDING_LATTICE_STEP, len(lattice) - 1)]
    values = np.where(evaluated, values, values[np.ix_(nearest, nearest, nearest)])
    while (todo := _face_changes(values >= WINDING_INSIDE) & ~evaluated).any():
        index = np.argwhere(todo)
        values[tuple(index.T)] = winding(grid_to_world(index, n))
        evaluated |= todo
    return values


def _winding_voxels(mesh: trimesh.Trimesh, resolution: int) -> np.ndarray:
    """The voxels inside by the winding number, and the surface's own voxels where they are needed.

    1. Every part of the mesh is turned to face outwards (:func:`_outward_faces`).
    2. A voxel is inside when the generalised winding number at its centre is at least 0.5
       (:data:`WINDING_INSIDE`; Jacobson, Kavan, Sorkine-Hornung, *Robust inside-outside
       segmentation using generalized winding numbers*, SIGGRAPH 2013), in a face-connected
       region of such voxels that holds one of at least 0.75 (:data:`WINDING_CLEARLY_INSIDE`).
       w counts how many times the surface wraps around a point, and degrades gracefully where
       the surface is open, overlaps itself or has extra pieces: holes, gaps and missing faces
       lower it only near them.
    3. The voxels the surface passes through are added where no voxel around them is clearly
       inside, and so are the surface voxels next to those: a sheet or a panel thinner than a
       voxel, which encloses nothing, stays a shell one to two voxels thick joined to the rest;
       the boundary of a solid is not fattened.
    """
    from scipy import ndimage

    from . import _raster

    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float64)
    faces = _outward_faces(mesh)
    surface = _raster._surface_voxels(vertices, faces, resolution, 1e-9)
    around = np.ones((3, 3, 3), dtype=bool)
    values = _winding_inside(_winding_numbers(vertices, faces), resolution, ndimage.binary_dilation(surface, around))
    regions, count = ndimage.label(values >= WINDING_INSIDE)  # face-connected regions
    solid = np.zeros(count + 1, dtype=bool)
    solid[regions[values >= WINDING_CLEARLY_INSIDE]] = True
    solid[0] = False  # outside
    loose = surface & (ndimage.maximum_filter(values, size=3, mode="constant", cval=0.0) < WINDING_CLEARLY_INSIDE)
    return solid[regions] | (surface & ndimage.binary_dilation(loose, around))


def _say(line: str) -> None:
    """Print one line to stderr (voxelize's default ``report``)."""
    print(line, file=sys.stderr, flush=True)


def voxelize(
    mesh: trimesh.Trimesh, resolution: int = VOXEL_RESOLUTION, method: str = "auto", name: str = "mesh", report: Callable[[str], None] | None = None
) -> np.ndarray:
    """Solid occupancy of a normalised mesh on the ``resolution``³ grid over [-0.5, 0.5]³.

    A voxel is filled when its centre is inside the mesh (the interior is filled, as binvox
    does). Returns a boolean array indexed ``[i, j, k]`` along (x, y, z).

    ``method``:
      * ``"parity"`` – for watertight meshes: one ray per column along each of the three axes,
        counting surface crossings; the three answers are combined by majority vote, which
        makes a grazing ray on one axis harmless. Exact up to that vote. Where closed parts
        overlap, their overlap counts as outside.
      * ``"winding"`` – for any mesh, also open, with overlapping or extra parts, or faces wound
        at random: every connected part is turned to face outwards, and a voxel is filled when the
        generalised winding number at its centre is at least 0.5; where the surface encloses
        nothing there (a sheet, a part thinner than a voxel), the voxels it passes through are
        filled, so that no part of it is lost (see :func:`_winding_voxels`). Cavities are filled.
      * ``"auto"`` – ``"parity"`` for a watertight mesh of one piece (every mesh of the
        procedural dataset, whose voxels stay as they were made), ``"winding"`` otherwise, and
        then says so in one line, such as
        ``chair.off: not watertight (37 boundary edges); filled by its winding number``.

    ``report`` receives that line (``name`` names the mesh in it); by default it is printed to
    stderr. Pass e.g. ``notes.append`` to keep it, or ``lambda line: None`` to drop it.
    """
    check_mesh(mesh, name)
    if method == "auto":
        reason = _why_not_parity(mesh)
        method = "winding" if reason else "parity"
        if reason:
            (report or _say)(f"{name}: {reason}; filled by its winding number")
    if method == "parity":
        if not mesh.is_watertight:
            raise MeshError(f"{name}: method='parity' needs a watertight mesh; use method='winding' for open meshes")
        votes = sum(_column_parity(mesh, resolution, axis).astype(np.uint8) for axis in range(3))
        return votes >= 2
    if method == "winding":
        return _winding_voxels(mesh, resolution)
    raise ValueError(f"unknown voxelisation method {method!r}: use 'auto', 'parity' or 'winding'")


# --------------------------------------------------------------------------------------------
# Voxels / occupancy field -> mesh
# --------------------------------------------------------------------------------------------


def marching_cubes(field: np.ndarray, level: float = 0.5) -> trimesh.Trimesh:
    """Surface of ``field >= level`` as a mesh in world coordinates.

    ``field`` holds values at the voxel centres of a cubic grid over [-0.5, 0.5]³ (a boolean
    voxel grid, or occupancy probabilities from a network). The grid is padded with one layer
    of "outside" so that shapes touching the border still give a closed (watertight) mesh.
    Returns an empty mesh when nothing crosses ``level``.
    """
    from skimage import measure

    field = np.asarray(field, dtype=np.float32)
    if field.ndim != 3 or len(set(field.shape)) != 1:
        raise ValueError(f"marching_cubes expects a cubic 3-D grid, got shape {field.shape}")
    resolution = field.shape[0]
    padded = np.pad(field, 1, mode="constant", constant_values=min(float(field.min()), level - 1.0))
    if not (padded.max() >= level > padded.min()):
        return trimesh.Trimesh()
    vertices, faces, _, _ = measure.marching_cubes(padded, level=level)
    vertices = grid_to_world(vertices - 1.0, resolution)
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=True)
    if mesh.volume < 0:  # make the normals point outwards, whatever skimage's winding order
        mesh.invert()
    return mesh


# --------------------------------------------------------------------------------------------
# Mesh -> point cloud
# --------------------------------------------------------------------------------------------


def sample_surface(mesh: trimesh.Trimesh, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points spread uniformly over the surface (area-weighted) and their unit normals."""
    check_mesh(mesh)
    points, face_index = trimesh.sample.sample_surface(mesh, count, seed=seed)
    normals = mesh.face_normals[face_index]
    return points.astype(np.float32), normals.astype(np.float32)


# --------------------------------------------------------------------------------------------
# Implicit field -> occupancy grid -> mesh (dense, and coarse-to-fine)
# --------------------------------------------------------------------------------------------


def dense_occupancy(field_fn, resolution: int, batch: int = 65536) -> tuple[np.ndarray, int]:
    """Evaluate ``field_fn(points [P, 3]) -> values [P]`` at every voxel centre of a ``resolution``³ grid.

    Returns the grid of values and the number of points evaluated (``resolution**3``).
    """
    points = grid_points(resolution)
    values = np.concatenate([np.asarray(field_fn(points[i : i + batch])).reshape(-1) for i in range(0, len(points), batch)])
    return values.reshape((resolution,) * 3).astype(np.float32), len(points)


def coarse_to_fine_occupancy(
    field_fn, resolution: int, start: int = 32, level: float = 0.5, batch: int = 65536, band: float | None = None
) -> tuple[np.ndarray, int]:
    """Like :func:`dense_occupancy`, but evaluating only where the surface can be.

    Evaluate the ``start``³ grid. Then, level by level (×2 each), split every cell into its 8
    children; a child that is not evaluated takes its parent's value. Which children are evaluated:

    1. *Seeds.* In the first refinement, all 8 children of every cell on the boundary: a cell
       whose 3×3×3 neighbourhood holds both answers (or, with ``band``, an outside answer and
       a value of at least ``band``; see below). In later levels, the 4 children on the side
       of a face neighbour with the other answer: where the surface crosses between two
       cells, only the halves of the two cells that face each other can change answer.
    2. *Following the surface.* A child not evaluated yet, whose face neighbour was just
       evaluated and has the other answer, is evaluated too, and so on until no such child is
       left. The seeds assume a flat surface between cell centres; where it bends or a thin
       part runs along the coarse cells, the change of answer reaches children beyond the
       seeds, and this step follows it there.

    At the end of a level, every two face neighbours with different answers have both been
    evaluated at that level, so each sheet of surface the previous level saw is traced in full.
    The surface of an object has O(n²) cells out of n³, so at 256³ this evaluates about 1% of
    the 16.7 million points.

    What it can miss: a part that no cell of the previous level saw. At the start that is a
    part thinner than a ``start``-grid cell that no ``start``-grid centre falls in. ``band`` (a
    value below ``level``) narrows that gap for smooth fields: in the first refinement, an
    outside cell next to a value of at least ``band`` counts as a boundary cell too. A smooth
    field, such as a decoder's sigmoid output, already rises near a thin part at the coarse
    centres that miss it, so the part is refined and found at twice the start resolution; from
    there on it is a change of answer like any other. A field that jumps from 0 to 1 (the
    inside test of a mesh) gives no such warning; there only a finer start helps.

    Returns the value grid (float32) and the number of points evaluated.
    """
    from scipy import ndimage

    if resolution % start or (resolution // start) & (resolution // start - 1):
        raise ValueError(f"resolution {resolution} must be start ({start}) times a power of two")
    if band is not None and not 0 < band <= level:
        raise ValueError(f"band must be in (0, level={level}], got {band}")
    values, evaluated = dense_occupancy(field_fn, start, batch)
    current = start
    neighbourhood = np.ones((3, 3, 3), dtype=bool)
    while current < resolution:
        inside = values >= level
        if current == start:
            # The first refinement finds the thin parts: all children of every cell whose 3×3×3
            # neighbourhood holds both answers (or, with a band, an outside answer and a raised value).
            raised = values >= band if band is not None else inside
            boundary = ndimage.binary_dilation(raised, neighbourhood) & ndimage.binary_dilation(~inside, neighbourhood)
            evaluate = _children(boundary)
        else:
            evaluate = _children_facing_a_change(inside)
        current *= 2
        values = _children(values)  # children inherit the parent's value
        index = np.argwhere(evaluate)
        while len(index):
            points = grid_to_world(index, current).astype(np.float32)
            fresh = np.concatenate([np.asarray(field_fn(points[i : i + batch])).reshape(-1) for i in range(0, len(points), batch)])
            values[tuple(index.T)] = fresh
            evaluated += len(index)
            index = _across_the_surface(index, fresh >= level, values, evaluate, level)
    return values.astype(np.float32), evaluated


_FACES = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])


def _children(grid: np.ndarray) -> np.ndarray:
    """The grid at twice the resolution, each cell's value copied into its 8 children."""
    n = grid.shape[0]
    return np.broadcast_to(grid[:, None, :, None, :, None], (n, 2, n, 2, n, 2)).reshape(2 * n, 2 * n, 2 * n)


def _children_facing_a_change(inside: np.ndarray) -> np.ndarray:
    """At twice the resolution: the children of each cell on the side of a face neighbour with the other answer."""
    n = inside.shape[0]
    fine = np.zeros((n, 2, n, 2, n, 2), dtype=bool)  # cell (i, j, k), child (a, b, c) at [i, a, j, b, k, c]
    for axis in range(3):
        lower, upper = [slice(None)] * 3, [slice(None)] * 3
        lower[axis], upper[axis] = slice(None, -1), slice(1, None)
        lower, upper = tuple(lower), tuple(upper)
        change_above = np.zeros_like(inside)  # the neighbour one step up this axis has the other answer
        change_above[lower] = inside[lower] != inside[upper]
        change_below = np.zeros_like(inside)  # the neighbour one step down has it
        change_below[upper] = change_above[lower]
        shape = [n, 1, n, 1, n, 1]
        del shape[2 * axis + 1]
        for side, change in ((1, change_above), (0, change_below)):
            children = [slice(None)] * 6
            children[2 * axis + 1] = side
            fine[tuple(children)] |= change.reshape(shape)
    return fine.reshape(2 * n, 2 * n, 2 * n)


def _across_the_surface(index: np.ndarray, answers: np.ndarray, values: np.ndarray, evaluated: np.ndarray, level: float) -> np.ndarray:
    """The cells not evaluated yet (``evaluated`` is False) that are face neighbours of the cells at
    ``index`` and hold the other answer; marks them in ``evaluated`` and returns their indices."""
    n = values.shape[0]
    neighbours = (index[:, None, :] + _FACES).reshape(-1, 3)
    answers = np.repeat(answers, len(_FACES))
    on_grid = np.all((neighbours >= 0) & (neighbours < n), axis=1)
    flat = np.ravel_multi_index(tuple(neighbours[on_grid].T), values.shape)
    other = (values.reshape(-1)[flat] >= level) != answers[on_grid]
    flat = np.unique(flat[other & ~evaluated.reshape(-1)[flat]])
    evaluated.reshape(-1)[flat] = True
    return np.stack(np.unravel_index(flat, values.shape), axis=1)


def check_mesh_path(path: str | Path) -> Path:
    """A path :func:`save_mesh` can write: a ``.obj``, ``.ply``, ``.stl`` or ``.off`` name in an existing or creatable folder."""
    path = Path(path)
    if path.suffix.lower() not in (".obj", ".ply", ".stl", ".off"):
        raise ValueError(f"{path}: choose a .obj, .ply, .stl or .off file name")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a mesh file name")
    return path


def save_mesh(mesh: trimesh.Trimesh, path: str | Path) -> Path:
    """Write a mesh as ``.obj``, ``.ply``, ``.stl`` or ``.off`` (chosen by the suffix); an empty mesh is refused, never written."""
    path = check_mesh_path(path)
    if len(mesh.faces) == 0:
        raise MeshError(f"{path}: not written: the mesh is empty (no faces)")
    from .provenance import atomic_path

    with atomic_path(path) as tmp:  # never a half-written mesh under the asked-for name
        mesh.export(tmp)
    return path


# --------------------------------------------------------------------------------------------
# Cleaning a decoded shape: drop floating fragments
# --------------------------------------------------------------------------------------------

#: A connected part of a decoded shape smaller than this fraction of its largest part is taken
#: for a fragment. The dataset's own shapes do have separate parts (a lamp's shade, a rifle's
#: magazine); the threshold sits well below the smallest of them, so that it never hides a
#: real part. ``benchmarks/bench_foreign.py`` measures both sides of it: the true shapes' parts,
#: and the fragments it removes from the image encoder's shapes (BENCHMARKS.md, "Pictures from
#: elsewhere").
FRAGMENT_FRACTION = 0.005


def keep_main_parts(occupancy: np.ndarray, level: float = 0.5, min_fraction: float = FRAGMENT_FRACTION) -> tuple[np.ndarray, int]:
    """``occupancy`` with its small floating fragments emptied, and how many fragments were dropped.

    The inside (``occupancy >= level``) is split into connected parts (cells touching by a face,
    an edge or a corner count as connected, so a thin diagonal leg stays one with its seat);
    every part with fewer than ``min_fraction`` times the voxels of the largest part is set to
    outside (0, or below ``level`` for a field that is never 0). Returns a new array of the same
    dtype; a grid with no inside comes back unchanged.
    """
    from scipy import ndimage

    occupancy = np.asarray(occupancy)
    if not 0.0 <= min_fraction <= 1.0:
        raise ValueError(f"min_fraction must be in [0, 1], got {min_fraction}")
    labels, count = ndimage.label(occupancy >= level, structure=np.ones((3,) * occupancy.ndim, dtype=bool))
    if count <= 1:
        return occupancy.copy(), 0
    sizes = np.bincount(labels.ravel())[1:]
    fragments = np.flatnonzero(sizes < min_fraction * sizes.max()) + 1  # label numbers start at 1
    cleaned = occupancy.copy()
    if len(fragments):
        cleaned[np.isin(labels, fragments)] = False if occupancy.dtype == bool else (0.0 if level > 0 else level - 1.0)
    return cleaned, int(len(fragments))
