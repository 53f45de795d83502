"""Tests for tutorial_lib.shapes: valid solids, determinism, variety, variants, the canonical frame."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from scipy import ndimage

from tutorial_lib import shapes
from tutorial_lib.shapes import CATEGORIES, Shape, make_shape, make_shape_from_seed, variants

SEEDS = range(10)


@pytest.fixture(scope="module")
def built() -> dict[tuple[str, int], Shape]:
    """Ten shapes per category, built once for the whole module (~1 s)."""
    return {(category, seed): make_shape_from_seed(category, seed) for category in CATEGORIES for seed in SEEDS}


def _built(built, category):
    return [built[category, seed] for seed in SEEDS]


def test_the_thirteen_categories_in_order():
    assert CATEGORIES == ("airplane", "bench", "cabinet", "car", "chair", "display", "lamp", "loudspeaker", "rifle", "sofa", "table", "telephone", "watercraft")


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_shape_is_one_watertight_solid(built, category):
    for seed, shape in zip(SEEDS, _built(built, category), strict=True):
        mesh = shape.mesh
        where = f"{category} seed {seed} ({shape.variant})"
        assert mesh.is_watertight, where
        assert mesh.is_volume, where
        assert mesh.volume > 0, where
        assert len(mesh.split(only_watertight=False)) == 1, where
        extents = mesh.extents
        assert 0.3 <= extents.max() <= 3, where
        assert abs(mesh.bounds[0, 1]) < 1e-6, f"{where}: should stand on y = 0"
        assert len(mesh.faces) < 5000, where


@pytest.mark.parametrize("category", CATEGORIES)
def test_shape_fields(built, category):
    for shape in _built(built, category):
        assert isinstance(shape, Shape)
        assert shape.category == category
        assert set(shape.variant.split("+")) <= set(variants(category))
        assert json.loads(json.dumps(shape.params)) == shape.params
        assert all(isinstance(v, (int, float, str)) for v in shape.params.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        shape.category = "something else"


@pytest.mark.parametrize("category", CATEGORIES)
def test_same_seed_same_mesh(built, category):
    again = make_shape_from_seed(category, 3)
    first = built[category, 3]
    assert np.array_equal(first.mesh.vertices, again.mesh.vertices)
    assert np.array_equal(first.mesh.faces, again.mesh.faces)
    assert (first.variant, first.params) == (again.variant, again.params)
    via_rng = make_shape(category, np.random.default_rng(3))
    assert np.array_equal(first.mesh.vertices, via_rng.mesh.vertices)


@pytest.mark.parametrize("category", CATEGORIES)
def test_different_seeds_different_shapes(built, category):
    meshes = [shape.mesh for shape in _built(built, category)]
    fingerprints = {(len(m.vertices), round(float(m.volume), 9), m.vertices.tobytes()) for m in meshes}
    assert len(fingerprints) == len(meshes)
    volumes = sorted(round(float(m.volume), 6) for m in meshes)
    assert len(set(volumes)) == len(volumes)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_variant_is_drawn(built, category):
    declared = variants(category)
    assert len(declared) >= 3 and len(set(declared)) == len(declared)
    # the variant is the first thing make_shape draws, so it can be drawn alone (cheap) ...
    for seed in SEEDS:
        alone = shapes._draw_structure(category, np.random.default_rng(seed))
        assert "+".join(alone.values()) == built[category, seed].variant
    # ... and within 200 seeds every option of every slot shows up
    seen = set()
    for seed in range(200):
        seen |= set(shapes._draw_structure(category, np.random.default_rng(seed)).values())
    assert seen == set(declared)


def test_unknown_category_is_named_in_the_error():
    with pytest.raises(ValueError, match="spaceship") as error:
        make_shape("spaceship", np.random.default_rng(0))
    assert "chair" in str(error.value) and "watercraft" in str(error.value)
    with pytest.raises(ValueError, match="spaceship"):
        variants("spaceship")


def _voxels(mesh, resolution=64, padding=2):
    """Occupancy of voxel centres on the data pipeline's grid (largest side over 60 voxels)."""
    lo, hi = mesh.bounds
    pitch = float((hi - lo).max()) / (resolution - 2 * padding)
    axis = (np.arange(resolution) - resolution / 2 + 0.5) * pitch
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3) + (lo + hi) / 2
    inside_box = np.all((grid >= lo) & (grid <= hi), axis=1)
    occupied = np.zeros(len(grid), bool)
    occupied[inside_box] = mesh.contains(grid[inside_box])
    return occupied.reshape(resolution, resolution, resolution)


@pytest.mark.parametrize("category", CATEGORIES)
def test_thin_parts_survive_64_cubed_voxels(built, category):
    """Legs, masts, barrels are thick enough that the voxelised shape is still one piece."""
    for seed in (0, 1):
        occupied = _voxels(built[category, seed].mesh)
        _, pieces = ndimage.label(occupied, structure=np.ones((3, 3, 3)))
        assert pieces == 1, f"{category} seed {seed}: {pieces} pieces at 64³"


def _top_vertices(mesh, fraction=0.1):
    y = mesh.vertices[:, 1]
    return mesh.vertices[y > y.max() - fraction * np.ptp(y)]


@pytest.mark.parametrize("category", ["chair", "sofa"])
def test_back_rest_is_at_plus_z(built, category):
    for shape in _built(built, category):
        assert _top_vertices(shape.mesh)[:, 2].mean() > 0, shape.variant


def test_bench_back_rest_is_at_plus_z():
    for seed in range(40):
        shape = make_shape_from_seed("bench", seed)
        if "backrest" in shape.variant:
            assert _top_vertices(shape.mesh)[:, 2].mean() > 0, seed


def test_airplane_is_long_along_z_with_the_tail_fin_at_plus_z(built):
    for shape in _built(built, "airplane"):
        x, y, z = shape.mesh.extents
        assert z > y and x > y
        assert _top_vertices(shape.mesh)[:, 2].mean() > 0.25, shape.variant  # the fin is at the tail


def test_car_wheels_at_the_bottom_corners_and_hood_at_minus_z(built):
    for shape in _built(built, "car"):
        mesh = shape.mesh
        x, y, z = mesh.extents
        assert z > x and z > y
        ground = mesh.vertices[mesh.vertices[:, 1] < 0.01]  # only the wheels touch the ground
        assert np.all(np.abs(ground[:, 0]) > 0.1), shape.variant
        assert (ground[:, 2] < -0.2).any() and (ground[:, 2] > 0.2).any(), shape.variant
        front = mesh.vertices[mesh.vertices[:, 2] < mesh.bounds[0, 2] + 0.1]
        assert front[:, 1].max() < 0.75 * y, f"{shape.variant}: the front should be the low hood"


def test_rifle_muzzle_at_minus_z(built):
    for shape in _built(built, "rifle"):
        v = shape.mesh.vertices
        z0, z1 = shape.mesh.bounds[:, 2]
        assert shape.mesh.extents.argmax() == 2
        muzzle, butt = v[v[:, 2] < z0 + 0.05], v[v[:, 2] > z1 - 0.05]
        assert np.ptp(muzzle[:, 1]) < 0.06 < np.ptp(butt[:, 1]), shape.variant


def test_watercraft_bow_at_minus_z(built):
    """Seen from above, a hull is pointed at the bow and wide at the transom."""
    checked = 0
    for seed in range(30):
        shape = make_shape_from_seed("watercraft", seed)
        if "monohull" not in shape.variant:
            continue  # a catamaran has two pointed bows side by side
        v = shape.mesh.vertices
        z0, z1 = shape.mesh.bounds[:, 2]
        bow, stern = v[v[:, 2] < z0 + 0.1], v[v[:, 2] > z1 - 0.1]
        assert np.ptp(bow[:, 0]) < 0.7 * np.ptp(stern[:, 0]), f"seed {seed}: {shape.variant}"
        checked += 1
    assert checked >= 5
