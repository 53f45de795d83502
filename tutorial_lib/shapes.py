"""Procedural ShapeNet-like shapes: the 13 categories of IM-NET's ShapeNet subset, made from primitives.

The talk trains on ShapeNet, which cannot be downloaded here, so this module *builds* a stand-in:
every category has a small generator that draws a few **structural choices** (four legs or a
swivel base? arms or not?) and some **continuous parameters** (seat height, wing sweep, ...),
places boxes, cylinders, spheres and convex hulls, and unions them into one watertight solid.

    >>> shape = make_shape_from_seed("chair", 1)
    >>> shape.variant, shape.mesh.is_watertight
    ('swivel_base+no_arms+slatted_back', True)

Canonical frame (the talk's convention): **Y is up, the object's front faces -Z, +X is the
object's right**. A chair's back rest is at +Z, an airplane's nose and a rifle's muzzle point to
-Z, a display's screen faces -Z. Every mesh is moved so that it stands on ``y = 0``, is centred in
X and Z, and its largest bounding-box side is 1. (The data pipeline re-centres and rescales again;
this just makes the numbers below easy to read: a part 0.03 thick is 3% of the object.)

Thin parts (legs, masts, barrels, sails) are at least ~0.025 thick, so they survive the 64³
voxelisation (one voxel is ~1/60 of the object).

How the solids are made: the parts are ``manifold3d.Manifold`` objects and are unioned by
manifold3d in one batch, then turned into a ``trimesh.Trimesh`` once at the end. (This is the
same engine that ``trimesh.boolean.union(meshes, engine="manifold")`` calls; building the
parts directly in manifold3d skips converting every part to and from trimesh and is ~4x faster,
which matters for 6000 shapes.) Parts always *overlap* a little where they meet, so the union is
one connected solid rather than pieces touching along a face.

How to add a category: write ``_newthing(choice, p)`` that returns a list of parts, decorate it
with ``@_category("newthing", slot=("option_a", "option_b"), ...)`` and add the name to
``CATEGORIES``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import trimesh
from manifold3d import CrossSection, FillRule, Manifold, OpType

CATEGORIES: tuple[str, ...] = (
    "airplane",
    "bench",
    "cabinet",
    "car",
    "chair",
    "display",
    "lamp",
    "loudspeaker",
    "rifle",
    "sofa",
    "table",
    "telephone",
    "watercraft",
)

#: Segments around cylinders and spheres: round enough at 64³, cheap enough for 6000 shapes.
SECTIONS = 20


@dataclass(frozen=True)
class Shape:
    """One generated object."""

    mesh: trimesh.Trimesh  # one watertight solid in the canonical frame (Y up, front -Z)
    category: str
    variant: str  # the structural choices, joined by "+", e.g. "four_legs+arms+slatted_back"
    params: dict  # the continuous parameters drawn, by name (JSON-serialisable)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def make_shape(category: str, rng: np.random.Generator) -> Shape:
    """Draw one shape of ``category`` using ``rng``: structural choices first, then parameters."""
    if category not in _GENERATORS:
        raise ValueError(f"unknown category {category!r}: choose one of {', '.join(CATEGORIES)}")
    generator, _ = _GENERATORS[category]
    choice = _draw_structure(category, rng)
    params = _Params(rng)
    solid = _drop_slivers(_union(generator(choice, params)))
    return Shape(
        mesh=_to_normalised_trimesh(solid),
        category=category,
        variant="+".join(choice.values()),
        params=params.values,
    )


def make_shape_from_seed(category: str, seed: int) -> Shape:
    """The same as ``make_shape(category, np.random.default_rng(seed))``."""
    return make_shape(category, np.random.default_rng(seed))


def variants(category: str) -> tuple[str, ...]:
    """Every structural option of ``category`` (a shape's ``variant`` joins one option per slot)."""
    if category not in _GENERATORS:
        raise ValueError(f"unknown category {category!r}: choose one of {', '.join(CATEGORIES)}")
    _, slots = _GENERATORS[category]
    return tuple(option for options in slots.values() for option in options)


# --------------------------------------------------------------------------------------------
# Structural choices and parameters
# --------------------------------------------------------------------------------------------

#: category -> (generator, {slot: options}); filled by the @_category decorator below.
_GENERATORS: dict[str, tuple[Callable, dict[str, tuple[str, ...]]]] = {}


def _category(name: str, **slots: tuple[str, ...]):
    """Register a generator together with its structural slots, e.g. ``legs=("four_legs", ...)``."""

    def register(generator):
        _GENERATORS[name] = (generator, slots)
        return generator

    return register


def _draw_structure(category: str, rng: np.random.Generator) -> dict[str, str]:
    """Pick one option per slot, uniformly. This is the first thing ``make_shape`` draws, so the
    variant of a seed can be known without building the mesh (the tests use this)."""
    _, slots = _GENERATORS[category]
    return {slot: options[int(rng.integers(len(options)))] for slot, options in slots.items()}


class _Params:
    """Draws a shape's continuous parameters and records them by name (they become Shape.params)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.values: dict = {}

    def _record(self, name, value):
        assert name not in self.values, f"parameter {name!r} drawn twice"
        self.values[name] = value
        return value

    def uniform(self, name: str, low: float, high: float) -> float:
        return self._record(name, float(self.rng.uniform(low, high)))

    def integer(self, name: str, low: int, high: int) -> int:
        """An integer in ``[low, high]``, both ends included."""
        return self._record(name, int(self.rng.integers(low, high + 1)))

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        return self._record(name, options[int(self.rng.integers(len(options)))])


# --------------------------------------------------------------------------------------------
# Part helpers: every part is a manifold3d.Manifold
# --------------------------------------------------------------------------------------------


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
    local = np.column_stack([(radius * np.cos(lat) * np.cos(lon)).ravel(),
                             (radius * np.cos(lat) * np.sin(lon)).ravel(),
                             (height * np.sin(lat)).ravel()])
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


# --------------------------------------------------------------------------------------------
# The categories (each builds its object at roughly 1 unit; the result is rescaled anyway)
# --------------------------------------------------------------------------------------------


@_category(
    "airplane",
    wings=("straight_wings", "swept_wings", "delta_wings"),
    engines=("wing_engines", "rear_engines", "no_engines"),
    tail=("conventional_tail", "t_tail", "twin_tail"),
)
def _airplane(choice, p):
    """A fuselage along Z (nose at -Z) with wings along X.

    Variants: wings straight | swept | delta; engines in pods under the wings | on the rear
    fuselage | none (propeller or glider look); tail conventional | T-tail (stabiliser on top of
    the fin) | twin tail (two fins on the stabiliser).
    """
    length = 1.0
    radius = p.uniform("fuselage_radius", 0.04, 0.065)
    tail_length = p.uniform("tail_cone_length", 0.2, 0.3)
    tail_rise = radius * p.uniform("tail_upsweep", 0.3, 0.8)
    nose, tail = -length / 2, length / 2
    body_end = tail - tail_length
    # The fuselage: a lofted nose + cylinder, then an upswept tail cone. Two convex hulls.
    front = _hull([
        _ring((0, 0, nose), radius * 0.15, radius * 0.15, 8),
        _ring((0, -radius * 0.05, nose + 0.04), radius * 0.7, radius * 0.65),
        _ring((0, 0, nose + 0.11), radius, radius),
        _ring((0, 0, body_end), radius, radius),
    ])
    tail_cone = _hull([
        _ring((0, 0, body_end), radius, radius),
        _ring((0, tail_rise, tail), radius * 0.3, radius * 0.3, 8),
    ])
    parts = [front, tail_cone]

    # Wings: each is the hull of a root section (inside the fuselage) and a tip section.
    wing_y = radius * p.uniform("wing_height", -0.6, 0.5)  # low wing ... high wing
    wing_z = p.uniform("wing_position", -0.12, 0.02)  # leading edge at the root
    root_thickness = p.uniform("wing_root_thickness", 0.03, 0.045)
    tip_thickness = 0.028  # thin parts stay above ~2.5% of the largest side
    if choice["wings"] == "straight_wings":
        span = p.uniform("wingspan", 0.8, 1.1)
        root_chord = p.uniform("root_chord", 0.11, 0.17)
        tip_chord = root_chord * p.uniform("taper", 0.55, 0.95)
        sweep = p.uniform("tip_sweep_back", 0.0, 0.04)
    elif choice["wings"] == "swept_wings":
        span = p.uniform("wingspan", 0.75, 1.05)
        root_chord = p.uniform("root_chord", 0.15, 0.24)
        tip_chord = p.uniform("tip_chord", 0.05, 0.08)
        sweep = span / 2 * np.tan(np.radians(p.uniform("sweep_deg", 25, 40)))
    else:  # delta: a long root chord, a tiny tip, and a straight trailing edge
        span = p.uniform("wingspan", 0.5, 0.75)
        root_chord = p.uniform("root_chord", 0.4, 0.55)
        tip_chord = p.uniform("tip_chord", 0.03, 0.06)
        sweep = root_chord - tip_chord
        wing_z = min(wing_z, body_end - root_chord + 0.05)
    dihedral = span / 2 * np.tan(np.radians(p.uniform("dihedral_deg", 0, 6)))

    def wing_section(x, y, z_leading, chord, thickness):
        return [(x, y + s * thickness / 2, z) for s in (-1, 1) for z in (z_leading, z_leading + chord)]

    wing = _hull(wing_section(0, wing_y, wing_z, root_chord, root_thickness)
                 + wing_section(span / 2, wing_y + dihedral, wing_z + sweep, tip_chord, tip_thickness))
    parts += _both_sides(wing)

    # Engines: pods hanging on pylons under the wing, or on the sides of the rear fuselage.
    if choice["engines"] != "no_engines":
        pod_radius = p.uniform("engine_radius", 0.025, 0.04)
        pod_length = p.uniform("engine_length", 0.11, 0.17)
    if choice["engines"] == "wing_engines":
        per_side = p.integer("engines_per_wing", 1, 2)
        for k in range(per_side):
            x = span / 2 * (0.3 + 0.25 * k)
            fraction = x / (span / 2)
            y_wing = wing_y + dihedral * fraction
            z_lead = wing_z + sweep * fraction
            y = y_wing - root_thickness / 2 - pod_radius - 0.012
            z = z_lead - pod_length * 0.45
            pod = _cylinder((x, y, z), (x, y, z + pod_length), pod_radius, pod_radius * 0.8)
            pylon = _slab(x=(x - 0.014, x + 0.014), y=(y, y_wing), z=(z + 0.3 * pod_length, z_lead + 0.05))
            parts += _both_sides([pod, pylon])
    elif choice["engines"] == "rear_engines":
        x = radius + pod_radius + 0.012
        y = radius * 0.35
        z = body_end - pod_length * 0.7
        pod = _cylinder((x, y, z), (x, y, z + pod_length), pod_radius, pod_radius * 0.8)
        pylon = _slab(x=(0, x), y=(y - 0.014, y + 0.014), z=(z + 0.2 * pod_length, z + 0.8 * pod_length))
        parts += _both_sides([pod, pylon])

    # Tail: a vertical fin and a horizontal stabiliser (a small wing).
    fin_height = p.uniform("fin_height", 0.1, 0.18)
    fin_chord = p.uniform("fin_chord", 0.1, 0.16)
    stab_span = p.uniform("stabiliser_span", 0.24, 0.38)
    stab_chord = p.uniform("stabiliser_chord", 0.06, 0.1)
    fin_thickness = 0.028

    def fin(x, y_base, z_lead, height):
        return _hull([(x + s * fin_thickness / 2, y, z)
                      for s in (-1, 1)
                      for y, z in ((y_base, z_lead), (y_base, z_lead + fin_chord),
                                   (y_base + height, z_lead + fin_chord * 0.95),
                                   (y_base + height, z_lead + fin_chord * 0.55))])

    def stabiliser(y, z_lead):
        return _both_sides(_hull(wing_section(0, y, z_lead, stab_chord, fin_thickness)
                                 + wing_section(stab_span / 2, y, z_lead + stab_chord * 0.5,
                                                stab_chord * 0.55, fin_thickness)))

    fin_z = tail - fin_chord - 0.01
    fin_base = tail_rise * 0.5  # inside the tail cone
    if choice["tail"] == "conventional_tail":
        parts += [fin(0, fin_base, fin_z, fin_height + radius),
                  stabiliser(tail_rise * 0.6, tail - stab_chord - 0.03)]
    elif choice["tail"] == "t_tail":
        top = fin_base + fin_height + radius
        parts += [fin(0, fin_base, fin_z, fin_height + radius),
                  stabiliser(top - fin_thickness / 2, fin_z + fin_chord * 0.45)]
    else:  # twin tail: two fins standing on the ends of the stabiliser
        y = tail_rise * 0.6
        z = tail - stab_chord - 0.03
        parts += stabiliser(y, z)
        parts += _both_sides(fin(stab_span * 0.3, y - 0.01, z + 0.01, fin_height * 0.8))
    return parts


@_category(
    "bench",
    legs=("four_legs", "panel_legs", "frame_legs"),
    seat=("slatted_seat", "solid_seat"),
    back=("backrest", "backless"),
)
def _bench(choice, p):
    """A long seat along X (front edge at -Z).

    Variants: legs four square legs | two solid end panels | two metal frames (rectangular loops);
    seat made of slats on cross supports | one solid board; with a slatted back rest at +Z |
    backless.
    """
    length = p.uniform("length", 0.8, 1.0)
    depth = p.uniform("depth", 0.3, 0.45)
    seat_top = p.uniform("seat_height", 0.38, 0.48)
    thickness = p.uniform("seat_thickness", 0.035, 0.06)
    end_inset = p.uniform("leg_inset", 0.04, 0.12)  # how far the supports sit in from the ends
    parts = []
    seat_bottom = seat_top - thickness
    if choice["seat"] == "solid_seat":
        parts.append(_slab(x=(-length / 2, length / 2), y=(seat_bottom, seat_top), z=(-depth / 2, depth / 2)))
    else:
        slats = p.integer("seat_slats", 3, 5)
        gap = p.uniform("slat_gap", 0.02, 0.03)
        slat_width = (depth - (slats - 1) * gap) / slats
        for k in range(slats):
            z0 = -depth / 2 + k * (slat_width + gap)
            parts.append(_slab(x=(-length / 2, length / 2),
                               y=(seat_bottom, seat_top),
                               z=(z0, z0 + slat_width)))
        # cross supports under the slats hold them together (and make the bench one solid)
        seat_bottom -= 0.035
        for x in (-1, 1):
            xc = x * (length / 2 - end_inset)
            parts.append(_slab(x=(xc - 0.025, xc + 0.025),
                               y=(seat_bottom, seat_bottom + 0.04),
                               z=(-depth / 2, depth / 2)))

    support_x = length / 2 - end_inset
    top = seat_bottom + 0.01  # legs reach slightly into the seat
    if choice["legs"] == "four_legs":
        leg = p.uniform("leg_size", 0.04, 0.065)
        for x in (-1, 1):
            for z in (-1, 1):
                xc, zc = x * support_x, z * (depth / 2 - leg / 2 - 0.01)
                parts.append(_slab(x=(xc - leg / 2, xc + leg / 2),
                                   y=(0, top),
                                   z=(zc - leg / 2, zc + leg / 2)))
    elif choice["legs"] == "panel_legs":
        panel = p.uniform("panel_thickness", 0.035, 0.06)
        panel_depth = depth * p.uniform("panel_depth_fraction", 0.75, 1.0)
        for x in (-1, 1):
            xc = x * support_x
            parts.append(_slab(x=(xc - panel / 2, xc + panel / 2),
                               y=(0, top),
                               z=(-panel_depth / 2, panel_depth / 2)))
    else:  # a rectangular loop of round tube at each end
        tube = p.uniform("tube_radius", 0.014, 0.022)
        for x in (-1, 1):
            xc = x * support_x
            z_front, z_back = -depth / 2 + 0.04, depth / 2 - 0.04
            corners = [(xc, tube, z_front), (xc, tube, z_back), (xc, top, z_back), (xc, top, z_front)]
            for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
                parts.append(_cylinder(a, b, tube))
            parts += [_sphere(c, tube, 12) for c in corners]

    if choice["back"] == "backrest":
        back_height = p.uniform("back_height", 0.25, 0.4)
        tilt = p.uniform("back_tilt_deg", 5, 20)
        boards = p.integer("back_boards", 1, 3)
        post = 0.045
        # drawn upright with the origin at the rear edge of the seat, then leaned back
        back = []
        for x in (-1, 1):
            back.append(_slab(x=(x * support_x - post / 2, x * support_x + post / 2),
                              y=(0, back_height + thickness),
                              z=(-post / 2, post / 2)))
        board_height = (back_height - 0.04) / boards - 0.03
        for k in range(boards):
            y0 = thickness + 0.04 + k * (board_height + 0.03)
            back.append(_slab(x=(-length / 2, length / 2), y=(y0, y0 + board_height), z=(-0.015, 0.015)))
        parts.append(_tilted(back, tilt, (0, seat_bottom, depth / 2 - post / 2)))
    return parts


@_category(
    "cabinet",
    form=("tall", "wide", "low"),
    fronts=("doors", "drawers", "doors_and_drawers"),
    base=("legs", "plinth"),
)
def _cabinet(choice, p):
    """A box whose front (-Z) carries doors and/or drawers as shallow raised panels with handles.

    Variants: tall (wardrobe) | wide (dresser) | low (sideboard); doors | drawers | a row of
    drawers above doors; on four legs | on a recessed plinth.
    """
    if choice["form"] == "tall":
        width, height = p.uniform("width", 0.4, 0.65), p.uniform("height", 0.85, 1.0)
    elif choice["form"] == "wide":
        width, height = p.uniform("width", 0.85, 1.0), p.uniform("height", 0.55, 0.8)
    else:
        width, height = p.uniform("width", 0.85, 1.0), p.uniform("height", 0.3, 0.45)
    depth = p.uniform("depth", 0.3, 0.45)
    base_height = p.uniform("base_height", 0.04, 0.14)
    y0, y1 = base_height, base_height + height
    parts = [_slab(x=(-width / 2, width / 2), y=(y0, y1), z=(-depth / 2, depth / 2))]
    # a top board that overhangs a little
    overhang = p.uniform("top_overhang", 0.0, 0.03)
    parts.append(_slab(x=(-width / 2 - overhang, width / 2 + overhang), y=(y1 - 0.01, y1 + 0.03),
                       z=(-depth / 2 - overhang, depth / 2)))

    if choice["base"] == "legs":
        radius = p.uniform("leg_radius", 0.018, 0.03)
        for x in (-1, 1):
            for z in (-1, 1):
                xc, zc = x * (width / 2 - radius - 0.02), z * (depth / 2 - radius - 0.02)
                parts.append(_cylinder((xc, 0, zc), (xc, y0 + 0.01, zc), radius * 0.7, radius))
    else:
        recess = 0.03
        parts.append(_slab(x=(-width / 2 + recess, width / 2 - recess),
                           y=(0, y0 + 0.01),
                           z=(-depth / 2 + recess, depth / 2 - recess)))

    # The front: a grid of panels raised 0.02 from the face, 0.025 apart, each with a handle.
    margin, gap, raise_by = 0.025, 0.025, 0.02
    handle_style = p.choice("handle", ("bar", "knob"))
    face = -depth / 2
    x_lo, x_hi = -width / 2 + margin, width / 2 - margin
    y_lo, y_hi = y0 + margin, y1 - margin - 0.01

    def columns(n):
        w = (x_hi - x_lo - (n - 1) * gap) / n
        return [(x_lo + k * (w + gap), x_lo + k * (w + gap) + w) for k in range(n)]

    panels = []  # (x0, x1, y0, y1, kind)
    if choice["fronts"] == "doors_and_drawers":
        drawer_height = (y_hi - y_lo) * p.uniform("drawer_row_fraction", 0.15, 0.3)
        for xa, xb in columns(p.integer("top_drawers", 1, 2)):
            panels.append((xa, xb, y_hi - drawer_height, y_hi, "drawer"))
        y_hi -= drawer_height + gap
    if choice["fronts"] in ("doors", "doors_and_drawers"):
        most = 2 if choice["form"] == "tall" else 3
        for xa, xb in columns(p.integer("doors", 1, most)):
            panels.append((xa, xb, y_lo, y_hi, "door"))
    if choice["fronts"] == "drawers":
        rows = p.integer("drawer_rows", 2, 3 if choice["form"] == "low" else 5)
        cols = 1 if choice["form"] == "tall" else p.integer("drawer_columns", 1, 2)
        row_height = (y_hi - y_lo - (rows - 1) * gap) / rows
        for r in range(rows):
            ya = y_lo + r * (row_height + gap)
            for xa, xb in columns(cols):
                panels.append((xa, xb, ya, ya + row_height, "drawer"))

    for k, (xa, xb, ya, yb, kind) in enumerate(panels):
        parts.append(_slab(x=(xa, xb), y=(ya, yb), z=(face - raise_by, face + 0.01)))
        # handle: centred on drawers, near the inner edge on doors (doors alternate hinge sides)
        if kind == "drawer":
            hx = (xa + xb) / 2
            hy = (ya + yb) / 2 if yb - ya < 0.25 else yb - 0.08  # tall drawers: handle near the top
        else:
            hx = xb - 0.05 if k % 2 == 0 else xa + 0.05
            hy = (ya + yb) / 2
        hz = face - raise_by
        if handle_style == "knob":
            parts.append(_cylinder((hx, hy, hz + 0.005), (hx, hy, hz - 0.03), 0.017, 0.022, 12))
        elif kind == "drawer":
            half = min(0.08, (xb - xa) / 3)
            parts.append(_slab(x=(hx - half, hx + half),
                               y=(hy - 0.013, hy + 0.013),
                               z=(hz - 0.028, hz + 0.005)))
        else:
            half = min(0.1, (yb - ya) / 4)
            parts.append(_slab(x=(hx - 0.013, hx + 0.013),
                               y=(hy - half, hy + half),
                               z=(hz - 0.028, hz + 0.005)))
    return parts


@_category(
    "car",
    body=("sedan", "hatchback", "pickup", "suv"),
    extras=("plain", "roof_rack", "spoiler"),
)
def _car(choice, p):
    """A side-profile body extruded across X, a narrower cabin on top, four wheels (hood at -Z).

    Variants: body sedan (hood, cabin, trunk) | hatchback (short, steep rear) | pickup (cab and an
    open bed) | SUV (tall, boxy, big wheels); extras none | roof rack | rear spoiler.
    """
    body = choice["body"]
    length = 1.0
    width = p.uniform("width", 0.38, 0.46)
    big = body in ("suv", "pickup")  # bigger wheels, more ground clearance
    wheel_radius = p.uniform("wheel_radius", *((0.1, 0.13) if big else (0.08, 0.105)))
    wheel_width = p.uniform("wheel_width", 0.06, 0.09)
    clearance = wheel_radius * p.uniform("clearance", *((0.5, 0.8) if big else (0.3, 0.5)))
    belt = clearance + p.uniform("body_height", 0.14, 0.2)  # top of the lower body (the beltline)
    arch = wheel_radius * 1.12  # the wheel arches cut into the body are a little bigger than the wheels
    belt = max(belt, wheel_radius + arch + 0.04)  # arches stay below the beltline
    cabin_height = p.uniform("cabin_height", *((0.14, 0.2) if body == "suv" else (0.1, 0.15)))
    front, rear = -length / 2, length / 2
    axle_front = front + arch + p.uniform("front_overhang", 0.03, 0.09)
    axle_rear = rear - arch - p.uniform("rear_overhang", 0.03, 0.09)

    # Lower body seen from the side: bumper, rising hood line, flat deck, rear face.
    nose = p.uniform("nose_height", 0.45, 0.8)  # how high the front face reaches (fraction)
    lower = _prism([
        (front + 0.02, clearance), (rear - 0.02, clearance), (rear, clearance + 0.03),
        (rear, belt), (front + 0.07, belt - 0.01),
        (front, clearance + (belt - clearance) * nose), (front, clearance + 0.02),
    ], -width / 2, width / 2)

    # Cabin (the greenhouse): narrower than the body, windshield and rear window sloped.
    if body == "sedan":
        cab_front = front + p.uniform("hood_length", 0.3, 0.38)
        cab_rear = rear - p.uniform("trunk_length", 0.18, 0.26)
        windshield = p.uniform("windshield_run", 0.14, 0.2)  # how far the glass reaches along Z
        rear_window = p.uniform("rear_window_run", 0.1, 0.16)
    elif body == "hatchback":
        cab_front = front + p.uniform("hood_length", 0.22, 0.3)
        cab_rear = rear - 0.02
        windshield = p.uniform("windshield_run", 0.14, 0.2)
        rear_window = p.uniform("rear_window_run", 0.04, 0.1)
    elif body == "suv":
        cab_front = front + p.uniform("hood_length", 0.22, 0.3)
        cab_rear = rear - 0.02
        windshield = p.uniform("windshield_run", 0.1, 0.15)
        rear_window = p.uniform("rear_window_run", 0.0, 0.04)
    else:  # pickup: a short cab, then the bed
        cab_front = front + p.uniform("hood_length", 0.24, 0.32)
        cab_rear = cab_front + p.uniform("cab_length", 0.26, 0.34)
        windshield, rear_window = p.uniform("windshield_run", 0.1, 0.16), 0.01
    cab_half = width / 2 * p.uniform("cabin_width_fraction", 0.8, 0.92)
    top_half = cab_half - 0.03  # the sides lean in (tumblehome)
    roof = belt + cabin_height
    cabin = _hull([(s * w, y, z) for s in (-1, 1) for w, y, z in (
        (cab_half, belt - 0.01, cab_front), (cab_half, belt - 0.01, cab_rear),
        (top_half, roof, cab_front + windshield), (top_half, roof, cab_rear - rear_window))])
    shell = [lower, cabin]
    cuts = []
    if body == "pickup":  # hollow out the bed behind the cab, leaving walls 0.045 thick
        wall = 0.045
        cuts.append(_slab(x=(-width / 2 + wall, width / 2 - wall),
                          y=(belt - 0.08, belt + 0.1),
                          z=(cab_rear + wall, rear - wall)))

    # Wheels: arches are cut into the body's sides, the wheels sit in them on axles through the
    # middle of the car (so each wheel stays attached) and stick out 0.01 past the body.
    axles, wheels = [], []
    for z in (axle_front, axle_rear):
        outside = width / 2 + 0.01
        for x in (-1, 1):
            arch_from = x * (width / 2 - wheel_width - 0.02)
            arch_to = x * (width / 2 + 0.1)
            cuts.append(_cylinder((arch_from, wheel_radius, z), (arch_to, wheel_radius, z), arch))
            wheel_from, wheel_to = x * (outside - wheel_width), x * outside
            wheels.append(_cylinder((wheel_from, wheel_radius, z), (wheel_to, wheel_radius, z), wheel_radius))
        axle_end = width / 2
        axles.append(_cylinder((-axle_end, wheel_radius, z), (axle_end, wheel_radius, z), 0.03, sections=12))
    parts = [_cut(shell, cuts), wheels, axles]

    if choice["extras"] == "roof_rack":
        z0, z1 = cab_front + windshield + 0.02, cab_rear - rear_window - 0.02
        for x in (-1, 1):
            xc = x * (top_half - 0.04)
            parts.append(_slab(x=(xc - 0.015, xc + 0.015), y=(roof - 0.01, roof + 0.03), z=(z0, z1)))
        for z in (z0 + 0.03, z1 - 0.03):
            parts.append(_slab(x=(-top_half + 0.02, top_half - 0.02),
                               y=(roof + 0.012, roof + 0.045),  # sunk well into the rails
                               z=(z - 0.015, z + 0.015)))
    elif choice["extras"] == "spoiler":
        # on the trunk lid (sedan, pickup) or at the top of the tailgate (hatchback, SUV)
        if body in ("sedan", "pickup"):
            base_y, z = belt, rear - 0.035  # posts stand on the tailgate of a pickup
        else:
            base_y, z = roof - 0.02, cab_rear - rear_window - 0.03
        lift = p.uniform("spoiler_lift", 0.03, 0.06)
        for x in (-1, 1):
            xc = x * width * 0.3
            parts.append(_slab(x=(xc - 0.015, xc + 0.015),
                               y=(base_y - 0.01, base_y + lift),
                               z=(z - 0.02, z + 0.02)))
        parts.append(_slab(x=(-width / 2 + 0.02, width / 2 - 0.02),
                           y=(base_y + lift, base_y + lift + 0.025),
                           z=(z - 0.045, z + 0.035)))
    return parts


@_category(
    "chair",
    legs=("four_legs", "swivel_base", "sled_base"),
    arms=("arms", "no_arms"),
    back=("solid_back", "slatted_back"),
)
def _chair(choice, p):
    """A seat slab with a back rest at +Z (the seat's front edge faces -Z).

    Variants: legs four legs | swivel base (column and a star of five feet on casters) | sled
    base (two runners); arms | no arms; back solid panel | slatted (posts, top rail, spindles).
    """
    width = p.uniform("seat_width", 0.42, 0.56)
    depth = p.uniform("seat_depth", 0.4, 0.52)
    seat_top = p.uniform("seat_height", 0.4, 0.5)
    thickness = p.uniform("seat_thickness", 0.04, 0.08)
    leg_radius = p.uniform("leg_radius", 0.016, 0.028)
    seat_bottom = seat_top - thickness
    parts = [_slab(x=(-width / 2, width / 2), y=(seat_bottom, seat_top), z=(-depth / 2, depth / 2))]

    if choice["legs"] == "four_legs":
        inset = leg_radius + p.uniform("leg_inset", 0.0, 0.04)
        splay = p.uniform("leg_splay", 0.0, 0.03)  # feet a little further out than the tops
        for x in (-1, 1):
            for z in (-1, 1):
                top = (x * (width / 2 - inset), seat_bottom + 0.01, z * (depth / 2 - inset))
                foot = (top[0] + x * splay, 0, top[2] + z * splay)
                parts.append(_cylinder(foot, top, leg_radius))
    elif choice["legs"] == "swivel_base":
        column = p.uniform("column_radius", 0.025, 0.04)
        reach = p.uniform("foot_length", 0.24, 0.32)
        hub_y = 0.07
        parts.append(_cylinder((0, hub_y - 0.02, 0), (0, seat_bottom + 0.01, 0), column))
        parts.append(_cylinder((0, hub_y - 0.03, 0), (0, hub_y + 0.04, 0), column * 1.6))
        parts.append(_slab(x=(-0.1, 0.1), y=(seat_bottom - 0.03, seat_bottom + 0.01), z=(-0.1, 0.1)))
        for k in range(5):
            angle = -np.pi / 2 + 2 * np.pi * k / 5  # one foot points straight to the front
            end = np.array([reach * np.cos(angle), 0.04, reach * np.sin(angle)])
            parts.append(_cylinder((0, hub_y, 0), end, 0.018))
            parts.append(_sphere((end[0], 0.025, end[2]), 0.025, 12))  # a caster
    else:  # sled: a runner on each side, bent up at front and back to hold the seat
        tube = leg_radius
        run = p.uniform("runner_overhang", 0.0, 0.05)
        for x in (-1, 1):
            xc = x * (width / 2 - tube - 0.01)
            corners = [(xc, seat_bottom + 0.01, -depth / 2 + 0.05), (xc, tube, -depth / 2 - run),
                       (xc, tube, depth / 2 + run), (xc, seat_bottom + 0.01, depth / 2 - 0.05)]
            for a, b in zip(corners, corners[1:], strict=False):
                parts.append(_cylinder(a, b, tube))
            parts += [_sphere(c, tube, 12) for c in corners[1:3]]

    # The back, drawn upright with the origin at the seat's rear bottom edge, then leaned back.
    back_height = p.uniform("back_height", 0.35, 0.52)
    tilt = p.uniform("back_tilt_deg", 0, 15)
    back_width = width * p.uniform("back_width_fraction", 0.75, 1.0)
    back_thickness = p.uniform("back_thickness", 0.035, 0.07)
    total = thickness + back_height
    half_t = back_thickness / 2
    if choice["back"] == "solid_back":
        back = [_slab(x=(-back_width / 2, back_width / 2), y=(0, total), z=(-half_t, half_t))]
    else:
        post = p.uniform("post_width", 0.035, 0.05)
        rail = p.uniform("top_rail_height", 0.05, 0.12)
        back = [_slab(x=(-back_width / 2, -back_width / 2 + post), y=(0, total), z=(-half_t, half_t)),
                _slab(x=(back_width / 2 - post, back_width / 2), y=(0, total), z=(-half_t, half_t))]
        back.append(_slab(x=(-back_width / 2, back_width / 2), y=(total - rail, total), z=(-half_t, half_t)))
        inner = back_width - 2 * post
        most = max(1, int((inner - 0.03) / 0.065))  # spindles 0.035 wide with gaps of >= 0.03
        spindles = p.integer("spindles", 1, min(5, most))
        for x in np.linspace(-inner / 2, inner / 2, spindles + 2)[1:-1]:
            back.append(_slab(x=(x - 0.0175, x + 0.0175),
                              y=(thickness - 0.01, total - rail + 0.01),
                              z=(-half_t * 0.7, half_t * 0.7)))
    parts.append(_tilted(back, tilt, (0, seat_bottom, depth / 2 - half_t)))

    if choice["arms"] == "arms":
        arm_height = p.uniform("arm_height", 0.17, 0.25)
        arm_width = p.uniform("arm_width", 0.04, 0.07)
        for x in (-1, 1):
            xc = x * (width / 2 - arm_width / 2 + 0.01)
            rest_y = seat_top + arm_height
            parts.append(_slab(x=(xc - arm_width / 2, xc + arm_width / 2),
                               y=(rest_y, rest_y + 0.035),
                               z=(-depth / 2 + 0.02, depth / 2)))
            for zc in (-depth / 2 + 0.06, depth / 2 - 0.06):
                parts.append(_slab(x=(xc - 0.018, xc + 0.018),
                                   y=(seat_bottom, rest_y + 0.01),
                                   z=(zc - 0.018, zc + 0.018)))
    return parts


@_category(
    "display",
    mount=("stand", "foot", "tv_legs"),
    back=("flat_panel", "crt"),
)
def _display(choice, p):
    """A screen panel facing -Z with a recessed screen inside a bezel.

    Variants: mount a neck on a base plate | one bent foot (a slanted support and a plate) | two
    feet near the ends (a TV); back a thin flat panel | a deep tapering CRT housing.
    """
    width = 1.0
    height = width / p.uniform("aspect_ratio", 1.25, 1.9)
    thickness = p.uniform("panel_thickness", 0.03, 0.055)
    bezel = p.uniform("bezel", 0.02, 0.05)
    if choice["mount"] == "tv_legs":
        bottom = p.uniform("lift", 0.03, 0.1)
    else:
        bottom = p.uniform("lift", 0.08, 0.22)
    top = bottom + height
    panel = _slab(x=(-width / 2, width / 2), y=(bottom, top), z=(-thickness / 2, thickness / 2))
    screen = _slab(x=(-width / 2 + bezel, width / 2 - bezel), y=(bottom + bezel, top - bezel),
                   z=(-thickness / 2 - 0.01, -thickness / 2 + 0.012))
    parts = [_cut(panel, screen)]

    back_z = thickness / 2
    if choice["back"] == "crt":  # a big tapered box behind the screen
        deep = p.uniform("housing_depth", 0.3, 0.5)
        shrink = p.uniform("housing_taper", 0.35, 0.6)
        mid_y = (bottom + top) / 2
        parts.append(_hull([(sx * w, mid_y + sy * h, z)
                            for sx in (-1, 1) for sy in (-1, 1)
                            for w, h, z in ((width * 0.47, height * 0.47, back_z - 0.01),
                                            (width * 0.47 * shrink, height * 0.47 * shrink, back_z + deep))]))
        # a CRT's weight sits on its housing: drop the housing bottom onto the mount's height
    else:  # a shallow box for the electronics
        parts.append(_slab(x=(-width * 0.3, width * 0.3),
                           y=(bottom + height * 0.2, bottom + height * 0.7),
                           z=(back_z - 0.01, back_z + 0.03)))
        back_z += 0.03

    if choice["mount"] == "stand":
        neck = p.uniform("neck_width", 0.06, 0.12)
        plate_depth = p.uniform("base_depth", 0.18, 0.3)
        plate_width = p.uniform("base_width", 0.25, 0.45)
        z_neck = back_z + 0.02
        parts.append(_slab(x=(-neck / 2, neck / 2),
                           y=(0.02, bottom + height * 0.5),
                           z=(z_neck - 0.035, z_neck + 0.035)))
        parts.append(_slab(x=(-neck / 2, neck / 2),
                           y=(bottom + height * 0.3, bottom + height * 0.45),
                           z=(back_z - 0.03, z_neck + 0.02)))
        if p.choice("base_shape", ("round", "rectangular")) == "round":
            disc = plate_depth / 2 + 0.04
            parts.append(_cylinder((0, 0, z_neck - 0.02), (0, 0.03, z_neck - 0.02), disc, sections=28))
        else:
            parts.append(_slab(x=(-plate_width / 2, plate_width / 2),
                               y=(0, 0.03),
                               z=(z_neck - plate_depth * 0.6, z_neck + plate_depth * 0.4)))
    elif choice["mount"] == "foot":
        foot_width = p.uniform("foot_width", 0.15, 0.3)
        lean = p.uniform("foot_lean", 0.08, 0.18)
        plate = p.uniform("plate_depth", 0.12, 0.22)
        z_top = back_z - 0.01
        # side view: an L whose upright leans back from the panel down to the plate
        parts.append(_prism([(z_top, bottom + height * 0.55), (z_top + 0.04, bottom + height * 0.55),
                             (z_top + lean + 0.04, 0.0), (z_top - plate, 0.0), (z_top - plate, 0.03),
                             (z_top + lean - 0.01, 0.03)], -foot_width / 2, foot_width / 2))
    else:  # two TV feet near the ends, each a short post on a bar along Z
        spread = p.uniform("feet_spread", 0.3, 0.42)
        foot_depth = p.uniform("foot_depth", 0.18, 0.28)
        for x in (-1, 1):
            xc = x * width * spread
            parts.append(_slab(x=(xc - 0.02, xc + 0.02), y=(0, 0.03), z=(-foot_depth / 2, foot_depth / 2)))
            parts.append(_slab(x=(xc - 0.02, xc + 0.02), y=(0.02, bottom + 0.03), z=(-0.02, 0.02)))
    return parts


@_category(
    "lamp",
    kind=("desk_arm", "floor", "table"),
    shade=("cone_shade", "dome_shade", "cylinder_shade"),
    base=("round_base", "square_base"),
)
def _lamp(choice, p):
    """An upright lamp. Shades are solid (a voxel grid cannot hold a hollow paper shade anyway).

    Variants: kind desk lamp (base, two-part arm bent forward, head looking down) | floor lamp
    (tall pole, shade on top) | table lamp (a vase-like body, big shade); shade cone | dome |
    cylinder; base round | square.
    """
    kind = choice["kind"]
    base_size = p.uniform("base_size", *((0.22, 0.36) if kind == "floor" else (0.2, 0.32)))
    base_height = p.uniform("base_height", 0.03, 0.06)
    if choice["base"] == "round_base":
        radius = base_size / 2
        parts = [_cylinder((0, 0, 0), (0, base_height, 0), radius, radius * 0.9, sections=28)]
    else:
        parts = [_slab(x=(-base_size / 2, base_size / 2),
                       y=(0, base_height),
                       z=(-base_size / 2, base_size / 2))]

    def shade(rim_center, axis, radius, length):
        """A solid shade whose wide rim is at ``rim_center`` and which narrows along ``axis``."""
        rim_center, axis = np.asarray(rim_center, float), np.asarray(axis, float)
        if choice["shade"] == "cone_shade":
            return _cylinder(rim_center, rim_center + axis * length, radius, radius * 0.45)
        if choice["shade"] == "cylinder_shade":
            return _cylinder(rim_center, rim_center + axis * length, radius)
        return _dome(rim_center, axis, radius, length)

    shade_radius = p.uniform("shade_radius", *((0.07, 0.11) if kind == "desk_arm" else (0.1, 0.2)))
    shade_length = shade_radius * p.uniform("shade_length_ratio", 0.8, 1.4)
    up = np.array([0.0, 1.0, 0.0])
    if kind == "floor":
        height = 1.0
        pole = p.uniform("pole_radius", 0.014, 0.02)
        torchiere = choice["shade"] == "cone_shade"  # a cone on a floor lamp opens upwards
        top = height - shade_length
        parts.append(_cylinder((0, base_height - 0.01, 0), (0, top + 0.02, 0), pole))
        if torchiere:
            parts.append(_cylinder((0, top, 0), (0, height, 0), shade_radius * 0.35, shade_radius))
        else:
            parts.append(shade((0, top, 0), up, shade_radius, shade_length))
    elif kind == "table":
        body_height = p.uniform("body_height", 0.2, 0.35)
        belly = p.uniform("body_radius", 0.05, 0.1)
        neck = p.uniform("neck_radius", 0.02, 0.035)
        y0 = base_height - 0.01
        parts.append(_lathe([(0, y0), (belly * 0.7, y0), (belly, y0 + body_height * 0.35),
                             (belly * 0.8, y0 + body_height * 0.75), (neck, y0 + body_height),
                             (0, y0 + body_height)]))
        stem_top = y0 + body_height + p.uniform("stem_length", 0.05, 0.15)
        parts.append(_cylinder((0, y0 + body_height - 0.01, 0), (0, stem_top + 0.02, 0), neck * 0.6))
        parts.append(shade((0, stem_top - shade_length * 0.3, 0), up, shade_radius * 1.3, shade_length * 1.2))
    else:  # desk lamp: lower arm leans back, upper arm reaches forward (-Z), head looks down
        arm = p.uniform("arm_radius", 0.014, 0.02)
        lower_length = p.uniform("lower_arm_length", 0.3, 0.45)
        upper_length = p.uniform("upper_arm_length", 0.3, 0.45)
        lean = np.radians(p.uniform("lower_arm_lean_deg", 5, 35))
        reach = np.radians(p.uniform("upper_arm_angle_deg", 0, 30))  # above horizontal: head clears the desk
        shoulder = np.array([0.0, base_height, base_size * 0.2])
        elbow = shoulder + lower_length * np.array([0, np.cos(lean), np.sin(lean)])
        wrist = elbow + upper_length * np.array([0, np.sin(reach), -np.cos(reach)])
        parts += [_cylinder(shoulder - (0, 0.02, 0), elbow, arm), _sphere(elbow, arm * 1.8),
                  _cylinder(elbow, wrist, arm), _sphere(wrist, arm * 1.5)]
        look = np.radians(p.uniform("head_tilt_deg", 10, 45))  # 0 = straight down
        axis_down = np.array([0, -np.cos(look), -np.sin(look)])
        rim = wrist + axis_down * shade_length * 0.9
        parts.append(shade(rim, -axis_down, shade_radius, shade_length))
    return parts


@_category(
    "loudspeaker",
    body=("bookshelf", "tower", "cylinder"),
    drivers=("bulging_cones", "recessed_cones"),
    base=("no_base", "feet", "plinth"),
)
def _loudspeaker(choice, p):
    """A cabinet with round drivers on its front (-Z).

    Variants: body bookshelf box | tall narrow tower | upright cylinder; drivers bulge out of the
    front | sit in round recesses; base none | four feet | a plinth.
    """
    body = choice["body"]
    if body == "bookshelf":
        width, height, depth = p.uniform("width", 0.5, 0.65), 1.0, p.uniform("depth", 0.5, 0.8)
        drivers = 2
    elif body == "tower":
        width, height, depth = p.uniform("width", 0.22, 0.32), 1.0, p.uniform("depth", 0.3, 0.42)
        drivers = p.integer("drivers", 3, 4)
    else:
        width = depth = 2 * p.uniform("radius", 0.2, 0.3)
        height = p.uniform("height", 0.7, 1.0)
        drivers = p.integer("drivers", 1, 3)
    base_height = 0.0
    parts = []
    if choice["base"] == "feet":
        base_height = p.uniform("foot_height", 0.03, 0.06)
        for x in (-1, 1):
            for z in (-1, 1):
                xc, zc = x * width * 0.35, z * depth * 0.35
                parts.append(_cylinder((xc, 0, zc), (xc, base_height + 0.01, zc), 0.025, 0.035, 12))
    elif choice["base"] == "plinth":
        base_height = p.uniform("plinth_height", 0.03, 0.06)
        grow = p.uniform("plinth_overhang", 0.0, 0.04)
        if body == "cylinder":
            parts.append(_cylinder((0, 0, 0), (0, base_height + 0.01, 0), width / 2 + grow, sections=28))
        else:
            parts.append(_slab(x=(-width / 2 - grow, width / 2 + grow),
                               y=(0, base_height + 0.01),
                               z=(-depth / 2 - grow, depth / 2 + grow)))
    y0, y1 = base_height, base_height + height
    if body == "cylinder":
        cabinet = _cylinder((0, y0, 0), (0, y1, 0), width / 2, sections=28)
        if p.choice("top", ("flat", "dome")) == "dome":
            parts.append(_dome((0, y1 - 0.01, 0), (0, 1, 0), width / 2, p.uniform("dome_height", 0.05, 0.15)))
    else:
        cabinet = _slab(x=(-width / 2, width / 2), y=(y0, y1), z=(-depth / 2, depth / 2))

    # Drivers stacked on the front: a small tweeter at the top, bigger woofers below, maybe a
    # round bass port at the bottom.
    margin = 0.04
    port = p.choice("bass_port", ("yes", "no")) == "yes"
    port_room = 0.1 if port else 0.0
    usable = height - 2 * margin - port_room
    size = p.uniform("woofer_size", 0.22, 0.3) if body == "cylinder" else p.uniform("woofer_size", 0.3, 0.42)
    woofer = min(width * size, usable / (2 * drivers - 0.8))
    radii = [woofer] if drivers == 1 else [woofer * 0.45] + [woofer] * (drivers - 1)
    top_centre = y1 - margin - radii[0]
    lowest_centre = y0 + margin + port_room + radii[-1]
    centres = np.linspace(top_centre, lowest_centre, drivers) if drivers > 1 else [top_centre - usable * 0.15]
    face = -depth / 2

    def into_face(r):
        """How deep the front is behind z = face at distance r from its middle (curved for a cylinder)."""
        if body != "cylinder":
            return 0.0
        return width / 2 - np.sqrt(max((width / 2) ** 2 - r**2, 0.0))

    cuts, cones = [], []
    for cy, r in zip(centres, radii, strict=True):
        sink = face + into_face(r * 1.12) + 0.02
        if choice["drivers"] == "bulging_cones":
            cones.append(_cylinder((0, cy, sink), (0, cy, face - 0.012), r * 1.12))  # surround
            bulge = min(r * 0.3, 0.035)
            cones.append(_cylinder((0, cy, face - 0.01), (0, cy, face - 0.01 - bulge), r, r * 0.3))  # cone
        else:
            cuts.append(_cylinder((0, cy, sink + 0.015), (0, cy, face - 0.05), r))
            cones.append(_cylinder((0, cy, sink + 0.02), (0, cy, sink - 0.01), r * 0.35))  # dust cap
    if port:
        port_radius = min(0.04, width * 0.12)
        port_y = y0 + margin + port_room / 2
        port_back = face + into_face(port_radius) + 0.1
        cuts.append(_cylinder((0, port_y, port_back), (0, port_y, face - 0.05), port_radius))
    parts.append(_cut(cabinet, cuts) if cuts else cabinet)
    return parts + cones


@_category(
    "rifle",
    stock=("classic_stock", "skeleton_stock", "bullpup"),
    magazine=("box_magazine", "curved_magazine", "no_magazine"),
    sight=("scope", "iron_sights", "carry_handle"),
)
def _rifle(choice, p):
    """A barrel along Z with the muzzle at -Z, a receiver, a stock at +Z.

    Variants: stock classic wooden (one piece with the grip) | skeleton (open frame, pistol grip)
    | bullpup (the action sits in the stock, grip in front of the magazine); magazine straight box
    | curved | none; sight scope | iron sights | carry handle.
    """
    length = 1.0
    barrel_radius = p.uniform("barrel_radius", 0.013, 0.018)
    receiver_height = p.uniform("receiver_height", 0.07, 0.1)
    receiver_width = p.uniform("receiver_width", 0.04, 0.055)
    stock_length = p.uniform("stock_length", 0.22, 0.3)
    receiver_length = p.uniform("receiver_length", 0.2, 0.28)
    muzzle, butt = -length / 2, length / 2
    bullpup = choice["stock"] == "bullpup"
    half_w = receiver_width / 2
    # receiver: directly in front of the stock (or inside it, for a bullpup)
    rec_rear = butt - stock_length if not bullpup else butt - 0.02
    rec_front = rec_rear - receiver_length if not bullpup else butt - stock_length - receiver_length * 0.6
    rec_top = 0.0 + receiver_height * 0.35  # the barrel axis is y = 0
    rec_bottom = rec_top - receiver_height
    parts = [_slab(x=(-half_w, half_w), y=(rec_bottom, rec_top), z=(rec_front, rec_rear + 0.01))]
    # barrel, muzzle device and a fore-end around the barrel
    parts.append(_cylinder((0, 0, rec_front + 0.02), (0, 0, muzzle + 0.04), barrel_radius))
    parts.append(_cylinder((0, 0, muzzle + 0.045), (0, 0, muzzle), barrel_radius * 1.4))
    fore_length = p.uniform("fore_end_length", 0.18, 0.32)
    fore_drop = p.uniform("fore_end_drop", 0.0, 0.025)
    parts.append(_slab(x=(-half_w * 0.9, half_w * 0.9),
                       y=(rec_bottom + fore_drop, rec_top - 0.01),
                       z=(rec_front - fore_length, rec_front + 0.01)))

    grip_z = rec_rear - 0.05 if not bullpup else rec_front - 0.02
    grip_angle = p.uniform("grip_angle_deg", 10, 25)
    grip_length = p.uniform("grip_length", 0.1, 0.14)

    def pistol_grip(z):
        # a box hanging under the receiver, raked back (its bottom towards +Z)
        return _tilted([_slab(x=(-half_w * 0.85, half_w * 0.85), y=(-grip_length, 0.02), z=(-0.025, 0.025))],
                       -grip_angle, (0, rec_bottom, z))

    drop = p.uniform("stock_drop", 0.02, 0.08)
    butt_height = p.uniform("butt_height", 0.1, 0.14)
    if choice["stock"] == "classic_stock":
        # side view: receiver height at the front, a narrow wrist, then the butt dropping down
        wrist = rec_rear + stock_length * 0.3
        parts.append(_prism([(rec_rear - 0.01, rec_top - 0.01), (butt, rec_top - drop),
                             (butt, rec_top - drop - butt_height), (wrist, rec_bottom - 0.01),
                             (rec_rear - 0.06, rec_bottom - 0.05), (rec_rear - 0.09, rec_bottom)],
                            -half_w, half_w))
    elif choice["stock"] == "skeleton_stock":
        tube = 0.016
        top_front = (0, rec_top - 0.02, rec_rear - 0.01)
        bottom_front = (0, rec_bottom + 0.02, rec_rear - 0.01)
        top_back = (0, rec_top - drop, butt - 0.02)
        bottom_back = (0, rec_top - drop - butt_height + 0.02, butt - 0.02)
        parts += [_cylinder(top_front, top_back, tube, sections=12),
                  _cylinder(bottom_front, bottom_back, tube, sections=12),
                  _slab(x=(-half_w, half_w),
                        y=(bottom_back[1] - 0.02, top_back[1] + 0.02),
                        z=(butt - 0.03, butt)),
                  pistol_grip(grip_z)]
    else:  # bullpup: the receiver is already the stock; add a butt pad and the forward grip
        parts.append(_slab(x=(-half_w, half_w), y=(rec_bottom - 0.03, rec_top), z=(butt - 0.04, butt)))
        parts.append(pistol_grip(grip_z))

    # magazine: in front of the grip (behind it for a bullpup)
    mag_z = rec_front + receiver_length * 0.3 if not bullpup else rec_rear - receiver_length * 0.45
    mag_length = p.uniform("magazine_length", 0.1, 0.18)
    mag_depth = 0.05
    if choice["magazine"] == "box_magazine":
        parts.append(_tilted([_slab(x=(-half_w * 0.7, half_w * 0.7),
                                    y=(-mag_length, 0.02),
                                    z=(-mag_depth / 2, mag_depth / 2))],
                             -p.uniform("magazine_rake_deg", 0, 12), (0, rec_bottom, mag_z)))
    elif choice["magazine"] == "curved_magazine":
        # three segments, each raked a little more forward (-Z) than the last
        bend = p.uniform("magazine_curve_deg", 10, 18)
        point = np.array([0, rec_bottom + 0.02, mag_z])
        segment = mag_length / 3
        for k in range(3):
            angle = np.radians(bend * (k + 0.5))
            parts.append(_tilted([_slab(x=(-half_w * 0.7, half_w * 0.7),
                                        y=(-segment - 0.02, 0.0),
                                        z=(-mag_depth / 2, mag_depth / 2))],
                                 np.degrees(angle), point))
            point = point + segment * np.array([0, -np.cos(angle), -np.sin(angle)])
    # a trigger guard block between grip and magazine keeps the lower outline readable
    parts.append(_slab(x=(-half_w * 0.5, half_w * 0.5),
                       y=(rec_bottom - 0.03, rec_bottom + 0.01),
                       z=(grip_z - 0.07, grip_z)))

    if choice["sight"] == "scope":
        scope_radius = p.uniform("scope_radius", 0.017, 0.026)
        scope_length = p.uniform("scope_length", 0.2, 0.3)
        sy = rec_top + 0.02 + scope_radius
        z0 = (rec_front + rec_rear) / 2 - scope_length / 2
        parts.append(_cylinder((0, sy, z0), (0, sy, z0 + scope_length), scope_radius))
        parts.append(_cylinder((0, sy, z0 + 0.02), (0, sy, z0 - 0.05), scope_radius, scope_radius * 1.5))
        z1 = z0 + scope_length
        parts.append(_cylinder((0, sy, z1 - 0.02), (0, sy, z1 + 0.03), scope_radius, scope_radius * 1.3))
        for z in (z0 + scope_length * 0.25, z0 + scope_length * 0.75):
            parts.append(_slab(x=(-0.014, 0.014), y=(rec_top - 0.01, sy), z=(z - 0.015, z + 0.015)))
    elif choice["sight"] == "iron_sights":
        front_z = muzzle + 0.1
        parts.append(_slab(x=(-0.014, 0.014),
                           y=(0, barrel_radius + 0.04),
                           z=(front_z - 0.015, front_z + 0.015)))
        parts.append(_slab(x=(-half_w * 0.7, half_w * 0.7),
                           y=(rec_top - 0.01, rec_top + 0.03),
                           z=(rec_front + 0.02, rec_front + 0.06)))
    else:  # carry handle: a bridge over the receiver
        h = p.uniform("handle_height", 0.04, 0.06)
        for z in (rec_front + 0.02, rec_front + receiver_length * 0.7):
            parts.append(_slab(x=(-0.013, 0.013), y=(rec_top - 0.01, rec_top + h), z=(z, z + 0.03)))
        parts.append(_slab(x=(-0.013, 0.013),
                           y=(rec_top + h - 0.005, rec_top + h + 0.025),
                           z=(rec_front + 0.02, rec_front + receiver_length * 0.7 + 0.03)))
    return parts


@_category(
    "sofa",
    arms=("boxy_arms", "rolled_arms", "no_arms"),
    layout=("straight", "l_shape"),
    cushions=("seat_cushions", "bench_seat"),
)
def _sofa(choice, p):
    """A base with cushions, a thick back at +Z and arms at the sides (seats face -Z).

    Variants: arms boxy | rolled (a round bolster on top) | none; layout straight | L-shape with
    a chaise sticking out to the front on one side; cushions one per seat | one long bench seat.
    """
    width = p.uniform("width", 0.8, 1.0)
    depth = p.uniform("depth", 0.35, 0.45)
    legs = p.uniform("leg_height", 0.0, 0.06)  # under 0.02 means a skirted base down to the floor
    base_top = legs + p.uniform("base_height", 0.1, 0.16)
    cushion = p.uniform("cushion_thickness", 0.06, 0.1)
    back_height = p.uniform("back_height", 0.2, 0.32)  # above the seat cushions
    back_depth = p.uniform("back_depth", 0.08, 0.14)
    arm_width = p.uniform("arm_width", 0.06, 0.12) if choice["arms"] != "no_arms" else 0.0
    arm_height = p.uniform("arm_height", 0.06, 0.16) if choice["arms"] != "no_arms" else 0.0
    seats = p.integer("seats", 2, 3)
    gap = 0.012  # between cushions (shows in renderings, closes up in voxels)
    seat_top = base_top + cushion

    chaise = 0.0
    if choice["layout"] == "l_shape":
        chaise = p.uniform("chaise_length", 0.25, 0.45)
        side = 1 if p.choice("chaise_side", ("right", "left")) == "right" else -1
        chaise_width = (width - 2 * arm_width) / seats

    # the frame: base, back, arms (the back is the full width at +Z)
    base_bottom = legs if legs >= 0.02 else 0.0
    front = -depth / 2
    parts = [_slab(x=(-width / 2, width / 2), y=(base_bottom, base_top), z=(front, depth / 2)),
             _rounded_box((0, (base_bottom + seat_top + back_height) / 2, depth / 2 - back_depth / 2),
                          (width, seat_top + back_height - base_bottom, back_depth), 0.03)]
    inner_left, inner_right = -width / 2 + arm_width, width / 2 - arm_width
    if chaise:
        x_in = side * (width / 2 - arm_width - chaise_width)
        x_out = side * width / 2
        parts.append(_slab(x=sorted((x_in, x_out)),
                           y=(base_bottom, base_top),
                           z=(front - chaise, front + 0.02)))
    for x in (-1, 1):
        if choice["arms"] == "no_arms":
            continue
        z0 = front - (chaise if chaise and x == side else 0.0)
        xc = x * (width / 2 - arm_width / 2)
        top = seat_top + arm_height
        if choice["arms"] == "boxy_arms":
            parts.append(_rounded_box((xc, (base_bottom + top) / 2, (z0 + depth / 2) / 2),
                                      (arm_width, top - base_bottom, depth / 2 - z0), 0.02))
        else:  # a lower arm with a bolster that rolls outward
            bolster = arm_width * 0.65
            parts.append(_slab(x=(xc - arm_width / 2, xc + arm_width / 2),
                               y=(base_bottom, top - bolster * 0.5),
                               z=(z0, depth / 2 - 0.01)))
            axis_x = xc + x * (bolster - arm_width / 2) * 0.5
            axis_y = top - bolster
            parts.append(_cylinder((axis_x, axis_y, z0 - 0.01), (axis_x, axis_y, depth / 2 - 0.01), bolster))

    # cushions, rounded, sitting on the base (and on the chaise)
    seat_front, seat_back = front + 0.01, depth / 2 - back_depth + 0.01
    if choice["cushions"] == "bench_seat":
        spans = [(inner_left, inner_right)]
    else:
        w = (inner_right - inner_left - (seats - 1) * gap) / seats
        spans = [(inner_left + k * (w + gap), inner_left + k * (w + gap) + w) for k in range(seats)]
    back_tilt = p.uniform("back_cushion_tilt_deg", 8, 16)
    for xa, xb in spans:
        seat_centre = ((xa + xb) / 2, base_top + cushion / 2 - 0.005, (seat_front + seat_back) / 2)
        parts.append(_rounded_box(seat_centre, (xb - xa, cushion + 0.01, seat_back - seat_front), 0.025))
        # back cushions leaning on the back
        back_cushion = _rounded_box((0, back_height * 0.45, 0), (xb - xa, back_height * 0.9, 0.08), 0.025)
        parts.append(_tilted([back_cushion], back_tilt, ((xa + xb) / 2, seat_top - 0.01, seat_back + 0.03)))
    if chaise:
        xa, xb = sorted((x_in, side * (width / 2 - arm_width)))
        chaise_centre = ((xa + xb) / 2, base_top + cushion / 2 - 0.005, front - chaise / 2 + 0.005)
        parts.append(_rounded_box(chaise_centre, (xb - xa, cushion + 0.01, chaise + 0.01), 0.025))
    if legs >= 0.02:
        for x in (-1, 1):
            for z in (-1, 1):
                xc, zc = x * (width / 2 - 0.04), z * (depth / 2 - 0.04)
                parts.append(_cylinder((xc, 0, zc), (xc, legs + 0.01, zc), 0.02, 0.025, 12))
        if chaise:
            xc = side * (width / 2 - 0.04)
            zc = front - chaise + 0.04
            parts.append(_cylinder((xc, 0, zc), (xc, legs + 0.01, zc), 0.02, 0.025, 12))
    return parts


@_category(
    "table",
    legs=("four_legs", "pedestal", "trestle"),
    top=("rectangular_top", "round_top"),
)
def _table(choice, p):
    """A flat top on supports; coffee-table to dining-table heights.

    Variants: legs four legs with an apron | one central pedestal (on a disc or a cross of feet)
    | trestle (an upright frame at each end joined by a stretcher); top rectangular | round.
    """
    height = p.uniform("height", 0.4, 0.78)
    thickness = p.uniform("top_thickness", 0.03, 0.06)
    round_top = choice["top"] == "round_top"
    if round_top:
        length = width = p.uniform("diameter", 0.6, 1.0)
        parts = [_cylinder((0, height - thickness, 0), (0, height, 0), length / 2, sections=32)]
    else:
        length, width = p.uniform("length", 0.75, 1.0), p.uniform("width", 0.4, 0.8)
        parts = [_slab(x=(-length / 2, length / 2),
                       y=(height - thickness, height),
                       z=(-width / 2, width / 2))]
    under = height - thickness + 0.01  # supports reach a little into the top

    if choice["legs"] == "four_legs":
        leg = p.uniform("leg_size", 0.035, 0.06)
        inset = p.uniform("leg_inset", 0.01, 0.07) + leg / 2
        if round_top:
            a = (length / 2 - inset) / np.sqrt(2)
            xs, zs = a, a
        else:
            xs, zs = length / 2 - inset, width / 2 - inset
        for x in (-1, 1):
            for z in (-1, 1):
                parts.append(_slab(x=(x * xs - leg / 2, x * xs + leg / 2),
                                   y=(0, under),
                                   z=(z * zs - leg / 2, z * zs + leg / 2)))
        apron = p.uniform("apron_height", 0.03, 0.1)
        for s in (-1, 1):
            parts.append(_slab(x=(-xs, xs), y=(under - apron, under), z=(s * zs - 0.015, s * zs + 0.015)))
            parts.append(_slab(x=(s * xs - 0.015, s * xs + 0.015), y=(under - apron, under), z=(-zs, zs)))
    elif choice["legs"] == "pedestal":
        column = p.uniform("column_radius", 0.035, 0.07)
        parts.append(_cylinder((0, 0.01, 0), (0, under, 0), column))
        parts.append(_cylinder((0, under - 0.03, 0), (0, under, 0), column * 2.2))
        foot = min(length, width) * p.uniform("foot_spread", 0.3, 0.45)
        if p.choice("pedestal_base", ("disc", "cross")) == "disc":
            disc = p.uniform("disc_thickness", 0.025, 0.05)
            parts.append(_cylinder((0, 0, 0), (0, disc, 0), foot, sections=28))
        else:
            for angle in (45, 135):
                parts.append(_box((0, 0.025, 0), (2 * foot, 0.05, 0.05), (0, angle, 0)))
    else:  # trestle
        post = p.uniform("post_thickness", 0.04, 0.07)
        end = (length / 2 - p.uniform("end_inset", 0.06, 0.14)) if not round_top else length * 0.3
        foot = (width if not round_top else length * 0.6) * 0.4
        for x in (-1, 1):
            xc = x * end
            parts.append(_slab(x=(xc - post / 2, xc + post / 2), y=(0, under), z=(-0.03, 0.03)))
            parts.append(_slab(x=(xc - post / 2, xc + post / 2), y=(0, 0.05), z=(-foot, foot)))
            parts.append(_slab(x=(xc - post / 2, xc + post / 2),
                               y=(under - 0.04, under),
                               z=(-foot * 0.9, foot * 0.9)))
        stretcher_y = height * p.uniform("stretcher_height", 0.2, 0.5)
        parts.append(_slab(x=(-end, end), y=(stretcher_y - 0.025, stretcher_y + 0.025), z=(-0.02, 0.02)))
    return parts


@_category(
    "telephone",
    kind=("smartphone", "flip_phone", "bar_phone", "desk_phone"),
)
def _telephone(choice, p):
    """A phone standing upright with its screen/keys facing -Z (a desk phone lies on its base).

    Variants: smartphone (a rounded slab, recessed screen, camera bump) | open flip phone (keypad
    half, hinge, screen half leaned back) | bar phone (thick candy bar, small screen, keypad,
    antenna) | desk phone (a wedge base with a sloped keypad and a handset across the top).
    """
    kind = choice["kind"]
    parts = []

    def keypad(x_span, y_span, z_face, rows=4, cols=3):
        """Raised key caps on a face at ``z_face`` (keys stick out towards -Z)."""
        keys = []
        kw = (x_span[1] - x_span[0]) / cols
        kh = (y_span[1] - y_span[0]) / rows
        for r in range(rows):
            for c in range(cols):
                x0 = x_span[0] + c * kw + kw * 0.15
                y0 = y_span[0] + r * kh + kh * 0.15
                keys.append(_slab(x=(x0, x0 + kw * 0.7),
                                  y=(y0, y0 + kh * 0.7),
                                  z=(z_face - 0.02, z_face + 0.01)))
        return keys

    if kind == "smartphone":
        width = p.uniform("width", 0.45, 0.55)
        depth = p.uniform("thickness", 0.05, 0.08)
        corner = p.uniform("corner_radius", 0.03, 0.08)
        height = 1.0
        body = _rounded_plate((0, height / 2, 0), (width, height, depth), corner)
        border = p.uniform("screen_border", 0.025, 0.05)
        screen = _slab(x=(-width / 2 + border, width / 2 - border),
                       y=(border * 1.5, height - border * 1.5),
                       z=(-depth / 2 - 0.01, -depth / 2 + 0.012))
        parts.append(_cut(body, screen))
        bump = p.uniform("camera_bump", 0.1, 0.2)
        bump_centre = (-width / 2 + 0.05 + bump / 2, height - 0.05 - bump / 2, depth / 2)  # on the back
        parts.append(_rounded_box(bump_centre, (bump, bump, 0.05), 0.015))
    elif kind == "flip_phone":
        width = p.uniform("width", 0.38, 0.46)
        depth = p.uniform("thickness", 0.06, 0.09)
        lower = p.uniform("lower_half_height", 0.42, 0.5)
        upper = p.uniform("upper_half_height", 0.4, 0.48)
        lean = p.uniform("open_lean_deg", 10, 25)
        parts.append(_rounded_box((0, lower / 2, 0), (width, lower, depth), 0.025))
        parts += keypad((-width / 2 + 0.05, width / 2 - 0.05), (0.05, lower * 0.75), -depth / 2)
        hinge_y = lower + depth / 2 * 0.5
        hinge_x = width / 2 - 0.02
        parts.append(_cylinder((-hinge_x, hinge_y, 0.0), (hinge_x, hinge_y, 0.0), depth / 2 + 0.005))
        screen_half = [
            _cut(_rounded_box((0, upper / 2, 0), (width, upper, depth * 0.8), 0.025),
                 [_slab(x=(-width / 2 + 0.04, width / 2 - 0.04),
                        y=(0.06, upper - 0.05),
                        z=(-depth * 0.4 - 0.01, -depth * 0.4 + 0.012))])
        ]
        parts.append(_tilted(screen_half, lean, (0, hinge_y, 0.0)))
    elif kind == "bar_phone":
        width = p.uniform("width", 0.38, 0.46)
        depth = p.uniform("thickness", 0.09, 0.14)
        height = 1.0 - p.uniform("antenna_length", 0.08, 0.16)
        parts.append(_cut(_rounded_box((0, height / 2, 0), (width, height, depth), 0.04),
                          [_slab(x=(-width / 2 + 0.06, width / 2 - 0.06),
                                 y=(height * 0.55, height - 0.08),
                                 z=(-depth / 2 - 0.01, -depth / 2 + 0.015))]))
        rows = p.integer("key_rows", 4, 5)
        parts += keypad((-width / 2 + 0.05, width / 2 - 0.05), (0.06, height * 0.48), -depth / 2, rows)
        ax = width * 0.3
        parts.append(_cylinder((ax, height - 0.03, 0), (ax, 1.0, 0), 0.025, 0.018, 12))
    else:  # desk phone: a wedge base, a sloped keypad, a handset lying across the top
        width = p.uniform("width", 0.75, 1.0)
        depth = p.uniform("depth", 0.55, 0.8)
        front_h = p.uniform("front_height", 0.06, 0.1)
        back_h = p.uniform("back_height", 0.2, 0.3)
        slope = np.degrees(np.arctan2(back_h - front_h, depth * 0.7))
        parts.append(_hull([(sx * width / 2, y, z) for sx in (-1, 1)
                            for y, z in ((0, -depth / 2), (0, depth / 2), (front_h, -depth / 2),
                                         (back_h, depth * 0.2), (back_h, depth / 2))]))
        # keys on the sloped face, drawn flat (facing +Y) then tilted to match the slope
        pad = []
        for r in range(4):
            for c in range(3):
                x0 = -0.15 + c * 0.1
                z0 = -0.1 + r * 0.075
                pad.append(_slab(x=(x0, x0 + 0.07), y=(-0.01, 0.02), z=(z0, z0 + 0.05)))
        mid_z = -depth / 2 + depth * 0.35
        mid_y = front_h + (back_h - front_h) * 0.5
        parts.append(_union(pad).rotate((-slope, 0.0, 0.0)).translate((-width * 0.15, mid_y, mid_z)))
        # handset: two ear/mouth pieces joined by a bar, across X at the back
        hz = depth * 0.28
        hy = back_h + 0.04
        span = width * p.uniform("handset_length", 0.75, 0.9)
        for x in (-1, 1):
            parts.append(_rounded_box((x * (span / 2 - 0.07), hy, hz), (0.14, 0.1, 0.2), 0.03))
        parts.append(_cylinder((-span / 2 + 0.1, hy + 0.03, hz), (span / 2 - 0.1, hy + 0.03, hz), 0.035))
        # cradle posts under the ends of the handset
        for x in (-1, 1):
            parts.append(_slab(x=(x * (span / 2 - 0.07) - 0.04, x * (span / 2 - 0.07) + 0.04),
                               y=(back_h - 0.03, hy),
                               z=(hz - 0.05, hz + 0.05)))
    return parts


@_category(
    "watercraft",
    kind=("sailboat", "motorboat", "ship"),
    hull=("monohull", "catamaran"),
)
def _watercraft(choice, p):
    """A pointed hull along Z (bow at -Z) with things on deck.

    Variants: kind sailboat (mast, main sail, maybe a jib, keel fin) | motorboat (a cabin with a
    sloped windshield, an outboard motor) | ship (stacked superstructure, funnels, a mast);
    hull one V-shaped hull | catamaran (two slim hulls under a deck).
    """
    kind = choice["kind"]
    length = 1.0
    beam = p.uniform("beam", 0.14, 0.2) if kind == "ship" else p.uniform("beam", 0.22, 0.32)
    deck = p.uniform("hull_depth", 0.08, 0.14) if kind == "ship" else p.uniform("hull_depth", 0.06, 0.1)
    bow, stern = -length / 2, length / 2
    flare = p.uniform("bow_rake", 0.05, 0.12)  # the stem leans forward: the deck reaches further

    def hull(x_centre, half_beam):
        """Cross-sections from bow to stern, each a deck line, a chine and a keel point: their
        convex hull is a V-shaped hull with a raked stem and a raised transom."""
        points = []
        # (z, deck half-width as a fraction of half_beam, keel height as a fraction of deck)
        for z, w, k in ((bow, 0.02, 0.9), (bow + flare, 0.4, 0.2), (bow + 0.35, 0.92, 0.0),
                        (stern - 0.25, 1.0, 0.0), (stern, 0.9, 0.3)):
            half = max(half_beam * w, 0.013)
            keel = k * deck
            chine = keel + (deck - keel) * 0.4
            points += [(x_centre + s * half, deck, z) for s in (-1, 1)]
            points += [(x_centre + s * half * 0.8, chine, z) for s in (-1, 1)]
            points.append((x_centre, keel, z))
        return _hull(points)

    if choice["hull"] == "monohull":
        parts = [hull(0.0, beam / 2)]
        deck_top = deck
    else:
        pontoon = beam * p.uniform("pontoon_fraction", 0.2, 0.3)
        parts = [hull(s * (beam / 2 + pontoon / 2), pontoon / 2) for s in (-1, 1)]
        deck_top = deck + 0.03
        parts.append(_slab(x=(-beam / 2 - pontoon / 2, beam / 2 + pontoon / 2),
                           y=(deck - 0.01, deck_top),
                           z=(bow + 0.25, stern - 0.02)))
    y = deck_top - 0.01  # things on deck start a little inside it

    if kind == "sailboat":
        mast_z = bow + p.uniform("mast_position", 0.3, 0.42)
        mast_height = p.uniform("mast_height", 0.6, 0.95)
        mast = 0.017  # the mast makes the boat ~1.2 tall: keep it 0.034 / 1.2 thick
        boom_y = y + p.uniform("boom_height", 0.06, 0.1)
        foot = p.uniform("sail_foot", 0.3, 0.45)
        sail = 0.015  # half thickness: the sail is a 0.03-thick slab
        parts += [_cylinder((0, y - 0.02, mast_z), (0, y + mast_height, mast_z), mast),
                  _cylinder((0, boom_y, mast_z), (0, boom_y, mast_z + foot), 0.016)]
        parts.append(_hull([(sx * sail, yy, zz) for sx in (-1, 1) for yy, zz in
                            ((boom_y, mast_z), (boom_y, mast_z + foot), (y + mast_height * 0.97, mast_z))]))
        if p.choice("jib", ("yes", "no")) == "yes":
            parts.append(_hull([(sx * sail, yy, zz) for sx in (-1, 1) for yy, zz in
                                ((y + 0.02, mast_z - 0.02), (y + 0.02, bow + flare + 0.04),
                                 (y + mast_height * 0.8, mast_z - 0.01))]))
        if choice["hull"] == "monohull":  # a fin keel with a bulb
            keel_depth = p.uniform("keel_depth", 0.1, 0.2)
            parts.append(_hull([(sx * 0.016, yy, zz) for sx in (-1, 1) for yy, zz in
                                ((0.02, mast_z), (0.02, mast_z + 0.15),
                                 (-keel_depth, mast_z + 0.06), (-keel_depth, mast_z + 0.14))]))
            parts.append(_cylinder((0, -keel_depth, mast_z + 0.03), (0, -keel_depth, mast_z + 0.18), 0.025))
        cabin_len = p.uniform("cabin_length", 0.12, 0.25)
        cabin_z = mast_z + 0.05 + cabin_len / 2
        parts.append(_rounded_box((0, y + 0.03, cabin_z), (beam * 0.55, 0.07, cabin_len), 0.02))
    elif kind == "motorboat":
        cabin_front = bow + p.uniform("cabin_position", 0.3, 0.42)
        cabin_len = p.uniform("cabin_length", 0.2, 0.35)
        cabin_h = p.uniform("cabin_height", 0.07, 0.13)
        half = beam * 0.38
        parts.append(_hull([(sx * w, yy, zz) for sx in (-1, 1) for w, yy, zz in
                            ((half, y, cabin_front), (half, y, cabin_front + cabin_len),
                             (half * 0.85, y + cabin_h, cabin_front + cabin_h * 1.2),
                             (half * 0.85, y + cabin_h, cabin_front + cabin_len))]))
        if p.choice("outboard", ("yes", "no")) == "yes":
            parts.append(_slab(x=(-0.035, 0.035),
                               y=(deck * 0.5, deck + 0.08),
                               z=(stern - 0.02, stern + 0.07)))
            parts.append(_slab(x=(-0.015, 0.015), y=(-0.05, deck * 0.6), z=(stern + 0.02, stern + 0.05)))
        rail = p.uniform("windshield_lean", 0.0, 0.04)
        parts.append(_slab(x=(-half * 0.8, half * 0.8),
                           y=(y + cabin_h - 0.01, y + cabin_h + 0.025),
                           z=(cabin_front + cabin_len * 0.4 + rail, cabin_front + cabin_len)))
    else:  # ship: superstructure blocks stepping up, funnels behind them, a mast in front
        levels = p.integer("superstructure_levels", 2, 4)
        start = p.uniform("superstructure_position", 0.45, 0.65)  # fraction along the hull
        block_len = p.uniform("superstructure_length", 0.18, 0.3)
        level_h = p.uniform("deck_height", 0.04, 0.06)
        half = beam * 0.42
        z0 = bow + start * length - block_len / 2
        for k in range(levels):
            shrink = 1 - 0.18 * k
            parts.append(_slab(x=(-half * shrink, half * shrink),
                               y=(y + k * level_h, y + (k + 1) * level_h + 0.005),
                               z=(z0 + block_len * 0.12 * k, z0 + block_len * shrink)))
        funnels = p.integer("funnels", 1, 3)
        funnel_r = p.uniform("funnel_radius", 0.02, 0.035)
        funnel_h = p.uniform("funnel_height", 0.07, 0.13)
        behind = z0 + block_len + 0.03 + funnel_r
        for k in range(funnels):
            zc = min(behind + k * (2.6 * funnel_r), stern - 0.06)
            funnel_top = (0, y + level_h + funnel_h, zc + 0.02)  # raked back a little
            parts.append(_cylinder((0, y, zc), funnel_top, funnel_r * 1.15, funnel_r))
        top = y + levels * level_h
        mast_z, mast_top = z0 + block_len * 0.4, top + p.uniform("mast_height", 0.08, 0.16)
        parts.append(_cylinder((0, top - 0.01, mast_z), (0, mast_top, mast_z), 0.014))
        if p.choice("forward_cargo", ("containers", "none")) == "containers":
            fore = z0 - 0.02
            parts.append(_slab(x=(-half, half), y=(y, y + level_h), z=(max(bow + 0.2, fore - 0.25), fore)))
    return parts


assert tuple(_GENERATORS) == CATEGORIES, "generators must be registered in CATEGORIES order"
