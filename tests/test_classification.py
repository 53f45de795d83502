import functools
from dataclasses import replace

import h5py
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from tutorial_lib import classification, shipping
from tutorial_lib import images as pictures
from tutorial_lib.config import CROP_SIZE, IMAGE_SIZE
from tutorial_lib.training import RunOptions, recalibrate_batch_norm


@pytest.fixture
def numbered_image():
    """A 1×137×137 image whose pixel (r, c) holds r * 1000 + c: a crop says where it came from."""
    rows, cols = np.meshgrid(np.arange(IMAGE_SIZE), np.arange(IMAGE_SIZE), indexing="ij")
    return torch.from_numpy((rows * 1000 + cols).astype(np.float32))[None]


@pytest.fixture
def tiny_split(tmp_path):
    """A split file with 3 shapes × 4 views; pixel values encode (shape, view): 10 * shape + view."""
    path = tmp_path / "tiny.hdf5"
    pixels = np.zeros((3, 4, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    for shape in range(3):
        for view in range(4):
            pixels[shape, view] = 10 * shape + view
    with h5py.File(path, "w") as f:
        f["pixels"] = pixels
        f.create_dataset("names", data=np.array(["a_0", "b_0", "a_1"], dtype=object), dtype=h5py.string_dtype())
        f.create_dataset("categories", data=np.array(["lamp", "airplane", "lamp"], dtype=object), dtype=h5py.string_dtype())
    return path


def test_center_crop_of_137_starts_at_4(numbered_image):
    crop = pictures.center_crop(numbered_image)
    assert crop.shape == (1, CROP_SIZE, CROP_SIZE)
    assert crop[0, 0, 0] == 4 * 1000 + 4  # (137 - 128) // 2 = 4
    assert crop[0, -1, -1] == 131 * 1000 + 131


def test_center_crop_of_an_even_margin_is_symmetric():
    image = torch.arange(36.0).reshape(6, 6)
    assert torch.equal(pictures.center_crop(image, 2), torch.tensor([[14.0, 15.0], [20.0, 21.0]]))


def test_random_crop_stays_inside_and_is_reproducible(numbered_image):
    corners = set()
    for seed in range(200):
        crop = pictures.random_crop(numbered_image, generator=torch.Generator().manual_seed(seed))
        assert crop.shape == (1, CROP_SIZE, CROP_SIZE)
        top, left = divmod(int(crop[0, 0, 0]), 1000)
        assert 0 <= top <= IMAGE_SIZE - CROP_SIZE and 0 <= left <= IMAGE_SIZE - CROP_SIZE
        corners.add((top, left))
    assert len(corners) > 50  # 100 possible positions: the crops really move
    a = pictures.random_crop(numbered_image, generator=torch.Generator().manual_seed(7))
    b = pictures.random_crop(numbered_image, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_crops_larger_than_the_image_are_refused(numbered_image):
    with pytest.raises(ValueError, match="cannot crop"):
        pictures.center_crop(numbered_image, 200)
    with pytest.raises(ValueError, match="cannot crop"):
        pictures.random_crop(numbered_image, 138)


def test_category_images_pick_the_first_views_and_label_by_category(tiny_split):
    images = classification.CategoryImages(tiny_split, views=2, transform=pictures.center_crop)
    assert len(images) == 6
    assert images.class_names.index("lamp") == 6 and images.class_names.index("airplane") == 0
    assert images.labels.tolist() == [6, 6, 0, 0, 6, 6]
    for index in range(len(images)):
        image, label = images[index]
        shape, view = images.shape_of(index), images.view_of(index)
        assert image.shape == (1, CROP_SIZE, CROP_SIZE)
        assert torch.allclose(image, torch.full_like(image, (10 * shape + view) / 255))
        assert label == images.labels[index]
    assert (images.shape_of(5), images.view_of(5)) == (2, 1)
    with pytest.raises(IndexError):
        images[6]


def test_category_images_default_to_every_view_and_check_their_arguments(tiny_split):
    assert len(classification.CategoryImages(tiny_split)) == 12
    with pytest.raises(ValueError, match="views"):
        classification.CategoryImages(tiny_split, views=5)
    with pytest.raises(ValueError, match="lamp"):
        classification.CategoryImages(tiny_split, class_names=["airplane"])


def test_recalibrate_batch_norm_sets_the_exact_statistics_of_the_batches():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1, bias=False), torch.nn.BatchNorm2d(2), torch.nn.Dropout(0.5))
    with torch.no_grad():
        model[0].weight[:] = torch.tensor([1.0, -2.0]).reshape(2, 1, 1, 1)
    model[1].running_mean.fill_(5.0)  # stale statistics, as after a fast-changing training run
    images = torch.arange(16.0).reshape(4, 1, 2, 2)
    batches = [(images[:2], None), (images[2:], None)]
    model.train()
    recalibrate_batch_norm(model, lambda step: batches[step], steps=2)
    # With equal-sized batches the cumulative average of the batch means is the overall mean;
    # the variance is the average of the batches' unbiased variances.
    assert torch.allclose(model[1].running_mean, torch.tensor([7.5, -15.0]))
    batch_variance = torch.stack([b[0].var() for b in batches]).mean()
    assert torch.allclose(model[1].running_var, torch.tensor([1.0, 4.0]) * batch_variance)
    assert model[1].momentum == 0.1 and model.training and model[1].training and model[2].training  # modes given back
    linear = torch.nn.Linear(2, 2)
    before = [p.clone() for p in linear.parameters()]
    recalibrate_batch_norm(linear, lambda step: torch.zeros(1, 2))  # no batch norm: nothing to do, nothing changes
    assert all(torch.equal(a, b) for a, b in zip(before, linear.parameters()))


def test_predict_returns_the_argmax_and_probabilities():
    class Fixed(torch.nn.Module):
        """Scores 0 and the image's mean for class 0 and 1: bright images are class 1."""

        def forward(self, images):
            mean = images.mean(dim=(1, 2, 3))
            return torch.stack([torch.zeros_like(mean), mean - 0.5], dim=1)

    dataset = [(torch.full((1, 4, 4), value), 0) for value in (0.0, 1.0, 0.2, 0.9, 0.5)]
    model = Fixed().train()
    labels, probabilities = classification.predict(model, dataset, batch_size=2)
    assert labels.tolist() == [0, 1, 0, 1, 0]  # 0.5 is a tie: argmax takes the first class
    assert probabilities.shape == (5, 2)
    assert np.allclose(probabilities.sum(axis=1), 1)
    assert np.isclose(probabilities[1, 1], 1 / (1 + np.exp(-0.5)))
    assert model.training  # the model's mode is given back


def test_confusion_matrix_of_a_known_prediction():
    true = [0, 0, 1, 1, 1, 2]
    predicted = [0, 1, 1, 1, 2, 0]
    expected = np.array([[1, 1, 0], [0, 2, 1], [1, 0, 0]])
    matrix = classification.confusion_matrix(true, predicted, 3)
    assert np.array_equal(matrix, expected)
    assert matrix.sum() == 6 and np.trace(matrix) == 3  # accuracy 3 / 6


def test_confusion_matrix_refuses_bad_labels():
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        classification.confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match="predictions"):
        classification.confusion_matrix([0, 1], [0], 3)


def test_plot_confusion_matrix_shows_row_fractions():
    matrix = np.array([[3, 1], [0, 0]])
    ax = classification.plot_confusion_matrix(matrix, ["a", "b"])
    shown = ax.images[0].get_array()
    assert np.allclose(shown, [[0.75, 0.25], [0, 0]])  # an empty row stays 0, not NaN
    assert sorted(t.get_text() for t in ax.texts) == ["1", "3"]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="class names"):
        classification.plot_confusion_matrix(matrix, ["a", "b", "c"])


# --------------------------------------------------------------------------------------------
# The shipped category classifier's recipe
# --------------------------------------------------------------------------------------------


def test_category_resnet_gives_one_logit_per_class():
    from tutorial_lib.models import CategoryResNet, build_model

    model = CategoryResNet(num_classes=13, width=8)
    assert model(torch.rand(2, 1, CROP_SIZE, CROP_SIZE)).shape == (2, 13)
    assert isinstance(build_model({"class": "CategoryResNet", "config": model.config}), CategoryResNet)


def test_classifier_learns_a_one_category_split_and_ships_what_it_scores(tmp_path, monkeypatch, box_dataset):
    """Every box of the fixture is a "chair": a few steps teach the network to answer chair,
    so the shipped (float16) weights score 100% and the manifest says so for that category only."""
    from tutorial_lib import config, provenance
    from tutorial_lib.models import CategoryResNet

    monkeypatch.setenv("TUTORIAL_DATA", str(tmp_path))
    monkeypatch.setattr(config, "shipped_checkpoints_dir", lambda: tmp_path / "checkpoints")
    box_dataset(tmp_path / "quick", shapes=3)
    profile = config.get_profile("quick")
    config.seed_everything(0)
    model, history = classification.train_classifier(profile, RunOptions(steps=20, progress=False), model=CategoryResNet(width=8),
                                                     folder=tmp_path / "quick")  # fmt: skip
    assert history.step[-1] == 20 and not model.training
    assert np.mean(history.loss[-5:]) < history.loss[0]  # the loss falls

    manifest = shipping.ship("classifier", model, history, profile)
    files = shipping.paths("classifier", profile)
    assert files.weights.is_file() and files.manifest.is_file()
    assert manifest["test_metrics"]["accuracy"] == 1.0 and manifest["test_metrics"]["per_category"] == {"chair": 1.0}
    assert manifest["test_metrics"]["images"] == 6  # 3 test shapes × 2 views
    assert manifest["dataset"] == {"train": "boxes-train-0", "test": "boxes-test-0", "builder": None} and manifest["steps"] == 20
    assert provenance.read_manifest(files.manifest) == manifest
    loaded = shipping.load("classifier", profile)
    assert loaded.class_names[classification.CATEGORIES.index("chair")] == "chair"
    images = torch.rand(2, 1, CROP_SIZE, CROP_SIZE)
    half = CategoryResNet(width=8)
    half.load_state_dict({k: v.half().float() if v.is_floating_point() else v for k, v in model.state_dict().items()})
    torch.testing.assert_close(loaded(images), half.eval()(images))  # the file holds the float16-rounded weights


def test_cli_trains_and_resumes_a_classifier(tmp_path, monkeypatch, box_dataset, capsys):
    from tutorial_lib import config, data
    from tutorial_lib.__main__ import main

    monkeypatch.setenv("TUTORIAL_DATA", str(tmp_path))
    monkeypatch.setattr(config, "PROFILES", {**config.PROFILES, "quick": replace(config.PROFILES["quick"], classifier=config.ClassifierSettings(width=8))})
    folder = box_dataset(tmp_path / "quick", shapes=2)
    monkeypatch.setattr(data, "ensure_dataset", lambda profile, progress=True: folder)
    checkpoint = tmp_path / "run.pt"
    # Ctrl-C at step 2 (here from the loop's callback): the checkpoint is saved, and the same command continues.
    from tutorial_lib import training

    def ctrl_c_at_step_2(history, step):
        if step == 2:
            raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(training, "RunOptions", functools.partial(training.RunOptions, callback=ctrl_c_at_step_2, callback_every=1))
        assert main(["train", "classifier", "--steps", "4", "--device", "cpu", "--checkpoint", str(checkpoint)]) == 130
    assert "interrupted at step 2; checkpoint saved" in capsys.readouterr().err
    assert main(["train", "classifier", "--steps", "4", "--device", "cpu", "--checkpoint", str(checkpoint)]) == 0
    assert "4 steps" in capsys.readouterr().out
    assert main(["train", "classifier", "--steps", "6", "--device", "cpu", "--checkpoint", str(checkpoint)]) == 1  # another schedule: refused
    assert "started with other settings (steps=4; now steps=6)" in capsys.readouterr().err


def test_adversarial_pictures_of_a_linear_classifier_step_along_the_weight_difference():
    """For two linear class scores the worst change within an L2 ball is epsilon times the unit
    vector from the true class's weights to the other's (the gradient's direction never changes)."""
    from tutorial_lib.classification import adversarial_pictures

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(36, 2))
    images = torch.full((3, 1, 6, 6), 0.5)
    labels = torch.tensor([0, 1, 0])
    epsilon = 0.3
    changed = adversarial_pictures(model, images, labels, epsilon, steps=4)
    w = model[1].weight.detach()
    for picture, label in zip(changed - images, labels.tolist()):
        direction = (w[1 - label] - w[label]) / (w[1 - label] - w[label]).norm()
        torch.testing.assert_close(picture.flatten(), epsilon * direction, atol=1e-5, rtol=1e-4)
    losses = torch.nn.functional.cross_entropy(model(changed), labels, reduction="none")
    assert (losses > torch.nn.functional.cross_entropy(model(images), labels, reduction="none")).all()


def test_adversarial_pictures_stay_in_the_grey_range():
    from tutorial_lib.classification import adversarial_pictures

    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    images = torch.rand(4, 1, 4, 4).round()  # black and white pixels: any push outward is clamped
    changed = adversarial_pictures(model, images, torch.tensor([0, 1, 2, 0]), epsilon=5.0, steps=3)
    assert changed.min() >= 0.0 and changed.max() <= 1.0
    assert ((changed - images).flatten(1).norm(dim=1) <= 5.0 + 1e-5).all()


def test_adversarial_training_starts_at_its_step():
    """Before ``adversarial_from_step`` the loss is the plain loss of the batch; from it on, the loss of attacked pictures (higher)."""
    from tutorial_lib.classification import _AdversarialFrom, cross_entropy_on_augmented_crops

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(128 * 128, 3))
    images, labels = torch.rand(4, 1, 137, 137), torch.tensor([0, 1, 2, 0])
    batches = _AdversarialFrom(lambda step: (images, labels), first_step=5)
    losses = {}
    for step in (4, 5):
        for name, batch in (("plain", (images, labels)), ("scheduled", batches(step))):
            torch.manual_seed(1)  # the same crops and flips
            losses[name, step] = float(cross_entropy_on_augmented_crops(model, batch, adversarial_epsilon=2.0)[0])
    torch.manual_seed(1)
    clean = float(cross_entropy_on_augmented_crops(model, (images, labels))[0])
    assert losses["scheduled", 4] == pytest.approx(clean)  # flagged off: no attack
    assert losses["scheduled", 5] == pytest.approx(losses["plain", 5]) and losses["plain", 5] > clean  # attacked
