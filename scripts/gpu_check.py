"""Measure the paper-scale path on one GPU in under 8 minutes, and print what BENCHMARKS.md needs.

    python scripts/gpu_check.py                      # on a GPU machine
    python scripts/gpu_check.py --json build/gpu_check.json
    python scripts/gpu_check.py --cpu-dry-run        # every stage for a few steps on the CPU (tests)

Stages, each through the library's own training loop and extraction:

1. autoencoder training throughput at the paper's size (encoder width 32, decoder width 128,
   32 shapes × 8,192 points per step), in float32 (TF32 off) and in bfloat16 autocast: points/s;
2. image encoder (ResNet-18 at torchvision's width, 64 images per step) training: images/s;
3. the full profile's dataset, built if missing (its build time is printed);
4. a ``--minutes`` (default 4) full-profile autoencoder run on it, with the number of steps
   that fits that time at the throughput measured in stage 1 (so the progressive stages and the
   learning-rate decay run to their end), then its test IoU at 64³ on ``--iou-shapes`` test
   shapes spread over the categories;
5. a 256³ coarse-to-fine extraction with that paper-size model: seconds per shape.

Stages 1 and 2 use random inputs (throughput does not depend on the data). The dry run uses
tiny widths, batches and a given or smoke-profile dataset: it checks the code path, not speed.

On a machine that starts bare, stage 3 is the long one: it builds 6,006 shapes on the CPU, with
every core. Where a lease is shorter than the build plus stage 4, build the dataset first
(``python -m tutorial_lib data build --profile full``) or pass ``--dataset``. With ``--json`` the
file is rewritten after every stage, so a run stopped by its lease keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from tutorial_lib import autoencoder, config, data, geometry, models, svr, training


def _synthetic_batches(make_batch):
    """``batches(step)`` for random inputs: the same tensors every step (throughput only)."""
    batch = make_batch()
    return lambda step: batch


def autoencoder_throughput(device, precision, encoder_width, decoder_width, shapes, points, steps, warmup):
    """Training points/s of the autoencoder at these widths and batch, through training.train."""
    config.seed_everything(0)
    model = models.Autoencoder(encoder_width, decoder_width)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = autoencoder.occupancy_loss(autoencoder.get_recipe("fast"))
    generator = torch.Generator().manual_seed(0)
    batches = _synthetic_batches(lambda: (
        (torch.rand(shapes, 1, 64, 64, 64, generator=generator) > 0.7).float().to(device),
        (torch.rand(shapes, points, 3, generator=generator) - 0.5).to(device),
        (torch.rand(shapes, points, 1, generator=generator) > 0.5).float().to(device),
    ))  # fmt: skip
    training.train(model, optimizer, loss_fn, batches, training.RunOptions(steps=warmup, device=device, precision=precision, progress=False))
    _sync(device)
    start = time.perf_counter()
    training.train(model, optimizer, loss_fn, batches, training.RunOptions(steps=steps, device=device, precision=precision, progress=False, seed=1))
    _sync(device)
    seconds = time.perf_counter() - start
    return {"points_per_s": steps * shapes * points / seconds, "steps_per_s": steps / seconds, "seconds": seconds, "steps": steps}


def image_encoder_throughput(device, precision, width, batch_size, steps, warmup):
    """Training images/s of the image encoder (random crops and flips included), through training.train."""
    config.seed_everything(0)
    model = models.ImageEncoder(width=width)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    batches = _synthetic_batches(lambda: (torch.rand(batch_size, 1, config.IMAGE_SIZE, config.IMAGE_SIZE, generator=generator).to(device),
                                          torch.rand(batch_size, config.Z_DIM, generator=generator).to(device)))  # fmt: skip
    training.train(model, optimizer, svr.z_loss, batches, training.RunOptions(steps=warmup, device=device, precision=precision, progress=False))
    _sync(device)
    start = time.perf_counter()
    training.train(model, optimizer, svr.z_loss, batches, training.RunOptions(steps=steps, device=device, precision=precision, progress=False, seed=1))
    _sync(device)
    seconds = time.perf_counter() - start
    return {"images_per_s": steps * batch_size / seconds, "seconds": seconds, "steps": steps}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_run(device, profile, dataset, steps, iou_shapes, shapes_per_batch=None, model=None):
    """A full-profile autoencoder run of ``steps`` steps, then its test IoU at 64³ on ``iou_shapes`` shapes."""
    start = time.perf_counter()
    model, history = autoencoder.train_autoencoder(profile, training.RunOptions(steps=steps, device=device), "fast", dataset=dataset,
                                                   model=model, shapes_per_batch=shapes_per_batch)  # fmt: skip
    _sync(device)
    train_seconds = time.perf_counter() - start
    test_file = data.split_path(dataset, "test")
    names = data.read_split(test_file, ())["names"]
    indices = sorted(set(np.linspace(0, len(names) - 1, min(iou_shapes, len(names))).astype(int).tolist()))
    start = time.perf_counter()
    result = autoencoder.evaluate_iou(model, test_file, indices=indices)
    return model, {"steps": steps, "train_seconds": train_seconds, "final_loss": float(np.mean(history.loss[-20:])),
                   "test_iou_64": result["mean_iou"], "iou_shapes": len(indices), "iou_seconds": time.perf_counter() - start}  # fmt: skip


def extraction_seconds(model, dataset, resolution, shapes):
    """Seconds of a coarse-to-fine extraction at ``resolution``³ (decoding, then marching cubes) per test shape."""
    test_file = data.split_path(dataset, "test")
    voxels = data.read_split(test_file, ("voxels",))["voxels"]
    picks = np.linspace(0, len(voxels) - 1, min(shapes, len(voxels))).astype(int)
    z = autoencoder.encode(model, voxels[picks])
    seconds, points = [], []
    for row in range(len(picks)):
        _sync(next(model.parameters()).device)
        start = time.perf_counter()
        values, evaluated = autoencoder.reconstruct(model, z[row], resolution)
        geometry.marching_cubes(values, 0.5)
        seconds.append(time.perf_counter() - start)
        points.append(evaluated)
    return {"resolution": resolution, "seconds_per_shape": float(np.mean(seconds)), "points_per_shape": float(np.mean(points)), "shapes": len(picks)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu-dry-run", action="store_true", help="every stage for a few steps on the CPU, at tiny sizes")
    parser.add_argument("--minutes", type=float, default=4.0, help="length of the full-profile autoencoder run (stage 4)")
    parser.add_argument("--iou-shapes", type=int, default=130, help="test shapes the run's IoU is measured on (10 per category)")
    parser.add_argument("--dataset", default=None, help="dataset folder for stages 3-5 (default: the full profile's, built if missing)")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    dry = args.cpu_dry_run
    if dry:
        torch.set_num_threads(1)
        device = torch.device("cpu")
    else:
        device = config.get_device("cuda")  # a clear error where torch sees no GPU
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else config.cpu_model()
    results = {"device": name, "torch": torch.__version__, "python": platform.python_version(), "dry_run": dry,
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_average": os.getloadavg()[0]}  # fmt: skip
    print(f"device: {device} ({name}); torch {torch.__version__}; load average {results['load_average']:.1f}", flush=True)

    def save():
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(results, indent=1) + "\n")

    started = time.perf_counter()

    full = config.get_profile("full")
    ae = full.autoencoder
    sizes = dict(encoder_width=4, decoder_width=8, shapes=2, points=256, steps=2, warmup=1) if dry else \
        dict(encoder_width=ae.encoder_width, decoder_width=ae.decoder_width, shapes=ae.shapes_per_batch, points=ae.points_per_shape, steps=30, warmup=5)  # fmt: skip
    for precision in ("fp32", "bf16"):
        r = autoencoder_throughput(device, precision, **sizes)
        results[f"autoencoder_{precision}"] = r | {k: sizes[k] for k in ("encoder_width", "decoder_width", "shapes", "points")}
        print(f"[1] autoencoder training, {precision}: {r['points_per_s']:,.0f} points/s ({r['steps_per_s']:.2f} steps/s of "
              f"{sizes['shapes']} × {sizes['points']:,} points, widths {sizes['encoder_width']}/{sizes['decoder_width']})", flush=True)  # fmt: skip
    if not dry:
        paper_steps = 60_000
        hours = paper_steps / results["autoencoder_bf16"]["steps_per_s"] / 3600
        results["paper_schedule_hours_bf16"] = hours
        print(f"    the paper's schedule, {paper_steps:,} steps of 32 × 8,192 points, in bf16: {hours:.2f} h (projected)", flush=True)
    save()

    width, batch = (8, 4) if dry else (full.image_encoder.width, full.image_encoder.batch_size)
    r = image_encoder_throughput(device, "auto", width, batch, steps=2 if dry else 30, warmup=1 if dry else 5)
    results["image_encoder"] = r | {"width": width, "batch_size": batch}
    print(f"[2] image encoder training (ResNet-18 width {width}, batch {batch}, {'bf16' if device.type == 'cuda' else 'fp32'}): "
          f"{r['images_per_s']:,.0f} images/s", flush=True)  # fmt: skip
    save()

    start = time.perf_counter()
    if args.dataset:
        dataset = Path(args.dataset)
    else:
        report = data.build_dataset(config.get_profile("smoke" if dry else "full"), workers=None if dry else os.cpu_count())
        print(report.summary(), flush=True)
        dataset = report.folder
    results["dataset"] = {"folder": str(dataset), "seconds": time.perf_counter() - start}
    print(f"[3] dataset {dataset}: ready in {results['dataset']['seconds']:.0f} s", flush=True)
    save()

    if dry:
        steps, model = 2, models.Autoencoder(4, 8)
    else:
        steps = max(10, int(args.minutes * 60 * results["autoencoder_bf16"]["steps_per_s"] * 0.9))  # data loading takes some of the time
        model = None
    model, r = timed_run(device, full, dataset, steps, 2 if dry else args.iou_shapes,
                         shapes_per_batch=2 if dry else None, model=model)  # fmt: skip
    results["timed_run"] = r
    print(f"[4] full-profile autoencoder, {r['steps']:,} steps in {r['train_seconds']:.0f} s: test IoU at 64³ {r['test_iou_64']:.3f} "
          f"on {r['iou_shapes']} test shapes ({r['iou_seconds']:.0f} s to measure)", flush=True)  # fmt: skip
    save()

    r = extraction_seconds(model, dataset, 128 if dry else 256, 1 if dry else 4)
    results["extraction"] = r
    print(f"[5] coarse-to-fine extraction at {r['resolution']}³ with the run's model: {r['seconds_per_shape']:.2f} s per shape "
          f"({r['points_per_shape']:,.0f} points evaluated)", flush=True)  # fmt: skip

    results["total_seconds"] = time.perf_counter() - started
    print(f"total: {results['total_seconds']:.0f} s", flush=True)
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
