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
holds both values exactly when its max differs from its min), never a loop over voxels. For
the talk's grids (16, 32 and 64 voxels a side) each row of voxels along the last axis is
packed into the bits of one integer, so that both filters are a few shifts, ORs and ANDs
over n² integers instead of n³ bytes (:func:`edge_voxels`; the same answer as the filters).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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
    if f & (f - 1) == 0:  # a power of two: halve the grid again and again with ORs of bytes, the same answer and faster
        grid = np.ascontiguousarray(voxels, dtype=bool).view(np.uint8)
        while grid.shape[0] > resolution:
            grid = grid[0::2] | grid[1::2]
            grid = grid[:, 0::2] | grid[:, 1::2]
            grid = grid[:, :, 0::2] | grid[:, :, 1::2]
        return grid.view(bool)
    return voxels.reshape(resolution, f, resolution, f, resolution, f).any(axis=(1, 3, 5))


def edge_voxels(voxels: np.ndarray, window: int = EDGE_WINDOW) -> np.ndarray:
    """Boolean grid: True where the ``window``³ cube centred on the voxel holds both values.

    Near the border the window is clipped to the grid (no made-up outside values).
    """
    voxels = np.asarray(voxels)
    n = voxels.shape[-1]
    if n in _PACKED and voxels.ndim == 3 and window % 2 == 1:
        return _edge_voxels_packed(voxels.astype(bool, copy=False), window)
    v = voxels.astype(np.uint8)
    # mode="nearest" repeats the border voxel, which adds no value the grid does not have.
    return ndimage.maximum_filter(v, size=window, mode="nearest") != ndimage.minimum_filter(v, size=window, mode="nearest")


#: Unsigned integer types that hold a row of 16, 32 or 64 voxels as bits.
_PACKED = {16: np.uint16, 32: np.uint32, 64: np.uint64}


def _edge_voxels_packed(voxels: np.ndarray, window: int) -> np.ndarray:
    """:func:`edge_voxels` with the last axis packed into the bits of one integer per row.

    Bit k of the integer at ``[i, j]`` is voxel ``[i, j, k]``. The window's max along the last
    axis is the OR of the row shifted by -h..h bits (bits shifted in are 0, which adds nothing
    to an OR), its min the AND (bits shifted in are 1 there, which takes nothing from an AND):
    both are clipped to the grid as the filters' "nearest" border mode is. Along the first two
    axes the same ORs and ANDs run over shifted slices. A voxel is an edge where max and min
    differ, i.e. where the max is 1 and the min 0.
    """
    n = voxels.shape[-1]
    kind = _PACKED[n]
    half = window // 2
    rows = np.packbits(voxels, axis=-1, bitorder="little").view(kind)[..., 0]  # [n, n], little-endian bits
    if not np.little_endian:  # the bytes of a row were packed in memory order
        rows = rows.byteswap()
    full = kind(np.iinfo(kind).max)
    high, low = rows.copy(), rows.copy()
    for shift in range(1, min(half, n - 1) + 1):
        s = kind(shift)
        high |= (rows >> s) | (rows << s)
        low &= ((rows >> s) | (full << kind(n - shift))) & ((rows << s) | (full >> kind(n - shift)))
    for axis in (0, 1):
        high_in, low_in = high.copy(), low.copy()
        for shift in range(1, min(half, n - 1) + 1):
            ahead = [slice(None)] * 2
            behind = [slice(None)] * 2
            ahead[axis], behind[axis] = slice(shift, None), slice(None, -shift)
            high[tuple(ahead)] |= high_in[tuple(behind)]
            high[tuple(behind)] |= high_in[tuple(ahead)]
            low[tuple(ahead)] &= low_in[tuple(behind)]
            low[tuple(behind)] &= low_in[tuple(ahead)]
    edges = high & ~low
    if not np.little_endian:
        edges = edges.byteswap()
    return np.unpackbits(edges[..., None].view(np.uint8), axis=-1, bitorder="little", count=n).view(bool)


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
    for stage_number in (1, 2):
        # Stage 2 looks only at the voxels whose three indices are all even.
        candidate = edges if stage_number == 1 else edges & _even_voxels(tuple(voxels.shape))
        flat = np.flatnonzero(candidate.ravel())
        if len(flat) <= budget:  # success: every edge voxel of this stage fits
            stage, edge_count = stage_number, len(flat)
            chosen = _fill_up(flat, total, budget, rng)
            break
    if chosen is None:  # stage 3: too many edges even on the even sub-grid
        chosen = rng.choice(total, size=budget, replace=False)

    chosen = rng.permutation(chosen)
    indices = np.stack(np.unravel_index(chosen, voxels.shape), axis=1)
    # grid_to_world of every index of an axis, looked up: the same float32 numbers as converting each point
    centres = grid_to_world(np.arange(max(voxels.shape)), n).astype(np.float32)
    return PointSample(
        points=centres[indices],
        values=voxels.ravel()[chosen].astype(np.uint8)[:, None],
        indices=indices.astype(np.int64),
        stage=stage,
        edge_count=edge_count,
    )


@lru_cache(maxsize=8)
def _even_voxels(shape: tuple[int, ...]) -> np.ndarray:
    """Boolean grid of ``shape`` (read-only, made once): True where all three indices are even."""
    even = np.zeros(shape, dtype=bool)
    even[::2, ::2, ::2] = True
    even.flags.writeable = False
    return even


def sample_all_resolutions(voxels_64: np.ndarray, rng: np.random.Generator, budgets: dict[int, int] = POINT_BUDGETS) -> dict[int, PointSample]:
    """Edge-sample the 64³ grid and its max-pooled 32³ and 16³ versions with the talk's budgets."""
    return {res: edge_sample(downsample(voxels_64, res), budget, rng) for res, budget in budgets.items()}
