"""The light field descriptor (Chen, Tian, Shen, Ouhyoung, Eurographics 2003): how alike do two shapes look?

The talk's "Light field descriptors (LFD)" slide. A shape is described by what it *looks
like*: silhouettes from the vertices of ten dodecahedra (:func:`lfd_silhouettes`), each
summarised by Zernike moments (:func:`zernike_magnitudes`) and a contour Fourier descriptor
(:func:`contour_fourier`), kept in a :class:`LightFieldDescriptor` (:func:`lfd_descriptor`);
two shapes are compared under the best of 60 × 10 × 10 alignments (:func:`lfd_distance`,
:func:`lfd_distance_matrix`). The comment below the imports explains every choice.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache
from math import factorial
from pathlib import Path

import numpy as np
import trimesh
from scipy.spatial.distance import cdist

from ..geometry import center_of_mass, check_mesh

#
# The choices, in the order the descriptor is made:
#
# 1. Normalisation. The mesh is moved so that its centre of mass is at the origin and scaled so
#    that its farthest vertex is at distance 1: it fills the unit sphere centred on its centre
#    of mass (the talk: "model is in the center of mass"). Both steps commute with rotations,
#    so the descriptor is invariant to translation and scale and equivariant to rotation.
# 2. Cameras. The 20 vertices of a regular dodecahedron, on the unit sphere. Opposite vertices
#    see mirror images of the same orthographic silhouette, and every descriptor below is
#    unchanged by mirroring, so only 10 directions (one of each opposite pair) are rendered.
#    A *light field* is those 10 silhouettes. Ten light fields come from ten rotations of the
#    dodecahedron (:func:`light_field_rotations`): the identity, then nine rotations chosen
#    greedily from seeded random candidates so that the 200 camera directions spread over the
#    sphere (each new dodecahedron maximises its smallest angle to the cameras already chosen).
# 3. Silhouettes. Orthographic, ``resolution``² pixels over [-1, 1]² (the projection of the
#    unit sphere), a pixel being inside when its centre is inside the projection of a triangle.
#    The image axes follow :func:`rendering.camera_basis`, as in
#    :func:`rendering.orthographic_silhouettes`, which gives the same pixels by casting one ray
#    per pixel; we scan-convert the triangles instead (a compiled kernel, as are the contour
#    tracing and the moments below: :mod:`tutorial_lib._raster`), because that is much faster
#    (``renderer="raycast"`` still uses the ray caster). The default resolution is 128 (the
#    original: 256): a quarter of the pixels, for coefficients that move only a little. The
#    speed of both renderers, how often their pixels differ, and how far the coefficients
#    move between 128² and 256² are measured by ``benchmarks/bench_metrics.py``.
# 4. Region descriptor: the magnitudes of the 36 Zernike moments Z_nm with n <= 10, 0 <= m <= n,
#    n - m even, except Z_00 (the silhouette's area): 35 numbers, as the original's 35. They
#    are computed on the unit disk inscribed in the image, centred on the projection of the
#    centre of mass; the magnitudes do not change when the image turns about that centre or is
#    mirrored. (Zernike moments, as the paper describes; the authors' released code computes
#    the angular radial transform of MPEG-7 instead, also 35 coefficients.) Each moment is a
#    sum over the inside pixels, taken in float64 in pixel order, so it is the same number on
#    every machine and with any number of threads (a float32 BLAS product's last bits are not).
# 5. Contour descriptor: the outer contour of the silhouette (its boundary pixel cracks, holes
#    left out, the longest piece if pixelation splits the silhouette), smoothed by a 5-point
#    moving average to iron out the pixel staircase, resampled at 128 points equally spaced
#    along its length; each point's distance to the centroid of the region the contour encloses
#    is the "centroid distance signature"; its Fourier magnitudes |F_1| ... |F_10| divided by
#    |F_0| are the 10 numbers. Unchanged by rotation, mirroring, starting point and direction.
# 6. Distance between two silhouettes: L1 (sum of absolute differences) over the coefficients,
#    as in the original, each part divided by its typical size so that both weigh the same:
#    ``d = |ΔZ|₁ / REGION_SCALE + |ΔF|₁ / CONTOUR_SCALE``. The scales are the mean L1 distances
#    between silhouettes of different shapes seen from the same camera, measured once on 4
#    procedural shapes of each of the 13 categories (seeds 100–103; :func:`calibrate_scales`).
#    Two unrelated silhouettes are therefore about 2 apart.
# 7. Distance between two light fields: the 10 cameras of one can be matched to those of the
#    other in 60 ways, one per rotation of the dodecahedron onto itself (:func:`view_permutations`);
#    the distance is the smallest, over those 60, of the sum of the 10 silhouette distances.
# 8. Distance between two shapes: the smallest light-field distance over the 10 × 10 pairs of
#    light fields. A rotation of the shape that maps the dodecahedron onto itself is matched
#    exactly (light field 0 against light field 0, the right permutation); other rotations
#    are approximated by the closest of 6000 alignments.
#
# Invariances: translation and scale exactly (the normalisation undoes them; floating-point
# rounding could at worst flip a pixel whose centre lies on a triangle edge); mirroring exactly
# (mirrored silhouettes have the same magnitudes); the 60 dodecahedral rotations up to
# pixelation: the rotated shape's silhouettes are the same silhouettes turned in the image
# plane, sampled on a grid that did not turn. That leaves a small distance between a shape and
# its turned copy, far below the distance between two different shapes of one category (both
# measured by ``benchmarks/bench_metrics.py``).

GOLDEN = (1.0 + 5.0**0.5) / 2.0
LFD_RESOLUTION = 128
LIGHT_FIELDS = 10
VIEWS = 10  # silhouettes per light field (one per pair of opposite dodecahedron vertices)
ZERNIKE_ORDER = 10
CONTOUR_SAMPLES = 128
FOURIER_COEFFICIENTS = 10
LIGHT_FIELD_SEED = 2003
#: Views of one pass of the scan conversion: at most this many (face, view) pairs (about 200 MB).
RASTER_PAIRS = 1_000_000
#: Mean L1 distances between the Zernike (resp. contour Fourier) coefficients of silhouettes of
#: different shapes: see point 6 above.
REGION_SCALE = 1.8
CONTOUR_SCALE = 0.33


def _dodecahedron_vertices() -> np.ndarray:
    phi, inv = GOLDEN, 1.0 / GOLDEN
    vertices = [list(v) for v in itertools.product((-1.0, 1.0), repeat=3)]
    for a, b in itertools.product((-1.0, 1.0), repeat=2):
        vertices += [[0.0, a * inv, b * phi], [a * inv, b * phi, 0.0], [a * phi, 0.0, b * inv]]
    vertices = np.array(vertices)
    return vertices / np.linalg.norm(vertices, axis=1, keepdims=True)


def _positive(v: np.ndarray) -> bool:
    """True for exactly one vertex of each opposite pair: the first non-zero coordinate is positive."""
    first = v[np.flatnonzero(np.abs(v) > 1e-9)[0]]
    return bool(first > 0)


@cache
def _dodecahedron() -> tuple[np.ndarray, np.ndarray]:
    vertices = _dodecahedron_vertices()
    views = np.array([v for v in vertices if _positive(v)])
    rest = np.array([v for v in vertices if not _positive(v)])
    # Order the 20 vertices as the 10 view directions followed by their opposites.
    opposite = np.array([np.argmin(np.linalg.norm(rest + v, axis=1)) for v in views])
    return np.concatenate([views, rest[opposite]]), views


def dodecahedron_vertices() -> np.ndarray:
    """The 20 vertices of a regular dodecahedron on the unit sphere ``[20, 3]``: rows 0–9 are the
    10 camera directions, row ``i + 10`` is the vertex opposite row ``i``."""
    return _dodecahedron()[0].copy()


def _rotation_about(axis, degrees: float) -> np.ndarray:
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    angle = np.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


@cache
def _rotation_group() -> np.ndarray:
    # A 72° turn about a face axis and a 120° turn about a vertex axis generate all 60 rotations.
    face_axis = np.array([0.0, GOLDEN, 1.0])  # through the centre of a face (5 vertices around it)
    generators = [_rotation_about(face_axis, 72.0), _rotation_about([1.0, 1.0, 1.0], 120.0)]
    group = [np.eye(3)]
    frontier = [np.eye(3)]
    while frontier:
        if len(group) > 60:
            raise AssertionError("the generators do not map the dodecahedron onto itself")
        fresh = []
        for g, h in itertools.product(frontier, generators):
            candidate = h @ g
            if not any(np.allclose(candidate, k, atol=1e-9) for k in group):
                group.append(candidate)
                fresh.append(candidate)
        frontier = fresh
    return np.array(group)


def dodecahedron_rotations() -> np.ndarray:
    """The 60 rotations ``[60, 3, 3]`` that map the dodecahedron onto itself (the first is the identity)."""
    return _rotation_group().copy()


@cache
def _view_permutations() -> np.ndarray:
    vertices, views = _dodecahedron()
    permutations = []
    for rotation in _rotation_group():
        moved = views @ rotation.T  # rotation applied to each camera direction
        # Each moved camera lands on a vertex; its view index is that vertex's row modulo 10.
        nearest = np.argmax(moved @ vertices.T, axis=1)
        permutations.append(nearest % VIEWS)
    return np.array(permutations)


def view_permutations() -> np.ndarray:
    """``[60, 10]``: row ``k`` sends camera ``i`` to camera ``perm[k, i]`` (up to the opposite
    vertex) under the ``k``-th dodecahedral rotation. The 60 rows form a group (closed under
    composition and inverses), which makes the light field distance symmetric."""
    return _view_permutations().copy()


@cache
def _light_field_rotations(count: int = LIGHT_FIELDS, seed: int = LIGHT_FIELD_SEED, candidates: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vertices = _dodecahedron()[0]
    chosen = [np.eye(3)]
    cameras = vertices.copy()
    for _ in range(count - 1):
        # Uniform random rotations: unit quaternions from a 4-D Gaussian.
        q = rng.normal(size=(candidates, 4))
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        w, x, y, z = q.T
        rotations = np.stack([
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ], axis=1)  # fmt: skip
        moved = np.einsum("kij,vj->kvi", rotations, vertices)  # [candidates, 20, 3]
        closeness = np.einsum("kvi,ci->kvc", moved, cameras).max(axis=(1, 2))  # cos of the smallest angle
        best = int(np.argmin(closeness))
        chosen.append(rotations[best])
        cameras = np.concatenate([cameras, moved[best]])
    return np.array(chosen)


def light_field_rotations() -> np.ndarray:
    """The 10 rotations ``[10, 3, 3]`` of the dodecahedron that give the 10 light fields.

    The first is the identity; the others are picked greedily from 2000 uniform random
    rotations each (``numpy.random.default_rng(2003)``), each maximising the smallest angle
    between its cameras and all cameras chosen before.
    """
    return _light_field_rotations().copy()


def light_field_directions() -> np.ndarray:
    """Camera directions ``[10 light fields, 10 views, 3]`` (unit vectors from the centre to the camera)."""
    views = _dodecahedron()[1]
    return np.einsum("lij,vj->lvi", _light_field_rotations(), views)


def normalize_for_lfd(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """A copy with its centre of mass at the origin and its farthest vertex at distance 1."""
    check_mesh(mesh)
    out = mesh.copy()
    out.apply_translation(-center_of_mass(out))
    out.apply_scale(1.0 / np.linalg.norm(out.vertices, axis=1).max())
    return out


def _camera_axes(directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(right, up) image axes ``[V, 3]`` of cameras at unit ``directions`` looking at the centre:
    :func:`rendering.camera_basis` for all views at once."""
    forward = -directions
    right = np.cross(forward, [0.0, 1.0, 0.0])
    length = np.linalg.norm(right, axis=1, keepdims=True)
    degenerate = length[:, 0] < 1e-8  # looking straight down or up
    right = np.where(degenerate[:, None], [1.0, 0.0, 0.0], right / np.where(degenerate[:, None], 1.0, length))
    return right, np.cross(right, forward)


def _rasterize(mesh: trimesh.Trimesh, directions: np.ndarray, size: int, radius: float = 1.0) -> np.ndarray:
    """Orthographic silhouettes ``[V, size, size]`` by scan conversion of the triangles, all views at once.

    Pixel ``(row, col)`` covers the image-plane point ``radius * ((col + 0.5) / (size/2) - 1,
    1 - (row + 0.5) / (size/2))`` along the camera's (right, up) axes, exactly as
    :func:`rendering.orthographic_silhouettes`, and is inside when that point is inside the
    projection of a triangle. Each (triangle, pixel row) pair gives one run of pixels between
    the triangle's long edge (top to bottom vertex) and its upper or lower short edge; the runs
    are filled by a compiled kernel (:func:`tutorial_lib._raster._silhouettes`).
    """
    directions = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    right, up = _camera_axes(directions)
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces)
    half = size / 2.0
    column = (vertices @ right.T / radius + 1.0) * half  # [vertices, views], pixel units
    row = (1.0 - vertices @ up.T / radius) * half
    n_views = len(directions)
    if mesh.is_watertight and mesh.is_winding_consistent:
        # The silhouette of a closed surface is covered by the faces turned towards the camera.
        sign = 1.0 if mesh.volume >= 0 else -1.0
        face_index, view_index = np.nonzero((mesh.face_normals @ directions.T) * sign > 0)
    else:
        face_index = np.repeat(np.arange(len(faces)), n_views)
        view_index = np.tile(np.arange(n_views), len(faces))
    from .. import _raster

    return _raster._silhouettes(np.ascontiguousarray(column), np.ascontiguousarray(row), np.ascontiguousarray(faces, dtype=np.int64),
                                face_index.astype(np.int64), view_index.astype(np.int64), n_views, size)  # fmt: skip


def lfd_silhouettes(mesh: trimesh.Trimesh, resolution: int = LFD_RESOLUTION, renderer: str = "raster") -> np.ndarray:
    """The 100 silhouettes ``[10 light fields, 10 views, resolution, resolution]`` of a mesh.

    ``renderer="raster"`` scan-converts the triangles (fast, the default); ``"raycast"`` calls
    :func:`rendering.orthographic_silhouettes` (Embree rays: slower, and the same pixels but
    for the odd one whose centre lies on a triangle edge; ``benchmarks/bench_metrics.py`` measures both).
    """
    normalised = normalize_for_lfd(mesh)
    directions = light_field_directions().reshape(-1, 3)
    if renderer == "raster":
        # The scan conversion holds about 200 bytes per (face, view) pair: the views go in groups
        # small enough to keep that under RASTER_PAIRS pairs (every view at once up to 10,000 faces).
        step = max(1, min(len(directions), RASTER_PAIRS // max(1, len(normalised.faces))))
        images = np.concatenate([_rasterize(normalised, directions[i : i + step], resolution) for i in range(0, len(directions), step)])
    elif renderer == "raycast":
        from ..rendering import orthographic_silhouettes

        images = orthographic_silhouettes(normalised, directions, size=resolution, radius=1.0)
    else:
        raise ValueError(f"unknown renderer {renderer!r}: use 'raster' or 'raycast'")
    return images.reshape(LIGHT_FIELDS, VIEWS, resolution, resolution)


def zernike_indices(order: int = ZERNIKE_ORDER) -> list[tuple[int, int]]:
    """The (n, m) of the region descriptor: n <= order, 0 <= m <= n, n - m even, without (0, 0)."""
    return [(n, m) for n in range(order + 1) for m in range(n % 2, n + 1, 2) if (n, m) != (0, 0)]


@lru_cache(maxsize=8)
def _zernike_basis(size: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels inside the unit disk, and the conjugate Zernike polynomials there times (n+1)/π · pixel area,
    as a real matrix ``[pixels, 2 * moments]`` (real parts, then imaginary parts)."""
    centres = (np.arange(size) + 0.5) / (size / 2.0) - 1.0
    x, y = np.meshgrid(centres, -centres, indexing="xy")  # rows go down, y up
    rho, theta = np.hypot(x, y).ravel(), np.arctan2(y, x).ravel()
    inside = rho <= 1.0
    rho, theta = rho[inside], theta[inside]
    pixel_area = (2.0 / size) ** 2
    columns = []
    for n, m in zernike_indices(order):
        radial = sum((-1) ** k * factorial(n - k) / (factorial(k) * factorial((n + m) // 2 - k) * factorial((n - m) // 2 - k)) * rho ** (n - 2 * k)
                     for k in range((n - m) // 2 + 1))  # fmt: skip
        columns.append((n + 1) / np.pi * pixel_area * radial * np.exp(-1j * m * theta))
    basis = np.stack(columns, axis=1)
    return inside, np.concatenate([basis.real, basis.imag], axis=1).astype(np.float32)


@lru_cache(maxsize=8)
def _disk_basis(size: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the pixels whose centres lie in the unit disk inscribed in a ``size``² image, and :func:`_zernike_basis` there."""
    inside, basis = _zernike_basis(size, order)
    return np.flatnonzero(inside), np.ascontiguousarray(basis)


def zernike_magnitudes(images: np.ndarray, order: int = ZERNIKE_ORDER) -> np.ndarray:
    """|Z_nm| of binary images ``[..., S, S]`` on the unit disk inscribed in the image: ``[..., 35]`` for order 10."""
    images = np.asarray(images)
    size = images.shape[-1]
    from .. import _raster

    flat = images.reshape(-1, size * size)
    if flat.dtype != bool:
        flat = flat.astype(np.float64)
    # The moments: the basis summed over the pixels inside the disk, weighted by the image (a compiled kernel).
    index, basis = _disk_basis(size, order)
    moments = _raster._zernike_moments(np.ascontiguousarray(flat), index, basis)
    count = basis.shape[1] // 2
    magnitudes = np.hypot(moments[:, :count], moments[:, count:])
    return magnitudes.reshape(images.shape[:-2] + (count,))


# Directions on the pixel-corner lattice, clockwise on screen (rows grow downwards): E, S, W, N.
_STEPS = np.array([[0, 1], [1, 0], [0, -1], [-1, 0]])


def _boundary_cycles(images: np.ndarray):
    """Every boundary of binary images ``[V, H, W]`` as closed chains of pixel cracks, all images at once.

    A crack is the side shared by an inside and an outside pixel, directed so that the inside
    is on its right. Following crack to crack gives closed cycles; at a corner where two
    cycles touch (diagonal pixels) the left turn is taken, which keeps diagonal neighbours
    together (the inside is 8-connected). Outer boundaries run clockwise on screen, holes
    anticlockwise. Returns, for every crack in chain order (sorted by cycle, then position
    along it), its image, its cycle id and its midpoint (row, col) in pixel coordinates.
    """
    _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    # Horizontal cracks on corner row r, between pixels (r-1, c) and (r, c) of the image.
    v1, r1, c1 = np.nonzero(padded[:, :-1, 1:-1] != padded[:, 1:, 1:-1])
    inside_below = padded[v1, r1 + 1, c1 + 1]
    # Vertical cracks on corner column c, between pixels (r, c-1) and (r, c).
    v2, r2, c2 = np.nonzero(padded[:, 1:-1, :-1] != padded[:, 1:-1, 1:])
    inside_right = padded[v2, r2 + 1, c2 + 1]
    image = np.concatenate([v1, v2])
    # Inside below: east from corner (r, c); above: west from (r, c+1). Inside right: north
    # from (r+1, c); left: south from (r, c).
    row = np.concatenate([r1, r2 + inside_right])
    col = np.concatenate([c1 + ~inside_below, c2])
    direction = np.concatenate([np.where(inside_below, 0, 2), np.where(inside_right, 3, 1)])
    count = len(image)
    if count == 0:
        return image, image, np.zeros((0, 2))
    width = w + 1
    key = ((image * (h + 1) + row) * width + col) * 4 + direction
    order = np.argsort(key)
    image, row, col, direction, key = image[order], row[order], col[order], direction[order], key[order]
    end_corner = ((image * (h + 1) + row + _STEPS[direction, 0]) * width + col + _STEPS[direction, 1]) * 4
    successor = np.full(count, -1)
    for turn in (3, 0, 1):  # left, straight on, right: the first that exists
        wanted = end_corner + (direction + turn) % 4
        at = np.minimum(np.searchsorted(key, wanted), count - 1)
        found = (key[at] == wanted) & (successor < 0)
        successor[found] = at[found]
    # Cycle id = the smallest crack index on the cycle, by pointer jumping.
    steps = int(np.ceil(np.log2(count + 1))) + 1
    cycle, jump = np.arange(count), successor
    for _ in range(steps):
        cycle = np.minimum(cycle, cycle[jump])
        jump = jump[jump]
    # Position along the cycle from its smallest crack (list ranking by pointer jumping).
    predecessor = np.empty(count, dtype=np.int64)
    predecessor[successor] = np.arange(count)
    head = cycle == np.arange(count)
    predecessor[head] = np.flatnonzero(head)
    rank = (~head).astype(np.int64)
    for _ in range(steps):
        rank = rank + rank[predecessor]
        predecessor = predecessor[predecessor]
    chain = np.lexsort((rank, cycle))
    midpoints = np.stack([row + _STEPS[direction, 0] / 2.0, col + _STEPS[direction, 1] / 2.0], axis=1) - 0.5
    return image[chain], cycle[chain], midpoints[chain]


def _outer_contours_flat(images: np.ndarray):
    """Concatenated outer contours of binary images ``[V, H, W]``: points ``[K, 2]`` and, per image,
    the (start, stop) of its contour in them (start == stop for an empty image).

    A compiled kernel (:func:`tutorial_lib._raster._outer_contours`) follows the cracks of
    :func:`_boundary_cycles` image by image and keeps, per image, the outer boundary
    (clockwise on screen) with the most cracks, as :func:`_outer_contours_numpy` does with
    numpy for all images at once (the same points, far faster).
    """
    from .. import _raster

    return _raster._outer_contours(np.ascontiguousarray(images, dtype=bool))


def _outer_contours_numpy(images: np.ndarray):
    """:func:`_outer_contours_flat` in numpy (kept as the reference the kernel is tested against)."""
    image, cycle, points = _boundary_cycles(images)
    bounds = np.zeros((len(images), 2), dtype=np.int64)
    if len(image) == 0:
        return points, bounds
    cycles, first, lengths = np.unique(cycle, return_index=True, return_counts=True)
    # Signed area of each cycle (shoelace over consecutive midpoints, wrapping round).
    following = np.arange(len(points)) + 1
    cycle_index = np.repeat(np.arange(len(cycles)), lengths)
    wraps = first + lengths - 1
    following[wraps] = first
    cross = points[:, 1] * points[following, 0] - points[following, 1] * points[:, 0]
    area = np.bincount(cycle_index, weights=cross) / 2.0
    owner = image[first]
    # Per image, the outer boundary (clockwise on screen: positive in (col, row) axes) with the
    # most cracks: sort by (image, outer first, length) and take the last of each image.
    outer = area > 0
    pick = np.lexsort((lengths, outer, owner))
    last = np.flatnonzero(np.append(owner[pick][1:] != owner[pick][:-1], True))
    chosen = pick[last]
    chosen = chosen[outer[chosen]]
    bounds[owner[chosen], 0] = first[chosen]
    bounds[owner[chosen], 1] = first[chosen] + lengths[chosen]
    return points, bounds


def outer_contours(images: np.ndarray) -> list[np.ndarray]:
    """The outer contour of each binary image ``[..., S, S]``: a closed polyline ``[K, 2]`` of (row, col)
    points in pixel coordinates, clockwise on screen (empty for an empty image).

    Holes are ignored (their boundaries run the other way round); when the silhouette falls
    apart into pieces (thin parts lost to the pixels), the longest outer boundary is taken.
    The points are the midpoints of the boundary cracks: what marching squares gives at level
    0.5 on a binary image.
    """
    images = np.asarray(images, dtype=bool)
    points, bounds = _outer_contours_flat(images.reshape((-1,) + images.shape[-2:]))
    return [points[a:b] for a, b in bounds]


#: Half-width of the circular moving average applied to contour points before resampling: it
#: irons out the pixel staircase, whose shape depends on how the silhouette sits on the grid.
SMOOTHING = 2


def _smooth_closed(points: np.ndarray, starts: np.ndarray, lengths: np.ndarray, half_width: int) -> np.ndarray:
    """Circular moving average (2 * half_width + 1 points) along each closed contour laid end to end in ``points``."""
    if half_width <= 0:
        return points
    out = points.copy()
    owner_start = np.repeat(starts, lengths)
    owner_length = np.repeat(lengths, lengths)
    position = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    chosen = owner_start + position
    total = np.zeros((len(chosen), 2))
    for shift in range(-half_width, half_width + 1):
        total += points[owner_start + (position + shift) % owner_length]
    out[chosen] = total / (2 * half_width + 1)
    return out


def contour_fourier(images: np.ndarray, count: int = FOURIER_COEFFICIENTS, samples: int = CONTOUR_SAMPLES) -> np.ndarray:
    """|F_1..F_count| / |F_0| of the centroid-distance signature of each image's outer contour: ``[..., count]``.

    The contour (:func:`outer_contours`) is smoothed by a circular moving average of
    ``2 * SMOOTHING + 1`` points and resampled at ``samples`` points equally spaced along its
    length; the signature is each point's distance to the centroid of the region the contour
    encloses. All images at once, no Python loop. An empty image gives zeros.
    """
    images = np.asarray(images, dtype=bool)
    flat = images.reshape((-1,) + images.shape[-2:])
    points, bounds = _outer_contours_flat(flat)
    spectra = np.zeros((len(flat), count))
    found = np.flatnonzero(bounds[:, 1] - bounds[:, 0] >= 3)
    if len(found):
        from .. import _raster

        starts, lengths = bounds[found, 0], bounds[found, 1] - bounds[found, 0]
        # Smoothing, resampling and the shoelace sums: a compiled kernel (what _contour_sums_numpy does).
        resampled, area, centre = _raster._resample_contours(points, starts, lengths, samples, SMOOTHING)
        area = area / 2.0
        degenerate = np.abs(area) < 1e-9
        centre = np.where(degenerate[:, None], resampled.mean(axis=1), centre / (6.0 * np.where(degenerate, 1.0, area))[:, None])
        spectrum = np.abs(np.fft.rfft(np.linalg.norm(resampled - centre[:, None, :], axis=2), axis=1))
        spectra[found] = spectrum[:, 1 : count + 1] / np.maximum(spectrum[:, :1], 1e-12)
    return spectra.reshape(images.shape[:-2] + (count,))


def _contour_sums_numpy(points: np.ndarray, starts: np.ndarray, lengths: np.ndarray, samples: int = CONTOUR_SAMPLES):
    """The numpy arithmetic :func:`tutorial_lib._raster._resample_contours` replaced (kept as the
    reference it is tested against): resampled contours, signed areas and shoelace moments."""
    # Close every contour (repeat its first point) and lay them end to end.
    index = np.repeat(starts - np.cumsum(lengths + 1) + lengths + 1, lengths + 1) + np.arange((lengths + 1).sum())
    closing = np.cumsum(lengths + 1) - 1
    index[closing] = starts
    closed = _smooth_closed(points, starts, lengths, SMOOTHING)[index]
    step = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    step[closing[:-1]] = 0.0  # no step from one contour to the next
    arc = np.concatenate([[0.0], np.cumsum(step)])
    begin = closing - lengths  # index of each contour's first point in `closed`
    total = arc[closing] - arc[begin]
    at = arc[begin, None] + total[:, None] * (np.arange(samples) / samples)[None, :]  # [contours, samples]
    segment = np.clip(np.searchsorted(arc, at, side="right") - 1, begin[:, None], closing[:, None] - 1)
    fraction = (at - arc[segment]) / np.maximum(step[segment], 1e-12)
    resampled = closed[segment] + fraction[..., None] * (closed[segment + 1] - closed[segment])
    # Centroid of the region each contour encloses (shoelace formula).
    owner = np.repeat(np.arange(len(starts)), lengths + 1)
    r0, c0 = closed[:-1, 0], closed[:-1, 1]
    r1, c1 = closed[1:, 0], closed[1:, 1]
    cross = r0 * c1 - r1 * c0
    cross[closing[:-1]] = 0.0
    area = np.bincount(owner[:-1], weights=cross, minlength=len(starts)) / 2.0
    centre = np.stack([np.bincount(owner[:-1], weights=(r0 + r1) * cross, minlength=len(starts)),
                       np.bincount(owner[:-1], weights=(c0 + c1) * cross, minlength=len(starts))], axis=1)  # fmt: skip
    return resampled, area, centre


class LightFieldDescriptor:
    """The light field descriptor of one shape: ``coefficients[light field, view, 45]``.

    The 45 numbers of a silhouette are 35 Zernike magnitudes (``region``) then 10 contour
    Fourier magnitudes (``contour``); unweighted (the weights are applied by the distance).
    Behaves as a numpy array (``np.asarray(d)``); :meth:`save` / :meth:`load` a ``.npy`` file;
    :func:`save_descriptors` / :func:`load_descriptors` keep many in one ``.npz`` keyed by name.
    """

    SHAPE = (LIGHT_FIELDS, VIEWS, 45)

    def __init__(self, coefficients: np.ndarray):
        coefficients = np.asarray(coefficients, dtype=np.float32)
        if coefficients.shape != self.SHAPE:
            raise ValueError(f"a light field descriptor has shape {self.SHAPE}, got {coefficients.shape}")
        self.coefficients = coefficients

    @property
    def region(self) -> np.ndarray:
        return self.coefficients[..., :35]

    @property
    def contour(self) -> np.ndarray:
        return self.coefficients[..., 35:]

    def __array__(self, dtype=None, copy=None):
        return self.coefficients if dtype is None else self.coefficients.astype(dtype)

    def __repr__(self) -> str:
        return f"LightFieldDescriptor({LIGHT_FIELDS} light fields × {VIEWS} views × 45 coefficients)"

    def __eq__(self, other) -> bool:
        return isinstance(other, LightFieldDescriptor) and np.array_equal(self.coefficients, other.coefficients)

    def distance(self, other: LightFieldDescriptor) -> float:
        return lfd_distance(self, other)

    def save(self, path: str | Path) -> Path:
        from ..provenance import atomic_path

        path = Path(path) if str(path).endswith(".npy") else Path(f"{path}.npy")  # as np.save names it
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.save(f, self.coefficients)
        return path

    @classmethod
    def load(cls, path: str | Path) -> LightFieldDescriptor:
        return cls(np.load(path))


def lfd_descriptor(mesh: trimesh.Trimesh, resolution: int = LFD_RESOLUTION, renderer: str = "raster") -> LightFieldDescriptor:
    """The light field descriptor of a mesh (its cost per mesh: ``benchmarks/bench_metrics.py``)."""
    images = lfd_silhouettes(mesh, resolution, renderer)
    return LightFieldDescriptor(np.concatenate([zernike_magnitudes(images), contour_fourier(images)], axis=-1))


def lfd_descriptors(meshes: Mapping[str, trimesh.Trimesh] | Iterable[trimesh.Trimesh], resolution: int = LFD_RESOLUTION, progress: bool = True):
    """Descriptors of many meshes: a dict for a dict of meshes (keyed alike), else a list."""
    from tqdm.auto import tqdm

    if isinstance(meshes, Mapping):
        return {name: lfd_descriptor(m, resolution) for name, m in tqdm(meshes.items(), desc="LFD", disable=not progress)}
    return [lfd_descriptor(m, resolution) for m in tqdm(list(meshes), desc="LFD", disable=not progress)]


def save_descriptors(descriptors: Mapping[str, LightFieldDescriptor], path: str | Path) -> Path:
    """Write ``{name: descriptor}`` to one ``.npz`` file."""
    from ..provenance import atomic_path

    path = Path(path) if str(path).endswith(".npz") else Path(f"{path}.npz")  # as np.savez_compressed names it
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, names=np.array(list(descriptors)), coefficients=np.stack([np.asarray(d) for d in descriptors.values()]))
    return path


def load_descriptors(path: str | Path) -> dict[str, LightFieldDescriptor]:
    """Read a file written by :func:`save_descriptors`."""
    with np.load(path) as f:
        return {str(name): LightFieldDescriptor(c) for name, c in zip(f["names"], f["coefficients"], strict=True)}


def coefficient_weights() -> np.ndarray:
    """The LFD's weights of a silhouette's 45 numbers: each part (35 Zernike, 10 Fourier) over its
    typical distance between different shapes, so that both count alike in the L1 distance."""
    return np.concatenate([np.full(35, 1.0 / REGION_SCALE), np.full(FOURIER_COEFFICIENTS, 1.0 / CONTOUR_SCALE)]).astype(np.float32)


@cache
def _permutation_matrix() -> np.ndarray:
    """``[100, 60]`` with a 1 at ``(10 i + perm[k, i], k)``: the cost of alignment k is a dot product."""
    permutations = _view_permutations()
    matrix = np.zeros((VIEWS * VIEWS, len(permutations)), dtype=np.float32)
    for k, perm in enumerate(permutations):
        matrix[np.arange(VIEWS) * VIEWS + perm, k] = 1.0
    return matrix


def _stack(descriptors) -> np.ndarray:
    if isinstance(descriptors, LightFieldDescriptor):
        return descriptors.coefficients[None]
    if isinstance(descriptors, np.ndarray):
        array = descriptors.astype(np.float32)
    else:
        array = np.stack([np.asarray(d, dtype=np.float32) for d in descriptors])
    if array.ndim == 3:
        array = array[None]
    if array.shape[1:] != LightFieldDescriptor.SHAPE:
        raise ValueError(f"expected light field descriptors of shape [N, 10, 10, 45], got {array.shape}")
    return array


def lfd_distance_matrix(a, b=None, return_alignment: bool = False, block_bytes: int = 64 * 2**20):
    """LFD distances between every descriptor of ``a`` and every one of ``b`` (default ``a``): ``[N, M]``.

    For each pair: the L1 distances between all 100 × 100 silhouettes come from one
    ``scipy.spatial.distance.cdist`` (cityblock) over the whole block; a matrix product with
    the 0/1 matrix of the 60 camera permutations sums them for every alignment; the minimum
    over 10 × 10 light field pairs and 60 rotations is the distance. ``return_alignment`` also
    returns ``[N, M, 3]``: the minimum's light field ``la`` of a, light field ``lb`` of b and
    rotation ``k``, which matches view ``i`` of ``a[la]`` with view ``view_permutations()[k, i]``
    of ``b[lb]``. Distances are summed in float32: ``lfd(a, b)`` and ``lfd(b, a)`` agree to
    about 1e-6 relative (the square matrix of ``a`` against itself is made exactly symmetric).
    """
    first = _stack(a)
    second = first if b is None else _stack(b)
    weights = coefficient_weights()
    xa = (first * weights).reshape(-1, 45)
    xb = (second * weights).reshape(-1, 45)
    n, m = len(first), len(second)
    per_row = 100 * m * 100 * 8 * 3  # bytes of one descriptor's cost block and its copies
    chunk = max(1, block_bytes // per_row)
    distances = np.empty((n, m))
    alignment = np.empty((n, m, 3), dtype=np.int64)
    permutation = _permutation_matrix()
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        cost = cdist(xa[start * 100 : stop * 100], xb, "cityblock").astype(np.float32)
        # [i, lf_a, view_a, j, lf_b, view_b] -> [i, j, lf_a, lf_b, view_a * 10 + view_b]
        cost = cost.reshape(stop - start, LIGHT_FIELDS, VIEWS, m, LIGHT_FIELDS, VIEWS).transpose(0, 3, 1, 4, 2, 5)
        totals = cost.reshape(stop - start, m, LIGHT_FIELDS * LIGHT_FIELDS, VIEWS * VIEWS) @ permutation
        flat = totals.reshape(stop - start, m, -1)
        best = np.argmin(flat, axis=2)
        distances[start:stop] = np.take_along_axis(flat, best[..., None], axis=2)[..., 0]
        if return_alignment:
            pair, rotation = np.divmod(best, permutation.shape[1])
            alignment[start:stop] = np.stack([pair // LIGHT_FIELDS, pair % LIGHT_FIELDS, rotation], axis=-1)
    if b is None:
        # Exactly symmetric (the two orders sum the same terms in a different order).
        distances = np.minimum(distances, distances.T)
    return (distances, alignment) if return_alignment else distances


def lfd_distance(a, b) -> float:
    """LFD distance between two shapes, given as :class:`LightFieldDescriptor` or as meshes."""
    a = lfd_descriptor(a) if isinstance(a, trimesh.Trimesh) else a
    b = lfd_descriptor(b) if isinstance(b, trimesh.Trimesh) else b
    return float(lfd_distance_matrix(a, b)[0, 0])


def calibrate_scales(descriptors: Sequence[LightFieldDescriptor]) -> tuple[float, float]:
    """Mean L1 distance between the Zernike parts, and between the Fourier parts, of
    silhouettes of different shapes (light field 0, same camera): the values behind
    :data:`REGION_SCALE` and :data:`CONTOUR_SCALE`."""
    stack = _stack(descriptors)[:, 0]  # [N, views, 45]
    region = np.abs(stack[:, None, :, :35] - stack[None, :, :, :35]).sum(-1).mean(-1)
    contour = np.abs(stack[:, None, :, 35:] - stack[None, :, :, 35:]).sum(-1).mean(-1)
    off = ~np.eye(len(stack), dtype=bool)
    return float(region[off].mean()), float(contour[off].mean())


__all__ = [
    "GOLDEN",
    "LFD_RESOLUTION",
    "LIGHT_FIELDS",
    "VIEWS",
    "ZERNIKE_ORDER",
    "CONTOUR_SAMPLES",
    "FOURIER_COEFFICIENTS",
    "LIGHT_FIELD_SEED",
    "REGION_SCALE",
    "CONTOUR_SCALE",
    "SMOOTHING",
    "dodecahedron_vertices",
    "dodecahedron_rotations",
    "view_permutations",
    "light_field_rotations",
    "light_field_directions",
    "normalize_for_lfd",
    "lfd_silhouettes",
    "zernike_indices",
    "zernike_magnitudes",
    "outer_contours",
    "contour_fourier",
    "LightFieldDescriptor",
    "lfd_descriptor",
    "lfd_descriptors",
    "save_descriptors",
    "load_descriptors",
    "lfd_distance_matrix",
    "lfd_distance",
    "calibrate_scales",
    "coefficient_weights",
]
