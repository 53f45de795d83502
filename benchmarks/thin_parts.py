"""How much of the thin parts does the shipped autoencoder keep? IoU and thin-part recall per category.

    python benchmarks/thin_parts.py [--profile quick] [--device cpu] [--checkpoint RUN.pt --out FILE.json]

Decodes every test shape of the profile's dataset at 64³ with the shipped autoencoder
(``autoencoder.evaluate_iou``) and prints, per category: the IoU with the true voxels; the
share of the true voxels that lie in parts at most 3 voxels across
(``metrics.thin_voxels``: rods and plates) and the share of them the decoded shape has
inside (thin recall); the same for rods alone (legs, stems, barrels; plates such as seats and
table tops left out). Means over the shapes that have such parts. Writes
``benchmarks/results/thin_parts_<profile>.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import numpy as np
import torch
from machine import machine_lines  # benchmarks/machine.py

RESULTS = Path(__file__).resolve().parent / "results"


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def autoencoder_to_score(profile: str, checkpoint: str | None, device: str = "cpu"):
    """The shipped autoencoder of ``profile``, or the model of a training ``checkpoint``, in eval mode."""
    from tutorial_lib import autoencoder, config, training

    if checkpoint is None:
        return autoencoder.load_autoencoder(profile, device=device)
    model = autoencoder.make_autoencoder(profile)
    model.load_state_dict(training.load_checkpoint(checkpoint)["model"])
    return model.to(config.get_device(device)).eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--checkpoint", default=None, help="score this training checkpoint instead of the shipped autoencoder")
    parser.add_argument("--out", default=None, help="results file (default benchmarks/results/thin_parts_<profile>.json)")
    args = parser.parse_args()

    from tutorial_lib import autoencoder, data, metrics

    print("\n".join(machine_lines()))
    model = autoencoder_to_score(args.profile, args.checkpoint, args.device)
    split = data.split_path(data.ensure_dataset(args.profile), "test")
    result = autoencoder.evaluate_iou(model, split)
    voxels = data.read_split(split, ("voxels",))["voxels"][..., 0]
    thin_share = [metrics.thin_voxels(v).sum() / v.sum() for v in voxels]
    rod_share = [metrics.thin_voxels(v, rods_only=True).sum() / v.sum() for v in voxels]

    def mean(values) -> float:
        values = [v for v in values if not np.isnan(v)]
        return float(np.mean(values)) if values else float("nan")

    rows = {}
    categories = result["categories"]
    for c in [*result["per_category"], "all"]:
        picks = [i for i, k in enumerate(categories) if c in (k, "all")]
        rows[c] = {"shapes": len(picks), "iou": mean([result["iou"][i] for i in picks]),
                   "thin_share": mean([thin_share[i] for i in picks]), "thin_recall": mean([result["thin_recall"][i] for i in picks]),
                   "rod_share": mean([rod_share[i] for i in picks]), "rod_recall": mean([result["rod_recall"][i] for i in picks]),
                   "shapes_with_rods": sum(not np.isnan(result["rod_recall"][i]) for i in picks)}  # fmt: skip
    order = sorted(result["per_category"], key=lambda c: rows[c]["rod_recall"] if not np.isnan(rows[c]["rod_recall"]) else 2.0)
    print(f"\n{len(categories)} test shapes at 64³, {args.checkpoint or f'shipped {args.profile} autoencoder'}, commit {commit()}; "
          f"thin: parts at most {metrics.THIN_THICKNESS} voxels across\n")  # fmt: skip
    print("| category | shapes | IoU | thin share of voxels | thin recall | rod share of voxels | rod recall (shapes with rods) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for c in [*order, "all"]:
        r = rows[c]
        name = "**all**" if c == "all" else c
        print(f"| {name} | {r['shapes']} | {r['iou']:.3f} | {r['thin_share']:.3f} | {r['thin_recall']:.3f} | {r['rod_share']:.3f} "
              f"| {r['rod_recall']:.3f} ({r['shapes_with_rods']}) |")  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    out = {"profile": args.profile, "commit": commit(), "thickness": metrics.THIN_THICKNESS, "per_category": rows,
           "shapes": [{"name": n, "category": k, "iou": s, "thin_recall": t, "rod_recall": r}
                      for n, k, s, t, r in zip(result["names"], categories, result["iou"], result["thin_recall"], result["rod_recall"])]}  # fmt: skip
    out["model"] = args.checkpoint or "shipped"
    path = Path(args.out) if args.out else RESULTS / f"thin_parts_{args.profile}.json"
    path.write_text(json.dumps(without_nan(out), indent=1) + "\n")


def without_nan(value):
    """``value`` with every NaN (a shape without thin parts) as None: JSON has no NaN."""
    if isinstance(value, dict):
        return {k: without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nan(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
