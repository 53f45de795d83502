import numpy as np
import pytest
import trimesh

from tutorial_lib import geometry, rendering


@pytest.fixture
def marked_cube():
    """A normalised cube with a knob on its right side (+X), to tell left from right in images."""
    cube = trimesh.creation.box([0.5, 0.5, 0.5])
    knob = trimesh.creation.box([0.3, 0.2, 0.2]).apply_translation([0.35, 0, 0])
    return geometry.normalize_mesh(trimesh.boolean.union([cube, knob], engine="manifold"))


def test_camera_directions_follow_the_convention():
    np.testing.assert_allclose(rendering.direction_from_angles(0, 0), [0, 0, -1], atol=1e-12)  # in front
    np.testing.assert_allclose(rendering.direction_from_angles(90, 0), [1, 0, 0], atol=1e-12)  # right side
    np.testing.assert_allclose(rendering.direction_from_angles(0, 90), [0, 1, 0], atol=1e-12)  # above


def test_images_have_the_talks_size_padding_and_white_background(chair_like):
    mesh = geometry.normalize_mesh(chair_like)
    views = rendering.random_views(20, np.random.default_rng(0))
    images = rendering.render_views(mesh, views)
    assert images.shape == (20, 137, 137) and images.dtype == np.uint8
    pad = 9
    border = np.concatenate([images[:, :pad].ravel(), images[:, -pad:].ravel(), images[:, :, :pad].ravel(), images[:, :, -pad:].ravel()])
    assert (border == 255).all()
    corner = images[:, pad : pad + 5, pad : pad + 5]
    assert (corner == 255).all()  # background inside the frame is white too
    object_pixels = images < 255
    assert object_pixels.sum(axis=(1, 2)).min() > 300  # every view sees the chair
    assert images[object_pixels].max() < 255  # the object never blends into the background


def test_views_are_within_the_talks_ranges():
    views = rendering.random_views(1000, np.random.default_rng(0))
    assert views[:, 0].min() >= -180 and views[:, 0].max() <= 180
    assert views[:, 1].min() >= -40 and views[:, 1].max() <= 40


def test_front_view_mirrors_left_and_right(marked_cube):
    # From the front the object's right (+X) appears on the image's left; from behind, on the right.
    front, back = rendering.render_views(marked_cube, [[0, 0], [180, 0]], shadows=False)

    def centre_column(image):
        cols = np.nonzero(image < 255)[1]
        return cols.mean()

    assert centre_column(front) < 68 < centre_column(back)


def test_inclination_raises_the_camera():
    # A thin horizontal plate is seen edge-on at inclination 0 and opens up from 40° above or below.
    plate = geometry.normalize_mesh(trimesh.creation.box([0.8, 0.04, 0.8]))
    level, above, below = rendering.render_views(plate, [[0, 0], [0, 40], [0, -40]], shadows=False)
    area = lambda image: (image < 255).sum()  # noqa: E731
    assert area(above) > 5 * area(level) and area(below) > 5 * area(level)
    # from above we see the lit top face, from below the unlit bottom: different greys
    assert above[above < 255].mean() != below[below < 255].mean()


def test_orthographic_silhouette_of_a_sphere_is_a_disc():
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=0.4)
    masks = rendering.orthographic_silhouettes(sphere, [[0, 0, 1], [1, 0, 0], [1, 1, 1]], size=128)
    assert masks.shape == (3, 128, 128)
    # The view spans [-r, r] and the disc has radius r: it fills pi/4 of the square.
    np.testing.assert_allclose(masks.mean(axis=(1, 2)), np.pi / 4, atol=0.01)


def test_render_rejects_an_empty_mesh():
    with pytest.raises(geometry.MeshError, match="empty"):
        rendering.render_views(trimesh.Trimesh(), [[0, 0]])


@pytest.mark.parametrize(
    ("mesh", "signed_distance"),
    [
        (trimesh.creation.icosphere(subdivisions=4, radius=0.3), lambda p: 0.3 - np.linalg.norm(p, axis=1)),
        (trimesh.creation.box(extents=(0.6, 0.2, 0.4)), lambda p: -np.max(np.abs(p) - np.array([0.3, 0.1, 0.2]), axis=1)),
    ],
    ids=["sphere", "box"],
)
def test_the_differentiable_renderer_draws_what_the_ray_caster_draws(mesh, signed_distance):
    """A field that is > 0 inside a sphere (a box), rendered by volume rendering, against the mesh
    ray-cast by render_views (without shadows), on the networks' crop: same silhouette, same greys."""
    import torch

    views = np.array([[30.0, 20.0], [-100.0, -30.0]])
    first = (rendering.IMAGE_SIZE - rendering.CROP_SIZE) // 2
    truth = rendering.render_views(mesh, views, shadows=False)[:, first : first + rendering.CROP_SIZE, first : first + rendering.CROP_SIZE] / 255.0
    n = 32
    logits = torch.from_numpy(400.0 * signed_distance(geometry.grid_points(n)).astype(np.float32)).reshape(1, n, n, n).repeat(2, 1, 1, 1)
    logits.requires_grad_(True)
    picture = rendering.render_logit_grid(logits, rendering.crop_rays(views, size=rendering.CROP_SIZE, samples=96))
    assert picture.shape == (2, 1, rendering.CROP_SIZE, rendering.CROP_SIZE)
    drawn = picture.detach()[:, 0].numpy()
    inside_truth, inside_drawn = truth < 0.999, drawn < 0.95
    iou = (inside_truth & inside_drawn).sum(axis=(1, 2)) / (inside_truth | inside_drawn).sum(axis=(1, 2))
    assert iou.min() > 0.85
    assert np.median(np.abs(truth - drawn)[inside_truth & inside_drawn]) < 0.05  # shaded like render_views
    assert (drawn[~inside_truth] > 0.9).mean() > 0.99  # the background stays white (but for the silhouette's edge)
    picture.sum().backward()  # the gradient reaches the field
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def _known_meshes():
    from tutorial_lib import shapes

    tilted = trimesh.creation.box([0.6, 0.3, 0.4]).apply_transform(trimesh.transformations.rotation_matrix(0.4, [1, 2, 3]))
    open_box = trimesh.creation.box([0.5, 0.5, 0.5])
    open_box.faces = open_box.faces[2:]  # two triangles missing: not closed, every face is drawn
    return {
        "tilted box": geometry.normalize_mesh(tilted),
        "sphere": geometry.normalize_mesh(trimesh.creation.icosphere(subdivisions=3)),
        "chair": geometry.normalize_mesh(shapes.make_shape_from_seed("chair", 3).mesh),
        "table": geometry.normalize_mesh(shapes.make_shape_from_seed("table", 5).mesh),
        "open box": open_box,
    }


@pytest.mark.parametrize("shadows", [True, False])
def test_the_z_buffer_draws_what_the_ray_caster_draws(shadows):
    """The compiled z-buffer against Embree's rays (the renderer before it), on 20 random views of
    each mesh: at most 1 pixel in 10,000 differs (a ray through a shared edge or grazing a face
    may pick the other face), and none turns from object to background or back."""
    views = rendering.random_views(20, np.random.default_rng(0))
    for name, mesh in _known_meshes().items():
        drawn = rendering.render_views(mesh, views, shadows=shadows).astype(int)
        cast = rendering._render_views_raycast(mesh, views, shadows=shadows).astype(int)
        assert np.mean(drawn != cast) <= 1e-4, name
        np.testing.assert_array_equal(drawn == 255, cast == 255, err_msg=name)


def test_zoom_size_and_a_camera_inside_the_mesh_match_the_ray_caster():
    chair = _known_meshes()["chair"]
    views = [[30.0, 20.0], [-120.0, -35.0]]
    np.testing.assert_array_equal(rendering.render_views(chair, views, size=64, padding=2, radius=0.3),
                                  rendering._render_views_raycast(chair, views, size=64, padding=2, radius=0.3))  # fmt: skip
    # A box around the camera: triangles behind and beside it are tested ray by ray.
    room = trimesh.creation.box([4.0, 3.0, 5.0]).apply_translation([0.2, 0.1, -0.3])
    drawn, cast = rendering.render_views(room, views, size=48), rendering._render_views_raycast(room, views, size=48)
    assert (drawn < 255).all() and np.mean(drawn != cast) <= 1e-3


def test_a_cube_seen_from_the_front_covers_its_projected_square():
    """Known answer: from azimuth 0, inclination 0 an axis-aligned cube of half-side h shows its
    front face, a square of half-side h / (d - h) on the image plane at unit distance (camera at
    distance d); a pixel is object where its centre falls inside that square (one pixel of slack)."""
    h, d, size, padding = 0.25, rendering.CAMERA_DISTANCE, 137, 9
    image = rendering.render_views(trimesh.creation.box([2 * h] * 3), [[0.0, 0.0]], size=size, padding=padding)[0]
    radius = rendering.fit_radius()
    pixel = radius / np.sqrt(d**2 - radius**2) / ((size - 2 * padding) / 2)  # image-plane width of one pixel
    half = h / (d - h) / pixel  # the square's half-side, in pixels
    centre = (np.arange(size) + 0.5 - size / 2)[None, :]
    reach = np.maximum(np.abs(centre), np.abs(centre.T))  # of each pixel centre from the middle
    inside = image < 255
    assert inside[reach < half - 1].all() and not inside[reach > half + 1].any()
    assert abs(inside.sum() - (2 * half) ** 2) < 4 * 2 * half  # the area, within a pixel's border
