"""Voxel scores: a prediction against the truth, cell by cell.

The talk's "Accuracy measures" slide: :func:`confusion` (TP, FP, FN, TN), :func:`mse`,
:func:`precision`, :func:`recall`, :func:`f1_score`, :func:`iou` and :func:`voxel_metrics`
(all at once). They work on whole grids or on point/value samples (any two arrays of the same
shape). Probabilities are turned into inside/outside with ``value >= 0.5`` (the level marching
cubes uses). Scores whose denominator is zero are defined so that "nothing predicted, nothing
there" is perfect and "nothing predicted, something there" scores zero:

=============  ==========================  =========================================
score          formula                     when the denominator is 0
=============  ==========================  =========================================
precision      TP / (TP + FP)              1.0 if the truth is empty too (FN = 0), else 0.0
recall         TP / (TP + FN)              1.0 if the prediction is empty too (FP = 0), else 0.0
F1             2 P R / (P + R)             0.0 (P = R = 0); both empty gives P = R = 1, F1 = 1
IoU            TP / (TP + FP + FN)         1.0 (both empty)
=============  ==========================  =========================================

Thin parts (chair legs, lamp stems, rifles) are a small share of a shape's voxels, so a
prediction that drops them all can still have a high IoU. :func:`thin_voxels` marks the thin
voxels of a solid, and :func:`thin_part_recall` is the share of them that a prediction keeps.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: Probabilities at or above this count as "inside" (the level of :func:`geometry.marching_cubes`).
THRESHOLD = 0.5


class Confusion(NamedTuple):
    """The talk's table: counts of true/false positives and negatives, with the scores made of them."""

    tp: int  # predicted inside, truly inside
    fp: int  # predicted inside, truly outside
    fn: int  # predicted outside, truly inside
    tn: int  # predicted outside, truly outside

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.total if self.total else 1.0

    @property
    def precision(self) -> float:
        if self.tp + self.fp == 0:
            return 1.0 if self.fn == 0 else 0.0
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        if self.tp + self.fn == 0:
            return 1.0 if self.fp == 0 else 0.0
        return self.tp / (self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    @property
    def iou(self) -> float:
        union = self.tp + self.fp + self.fn
        return self.tp / union if union else 1.0


def _pair(predicted, truth) -> tuple[np.ndarray, np.ndarray]:
    predicted, truth = np.asarray(predicted), np.asarray(truth)
    if predicted.shape != truth.shape:
        # IM-NET's voxels carry a trailing channel axis of 1; allow that difference only.
        if predicted.squeeze().shape == truth.squeeze().shape:
            predicted, truth = predicted.squeeze(), truth.squeeze()
        else:
            raise ValueError(f"prediction {predicted.shape} and truth {truth.shape} must have the same shape")
    return predicted, truth


def _inside(values: np.ndarray, threshold: float) -> np.ndarray:
    return values if values.dtype == bool else values >= threshold


def confusion(predicted, truth, threshold: float = THRESHOLD) -> Confusion:
    """TP, FP, FN, TN of a prediction against the truth: voxel grids or point/value samples.

    Both may be boolean or numbers (probabilities, 0/1 bytes); numbers count as inside when
    ``>= threshold``.
    """
    predicted, truth = _pair(predicted, truth)
    p, t = _inside(predicted, threshold).ravel(), _inside(truth, threshold).ravel()
    tp = int(np.count_nonzero(p & t))
    fp = int(np.count_nonzero(p)) - tp
    fn = int(np.count_nonzero(t)) - tp
    return Confusion(tp, fp, fn, p.size - tp - fp - fn)


def mse(predicted, truth) -> float:
    """Mean squared error between predicted values (probabilities or 0/1) and the true 0/1 values.

    IM-NET's training loss. For 0/1 predictions it equals (FP + FN) / total.
    """
    predicted, truth = _pair(predicted, truth)
    difference = predicted.astype(np.float64) - truth.astype(np.float64)
    return float(np.mean(difference**2)) if difference.size else 0.0


def precision(predicted, truth, threshold: float = THRESHOLD) -> float:
    """TP / (TP + FP): the share of the voxels predicted inside that are inside."""
    return confusion(predicted, truth, threshold).precision


def recall(predicted, truth, threshold: float = THRESHOLD) -> float:
    """TP / (TP + FN): the share of the true inside voxels that were found."""
    return confusion(predicted, truth, threshold).recall


def f1_score(predicted, truth, threshold: float = THRESHOLD) -> float:
    """The harmonic mean of precision and recall."""
    return confusion(predicted, truth, threshold).f1


def iou(predicted, truth, threshold: float = THRESHOLD) -> float:
    """Intersection over union: TP / (TP + FP + FN)."""
    return confusion(predicted, truth, threshold).iou


def voxel_metrics(predicted, truth, threshold: float = THRESHOLD) -> dict:
    """Every voxel score at once: ``{"mse", "precision", "recall", "f1", "iou", "accuracy", "tp", "fp", "fn", "tn"}``."""
    table = confusion(predicted, truth, threshold)
    return {"mse": mse(predicted, truth), "precision": table.precision, "recall": table.recall, "f1": table.f1,
            "iou": table.iou, "accuracy": table.accuracy, **table._asdict()}  # fmt: skip


#: Parts at most this many voxels across count as thin (:func:`thin_voxels`). At 64³ the
#: dataset's rifles, legs and lamp stems are two or three voxels across.
THIN_THICKNESS = 3


def thin_voxels(solid, thickness: int = THIN_THICKNESS, rods_only: bool = False) -> np.ndarray:
    """The voxels of a solid that lie in parts at most ``thickness`` voxels across.

    A voxel is *thick* when some solid cube of ``thickness + 1`` voxels on a side contains it,
    and *thin* otherwise: the solid minus its morphological opening by that cube (the union of
    all the cubes that fit inside). So a voxel's local thickness is the side of the largest
    cube of solid voxels around it, as the largest inscribed ball defines it in the continuous
    case. With ``thickness=3``, a rod or a plate 1, 2 or 3 voxels across is thin, one 4 voxels
    across is not, and every voxel of a box of at least 4³, its edges and corners included, is thick.

    Why cubes and not balls (a Euclidean distance transform): on the grid a ball centred on a
    voxel is 1, 3, 5, … voxels across, so no ball tells 3 voxels from 4; and no ball reaches into
    the corner of a box, so the edges of every cabinet would count as thin. The price: a part
    tilted 45° from the axes holds smaller cubes than an aligned one of the same width, and may
    count as thin up to √2 times wider.

    ``rods_only`` keeps only the voxels that are thin in two directions (legs, stems, a rifle's
    barrel) and drops thin plates (seats, table tops, panels): a voxel is then thick as soon as
    a flat square of ``thickness + 1`` by ``thickness + 1`` solid voxels, lying in any of the
    three axis planes, contains it. A table's top is most of its voxels and is thin as a plate;
    its legs are the rods.

    ``solid`` is a 3-D grid (boolean, or values counted inside when ``>= 0.5``), with or without
    IM-NET's trailing channel axis. Returns a boolean grid of its shape without that axis.
    """
    from scipy import ndimage

    solid = np.asarray(solid)
    if solid.ndim == 4 and solid.shape[-1] == 1:
        solid = solid[..., 0]
    solid = _inside(solid, THRESHOLD)
    if solid.ndim != 3:
        raise ValueError(f"thin_voxels expects a 3-D grid, got shape {solid.shape}")
    if not isinstance(thickness, (int, np.integer)) or thickness < 1:
        raise ValueError(f"thickness must be a whole number of voxels, at least 1; got {thickness!r}")
    side = int(thickness) + 1
    if rods_only:
        shapes = [tuple(1 if axis == flat else side for axis in range(3)) for flat in range(3)]
    else:
        shapes = [(side, side, side)]
    thick = np.zeros_like(solid)
    for shape in shapes:
        thick |= ndimage.binary_opening(solid, structure=np.ones(shape, dtype=bool))
    return solid & ~thick


def thin_part_recall(predicted, truth, thickness: int = THIN_THICKNESS, rods_only: bool = False, threshold: float = THRESHOLD) -> float:
    """The share of the truth's thin voxels (:func:`thin_voxels`) that the prediction has inside.

    NaN when the truth has no thin voxels: there is nothing to keep, and a mean over shapes
    should skip it (``np.nanmean``) rather than count it as perfect. ``predicted`` may hold
    probabilities (inside when ``>= threshold``); ``truth`` is thresholded at 0.5.
    """
    predicted, truth = _pair(predicted, truth)
    thin = thin_voxels(truth, thickness, rods_only)
    count = int(np.count_nonzero(thin))
    if count == 0:
        return float("nan")
    kept = _inside(predicted, threshold).reshape(thin.shape) & thin
    return int(np.count_nonzero(kept)) / count


__all__ = [
    "THRESHOLD",
    "Confusion",
    "confusion",
    "mse",
    "precision",
    "recall",
    "f1_score",
    "iou",
    "voxel_metrics",
    "THIN_THICKNESS",
    "thin_voxels",
    "thin_part_recall",
]
