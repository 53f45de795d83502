import hashlib

import numpy as np
import pytest
import trimesh

from tutorial_lib import geometry, point_sampling
from tutorial_lib.config import POINT_BUDGETS
from tutorial_lib.point_sampling import downsample, edge_sample, edge_voxels


@pytest.fixture(scope="module")
def chair_voxels():
    parts = [trimesh.creation.box([0.6, 0.08, 0.6]).apply_translation([0, 0.3, 0]), trimesh.creation.box([0.6, 0.6, 0.08]).apply_translation([0, 0.6, 0.28])]
    for x in (-0.25, 0.25):
        for z in (-0.25, 0.25):
            parts.append(trimesh.creation.box([0.06, 0.3, 0.06]).apply_translation([x, 0.13, z]))
    mesh = geometry.normalize_mesh(trimesh.boolean.union(parts, engine="manifold"))
    return geometry.voxelize(mesh, 64)


def test_budgets_are_exact_at_every_resolution(chair_voxels, rng):
    samples = point_sampling.sample_all_resolutions(chair_voxels, rng)
    for resolution, budget in POINT_BUDGETS.items():
        s = samples[resolution]
        assert s.points.shape == (budget, 3) and s.values.shape == (budget, 1)
        assert len(np.unique(s.indices, axis=0)) == budget  # no voxel twice
    assert POINT_BUDGETS == {16: 4096, 32: 8192, 64: 32768}


def test_every_value_is_the_voxel_it_came_from(chair_voxels, rng):
    for resolution, s in point_sampling.sample_all_resolutions(chair_voxels, rng).items():
        grid = downsample(chair_voxels, resolution)
        np.testing.assert_array_equal(s.values[:, 0], grid[tuple(s.indices.T)])
        # and the point is that voxel's centre
        np.testing.assert_allclose(s.points, geometry.grid_to_world(s.indices, resolution), atol=1e-6)


def test_sixteen_cubed_takes_every_cell(chair_voxels, rng):
    s = point_sampling.sample_all_resolutions(chair_voxels, rng)[16]
    assert len(np.unique(s.indices, axis=0)) == 16**3


def test_all_edge_voxels_are_taken_when_they_fit(rng):
    grid = np.zeros((32, 32, 32), dtype=bool)
    grid[14:18, 14:18, 14:18] = True  # a small cube: its edge band is (4 + 6)³ = 1000 voxels
    edges = edge_voxels(grid)
    assert edges.sum() == 10**3
    s = edge_sample(grid, 4096, rng)
    assert s.stage == 1 and s.edge_count == 1000
    taken = np.zeros_like(grid)
    taken[tuple(s.indices.T)] = True
    assert taken[edges].all()


def test_edge_window_is_seven_wide():
    grid = np.zeros((16, 16, 16), dtype=bool)
    grid[8, 8, 8] = True
    edges = edge_voxels(grid)
    assert edges.sum() == 7**3
    assert edges[5:12, 5:12, 5:12].all()


def test_many_edges_fall_back_to_even_voxels_then_to_random(rng):
    big = geometry.voxelize(trimesh.creation.icosphere(subdivisions=4, radius=0.46), 64)
    s = edge_sample(big, 32768, rng)
    assert s.stage == 2  # the edge band of a big sphere is ~80k voxels, its even part ~10k
    noise = np.random.default_rng(0).random((64, 64, 64)) < 0.5  # edges everywhere
    # With the talk's budgets stage 3 cannot happen at 64³: the even sub-grid has exactly
    # 32³ = 32768 voxels, the budget. A smaller budget shows it.
    assert edge_sample(noise, 32768, rng).stage == 2
    s3 = edge_sample(noise, 10_000, rng)
    assert s3.stage == 3 and s3.edge_count == 0
    assert len(np.unique(s3.indices, axis=0)) == 10_000


def test_stage_two_takes_every_even_edge_voxel(rng):
    big = geometry.voxelize(trimesh.creation.icosphere(subdivisions=4, radius=0.46), 64)
    s = edge_sample(big, 32768, rng)
    even_edges = edge_voxels(big)
    mask = np.zeros_like(even_edges)
    mask[::2, ::2, ::2] = True
    even_edges &= mask
    taken = np.zeros_like(big)
    taken[tuple(s.indices.T)] = True
    assert s.edge_count == even_edges.sum() and taken[even_edges].all()


def test_downsample_is_max_pooling():
    grid = np.zeros((4, 4, 4), dtype=bool)
    grid[3, 0, 1] = True
    pooled = downsample(grid, 2)
    assert pooled.sum() == 1 and pooled[1, 0, 0]
    with pytest.raises(ValueError, match="multiple"):
        downsample(grid, 3)


def test_same_seed_same_sample(chair_voxels):
    a = edge_sample(chair_voxels, 32768, np.random.default_rng(5))
    b = edge_sample(chair_voxels, 32768, np.random.default_rng(5))
    np.testing.assert_array_equal(a.indices, b.indices)


def test_budget_larger_than_grid_is_an_error(rng):
    with pytest.raises(ValueError, match="exceeds"):
        edge_sample(np.zeros((8, 8, 8), bool), 1000, rng)


def _filters(grid, window):
    """The edge test as max and min filters (the definition the packed version must match)."""
    from scipy import ndimage

    v = grid.astype(np.uint8)
    return ndimage.maximum_filter(v, size=window, mode="nearest") != ndimage.minimum_filter(v, size=window, mode="nearest")


@pytest.mark.parametrize("n", [16, 32, 64])
def test_packed_edge_test_equals_the_filters(n):
    rng = np.random.default_rng(n)
    for density in (0.0, 0.002, 0.05, 0.5, 0.97, 1.0):
        grid = rng.random((n, n, n)) < density
        for window in (3, 5, 7, 9):
            np.testing.assert_array_equal(edge_voxels(grid, window), _filters(grid, window))
    odd = rng.random((20, 20, 20)) < 0.1  # no packed type for 20 voxels a side: the filters themselves
    np.testing.assert_array_equal(edge_voxels(odd), _filters(odd, 7))


def test_downsample_equals_pooling_by_reshape():
    grid = np.random.default_rng(1).random((64, 64, 64)) < 0.02
    for resolution in (32, 16, 8, 4, 1):
        f = 64 // resolution
        pooled = downsample(grid, resolution)
        assert pooled.dtype == bool
        np.testing.assert_array_equal(pooled, grid.reshape(resolution, f, resolution, f, resolution, f).any(axis=(1, 3, 5)))
    np.testing.assert_array_equal(downsample(grid[:48, :48, :48], 16), grid[:48, :48, :48].reshape(16, 3, 16, 3, 16, 3).any(axis=(1, 3, 5)))


def _digest(samples, with_stages: bool = True) -> str:
    digest = hashlib.sha256()
    for s in samples:
        digest.update(s.points.tobytes())
        digest.update(s.values.tobytes())
        digest.update(s.indices.tobytes())
        if with_stages:
            digest.update(bytes([s.stage]))
            digest.update(str(s.edge_count).encode())
    return digest.hexdigest()[:16]


def _analytic_grids():
    c = geometry.voxel_centers(64)
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    ball = (x - 0.1) ** 2 + y**2 + (z + 0.05) ** 2 < 0.3**2
    slab = (np.abs(x) < 0.4) & (np.abs(y + 0.3) < 0.04) & (np.abs(z) < 0.35)
    legs = (np.abs(np.abs(x) - 0.3) < 0.03) & (np.abs(np.abs(z) - 0.25) < 0.03) & (y < -0.3) & (y > -0.45)
    return {"chair-like": ball | slab | legs, "big ball": x**2 + y**2 + z**2 < 0.46**2, "noise": np.random.default_rng(0).random((64, 64, 64)) < 0.5}


def test_samples_are_the_ones_the_filter_version_drew():
    """The same points, values and order as the sampler drew before its edge test was packed into
    bits (digests recorded with that version): the shipped autoencoder was trained on such samples."""
    recorded = {"chair-like": ("a2094f9cb727b6a9", [(1, 3585), (2, 2207), (2, 8552)]),
                "big ball": ("f6c29fb509c7d276", [(1, 3960), (2, 2856), (2, 12234)]),
                "noise": ("de7d240f8d5c6ece", [(1, 0), (2, 2948), (2, 32768)])}  # fmt: skip
    grids = _analytic_grids()
    for name, grid in grids.items():
        samples = list(point_sampling.sample_all_resolutions(grid, np.random.default_rng(7)).values())
        assert [(s.stage, s.edge_count) for s in samples] == recorded[name][1], name
        assert _digest(samples) == recorded[name][0], name
    stage_three = edge_sample(grids["noise"], 10_000, np.random.default_rng(3))
    assert stage_three.stage == 3 and _digest([stage_three], with_stages=False) == "6a6396c28a593e9b"
