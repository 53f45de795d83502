"""The paper's training recipe against the fast one, at equal wall time.

    python benchmarks/compare_recipes.py [--minutes 10] [--fast-steps 420] [--paper-steps 45] [--threads 1]

Both recipes train the same ``quick`` autoencoder from the same initial weights, **at the
same time** (two processes, ``--threads`` torch threads each), so both see the same machine
and the same load. Each gets a schedule sized to end within ``--minutes`` (IM-NET's recipe
has no time-based schedule; ``--paper-steps`` gives its three equal stages), and both are
stopped at ``--minutes`` regardless. Every ~10% of its steps, each run measures the IoU on the
64³ points of 16 test shapes (``sample_iou``); at the end, the IoU at 64³ on the whole test
split. The curves and numbers are written to
``benchmarks/results/recipe_comparison_<profile>.json``, which notebook 04 plots.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from machine import side_by_side  # benchmarks/machine.py

RESULTS = Path(__file__).resolve().parent / "results"


def run(recipe: str, steps: int, seconds: float, threads: int, profile: str, seed: int, queue) -> None:
    import torch

    from tutorial_lib import autoencoder, data

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = autoencoder.make_autoencoder(profile)  # same seed → same initial weights in both processes
    model, history = autoencoder.train_autoencoder(profile, recipe, steps=steps, max_seconds=seconds, model=model, seed=seed,
                                                   evaluate_every=max(1, steps // 10), progress=False, device="cpu")  # fmt: skip
    result = autoencoder.evaluate_iou(model, data.split_path(data.dataset_dir(profile), "test"), progress=False)
    curve = [(step, float(history.seconds[step - 1]), value) for step, value in history.metrics["sample_iou"]]
    queue.put({"recipe": recipe, "steps_planned": steps, "steps_done": history.step[-1], "seconds": history.seconds[-1],
               "sample_iou_curve": curve, "test_iou_64": result["mean_iou"], "per_category": result["per_category"]})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--fast-steps", type=int, default=420)
    parser.add_argument("--paper-steps", type=int, default=45)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from tutorial_lib import data, provenance

    data.ensure_dataset(args.profile)
    finished, seconds = side_by_side(run, [(name, steps, args.minutes * 60, args.threads, args.profile, args.seed)
                                           for name, steps in (("fast", args.fast_steps), ("paper", args.paper_steps))])  # fmt: skip
    results = {r["recipe"]: r for r in finished}
    report = {"profile": args.profile, "minutes": args.minutes, "threads_per_run": args.threads,
              "machine": provenance.machine_description("cpu").rsplit(",", 1)[0], "cores": os.cpu_count(),
              "date": time.strftime("%Y-%m-%d"), "commit": provenance.git_commit(),
              "wall_seconds": round(seconds), "runs": results}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"recipe_comparison_{args.profile}.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    for name, r in results.items():
        print(f"{name:6s} {r['steps_done']:4d}/{r['steps_planned']} steps in {r['seconds']:.0f} s: test IoU at 64³ {r['test_iou_64']:.3f}, "
              f"probe IoU {' '.join(f'{v:.2f}' for _, _, v in r['sample_iou_curve'])}")  # fmt: skip
    print(f"written: {path}")


if __name__ == "__main__":
    main()
