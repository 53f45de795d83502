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
parts directly in manifold3d skips converting every part to and from trimesh, which adds up
over the thousands of shapes of a dataset; docs/benchmark-log.md, "Shapes: the union of the
parts", times the union both ways.) Parts always *overlap* a little where they meet, so the union is one connected solid
rather than pieces touching along a face.

Where things are: :mod:`.primitives` (the parts and their union), :mod:`.registry`
(``CATEGORIES``, :class:`Shape`, :func:`make_shape`, how choices and parameters are drawn), and
the categories grouped by kind: :mod:`.vehicles` (airplane, car, watercraft), :mod:`.seating`
(bench, chair, sofa), :mod:`.furniture` (cabinet, table), :mod:`.electronics` (display, lamp,
loudspeaker, telephone) and :mod:`.rifle`. Everything a user needs is importable from
``tutorial_lib.shapes``.

How to add a category: in the module of its kind (or a new one, imported below), write
``_newthing(choice, p)`` that returns a list of parts built from :mod:`.primitives`, decorate it
with ``@_category("newthing", slot=("option_a", "option_b"), ...)`` and add the name to
``CATEGORIES`` in :mod:`.registry`.
"""

from . import electronics, furniture, rifle, seating, vehicles  # noqa: F401  (importing registers the categories)
from .primitives import SECTIONS
from .registry import (
    _GENERATORS,
    CATEGORIES,
    Shape,
    _draw_structure,
    make_shape,
    make_shape_from_seed,
    variants,
)

assert sorted(_GENERATORS) == sorted(CATEGORIES), "every name in CATEGORIES needs exactly one registered generator"

__all__ = ["CATEGORIES", "SECTIONS", "Shape", "make_shape", "make_shape_from_seed", "variants", "_draw_structure"]
