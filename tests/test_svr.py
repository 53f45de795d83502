import numpy as np
import pytest
import torch
from PIL import Image

from tutorial_lib import config, provenance, shipping, svr
from tutorial_lib import images as pictures
from tutorial_lib.config import CROP_SIZE, IMAGE_SIZE
from tutorial_lib.models import Autoencoder, ImageEncoder

QUICK = config.get_profile("quick")


def test_augment_crops_to_128_and_flips_some_images():
    columns = torch.arange(IMAGE_SIZE, dtype=torch.float32).expand(IMAGE_SIZE, -1)
    images = columns.expand(64, 1, -1, -1).clone()  # pixel value = its column
    out = pictures.augment(images, generator=torch.Generator().manual_seed(0))
    assert out.shape == (64, 1, CROP_SIZE, CROP_SIZE)
    rows = out[:, 0, 0, :]
    steps = rows[:, 1:] - rows[:, :-1]
    flipped = (steps == -1).all(dim=1)
    kept = (steps == 1).all(dim=1)
    assert bool((flipped | kept).all())  # every crop is a contiguous window, read forwards or backwards
    assert 10 < int(flipped.sum()) < 54  # about half are flipped
    starts = torch.where(flipped, rows[:, -1], rows[:, 0])
    assert starts.min() >= 0 and starts.max() <= IMAGE_SIZE - CROP_SIZE and len(set(starts.tolist())) > 3
    # the same column stays in every row: a crop does not mix rows and columns
    assert torch.equal(out[:, :, 5, :], out[:, :, 77, :])


def _square_picture(mode: str, path):
    """A dark 40×60 box off centre on a 200×160 background, saved in ``mode``."""
    canvas = np.full((200, 160), 255, np.uint8)
    canvas[20:60, 30:90] = 40
    if mode == "L":
        Image.fromarray(canvas, "L").save(path)
    elif mode == "RGB":
        rgb = np.stack([canvas] * 3, axis=-1)
        rgb[20:60, 30:90] = (120, 20, 30)  # a dark red object on white
        Image.fromarray(rgb, "RGB").save(path)
    else:  # RGBA: transparent background (black but invisible), opaque object
        rgba = np.zeros((200, 160, 4), np.uint8)
        rgba[20:60, 30:90] = (40, 40, 40, 255)
        Image.fromarray(rgba, "RGBA").save(path)
    return path


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_load_image_frames_grey_rgb_and_rgba_like_the_renderings(tmp_path, mode):
    image = pictures.load_image(_square_picture(mode, tmp_path / f"box_{mode}.png"), object_size=60)
    assert image.shape == (IMAGE_SIZE, IMAGE_SIZE) and image.dtype == np.float32
    top, bottom, left, right = pictures.object_box(image)
    assert right - left == 60 and abs((bottom - top) - 40) <= 1  # longer side scaled to 60, aspect kept
    assert abs((top + bottom) / 2 - IMAGE_SIZE / 2) <= 1 and abs((left + right) / 2 - IMAGE_SIZE / 2) <= 1  # centred
    assert image[0, 0] == 1.0 and image[-1, -1] == 1.0  # white background (a transparent one too)
    assert image[IMAGE_SIZE // 2, IMAGE_SIZE // 2] < 0.5  # the object stays dark


def test_bad_images_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.png"):
        pictures.load_image(tmp_path / "nothing.png", object_size=60)
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(pictures.ImageError, match="notes.png: not an image file that PIL can read"):
        pictures.load_image(tmp_path / "notes.png", object_size=60)
    Image.fromarray(np.full((50, 50), 255, np.uint8), "L").save(tmp_path / "blank.png")
    with pytest.raises(pictures.ImageError, match="blank.png: the image holds no object"):
        pictures.load_image(tmp_path / "blank.png", object_size=60)


def test_tiny_image_encoder_overfits_a_few_images():
    torch.manual_seed(0)
    images = torch.ones(4, 1, IMAGE_SIZE, IMAGE_SIZE)
    for i in range(4):  # four different dark rectangles
        images[i, :, 30 + 10 * i : 90, 40 : 70 + 10 * i] = 0.2
    codes = torch.rand(4, 128) * 0.6 + 0.2
    model = ImageEncoder(width=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(120):
        loss = svr.z_loss(model, (images, codes))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        first = loss.item() if first is None else first
    model.eval()
    error = torch.nn.functional.mse_loss(svr.predict_z(model, images), codes).item()
    assert error < first / 10


def test_evaluation_scores_the_network_and_both_baselines(tmp_path, box_dataset):
    folder = box_dataset(tmp_path / "boxes", shapes=3, same_test=True)  # test shapes = training shapes
    torch.manual_seed(0)
    result = svr.evaluate(ImageEncoder(width=8), Autoencoder(4, 4), folder / "test.hdf5", folder / "train.hdf5", chamfer_points=2000, progress=False)
    assert result["names"] == ["box_test_0", "box_test_1", "box_test_2"]
    for method in ("network", "retrieval", "category_mean"):
        assert len(result[method]["iou"]) == len(result[method]["chamfer"]) == 3
        assert all(0 <= v <= 1 for v in result[method]["iou"])
    # every test view is a training view: retrieval finds its own shape, exactly
    assert result["retrieved"] == ["box_train_0", "box_train_1", "box_train_2"]
    assert result["retrieval"]["iou"] == [1.0, 1.0, 1.0]
    assert max(result["retrieval"]["chamfer"]) < 1e-3
    # the boxes all span the grid's centre (lo < 28, hi > 36): there the mean is 1
    means = svr.category_mean_shapes(folder / "train.hdf5")
    assert set(means) == {"chair"} and means["chair"].max() == 1.0


def test_evaluating_some_methods_gives_their_numbers_of_the_whole_evaluation(tmp_path, box_dataset):
    folder = box_dataset(tmp_path / "boxes", shapes=3, same_test=True)
    torch.manual_seed(0)
    image_model, shape_model = ImageEncoder(width=8), Autoencoder(4, 4)
    files = (folder / "test.hdf5", folder / "train.hdf5")
    everything = svr.evaluate(image_model, shape_model, *files, chamfer_points=2000, indices=[0, 2], progress=False)
    some = svr.evaluate(image_model, shape_model, *files, chamfer_points=2000, indices=[0, 2], progress=False, methods=("network", "category_mean"))
    assert set(some) == {"network", "category_mean", "categories", "names"}  # no retrieval, no retrieved names
    assert some["names"] == everything["names"] == ["box_test_0", "box_test_2"]
    for method in ("network", "category_mean"):
        assert some[method] == everything[method]
    with pytest.raises(ValueError, match="unknown methods"):
        svr.evaluate(image_model, shape_model, *files, progress=False, methods=("nearest",))


def _sphere_autoencoder(radius: float = 0.3) -> Autoencoder:
    """A tiny autoencoder whose decoder answers "inside a sphere of ``radius``" for any z."""
    torch.manual_seed(0)
    model = Autoencoder(4, 8)
    optimizer = torch.optim.Adam(model.decoder.parameters(), lr=1e-2)
    for _ in range(300):
        points = torch.rand(8, 512, 3) - 0.5
        inside = (points.norm(dim=-1, keepdim=True) < radius).float()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model.decoder(torch.rand(8, 128), points), inside)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def test_cli_reconstructs_a_picture_into_a_valid_mesh(tmp_path):
    import trimesh

    from tutorial_lib.__main__ import main
    from tutorial_lib.training import save_checkpoint

    save_checkpoint(tmp_path / "ae.pt", _sphere_autoencoder(0.3))
    provenance.write_manifest(tmp_path / "ae.json", {"z_fingerprint": "0123456789abcdef"})
    provenance.save_weights(tmp_path / "image.pt", ImageEncoder(width=8).eval(), object_size=100, autoencoder_z="0123456789abcdef")
    picture = _square_picture("RGBA", tmp_path / "my_photo.png")
    out = tmp_path / "my_photo.obj"
    assert main(["reconstruct", str(picture), "--out", str(out), "--resolution", "32",
                 "--image-encoder", str(tmp_path / "image.pt"), "--autoencoder", str(tmp_path / "ae.pt"), "--device", "cpu"]) == 0  # fmt: skip
    mesh = trimesh.load(out, force="mesh")
    assert len(mesh.faces) > 100 and mesh.is_watertight
    radii = np.linalg.norm(mesh.vertices - mesh.vertices.mean(axis=0), axis=1)
    assert abs(np.median(radii) - 0.3) < 0.03  # the decoder's sphere, in world units


def test_saved_image_encoder_loads_back_with_its_framing(tmp_path):
    from tutorial_lib.training import CheckpointError, save_checkpoint

    model = ImageEncoder(width=8).eval()
    provenance.save_weights(tmp_path / "image.pt", model, object_size=97.5)
    loaded = shipping.load("image_encoder", QUICK, tmp_path / "image.pt", trust_unlabelled=True)
    assert loaded.config == model.config and loaded.object_size == 97.5
    images = torch.rand(3, 1, IMAGE_SIZE, IMAGE_SIZE)
    torch.testing.assert_close(svr.predict_z(loaded, images), svr.predict_z(model, images), atol=2e-3, rtol=0)  # float16 weights
    save_checkpoint(tmp_path / "ae.pt", Autoencoder(4, 8))
    with pytest.raises(CheckpointError, match="ae.pt: holds a model of class Autoencoder, not ImageEncoder"):
        shipping.load("image_encoder", QUICK, tmp_path / "ae.pt")


def test_summary_averages_per_method_and_category():
    results = {
        "categories": ["car", "car", "lamp"],
        "network": {"iou": [0.8, 0.6, 0.1], "chamfer": [0.01, 0.03, None]},
        "retrieval": {"iou": [0.5, 0.5, 0.5], "chamfer": [0.02, 0.02, 0.02]},
    }
    summary = svr.summarize(results)
    assert summary["shapes"] == 3
    assert summary["mean"]["network"] == pytest.approx({"iou": 0.5, "chamfer": 0.02, "empty": 1})
    assert summary["per_category"]["car"]["network"] == pytest.approx({"iou": 0.7, "chamfer": 0.02, "empty": 0})
    assert summary["per_category"]["lamp"]["network"] == {"iou": pytest.approx(0.1), "chamfer": None, "empty": 1}
    assert summary["per_category"]["lamp"]["retrieval"]["iou"] == pytest.approx(0.5)


def test_ship_writes_weights_manifest_and_scores_that_load_back(tmp_path, monkeypatch, box_dataset):
    import json

    from tutorial_lib.training import History

    monkeypatch.setenv("TUTORIAL_DATA", str(tmp_path))
    monkeypatch.setattr(config, "shipped_checkpoints_dir", lambda: tmp_path / "checkpoints")
    box_dataset(tmp_path / "quick", shapes=3)
    history = History()
    history.log(1, 0.5, 2.0)
    history.record = {"recipe": "fast"}
    ae_manifest = shipping.ship("autoencoder", Autoencoder(4, 4), history, QUICK, progress=False)
    history.record = {"autoencoder_z": ae_manifest["z_fingerprint"]}  # what train_svr records: the z it learned
    manifest = shipping.ship("image_encoder", ImageEncoder(width=8), history, QUICK, progress=False)

    files = shipping.paths("image_encoder", QUICK)
    assert files.weights.is_file() and files.manifest.is_file() and files.extra["evaluation"].is_file()
    assert manifest["steps"] == 1 and manifest["dataset"]["test"] == "boxes-test-0" and manifest["autoencoder_z"] == ae_manifest["z_fingerprint"]
    assert set(manifest["test_metrics"]["mean"]) == {"network", "retrieval", "category_mean"}
    assert manifest["test_metrics"]["shapes"] == 3 and manifest["summary"].startswith("test IoU at 64³ network")
    stored = json.loads(files.extra["evaluation"].read_text())
    assert stored["names"] == ["box_test_0", "box_test_1", "box_test_2"] and len(stored["network"]["iou"]) == 3
    assert svr.summarize(stored)["mean"] == manifest["test_metrics"]["mean"]
    loaded = shipping.load("image_encoder", QUICK)
    assert loaded.object_size == pytest.approx(pictures.rendering_object_size(tmp_path / "quick" / "train.hdf5"))


def test_batch_norm_statistics_are_recomputed_from_centre_crops(tmp_path, box_dataset):
    from tutorial_lib.images import center_crop

    folder = box_dataset(tmp_path / "boxes", shapes=3)
    dataset = svr.ImageCodes(folder / "train.hdf5", np.random.default_rng(0).random((3, 128)))
    model = ImageEncoder(width=8).eval()
    model.net.bn1.running_mean.fill_(100.0)  # stale statistics, as after a fast-moving training run
    before = [p.detach().clone() for p in model.parameters()]
    svr.recalibrate_image_encoder(model, dataset)  # 6 pictures: one batch holds them all
    images = torch.stack([dataset[i][0] for i in range(len(dataset))])
    with torch.no_grad():
        first_layer = model.net.conv1((center_crop(images) - 0.5) / 0.5)
    torch.testing.assert_close(model.net.bn1.running_mean, first_layer.mean(dim=(0, 2, 3)), atol=1e-5, rtol=1e-4)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # the weights do not change
    assert not model.training


def _picture_with_a_box(top=50, bottom=80, left=40, right=60, value=0.5):
    picture = torch.ones(1, 1, IMAGE_SIZE, IMAGE_SIZE)
    picture[..., top:bottom, left:right] = value
    return picture


def test_reframing_scales_the_object_to_the_asked_size_and_centres_it():
    from tutorial_lib.images import _reframe, object_box

    picture = _picture_with_a_box()  # 30 rows × 20 columns
    out = _reframe(picture, torch.tensor([45.0]), torch.tensor([1.0]), torch.tensor([[0, 0]]))
    top, bottom, left, right = object_box(out[0, 0].numpy())
    assert abs((bottom - top) - 45) <= 1 and abs((right - left) - 30) <= 1  # longer side 45, aspect kept
    assert abs((top + bottom) / 2 - IMAGE_SIZE / 2) <= 1 and abs((left + right) / 2 - IMAGE_SIZE / 2) <= 1
    assert out[0, 0, 0, 0] == 1.0  # white around it
    moved = _reframe(picture, torch.tensor([45.0]), torch.tensor([1.5]), torch.tensor([[3, -2]]))
    top2, bottom2, left2, right2 = object_box(moved[0, 0].numpy())
    assert abs((right2 - left2) - 45) <= 1 and abs((top2 - top) - 3) <= 1 and abs((left2 - left) - (-2 - 7)) <= 1  # 7: half the added width


def test_blur_of_width_zero_changes_nothing_and_blur_keeps_the_mean():
    from tutorial_lib.images import gaussian_blur

    boxes = torch.cat([_picture_with_a_box(), _picture_with_a_box(value=0.2)])
    same = gaussian_blur(boxes, torch.tensor([0.0, 0.0]))
    assert torch.allclose(same, boxes, atol=1e-6)
    blurred = gaussian_blur(boxes, torch.tensor([1.0, 0.5]))
    assert torch.allclose(blurred.mean((2, 3)), boxes.mean((2, 3)), atol=1e-4) and not torch.allclose(blurred, boxes)


def test_randomised_pictures_are_deterministic_from_a_seed_and_keep_the_object(monkeypatch):
    from tutorial_lib import images

    pictures = torch.cat([_picture_with_a_box(), _picture_with_a_box(30, 60, 70, 120, 0.3)] * 4)
    first = images.randomise_pictures(pictures, 45.0, torch.Generator().manual_seed(1))
    again = images.randomise_pictures(pictures, 45.0, torch.Generator().manual_seed(1))
    other = images.randomise_pictures(pictures, 45.0, torch.Generator().manual_seed(2))
    assert first.shape == pictures.shape and torch.equal(first, again) and not torch.equal(first, other)
    assert 0.0 <= first.min() and first.max() <= 1.0
    # Without blur, noise and JPEG, every picture is reframed to about 45 pixels and the background is a light shade.
    for key, value in {"reframe_probability": 1.0, "blur_probability": 0.0, "noise": (0.0, 0.0), "jpeg_probability": 0.0}.items():
        monkeypatch.setitem(images.RANDOMISATION, key, value)
    reframed = images.randomise_pictures(pictures, 45.0, torch.Generator().manual_seed(3))
    for picture in reframed[:, 0]:
        top, bottom, left, right = images.object_box(picture.numpy())
        assert 0.85 * 45 - 1 <= max(bottom - top, right - left) <= 1.15 * 45 * 1.07 + 1
        assert picture[0, 0] == 1.0  # outside the object's box: white, as load_image frames a photo
    monkeypatch.setitem(images.RANDOMISATION, "reframe_probability", 0.0)
    kept = images.randomise_pictures(pictures, 45.0, torch.Generator().manual_seed(3))
    assert torch.equal(kept < images.BACKGROUND_THRESHOLD, pictures < images.BACKGROUND_THRESHOLD)  # the same pixels are the object
    assert ((kept[:, 0, 0, 0] >= 0.965) & (kept[:, 0, 0, 0] <= 1.0)).all()


def test_randomised_loss_trains_like_the_plain_one():
    torch.manual_seed(0)
    model = ImageEncoder(width=8)
    images, codes = torch.cat([_picture_with_a_box()] * 4), torch.rand(4, 128)
    loss = svr.randomised_z_loss(40.0)(model, (images, codes))
    loss.backward()
    assert loss.item() > 0 and all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
