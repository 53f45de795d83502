"""Changes to the quick autoencoder's training, side by side at equal wall time.

    python benchmarks/compare_training.py [--minutes 16] [--threads 1] [--results PATH] [VARIANT ...]

Each variant (see ``VARIANTS``) trains the ``quick`` autoencoder from the same initial weights
in its own process, all at the same time, ``--threads`` torch threads each, so all see the
same machine and the same load. A variant first times a few steps of its own, sizes its
cosine schedule to end within ``--minutes``, trains (stopped at ``--minutes`` regardless),
then scores the whole test split at 64³ (``autoencoder.evaluate_iou``: IoU, and the recall of
thin parts and of rods: legs, stems, barrels). Changes are measured one at a time against the
variant they extend. Results: ``benchmarks/results/training_changes_quick.json`` or ``--results`` (each run adds its
variants; a variant run again replaces its entry).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

from machine import side_by_side  # benchmarks/machine.py

RESULTS = Path(__file__).resolve().parent / "results"

# name: (what it changes, recipe fields, precision, autoencoder widths or None for the profile's)
VARIANTS = {
    "fp32": ("the fast recipe as shipped before (all points drawn uniformly), float32", {"thin_share": 0.0}, "fp32", None),
    "bf16": ("bfloat16 autocast", {"thin_share": 0.0}, "bf16", None),
    "bf16+thin": ("bfloat16, a quarter of each shape's points drawn near its thin parts", {"thin_share": 0.25}, "bf16", None),
    "bf16+thin+decoder48": ("bfloat16, thin share 0.25, decoder width 48 instead of 32", {"thin_share": 0.25}, "bf16", (16, 48)),
    "bf16+thin+encoder32": ("bfloat16, thin share 0.25, encoder width 32 instead of 16", {"thin_share": 0.25}, "bf16", (32, 32)),
}
CALIBRATION_STEPS = 6


def run(name: str, seconds: float, threads: int, seed: int, queue) -> None:
    import torch

    from tutorial_lib import autoencoder, config, data
    from tutorial_lib.models import Autoencoder

    torch.set_num_threads(threads)
    _, fields, precision, widths = VARIANTS[name]
    recipe = dataclasses.replace(autoencoder.get_recipe("fast"), **fields)
    settings = config.get_profile("quick").autoencoder
    encoder_width, decoder_width = widths or (settings.encoder_width, settings.decoder_width)

    def model():
        torch.manual_seed(seed)  # the same initial weights for the variants of the same widths
        return Autoencoder(encoder_width, decoder_width)

    started = time.time()
    _, probe = autoencoder.train_autoencoder("quick", recipe, steps=CALIBRATION_STEPS, model=model(), seed=seed, progress=False,
                                             device="cpu", precision=precision)  # fmt: skip
    step_seconds = (probe.seconds[-1] - probe.seconds[1]) / (CALIBRATION_STEPS - 2)  # the first steps warm up
    budget = seconds - (time.time() - started)
    steps = int(0.97 * budget / step_seconds)
    trained, history = autoencoder.train_autoencoder("quick", recipe, steps=steps, max_seconds=budget, model=model(), seed=seed,
                                                     progress=False, device="cpu", precision=precision)  # fmt: skip
    result = autoencoder.evaluate_iou(trained, data.split_path(data.dataset_dir("quick"), "test"), progress=False)
    queue.put({"variant": name, "change": VARIANTS[name][0], "recipe": dataclasses.asdict(recipe), "precision": precision,
               "encoder_width": encoder_width, "decoder_width": decoder_width, "parameters": sum(p.numel() for p in trained.parameters()),
               "step_seconds": round(step_seconds, 4), "steps_planned": steps, "steps_done": history.step[-1], "seconds": round(history.seconds[-1]),
               "points_per_second": round(settings.shapes_per_batch * settings.points_per_shape / step_seconds),
               "test_iou_64": round(result["mean_iou"], 4), "thin_recall": round(result["mean_thin_recall"], 4),
               "rod_recall": round(result["mean_rod_recall"], 4),
               "per_category": {c: round(v, 4) for c, v in result["per_category"].items()},
               "per_category_rod_recall": {c: round(v, 4) for c, v in result["per_category_rod_recall"].items()}})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="*", default=["fp32", "bf16", "bf16+thin", "bf16+thin+decoder48"], help=f"of {sorted(VARIANTS)}")
    parser.add_argument("--minutes", type=float, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS / "training_changes_quick.json",
                        help="the JSON file the variants are added to (another file for runs of another length)")  # fmt: skip
    args = parser.parse_args()
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}: choose from {sorted(VARIANTS)}")

    from tutorial_lib import data, provenance

    data.ensure_dataset("quick")
    load_before = os.getloadavg()[0]
    finished, seconds = side_by_side(run, [(name, args.minutes * 60, args.threads, args.seed) for name in args.variants])
    results = {r["variant"]: r for r in finished}
    run_info = {"minutes": args.minutes, "threads_per_variant": args.threads, "variants_side_by_side": len(results),
                "machine": provenance.machine_description("cpu").rsplit(",", 1)[0], "cores": os.cpu_count(),
                "load_average_before": round(load_before, 2), "date": time.strftime("%Y-%m-%d %H:%M"), "commit": provenance.git_commit(),
                "wall_seconds": round(seconds)}  # fmt: skip
    path = args.results
    path.parent.mkdir(parents=True, exist_ok=True)
    report = json.loads(path.read_text()) if path.exists() else {}
    for name, r in results.items():
        report[name] = {**r, "run": run_info}
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"{len(results)} variants side by side, {args.threads} thread(s) each, {args.minutes:g} min:")
    for name in args.variants:
        r = results[name]
        print(f"{name:22s} {r['steps_done']:5d}/{r['steps_planned']} steps ({r['step_seconds']:.3f} s each, {r['points_per_second']} points/s): "
              f"test IoU {r['test_iou_64']:.3f}, thin recall {r['thin_recall']:.3f}, rod recall {r['rod_recall']:.3f}")  # fmt: skip
    print(f"written: {path}")


if __name__ == "__main__":
    main()
