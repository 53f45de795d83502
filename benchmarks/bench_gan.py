"""The latent GAN: which width trains best on the quick z, and how its shapes score against two baselines.

    python benchmarks/bench_gan.py widths [--widths 256 512 2048] [--seconds 240] [--steps 3000]
    python benchmarks/bench_gan.py scores [--count 65] [--resolution 32] [--nearest 65] [--out benchmarks/results/gan_scores.json]

``widths``: trains IM-GAN's latent WGAN-GP on the shipped autoencoder's training z at each
width for the same wall time (``--seconds``, at most ``--steps`` generator steps; one torch
thread: on a shared 2-core machine two threads were ten times slower than one), then scores
1,000 generated z against the 65 test z and against the training z in z space (Euclidean
COV / MMD / 1-NNA, :func:`tutorial_lib.gan.z_scores`), beside the Gaussian baseline.

``scores``: the shipped quick GAN (``data/checkpoints/gan_quick.pt``) judged on shapes.
``--count`` z from the GAN, ``--count`` from a Gaussian fitted to the training z (mean, full
covariance, clipped to (0, 1)), and ``--count`` training shapes (the "perfect memoriser":
their z through the same decoder, and their true meshes), each scored against the 65 true
test meshes with COV / MMD / 1-NNA by Chamfer distance (2,048 surface points) and by light
field descriptor, plus each shape's distance to its nearest training shape (the decoded
training set, ``--nearest`` shapes of it, by Chamfer distance), and the distance of each z to
its nearest training z (all of them). Writes the numbers to ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from machine import machine_lines  # benchmarks/machine.py


def widths(args) -> None:
    from tutorial_lib import autoencoder, gan

    codes = autoencoder.load_shipped_z("quick")
    gaussian = gan.gaussian_baseline(codes["train_z"], 1000, seed=1)
    print(
        f"| width | parameters (G + critic) | steps in {args.seconds:.0f} s | s/step | z-space vs test: COV / MMD / 1-NNA | vs train: COV / MMD / 1-NNA | generated z in (0.02, 0.98) |"
    )
    print("| ---: | ---: | ---: | ---: | --- | --- | ---: |")
    rows = [("Gaussian baseline", None, gaussian)]
    for width in args.widths:
        model, history = gan.train_gan("quick", steps=args.steps, width=width, max_seconds=args.seconds, device="cpu", progress=False,
                                       checkpoint=Path(args.runs) / f"gan_quick_width{width}.pt" if args.runs else None)  # fmt: skip
        z = model.generator.sample(1000, seed=1).numpy()
        rows.append((width, (sum(p.numel() for p in model.parameters()), history.step[-1], history.seconds[-1] / history.step[-1]), z))
    for name, info, z in rows:
        test, train = gan.z_scores(z, codes["test_z"]), gan.z_scores(z, codes["train_z"])
        inner = float(((z > 0.02) & (z < 0.98)).mean())
        cells = f"{info[0]:,} | {info[1]} | {info[2]:.3f}" if info else "- | - | -"
        print(f"| {name} | {cells} | {test['cov']:.3f} / {test['mmd']:.3f} / {test['1-nna']:.3f} | "
              f"{train['cov']:.3f} / {train['mmd']:.3f} / {train['1-nna']:.3f} | {inner:.3f} |", flush=True)  # fmt: skip
    real_inner = float(((codes["train_z"] > 0.02) & (codes["train_z"] < 0.98)).mean())
    test = gan.z_scores(codes["train_z"][np.random.default_rng(1).choice(len(codes["train_z"]), len(codes["test_z"]), replace=False)], codes["test_z"])
    print(f"\nfor comparison, 65 training z against the 65 test z: COV {test['cov']:.3f}, MMD {test['mmd']:.3f}, 1-NNA {test['1-nna']:.3f}; "
          f"training z in (0.02, 0.98): {real_inner:.3f}")  # fmt: skip


def scores(args) -> None:
    from tutorial_lib import autoencoder, data, gan

    started = time.perf_counter()
    codes = autoencoder.load_shipped_z("quick")
    ae = autoencoder.load_autoencoder("quick", device="cpu")
    generator = gan.load_gan("quick")
    manifest = json.loads(gan.shipped_paths("quick")["manifest"].read_text())
    folder = data.ensure_dataset("quick")
    test_file, train_file = data.split_path(folder, "test"), data.split_path(folder, "train")
    test_meshes = [data.read_mesh(test_file, i) for i in range(len(codes["test_z"]))]
    rng = np.random.default_rng(args.seed)
    memorised = rng.choice(len(codes["train_z"]), args.count, replace=False)
    nearest_pool = rng.choice(len(codes["train_z"]), min(args.nearest, len(codes["train_z"])), replace=False)
    training_pool = gan.decode_meshes(ae, codes["train_z"][nearest_pool], args.resolution, description="decode training pool")
    sets = {
        "latent GAN": generator.sample(args.count, seed=args.seed).numpy(),
        "Gaussian on training z": gan.gaussian_baseline(codes["train_z"], args.count, seed=args.seed),
        "training shapes (decoded z)": codes["train_z"][memorised],
        "training shapes (true meshes)": [data.read_mesh(train_file, int(i)) for i in memorised],
    }
    nearest_z = {name: float(np.median(gan.nearest_z_distances(z, codes["train_z"])[0])) for name, z in sets.items() if isinstance(z, np.ndarray)}
    results = gan.judge(sets, test_meshes, ae, training={"meshes": training_pool}, resolution=args.resolution, seed=args.seed, nearest_lfd=False)
    print(gan.scores_table(results))
    print("\nmedian distance of a set's z to its nearest training z:", {k: round(v, 4) for k, v in nearest_z.items()})
    elapsed = time.perf_counter() - started
    out = {
        "command": "python benchmarks/bench_gan.py scores " + " ".join(f"--{k} {v}" for k, v in vars(args).items() if k not in ("run",)),
        "machine": machine_lines(), "seconds": round(elapsed, 1), "gan_manifest": {k: manifest.get(k) for k in ("commit", "steps", "wall_time_seconds", "recipe")},
        "scores": {name: {k: v for k, v in r.items() if k != "meshes"} for name, r in results.items()},
        "median_nearest_training_z": nearest_z,
    }  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"\n{elapsed:.0f} s; wrote {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    w = commands.add_parser("widths")
    w.add_argument("--widths", type=int, nargs="+", default=[256, 512, 2048])
    w.add_argument("--seconds", type=float, default=240.0)
    w.add_argument("--steps", type=int, default=3000)
    w.add_argument("--runs", default=None, help="folder for the training checkpoints (default: none kept)")
    w.set_defaults(run=widths)
    s = commands.add_parser("scores")
    s.add_argument("--count", type=int, default=65)
    s.add_argument("--nearest", type=int, default=65, help="decoded training shapes searched for each shape's nearest one")
    s.add_argument("--resolution", type=int, default=32)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", default="benchmarks/results/gan_scores.json")
    s.set_defaults(run=scores)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("\n".join(machine_lines()) + "\n", flush=True)
    args.run(args)


if __name__ == "__main__":
    main()
