"""Ways to train the autoencoder, side by side at equal wall time.

    python benchmarks/compare_training.py [GROUP or VARIANT ...] [--minutes 10] [--threads 1] [--device cpu] [--smoke]

Each variant (``VARIANTS``: a recipe, changes to its fields, a precision, network widths)
trains the profile's autoencoder in its own process, all at the same time (``--threads`` torch
threads each), so all see the same machine and the same load; variants of the same widths start
from the same initial weights. A variant first times a few steps of its own, sizes its schedule
to end within ``--minutes`` (IM-NET's recipe has no time-based schedule: its three equal stages
are sized the same way), trains (stopped at ``--minutes`` regardless; ``--steps`` gives every
variant that many steps instead), measuring the IoU on the 64³ points of 16 test shapes ten
times along the way (``sample_iou``), then scores the test split at 64³
(``autoencoder.evaluate_iou``: IoU, and the recall of thin parts and of rods).

Groups (each writes its own results file):

``recipes`` (the default)
    the fast recipe against IM-NET's (``paper``): ``recipe_comparison_<profile>.json``, which
    notebook 04 draws;
``changes``
    the fast recipe's changes, one at a time, each against the row before it (float32 and
    uniform points; bfloat16; a quarter of the points near thin parts; a wider decoder):
    ``training_changes_<profile>.json``;
``augmentation``
    the fast recipe against new shapes made from the training shapes at every step (shrunk and
    mirrored; stretched) and noise on z: ``training_augmentation_<profile>.json``.

Any other list of variants writes ``training_variants_<profile>.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

from machine import add_options, load_average, machine_lines, setup, side_by_side, spread, table, write_results  # benchmarks/machine.py

# name: (what it changes, base recipe, recipe fields, precision, (encoder, decoder) widths or None for the profile's)
VARIANTS = {
    "fast": ("the shipped recipe (fast)", "fast", {}, "auto", None),
    "paper": ("IM-NET's recipe: MSE on the sigmoid, Adam 5·10⁻⁵ with β₁ 0.5, equal stages, every point of the stage", "paper", {}, "auto", None),
    "fp32": ("float32, all points drawn uniformly (the fast recipe before the two changes below)", "fast", {"thin_share": 0.0}, "fp32", None),
    "bf16": ("bfloat16 autocast", "fast", {"thin_share": 0.0}, "bf16", None),
    "bf16+thin": ("bfloat16, a quarter of each shape's points drawn near its thin parts", "fast", {"thin_share": 0.25}, "bf16", None),
    "bf16+thin+decoder48": ("bfloat16, thin share 0.25, decoder width 48 instead of 32", "fast", {"thin_share": 0.25}, "bf16", (16, 48)),
    "bf16+thin+encoder32": ("bfloat16, thin share 0.25, encoder width 32 instead of 16", "fast", {"thin_share": 0.25}, "bf16", (32, 32)),
    "fast-augmented": ("each shape shrunk to [0.8, 1] per axis and mirrored half of the time", "fast-augmented", {}, "auto", None),
    "stretch": ("each shape stretched to [1, 1.3] per axis where the cube has room", "fast", {"augment_stretch": 0.3}, "auto", None),
    "code-noise": ("Gaussian noise of 0.3 on u (z before its sigmoid), in training", "fast", {"code_noise": 0.3}, "auto", None),
    "no-penalty": ("without the penalty on u² that keeps z off 0 and 1", "fast", {"code_penalty": 0.0}, "auto", None),
}
GROUPS = {
    "recipes": (["fast", "paper"], "recipe_comparison"),
    "changes": (["fp32", "bf16", "bf16+thin", "bf16+thin+decoder48"], "training_changes"),
    "augmentation": (["fast", "fast-augmented", "stretch", "code-noise"], "training_augmentation"),
}
CALIBRATION_STEPS = 6


def run(name: str, options: dict, queue) -> None:
    """Train and score one variant (in its own process); put its numbers on ``queue``."""
    import torch

    from tutorial_lib import autoencoder, config, data
    from tutorial_lib.models import Autoencoder
    from tutorial_lib.training import RunOptions

    torch.set_num_threads(options["threads"])
    change, base, fields, precision, widths = VARIANTS[name]
    recipe = dataclasses.replace(autoencoder.get_recipe(base), **fields)
    profile = config.get_profile(options["profile"])
    device, seed, folder = torch.device(options["device"]), options["seed"], options["folder"]
    encoder_width, decoder_width = widths or (profile.autoencoder.encoder_width, profile.autoencoder.decoder_width)

    def train(steps: int, max_seconds: float | None = None, evaluate_every: int = 0):
        config.seed_everything(seed)  # the same initial weights for the variants of the same widths
        model = Autoencoder(encoder_width, decoder_width)
        run = RunOptions(steps=steps, device=device, seed=seed, max_seconds=max_seconds, precision=precision, evaluate_every=evaluate_every, progress=False)
        return autoencoder.train_autoencoder(profile, run, recipe, model=model, dataset=folder, shapes_per_batch=options["shapes_per_batch"])

    started = time.time()
    if options["steps"]:
        steps, budget = options["steps"], options["seconds"]
        step_seconds = None
    else:
        _, probe = train(CALIBRATION_STEPS)
        step_seconds = (probe.seconds[-1] - probe.seconds[1]) / (CALIBRATION_STEPS - 2)  # the first steps warm up
        budget = options["seconds"] - (time.time() - started)
        steps = max(CALIBRATION_STEPS, int(0.97 * budget / step_seconds))
    trained, history = train(steps, budget, evaluate_every=steps // 10 if steps >= 10 else steps)  # ten probes (one, at the end, of a short run)
    step_seconds = step_seconds or history.seconds[-1] / history.step[-1]
    test_file = data.split_path(folder, "test")
    indices = spread(len(data.read_split(test_file, ())["names"]), options["test_shapes"])
    result = autoencoder.evaluate_iou(trained, test_file, indices=indices, progress=False)
    points = (options["shapes_per_batch"] or profile.autoencoder.shapes_per_batch) * profile.autoencoder.points_per_shape
    queue.put({"variant": name, "change": change, "recipe": dataclasses.asdict(recipe), "precision": precision,
               "encoder_width": encoder_width, "decoder_width": decoder_width, "parameters": sum(p.numel() for p in trained.parameters()),
               "step_seconds": round(step_seconds, 4), "points_per_second": round(points / step_seconds),
               "steps_planned": steps, "steps_done": history.step[-1], "seconds": history.seconds[-1],
               "sample_iou_curve": [(step, float(history.seconds[step - 1]), value) for step, value in history.metrics.get("sample_iou", [])],
               "test_shapes": len(result["iou"]), "test_iou_64": result["mean_iou"], "thin_recall": result["mean_thin_recall"],
               "rod_recall": result["mean_rod_recall"], "per_category": result["per_category"],
               "per_category_rod_recall": result["per_category_rod_recall"]})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="*", default=["recipes"], help=f"groups ({', '.join(GROUPS)}) or variants ({', '.join(VARIANTS)})")
    add_options(parser, device="cpu")
    parser.add_argument("--minutes", type=float, default=10, help="wall time of every variant")
    parser.add_argument("--steps", type=int, default=None, help="give every variant this many steps instead (stopped at --minutes if given)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per variant")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-shapes", type=int, default=None, help="score this many test shapes, spread over the split (default: all)")
    args = parser.parse_args()
    names = [v for item in args.variants for v in (GROUPS[item][0] if item in GROUPS else [item])]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}: choose from the groups {', '.join(GROUPS)} or the variants {', '.join(VARIANTS)}")
    stem = GROUPS[args.variants[0]][1] if len(args.variants) == 1 and args.variants[0] in GROUPS else "training_variants"
    shapes_per_batch = None
    if args.smoke:
        args.steps, args.minutes, args.test_shapes, shapes_per_batch = 3, None, 1, 2
    from tutorial_lib import provenance

    s = setup(args)
    print(f"# Training variants side by side: {', '.join(names)}\n")
    print("\n".join(machine_lines(s.device)))
    load_before = load_average()
    seconds = args.minutes * 60 if args.minutes else None
    options = {"profile": s.profile.name, "folder": str(s.folder), "device": str(s.device), "threads": args.threads, "seed": args.seed,
               "steps": args.steps, "seconds": seconds, "test_shapes": args.test_shapes, "shapes_per_batch": shapes_per_batch}  # fmt: skip
    finished, wall = side_by_side(run, [(name, options) for name in dict.fromkeys(names)])
    runs = {r["variant"]: r for r in sorted(finished, key=lambda r: names.index(r["variant"]))}
    rows = [[f"`{name}`: {r['change']}", f"{r['parameters']:,}", f"{r['steps_done']}/{r['steps_planned']}", f"{r['step_seconds']:.3f}",
             f"{r['points_per_second']:,}", f"{r['test_iou_64']:.3f}", f"{r['thin_recall']:.3f}", f"{r['rod_recall']:.3f}"] for name, r in runs.items()]  # fmt: skip
    budget = f"{args.minutes:g} min" if args.minutes else f"{args.steps} steps"
    print(f"\n## {len(runs)} variants side by side, {args.threads} thread(s) each, {budget}; {wall:.0f} s in all\n")
    print(table(["variant", "parameters", "steps done/planned", "s per step", "points/s", "test IoU at 64³", "thin recall", "rod recall"], rows))
    write_results(s, f"{stem}_{s.profile.name}.json", {
        "profile": s.profile.name, "minutes": args.minutes, "steps": args.steps, "threads_per_run": args.threads, "device": str(s.device),
        "machine": machine_lines(s.device), "cores": os.cpu_count(), "load_average_before": load_before,
        "date": time.strftime("%Y-%m-%d"), "commit": provenance.git_commit(), "wall_seconds": round(wall), "runs": runs,
    })  # fmt: skip


if __name__ == "__main__":
    main()
