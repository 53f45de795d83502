import warnings

import numpy as np
import pytest
import trimesh

from tutorial_lib import geometry
from tutorial_lib.geometry import MeshError


def test_voxel_centers_of_a_two_cell_grid():
    np.testing.assert_allclose(geometry.voxel_centers(2), [-0.25, 0.25])


def test_filled_voxel_centers_of_a_two_cell_grid():
    voxels = np.zeros((2, 2, 2), dtype=bool)
    voxels[1, 0, 1] = True  # +X, -Y, +Z
    centers = geometry.filled_voxel_centers(voxels)
    assert centers.dtype == np.float32
    np.testing.assert_allclose(centers, [[0.25, -0.25, 0.25]])
    assert geometry.filled_voxel_centers(np.zeros((4, 4, 4), dtype=bool)).shape == (0, 3)


def test_grid_points_are_indexed_like_the_grid():
    n = 8
    points = geometry.grid_points(n).reshape(n, n, n, 3)
    np.testing.assert_allclose(points[1, 2, 3], geometry.grid_to_world([1, 2, 3], n), atol=1e-7)
    np.testing.assert_allclose(points[0, 0, 0], [-0.5 + 1 / 16] * 3, atol=1e-7)


def test_grid_world_round_trip():
    p = np.random.default_rng(0).uniform(-0.5, 0.5, (100, 3))
    np.testing.assert_allclose(geometry.grid_to_world(geometry.world_to_grid(p, 64), 64), p, atol=1e-12)


def test_sphere_volume_within_two_percent(sphere):
    voxels = geometry.voxelize(sphere, 64)
    true_volume = 4 / 3 * np.pi * 0.4**3
    assert abs(voxels.sum() / 64**3 - true_volume) / true_volume < 0.02


def test_marching_cubes_of_sphere_is_watertight_and_within_one_voxel(sphere):
    mesh = geometry.marching_cubes(geometry.voxelize(sphere, 64))
    assert mesh.is_watertight
    radial_error = np.abs(np.linalg.norm(mesh.vertices, axis=1) - 0.4)
    assert radial_error.max() <= 1 / 64
    assert mesh.volume > 0  # normals point outwards


def test_box_on_cell_boundaries_fills_exactly_its_cells():
    # A cube of side 0.5 at the origin covers cells 4..11 of a 16³ grid: 8³ of them.
    box = trimesh.creation.box([0.5, 0.5, 0.5])
    voxels = geometry.voxelize(box, 16)
    assert voxels.sum() == 8**3
    assert voxels[4:12, 4:12, 4:12].all()


def test_voxel_axes_are_x_y_z():
    # A long thin box along X must fill many cells along axis 0 and few along 1 and 2.
    box = trimesh.creation.box([0.8, 0.1, 0.2])
    voxels = geometry.voxelize(box, 32)
    extents = [np.any(voxels, axis=tuple(a for a in range(3) if a != axis)).sum() for axis in range(3)]
    assert extents[0] > extents[2] > extents[1]


def test_normalize_puts_centre_of_mass_at_origin_and_fits_padding(chair_like):
    mesh = geometry.normalize_mesh(chair_like.apply_translation([3, -2, 5]).apply_scale(7))
    np.testing.assert_allclose(mesh.center_mass, 0, atol=1e-9)
    assert np.abs(mesh.vertices).max() == pytest.approx(0.5 - 2 / 64)
    voxels = geometry.voxelize(mesh, 64)
    # two empty voxels on every face of the grid
    for axis in range(3):
        filled = np.flatnonzero(np.any(voxels, axis=tuple(a for a in range(3) if a != axis)))
        assert filled.min() >= 2 and filled.max() <= 61


def test_normalize_turns_z_up_into_y_up():
    tall_along_z = trimesh.creation.box([0.2, 0.3, 1.0])
    mesh = geometry.normalize_mesh(tall_along_z, up="+z", front="-y")
    extents = mesh.extents
    assert extents[1] == pytest.approx(extents.max())  # the long side is now Y


def test_orientation_matrix_is_a_rotation():
    for up, front in [("+y", "-z"), ("+z", "-y"), ("+z", "+x"), ("-x", "+y")]:
        r = geometry.orientation_matrix(up, front)
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="different axes"):
        geometry.orientation_matrix("+y", "-y")


def test_the_24_quarter_turns_are_24_different_rotations():
    turns = geometry.axis_aligned_orientations()
    matrices = [geometry.orientation_matrix(up, front) for up, front in turns]
    assert turns[0] == ("+y", "-z") and np.array_equal(matrices[0], np.eye(3))
    assert len({m.astype(int).tobytes() for m in matrices}) == 24
    for m in matrices:
        assert np.linalg.det(m) == pytest.approx(1.0) and set(np.abs(m).ravel()) == {0.0, 1.0}


def test_default_front_is_the_usual_z_up_turn():
    # ModelNet's Z-up file: the usual turn of 90 degrees about X takes +Z to +Y and +Y to -Z (the front).
    assert geometry.default_front("+z") == "+y" and geometry.default_front("-z") == "-y"
    assert geometry.default_front("+y") == "-z" and geometry.default_front("+x") == "-z"
    turn = geometry.orientation_matrix("+z", geometry.default_front("+z"))
    np.testing.assert_array_equal(turn @ [0, 0, 1], [0, 1, 0])
    np.testing.assert_array_equal(turn @ [0, 1, 0], [0, 0, -1])
    np.testing.assert_array_equal(turn @ [1, 0, 0], [1, 0, 0])


def test_turning_the_grid_is_voxelising_the_turned_mesh():
    # No symmetry and no face on a plane of voxel centres (where the rays' direction decides a tie).
    blobs = [trimesh.creation.icosphere(2, radius=r).apply_translation(t) for r, t in
             [(0.5, (0, 0, 0)), (0.3, (0.7, 0.2, 0.1)), (0.2, (0.1, 0.9, -0.3)), (0.25, (-0.2, 0.1, 0.8))]]  # fmt: skip
    mesh = trimesh.convex.convex_hull(np.concatenate([b.vertices for b in blobs]))
    as_is = geometry.voxelize(geometry.normalize_mesh(mesh), 64)
    for up, front in geometry.axis_aligned_orientations():
        turned = geometry.voxelize(geometry.normalize_mesh(mesh, up=up, front=front), 64)
        rotated = geometry.rotate_voxels(as_is, up, front)
        assert rotated.flags.c_contiguous
        assert (rotated & turned).sum() / (rotated | turned).sum() > 0.99, (up, front)
        assert rotated.sum() == as_is.sum()


def test_open_mesh_is_voxelised_by_its_winding_number_and_said_in_one_line(sphere):
    closed = geometry.voxelize(sphere, 64)
    holed = sphere.copy()
    holed.update_faces(np.arange(len(holed.faces))[20:])  # punch a small hole
    assert not holed.is_watertight
    lines = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Python warning: one line through report
        filled = geometry.voxelize(holed, 64, name="holed.obj", report=lines.append)
    assert len(lines) == 1 and lines[0].startswith("holed.obj: not watertight (") and lines[0].endswith("; filled by its winding number")
    assert (filled != closed).sum() / closed.sum() < 0.01
    with pytest.raises(MeshError, match="holed.obj.*watertight"):
        geometry.voxelize(holed, 64, method="parity", name="holed.obj")


def test_empty_mesh_is_a_clear_error():
    with pytest.raises(MeshError, match="empty"):
        geometry.voxelize(trimesh.Trimesh(), 16)


def test_load_mesh_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.obj"):
        geometry.load_mesh(tmp_path / "missing.obj")
    text = tmp_path / "notes.obj"
    text.write_text("this is not a mesh\n")
    with pytest.raises(MeshError, match="notes.obj"):
        geometry.load_mesh(text)
    empty = tmp_path / "empty.off"
    empty.write_text("OFF\n0 0 0\n")
    with pytest.raises(MeshError, match="empty.off"):
        geometry.load_mesh(empty)
    wrong = tmp_path / "picture.png"
    wrong.write_bytes(b"\x89PNG")
    with pytest.raises(MeshError, match="picture.png.*unsupported"):
        geometry.load_mesh(wrong)


def test_load_mesh_reads_what_trimesh_writes(tmp_path, chair_like):
    for suffix in (".obj", ".off", ".stl", ".ply"):
        path = tmp_path / f"chair{suffix}"
        chair_like.export(path)
        loaded = geometry.load_mesh(path)
        assert loaded.volume == pytest.approx(chair_like.volume, rel=1e-4)


def test_marching_cubes_edge_cases():
    assert len(geometry.marching_cubes(np.zeros((8, 8, 8))).faces) == 0
    with pytest.raises(ValueError, match="cubic"):
        geometry.marching_cubes(np.zeros((8, 8, 4)))
    # a grid full to its border still closes
    assert geometry.marching_cubes(np.ones((8, 8, 8))).is_watertight


def test_sample_surface_lies_on_the_sphere_with_radial_normals(sphere):
    points, normals = geometry.sample_surface(sphere, 2000, seed=3)
    assert points.shape == normals.shape == (2000, 3)
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 0.4, atol=2e-3)
    cosines = np.einsum("ij,ij->i", normals, points / np.linalg.norm(points, axis=1, keepdims=True))
    assert cosines.min() > 0.99


def test_voxelize_does_not_warn_for_watertight(sphere):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        geometry.voxelize(sphere, 16)


def test_column_kernel_finds_the_crossings_embree_finds(chair_like, sphere):
    """Known answer: the compiled column kernel against Embree's rays through trimesh (the voxeliser
    before it), axis by axis, on meshes with axis-aligned boxes, curved surfaces, tilted parts and
    procedural shapes: the same inside/outside at every voxel centre (the dataset's 2,665 shapes
    were checked the same way when the kernel replaced the rays)."""
    from tutorial_lib import shapes

    tilted = trimesh.creation.box([0.5, 0.2, 0.3]).apply_transform(trimesh.transformations.rotation_matrix(0.5, [1, 1, 0]))
    meshes = [chair_like, sphere, tilted, shapes.make_shape_from_seed("lamp", 2).mesh, shapes.make_shape_from_seed("airplane", 4).mesh]
    for mesh in meshes:
        mesh = geometry.normalize_mesh(mesh)
        intersector = geometry.ray_intersector(mesh)
        for resolution in (32, 64):
            for axis in range(3):
                np.testing.assert_array_equal(geometry._column_parity(mesh, resolution, axis), geometry._parity_along_axis(intersector, resolution, axis))
