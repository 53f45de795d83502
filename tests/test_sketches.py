"""tutorial_lib.sketches: the lines a person draws, drawings as the network reads them, and search by a drawing."""

import numpy as np
import pytest
import trimesh
from PIL import Image, ImageDraw

from tutorial_lib import config, geometry, rendering, search, sketches
from tutorial_lib.models import ImageEncoder

QUICK = config.get_profile("quick")


def _box(extents=(0.6, 0.4, 0.3), at=(0.0, 0.0, 0.0)):
    return trimesh.creation.box(extents).apply_translation(at)


# --------------------------------------------------------------------------------------------
# The lines of a view
# --------------------------------------------------------------------------------------------


def test_a_box_seen_face_on_has_an_outline_and_no_crease():
    outline, creases = sketches.line_maps(_box(), np.array([[0.0, 0.0]]), size=128)
    hit = rendering.render_views(_box(), np.array([[0.0, 0.0]]), size=128, shadows=False)[0] < 255
    assert creases.sum() == 0  # one face, flat: nothing bends
    # The outline is the shape's own boundary pixels: every one is on the shape, next to paper.
    boundary = hit & ~ndimage_erode(hit)
    assert outline[0].sum() > 0 and (outline[0] & ~hit).sum() == 0
    assert (outline[0] == boundary).mean() > 0.995


def ndimage_erode(mask):
    from scipy import ndimage

    return ndimage.binary_erosion(mask, structure=np.ones((3, 3)))


def test_a_box_from_three_quarters_has_its_three_visible_creases():
    outline, creases = sketches.line_maps(_box((0.5, 0.5, 0.5)), np.array([[45.0, 30.0]]))
    from scipy import ndimage

    # Three faces show, meeting in a Y of three edges: one connected crease figure, inside the outline.
    parts, count = ndimage.label(creases[0], structure=np.ones((3, 3)))
    assert count == 1 and creases[0].sum() > 120
    assert not (creases[0] & outline[0]).any()


def test_a_part_in_front_of_another_is_outlined_where_it_overlaps():
    back = _box((0.8, 0.8, 0.1), at=(0, 0, 0.3))
    front = _box((0.2, 0.2, 0.1), at=(0, 0, -0.3))
    mesh = trimesh.util.concatenate([back, front])
    outline, creases = sketches.line_maps(mesh, np.array([[0.0, 0.0]]), size=128)
    alone, _ = sketches.line_maps(front, np.array([[0.0, 0.0]]), size=128)
    # The small front box's outline is drawn although paper never touches it: a depth step.
    assert (alone[0] & outline[0]).sum() >= 0.9 * alone[0].sum()
    assert creases.sum() == 0


# --------------------------------------------------------------------------------------------
# Drawings as the network reads them
# --------------------------------------------------------------------------------------------


def _chair_drawing(size: int, width: int) -> Image.Image:
    """A chair in a few strokes: back, seat, two legs (coordinates on a 100-unit square)."""
    picture = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(picture)
    s = size / 100
    for line in ([(30, 10), (30, 55), (70, 55), (70, 90)], [(30, 55), (30, 90)], [(30, 10), (42, 10), (42, 55)]):
        draw.line([(x * s, y * s) for x, y in line], fill=20, width=width, joint="curve")
    return picture


def test_a_drawing_reads_the_same_at_any_size_and_with_any_pen():
    reference = sketches.drawing_input(_chair_drawing(256, 2))
    assert reference.shape == (137, 137) and reference.dtype == np.float32
    lines = reference < 0.5
    for size, width in ((1024, 2), (1024, 8), (256, 6), (160, 1)):
        other = sketches.drawing_input(_chair_drawing(size, width)) < 0.5
        overlap = (lines & other).sum() / (lines | other).sum()
        # the same centre lines, up to a pixel of their placement
        near = (other & ndimage_dilate(lines)).sum() / other.sum()
        assert near > 0.97 and overlap > 0.45, (size, width, near, overlap)


def ndimage_dilate(mask):
    from scipy import ndimage

    return ndimage.binary_dilation(mask, structure=np.ones((3, 3)))


def test_a_filled_silhouette_is_read_as_its_outline():
    picture = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(picture).rectangle([60, 40, 240, 260], fill=0)
    read = sketches.drawing_input(picture) < 0.5
    from scipy import ndimage

    filled = ndimage.binary_fill_holes(read)
    assert read.sum() < 0.25 * filled.sum()  # a thin outline around paper, not a solid block


def test_an_empty_drawing_is_refused():
    with pytest.raises(ValueError, match="no ink"):
        sketches.drawing_input(np.full((64, 64), 1.0))


def test_the_guess_tells_drawings_from_renderings_and_photographs():
    rng = np.random.default_rng(3)
    chair = geometry.normalize_mesh(trimesh.util.concatenate([_box((0.6, 0.1, 0.6)), _box((0.6, 0.6, 0.1), at=(0, 0.35, 0.25))]))
    views = rendering.random_views(6, rng)
    for rendered in rendering.render_views(chair, views):
        assert not sketches.looks_like_drawing(rendered)
    outline, creases = sketches.line_maps(chair, views)
    assert all(sketches.looks_like_drawing(sketches.hand_drawn(o, c, rng)) for o, c in zip(outline, creases))
    assert sketches.looks_like_drawing(_chair_drawing(512, 3))
    silhouette = np.full((200, 200), 255, np.uint8)
    silhouette[50:150, 70:130] = 0
    assert sketches.looks_like_drawing(silhouette)
    photo = (rng.uniform(0, 1, (1, 1)) * 0 + np.clip(rng.normal(0.5, 0.2, (120, 120)), 0, 1) * 255).astype(np.uint8)
    assert not sketches.looks_like_drawing(photo)


def test_drawings_are_the_same_for_the_same_seed_and_differ_between_splits():
    mesh = geometry.normalize_mesh(_box((0.6, 0.3, 0.4)))
    first, views = sketches.drawings_of(mesh, 2, (sketches.GENERATOR_VERSION, 0, 0, 7))
    again, _ = sketches.drawings_of(mesh, 2, (sketches.GENERATOR_VERSION, 0, 0, 7))
    test, _ = sketches.drawings_of(mesh, 2, (sketches.GENERATOR_VERSION, 0, 1, 7))
    assert first.shape == (2, 137, 137) and first.dtype == np.uint8 and views.shape == (2, 2)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, test)


# --------------------------------------------------------------------------------------------
# Search by a drawing
# --------------------------------------------------------------------------------------------


def test_a_drawing_finds_the_shape_whose_z_it_reads_and_the_guess_is_reported(tmp_path, box_dataset):
    config.seed_everything(0)
    folder = box_dataset(tmp_path / "boxes", shapes=3)
    model = ImageEncoder(width=8).eval()
    drawings = [_chair_drawing(256, 2), _chair_drawing(256, 2).transpose(Image.Transpose.FLIP_LEFT_RIGHT), _chair_drawing(300, 2).rotate(90)]
    codes = sketches.predict_drawing_z(model, drawings).numpy()
    index = search.build_index(folder, codes={"train": codes, "test": codes}, progress=False)
    index.sketch_model = model
    index.image_model = ImageEncoder(width=8).eval()
    index.image_model.object_size = 100.0  # the framing a shipped image encoder carries
    for i, drawing in enumerate(drawings):
        path = tmp_path / f"drawing_{i}.png"
        drawing.resize((512, 512)).save(path)  # another size than the one encoded: the same input
        found = search.search_file(index, path, k=1, split="train")
        assert (found.read_as, found.guessed) == ("sketch", True) and "guessed; --as picture" in found.reading()
        assert found[0].row == i and found[0].distance < 0.05
    rendered = tmp_path / "rendering.png"
    Image.fromarray(rendering.render_views(geometry.normalize_mesh(_box()), np.array([[30.0, 20.0]]))[0]).save(rendered)
    found = search.search_file(index, rendered, k=1)
    assert (found.read_as, found.guessed) == ("picture", True)
    told = search.search_file(index, rendered, k=1, read_as="sketch")
    assert (told.read_as, told.guessed) == ("sketch", False) and told.reading() == "read as a line drawing, by the sketch encoder"
    with pytest.raises(ValueError, match="unknown reading 'drawing'"):
        search.search_file(index, rendered, read_as="drawing")


def test_the_shipped_sketch_encoder_answers_the_same_at_any_size_and_pen():
    """The issue's known answer: a drawing's result does not change with its picture size or its stroke width."""
    from tutorial_lib import autoencoder, shipping

    model = shipping.load("sketch_encoder", QUICK)  # refused unless it belongs to the shipped autoencoder
    codes = autoencoder.load_shipped_z(QUICK)
    variants = [_chair_drawing(256, 2), _chair_drawing(1024, 2), _chair_drawing(1024, 10), _chair_drawing(256, 5)]
    z = sketches.predict_drawing_z(model, variants).numpy()
    assert z.shape == (4, 128) and np.all((z > 0) & (z < 1))
    nearest = [int(np.argmin(((codes["train_z"] - row) ** 2).sum(axis=1))) for row in z]
    categories = {codes["train_categories"][i] for i in nearest}
    assert len(categories) == 1, [codes["train_names"][i] for i in nearest]


def test_an_interrupted_drawing_set_continues_where_it_stopped(tmp_path, box_dataset, monkeypatch):
    from tutorial_lib import data

    folder = box_dataset(tmp_path / "boxes", shapes=20)  # two groups of 16 and 4 shapes
    split = data.split_path(folder, "train")
    made = []
    original = sketches._drawings_of_rows

    def interrupted(job):
        if made:
            raise KeyboardInterrupt  # Ctrl-C during the second group
        made.append(job[1])
        return original(job)

    monkeypatch.setattr(sketches, "_drawings_of_rows", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sketches.ensure_drawings(split, 1, progress=False, workers=1)
    assert not sketches.drawing_set_path(split, 1).exists() and made == [0]

    def counted(job):
        made.append(job[1])
        return original(job)

    monkeypatch.setattr(sketches, "_drawings_of_rows", counted)
    arrays = sketches.ensure_drawings(split, 1, progress=False, workers=1)
    assert made == [0, 16]  # only the second group was drawn again
    assert arrays["pictures"].shape == (20, 1, 137, 137)
    whole, _ = sketches.drawings_of(data.read_mesh(split, 17), 1, sketches.drawing_seed(0, 0, 17))
    np.testing.assert_array_equal(arrays["pictures"][17], whole)
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("drawings_")) == [sketches.drawing_set_path(split, 1).name]
