"""Edge sampling: which points of a voxel grid the implicit decoder is trained on.

The talk's "Point sampling" slides. A grid of resolution n has n³ cells, but the interesting
ones, where inside meets outside, lie on a surface and number only O(n²). Training on those
(plus some random cells for the far field) is far cheaper than on all n³ and loses little.

Budgets per shape (``config.POINT_BUDGETS``): 16³ → 4096 (= every cell), 32³ → 8192,
64³ → 32768. The 16³ and 32³ grids come from the 64³ one by max-pooling (a coarse cell is
inside if any of its fine cells is).

The algorithm, exactly as the talk gives it:

1. Take every *edge* voxel — the centre of a 7×7×7 window holding both values. If they fit
   the budget, fill up with random other voxels and return. Otherwise ("fail"), stage 2.
2. The same, but only among voxels whose three indices are all even. Otherwise, stage 3.
3. Random voxels up to the budget.

It is vectorised: the 7×7×7 test is a max filter and a min filter over the grid (a window
holds both values exactly when its max differs from its min), never a loop over voxels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .config import POINT_BUDGETS
from .geometry import grid_to_world

EDGE_WINDOW = 7


@dataclass
class PointSample:
    """Points (world coordinates, voxel centres) and their inside (1) / outside (0) values."""

    points: np.ndarray  # float32 [budget, 3]
    values: np.ndarray  # uint8 [budget, 1]
    indices: np.ndarray  # int64 [budget, 3], the voxel each point came from
    stage: int  # 1, 2 or 3: which stage of the algorithm produced the sample
    edge_count: int  # how many voxels the successful stage took as edges (0 for stage 3)


def downsample(voxels: np.ndarray, resolution: int) -> np.ndarray:
    """Max-pool a cubic boolean grid to ``resolution``³: a coarse cell is inside if any fine cell is."""
    n = voxels.shape[0]
    if n % resolution:
        raise ValueError(f"cannot pool a {n}³ grid to {resolution}³: {n} is not a multiple of {resolution}")
    f = n // resolution
    return voxels.reshape(resolution, f, resolution, f, resolution, f).any(axis=(1, 3, 5))


def edge_voxels(voxels: np.ndarray, window: int = EDGE_WINDOW) -> np.ndarray:
    """Boolean grid: True where the ``window``³ cube centred on the voxel holds both values.

    Near the border the window is clipped to the grid (no made-up outside values).
    """
    v = voxels.astype(np.uint8)
    # mode="nearest" repeats the border voxel, which adds no value the grid does not have.
    return ndimage.maximum_filter(v, size=window, mode="nearest") != ndimage.minimum_filter(v, size=window, mode="nearest")


def _fill_up(chosen_flat: np.ndarray, total: int, budget: int, rng: np.random.Generator) -> np.ndarray:
    """Add random voxels not already chosen until there are ``budget`` of them."""
    missing = budget - len(chosen_flat)
    if missing == 0:
        return chosen_flat
    available = np.ones(total, dtype=bool)
    available[chosen_flat] = False
    extra = rng.choice(np.flatnonzero(available), size=missing, replace=False)
    return np.concatenate([chosen_flat, extra])


def edge_sample(voxels: np.ndarray, budget: int, rng: np.random.Generator) -> PointSample:
    """Choose ``budget`` voxels of a cubic boolean grid by the talk's three-stage edge sampling.

    The returned points are shuffled, so any prefix is itself a fair sample.
    """
    voxels = np.asarray(voxels, dtype=bool)
    n = voxels.shape[0]
    total = voxels.size
    if budget > total:
        raise ValueError(f"budget {budget} exceeds the {total} voxels of a {n}³ grid")

    edges = edge_voxels(voxels)
    stage, edge_count = 3, 0
    chosen = None
    candidates = [edges]
    even = np.zeros_like(edges)
    even[::2, ::2, ::2] = True
    candidates.append(edges & even)
    for stage_number, candidate in enumerate(candidates, start=1):
        flat = np.flatnonzero(candidate.ravel())
        if len(flat) <= budget:  # success: every edge voxel of this stage fits
            stage, edge_count = stage_number, len(flat)
            chosen = _fill_up(flat, total, budget, rng)
            break
    if chosen is None:  # stage 3: too many edges even on the even sub-grid
        chosen = rng.choice(total, size=budget, replace=False)

    chosen = rng.permutation(chosen)
    indices = np.stack(np.unravel_index(chosen, voxels.shape), axis=1)
    return PointSample(
        points=grid_to_world(indices, n).astype(np.float32),
        values=voxels.ravel()[chosen].astype(np.uint8)[:, None],
        indices=indices.astype(np.int64),
        stage=stage,
        edge_count=edge_count,
    )


def sample_all_resolutions(voxels_64: np.ndarray, rng: np.random.Generator, budgets: dict[int, int] = POINT_BUDGETS) -> dict[int, PointSample]:
    """Edge-sample the 64³ grid and its max-pooled 32³ and 16³ versions with the talk's budgets."""
    return {res: edge_sample(downsample(voxels_64, res), budget, rng) for res, budget in budgets.items()}
