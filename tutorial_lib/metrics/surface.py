"""Surface scores: how far apart are two surfaces?

:func:`chamfer_distance` (the talk's mean squared distance; Fan et al.'s sum of both
directions), :func:`chamfer_l1` (Occupancy Networks), :func:`normal_consistency`,
:func:`surface_precision_recall` and :func:`f_score` (Tatarchenko et al. 2019),
:func:`surface_metrics` (all of them between two meshes) and :func:`chamfer_matrix` (every
cloud against every cloud, for the generative scores). They compare point clouds sampled
uniformly (by area) from two surfaces, through nearest neighbours found with
``scipy.spatial.cKDTree`` on all cores.

Units: the units of the meshes (a normalised mesh fits the cube [-0.5, 0.5]³, so 0.01 is 1% of
the cube's side); Chamfer distances are in squared units.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from ..geometry import check_mesh, sample_surface


def _points(points, name: str) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"{name}: expected points of shape [N, 3], got {points.shape}")
    if len(points) == 0:
        raise ValueError(f"{name}: the point cloud is empty")
    return points


def nearest_neighbours(queries, points) -> tuple[np.ndarray, np.ndarray]:
    """For each query point, the distance to the nearest of ``points`` and its index (KD-tree, all cores)."""
    queries, points = _points(queries, "queries"), _points(points, "points")
    distance, index = cKDTree(points).query(queries, k=1, workers=-1)
    return distance, index


class _TwoWay(NamedTuple):
    """Nearest neighbours in both directions between a predicted cloud P and a true cloud Q."""

    to_true: np.ndarray  # for each predicted point, the distance to the nearest true point
    to_true_index: np.ndarray
    to_predicted: np.ndarray  # for each true point, the distance to the nearest predicted point
    to_predicted_index: np.ndarray


def _query_in_tree_order(queries: np.ndarray, query_tree: cKDTree, tree: cKDTree) -> tuple[np.ndarray, np.ndarray]:
    """Nearest neighbours in ``tree`` of ``queries``, asked in the leaf order of their own tree:
    neighbouring queries visit the same nodes one after the other, which is faster (memory)."""
    order = query_tree.indices
    distance, index = np.empty(len(queries)), np.empty(len(queries), dtype=np.int64)
    distance[order], index[order] = tree.query(queries[order], k=1, workers=-1)
    return distance, index


def _two_way(predicted, truth) -> _TwoWay:
    p, q = _points(predicted, "predicted points"), _points(truth, "true points")
    tree_p, tree_q = cKDTree(p), cKDTree(q)
    d_pq, i_pq = _query_in_tree_order(p, tree_p, tree_q)
    d_qp, i_qp = _query_in_tree_order(q, tree_q, tree_p)
    return _TwoWay(d_pq, i_pq, d_qp, i_qp)


def _chamfer(pair: _TwoWay, reduction: str) -> float:
    directions = float(np.mean(pair.to_true**2)) + float(np.mean(pair.to_predicted**2))
    if reduction == "mean":
        return directions / 2.0
    if reduction == "sum":
        return directions
    raise ValueError(f"unknown reduction {reduction!r}: use 'mean' or 'sum'")


def chamfer_distance(predicted, truth, reduction: str = "mean") -> float:
    """Chamfer distance: the mean *squared* distance from each point to the nearest point of the other cloud.

    With ``a = mean_p min_q |p - q|²`` (predicted → true) and ``b = mean_q min_p |q - p|²``
    (true → predicted):

    * ``reduction="mean"`` (default, the talk's "average squared distance"): ``(a + b) / 2``.
    * ``reduction="sum"``: ``a + b``, as Fan et al. 2017 add the two directions (with means
      instead of their sums, so that the number does not grow with the number of points).

    A cloud against a copy of itself moved by a vector of length ``d`` (shorter than half the
    spacing of its points, so every point's nearest neighbour is its own copy) gives ``d²``
    with ``"mean"`` and ``2 d²`` with ``"sum"``. In squared units of the points.
    """
    return _chamfer(_two_way(predicted, truth), reduction)


def chamfer_l1(predicted, truth) -> float:
    """Occupancy Networks' Chamfer-L1: ``(mean_p min_q |p - q| + mean_q min_p |q - p|) / 2``.

    Plain (not squared) Euclidean distances, half of both directions: a cloud moved by ``d``
    gives ``d``. In units of the points.
    """
    pair = _two_way(predicted, truth)
    return float(np.mean(pair.to_true) + np.mean(pair.to_predicted)) / 2.0


def _normal_consistency(pair: _TwoWay, normals_p: np.ndarray, normals_q: np.ndarray) -> float:
    normals_p = normals_p / np.linalg.norm(normals_p, axis=1, keepdims=True)
    normals_q = normals_q / np.linalg.norm(normals_q, axis=1, keepdims=True)
    cos_pq = np.abs(np.einsum("ij,ij->i", normals_p, normals_q[pair.to_true_index]))
    cos_qp = np.abs(np.einsum("ij,ij->i", normals_q, normals_p[pair.to_predicted_index]))
    return float(np.mean(cos_pq) + np.mean(cos_qp)) / 2.0


def normal_consistency(predicted, predicted_normals, truth, true_normals) -> float:
    """Mean ``|cos|`` of the angle between each point's normal and its nearest neighbour's, both directions averaged.

    1 when every normal agrees with its neighbour's (up to sign: a flipped normal is not
    penalised, as in Occupancy Networks). The talk's "normal distance" is ``1 -`` this.
    """
    predicted_normals = np.asarray(predicted_normals, dtype=np.float64)
    true_normals = np.asarray(true_normals, dtype=np.float64)
    if len(predicted_normals) != len(predicted) or len(true_normals) != len(truth):
        raise ValueError("every point needs exactly one normal")
    return _normal_consistency(_two_way(predicted, truth), predicted_normals, true_normals)


def _precision_recall(pair: _TwoWay, tau) -> tuple[np.ndarray, np.ndarray]:
    tau = np.asarray(tau, dtype=np.float64)
    # Sorted distances answer "how many within tau" for many thresholds at once.
    within_p = np.searchsorted(np.sort(pair.to_true), tau, side="right") / len(pair.to_true)
    within_q = np.searchsorted(np.sort(pair.to_predicted), tau, side="right") / len(pair.to_predicted)
    return within_p, within_q


def _harmonic(p, r):
    p, r = np.asarray(p, dtype=np.float64), np.asarray(r, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(p + r > 0, 2 * p * r / np.where(p + r > 0, p + r, 1.0), 0.0)


def surface_precision_recall(predicted, truth, tau):
    """Tatarchenko et al.'s precision (share of predicted points within ``tau`` of the true
    points, distance ``<= tau``) and recall (share of true points within ``tau`` of the
    predicted ones). ``tau`` may be a number or an array of thresholds."""
    p, r = _precision_recall(_two_way(predicted, truth), tau)
    return (float(p), float(r)) if np.ndim(tau) == 0 else (p, r)


def f_score(predicted, truth, tau):
    """F-score at distance ``tau`` (Tatarchenko et al. 2019): the harmonic mean of
    :func:`surface_precision_recall`; 0 when both are 0. A number, or an array for an array of ``tau``."""
    p, r = _precision_recall(_two_way(predicted, truth), tau)
    f = _harmonic(p, r)
    return float(f) if np.ndim(tau) == 0 else f


def chamfer_matrix(clouds_a: Sequence[np.ndarray], clouds_b: Sequence[np.ndarray] | None = None, reduction: str = "mean") -> np.ndarray:
    """Chamfer distances between every cloud of ``clouds_a`` and every cloud of ``clouds_b``
    (default: ``clouds_a`` itself), ``[len(a), len(b)]``. One KD-tree per cloud, built once."""
    same = clouds_b is None
    clouds_a = [_points(c, f"cloud {i}") for i, c in enumerate(clouds_a)]
    clouds_b = clouds_a if same else [_points(c, f"cloud {i}") for i, c in enumerate(clouds_b)]
    trees_a = [cKDTree(c) for c in clouds_a]
    trees_b = trees_a if same else [cKDTree(c) for c in clouds_b]
    out = np.zeros((len(clouds_a), len(clouds_b)))
    for i, j in itertools.product(range(len(clouds_a)), range(len(clouds_b))):
        if same and j < i:
            out[i, j] = out[j, i]
            continue
        d_ab, _ = _query_in_tree_order(clouds_a[i], trees_a[i], trees_b[j])
        d_ba, _ = _query_in_tree_order(clouds_b[j], trees_b[j], trees_a[i])
        total = np.mean(d_ab**2) + np.mean(d_ba**2)
        out[i, j] = total / 2.0 if reduction == "mean" else total
    return out


#: Default F-score threshold: 1% of the side of the unit cube normalised meshes live in.
DEFAULT_TAU = 0.01


def surface_metrics(mesh_pred: trimesh.Trimesh, mesh_true: trimesh.Trimesh, n_points: int = 100_000, seed: int = 0, tau: float = DEFAULT_TAU) -> dict:
    """Every surface score between two meshes, from ``n_points`` area-weighted samples of each.

    Returns ``{"chamfer", "chamfer_sum", "chamfer_l1", "normal_consistency", "f_score",
    "precision", "recall", "tau", "n_points"}`` (see :func:`chamfer_distance`, :func:`chamfer_l1`,
    :func:`normal_consistency`, :func:`f_score`). A predicted mesh with no faces (a decoder
    that found no surface) scores Chamfer ``inf``, normal consistency and F-score 0.
    """
    check_mesh(mesh_true, "true mesh")
    if len(mesh_pred.faces) == 0:
        return {"chamfer": np.inf, "chamfer_sum": np.inf, "chamfer_l1": np.inf, "normal_consistency": 0.0,
                "f_score": 0.0, "precision": 0.0, "recall": 0.0, "tau": tau, "n_points": n_points}  # fmt: skip
    points_p, normals_p = sample_surface(mesh_pred, n_points, seed=seed)
    points_q, normals_q = sample_surface(mesh_true, n_points, seed=seed + 1)
    pair = _two_way(points_p, points_q)
    p, r = _precision_recall(pair, tau)
    return {
        "chamfer": _chamfer(pair, "mean"),
        "chamfer_sum": _chamfer(pair, "sum"),
        "chamfer_l1": float(np.mean(pair.to_true) + np.mean(pair.to_predicted)) / 2.0,
        "normal_consistency": _normal_consistency(pair, normals_p.astype(np.float64), normals_q.astype(np.float64)),
        "f_score": float(_harmonic(p, r)),
        "precision": float(p),
        "recall": float(r),
        "tau": tau,
        "n_points": n_points,
    }


__all__ = [
    "nearest_neighbours",
    "chamfer_distance",
    "chamfer_l1",
    "normal_consistency",
    "surface_precision_recall",
    "f_score",
    "chamfer_matrix",
    "surface_metrics",
    "DEFAULT_TAU",
]
