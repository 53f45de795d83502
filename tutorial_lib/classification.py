"""Naming the category of a rendering: labelled images, predictions, confusion matrices.

* :class:`CategoryImages` – (image, category label) pairs from a split file, ``views`` per shape
  (the 128×128 crops the networks read are in :mod:`tutorial_lib.images`).
* :func:`predict` – a classifier's labels and probabilities for a whole dataset, in batches.
* :func:`confusion_matrix`, :func:`plot_confusion_matrix` – which category is taken for which.
* :func:`train_classifier`, :func:`evaluate_classifier`, :func:`shipped_manifest` – the shipped
  category classifier (a ResNet-18, :class:`~tutorial_lib.models.CategoryResNet`) that notebook
  06 dreams with; CLI ``python -m tutorial_lib train classifier``. It is loaded, trained where
  missing and shipped by :mod:`tutorial_lib.shipping` (``shipping.load("classifier", profile)``).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import config, data
from .config import Profile
from .data import ImageDataset
from .images import augment, center_crop
from .models import CategoryResNet
from .shapes import CATEGORIES
from .training import EpochBatches, RunOptions, cosine_schedule, recalibrate_batch_norm, train


class CategoryImages:
    """(image, label) pairs: the first ``views`` renderings of every shape of a split file.

    ``label`` is the index of the shape's category in ``class_names`` (by default the 13
    categories in :data:`tutorial_lib.shapes.CATEGORIES`, so train and test agree on the
    numbering). ``transform`` (e.g. :func:`center_crop`) is applied to each image
    ``[1, 137, 137]`` in [0, 1]. ``shape_of(i)`` and ``view_of(i)`` say where item ``i`` comes from.
    """

    def __init__(self, path: str | Path, views: int | None = None, transform=None, class_names=CATEGORIES):
        self.images = ImageDataset(path, views="all", transform=transform)
        self.class_names = list(class_names)
        unknown = sorted(set(self.images.categories) - set(self.class_names))
        if unknown:
            raise ValueError(f"{path}: categories {unknown} are not among the class names {self.class_names}")
        lookup = {name: i for i, name in enumerate(self.class_names)}
        self.shape_labels = np.array([lookup[c] for c in self.images.categories], dtype=np.int64)
        self.views_available = len(self.images.view_ids)
        self.views = self.views_available if views is None else int(views)
        if not 1 <= self.views <= self.views_available:
            raise ValueError(f"{path}: views must be between 1 and {self.views_available}, got {views}")
        self.labels = np.repeat(self.shape_labels, self.views)  # the label of every item, in item order

    @property
    def names(self) -> list[str]:
        """The shapes' names (one per shape, not per item)."""
        return self.images.names

    def shape_of(self, index: int) -> int:
        return index // self.views

    def view_of(self, index: int) -> int:
        return index % self.views

    def __len__(self) -> int:
        return len(self.shape_labels) * self.views

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"item {index} of {len(self)}")
        shape, view = divmod(index, self.views)
        image, _ = self.images[shape * self.views_available + view]
        return image, int(self.shape_labels[shape])


@torch.no_grad()
def predict(model: torch.nn.Module, dataset, batch_size: int = 128, device: str | torch.device = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """The model's predicted label and softmax probabilities ``[N, classes]`` for every item of
    a dataset of (image, label) pairs, in eval mode."""
    was_training = model.training
    model.eval()
    probabilities = []
    try:
        for start in range(0, len(dataset), batch_size):
            images = torch.stack([dataset[i][0] for i in range(start, min(start + batch_size, len(dataset)))])
            probabilities.append(torch.softmax(model(images.to(device)), dim=1).cpu())
    finally:
        model.train(was_training)
    probabilities = torch.cat(probabilities).numpy()
    return probabilities.argmax(axis=1), probabilities


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """``matrix[i, j]`` = how many items of class ``i`` were predicted as class ``j``.

    Rows are the true classes, columns the predictions; the diagonal counts the correct ones.
    """
    true, predicted = np.asarray(true, dtype=np.int64).ravel(), np.asarray(predicted, dtype=np.int64).ravel()
    if true.shape != predicted.shape:
        raise ValueError(f"{true.size} true labels but {predicted.size} predictions")
    for name, labels in (("true", true), ("predicted", predicted)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} labels must lie in [0, {num_classes - 1}], found {labels.min()}..{labels.max()}")
    return np.bincount(true * num_classes + predicted, minlength=num_classes**2).reshape(num_classes, num_classes)


def plot_confusion_matrix(matrix: np.ndarray, class_names: list[str], ax=None, title: str | None = None):
    """The confusion matrix as an image: each row as fractions of its true class (colour),
    with the counts written in the non-empty cells. Returns the axes."""
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    n = len(class_names)
    if matrix.shape != (n, n):
        raise ValueError(f"a {matrix.shape} matrix for {n} class names")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * n + 2, 0.5 * n + 1.5))
    fractions = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
    for i, j in zip(*np.nonzero(matrix)):
        ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7, color="white" if fractions[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), class_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), class_names, fontsize=8)
    ax.set(xlabel="predicted category", ylabel="true category")
    if title:
        ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true category")
    return ax


# --------------------------------------------------------------------------------------------
# The shipped category classifier (a ResNet-18 on the renderings)
# --------------------------------------------------------------------------------------------


def adversarial_pictures(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, epsilon: float, steps: int = 3) -> torch.Tensor:
    """The pictures within an L2 distance ``epsilon`` of ``images`` that the model gets most wrong.

    Projected gradient ascent on the cross-entropy (Madry et al. 2018): ``steps`` steps of
    length ``2.5 epsilon / steps`` along the normalised gradient, each projected back onto the
    ball of radius ``epsilon`` around the picture and onto the grey range [0, 1]. ``epsilon`` is
    in grey levels times pixels: 1.0 on a 128×128 crop is a root-mean-square change of 1/128
    per pixel, invisible to a person. Training on such pictures (adversarial training) makes
    the classifier's gradient with respect to the picture point at changes a person can see,
    which is what a class visualisation follows (Santurkar et al. 2019).
    """
    delta = torch.zeros_like(images)
    step_length = 2.5 * epsilon / steps
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model((images + delta).clamp(0.0, 1.0)), labels)
        (gradient,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            delta = delta + step_length * gradient / (gradient.flatten(1).norm(dim=1).view(-1, 1, 1, 1) + 1e-12)
            norm = delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
            delta = delta * (epsilon / norm.clamp_min(epsilon))  # back onto the ball
            delta = (images + delta).clamp(0.0, 1.0) - images
    return (images + delta).detach()


def cross_entropy_on_augmented_crops(model: torch.nn.Module, batch, adversarial_epsilon: float = 0.0, adversarial_steps: int = 3):
    """Cross-entropy of a batch of 137×137 renderings, randomly cropped to 128×128 and flipped
    (:func:`tutorial_lib.images.augment`), with the batch's accuracy logged; for :func:`training.train`.

    With ``adversarial_epsilon`` the crops are first replaced by :func:`adversarial_pictures`
    (adversarial training); the logged accuracy is then the accuracy on those pictures.
    """
    images, labels, *attack = batch  # a third entry (one flag per picture, _AdversarialFrom) says which pictures to attack
    crops = augment(images)
    if adversarial_epsilon and (not attack or bool(attack[0].all())):
        crops = adversarial_pictures(model, crops, labels, adversarial_epsilon, adversarial_steps)
    logits = model(crops)
    return F.cross_entropy(logits, labels), {"accuracy": (logits.argmax(dim=1) == labels).float().mean()}


def make_classifier(profile: Profile, num_classes: int = len(CATEGORIES)) -> CategoryResNet:
    """The category classifier at the width of a profile (``full``: torchvision's ResNet-18)."""
    return CategoryResNet(num_classes=num_classes, width=profile.classifier.width)


def train_classifier(profile: Profile, run: RunOptions, model: torch.nn.Module | None = None, folder: str | Path | None = None,
                     adversarial_epsilon: float | None = None):  # fmt: skip
    """Train the profile's category classifier on every view of the training split.

    Cross-entropy on random 128×128 crops with random horizontal flips, Adam with a cosine
    decay to 1% of the profile's learning rate, on the shared training loop (progress bar,
    exact resume from ``run.checkpoint``). With ``run.evaluate_every``, the accuracy on two views
    of every test shape is logged as ``test_accuracy``. The returned model's batch-norm
    statistics are recomputed for its final weights (:func:`tutorial_lib.training.recalibrate_batch_norm`).
    ``folder`` holds the split files (default: the profile's dataset, built on first use);
    ``adversarial_epsilon`` replaces the profile's (0.0: a plain classifier). Returns ``(model, history)``.
    """
    settings = profile.classifier
    if adversarial_epsilon is not None:  # e.g. 0.0: a plain classifier, to compare its dreams with the shipped one's
        settings = replace(settings, adversarial_epsilon=adversarial_epsilon)
    run = run.with_default_steps(settings.steps)
    folder = Path(folder) if folder is not None else data.ensure_dataset(profile, progress=run.progress)
    train_file = data.split_path(folder, "train")
    train_images = CategoryImages(train_file)
    config.seed_everything(run.seed)
    model = model if model is not None else make_classifier(profile)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    calibration = _CentreCropBatches(EpochBatches(train_images, 64, run.seed + 1))
    evaluate = None
    if run.evaluate_every:
        test_images = CategoryImages(data.split_path(folder, "test"), transform=center_crop)
        monitor = torch.utils.data.Subset(test_images, [i for i in range(len(test_images)) if test_images.view_of(i) < 2])

        def evaluate(m):
            recalibrate_batch_norm(m, calibration, steps=5, device=run.device)
            predicted, _ = predict(m, monitor, device=run.device)
            return {"test_accuracy": float((predicted == test_images.labels[monitor.indices]).mean())}

    loss_fn = functools.partial(cross_entropy_on_augmented_crops, adversarial_epsilon=settings.adversarial_epsilon,
                                adversarial_steps=settings.adversarial_steps)  # fmt: skip
    batches = _AdversarialFrom(EpochBatches(train_images, settings.batch_size, run.seed), settings.adversarial_from_step)
    record = {"model": "classifier", "steps": run.steps, "settings": asdict(settings), "architecture": dict(model.config),
              "dataset": data.read_attrs(train_file).get("fingerprint")}  # fmt: skip
    history = train(model, optimizer, loss_fn, batches, run, scheduler=cosine_schedule(optimizer, run.steps), evaluate=evaluate,
                    description="classifier", record=record)  # fmt: skip
    recalibrate_batch_norm(model, calibration, steps=min(30, calibration.batches.per_epoch), device=run.device)  # 1,920 centre crops
    return model.eval(), history


class _AdversarialFrom:
    """``batches(step)`` with a third entry: one flag per picture, true from step ``first_step`` on.

    The loss attacks the pictures of flagged batches only, so a run learns the categories on
    plain pictures first and resists adversarial ones after (the cheaper way to a robust
    classifier: adversarial steps cost ``adversarial_steps + 1`` times a plain one).
    """

    def __init__(self, batches, first_step: int):
        self.batches = batches
        self.first_step = first_step

    def __call__(self, step: int):
        images, labels = self.batches(step)
        return images, labels, torch.full((len(labels),), step >= self.first_step)


class _CentreCropBatches:
    """``batches(step)`` of centre crops, as the classifier sees pictures at test time."""

    def __init__(self, batches):
        self.batches = batches

    def __call__(self, step: int):
        images, labels = self.batches(step)
        return center_crop(images), labels


def evaluate_classifier(model: torch.nn.Module, test_file: str | Path, device: str | torch.device = "cpu", adversarial_epsilon: float = 0.0) -> dict:
    """Accuracy on every view of every shape of a split (centre crops): overall, per category, and the confusion matrix.

    With ``adversarial_epsilon``, also ``adversarial_accuracy``: the accuracy on the
    :func:`adversarial_pictures` of radius ``adversarial_epsilon`` of view 0 of every shape.
    """
    images = CategoryImages(test_file, transform=center_crop)
    predicted, _ = predict(model, images, device=device)
    matrix = confusion_matrix(images.labels, predicted, len(images.class_names))
    per_category = {name: float(matrix[i, i] / max(matrix[i].sum(), 1)) for i, name in enumerate(images.class_names) if matrix[i].sum()}
    scores = {"accuracy": float(np.trace(matrix) / matrix.sum()), "per_category": per_category, "images": int(matrix.sum()),
              "confusion_matrix": matrix.tolist()}  # fmt: skip
    if adversarial_epsilon:
        model.eval()
        first_views = [i for i in range(len(images)) if images.view_of(i) == 0]
        pictures = torch.stack([images[i][0] for i in first_views]).to(device)
        labels = torch.as_tensor(images.labels[first_views], device=device)
        correct = 0
        for start in range(0, len(first_views), 64):
            attacked = adversarial_pictures(model, pictures[start : start + 64], labels[start : start + 64], adversarial_epsilon, steps=10)
            with torch.no_grad():
                correct += int((model(attacked).argmax(dim=1) == labels[start : start + 64]).sum())
        scores["adversarial_accuracy"] = {
            "epsilon": adversarial_epsilon,
            "attack_steps": 10,
            "images": len(first_views),
            "accuracy": correct / len(first_views),
        }
    return scores


def to_ship(model: torch.nn.Module, profile: Profile):
    """The classifier's weights file names its outputs (``class_names``)."""
    return model, {"class_names": list(CATEGORIES)}


def shipped_manifest(model: torch.nn.Module, history, profile: Profile, device, files, progress: bool = True) -> dict:
    """The classifier's part of shipping: the test accuracy of the shipped weights (overall, per
    category, on adversarial pictures) and the confusion matrix."""
    settings = profile.classifier
    scores = evaluate_classifier(model, data.split_path(data.dataset_dir(profile), "test"), device=device,
                                 adversarial_epsilon=settings.adversarial_epsilon)  # fmt: skip
    return {
        "recipe": "cross-entropy on random 128×128 crops and flips of every training view; "
                  + (f"from step {settings.adversarial_from_step} on, adversarial training (L2 radius {settings.adversarial_epsilon}, "
                     f"{settings.adversarial_steps} steps); " if settings.adversarial_epsilon else "")
                  + "Adam, cosine decay to 1%; batch-norm statistics recomputed on centre crops at the end",
        "architecture": model.config, "class_names": model.class_names,
        "settings": asdict(settings),
        "test_metrics": scores,
        "final_training_loss": float(np.mean(history.loss[-50:])) if history is not None and history.loss else None,
        "summary": f"test accuracy {scores['accuracy']:.4f} on {scores['images']} views",
    }  # fmt: skip
