"""Does the quick autoencoder generalise better from more training shapes? Same test shapes.

    python benchmarks/more_training_shapes.py [--train-per-category 50] [--steps 4000] [--out DIR] [--checkpoint PATH]

Builds a procedural dataset whose **test split is the quick profile's own** (shapes 25–29 of
every category, checked by fingerprint) and whose training split has ``--train-per-category``
shapes per category (numbers 0–24, then 30, 31, … from the same seeded generator: 25 is the
quick profile's first size, 50 its second, 200 its present one). Then trains the quick autoencoder on it
with the fast recipe and the profile's batch and step count, exactly as ``python -m
tutorial_lib train ae --profile quick`` would, and reports the IoU at 64³ on all test shapes
and on 3 training shapes per category.

Only the number of training shapes differs between two runs, so their test IoUs can be
compared directly. Both the build and the training resume when interrupted (run it again with
the same arguments). Results go to ``benchmarks/results/more_training_shapes_<N>.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from machine import machine_lines  # benchmarks/machine.py

RESULTS = Path(__file__).resolve().parent / "results"


def dataset_folder(train_per_category: int) -> Path:
    """Where the dataset with ``train_per_category`` training shapes per category is built by default."""
    from tutorial_lib import config

    return config.data_root() / f"quick_train{train_per_category}"


def jobs_with_quick_test_split(train_per_category: int, seed: int = 0):
    """The quick profile's shapes, with its test shapes kept and ``train_per_category`` training shapes."""
    from tutorial_lib import config, data

    settings = dataclasses.replace(config.get_profile("quick").dataset, train_per_category=train_per_category)
    return data.procedural_jobs("quick", seed, settings=settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-per-category", type=int, default=50)
    parser.add_argument("--steps", type=int, default=None, help="default: the quick profile's")
    parser.add_argument("--out", default=None, help="dataset folder (default: <data root>/quick_train<N>)")
    parser.add_argument("--checkpoint", default=None, help="training checkpoint (default: <data root>/runs/autoencoder_quick_train<N>.pt)")
    args = parser.parse_args()

    from tutorial_lib import autoencoder, config, data

    print("\n".join(machine_lines()))
    folder = Path(args.out) if args.out else dataset_folder(args.train_per_category)
    report = data.build_dataset("quick", out=folder, jobs=jobs_with_quick_test_split(args.train_per_category))
    print(report.summary())
    quick_test = data.read_attrs(data.split_path(data.ensure_dataset("quick"), "test"))["fingerprint"]
    if data.read_attrs(data.split_path(folder, "test"))["fingerprint"] != quick_test:
        raise SystemExit(f"{folder}: its test split differs from the quick profile's; delete the folder and run again")

    checkpoint = Path(args.checkpoint) if args.checkpoint else config.data_root() / "runs" / f"autoencoder_quick_train{args.train_per_category}.pt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    model, history = autoencoder.train_autoencoder("quick", steps=args.steps, dataset=folder, checkpoint=checkpoint, evaluate_every=250)
    model.eval()
    test = autoencoder.evaluate_iou(model, data.split_path(folder, "test"))
    train_categories = data.read_split(data.split_path(folder, "train"), ())["categories"]
    three_each = [i for c in sorted(set(train_categories)) for i in [j for j, k in enumerate(train_categories) if k == c][:3]]
    train = autoencoder.evaluate_iou(model, data.split_path(folder, "train"), indices=three_each)
    result = {"train_shapes": report.counts["train"], "test_shapes": report.counts["test"], "steps": history.step[-1],
              "seconds": round(history.seconds[-1], 1), "test_iou_64": test["mean_iou"], "train_iou_64_3_per_category": train["mean_iou"],
              "per_category": test["per_category"], "probe_iou": history.metrics.get("sample_iou", [])}  # fmt: skip
    print(f"\n{result['train_shapes']} training shapes, {result['steps']} steps in {result['seconds']:.0f} s of training: "
          f"test IoU at 64³ {test['mean_iou']:.4f} ({result['test_shapes']} shapes), training shapes {train['mean_iou']:.4f}")  # fmt: skip
    print("| category | test IoU at 64³ |\n| --- | ---: |")
    for category, value in test["per_category"].items():
        print(f"| {category} | {value:.3f} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"more_training_shapes_{args.train_per_category}.json").write_text(json.dumps(result, indent=1, default=lambda o: o.item()) + "\n")


if __name__ == "__main__":
    main()
