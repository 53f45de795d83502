"""tutorial_lib.search: known answers on small synthetic indexes (boxes and primitives, not the dataset)."""

import math

import numpy as np
import pytest
import trimesh
from PIL import Image

from tutorial_lib import config, data, geometry, images, metrics, search, svr
from tutorial_lib.autoencoder import encode, make_autoencoder
from tutorial_lib.models import ImageEncoder

QUICK = config.get_profile("quick")


@pytest.fixture
def box_index(tmp_path, box_dataset):
    """An index over 4 training and 4 test boxes, z from an untrained (seeded) autoencoder."""
    config.seed_everything(0)
    folder = box_dataset(tmp_path / "boxes", shapes=4, seed=3)
    model = make_autoencoder(QUICK)
    index = search.build_index(folder, autoencoder_model=model, meta={"profile": "quick", "dataset": {"train": "boxes-train-3"}}, progress=False)
    return index, folder


def _meshes():
    """Four shapes that look unlike one another, in the dataset's conventions."""
    shapes = [
        trimesh.creation.box([0.8, 0.2, 0.4]),
        trimesh.creation.cylinder(radius=0.15, height=0.9, sections=24),
        trimesh.creation.icosphere(subdivisions=3, radius=0.4),
        trimesh.creation.cone(radius=0.35, height=0.8, sections=24),
    ]
    return [geometry.normalize_mesh(m) for m in shapes]


# --------------------------------------------------------------------------------------------
# Retrieval scores
# --------------------------------------------------------------------------------------------


def test_retrieval_scores_by_hand():
    scores = search.retrieval_scores([True, False, True, False], cutoffs=(1, 2))
    assert scores["precision@1"] == 1.0
    assert scores["precision@2"] == 0.5
    assert scores["average_precision"] == pytest.approx((1 / 1 + 2 / 3) / 2)
    ideal = 1 + 1 / math.log2(3)
    assert scores["ndcg"] == pytest.approx((1 + 1 / math.log2(4)) / ideal)


def test_retrieval_scores_perfect_and_empty():
    perfect = search.retrieval_scores([True, True, False, False])
    assert perfect["average_precision"] == 1.0 and perfect["ndcg"] == pytest.approx(1.0)
    none = search.retrieval_scores([False, False, False])
    assert none["precision@1"] == 0.0 and none["average_precision"] == 0.0 and none["ndcg"] == 0.0


# --------------------------------------------------------------------------------------------
# The index and its queries
# --------------------------------------------------------------------------------------------


def test_index_holds_every_shape_with_its_lfd_and_split(box_index):
    index, folder = box_index
    assert len(index) == 8
    assert index.splits.tolist() == ["train"] * 4 + ["test"] * 4
    mesh = data.read_mesh(data.split_path(folder, "test"), 2)
    np.testing.assert_array_equal(index.lfd[6], metrics.lfd_descriptor(mesh).coefficients)
    assert index.views.shape == (8, 100, 45) and index.thumbnails.shape == (8, 64, 64)
    voxels = data.read_split(data.split_path(folder, "train"), ("voxels",))["voxels"]
    np.testing.assert_allclose(index.z[:4], encode(index.autoencoder_model, voxels).numpy())


def test_self_retrieval_at_rank_one_and_distance_zero(box_index):
    index, folder = box_index
    for row in range(len(index)):
        by_z = index.matches(index.z_distances(index.z[row])[0], k=3)
        assert (by_z[0].name, by_z[0].distance, by_z[0].rank) == (index.names[row], 0.0, 1)
        split = index.splits[row]
        mesh = data.read_mesh(data.split_path(folder, split), row % 4)
        by_lfd = index.by_mesh(mesh, k=3, by="lfd")
        assert by_lfd[0].name == index.names[row] and by_lfd[0].distance == 0.0


def test_mesh_query_by_z_finds_its_own_voxelisation(tmp_path, box_dataset):
    config.seed_everything(0)
    folder = box_dataset(tmp_path / "boxes", shapes=4)
    model = make_autoencoder(QUICK)
    meshes = _meshes()
    # z of the four primitives as a mesh query computes them: normalise, voxelise, encode.
    codes = encode(model, np.stack([geometry.voxelize(geometry.normalize_mesh(m)) for m in meshes])).numpy()
    index = search.build_index(folder, codes={"train": codes, "test": codes}, progress=False)
    index.autoencoder_model = model
    for i, mesh in enumerate(meshes):
        found = index.by_mesh(mesh, k=1, split="train")[0]
        # 0 up to float32 rounding: the encoder sees a batch of one here, of four above
        assert found.row == i and found.distance == pytest.approx(0.0, abs=1e-5) and found.split == "train"


def test_mesh_in_its_own_axes_is_found_upright(tmp_path, box_dataset, chair_like):
    """A chair whose file is Z up (turned 90 degrees about X) is searched upright without being told."""
    config.seed_everything(0)
    folder = box_dataset(tmp_path / "boxes", shapes=5)
    model = make_autoencoder(QUICK)
    meshes = [*_meshes(), geometry.normalize_mesh(chair_like)]
    codes = encode(model, np.stack([geometry.voxelize(m) for m in meshes])).numpy()
    index = search.build_index(folder, codes={"train": codes, "test": codes}, progress=False)
    index.autoencoder_model = model
    file_axes = np.eye(4)
    file_axes[:3, :3] = geometry.orientation_matrix("+z", "+y").T  # the chair's up is now the file's +Z, its front +Y
    z_up = chair_like.copy().apply_transform(file_axes)
    path = geometry.save_mesh(z_up, tmp_path / "chair_z_up.obj")

    found = search.search_file(index, path, k=2, split="train")
    assert (found.orientation.up, found.orientation.front, found.orientation.chosen) == ("+z", "+y", True)
    assert found[0].row == 4 and found[0].distance == pytest.approx(0.0, abs=1e-5)
    assert found.orientation.as_is_distance > 0.01 and "chosen of 24" in str(found.orientation)
    told = search.search_file(index, path, k=1, split="train", up="+z")  # the front follows: +y
    assert (told.orientation.up, told.orientation.front, told.orientation.chosen) == ("+z", "+y", False)
    assert told[0].row == 4 and told[0].distance == pytest.approx(0.0, abs=1e-5)
    as_is = index.by_mesh(z_up, k=1, split="train", up="+y", front="-z")
    assert as_is[0].distance > 0.01
    Image.fromarray(np.full((137, 137), 255, np.uint8)).save(tmp_path / "query.png")
    with pytest.raises(ValueError, match="picture has no axes"):
        search.search_file(index, tmp_path / "query.png", up="+z")


def test_an_open_mesh_query_is_said_in_one_line_and_encoded_from_its_winding_voxels(tmp_path, box_dataset, capsys):
    config.seed_everything(0)
    model = make_autoencoder(QUICK)
    index = search.build_index(box_dataset(tmp_path / "boxes", shapes=4), autoencoder_model=model, progress=False)
    box = trimesh.creation.box([0.8, 0.2, 0.4])
    open_box = box.copy()
    open_box.update_faces(~np.isclose(box.face_normals[:, 0], -1))  # one side missing: 4 boundary edges
    path = tmp_path / "open_box.obj"
    open_box.export(path)
    capsys.readouterr()
    z = index.mesh_z(path)
    assert capsys.readouterr().err == f"{path}: not watertight (4 boundary edges); filled by its winding number\n"
    voxels = geometry.voxelize(geometry.normalize_mesh(geometry.load_mesh(path)), report=lambda line: None)
    np.testing.assert_allclose(z, encode(model, voxels[None]).numpy()[0], atol=1e-5)


def test_rotated_copy_is_found_first_by_lfd(box_index):
    index, folder = box_index
    rotation = np.eye(4)
    rotation[:3, :3] = metrics.dodecahedron_rotations()[7]  # the LFD is invariant to the dodecahedron's rotations
    for i in range(4):
        rotated = data.read_mesh(data.split_path(folder, "train"), i).apply_transform(rotation)
        found = index.by_mesh(rotated, k=2, by="lfd", split="train")
        assert found[0].name == f"box_train_{i}"
        assert found[0].distance < found[1].distance


def test_ranks_are_stable_under_a_reordered_index(box_index):
    index, folder = box_index
    shuffled = index.take(np.random.default_rng(0).permutation(len(index)))
    sketch = metrics.lfd_silhouettes(data.read_mesh(data.split_path(folder, "test"), 1))[0, 3]
    for original, reordered in [
        (index.matches(index.z_distances(index.z[5])[0], k=8), shuffled.matches(shuffled.z_distances(index.z[5])[0], k=8)),
        (index.matches(index.lfd_distances(index.lfd[2])[0], k=8), shuffled.matches(shuffled.lfd_distances(index.lfd[2])[0], k=8)),
        (index.by_sketch(sketch, k=8), shuffled.by_sketch(sketch, k=8)),
    ]:
        assert [m.name for m in original] == [m.name for m in reordered]
        np.testing.assert_allclose([m.distance for m in original], [m.distance for m in reordered], rtol=1e-6)


def test_split_restricts_the_results(box_index):
    index, _ = box_index
    found = index.matches(index.z_distances(index.z[5])[0], k=10, split="train")
    assert len(found) == 4 and {m.split for m in found} == {"train"}
    assert [m.rank for m in found] == [1, 2, 3, 4]


def test_picture_query_finds_the_shape_whose_z_it_reads(tmp_path, box_dataset):
    config.seed_everything(0)
    folder = box_dataset(tmp_path / "boxes", shapes=4)
    image_model = ImageEncoder(width=8).eval()
    # An index whose z are what this image encoder reads from each shape's first rendering.
    codes = {s: svr.predict_z(image_model, data.read_pixels(data.split_path(folder, s))[:, 0] / 255.0).numpy() for s in data.SPLITS}
    index = search.build_index(folder, codes=codes, progress=False)
    index.image_model = image_model
    picture = data.read_pixels(data.split_path(folder, "test"), [2])[0, 0] / 255.0
    found = index.by_picture(picture, k=2)
    assert found[0].name == "box_test_2" and found[0].distance == pytest.approx(0.0, abs=1e-6)


# --------------------------------------------------------------------------------------------
# Sketches
# --------------------------------------------------------------------------------------------


def test_framed_silhouettes_are_centred_and_scaled():
    size = 100
    rows, cols = np.mgrid[:size, :size] + 0.5
    disc = np.hypot(rows - 30, cols - 62) < 12  # off-centre, small
    framed = search.frame_silhouettes(disc[None], size=128)[0]
    r, c = np.nonzero(framed)
    assert abs(r.mean() + 0.5 - 64) < 1 and abs(c.mean() + 0.5 - 64) < 1
    assert (c.max() - c.min() + 1) / 2 == pytest.approx(search.SILHOUETTE_REACH * 64, abs=2)
    assert not search.frame_silhouettes(np.zeros((1, 50, 50), bool))[0].any()


def _frame_with_torch(masks, size=128, reach=search.SILHOUETTE_REACH):
    """frame_silhouettes as it was written with numpy and torch's grid_sample (the reference)."""
    import torch
    import torch.nn.functional as F

    batch, height, width = masks.shape
    image, row, col = np.nonzero(masks)
    area = np.bincount(image, minlength=batch).astype(np.float64)
    safe = np.maximum(area, 1.0)
    centre_r = np.bincount(image, weights=row + 0.5, minlength=batch) / safe
    centre_c = np.bincount(image, weights=col + 0.5, minlength=batch) / safe
    radius = np.zeros(batch)
    if len(image):
        distance = np.hypot(row + 0.5 - centre_r[image], col + 0.5 - centre_c[image])
        starts = np.flatnonzero(np.r_[True, image[1:] != image[:-1]])
        radius[image[starts]] = np.maximum.reduceat(distance, starts)
    radius += 0.5
    u = (np.arange(size) + 0.5) / (size / 2.0) - 1.0
    src_r = centre_r[:, None] + u[None, :] * (radius / reach)[:, None]
    src_c = centre_c[:, None] + u[None, :] * (radius / reach)[:, None]
    grid = torch.empty(batch, size, size, 2, dtype=torch.float32)
    grid[..., 0] = torch.from_numpy(2.0 * src_c / width - 1.0).float()[:, None, :]
    grid[..., 1] = torch.from_numpy(2.0 * src_r / height - 1.0).float()[:, :, None]
    framed = F.grid_sample(torch.from_numpy(masks).float()[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, 0] >= 0.5
    framed[torch.from_numpy(area == 0)] = False
    return framed.numpy()


def test_framing_kernel_equals_grid_sample(rng):
    """The compiled framing against numpy and torch's grid_sample (its implementation before):
    the same pixels, on silhouettes of meshes and on random masks of other sizes."""
    silhouettes = np.concatenate([metrics.lfd_silhouettes(mesh).reshape(-1, 128, 128)[::7] for mesh in _meshes()])
    noise = rng.random((20, 90, 70)) < 0.02
    noise[:, 30:60, 20:50] |= rng.random((20, 30, 30)) < 0.9
    noise[3] = False
    for masks in (silhouettes, noise):
        np.testing.assert_array_equal(search.frame_silhouettes(masks), _frame_with_torch(masks))


def test_sketch_mask_fills_a_closed_outline():
    square = np.zeros((80, 80), bool)
    square[20:60, 15:65] = True
    outline = square & ~np.pad(square[1:-1, 1:-1] & square[2:, 1:-1] & square[:-2, 1:-1] & square[1:-1, 2:] & square[1:-1, :-2], 1)
    assert outline.sum() < square.sum() / 5
    np.testing.assert_array_equal(search.sketch_mask(outline), square)
    grey = np.where(square, 0.2, 1.0)  # a filled drawing on white paper
    np.testing.assert_array_equal(search.sketch_mask(grey), square)


def test_sketch_finds_the_shape_it_is_a_silhouette_of():
    meshes = _meshes()
    views = [search.shape_descriptors(m)[1] for m in meshes]
    index = search.ShapeIndex([f"s{i}" for i in range(4)], ["a", "b", "c", "d"], ["train"] * 4, np.zeros((4, 128)),
                              np.zeros((4, 10, 10, 45)), np.stack(views), np.zeros((4, 64, 64)))  # fmt: skip
    for i, mesh in enumerate(meshes):
        silhouette = metrics.lfd_silhouettes(mesh)[2, 4]
        assert index.by_sketch(silhouette, k=1)[0].name == f"s{i}"
        # ... drawn as a closed outline only, at another size and place on the page
        page = np.zeros((200, 200), bool)
        page[30:158, 50:178] = silhouette
        outline = page & ~np.pad(page[1:-1, 1:-1] & page[2:, 1:-1] & page[:-2, 1:-1] & page[1:-1, 2:] & page[1:-1, :-2], 1)
        assert index.by_sketch(outline, k=1)[0].name == f"s{i}"


def test_empty_sketch_is_refused(tmp_path):
    with pytest.raises(images.ImageError, match="no ink"):
        search.sketch_mask(np.ones((50, 50)))


# --------------------------------------------------------------------------------------------
# Files: versions, fingerprints, unreadable queries
# --------------------------------------------------------------------------------------------


def test_save_and_load_round_trip(box_index, tmp_path):
    index, _ = box_index
    path = index.save(tmp_path / "index.npz")
    loaded = search.ShapeIndex.load(path, expected={"dataset": {"train": "boxes-train-3"}})
    for key in search.ShapeIndex.ARRAYS:
        np.testing.assert_array_equal(getattr(loaded, key), getattr(index, key))
    assert loaded.meta == index.meta
    assert not list(tmp_path.glob(".*partial*"))  # written through a temporary file, then renamed


def test_stale_index_is_refused_naming_the_file(box_index, tmp_path):
    index, _ = box_index
    path = index.save(tmp_path / "index.npz")
    with pytest.raises(search.StaleIndexError) as error:
        search.ShapeIndex.load(path, expected={"dataset": {"train": "another-dataset"}})
    message = str(error.value)
    assert str(path) in message and "dataset" in message and "--build-index" in message and "\n" not in message


def test_foreign_or_old_files_are_refused(box_index, tmp_path):
    index, _ = box_index
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, something=np.arange(3))
    with pytest.raises(search.StaleIndexError, match="not a search index"):
        search.ShapeIndex.load(foreign)
    old = index.take(np.arange(len(index)))
    old.meta["format_version"] = search.FORMAT_VERSION - 1
    old_path = old.save(tmp_path / "old.npz")
    with pytest.raises(search.StaleIndexError, match="format"):
        search.ShapeIndex.load(old_path)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        search.ShapeIndex.load(tmp_path / "missing.npz")


def test_unreadable_query_files_give_one_line_errors(box_index, tmp_path):
    index, _ = box_index
    index.image_model = ImageEncoder(width=8).eval()
    broken = tmp_path / "broken.png"
    broken.write_text("not a picture")
    broken_mesh = tmp_path / "broken.obj"
    broken_mesh.write_text("this is no mesh\n")
    for call, path in [
        (lambda: index.by_picture(broken), broken),
        (lambda: index.by_sketch(broken), broken),
        (lambda: index.by_picture(tmp_path / "absent.jpg"), tmp_path / "absent.jpg"),
        (lambda: index.by_mesh(broken_mesh, by="lfd"), broken_mesh),
    ]:
        with pytest.raises((ValueError, OSError)) as error:
            call()
        assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_unknown_method_is_refused(box_index):
    index, _ = box_index
    with pytest.raises(ValueError, match="unknown search method"):
        index.by_mesh(trimesh.creation.box(), by="colour")


def test_thumbnails_keep_the_picture():
    pixels = np.full((1, 137, 137), 255, np.uint8)
    pixels[0, :, :68] = 0  # left half black
    small = search.thumbnails(pixels, size=64)[0]
    assert small[:, :30].max() == 0 and small[:, 36:].min() == 255


def test_cli_names_an_unreadable_query_file_on_one_line(tmp_path, capsys):
    from tutorial_lib.__main__ import main

    missing = tmp_path / "absent.png"
    assert main(["search", str(missing)]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and str(missing) in error and "\n" not in error
    odd = tmp_path / "notes.txt"
    odd.write_text("a chair")
    assert main(["search", str(odd), "--by", "lfd"]) == 1
    error = capsys.readouterr().err.strip()
    assert str(odd) in error and "unsupported query file type" in error and "\n" not in error


def test_search_file_dispatches_on_the_suffix(box_index, tmp_path):
    from PIL import Image

    index, folder = box_index
    mesh_file = geometry.save_mesh(data.read_mesh(data.split_path(folder, "train"), 1), tmp_path / "query.obj")
    assert search.search_file(index, mesh_file, by="lfd", k=1)[0].name == "box_train_1"
    silhouette = metrics.lfd_silhouettes(data.read_mesh(data.split_path(folder, "train"), 2))[0, 0]
    sketch_file = tmp_path / "sketch.png"
    Image.fromarray(np.where(silhouette, 0, 255).astype(np.uint8)).save(sketch_file)
    assert search.search_file(index, sketch_file, by="lfd", k=1)[0].name == "box_train_2"
    assert search.query_kind(sketch_file) == "picture" and search.query_kind(mesh_file) == "mesh"


def test_load_index_never_uses_a_stale_index(tmp_path, box_dataset, monkeypatch):
    """An index saved next to a profile's dataset but built from other files is refused (build=False)."""
    monkeypatch.setenv("TUTORIAL_DATA", str(tmp_path))
    folder = box_dataset(tmp_path / "quick", shapes=2)  # the "quick" dataset is now two boxes per split
    index = search.build_index(folder, codes={s: np.zeros((2, 128)) for s in data.SPLITS}, progress=False)
    index.meta.update(search.profile_fingerprints(QUICK), dataset={"train": "another", "test": "dataset"})
    path = index.save(search.index_path(QUICK))
    assert path == folder / search.INDEX_FILE
    with pytest.raises(search.StaleIndexError) as error:
        search.load_index(QUICK, build=False)
    assert str(path) in str(error.value) and "dataset" in str(error.value)
    # Fingerprints that match: the index is read as it is.
    index.meta.update(search.profile_fingerprints(QUICK))
    index.save(path)
    assert search.load_index(QUICK, build=False).names.tolist() == index.names.tolist()


def test_index_built_in_worker_processes_equals_one_built_in_this_one(tmp_path, box_dataset):
    """The light field descriptors come back in the files' order whatever the number of workers."""
    folder = box_dataset(tmp_path / "boxes", shapes=5, seed=4)
    codes = {s: np.arange(5 * 128, dtype=np.float32).reshape(5, 128) for s in data.SPLITS}
    alone = search.build_index(folder, codes=codes, progress=False, workers=1)
    shared = search.build_index(folder, codes=codes, progress=False, workers=2)
    assert shared.names.tolist() == alone.names.tolist() and len(alone.names) == 10
    # Boxes of different sizes have different descriptors, so a shuffled row would show.
    assert not np.array_equal(alone.lfd[0], alone.lfd[1])
    for name in ("lfd", "views", "z", "thumbnails"):
        np.testing.assert_array_equal(getattr(shared, name), getattr(alone, name))
