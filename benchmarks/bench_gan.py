"""The latent GAN: which width trains best on the autoencoder's z, and how the shipped generator's shapes score against two baselines.

    python benchmarks/bench_gan.py [widths] [scores] [--profile quick] [--smoke] [options]

Runs the parts named (both when none is). One torch thread unless ``--threads``: on a shared
2-core machine two threads made a GAN step several times slower than one.

widths
    Trains IM-GAN's latent WGAN-GP (``gan.train_gan``) on the shipped autoencoder's training z
    at each of ``--widths`` for the same wall time (``--seconds``, at most ``--steps`` generator
    steps), then scores ``--samples`` generated z in z space (Euclidean COV / MMD / 1-NNA,
    ``gan.z_scores``) against the test z and against the training z, beside the Gaussian
    baseline (mean and full covariance of the training z, clipped to (0, 1)) and beside as many
    training z as there are test z.

scores
    The shipped generator judged on shapes (``gan.judge``): ``--count`` z from the GAN,
    ``--count`` from the Gaussian baseline, ``--count`` training shapes through the same decoder
    (the perfect memoriser) and the same training shapes' true meshes, each scored against
    ``--count`` true test meshes by COV / MMD / 1-NNA with the Chamfer distance (2,048 surface
    points) and the light field distance; with each shape's Chamfer distance to the nearest of
    ``--nearest`` decoded training shapes, and each z's distance to the nearest training z.
    Meshes at ``--resolution``³. Writes ``gan_scores.json``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from machine import add_options, machine_lines, model_record, setup, spread, table, write_results  # benchmarks/machine.py

PARTS = ("widths", "scores")


def widths(s, args) -> dict:
    from tutorial_lib import autoencoder, gan
    from tutorial_lib.training import RunOptions

    codes = autoencoder.load_shipped_z(s.profile)
    rows = [("Gaussian baseline", None, gan.gaussian_baseline(codes["train_z"], args.samples, seed=1))]
    for width in args.widths:
        run = RunOptions(steps=args.steps, device=s.device, max_seconds=args.seconds, progress=False)
        model, history = gan.train_gan(s.profile, run, width=width, codes=codes)
        z = model.generator.sample(args.samples, seed=1).numpy()
        rows.append((width, (sum(p.numel() for p in model.parameters()), history.step[-1], history.seconds[-1] / history.step[-1]), z))
    found, lines = [], []
    for name, info, z in rows:
        test, train = gan.z_scores(z, codes["test_z"]), gan.z_scores(z, codes["train_z"])
        inner = float(((z > 0.02) & (z < 0.98)).mean())
        found.append({"width": name, "parameters": info[0] if info else None, "steps": info[1] if info else None,
                      "seconds_per_step": info[2] if info else None, "vs_test": test, "vs_train": train, "inner_share": inner})  # fmt: skip
        lines.append([name, *((f"{info[0]:,}", info[1], f"{info[2]:.3f}") if info else ("–", "–", "–")),
                      " / ".join(f"{test[k]:.3f}" for k in ("cov", "mmd", "1-nna")), " / ".join(f"{train[k]:.3f}" for k in ("cov", "mmd", "1-nna")),
                      f"{inner:.3f}"])  # fmt: skip
    print(f"\n## Widths at equal wall time ({args.seconds:g} s, at most {args.steps} steps), {args.samples} generated z in z space\n")
    print(table(["width", "parameters (G + critic)", f"steps in {args.seconds:g} s", "s/step", "vs test: COV / MMD / 1-NNA",
                 "vs train: COV / MMD / 1-NNA", "generated z in (0.02, 0.98)"], lines, right={1, 2, 3, 6}))  # fmt: skip
    picks = np.random.default_rng(1).choice(len(codes["train_z"]), len(codes["test_z"]), replace=False)
    same = gan.z_scores(codes["train_z"][picks], codes["test_z"])
    print(f"\nfor comparison, {len(picks)} training z against the {len(codes['test_z'])} test z: COV {same['cov']:.3f}, MMD {same['mmd']:.3f}, "
          f"1-NNA {same['1-nna']:.3f}; training z in (0.02, 0.98): {float(((codes['train_z'] > 0.02) & (codes['train_z'] < 0.98)).mean()):.3f}")  # fmt: skip
    return {"seconds": args.seconds, "steps": args.steps, "samples": args.samples, "rows": found, "training_z_vs_test": same}


def scores(s, args) -> dict:
    from tutorial_lib import autoencoder, data, gan, shipping

    started = time.perf_counter()
    codes = autoencoder.load_shipped_z(s.profile)
    ae = shipping.load("autoencoder", s.profile, device=s.device)
    generator = shipping.load("gan", s.profile, device=s.device)
    test_file, train_file = s.split("test"), s.split("train")
    tests = spread(len(data.read_split(test_file, ())["names"]), args.count)
    test_meshes = [data.read_mesh(test_file, i) for i in tests]
    # the memoriser: training shapes of the dataset that the autoencoder was trained on (their z in its z file)
    train_names = data.read_split(train_file, ())["names"]
    row_of = {name: i for i, name in enumerate(codes["train_names"])}
    known = [i for i, name in enumerate(train_names) if name in row_of]
    rng = np.random.default_rng(args.seed)
    memorised = rng.choice(known, min(args.count, len(known)), replace=False)
    pool = rng.choice(len(codes["train_z"]), min(args.nearest, len(codes["train_z"])), replace=False)
    training_pool = gan.decode_meshes(ae, codes["train_z"][pool], args.resolution, progress=False)
    sets = {
        "latent GAN": generator.sample(len(tests), seed=args.seed).cpu().numpy(),
        "Gaussian on training z": gan.gaussian_baseline(codes["train_z"], len(tests), seed=args.seed),
        "training shapes (decoded z)": codes["train_z"][[row_of[train_names[i]] for i in memorised]],
        "training shapes (true meshes)": [data.read_mesh(train_file, int(i)) for i in memorised],
    }
    nearest_z = {name: float(np.median(gan.nearest_z_distances(z, codes["train_z"])[0])) for name, z in sets.items() if isinstance(z, np.ndarray)}
    results = gan.judge(sets, test_meshes, ae, training={"meshes": training_pool}, resolution=args.resolution, seed=args.seed, nearest_lfd=False,
                        progress=False)  # fmt: skip
    rows = []
    for name, r in results.items():
        rows.append([name, *(f"{r[d][k]:.4g}" for d in ("chamfer", "lfd") for k in ("cov", "mmd", "1-nna")),
                     f"{np.median(r['nearest_training_chamfer']):.5f}", f"{nearest_z[name]:.2f}" if name in nearest_z else "–", r["empty_meshes"]])  # fmt: skip
    elapsed = time.perf_counter() - started
    print(f"\n## The shipped {s.profile.name} generator: {len(tests)} shapes per set against {len(tests)} test meshes, meshes at {args.resolution}³ "
          f"({elapsed:.0f} s)\n")  # fmt: skip
    print(table(["set", "COV-CD", "MMD-CD", "1-NNA-CD", "COV-LFD", "MMD-LFD", "1-NNA-LFD", "nearest train (CD)", "nearest train z", "empty"], rows))
    print("\nHigher COV, lower MMD, and 1-NNA nearer 0.5 are better.")
    return {
        "command": "python benchmarks/bench_gan.py scores " + " ".join(f"--{k} {v}" for k, v in (("count", args.count), ("nearest", args.nearest),
                                                                                               ("resolution", args.resolution), ("seed", args.seed))),
        "machine": machine_lines(s.device), "seconds": round(elapsed, 1), "model": model_record("gan", s.profile),
        "scores": {name: {k: v for k, v in r.items() if k != "meshes"} for name, r in results.items()},
        "median_nearest_training_z": nearest_z,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", help=f"any of {', '.join(PARTS)} (default: both)")
    add_options(parser, device="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--widths", type=int, nargs="+", default=[256, 512, 2048], help="widths: hidden units of generator and critic")
    parser.add_argument("--seconds", type=float, default=240.0, help="widths: wall time per width")
    parser.add_argument("--steps", type=int, default=3000, help="widths: at most this many generator steps")
    parser.add_argument("--samples", type=int, default=1000, help="widths: generated z scored")
    parser.add_argument("--count", type=int, default=65, help="scores: shapes per set, and test shapes")
    parser.add_argument("--nearest", type=int, default=65, help="scores: decoded training shapes searched for each shape's nearest one")
    parser.add_argument("--resolution", type=int, default=32, help="scores: grid of the decoded meshes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}: choose from {', '.join(PARTS)}")
    parts = [p for p in PARTS if p in args.parts] or list(PARTS)
    if args.smoke:
        args.widths, args.seconds, args.steps, args.samples, args.count, args.nearest, args.resolution = [16], 5.0, 3, 50, 3, 3, 16
    torch.set_num_threads(args.threads)
    s = setup(args, dataset="scores" in parts)
    print(f"# Latent GAN: {', '.join(parts)}\n")
    print("\n".join(machine_lines(s.device)))
    if "widths" in parts:
        write_results(s, f"gan_widths_{s.profile.name}.json", {"machine": machine_lines(s.device)} | widths(s, args))
    if "scores" in parts:
        write_results(s, "gan_scores.json" if s.profile.name == "quick" else f"gan_scores_{s.profile.name}.json", scores(s, args))


if __name__ == "__main__":
    main()
