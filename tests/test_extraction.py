import numpy as np
import pytest

from tutorial_lib import geometry


def sphere_field(p):
    return (np.linalg.norm(p, axis=1) < 0.3).astype(np.float32)


def thin_torus_field(p):
    ring = np.sqrt(p[:, 0] ** 2 + p[:, 2] ** 2) - 0.3
    return (np.sqrt(ring**2 + p[:, 1] ** 2) < 0.04).astype(np.float32)


@pytest.mark.parametrize("field", [sphere_field, thin_torus_field], ids=["sphere", "torus"])
@pytest.mark.parametrize("resolution", [64, 128])
def test_coarse_to_fine_equals_dense(field, resolution):
    dense, n_dense = geometry.dense_occupancy(field, resolution)
    fine, n_fine = geometry.coarse_to_fine_occupancy(field, resolution, start=16 if resolution == 64 else 32)
    a, b = dense >= 0.5, fine >= 0.5
    assert (a & b).sum() / (a | b).sum() >= 0.99
    assert n_dense == resolution**3 and n_fine < n_dense


def test_coarse_to_fine_at_256_evaluates_five_times_fewer_points():
    fine, evaluated = geometry.coarse_to_fine_occupancy(sphere_field, 256, start=32)
    assert evaluated * 5 <= 256**3
    # the sphere's volume comes out right
    assert fine.mean() == pytest.approx(4 / 3 * np.pi * 0.3**3, rel=0.01)


def test_dense_occupancy_matches_the_field_on_grid_points():
    values, _ = geometry.dense_occupancy(sphere_field, 16)
    np.testing.assert_array_equal(values.reshape(-1), sphere_field(geometry.grid_points(16)))


def test_extracted_mesh_is_the_sphere_and_saves(tmp_path):
    values, _ = geometry.coarse_to_fine_occupancy(sphere_field, 64, start=32)
    mesh = geometry.marching_cubes(values, 0.5)
    assert mesh.is_watertight
    assert np.abs(np.linalg.norm(mesh.vertices, axis=1) - 0.3).max() <= 1 / 64
    for suffix in (".obj", ".ply"):
        path = geometry.save_mesh(mesh, tmp_path / f"sphere{suffix}")
        assert geometry.load_mesh(path).is_watertight
    with pytest.raises(ValueError, match="choose a .obj"):
        geometry.save_mesh(mesh, tmp_path / "sphere.png")
    with pytest.raises(ValueError, match="power of two"):
        geometry.coarse_to_fine_occupancy(sphere_field, 96, start=32)


def soft_rod_field(p):
    """A rod of radius 0.015 along y, as a smooth field (a decoder's sigmoid output is smooth too)."""
    distance = np.sqrt(p[:, 0] ** 2 + p[:, 2] ** 2)
    inside_length = np.abs(p[:, 1]) < 0.4
    return (inside_length / (1 + np.exp((distance - 0.015) / 0.01))).astype(np.float32)


def test_band_finds_a_part_thinner_than_a_start_cell():
    # The nearest 32³ centres are 0.022 from the rod's axis (outside: value ≈ 0.33), so the
    # plain extractor never refines there; the band does (the nearest 64³ centres, 0.011 from
    # the axis, are inside), and then matches the dense grid.
    dense, _ = geometry.dense_occupancy(soft_rod_field, 128)
    assert (dense >= 0.5).sum() > 0
    plain, _ = geometry.coarse_to_fine_occupancy(soft_rod_field, 128, start=32)
    assert (plain >= 0.5).sum() == 0
    banded, evaluated = geometry.coarse_to_fine_occupancy(soft_rod_field, 128, start=32, band=0.05)
    a, b = dense >= 0.5, banded >= 0.5
    assert (a & b).sum() / (a | b).sum() >= 0.99 and evaluated * 5 <= 128**3
    with pytest.raises(ValueError, match="band"):
        geometry.coarse_to_fine_occupancy(soft_rod_field, 128, start=32, band=0.7)


def thin_tilted_rod_field(p):
    """A rod 0.02 across (2.6 cells of 128³), tilted against the grid axes: it crosses between coarse centres."""
    direction = np.array([1.0, 0.3, 0.1]) / np.linalg.norm([1.0, 0.3, 0.1])
    along = p @ direction
    distance = np.linalg.norm(p - along[:, None] * direction, axis=1)
    return ((np.abs(along) < 0.35) & (distance < 0.01)).astype(np.float32)


def test_coarse_to_fine_follows_a_thin_tilted_rod_along_its_length():
    # The 32³ and 64³ grids see the rod only here and there; refining next to those places
    # alone finds about half of it at 128³. Following the change of answer from cell to cell
    # finds all of it.
    dense, _ = geometry.dense_occupancy(thin_tilted_rod_field, 128)
    fine, evaluated = geometry.coarse_to_fine_occupancy(thin_tilted_rod_field, 128, start=32)
    assert (dense >= 0.5).sum() == 478
    np.testing.assert_array_equal(fine >= 0.5, dense >= 0.5)
    assert evaluated * 50 <= 128**3


def test_every_change_of_answer_lies_between_cells_evaluated_at_the_last_level():
    asked = []

    def recording(points):
        asked.append(points.copy())
        return thin_torus_field(points)

    fine, _ = geometry.coarse_to_fine_occupancy(recording, 128, start=32)
    index = geometry.world_to_grid(np.concatenate(asked), 128)
    last_level = np.all(np.abs(index - np.round(index)) < 1e-3, axis=1)  # coarser centres fall between 128³ centres
    evaluated = np.zeros(fine.shape, dtype=bool)
    evaluated[tuple(np.round(index[last_level]).astype(int).T)] = True
    inside = fine >= 0.5
    for axis in range(3):
        a = [slice(None)] * 3
        b = [slice(None)] * 3
        a[axis], b[axis] = slice(None, -1), slice(1, None)
        change = inside[tuple(a)] != inside[tuple(b)]
        assert change.any()
        assert evaluated[tuple(a)][change].all() and evaluated[tuple(b)][change].all()
    np.testing.assert_array_equal(inside, geometry.dense_occupancy(thin_torus_field, 128)[0] >= 0.5)
