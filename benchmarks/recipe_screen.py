"""Recipes for the quick autoencoder, side by side at the step counts an hour on 2 CPU cores buys.

    python benchmarks/recipe_screen.py --build-only [--workers 8]      # the datasets the variants need
    python benchmarks/recipe_screen.py [--device cuda] [--max-seconds S] [--results PATH] [VARIANT ...]

An hour of the quick autoencoder's training on 2 CPU cores (AVX512-BF16, bfloat16 autocast) is
about 15,000 steps of the fast recipe, and about 13,000 when each batch is also augmented
(BENCHMARKS.md, "Thin parts"). A GPU runs several such runs side by side, so one GPU session
can try several recipes at the step count that one CPU hour buys (the step is small, so the GPU
is far from full: BENCHMARKS.md gives the measured rate and how long seven variants take); the
best one then has to prove itself in a real hour on the CPU. Each variant (``VARIANTS``) trains in its own process,
all at the same time, from the same seed (so the same initial weights), on a dataset with the
quick profile's own test split and its own number of training shapes (the quick profile's own
number is the quick dataset; other numbers are ``more_training_shapes.py``'s datasets, built by
``--build-only``). Then every test shape is scored at 64³ (``autoencoder.evaluate_iou``: IoU, and
the recall of thin parts and of rods). ``--max-seconds`` stops a variant's training early (its
learning rate then has not decayed; the result says how many steps it did). Results:
``benchmarks/results/recipe_screen.json`` or ``--results``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import more_training_shapes  # benchmarks/more_training_shapes.py
from machine import side_by_side  # benchmarks/machine.py

RESULTS = Path(__file__).resolve().parent / "results"

# name: (what it changes, base recipe, recipe fields, training shapes per category, steps)
VARIANTS = {
    "fast": ("the shipped recipe", "fast", {}, 50, 15000),
    "fast-augmented": ("shrunk to [0.8, 1] per axis and mirrored (2,000 steps fewer: augmenting costs time)", "fast-augmented", {}, 50, 13000),
    "stretch": ("stretched to [1, 1.3] per axis where the cube has room (thin parts thicker, not thinner)", "fast", {"augment_stretch": 0.3}, 50, 13000),
    "code-noise": ("Gaussian noise of 0.3 on u = z before its sigmoid, in training", "fast", {"code_noise": 0.3}, 50, 15000),
    "train100": ("100 training shapes per category instead of 50 (1,300 shapes)", "fast", {}, 100, 15000),
    "train100+stretch": ("100 training shapes per category, and stretched", "fast", {"augment_stretch": 0.3}, 100, 13000),
    "fast-augmented-2h": ("fast-augmented for twice as many steps (two CPU hours)", "fast-augmented", {}, 50, 26000),
}


def dataset_folder(train_per_category: int) -> Path:
    """The quick dataset itself for its own number of training shapes per category, else more_training_shapes.py's."""
    from tutorial_lib import config, data

    own = config.get_profile("quick").dataset.train_per_category
    return data.dataset_dir("quick") if train_per_category == own else more_training_shapes.dataset_folder(train_per_category)


def build(train_per_category: int, workers: int | None) -> None:
    from tutorial_lib import data

    if train_per_category == 50:
        report = data.build_dataset("quick", workers=workers, progress=False)
    else:
        folder = dataset_folder(train_per_category)
        report = data.build_dataset(
            "quick", out=folder, jobs=more_training_shapes.jobs_with_quick_test_split(train_per_category), workers=workers, progress=False
        )
    print(report.summary(), flush=True)


def run(name: str, device: str, max_seconds: float | None, seed: int, queue) -> None:
    import torch

    from tutorial_lib import autoencoder, data

    torch.set_num_threads(1)
    change, base, fields, train_per_category, steps = VARIANTS[name]
    recipe = dataclasses.replace(autoencoder.get_recipe(base), **fields)
    folder = dataset_folder(train_per_category)
    started = time.time()
    trained, history = autoencoder.train_autoencoder("quick", recipe, steps=steps, max_seconds=max_seconds, seed=seed, progress=False,
                                                     device=device, dataset=folder)  # fmt: skip
    train_seconds = time.time() - started
    result = autoencoder.evaluate_iou(trained, data.split_path(folder, "test"), progress=False)
    queue.put({"variant": name, "change": change, "recipe": dataclasses.asdict(recipe), "train_per_category": train_per_category,
               "steps_planned": steps, "steps_done": history.step[-1], "train_seconds": round(train_seconds),
               "test_iou_64": round(result["mean_iou"], 4), "thin_recall": round(result["mean_thin_recall"], 4),
               "rod_recall": round(result["mean_rod_recall"], 4),
               "per_category": {c: round(v, 4) for c, v in result["per_category"].items()},
               "per_category_rod_recall": {c: round(v, 4) for c, v in result["per_category_rod_recall"].items()}})  # fmt: skip


GOAL_CATEGORIES = ("chair", "table", "lamp", "bench", "rifle")  # the "at least 0.75 in each"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="*", default=list(VARIANTS), help=f"of {list(VARIANTS)}")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--build-only", action="store_true", help="build the variants' datasets, train nothing")
    parser.add_argument("--workers", type=int, default=None, help="processes building the datasets")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop each variant's training after this long")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS / "recipe_screen.json")
    args = parser.parse_args()
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}: choose from {list(VARIANTS)}")

    from tutorial_lib import config, provenance

    for train_per_category in sorted({VARIANTS[name][3] for name in args.variants}):
        build(train_per_category, args.workers)
    if args.build_only:
        return
    device = config.get_device(args.device)
    load_before = os.getloadavg()[0]
    finished, seconds = side_by_side(run, [(name, str(device), args.max_seconds, args.seed) for name in args.variants])
    results = {r["variant"]: r for r in finished}
    run_info = {"device": provenance.machine_description(str(device)), "variants_side_by_side": len(results), "cores": os.cpu_count(),
                "load_average_before": round(load_before, 2), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "commit": provenance.git_commit(), "wall_seconds": round(seconds)}  # fmt: skip
    args.results.parent.mkdir(parents=True, exist_ok=True)
    report = json.loads(args.results.read_text()) if args.results.exists() else {}
    for name, r in results.items():
        report[name] = {**r, "run": run_info}
    args.results.write_text(json.dumps(report, indent=1) + "\n")
    print(f"{len(results)} variants side by side on {run_info['device']}, {run_info['wall_seconds']} s:")
    print(f"{'variant':20s} {'steps':>13s} {'IoU':>6s} {'thin':>6s} {'rods':>6s}  " + " ".join(f"{c:>7s}" for c in GOAL_CATEGORIES))
    for name in args.variants:
        r = results[name]
        print(f"{name:20s} {r['steps_done']:6d}/{r['steps_planned']:<6d} {r['test_iou_64']:6.3f} {r['thin_recall']:6.3f} {r['rod_recall']:6.3f}  "
              + " ".join(f"{r['per_category'][c]:7.3f}" for c in GOAL_CATEGORIES))  # fmt: skip
    print(f"written: {args.results}")


if __name__ == "__main__":
    main()
