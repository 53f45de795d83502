"""The amortisation gap: test IoU from the encoder's z, and from a z fitted to each shape.

    python benchmarks/fitted_codes.py [--steps 0 10 30 100] [--checkpoint RUN.pt] [--out FILE.json]

Scores every test shape of the quick dataset at 64³ (``autoencoder.evaluate_iou``: IoU, thin
recall, rod recall) with the shipped quick autoencoder (or a training ``--checkpoint``), once
for each number of fitting steps: 0 is the encoder's z alone, more is ``autoencoder.fit_codes``
(the encoder's z, then Adam on it with the decoder fixed, against the shape's own voxels). The
seconds the fitting adds per shape are the difference to the 0-step pass. Writes
``benchmarks/results/fitted_codes_quick.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from machine import machine_lines  # benchmarks/machine.py
from thin_parts import autoencoder_to_score, commit  # benchmarks/thin_parts.py

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_CATEGORIES = ("chair", "table", "lamp", "bench", "rifle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 10, 30, 100])
    parser.add_argument("--checkpoint", default=None, help="score this training checkpoint instead of the shipped autoencoder")
    parser.add_argument("--out", default=str(RESULTS / "fitted_codes_quick.json"))
    args = parser.parse_args()

    from tutorial_lib import autoencoder, data

    print("\n".join(machine_lines()))
    model = autoencoder_to_score("quick", args.checkpoint)
    split = data.split_path(data.ensure_dataset("quick"), "test")
    rows = {}
    for steps in sorted(set(args.steps)):
        start = time.time()
        result = autoencoder.evaluate_iou(model, split, fit_steps=steps)
        rows[steps] = {"seconds": time.time() - start, "mean_iou": result["mean_iou"], "thin_recall": result["mean_thin_recall"],
                       "rod_recall": result["mean_rod_recall"], "per_category": result["per_category"], "iou": result["iou"],
                       "names": result["names"]}  # fmt: skip
    base = rows[min(rows)]["seconds"]
    shapes = len(rows[min(rows)]["iou"])
    print(f"\n{shapes} test shapes at 64³, {args.checkpoint or 'shipped quick autoencoder'}, commit {commit()}\n")
    print("| z | mean IoU | thin recall | rod recall | " + " | ".join(GOAL_CATEGORIES) + " | s per shape added |")
    print("| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in GOAL_CATEGORIES) + " | ---: |")
    for steps, r in rows.items():
        name = "the encoder's" if steps == 0 else f"fitted, {steps} steps"
        added = (r["seconds"] - base) / shapes
        print(f"| {name} | {r['mean_iou']:.3f} | {r['thin_recall']:.3f} | {r['rod_recall']:.3f} | "
              + " | ".join(f"{r['per_category'][c]:.3f}" for c in GOAL_CATEGORIES) + f" | {added:.2f} |")  # fmt: skip
    print("\n| category | " + " | ".join("encoder" if s == 0 else f"{s} steps" for s in rows) + " |")
    print("| --- | " + " | ".join("---:" for _ in rows) + " |")
    for c in rows[min(rows)]["per_category"]:
        print(f"| {c} | " + " | ".join(f"{r['per_category'][c]:.3f}" for r in rows.values()) + " |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"checkpoint": args.checkpoint, "commit": commit(),
                                          "machine": machine_lines(), "by_steps": rows}, indent=1) + "\n")  # fmt: skip
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
