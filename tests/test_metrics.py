"""Metrics on cases whose answer is known by hand."""

import itertools

import numpy as np
import pytest
import trimesh

from tutorial_lib import geometry, metrics, rendering, shapes

# --------------------------------------------------------------------------------------------
# Voxel scores
# --------------------------------------------------------------------------------------------


def test_iou_of_a_grid_with_itself_is_1_and_with_its_complement_0(rng):
    grid = rng.random((16, 16, 16)) > 0.6
    assert metrics.iou(grid, grid) == 1.0
    assert metrics.iou(grid, ~grid) == 0.0
    assert metrics.f1_score(grid, grid) == 1.0 and metrics.mse(grid, grid) == 0.0
    assert metrics.mse(grid, ~grid) == 1.0


def test_a_hand_made_2x2_grid():
    predicted = np.array([[1, 1], [1, 0]], dtype=bool)
    truth = np.array([[1, 0], [0, 0]], dtype=bool)
    table = metrics.confusion(predicted, truth)
    assert table == (1, 2, 0, 1)  # TP, FP, FN, TN
    assert metrics.precision(predicted, truth) == pytest.approx(1 / 3)
    assert metrics.recall(predicted, truth) == 1.0
    assert metrics.f1_score(predicted, truth) == pytest.approx(0.5)  # 2 · (1/3 · 1) / (4/3)
    assert metrics.iou(predicted, truth) == pytest.approx(1 / 3)
    assert metrics.mse(predicted, truth) == pytest.approx(2 / 4)
    assert table.accuracy == pytest.approx(2 / 4)


def test_probabilities_are_thresholded_at_one_half_and_mse_uses_them():
    probabilities = np.array([0.9, 0.5, 0.49, 0.1])
    truth = np.array([1, 0, 1, 0], dtype=np.uint8)
    assert metrics.confusion(probabilities, truth) == (1, 1, 1, 1)  # 0.5 counts as inside
    assert metrics.mse(probabilities, truth) == pytest.approx((0.1**2 + 0.5**2 + 0.51**2 + 0.1**2) / 4)
    assert metrics.confusion(probabilities, truth, threshold=0.95) == (0, 0, 2, 2)


def test_point_value_samples_and_imnet_channel_axis():
    values = np.array([[1], [0], [1], [1]], dtype=np.uint8)  # IM-NET keeps a trailing channel
    predicted = np.array([0.8, 0.2, 0.3, 0.7], dtype=np.float32)
    assert metrics.voxel_metrics(predicted, values)["iou"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="same shape"):
        metrics.iou(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize(
    "predicted, truth, expected",
    [
        ([0, 0], [0, 0], dict(precision=1.0, recall=1.0, f1=1.0, iou=1.0)),  # nothing there, nothing found
        ([0, 0], [1, 0], dict(precision=0.0, recall=0.0, f1=0.0, iou=0.0)),  # missed everything
        ([1, 0], [0, 0], dict(precision=0.0, recall=0.0, f1=0.0, iou=0.0)),  # invented something
    ],
)
def test_edge_cases_of_empty_predictions_and_truths(predicted, truth, expected):
    scores = metrics.voxel_metrics(np.array(predicted, bool), np.array(truth, bool))
    for name, value in expected.items():
        assert scores[name] == value, name


# --------------------------------------------------------------------------------------------
# Surface scores
# --------------------------------------------------------------------------------------------


@pytest.fixture
def lattice():
    """Points on a 10×10×10 lattice with spacing 0.1: every point's nearest neighbour is 0.1 away."""
    ticks = np.arange(10) * 0.1
    return np.stack(np.meshgrid(ticks, ticks, ticks, indexing="ij"), -1).reshape(-1, 3)


def test_chamfer_of_a_shifted_cloud_is_the_squared_shift(lattice):
    d = 0.02  # under half the spacing: each point's nearest neighbour is its own shifted copy
    shift = d * np.array([2.0, -1.0, 2.0]) / 3.0  # length d
    moved = lattice + shift
    assert metrics.chamfer_distance(moved, lattice) == pytest.approx(d**2)  # (d² + d²) / 2
    assert metrics.chamfer_distance(moved, lattice, reduction="sum") == pytest.approx(2 * d**2)
    assert metrics.chamfer_l1(moved, lattice) == pytest.approx(d)
    assert metrics.chamfer_distance(lattice, lattice) == 0.0
    with pytest.raises(ValueError, match="reduction"):
        metrics.chamfer_distance(moved, lattice, reduction="max")


def test_f_score_is_1_above_the_shift_and_0_below(lattice):
    d = 0.02
    moved = lattice + [d, 0.0, 0.0]
    assert metrics.f_score(moved, lattice, tau=1.5 * d) == 1.0
    assert metrics.f_score(moved, lattice, tau=0.5 * d) == 0.0
    np.testing.assert_array_equal(metrics.f_score(moved, lattice, tau=[0.5 * d, 1.5 * d]), [0.0, 1.0])


def test_precision_and_recall_of_a_cloud_with_outliers(lattice):
    outliers = np.full((250, 3), 5.0) + np.arange(250)[:, None] * 0.01
    predicted = np.concatenate([lattice, outliers])  # 1000 good points and 250 far away
    precision, recall = metrics.surface_precision_recall(predicted, lattice, tau=0.01)
    assert precision == pytest.approx(1000 / 1250) and recall == 1.0
    assert metrics.f_score(predicted, lattice, 0.01) == pytest.approx(2 * 0.8 / 1.8)


def test_nearest_neighbours():
    distance, index = metrics.nearest_neighbours([[0.0, 0.0, 0.9], [0.0, 0.0, 0.1]], [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(distance, [0.1, 0.1])
    np.testing.assert_array_equal(index, [1, 0])
    with pytest.raises(ValueError, match="empty"):
        metrics.nearest_neighbours(np.zeros((0, 3)), [[0.0, 0.0, 0.0]])


def test_normal_consistency_ignores_the_sign_and_sees_right_angles(lattice):
    up = np.tile([0.0, 0.0, 1.0], (len(lattice), 1))
    side = np.tile([1.0, 0.0, 0.0], (len(lattice), 1))
    assert metrics.normal_consistency(lattice, up, lattice, -up) == pytest.approx(1.0)
    assert metrics.normal_consistency(lattice, up, lattice, side) == pytest.approx(0.0)
    diagonal = np.tile([1.0, 0.0, 1.0], (len(lattice), 1))  # 45°: cos = 0.707, normalised inside
    assert metrics.normal_consistency(lattice, up, lattice, diagonal) == pytest.approx(np.sqrt(0.5))


def test_surface_metrics_of_two_concentric_spheres():
    inner = trimesh.creation.icosphere(subdivisions=5, radius=0.40)
    outer = trimesh.creation.icosphere(subdivisions=5, radius=0.45)
    scores = metrics.surface_metrics(outer, inner, n_points=20_000, seed=0, tau=0.01)
    # Every point of one is 0.05 from the other (up to the tessellation and the sample spacing).
    assert scores["chamfer_l1"] == pytest.approx(0.05, rel=0.03)
    assert scores["chamfer"] == pytest.approx(0.05**2, rel=0.06)
    assert scores["chamfer_sum"] == pytest.approx(2 * scores["chamfer"])
    assert scores["normal_consistency"] > 0.99  # radial normals agree
    assert scores["f_score"] == 0.0
    assert metrics.surface_metrics(outer, inner, n_points=20_000, tau=0.1)["f_score"] == 1.0
    empty = metrics.surface_metrics(trimesh.Trimesh(), inner)
    assert empty["chamfer"] == np.inf and empty["f_score"] == 0.0


def test_chamfer_matrix_matches_the_pairwise_function(rng):
    clouds = [rng.random((200, 3)) + i for i in range(3)]
    matrix = metrics.chamfer_matrix(clouds)
    assert matrix.shape == (3, 3) and np.allclose(np.diag(matrix), 0) and np.allclose(matrix, matrix.T)
    assert matrix[0, 2] == pytest.approx(metrics.chamfer_distance(clouds[0], clouds[2]))
    cross = metrics.chamfer_matrix(clouds[:1], clouds[1:], reduction="sum")
    assert cross[0, 1] == pytest.approx(metrics.chamfer_distance(clouds[0], clouds[2], "sum"))


# --------------------------------------------------------------------------------------------
# Light field descriptor: its pieces
# --------------------------------------------------------------------------------------------


def test_dodecahedron_vertices_and_their_opposites():
    vertices = metrics.dodecahedron_vertices()
    assert vertices.shape == (20, 3)
    np.testing.assert_allclose(np.linalg.norm(vertices, axis=1), 1.0)
    np.testing.assert_allclose(vertices[10:], -vertices[:10], atol=1e-12)
    distances = np.linalg.norm(vertices[:, None] - vertices[None], axis=2)
    edge = np.sort(distances, axis=1)[:, 1]
    np.testing.assert_allclose(edge, edge[0])  # every vertex has 3 neighbours at the edge length
    assert (np.isclose(distances, edge[0]).sum(axis=1) == 3).all()


def test_the_60_rotations_map_the_dodecahedron_onto_itself_and_permute_the_views():
    rotations = metrics.dodecahedron_rotations()
    vertices = metrics.dodecahedron_vertices()
    assert rotations.shape == (60, 3, 3)
    np.testing.assert_allclose(rotations[0], np.eye(3))
    np.testing.assert_allclose(np.einsum("kij,kil->kjl", rotations, rotations), np.broadcast_to(np.eye(3), (60, 3, 3)), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(rotations), 1.0)
    for rotation in rotations:
        assert np.abs((vertices @ rotation.T) @ vertices.T).max(axis=1).min() == pytest.approx(1.0)
    permutations = metrics.view_permutations()
    assert len({tuple(p) for p in permutations}) == 60
    assert all(sorted(p) == list(range(10)) for p in permutations)
    # A group: composing two permutations gives another one.
    table = {tuple(p) for p in permutations}
    assert all(tuple(p[q]) in table for p, q in itertools.product(permutations[:8], permutations))


def test_light_field_rotations_are_fixed_and_spread_the_cameras():
    rotations = metrics.light_field_rotations()
    assert rotations.shape == (10, 3, 3)
    np.testing.assert_allclose(rotations[0], np.eye(3))
    np.testing.assert_allclose(np.linalg.det(rotations), 1.0)
    np.testing.assert_array_equal(rotations, metrics.light_field_rotations())
    cameras = metrics.light_field_directions().reshape(-1, 3)
    cameras = np.concatenate([cameras, -cameras])
    cos = cameras @ cameras.T
    np.fill_diagonal(cos, -1.0)
    assert np.degrees(np.arccos(cos.max())) > 5.0  # no two of the 200 cameras closer than 5°


def test_scan_conversion_matches_the_ray_caster(chair_like):
    silhouettes = metrics.lfd_silhouettes(chair_like)
    assert silhouettes.shape == (10, 10, 128, 128) and silhouettes.dtype == bool
    rays = metrics.lfd_silhouettes(chair_like, renderer="raycast")
    assert (silhouettes != rays).sum() <= 1e-4 * silhouettes.size  # a few pixels on triangle edges
    # and it is the same picture rendering.orthographic_silhouettes makes
    direction = metrics.light_field_directions()[0, :1]
    direct = rendering.orthographic_silhouettes(metrics.normalize_for_lfd(chair_like), direction, size=128, radius=1.0)
    assert (direct[0] != silhouettes[0, 0]).sum() <= 5


def _disk(size, radius_fraction, centre=(0.0, 0.0)):
    c = (np.arange(size) + 0.5) / (size / 2) - 1
    x, y = np.meshgrid(c, -c, indexing="xy")
    return (x - centre[0]) ** 2 + (y - centre[1]) ** 2 <= radius_fraction**2


def test_zernike_moments_of_a_centred_disk():
    indices = metrics.zernike_indices()
    assert len(indices) == 35 and (0, 0) not in indices and max(n for n, _ in indices) == 10
    magnitudes = metrics.zernike_magnitudes(_disk(256, 0.5))
    # A centred disk of radius a has only m = 0 moments; |Z_20| = 3 a² (1 - a²) = 0.5625 for a = 1/2.
    by_index = dict(zip(indices, magnitudes, strict=True))
    assert by_index[(2, 0)] == pytest.approx(0.5625, rel=0.01)
    assert max(v for (n, m), v in by_index.items() if m != 0) < 1e-3
    full = metrics.zernike_magnitudes(_disk(256, 1.0))  # orthogonal to Z_00: all ≈ 0
    assert full.max() < 0.02


def _blobs(count, size, rng):
    """Random binary images with holes, separate pieces and pixels that touch only at corners."""
    images = rng.random((count, size, size)) < 0.5
    for _ in range(3):  # smooth into blobs of a few sizes
        images = (images[:, :-2, :-2] | images[:, 2:, 2:]).astype(int) + images[:, 1:-1, 1:-1] >= 2
        images = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    images[0] = False  # an empty image
    images[1] = np.eye(size, dtype=bool)  # a diagonal line: pixels touching at corners only
    return images


def test_contour_kernel_follows_the_cracks_numpy_follows(chair_like, rng):
    """The compiled contour tracer against the numpy one it replaced (kept as the reference):
    the same outer contour point for point, on silhouettes and on random blobs."""
    from tutorial_lib.metrics import lfd

    images = np.concatenate([metrics.lfd_silhouettes(chair_like).reshape(-1, 128, 128), _blobs(40, 64, rng)[:, :64, :64].repeat(2, 1).repeat(2, 2)])
    for batch in (images, _blobs(30, 37, rng)):
        points, bounds = lfd._outer_contours_flat(batch)
        reference, reference_bounds = lfd._outer_contours_numpy(batch)
        assert len(bounds) == len(reference_bounds)
        for (a, b), (c, d) in zip(bounds, reference_bounds, strict=True):
            np.testing.assert_array_equal(points[a:b], reference[c:d])


def test_contour_resampling_kernel_does_the_numpy_arithmetic(chair_like, rng):
    """The compiled smoothing, resampling and shoelace sums against the numpy code they replaced:
    the same numbers (the same operations in the same order), on silhouettes and random blobs."""
    from tutorial_lib import _raster
    from tutorial_lib.metrics import lfd

    for batch in (metrics.lfd_silhouettes(chair_like).reshape(-1, 128, 128), _blobs(30, 64, rng)):
        points, bounds = lfd._outer_contours_flat(batch)
        found = np.flatnonzero(bounds[:, 1] - bounds[:, 0] >= 3)
        starts, lengths = bounds[found, 0], bounds[found, 1] - bounds[found, 0]
        resampled, area, moments = _raster._resample_contours(points, starts, lengths, metrics.CONTOUR_SAMPLES, lfd.SMOOTHING)
        reference = lfd._contour_sums_numpy(points, starts, lengths)
        np.testing.assert_array_equal(resampled, reference[0])
        np.testing.assert_array_equal(area / 2.0, reference[1])
        np.testing.assert_array_equal(moments, reference[2])


def test_batched_zernike_moments_equal_one_image_at_a_time_and_the_exact_sum(chair_like):
    from tutorial_lib.metrics import lfd

    images = metrics.lfd_silhouettes(chair_like).reshape(-1, 128, 128)[:12]
    batched = metrics.zernike_magnitudes(images)
    np.testing.assert_array_equal(batched, np.stack([metrics.zernike_magnitudes(image) for image in images]))
    inside, basis = lfd._zernike_basis(128, metrics.ZERNIKE_ORDER)
    exact = images.reshape(len(images), -1)[:, inside].astype(np.float64) @ basis.astype(np.float64)
    half = exact.shape[1] // 2
    np.testing.assert_allclose(batched, np.hypot(exact[:, :half], exact[:, half:]), rtol=1e-6, atol=1e-7)
    grey = metrics.zernike_magnitudes(images.astype(np.float32) * 0.5)  # weighted pixels, not only silhouettes
    np.testing.assert_allclose(grey, 0.5 * batched, rtol=1e-6, atol=1e-7)


def test_zernike_and_contour_descriptors_ignore_rotation_and_mirroring():
    ellipse = _disk(128, 1.0)
    c = (np.arange(128) + 0.5) / 64 - 1
    x, y = np.meshgrid(c, -c, indexing="xy")
    shape = ((x - 0.1) / 0.7) ** 2 + (y / 0.3) ** 2 <= 1  # an off-centre ellipse
    images = np.stack([shape, np.rot90(shape), np.fliplr(shape), np.rot90(shape, 2)])
    z = metrics.zernike_magnitudes(images)
    f = metrics.contour_fourier(images)
    np.testing.assert_allclose(z, z[:1].repeat(4, 0), atol=1e-5)
    # (the contour is resampled from a different starting point in each: equal up to ~1e-5)
    np.testing.assert_allclose(f, f[:1].repeat(4, 0), atol=1e-4)
    # An ellipse is centrally symmetric: its centroid distance repeats twice per turn, so the
    # odd harmonics vanish and the second dominates.
    assert f[0, 1] > 0.05 and f[0, [0, 2, 4]].max() < 0.01
    assert metrics.contour_fourier(ellipse)[[1, 3]].max() < 0.01  # a circle: constant distance
    assert (metrics.contour_fourier(np.zeros((128, 128), bool)) == 0).all()


def test_outer_contours_ignore_holes_and_trace_the_boundary():
    ring = _disk(64, 0.8) & ~_disk(64, 0.4)
    contour = metrics.outer_contours(ring)[0]
    radii = np.hypot(contour[:, 0] - 31.5, contour[:, 1] - 31.5)
    assert radii.min() > 0.8 * 32 - 1.5  # no point of the hole's boundary
    steps = np.linalg.norm(np.diff(np.concatenate([contour, contour[:1]]), axis=0), axis=1)
    assert steps.max() <= 1.0 + 1e-12  # consecutive points are neighbours: an ordered chain
    assert len(metrics.outer_contours(np.zeros((1, 8, 8), bool))[0]) == 0


# --------------------------------------------------------------------------------------------
# Light field descriptor: the properties it must have
# --------------------------------------------------------------------------------------------


def _transformed(mesh, rotation=None, translation=(0.0, 0.0, 0.0), scale=1.0):
    transform = np.eye(4)
    transform[:3, :3] = scale * (np.eye(3) if rotation is None else np.asarray(rotation))
    transform[:3, 3] = translation
    return mesh.copy().apply_transform(transform)


@pytest.fixture(scope="module")
def chair_mesh():
    return shapes.make_shape_from_seed("chair", 1).mesh


@pytest.fixture(scope="module")
def chair_descriptor(chair_mesh):
    return metrics.lfd_descriptor(chair_mesh)


@pytest.fixture(scope="module")
def gallery():
    """LFD of 4 chairs and 4 airplanes."""
    chairs = [metrics.lfd_descriptor(shapes.make_shape_from_seed("chair", s).mesh) for s in range(10, 14)]
    planes = [metrics.lfd_descriptor(shapes.make_shape_from_seed("airplane", s).mesh) for s in range(10, 14)]
    return chairs, planes


def test_descriptor_layout(chair_descriptor):
    array = np.asarray(chair_descriptor)
    assert array.shape == (10, 10, 45) and array.dtype == np.float32
    assert chair_descriptor.region.shape == (10, 10, 35) and chair_descriptor.contour.shape == (10, 10, 10)
    assert np.isfinite(array).all() and (array >= 0).all()


def test_distance_to_itself_is_zero(chair_descriptor, chair_mesh):
    assert metrics.lfd_distance(chair_descriptor, chair_descriptor) == 0.0
    assert metrics.lfd_distance(chair_mesh, chair_descriptor) == 0.0  # meshes are accepted too


def test_distance_is_symmetric(gallery):
    chairs, planes = gallery
    for a, b in [(chairs[0], planes[0]), (chairs[1], chairs[2])]:
        assert metrics.lfd_distance(a, b) == pytest.approx(metrics.lfd_distance(b, a), rel=1e-5)
    matrix = metrics.lfd_distance_matrix(chairs + planes)
    assert np.array_equal(matrix, matrix.T) and (np.diag(matrix) == 0).all()


def test_invariant_to_translation_and_scale(chair_mesh, chair_descriptor):
    moved = _transformed(chair_mesh, translation=(0.3, -1.2, 0.5), scale=3.7)
    # The normalisation undoes both; only floating-point rounding remains, which could at
    # worst flip a pixel whose centre lies on a triangle edge.
    assert metrics.lfd_distance(chair_descriptor, metrics.lfd_descriptor(moved)) < 0.05


def test_invariant_to_the_rotations_of_the_dodecahedron_up_to_pixelation(chair_mesh, chair_descriptor, gallery):
    chairs, _ = gallery
    between_chairs = np.median([metrics.lfd_distance(a, b) for a, b in itertools.combinations(chairs, 2)])
    for k in (5, 17, 42):
        rotated = metrics.lfd_descriptor(_transformed(chair_mesh, metrics.dodecahedron_rotations()[k]))
        distance, alignment = metrics.lfd_distance_matrix(chair_descriptor, rotated, return_alignment=True)
        # Tolerance: the rotated chair's silhouettes are the same silhouettes turned in the image
        # plane, on a pixel grid that did not turn. That moves the coefficients a little (about 0.2–0.9
        # in total at 128²); a different chair is more than ten times farther.
        assert distance[0, 0] < 0.1 * between_chairs
        assert distance[0, 0] < 1.5
        assert tuple(alignment[0, 0, :2]) == (0, 0)  # found by matching the same dodecahedron


def test_invariant_to_mirroring(chair_mesh, chair_descriptor):
    mirrored = chair_mesh.copy().apply_transform(np.diag([-1.0, 1.0, 1.0, 1.0]))
    assert metrics.lfd_distance(chair_descriptor, metrics.lfd_descriptor(mirrored)) < 0.05


def test_chairs_are_nearer_to_chairs_than_to_airplanes(gallery):
    chairs, planes = gallery
    matrix = metrics.lfd_distance_matrix(chairs, chairs + planes)
    off_diagonal = ~np.eye(4, dtype=bool)
    chair_to_chair = matrix[:, :4][off_diagonal].mean()
    chair_to_plane = matrix[:, 4:].mean()
    assert chair_to_chair < chair_to_plane


def test_distance_matrix_equals_the_definition(rng):
    a = rng.random((2, 10, 10, 45)).astype(np.float32)
    b = rng.random((3, 10, 10, 45)).astype(np.float32)
    weights = np.concatenate([np.full(35, 1 / metrics.REGION_SCALE), np.full(10, 1 / metrics.CONTOUR_SCALE)])
    permutations = metrics.view_permutations()
    expected = np.zeros((2, 3))
    for i, j in itertools.product(range(2), range(3)):
        best = np.inf
        for la, lb in itertools.product(range(10), range(10)):
            view_costs = (np.abs(a[i, la][:, None] - b[j, lb][None]) * weights).sum(-1)  # [10, 10]
            best = min(best, view_costs[np.arange(10)[None], permutations].sum(1).min())
        expected[i, j] = best
    np.testing.assert_allclose(metrics.lfd_distance_matrix(a, b), expected, rtol=1e-5)


def test_a_rotated_and_reordered_descriptor_is_found_with_its_alignment(rng):
    a = rng.random((10, 10, 45)).astype(np.float32)
    k = 23
    b = a[[3, 1, 4, 0, 5, 9, 2, 6, 8, 7]][:, metrics.view_permutations()[k]]  # light fields shuffled, views permuted
    distance, alignment = metrics.lfd_distance_matrix(a, b, return_alignment=True)
    assert distance[0, 0] == 0.0
    la, lb, rotation = alignment[0, 0]
    # view i of a's light field la is matched with view perm[i] of b's light field lb
    np.testing.assert_array_equal(a[la], b[lb][metrics.view_permutations()[rotation]])


def test_descriptors_save_and_load(tmp_path, chair_descriptor, gallery):
    path = chair_descriptor.save(tmp_path / "chair.npy")
    assert metrics.LightFieldDescriptor.load(path) == chair_descriptor
    chairs, planes = gallery
    named = {"chair": chairs[0], "airplane": planes[0]}
    loaded = metrics.load_descriptors(metrics.save_descriptors(named, tmp_path / "gallery.npz"))
    assert list(loaded) == ["chair", "airplane"] and loaded["airplane"] == planes[0]
    with pytest.raises(ValueError, match="shape"):
        metrics.LightFieldDescriptor(np.zeros((10, 10, 44)))


def test_bad_meshes_are_refused():
    with pytest.raises(geometry.MeshError, match="empty"):
        metrics.lfd_descriptor(trimesh.Trimesh())


def test_calibrated_scales_are_the_mean_distances(gallery):
    chairs, planes = gallery
    region, contour = metrics.calibrate_scales(chairs + planes)
    # Measured on 8 shapes instead of 52, the scales land near the stored ones.
    assert 0.5 < region / metrics.REGION_SCALE < 2 and 0.5 < contour / metrics.CONTOUR_SCALE < 2


# --------------------------------------------------------------------------------------------
# Generative scores
# --------------------------------------------------------------------------------------------


def _distances(a, b):
    return np.abs(np.asarray(a, float)[:, None] - np.asarray(b, float)[None])


def test_generated_equal_to_reference():
    shapes_1d = [0.0, 1.0, 3.0, 7.0]
    d = _distances(shapes_1d, shapes_1d)
    scores = metrics.generative_metrics(d, d, d)
    assert scores["cov"] == 1.0 and scores["mmd"] == 0.0
    # Every shape's nearest other shape is its twin in the other set: memorisation scores 0.
    assert scores["1-nna"] == 0.0


def test_one_nna_counts_ties_as_half():
    same = np.zeros((3, 3))  # every shape identical to every other: all distances tie
    assert metrics.one_nn_accuracy(same, np.zeros((3, 3)), same) == 0.5


def test_generative_scores_by_hand():
    generated, reference = [0.0, 10.0], [1.0, 2.0, 11.0]
    d_gr, d_gg, d_rr = _distances(generated, reference), _distances(generated, generated), _distances(reference, reference)
    assert metrics.coverage(d_gr) == pytest.approx(2 / 3)  # 0 -> 1, 10 -> 11; nobody picks 2
    assert metrics.minimum_matching_distance(d_gr) == pytest.approx((1 + 2 + 1) / 3)
    # 0: other 1 < own 10 (wrong); 10: 1 < 10 (wrong); 1: own 1 = other 1 (half); 2: own 1 < 2 (right); 11: 1 < 9 (wrong)
    assert metrics.one_nn_accuracy(d_gg, d_gr, d_rr) == pytest.approx(1.5 / 5)


def test_one_nna_is_one_for_separable_sets_and_near_one_half_for_the_same_distribution():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=400), rng.normal(size=400)
    assert metrics.one_nn_accuracy(_distances(a, a), _distances(a, b + 100), _distances(b + 100, b + 100)) == 1.0
    assert abs(metrics.one_nn_accuracy(_distances(a, a), _distances(a, b), _distances(b, b)) - 0.5) < 0.08
    with pytest.raises(ValueError, match="do not fit"):
        metrics.one_nn_accuracy(np.zeros((2, 2)), np.zeros((2, 3)), np.zeros((2, 2)))


def test_generative_scores_on_chamfer_distances(rng):
    clouds = [rng.random((100, 3)) * s for s in (1.0, 1.1, 2.0, 2.2)]
    generated, reference = clouds[:2], clouds[2:]
    scores = metrics.generative_metrics(metrics.chamfer_matrix(generated, reference), metrics.chamfer_matrix(generated), metrics.chamfer_matrix(reference))
    assert scores["1-nna"] == 1.0 and scores["mmd"] > 0


# --------------------------------------------------------------------------------------------
# Thin parts
# --------------------------------------------------------------------------------------------


def block_with_rod():
    """A 10³ block with a rod one voxel across and 12 voxels long standing on it."""
    solid = np.zeros((32, 32, 32), dtype=bool)
    solid[5:15, 5:15, 5:15] = True
    solid[9, 15:27, 9] = True
    rod = np.zeros_like(solid)
    rod[9, 15:27, 9] = True
    return solid, rod


def test_the_rod_on_a_block_is_thin_and_the_whole_block_is_thick():
    solid, rod = block_with_rod()
    np.testing.assert_array_equal(metrics.thin_voxels(solid), rod)  # the block's edges and corners too are thick
    np.testing.assert_array_equal(metrics.thin_voxels(solid, rods_only=True), rod)
    np.testing.assert_array_equal(metrics.thin_voxels(solid[..., None]), rod)  # IM-NET's channel axis


def test_a_prediction_without_the_rod_keeps_its_iou_and_loses_its_thin_parts():
    solid, rod = block_with_rod()
    assert metrics.thin_part_recall(solid, solid) == 1.0
    dropped = solid & ~rod
    assert metrics.iou(dropped, solid) == pytest.approx(1000 / 1012)
    assert metrics.thin_part_recall(dropped, solid) == 0.0
    half = solid.copy()
    half[9, 21:27, 9] = False
    assert metrics.thin_part_recall(half, solid) == 0.5
    assert metrics.thin_part_recall(half.astype(np.float32) * 0.7, solid) == 0.5  # probabilities at 0.5
    assert np.isnan(metrics.thin_part_recall(solid, solid & ~rod))  # no thin part: nothing to score


@pytest.mark.parametrize("width, thin", [(1, True), (2, True), (3, True), (4, False), (6, False)])
def test_a_bar_is_thin_up_to_thickness_voxels_across(width, thin):
    bar = np.zeros((24, 24, 24), dtype=bool)
    bar[2:22, 4 : 4 + width, 4 : 4 + width] = True
    assert metrics.thin_voxels(bar, thickness=3).sum() == (bar.sum() if thin else 0)
    assert metrics.thin_voxels(bar, thickness=width).sum() == bar.sum()  # thin at its own width…
    if width > 1:
        assert metrics.thin_voxels(bar, thickness=width - 1).sum() == 0  # …and thick below it


def test_a_thin_plate_is_thin_but_not_a_rod():
    plate = np.zeros((24, 24, 24), dtype=bool)
    plate[2:22, 10:12, 2:22] = True  # 20 × 2 × 20
    assert metrics.thin_voxels(plate).sum() == plate.sum()
    assert metrics.thin_voxels(plate, rods_only=True).sum() == 0
    with pytest.raises(ValueError, match="thickness"):
        metrics.thin_voxels(plate, thickness=2.5)
    with pytest.raises(ValueError, match="3-D"):
        metrics.thin_voxels(plate[0])
