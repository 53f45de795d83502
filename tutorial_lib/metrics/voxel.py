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
]
