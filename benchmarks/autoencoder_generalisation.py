"""Where does the 3D autoencoder lose IoU on unseen shapes: in the encoder or in the decoder?

    python benchmarks/autoencoder_generalisation.py [--autoencoder PATH] [--per-category 1] [--fit-steps 200]

For the shipped ``quick`` autoencoder (or ``--autoencoder``), on ``--per-category`` shapes of
every category, measures the IoU at 64³ (dense 64³ grid against the true voxels) of

(a) training shapes, decoded from the encoder's z;
(b) test shapes, decoded from the encoder's z (what the autoencoder does);
(c) the same test shapes, decoded from a z *fitted* to each of them: the decoder is frozen,
    and z (through its sigmoid, starting at the encoder's answer) is moved by Adam for
    ``--fit-steps`` steps to lower the cross-entropy on 4,096 of the shape's 64³ edge-sampled
    points per step.

If (c) is far above (b), the decoder can draw the unseen shapes and the encoder is what fails
to find their codes; if (c) is close to (b), the decoder itself is the limit.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from machine import machine_lines  # benchmarks/machine.py


def first_of_each_category(categories: list[str], per_category: int) -> list[int]:
    picks = []
    for category in sorted(set(categories)):
        picks += [i for i, c in enumerate(categories) if c == category][:per_category]
    return picks


def iou_of_codes(model, codes: torch.Tensor, voxels: np.ndarray) -> np.ndarray:
    from tutorial_lib import autoencoder, metrics

    scores = []
    for z, truth in zip(codes, voxels):
        occupancy, _ = autoencoder.reconstruct(model, z, 64)
        scores.append(metrics.iou(occupancy >= 0.5, truth[..., 0]))
    return np.array(scores)


def fit_codes(model, dataset, indices: list[int], start_logits: torch.Tensor, steps: int, seed: int = 0) -> torch.Tensor:
    """z fitted to each shape's own points with the decoder frozen (all shapes in one batch)."""
    from tqdm.auto import tqdm

    generator = torch.Generator().manual_seed(seed)
    points, values = zip(*[dataset[i][1:] for i in indices])
    logits = start_logits.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([logits], lr=1e-2)
    for p in model.parameters():
        p.requires_grad_(False)
    for _ in tqdm(range(steps), desc="fitting z"):
        picks = [torch.randint(0, len(p), (4096,), generator=generator) for p in points]
        xyz = torch.stack([p[j] for p, j in zip(points, picks)])
        truth = torch.stack([v[j] for v, j in zip(values, picks)])
        loss = F.binary_cross_entropy_with_logits(model.decoder(torch.sigmoid(logits), xyz), truth)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return torch.sigmoid(logits.detach())


def main() -> None:
    from tutorial_lib import autoencoder, data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--autoencoder", default=None, help="autoencoder weights (default: the shipped quick one)")
    parser.add_argument("--per-category", type=int, default=1)
    parser.add_argument("--fit-steps", type=int, default=200)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "autoencoder_generalisation.json"))
    args = parser.parse_args()

    print("\n".join(machine_lines()))
    model = autoencoder.load_autoencoder("quick", path=args.autoencoder, device="cpu")
    folder = data.dataset_dir("quick")
    rows = {}
    for split in ("train", "test"):
        arrays = data.read_split(data.split_path(folder, split), ("voxels",))
        picks = first_of_each_category(arrays["categories"], args.per_category)
        voxels = arrays["voxels"][picks]
        with torch.no_grad():
            logits = model.encoder.logits(torch.as_tensor(voxels[..., 0]).float()[:, None])
        rows[f"{split}, encoder's z"] = iou_of_codes(model, torch.sigmoid(logits), voxels)
        if split == "test":
            start = time.time()
            dataset = data.PointValueDataset(data.split_path(folder, split), resolution=64, resolutions=(64,))
            fitted = fit_codes(model, dataset, picks, logits, args.fit_steps)
            rows[f"test, z fitted ({args.fit_steps} steps, {time.time() - start:.0f} s)"] = iou_of_codes(model, fitted, voxels)
            categories = [arrays["categories"][i] for i in picks]

    print(f"\n{args.per_category} shape(s) per category, IoU at 64³\n\n| z | mean IoU |\n| --- | ---: |")
    for name, scores in rows.items():
        print(f"| {name} | {scores.mean():.3f} |")
    names = list(rows)
    print("\n| test shape | encoder's z | fitted z |\n| --- | ---: | ---: |")
    for category, a, b in zip(categories, rows[names[1]], rows[names[2]]):
        print(f"| {category} | {a:.2f} | {b:.2f} |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({name: scores.tolist() for name, scores in rows.items()} | {"test_categories": categories}, indent=1) + "\n")


if __name__ == "__main__":
    main()
