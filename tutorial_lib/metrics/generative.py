"""Generative scores (Achlioptas et al. 2018; Yang et al. 2019): is a set of generated shapes like the real ones?

:func:`coverage` (COV), :func:`minimum_matching_distance` (MMD), :func:`one_nn_accuracy`
(1-NNA) and :func:`generative_metrics` (all three), on precomputed distance matrices: Chamfer
through :func:`~tutorial_lib.metrics.surface.chamfer_matrix`, or the light field distance
through :func:`~tutorial_lib.metrics.lfd.lfd_distance_matrix`.
"""

from __future__ import annotations

import numpy as np


def _matrix(d, name: str) -> np.ndarray:
    d = np.asarray(d, dtype=np.float64)
    if d.ndim != 2 or 0 in d.shape:
        raise ValueError(f"{name}: expected a non-empty 2-D distance matrix, got shape {d.shape}")
    return d


def coverage(d_gr) -> float:
    """COV: the share of reference shapes that are the nearest reference of at least one generated shape.

    ``d_gr[g, r]`` is the distance from generated shape g to reference shape r. Ties go to the
    lowest reference index (``argmin``). 1 means every reference shape is matched by something.
    """
    d_gr = _matrix(d_gr, "d_gr")
    return len(np.unique(np.argmin(d_gr, axis=1))) / d_gr.shape[1]


def minimum_matching_distance(d_gr) -> float:
    """MMD: for each reference shape the distance to its nearest generated shape, averaged.

    Low when every reference shape has a close generated look-alike (fidelity).
    """
    return float(np.mean(_matrix(d_gr, "d_gr").min(axis=0)))


def one_nn_accuracy(d_gg, d_gr, d_rr) -> float:
    """1-NNA: accuracy of the leave-one-out 1-nearest-neighbour classifier telling generated from reference.

    Every shape of the two sets is labelled with the set its nearest *other* shape belongs
    to; the score is the share labelled correctly. Ties (its nearest shape in its own set and
    in the other set at the same distance) count as half right: the expected accuracy of
    breaking the tie with a fair coin.

    0.5 is ideal: the two sets cannot be told apart (two independent samples of the same
    distribution give 0.5 on average). Near 1: the generated shapes are easy to tell apart (bad
    quality or diversity). Well *below* 0.5: the generated shapes are copies of reference shapes
    (memorisation) — if the generated set equals the reference set, every shape's nearest
    other shape is its twin in the other set, and 1-NNA is 0.
    """
    d_gg, d_gr, d_rr = _matrix(d_gg, "d_gg"), _matrix(d_gr, "d_gr"), _matrix(d_rr, "d_rr")
    g, r = d_gr.shape
    if d_gg.shape != (g, g) or d_rr.shape != (r, r):
        raise ValueError(f"shapes do not fit: d_gg {d_gg.shape}, d_gr {d_gr.shape}, d_rr {d_rr.shape}")
    own_g = np.where(np.eye(g, dtype=bool), np.inf, d_gg).min(axis=1)  # leave one out
    own_r = np.where(np.eye(r, dtype=bool), np.inf, d_rr).min(axis=1)
    other_g, other_r = d_gr.min(axis=1), d_gr.min(axis=0)
    own, other = np.concatenate([own_g, own_r]), np.concatenate([other_g, other_r])
    correct = np.where(own < other, 1.0, np.where(own == other, 0.5, 0.0))
    return float(correct.mean())


def generative_metrics(d_gr, d_gg, d_rr) -> dict:
    """``{"cov", "mmd", "1-nna"}`` from the three distance matrices (any distance: Chamfer, LFD, ...)."""
    return {"cov": coverage(d_gr), "mmd": minimum_matching_distance(d_gr), "1-nna": one_nn_accuracy(d_gg, d_gr, d_rr)}


__all__ = [
    "coverage",
    "minimum_matching_distance",
    "one_nn_accuracy",
    "generative_metrics",
]
