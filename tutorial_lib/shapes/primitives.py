"""The building blocks of every category: parts as ``manifold3d.Manifold`` solids, and their union.

Boxes (:func:`_box`, :func:`_slab`, :func:`_rounded_box`, :func:`_rounded_plate`), round parts
(:func:`_cylinder`, :func:`_sphere`, :func:`_dome`, :func:`_lathe`), outlines and hulls
(:func:`_hull`, :func:`_ring`, :func:`_prism`), and the ways to combine them (:func:`_union`,
:func:`_cut`, :func:`_both_sides`, :func:`_tilted`), then the finished solid as a normalised
``trimesh.Trimesh`` (:func:`_to_normalised_trimesh`). The leading underscore says that these
are the shapes package's own tools, not part of ``tutorial_lib.shapes``' public API.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import trimesh
from manifold3d import CrossSection, FillRule, Manifold, OpType

#: Segments around cylinders and spheres: round enough at 64³, cheap enough for 6000 shapes.
SECTIONS = 20


def _xyz(v) -> tuple[float, float, float]:
    return tuple(float(c) for c in v)


def _box(center, size, rotation=(0.0, 0.0, 0.0)) -> Manifold:
    """A box of ``size`` centred at ``center``, first turned by ``rotation`` (degrees about X, Y, Z)."""
    part = Manifold.cube(_xyz(size), center=True)
    if any(rotation):
        part = part.rotate(_xyz(rotation))
    return part.translate(_xyz(center))


def _slab(x, y, z) -> Manifold:
    """An axis-aligned box given by its ranges, e.g. ``_slab(x=(-0.5, 0.5), y=(0, 0.1), z=(0, 1))``."""
    lo = np.array([x[0], y[0], z[0]], float)
    hi = np.array([x[1], y[1], z[1]], float)
    return Manifold.cube(_xyz(hi - lo)).translate(_xyz(lo))


def _frame(origin, direction) -> np.ndarray:
    """3x4 transform taking the Z axis to ``direction`` (a unit vector) and 0 to ``origin``."""
    z = np.asarray(direction, float)
    helper = np.array([1.0, 0, 0]) if abs(z[0]) < 0.9 else np.array([0, 1.0, 0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)  # x, y, z right-handed, so the part is not mirrored (turned inside out)
    return np.column_stack([x, y, z, np.asarray(origin, float)])


def _cylinder(p0, p1, radius, radius_end=None, sections=SECTIONS) -> Manifold:
    """A cylinder from point ``p0`` to point ``p1``; a truncated cone if ``radius_end`` is given."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    length = float(np.linalg.norm(p1 - p0))
    end = radius if radius_end is None else radius_end
    part = Manifold.cylinder(length, float(radius), float(end), sections)
    return part.transform(_frame(p0, (p1 - p0) / length))


def _sphere(center, radius, sections=16) -> Manifold:
    return Manifold.sphere(float(radius), sections).translate(_xyz(center))


def _hull(points) -> Manifold:
    """The convex hull of points (a list of (x, y, z) and/or arrays of them): wings, hulls, wedges."""
    return Manifold.hull_points(np.vstack([np.reshape(np.asarray(q, float), (-1, 3)) for q in points]))


def _ring(center, radius_x, radius_y, n=16) -> np.ndarray:
    """Points of an ellipse in the XY plane around ``center``: hull several to loft along Z."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.column_stack([radius_x * np.cos(t), radius_y * np.sin(t), np.zeros(n)])
    return ring + np.asarray(center, float)


#: 42 points on the unit sphere (an icosphere), used to round the corners of boxes.
_UNIT_SPHERE = trimesh.creation.icosphere(subdivisions=1).vertices


def _rounded_box(center, size, radius) -> Manifold:
    """A box with rounded edges (cushions, phones): the hull of eight corner spheres."""
    half = np.maximum(np.asarray(size, float) / 2 - radius, 0.0)
    corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * half
    points = (corners[:, None, :] + radius * _UNIT_SPHERE[None]).reshape(-1, 3)
    return _hull(points + np.asarray(center, float))


def _rounded_plate(center, size, radius) -> Manifold:
    """A slab whose corners are rounded seen from the front (phones, screens), flat at front and back."""
    w, h, d = (float(s) / 2 for s in size)
    r = min(radius, w, h)
    corners = [(sx * (w - r), sy * (h - r), sz * d) for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
    return _hull(np.concatenate([_ring(c, r, r, 8) for c in corners]) + np.asarray(center, float))


def _dome(rim_center, axis, radius, height=None) -> Manifold:
    """Half a sphere (or a flattened one, ``height`` < ``radius``) whose flat side is at
    ``rim_center`` and which bulges along ``axis`` (a unit vector)."""
    height = radius if height is None else height
    lat, lon = np.meshgrid(np.linspace(0, np.pi / 2, 5), np.linspace(0, 2 * np.pi, 16, endpoint=False))
    local = np.column_stack([(radius * np.cos(lat) * np.cos(lon)).ravel(), (radius * np.cos(lat) * np.sin(lon)).ravel(), (height * np.sin(lat)).ravel()])
    frame = _frame(rim_center, axis)
    return _hull(local @ frame[:, :3].T + frame[:, 3])


def _prism(profile_zy, x0, x1) -> Manifold:
    """Extrude a side-view outline (a polygon of (z, y) points, any winding) across X, from x0 to x1.

    This is how a car body or a rifle stock is drawn: as its silhouette seen from the side.
    """
    outline = CrossSection([np.asarray(profile_zy, float)], FillRule.NonZero)
    part = outline.extrude(float(x1 - x0))  # along the outline's own Z
    # outline (u, v, extrusion) -> world (z, y, -x); a rotation (determinant +1), not a mirror
    to_world = np.array([[0.0, 0, -1, x1], [0, 1, 0, 0], [1, 0, 0, 0]])
    return part.transform(to_world)


def _lathe(profile_ry, sections=SECTIONS) -> Manifold:
    """Spin an outline of (radius, y) points around the Y axis: vases, lamp bases, round feet."""
    outline = CrossSection([np.asarray(profile_ry, float)], FillRule.NonZero)
    return outline.revolve(sections).rotate((-90.0, 0.0, 0.0))  # revolve() spins about Z; Z -> Y


def _flatten(parts) -> list[Manifold]:
    if isinstance(parts, Manifold):
        return [parts]
    return [leaf for part in parts for leaf in _flatten(part)]


def _union(parts: Iterable) -> Manifold:
    """One solid from (nested lists of) parts, unioned by manifold3d in one batch."""
    return Manifold.batch_boolean(_flatten(parts), OpType.Add)


def _cut(solid, cuts) -> Manifold:
    """``solid`` minus the union of ``cuts`` (grooves, recesses, wheel arches)."""
    return Manifold.batch_boolean([_union(solid)] + _flatten(cuts), OpType.Subtract)


def _both_sides(parts) -> list[Manifold]:
    """The parts plus their mirror image across the X = 0 plane (left and right wing, ...)."""
    parts = _flatten(parts)
    return parts + [part.mirror((1.0, 0.0, 0.0)) for part in parts]


def _tilted(parts, degrees_about_x, at) -> Manifold:
    """Parts drawn upright around the origin, leaned back by ``degrees_about_x`` (the top goes to
    +Z), then moved to ``at``. Chair backs, lamp arms and phone keypads are drawn this way."""
    return _union(parts).rotate((float(degrees_about_x), 0.0, 0.0)).translate(_xyz(at))


def _drop_slivers(solid: Manifold) -> Manifold:
    """Remove zero-volume scraps. Where two parts have faces that (numerically) coincide, the
    union can leave a degenerate tetrahedron of ~1e-9 volume beside the real solid; it would count
    as a second body. Real parts are never that small, so they are kept."""
    pieces = solid.decompose()
    if len(pieces) == 1:
        return solid
    return _union([piece for piece in pieces if piece.volume() > 1e-6 * solid.volume()])


def _to_normalised_trimesh(solid: Manifold) -> trimesh.Trimesh:
    """The solid as a trimesh, standing on y = 0, centred in X and Z, largest side 1."""
    raw = solid.to_mesh64()
    vertices = np.asarray(raw.vert_properties[:, :3], dtype=np.float64)
    faces = np.asarray(raw.tri_verts, dtype=np.int64)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    anchor = np.array([(lo[0] + hi[0]) / 2, lo[1], (lo[2] + hi[2]) / 2])
    vertices = (vertices - anchor) / float((hi - lo).max())
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
