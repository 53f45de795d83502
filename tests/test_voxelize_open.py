"""geometry.voxelize on meshes that are not one watertight piece: known answers for the winding
number path (open, overlapping, thin, inconsistently wound meshes), its one-line message, and the
parity path that the dataset's shapes take, unchanged."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import trimesh
from scipy import ndimage

from tutorial_lib import _raster, config, data, geometry, shapes

N = 64
ALL_26 = np.ones((3, 3, 3), dtype=bool)  # 26-connectivity for ndimage.label
HALF_DIAGONAL = np.sqrt(3) / 2 / N  # a voxel's centre is at most this far from any point of the voxel


def iou(a, b):
    return (a & b).sum() / (a | b).sum()


def components(voxels):
    return ndimage.label(voxels, ALL_26)[1]


def without(mesh, drop):
    """A copy of ``mesh`` without the faces where ``drop`` is True."""
    out = mesh.copy()
    out.update_faces(~np.asarray(drop))
    out.remove_unreferenced_vertices()
    return out


def voxels_of_samples(mesh, count=400_000):
    """The voxels that dense samples of the surface fall in: voxels the surface surely passes through."""
    points, _ = trimesh.sample.sample_surface(mesh, count, seed=1)
    index = np.floor((points + 0.5) * N).astype(int)
    hit = np.zeros((N, N, N), dtype=bool)
    hit[tuple(index.T)] = True
    return hit


def distance_to_surface(voxels, mesh):
    """How far (world units) each filled voxel's centre is from the mesh's surface."""
    _, distance, _ = trimesh.proximity.closest_point(mesh, geometry.grid_to_world(np.argwhere(voxels), N))
    return distance


def sheet(bend, cells=24, side=0.7):
    """An open square sheet of triangles, bent across one side (``bend``: the height of the arch),
    turned so that it runs through the voxels diagonally."""
    xs = np.linspace(-side / 2, side / 2, cells + 1)
    x, y = np.meshgrid(xs, xs, indexing="ij")
    z = bend * np.cos(np.pi * x / side)
    index = np.arange((cells + 1) ** 2).reshape(cells + 1, cells + 1)
    a, b, c, d = index[:-1, :-1].ravel(), index[1:, :-1].ravel(), index[1:, 1:].ravel(), index[:-1, 1:].ravel()
    mesh = trimesh.Trimesh(np.stack([x, y, z], axis=-1).reshape(-1, 3), np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)]))
    return mesh.apply_transform(trimesh.transformations.rotation_matrix(0.6, [1, 0.5, 0.2]))


def silent(line):
    pass


# --------------------------------------------------------------------------------------------
# What the winding number path gives
# --------------------------------------------------------------------------------------------


def test_box_with_one_face_missing_fills_like_the_closed_box():
    box = geometry.normalize_mesh(trimesh.creation.box([0.5, 0.3, 0.4]))
    open_box = without(box, np.isclose(box.face_normals[:, 0], -1))  # the two triangles of the -X side
    assert len(open_box.faces) == 10 and not open_box.is_watertight
    closed = geometry.voxelize(box, N, method="parity")
    voxels = geometry.voxelize(open_box, N, report=silent)
    assert (closed & ~voxels).sum() == 0  # every voxel of the box is filled
    # Not 1.0: near the open side, inside the box, w falls from about 1 towards 0.5 (the opening
    # fills more and more of the view), so within a few voxels of the rim no voxel is clearly
    # inside, and the walls' own voxels are kept there as surface voxels: the rim is about a voxel fatter.
    assert iou(voxels, closed) >= 0.97


def test_sphere_with_one_face_missing_is_the_sphere():
    sphere = geometry.normalize_mesh(trimesh.creation.icosphere(subdivisions=4))
    holed = without(sphere, np.arange(len(sphere.faces)) == 0)
    closed = geometry.voxelize(sphere, N, method="parity")
    voxels = geometry.voxelize(holed, N, report=silent)
    # The same inside test up to voxel centres within rounding of the surface (and the winding
    # number's series far from the surface): a few dozen voxels of 113,000.
    assert iou(voxels, closed) >= 0.998


@pytest.mark.parametrize("bend", [0.0, 0.08])
def test_an_open_sheet_is_one_thin_connected_shell(bend):
    mesh = sheet(bend)
    voxels = geometry.voxelize(mesh, N, report=silent)
    assert components(voxels) == 1
    assert (voxels_of_samples(mesh) & ~voxels).sum() == 0  # every voxel the sheet passes through
    # Only voxels the sheet passes through: their centres lie within half a voxel's diagonal of it
    # (no lens of "inside" on the hollow side of the bent sheet). A plane passes through up to
    # sqrt(3) voxels per voxel of its area (with its normal along a cube's diagonal), the edges a few more.
    assert distance_to_surface(voxels, mesh).max() <= HALF_DIAGONAL * (1 + 1e-6)
    assert voxels.sum() <= 2 * mesh.area * N**2  # on average no more than 2 voxels thick


def test_a_thin_curved_open_surface_stays_one_piece():
    cylinder = trimesh.creation.cylinder(radius=0.3, height=0.8, sections=64)
    side = np.abs(cylinder.face_normals[:, 2]) < 0.5
    half_pipe = without(cylinder, ~(side & (cylinder.triangles_center[:, 1] > 0)))
    half_pipe.apply_transform(trimesh.transformations.rotation_matrix(0.4, [1, 1, 0]))
    voxels = geometry.voxelize(half_pipe, N, report=silent)
    assert components(voxels) == 1
    assert (voxels_of_samples(half_pipe) & ~voxels).sum() == 0
    assert distance_to_surface(voxels, half_pipe).max() <= HALF_DIAGONAL * (1 + 1e-6)  # a shell, not filled


def test_overlapping_closed_parts_give_their_union():
    # Two closed boxes that pass through each other, in one mesh without a boolean union: watertight,
    # but parity counts the overlap's two crossings as outside.
    first = trimesh.creation.box([0.6, 0.3, 0.3])
    second = trimesh.creation.box([0.3, 0.6, 0.3]).apply_translation([0.1, 0.1, 0.05])
    both = trimesh.util.concatenate([first, second])
    assert both.is_watertight and both.body_count == 2
    union = geometry.voxelize(first, N, method="parity") | geometry.voxelize(second, N, method="parity")
    overlap = geometry.voxelize(first, N, method="parity") & geometry.voxelize(second, N, method="parity")
    assert overlap.sum() > 1000
    np.testing.assert_array_equal(geometry.voxelize(both, N, method="parity"), union & ~overlap)
    lines = []
    np.testing.assert_array_equal(geometry.voxelize(both, N, name="two_boxes.obj", report=lines.append), union)
    assert lines == ["two_boxes.obj: 2 closed parts, which may overlap; filled by its winding number"]


def test_a_panel_thinner_than_a_voxel_is_kept_and_joined_to_its_block():
    block = trimesh.creation.box([0.3, 0.3, 0.3])
    # A quarter of a voxel thick, from inside the block to x = 0.4, between two layers of voxel centres
    # (y = 0.0078 and 0.0234), so that no voxel centre is inside it, nor any of parity's rays.
    panel = trimesh.creation.box([0.3, 0.004, 0.3]).apply_translation([0.25, 0.012, 0.0])
    mesh = trimesh.util.concatenate([block, panel])
    assert mesh.is_watertight and mesh.body_count == 2
    voxels = geometry.voxelize(mesh, N, report=silent)
    assert components(voxels) == 1
    beside_block = geometry.voxel_centers(N) > 0.15 + 1.5 / N
    panel_voxels = voxels_of_samples(panel) & beside_block[:, None, None]
    assert panel_voxels.sum() > 200 and (panel_voxels & ~voxels).sum() == 0
    assert not geometry.voxelize(panel, N, method="parity").any()  # parity loses it


def test_faces_wound_at_random_are_turned_outwards():
    sphere = geometry.normalize_mesh(trimesh.creation.icosphere(subdivisions=3))
    faces = sphere.faces.copy()
    flip = np.random.default_rng(0).random(len(faces)) < 0.5
    faces[flip] = faces[flip][:, ::-1]
    scrambled = trimesh.Trimesh(sphere.vertices, faces, process=False)
    assert not scrambled.is_winding_consistent
    # Known answer: the sphere's own winding (outwards), every face as it was before the flips.
    np.testing.assert_array_equal(geometry._outward_faces(scrambled), sphere.faces)
    inside_out = trimesh.Trimesh(sphere.vertices, sphere.faces[:, ::-1], process=False)
    np.testing.assert_array_equal(geometry._outward_faces(inside_out), sphere.faces)

    closed = geometry.voxelize(sphere, N, method="parity")
    holed = without(scrambled, np.arange(len(faces)) == 5)
    # Without turning the faces, the winding number of this mesh is near 0 almost everywhere:
    values = geometry._winding_numbers(holed.vertices, holed.faces)(geometry.grid_points(N)).reshape(N, N, N)
    assert iou(values >= 0.5, closed) < 0.5
    assert iou(geometry.voxelize(holed, N, report=silent), closed) >= 0.995
    assert iou(geometry.voxelize(without(inside_out, np.arange(len(faces)) == 5), N, report=silent), closed) >= 0.995


def test_winding_numbers_evaluated_where_needed_match_every_voxel_evaluated():
    box = geometry.normalize_mesh(trimesh.creation.box([0.5, 0.3, 0.4]))
    chair = geometry.normalize_mesh(shapes.make_shape_from_seed("chair", 1).mesh)
    meshes = [
        without(box, np.isclose(box.face_normals[:, 0], -1)),
        without(box, np.isin(np.arange(12), [0, 1])),  # half of two sides: a bent opening
        without(chair, np.arange(len(chair.faces)) % 50 == 0),
        sheet(0.2),
    ]
    everywhere = geometry.grid_points(N)
    for mesh in meshes:
        faces = geometry._outward_faces(mesh)
        winding = geometry._winding_numbers(mesh.vertices, faces)
        near = ndimage.binary_dilation(_raster._surface_voxels(np.asarray(mesh.vertices, dtype=np.float64), faces, N, 1e-9), ALL_26)
        sparse = geometry._winding_inside(winding, N, near)
        dense = winding(everywhere).reshape(N, N, N)
        np.testing.assert_array_equal(sparse >= 0.5, dense >= 0.5)
        np.testing.assert_array_equal(sparse[near], dense[near])


# --------------------------------------------------------------------------------------------
# The message
# --------------------------------------------------------------------------------------------


def test_an_open_mesh_is_said_in_one_plain_line(capsys):
    sphere = trimesh.creation.icosphere(subdivisions=2, radius=0.4)
    holed = without(sphere, np.arange(len(sphere.faces)) == 0)  # one triangle less: 3 boundary edges
    lines = []
    geometry.voxelize(holed, 16, name="holed.obj", report=lines.append)
    assert lines == ["holed.obj: not watertight (3 boundary edges); filled by its winding number"]
    assert capsys.readouterr().err == ""
    geometry.voxelize(holed, 16, name="holed.obj")  # by default: the line on stderr, nothing else
    captured = capsys.readouterr()
    assert captured.err == lines[0] + "\n" and captured.out == ""
    geometry.voxelize(sphere, 16, name="sphere.obj")  # watertight, one piece: nothing to say
    assert capsys.readouterr().err == ""


def test_no_python_warning_and_no_source_line(tmp_path):
    path = tmp_path / "open_box.obj"
    box = trimesh.creation.box([0.4, 0.5, 0.4])
    without(box, np.isclose(box.face_normals[:, 1], 1)).export(path)
    code = textwrap.dedent(f"""
        import sys
        from tutorial_lib import geometry
        mesh = geometry.normalize_mesh(geometry.load_mesh({str(path)!r}))
        geometry.voxelize(mesh, 32, name={path.name!r})
        assert "igl" in sys.modules
    """)
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["open_box.obj: not watertight (4 boundary edges); filled by its winding number"]
    assert "Warning" not in done.stderr and "warn(" not in done.stderr


def test_igl_is_imported_only_when_needed():
    code = "import sys\nfrom tutorial_lib import data, geometry, search\nassert 'igl' not in sys.modules, 'imported at start'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_build_shape_records_the_note_and_prints_nothing(tmp_path, capsys):
    path = tmp_path / "open_box.obj"
    box = trimesh.creation.box([0.4, 0.5, 0.4])
    without(box, np.isclose(box.face_normals[:, 1], 1)).export(path)
    record = data.build_shape(data.ShapeJob(name="chair_open_box", category="chair", split="train", seed=1, source=str(path)), views_per_shape=1)
    assert record["repaired"] == "not watertight (4 boundary edges); filled by its winding number"
    assert capsys.readouterr().err == ""
    box.export(tmp_path / "box.obj")
    closed = data.build_shape(data.ShapeJob(name="chair_box", category="chair", split="train", seed=1, source=str(tmp_path / "box.obj")), views_per_shape=1)
    assert closed["repaired"] == ""


# --------------------------------------------------------------------------------------------
# The dataset's path: parity, unchanged
# --------------------------------------------------------------------------------------------


def test_dataset_shapes_take_the_parity_path_unchanged():
    """The procedural shapes are watertight and of one piece, so "auto" voxelises them by parity
    (the dataset's arrays cannot change) and says nothing."""
    jobs = data.procedural_jobs(config.get_profile("quick"))
    picked = {}
    for job in jobs:  # the first shape of each of the first six categories
        picked.setdefault(job.category, job)
    for job in list(picked.values())[:6]:
        shape_rng = np.random.default_rng(np.random.SeedSequence(job.seed).spawn(3)[0])  # as data.build_shape draws it
        mesh = geometry.normalize_mesh(shapes.make_shape(job.category, shape_rng).mesh)
        assert mesh.is_watertight and mesh.body_count == 1, job.name
        lines = []
        np.testing.assert_array_equal(geometry.voxelize(mesh, N, report=lines.append), geometry.voxelize(mesh, N, method="parity"))
        assert lines == []


def test_method_names():
    sphere = trimesh.creation.icosphere(subdivisions=2, radius=0.4)
    holed = without(sphere, np.arange(len(sphere.faces)) == 0)
    with pytest.raises(geometry.MeshError, match="holed.obj.*watertight.*winding"):
        geometry.voxelize(holed, 16, method="parity", name="holed.obj")
    with pytest.raises(ValueError, match="'auto', 'parity' or 'winding'"):
        geometry.voxelize(holed, 16, method="fill")


def test_builds_from_mesh_files_record_the_voxeliser_and_procedural_builds_do_not():
    quick = config.get_profile("quick")
    assert data.builder_settings(quick)["versions"] == data.GENERATOR_VERSIONS  # the shipped models' settings, unchanged
    from_files = data.builder_settings(quick, source="meshes")
    assert from_files["versions"] == {**data.GENERATOR_VERSIONS, "voxelise": 2}  # a folder built before is rebuilt, not reused
