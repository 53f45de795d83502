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

import warnings
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


def load_mesh(path: str | Path) -> trimesh.Trimesh:
    """Read a triangle mesh from ``.obj/.off/.stl/.ply`` (and glTF), with errors that name the file.

    Scenes (several objects in one file) are merged into one mesh. Raises ``FileNotFoundError``
    for a missing file and :class:`MeshError` for a file that holds no usable triangles.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() not in MESH_SUFFIXES:
        raise MeshError(f"{path}: unsupported file type {path.suffix!r}; expected one of {MESH_SUFFIXES}")
    try:
        loaded = trimesh.load(path, force="mesh", process=True)
    except Exception as exc:  # trimesh raises many kinds of errors for broken files
        raise MeshError(f"{path}: could not be read as a mesh ({type(exc).__name__}: {exc})") from exc
    if not isinstance(loaded, trimesh.Trimesh):
        raise MeshError(f"{path}: holds no triangles (got {type(loaded).__name__})")
    check_mesh(loaded, name=str(path))
    return loaded


def check_mesh(mesh: trimesh.Trimesh, name: str = "mesh") -> None:
    """Raise :class:`MeshError` (naming ``name``) for an empty, flat or non-finite mesh."""
    if not isinstance(mesh, trimesh.Trimesh):
        raise MeshError(f"{name}: expected a trimesh.Trimesh, got {type(mesh).__name__}")
    if len(mesh.faces) == 0 or len(mesh.vertices) == 0:
        raise MeshError(f"{name}: the mesh is empty (no faces)")
    if not np.all(np.isfinite(mesh.vertices)):
        raise MeshError(f"{name}: the mesh has non-finite vertex coordinates (NaN or inf)")
    if mesh.area <= 0:
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


def center_of_mass(mesh: trimesh.Trimesh) -> np.ndarray:
    """Volume centroid of a closed mesh; the area-weighted surface centroid of an open one."""
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


def _shell_and_fill(mesh: trimesh.Trimesh, resolution: int) -> np.ndarray:
    """Voxelise the surface (every voxel a surface sample falls in), then fill enclosed space.

    Works for meshes with small holes (smaller than a voxel) and for inconsistent face
    orientation; a hole wider than a voxel lets the "outside" leak in, and then only the shell
    remains. That is the documented limit of this method.
    """
    from scipy import ndimage

    spacing = 1.0 / (3 * resolution)  # three samples per voxel side
    count = int(min(5_000_000, max(10_000, mesh.area / spacing**2)))
    points, _ = trimesh.sample.sample_surface(mesh, count, seed=0)
    points = np.concatenate([points, mesh.vertices])
    index = np.floor((points + 0.5) * resolution).astype(int)
    index = index[np.all((index >= 0) & (index < resolution), axis=1)]
    shell = np.zeros((resolution,) * 3, dtype=bool)
    shell[index[:, 0], index[:, 1], index[:, 2]] = True
    filled = ndimage.binary_fill_holes(shell)
    # The shell voxels straddle the surface. Keep those whose centre lies behind the nearest
    # face (inside, by that face's normal), so the result is not one voxel too fat.
    shell_index = np.argwhere(shell)
    centres = grid_to_world(shell_index, resolution)
    nearest, _, face = trimesh.proximity.closest_point(mesh, centres)
    behind = np.einsum("ij,ij->i", centres - nearest, mesh.face_normals[face]) <= 0
    filled[tuple(shell_index[~behind].T)] = False
    return filled


def voxelize(mesh: trimesh.Trimesh, resolution: int = VOXEL_RESOLUTION, method: str = "auto", name: str = "mesh") -> np.ndarray:
    """Solid occupancy of a normalised mesh on the ``resolution``³ grid over [-0.5, 0.5]³.

    A voxel is filled when its centre is inside the mesh (the interior is filled, as binvox
    does). Returns a boolean array indexed ``[i, j, k]`` along (x, y, z).

    ``method``:
      * ``"parity"`` – for watertight meshes: one ray per column along each of the three axes,
        counting surface crossings; the three answers are combined by majority vote, which
        makes a grazing ray on one axis harmless. Exact up to that vote.
      * ``"fill"`` – for meshes that are not watertight: voxelise the surface, then fill the
        space it encloses. Robust to holes smaller than a voxel (see :func:`_shell_and_fill`).
      * ``"auto"`` – ``"parity"`` for watertight meshes, ``"fill"`` (with a warning) otherwise.
    """
    check_mesh(mesh, name)
    if method == "auto":
        if mesh.is_watertight:
            method = "parity"
        else:
            warnings.warn(f"{name}: mesh is not watertight; voxelising its surface and filling the enclosed space", stacklevel=2)
            method = "fill"
    if method == "parity":
        if not mesh.is_watertight:
            raise MeshError(f"{name}: method='parity' needs a watertight mesh; use method='fill' for open meshes")
        votes = sum(_column_parity(mesh, resolution, axis).astype(np.uint8) for axis in range(3))
        return votes >= 2
    if method == "fill":
        return _shell_and_fill(mesh, resolution)
    raise ValueError(f"unknown voxelisation method {method!r}: use 'auto', 'parity' or 'fill'")


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
    """Write a mesh as ``.obj``, ``.ply``, ``.stl`` or ``.off`` (chosen by the suffix)."""
    path = check_mesh_path(path)
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
