import os

import matplotlib
import numpy as np
import pytest
import trimesh

matplotlib.use("Agg")  # tests draw figures without a screen
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def sphere():
    """A finely tessellated sphere of radius 0.4 centred at the origin."""
    return trimesh.creation.icosphere(subdivisions=5, radius=0.4)


@pytest.fixture
def chair_like():
    """A small watertight chair (seat, back, four legs), already in the canonical frame."""
    parts = [
        trimesh.creation.box([0.6, 0.08, 0.6]).apply_translation([0, 0.3, 0]),
        trimesh.creation.box([0.6, 0.6, 0.08]).apply_translation([0, 0.6, 0.28]),
    ]
    for x in (-0.25, 0.25):
        for z in (-0.25, 0.25):
            parts.append(trimesh.creation.box([0.06, 0.3, 0.06]).apply_translation([x, 0.13, z]))
    return trimesh.boolean.union(parts, engine="manifold")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
