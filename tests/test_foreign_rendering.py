"""The foreign renderer (pictures made unlike the training renderings) and the fragment cleaner."""

import json

import numpy as np
import pytest

from tutorial_lib import config, data, foreign_rendering, geometry, images, rendering


@pytest.fixture
def chair(chair_like):
    return geometry.normalize_mesh(chair_like)


def _settings(seed=0, **changes):
    return foreign_rendering.draw_settings(np.random.default_rng(seed)) | changes


def test_foreign_picture_differs_from_the_training_rendering(chair):
    settings = _settings(azimuth_deg=30.0, inclination_deg=20.0)
    foreign = foreign_rendering.render_foreign(chair, settings).astype(np.float64) / 255.0
    ours = rendering.render_views(chair, np.array([[30.0, 20.0]]))[0].astype(np.float64) / 255.0
    assert foreign.shape == (224, 224, 3) and ours.shape == (137, 137)
    object_pixels = foreign.min(axis=2) < 0.9
    # colour: on the object the three channels differ (a grey rendering has them equal)
    assert np.abs(foreign[object_pixels] - foreign[object_pixels].mean(axis=1, keepdims=True)).mean() > 0.02
    # brightness statistics of the object differ from the grey rendering's
    grey = foreign @ np.array([0.299, 0.587, 0.114])
    ours_object, foreign_object = ours[ours < 0.95], grey[object_pixels]
    histogram_ours = np.histogram(ours_object, bins=10, range=(0, 1))[0] / len(ours_object)
    histogram_foreign = np.histogram(foreign_object, bins=10, range=(0, 1))[0] / len(foreign_object)
    assert 0.5 * np.abs(histogram_ours - histogram_foreign).sum() > 0.2  # total variation distance


def test_foreign_pictures_are_deterministic_from_the_seed(chair):
    first, settings = foreign_rendering.render_foreign_picture(chair, seed=3, shape_index=5, view=1)
    again, settings_again = foreign_rendering.render_foreign_picture(chair, seed=3, shape_index=5, view=1)
    other, _ = foreign_rendering.render_foreign_picture(chair, seed=4, shape_index=5, view=1)
    assert first == again and settings == settings_again
    assert first != other
    assert first[:2] == b"\xff\xd8"  # a JPEG file


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_load_image_frames_a_foreign_picture_like_the_renderings(chair, tmp_path, seed):
    content, settings = foreign_rendering.render_foreign_picture(chair, seed=seed)
    path = tmp_path / "chair.jpg"
    path.write_bytes(content)
    framed = images.load_image(path, object_size=100)
    assert framed.shape == (137, 137)
    top, bottom, left, right = images.object_box(framed)
    assert abs(max(bottom - top, right - left) - 100) <= 2  # the longer side is the object size asked for
    assert abs((top + bottom) / 2 - 137 / 2) <= 2 and abs((left + right) / 2 - 137 / 2) <= 2  # centred


def test_the_object_stays_inside_the_frame_and_the_background_is_light(chair):
    for seed in range(6):
        settings = _settings(seed)
        picture = foreign_rendering.render_foreign(chair, settings)
        border = np.concatenate([picture[0], picture[-1], picture[:, 0], picture[:, -1]])
        assert (border == settings["background"]).all()  # nothing of the object is cut off
        assert settings["background"] / 255 > images.BACKGROUND_THRESHOLD


def test_regions_split_by_height_and_part(chair):
    one = foreign_rendering.face_regions(chair, height_bands=1, accent_tops=False)
    three = foreign_rendering.face_regions(chair, height_bands=3, accent_tops=False)
    assert len(set(one)) == 1  # one connected solid, one band
    assert len(set(three)) == 3
    tops = foreign_rendering.face_regions(chair, height_bands=1, accent_tops=True)
    assert set(tops[chair.face_normals[:, 1] > 0.9]) == {1} and set(tops[chair.face_normals[:, 1] <= 0.9]) == {0}


def test_build_foreign_set_writes_pictures_and_index(box_dataset, tmp_path):
    folder = box_dataset(tmp_path / "boxes", shapes=2)
    out = foreign_rendering.build_foreign_set(config.get_profile("quick"), views=2, seed=0, out=tmp_path / "foreign", progress=False,
                                              test_file=data.split_path(folder, "test"))  # fmt: skip
    index = json.loads(out.read_text())
    assert [p["file"] for p in index["pictures"]] == ["box_test_0_0.jpg", "box_test_0_1.jpg", "box_test_1_0.jpg", "box_test_1_1.jpg"]
    for picture in index["pictures"]:
        rgb = images.read_image(out.parent / picture["file"])
        assert rgb.shape == (224, 224, 3) and picture["category"] == "chair"
    assert not list(out.parent.glob(".*partial*"))  # no temporary files left
    with pytest.raises(FileNotFoundError, match="no foreign set"):
        foreign_rendering.read_foreign_index(tmp_path)


# --------------------------------------------------------------------------------------------
# The fragment cleaner (geometry.keep_main_parts)
# --------------------------------------------------------------------------------------------


def _table_with_speck():
    """A 64³ table: a top and four one-voxel-thin legs (one leg touches the top only by an edge),
    and a separate speck of 2×2×2 voxels floating beside it."""
    grid = np.zeros((64, 64, 64), np.float32)
    grid[10:54, 40:44, 10:54] = 0.9  # top
    for x, z in ((12, 12), (51, 12), (12, 51)):
        grid[x, 10:40, z] = 0.8  # legs one voxel thin, touching the top
    grid[51, 10:39, 51] = 0.8  # this leg stops one voxel short ...
    grid[52, 39, 52] = 0.8  # ... and reaches the top only through a diagonal step
    speck = (slice(58, 60), slice(20, 22), slice(58, 60))
    grid[speck] = 0.7
    return grid, speck


def test_keep_main_parts_removes_an_isolated_speck_and_keeps_thin_legs():
    grid, speck = _table_with_speck()
    cleaned, dropped = geometry.keep_main_parts(grid)
    assert dropped == 1
    assert (cleaned[speck] < 0.5).all()
    outside_speck = np.ones(grid.shape, bool)
    outside_speck[speck] = False
    np.testing.assert_array_equal(cleaned[outside_speck], grid[outside_speck])  # every leg, even the diagonal one, stays
    assert grid[speck].min() == 0.7  # the input is not changed


def test_keep_main_parts_keeps_real_separate_parts_and_is_deterministic():
    grid, speck = _table_with_speck()
    grid[2:12, 2:12, 2:12] = 0.9  # a separate part of 1000 voxels: about 10 % of the table, a real part
    cleaned, dropped = geometry.keep_main_parts(grid)
    assert dropped == 1 and (cleaned[2:12, 2:12, 2:12] == 0.9).all()
    again, _ = geometry.keep_main_parts(grid)
    np.testing.assert_array_equal(cleaned, again)
    nothing, none_dropped = geometry.keep_main_parts(np.zeros((8, 8, 8), np.float32))
    assert none_dropped == 0 and not nothing.any()
    boolean, _ = geometry.keep_main_parts(grid >= 0.5)
    assert boolean.dtype == bool and (boolean == (cleaned >= 0.5)).all()


def test_keep_main_parts_rejects_a_bad_fraction():
    with pytest.raises(ValueError, match="min_fraction"):
        geometry.keep_main_parts(np.zeros((4, 4, 4)), min_fraction=2.0)


def test_reconstruct_from_image_drops_fragments_when_asked(monkeypatch):
    import torch

    from tutorial_lib import autoencoder, svr

    grid, _ = _table_with_speck()
    monkeypatch.setattr(svr, "predict_z", lambda model, images: torch.zeros(1, 128))
    monkeypatch.setattr(autoencoder, "reconstruct", lambda model, z, resolution: (grid, grid.size))
    picture = np.ones((137, 137), np.float32)
    cleaned = svr.reconstruct_from_image(picture, None, None, resolution=64, clean=True)
    kept = svr.reconstruct_from_image(picture, None, None, resolution=64)  # the default keeps every part
    # the speck is a closed surface of its own near voxel (59, 21, 59); nothing else changes
    speck_centre = geometry.grid_to_world(np.array([59.0, 21.0, 59.0]), 64)
    assert np.linalg.norm(kept.vertices - speck_centre, axis=1).min() < 0.03
    assert np.linalg.norm(cleaned.vertices - speck_centre, axis=1).min() > 0.1
    assert len(kept.split(only_watertight=False)) == len(cleaned.split(only_watertight=False)) + 1


def test_cli_options_for_the_foreign_set_and_the_cleaner():
    from tutorial_lib.__main__ import build_parser

    parser = build_parser()
    args = parser.parse_args(["data", "foreign", "--views", "3", "--seed", "7"])
    assert (args.profile, args.views, args.seed, args.out) == ("quick", 3, 7, None)
    assert parser.parse_args(["reconstruct", "a.png", "--out", "a.obj"]).drop_fragments is False
    assert parser.parse_args(["reconstruct", "a.png", "--out", "a.obj", "--drop-fragments"]).drop_fragments is True


@pytest.mark.skipif(not (data.dataset_dir(config.get_profile("quick")) / "train.hdf5").is_file(),
                    reason="the quick dataset is not built (python -m tutorial_lib data build --profile quick)")  # fmt: skip
def test_keep_main_parts_removes_nothing_from_the_true_quick_shapes():
    """The dataset's own shapes have real separate parts (lamp shades, rifle magazines): the
    cleaner's threshold must leave every one of them, on both splits."""
    folder = data.dataset_dir(config.get_profile("quick"))
    for split in data.SPLITS:
        voxels = data.read_split(data.split_path(folder, split), ("voxels",))["voxels"][..., 0]
        assert sum(geometry.keep_main_parts(v)[1] for v in voxels) == 0
