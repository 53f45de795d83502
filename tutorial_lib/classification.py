"""Naming the category of a rendering: crops, labelled images, predictions, confusion matrices.

* :func:`center_crop`, :func:`random_crop` – the 128×128 crop of a 137×137 rendering that the
  image networks read (central for testing, random for training: a small shift as augmentation).
* :class:`CategoryImages` – (image, category label) pairs from a split file, ``views`` per shape.
* :func:`recalibrate_batch_norm` – batch-norm statistics that fit the final weights.
* :func:`predict` – a classifier's labels and probabilities for a whole dataset, in batches.
* :func:`confusion_matrix`, :func:`plot_confusion_matrix` – which category is taken for which.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .config import CROP_SIZE
from .data import ImageDataset
from .shapes import CATEGORIES


def center_crop(image: torch.Tensor, size: int = CROP_SIZE) -> torch.Tensor:
    """The central ``size``×``size`` window of an image ``[..., H, W]``.

    When ``H - size`` is odd the extra row (column) is dropped at the bottom (right): for
    137 → 128 the window starts at row and column 4.
    """
    height, width = image.shape[-2:]
    if size > height or size > width:
        raise ValueError(f"cannot crop {size}×{size} out of an image of {height}×{width}")
    top, left = (height - size) // 2, (width - size) // 2
    return image[..., top : top + size, left : left + size]


def random_crop(image: torch.Tensor, size: int = CROP_SIZE, generator: torch.Generator | None = None) -> torch.Tensor:
    """A ``size``×``size`` window at a uniformly random position of an image ``[..., H, W]``.

    Uses torch's global generator unless one is given: the training loop seeds it per step,
    so the crops of a step are the same in a resumed run.
    """
    height, width = image.shape[-2:]
    if size > height or size > width:
        raise ValueError(f"cannot crop {size}×{size} out of an image of {height}×{width}")
    top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
    return image[..., top : top + size, left : left + size]


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
def recalibrate_batch_norm(model: torch.nn.Module, batches, steps: int = 10, device: str | torch.device = "cpu") -> int:
    """Recompute the running mean and variance of every batch-norm layer for the current weights.

    In training mode a batch-norm layer normalises with the statistics of the batch; in eval
    mode it uses running averages that it kept during training, mostly over the last ~10
    batches (momentum 0.1). While the weights still change quickly, those averages lag behind
    them, and a network that is right in training mode can be badly wrong in eval mode. This
    runs ``steps`` batches (``batches(step)`` → ``(images, ...)``, as :class:`~tutorial_lib.training.EpochBatches`
    gives) through the network without learning and sets the running statistics to their
    plain average. Nothing else changes. Returns the number of batch-norm layers.
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return 0
    modes = {m: m.training for m in model.modules()}
    momenta = [m.momentum for m in norms]
    try:
        model.eval()  # everything else (e.g. dropout) as at test time
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None  # None: a cumulative average over all batches seen from now on
            norm.train()
        for step in range(steps):
            batch = batches(step)
            images = batch[0] if isinstance(batch, (tuple, list)) else batch
            model(images.to(device))
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
        for module, mode in modes.items():
            module.training = mode
    return len(norms)


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
