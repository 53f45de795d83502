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


def _box(lo, hi):
    """A 64³ grid filled on [lo, hi) and the matching watertight box mesh in world coordinates."""
    voxels = np.zeros((64, 64, 64), bool)
    voxels[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]] = True
    lo_w, hi_w = np.array(lo) / 64 - 0.5, np.array(hi) / 64 - 0.5
    mesh = trimesh.creation.box(extents=hi_w - lo_w).apply_translation((lo_w + hi_w) / 2)
    return voxels, mesh


@pytest.fixture
def box_dataset():
    """``make(folder, shapes=4, seed=0, same_test=False)``: train/test split files of random boxes.

    Each "shape" is a box: 64³ voxels, its mesh, 256 points per resolution with their true
    values, and 2 renderings (a dark rectangle whose place and size follow the box). With
    ``same_test`` the test split holds the training boxes again.
    """
    from tutorial_lib import data

    def make(folder, shapes=4, seed=0, same_test=False):
        rng = np.random.default_rng(seed)
        folder.mkdir(parents=True, exist_ok=True)
        boxes = {split: [(rng.integers(8, 28, 3), rng.integers(36, 56, 3)) for _ in range(shapes)] for split in data.SPLITS}
        if same_test:
            boxes["test"] = boxes["train"]
        for split in data.SPLITS:
            records = []
            for i, (lo, hi) in enumerate(boxes[split]):
                voxels, mesh = _box(lo, hi)
                pixels = np.full((2, 137, 137), 255, np.uint8)
                pixels[:, 2 * lo[1] : 2 * hi[1], 2 * lo[0] : 2 * hi[0]] = 60
                record = {"name": f"box_{split}_{i}", "category": "chair", "variant": "box", "voxels": voxels,
                          "pixels": pixels, "view_angles": np.zeros((2, 2), np.float32),
                          "sampling_stages": np.ones(3, np.int64), "edge_counts": np.zeros(3, np.int64),
                          "mesh_vertices": mesh.vertices.astype(np.float32), "mesh_faces": mesh.faces.astype(np.int32)}  # fmt: skip
                for resolution in (16, 32, 64):
                    points = rng.uniform(-0.5, 0.5, (256, 3)).astype(np.float32)
                    index = np.clip(((points + 0.5) * 64).astype(int), 0, 63)
                    record[f"points_{resolution}"] = points
                    record[f"values_{resolution}"] = voxels[index[:, 0], index[:, 1], index[:, 2]][:, None].astype(np.uint8)
                records.append(record)
            data.write_split(data.split_path(folder, split), records, {"seed": seed, "fingerprint": f"boxes-{split}-{seed}"})
        return folder

    return make
