"""Where may coarse-to-fine extraction start, and does a band find the thin parts?

    python benchmarks/extraction_start.py [--band 0.05] [--check-128 1]

For every test shape of the quick dataset, decode the shipped quick autoencoder's z at 64³
densely (the reference), then coarse-to-fine from 16³ and from 32³, each without and with
``--band`` (see ``geometry.coarse_to_fine_occupancy``). Reports, per setting: the IoU of its
occupancy with the dense grid (mean and worst shape), the mean IoU of the rifles against
their true voxels (the thinnest category), and the points evaluated per shape. The setting
that ``autoencoder.reconstruct`` uses above 64³ should match the dense grid on every shape.

Then, for ``--check-128`` test shapes per category, ``autoencoder.reconstruct`` at 128³
against the dense 128³ grid (2 M points, ~13 s per shape on 2 CPU cores): the levels above
the first refinement do without the band, so this checks the whole extractor.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from machine import machine_lines  # benchmarks/machine.py

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--band", type=float, default=0.05)
    parser.add_argument("--check-128", type=int, default=1, help="test shapes per category checked at 128³ (0: none)")
    args = parser.parse_args()

    from tqdm.auto import tqdm

    from tutorial_lib import autoencoder, data, geometry, metrics

    print("\n".join(machine_lines()))
    model = autoencoder.load_autoencoder("quick", device="cpu")
    test = data.read_split(data.split_path(data.ensure_dataset("quick"), "test"), ("voxels",))
    z = autoencoder.encode(model, test["voxels"])
    settings = {f"start {s}³, {'band ' + str(args.band) if b else 'no band'}": (s, b) for s in (16, 32) for b in (None, args.band)}
    found = {name: {"iou_dense": [], "points": [], "rifle_iou_truth": []} for name in ["dense", *settings]}
    for i in tqdm(range(len(z)), desc="test shapes"):
        field = autoencoder.decoder_field(model, z[i])
        truth = test["voxels"][i, ..., 0]
        dense, n = geometry.dense_occupancy(field, 64)
        runs = {"dense": (dense, n)} | {name: geometry.coarse_to_fine_occupancy(field, 64, start=s, band=b) for name, (s, b) in settings.items()}
        for name, (values, evaluated) in runs.items():
            found[name]["iou_dense"].append(metrics.iou(values >= 0.5, dense >= 0.5))
            found[name]["points"].append(evaluated)
            if test["categories"][i] == "rifle":
                found[name]["rifle_iou_truth"].append(metrics.iou(values >= 0.5, truth))
    print(f"\n{len(z)} test shapes at 64³, shipped quick autoencoder\n")
    print("| extraction | IoU with dense: mean | worst (shape) | rifles' IoU with the truth | points per shape |")
    print("| --- | ---: | ---: | ---: | ---: |")
    summary = {}
    for name, f in found.items():
        worst = int(np.argmin(f["iou_dense"]))
        summary[name] = {"iou_dense_mean": float(np.mean(f["iou_dense"])), "iou_dense_worst": float(f["iou_dense"][worst]),
                         "worst_shape": test["names"][worst], "rifle_iou_truth": float(np.mean(f["rifle_iou_truth"])),
                         "points_mean": float(np.mean(f["points"]))}  # fmt: skip
        s = summary[name]
        print(
            f"| {name} | {s['iou_dense_mean']:.4f} | {s['iou_dense_worst']:.4f} ({s['worst_shape']}) | {s['rifle_iou_truth']:.3f} | {s['points_mean']:,.0f} |"
        )
    checked = []
    categories = list(test["categories"])
    picks = [i for c in dict.fromkeys(categories) for i in [j for j, k in enumerate(categories) if k == c][: args.check_128]]
    for i in tqdm(picks, desc="128³ checks"):
        dense, _ = geometry.dense_occupancy(autoencoder.decoder_field(model, z[i]), 128)
        values, evaluated = autoencoder.reconstruct(model, z[i], 128)
        checked.append({"shape": test["names"][i], "iou_dense": metrics.iou(values >= 0.5, dense >= 0.5), "points": evaluated})
    if checked:
        print(f"\nautoencoder.reconstruct at 128³ against the dense 128³ grid ({len(checked)} shapes)\n")
        print("| shape | IoU with dense | points (of 2,097,152) |\n| --- | ---: | ---: |")
        for c in checked:
            print(f"| {c['shape']} | {c['iou_dense']:.4f} | {c['points']:,} |")
    RESULTS.mkdir(exist_ok=True)
    result = {"band": args.band, "shapes": len(z), "settings": summary, "reconstruct_128": checked}
    (RESULTS / "extraction_start.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
