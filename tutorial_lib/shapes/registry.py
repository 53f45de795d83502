"""The categories' registry and the public API: draw a shape of a category from a seed.

:data:`CATEGORIES` names the 13 categories; each category module registers its generator with
``@_category(name, slot=options, ...)``; :func:`make_shape` draws the structural choices, then
the continuous parameters (:class:`_Params`), unions the parts and normalises the mesh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import trimesh

from .primitives import _drop_slivers, _to_normalised_trimesh, _union

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
