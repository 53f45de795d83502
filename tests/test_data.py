import dataclasses

import h5py
import numpy as np
import pytest
import trimesh

from tutorial_lib import config, data
from tutorial_lib.data import DatasetError


@pytest.fixture(scope="module")
def mesh_folder(tmp_path_factory):
    """A tiny ShapeNet-like source folder: two categories, one broken file."""
    root = tmp_path_factory.mktemp("meshes")
    (root / "boxes").mkdir()
    (root / "03001627" / "abc123" / "models").mkdir(parents=True)  # ShapeNet layout: chair synset
    for i, size in enumerate([(0.5, 0.3, 0.2), (0.2, 0.6, 0.3), (0.4, 0.4, 0.4)]):
        trimesh.creation.box(size).export(root / "boxes" / f"box{i}.stl")
    chair = trimesh.util.concatenate([trimesh.creation.box([0.5, 0.05, 0.5]), trimesh.creation.box([0.5, 0.5, 0.05]).apply_translation([0, 0.25, 0.25])])
    trimesh.boolean.union([chair], engine="manifold").export(root / "03001627" / "abc123" / "models" / "model_normalized.obj")
    trimesh.creation.icosphere(radius=0.3).export(root / "03001627" / "round.ply")
    (root / "boxes" / "broken.off").write_text("OFF\nthis is not a mesh\n")
    return root


@pytest.fixture(scope="module")
def built(mesh_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("built")
    report = data.build_dataset(config.get_profile("quick"), source=mesh_folder, out=out, workers=1, progress=False)
    return report


def test_build_from_folder_skips_and_lists_bad_meshes(built):
    assert set(built.failed) == {"boxes_broken"}
    assert "broken.off" in built.failed["boxes_broken"]
    assert sum(built.counts.values()) == 5
    assert "skipped" in built.summary() and "boxes_broken" in built.summary()


def test_built_file_has_imnet_keys_and_our_own(built):
    path = data.split_path(built.folder, "train")
    with h5py.File(path) as f:
        n = f["voxels"].shape[0]
        assert f["voxels"].shape == (n, 64, 64, 64, 1) and f["voxels"].dtype == np.uint8
        for res, count in [(16, 4096), (32, 8192), (64, 32768)]:
            assert f[f"points_{res}"].shape == (n, count, 3)
            assert f[f"values_{res}"].shape == (n, count, 1)
        assert f["pixels"].shape == (n, 20, 137, 137)
        assert f["view_angles"].shape == (n, 20, 2)
        assert f.attrs["schema_version"] == 1 and f.attrs["axis_order"] == "xyz"
    arrays = data.read_split(path)
    assert all(c in ("boxes", "chair") for c in arrays["categories"])  # synset id → name
    assert "chair_abc123" in arrays["names"] + data.read_split(data.split_path(built.folder, "test"))["names"]


def test_values_match_voxels_in_built_file(built):
    arrays = data.read_split(data.split_path(built.folder, "train"))
    voxels = arrays["voxels"][..., 0].astype(bool)
    for i in range(len(voxels)):
        index = np.round((arrays["points_64"][i] + 0.5) * 64 - 0.5).astype(int)
        np.testing.assert_array_equal(voxels[i][tuple(index.T)], arrays["values_64"][i][:, 0])


def test_meshes_are_stored_normalised(built):
    mesh = data.read_mesh(data.split_path(built.folder, "train"), 0)
    assert mesh.is_watertight
    assert np.abs(mesh.vertices).max() == pytest.approx(0.5 - 2 / 64, abs=1e-6)


def test_rebuild_is_a_no_op_and_deterministic(mesh_folder, built, tmp_path):
    again = data.build_dataset(config.get_profile("quick"), source=mesh_folder, out=built.folder, workers=1, progress=False)
    assert again.built_now == 0
    # an independent build in another folder, in parallel, gives the same geometry
    other = data.build_dataset(config.get_profile("quick"), source=mesh_folder, out=tmp_path / "other", workers=2, progress=False)
    for split in data.SPLITS:
        a = data.read_attrs(data.split_path(built.folder, split))["fingerprint"]
        b = data.read_attrs(data.split_path(other.folder, split))["fingerprint"]
        assert a == b


def test_interrupted_build_resumes_where_it_stopped(mesh_folder, built, tmp_path, monkeypatch):
    # An interrupt after two finished shapes (Ctrl-C in the third): their part files are kept.
    jobs = data.source_jobs(mesh_folder)
    parts = tmp_path / "resumed" / "parts"
    build_and_store, calls = data._build_and_store, []

    def interrupted_in_the_third(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return build_and_store(*args)

    monkeypatch.setattr(data, "_build_and_store", interrupted_in_the_third)
    with pytest.raises(KeyboardInterrupt):
        data.build_dataset(config.get_profile("quick"), source=mesh_folder, out=tmp_path / "resumed", workers=1, progress=False)
    assert len(list(parts.glob("*.npz"))) == 2
    monkeypatch.setattr(data, "_build_and_store", build_and_store)
    report = data.build_dataset(config.get_profile("quick"), source=mesh_folder, out=tmp_path / "resumed", workers=1, progress=False)
    assert report.built_now == len(jobs) - 2
    for split in data.SPLITS:
        fresh = data.read_split(data.split_path(built.folder, split), ("voxels", "points_64", "values_64"))
        resumed = data.read_split(data.split_path(report.folder, split), ("voxels", "points_64", "values_64"))
        for key in ("voxels", "points_64", "values_64"):
            np.testing.assert_array_equal(fresh[key], resumed[key])
    assert not parts.exists()  # cleaned up once the split files are written


def _fake_record(i, rng):
    record = {"name": f"thing_{i}", "category": "thing", "variant": "v",
              "voxels": rng.random((64, 64, 64)) < 0.3, "pixels": rng.integers(0, 256, (20, 137, 137), dtype=np.uint8),
              "view_angles": rng.uniform(-40, 40, (20, 2)).astype(np.float32), "sampling_stages": np.array([1, 2, 2]),
              "edge_counts": np.array([10, 20, 30]), "mesh_vertices": rng.random((8, 3)).astype(np.float32),
              "mesh_faces": rng.integers(0, 8, (12, 3)).astype(np.int32)}  # fmt: skip
    for res, count in [(16, 4096), (32, 8192), (64, 32768)]:
        record[f"points_{res}"] = rng.uniform(-0.5, 0.5, (count, 3)).astype(np.float32)
        record[f"values_{res}"] = rng.integers(0, 2, (count, 1), dtype=np.uint8)
    return record


def test_round_trip_through_our_format(tmp_path, rng):
    records = [_fake_record(i, rng) for i in range(3)]
    path = tmp_path / "train.hdf5"
    data.write_split(path, records, {"seed": 7})
    back = data.read_split(path, data.IMNET_KEYS + ("pixels", "view_angles"))
    np.testing.assert_array_equal(back["voxels"][..., 0], np.stack([r["voxels"] for r in records]))
    for key in ("points_16", "values_32", "points_64", "pixels", "view_angles"):
        np.testing.assert_array_equal(back[key], np.stack([r[key] for r in records]))
    assert back["names"] == ["thing_0", "thing_1", "thing_2"]
    assert back["attrs"]["seed"] == 7
    np.testing.assert_array_equal(data.read_mesh(path, 1).vertices, records[1]["mesh_vertices"])


def test_reads_imnet_layout(tmp_path, rng):
    # IM-NET's all_vox256_img files: uint8 points on a 256 grid, voxels [N,64,64,64,1], 24 views.
    path = tmp_path / "all_vox256_img_test.hdf5"
    voxels = (rng.random((2, 64, 64, 64, 1)) < 0.2).astype(np.uint8)
    points = {res: rng.integers(0, 256, (2, n, 3), dtype=np.uint8) for res, n in [(16, 4096), (32, 8192), (64, 32768)]}
    with h5py.File(path, "w") as f:
        f["voxels"] = voxels
        f["pixels"] = rng.integers(0, 256, (2, 24, 137, 137), dtype=np.uint8)
        for res, p in points.items():
            f[f"points_{res}"] = p
            f[f"values_{res}"] = rng.integers(0, 2, (2, p.shape[1], 1), dtype=np.uint8)
    back = data.read_split(path)
    np.testing.assert_array_equal(back["voxels"], voxels)
    np.testing.assert_allclose(back["points_64"], (points[64].astype(np.float32) + 0.5) / 256 - 0.5)
    assert back["points_16"].min() >= -0.5 and back["points_16"].max() <= 0.5
    assert back["names"][0] == "shape_00000" and back["categories"] == ["unknown", "unknown"]
    images = data.ImageDataset(path)
    assert len(images) == 2 * 24
    with pytest.raises(DatasetError, match="no meshes"):
        data.read_mesh(path, 0)


def test_missing_keys_and_bad_files_name_the_file(tmp_path):
    path = tmp_path / "half.hdf5"
    with h5py.File(path, "w") as f:
        f["voxels"] = np.zeros((1, 64, 64, 64, 1), np.uint8)
    with pytest.raises(DatasetError, match=r"half.hdf5: missing keys \['points_16'"):
        data.read_split(path)
    junk = tmp_path / "junk.hdf5"
    junk.write_text("not hdf5")
    with pytest.raises(DatasetError, match="junk.hdf5: not a readable HDF5"):
        data.read_split(junk)
    with pytest.raises(FileNotFoundError, match="nowhere.hdf5"):
        data.read_split(tmp_path / "nowhere.hdf5")


def test_torch_datasets(built):
    path = data.split_path(built.folder, "train")
    points = data.PointValueDataset(path, resolution=32, points_per_shape=1000)
    voxels, p, v = points[0]
    assert voxels.shape == (1, 64, 64, 64) and p.shape == (1000, 3) and v.shape == (1000, 1)
    assert set(v.unique().tolist()) <= {0.0, 1.0}
    images = data.ImageDataset(path)
    image, shape = images[len(images) - 1]
    assert len(images) == len(points) * 20 and image.shape == (1, 137, 137) and shape == len(points) - 1
    assert 0.0 <= image.min() and image.max() == 1.0


def test_procedural_split_is_balanced_and_about_five_to_one():
    jobs = data.procedural_jobs(config.get_profile("full"))
    assert 5800 <= len(jobs) <= 6200
    for category in {j.category for j in jobs}:
        mine = [j for j in jobs if j.category == category]
        share = sum(j.split == "test" for j in mine) / len(mine)
        assert abs(share - 1 / 6) < 0.01
    assert len({j.seed for j in jobs}) == len(jobs)


def test_growing_the_training_split_keeps_the_test_shapes():
    quick = config.get_profile("quick").dataset
    jobs = data.procedural_jobs(config.get_profile("quick"))
    smaller = data.procedural_jobs(config.get_profile("quick"), settings=dataclasses.replace(quick, train_per_category=25))
    airplanes = [j for j in jobs if j.category == "airplane"]
    assert [j.name for j in airplanes if j.split == "test"] == [f"airplane_{i:04d}" for i in range(25, 30)]
    train_numbers = [int(j.name[-4:]) for j in airplanes if j.split == "train"]
    # numbers 0-24, then past the test shapes: 30, 31, ... up to the profile's training count
    assert train_numbers == list(range(25)) + list(range(30, 30 + quick.train_per_category - 25))
    # A shape's seed depends on its category and number only, so both lists draw the same test shapes.
    assert [j for j in smaller if j.split == "test"] == [j for j in jobs if j.split == "test"]
    assert len(smaller) == 13 * 30 and len(jobs) == 13 * (quick.train_per_category + 5)


def _box_with_a_leg():
    """64³ voxels: a 12³ box (thick) and a 2×2×20 leg under it (thin)."""
    voxels = np.zeros((64, 64, 64), np.uint8)
    voxels[20:32, 20:32, 20:32] = 1
    voxels[40:60, 25:27, 25:27] = 1
    return voxels


def _world(cells):
    from tutorial_lib import geometry

    return geometry.grid_to_world(np.asarray(cells), 64).astype(np.float32)


def test_points_near_thin_parts_are_those_in_or_next_to_the_leg():
    voxels = _box_with_a_leg()
    points = _world([[26, 26, 26], [50, 25, 26], [50, 27, 26], [50, 28, 26], [5, 5, 5], [45, 26, 25]])  # box, leg, beside, 2 away, far, leg
    (near,) = data.near_thin_points(voxels[None], [points[None]])
    assert near[0].tolist() == [1, 2, 5]


def test_thin_share_draws_that_share_of_the_points_near_thin_parts(tmp_path):
    import torch

    voxels = _box_with_a_leg()
    rng = np.random.default_rng(0)
    leg = np.stack([rng.integers(40, 60, 150), rng.integers(25, 27, 150), rng.integers(25, 27, 150)], 1)
    cells = np.concatenate([rng.integers(0, 64, (3000, 3)), leg])
    path = tmp_path / "one.hdf5"
    with h5py.File(path, "w") as f:
        f["voxels"] = voxels[None, ..., None]
        for r in (16, 32, 64):
            f[f"points_{r}"] = _world(cells)[None]
            f[f"values_{r}"] = voxels[cells[:, 0], cells[:, 1], cells[:, 2]][None, :, None]
        f["names"] = np.array([b"one"])
        f["categories"] = np.array([b"thing"])

    def share_near(dataset):
        # near the leg: its cells grown by one (x 39-60, y and z 24-27), worked out by hand
        _, points, _ = dataset[0]
        c = np.floor((points.numpy() + 0.5) * 64).astype(int)
        near = (c[:, 0] >= 39) & (c[:, 0] <= 60) & (c[:, 1] >= 24) & (c[:, 1] <= 27) & (c[:, 2] >= 24) & (c[:, 2] <= 27)
        return near.mean()

    torch.manual_seed(0)
    assert share_near(data.PointValueDataset(path, resolution=64, points_per_shape=200)) < 0.15  # about 150 of 3,150
    assert share_near(data.PointValueDataset(path, resolution=64, points_per_shape=200, thin_share=0.5)) >= 0.5
    with pytest.raises(ValueError, match="thin_share"):
        data.PointValueDataset(path, points_per_shape=200, thin_share=1.0)


def test_near_thin_points_are_computed_once_per_content(tmp_path, monkeypatch):
    """The second ask for the same voxels and points reads the cache (the computation is not run
    again) and gives the same indices; other content gives its own answer."""
    monkeypatch.setenv("TUTORIAL_DATA", str(tmp_path))
    rng = np.random.default_rng(0)
    voxels = np.zeros((2, 64, 64, 64), np.uint8)
    voxels[:, 30:33, 10:50, 30:33] = 1  # a rod 3 voxels across: thin
    voxels[1, 5:25, 5:25, 5:25] = 1  # and a box: thick
    points = [rng.uniform(-0.5, 0.5, (2, 500, 3)).astype(np.float32) for _ in range(2)]
    first = data.cached_near_thin_points(voxels, points)
    assert len(list((tmp_path / "cache").glob("near_thin_*.npz"))) == 1
    monkeypatch.setattr(data, "near_thin_points", lambda *args: pytest.fail("computed again"))
    again = data.cached_near_thin_points(voxels, points)
    for a, b in zip(first, again):
        assert all(np.array_equal(x.numpy(), y.numpy()) for x, y in zip(a, b))
    assert any(len(x) for x in first[0])  # points near the rod were found
    monkeypatch.undo()
    monkeypatch.setenv("TUTORIAL_DATA", str(tmp_path))
    other = voxels.copy()
    other[0, 30:33, 10:50, 30:33] = 0
    data.cached_near_thin_points(other, points)
    assert len(list((tmp_path / "cache").glob("near_thin_*.npz"))) == 2


def test_chunks_encoded_by_the_workers_read_back_as_written(tmp_path, rng):
    """write_split copies chunks that encode_record compressed (in the builder's workers) into the
    file as they are: the same arrays, names, meshes and fingerprint as from plain records."""
    records = [_fake_record(i, rng) for i in range(3)]
    plain, encoded = tmp_path / "plain.hdf5", tmp_path / "encoded.hdf5"
    data.write_split(plain, records, {"seed": 7})
    data.write_split(encoded, [data.encode_record(r) for r in records], {"seed": 7})
    keys = data.IMNET_KEYS + ("pixels", "view_angles", "sampling_stages", "edge_counts")
    a, b = data.read_split(plain, keys), data.read_split(encoded, keys)
    for key in keys:
        np.testing.assert_array_equal(a[key], b[key])
    np.testing.assert_array_equal(b["points_64"], np.stack([r["points_64"] for r in records]))
    assert a["names"] == b["names"] and a["attrs"]["fingerprint"] == b["attrs"]["fingerprint"] == data.fingerprint(records)
    np.testing.assert_array_equal(data.read_mesh(encoded, 2).faces, records[2]["mesh_faces"])
    with h5py.File(encoded) as f:  # still HDF5's own gzip + shuffle, readable by any reader
        assert f["points_64"].compression == "gzip" and f["points_64"].shuffle and f["points_64"].chunks == (1, 32768, 3)


def test_a_part_file_holds_an_encoded_record(tmp_path):
    job = data.procedural_jobs(config.get_profile("smoke"))[0]
    name, error, _ = data._build_and_store(job, tmp_path, 2)
    assert name == job.name and not error
    part = data._load_part(data._part_path(tmp_path, job.name))
    record = data.build_shape(job, 2)
    assert part["name"] == job.name and set(part["chunks"]) == set(data.CHUNKED)
    np.testing.assert_array_equal(part["voxel_bits"], np.packbits(record["voxels"]))
    np.testing.assert_array_equal(part["mesh_vertices"], record["mesh_vertices"])
    assert part["chunks"]["points_64"] == data.encode_chunk(record["points_64"])
