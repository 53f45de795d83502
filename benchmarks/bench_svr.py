"""Single-view reconstruction: the image encoder's training speed, picture → mesh, and its scores against two baselines.

    python benchmarks/bench_svr.py [speed] [mesh] [evaluate] [--profile quick] [--device auto] [--smoke]

Runs the parts named (all three when none is):

speed
    Training images per second of one whole optimiser step of the image encoder (random
    128×128 crops and flips, forward, MSE on z, backward, Adam: ``svr.z_loss``), on plain
    pictures and on pictures randomised the way the shipped recipe trains
    (``svr.randomised_z_loss``), at the quick width (ResNet-18 with half the channels) and at
    torchvision's (``full``), in float32 and bfloat16, batch ``--batch`` of synthetic
    renderings (the speed does not depend on the pixels). Best of ``--repeats``.

mesh
    Picture file → mesh file with the shipped models: ``--pictures`` test renderings saved as
    PNG files, each read and framed (``images.load_image``), encoded (``svr.predict_z``),
    decoded coarse-to-fine (``autoencoder.reconstruct``), meshed (marching cubes) and written
    as .obj, at ``--resolutions``, stage by stage (best of ``--repeats``); then once the whole
    command line (``python -m tutorial_lib reconstruct``) in a fresh process, which also
    imports torch and loads both models.

evaluate
    ``svr.evaluate`` on view ``--view`` of ``--shapes`` test shapes (default all): IoU at 64³
    and Chamfer distance of the network, of retrieval (the training shape whose view is nearest
    in the encoder's own features) and of the category's mean shape, per category; and the
    error in z against always answering the mean training z. The shipped manifest holds the
    same for view 0 of every test shape (``benchmarks/report.py`` prints it).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from machine import add_options, best_of, machine_lines, model_record, setup, spread, table, write_results  # benchmarks/machine.py

PARTS = ("speed", "mesh", "evaluate")


def synthetic_renderings(batch: int, device) -> torch.Tensor:
    """White 137×137 pictures with a grey object of random size in the middle ``[batch, 1, 137, 137]``."""
    generator = torch.Generator().manual_seed(0)
    images = torch.ones(batch, 1, 137, 137)
    for image in images:
        half = int(torch.randint(15, 30, (1,), generator=generator))
        image[0, 68 - half : 68 + half, 68 - half // 2 : 68 + half // 2] = 0.4 + 0.4 * torch.rand(1, generator=generator)
    return images.to(device)


def images_per_second(model, loss_fn, batch, precision: str, steps: int, repeats: int, device) -> float:
    """Training images per second (best of ``repeats`` runs of ``steps`` steps, after a warm-up)."""
    from tutorial_lib import training

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)

    def run():
        for _ in range(steps):
            with training.precision_context(precision, device):
                loss = loss_fn(model, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.float().backward()
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    return steps * len(batch[0]) / best_of(repeats, run, warmup=True)


def speed(s, args) -> dict:
    from tutorial_lib import config, svr
    from tutorial_lib.models import ImageEncoder

    device = s.device
    batch = (synthetic_renderings(args.batch, device), torch.rand(args.batch, 128, device=device))
    losses = {"plain": svr.z_loss, "randomised": svr.randomised_z_loss(object_size=49.0)}
    rows, found = [], []
    for name in ("quick", "full"):
        width = config.get_profile(name).image_encoder.width
        torch.manual_seed(0)
        model = ImageEncoder(width=width).to(device).train()
        for precision in args.precisions:
            for pictures, loss_fn in losses.items():
                rate = images_per_second(model, loss_fn, batch, precision, args.steps, args.repeats, device)
                found.append({"profile": name, "width": width, "precision": precision, "pictures": pictures, "batch": args.batch, "images_per_s": rate})
                rows.append([f"ResNet-18 ({name})", f"{width} … {8 * width}", args.batch, precision, pictures, f"{rate:,.1f}"])
                print(f"  {rows[-1]}", flush=True)
    print(f"\n## Training images per second (crops, flips, forward, backward, Adam), {device.type}\n")
    print(table(["model", "channels", "batch", "precision", "pictures", "images/s"], rows, right={2, 5}))
    return {"device": str(device), "rows": found}


@torch.no_grad()
def mesh(s, args) -> dict:
    from PIL import Image

    from tutorial_lib import autoencoder, data, geometry, images, shipping, svr

    image_model = shipping.load("image_encoder", s.profile)
    ae = shipping.load("autoencoder", s.profile)
    test_file = s.split("test")
    folder = Path(tempfile.mkdtemp(prefix="bench_svr_"))
    paths = []
    for i in spread(len(data.read_split(test_file, ())["names"]), args.pictures):
        paths.append(folder / f"test_{i}.png")
        Image.fromarray(data.read_pixels(test_file, [i])[0, 0]).save(paths[-1])
    stages = ("read and frame", "image → z", "z → occupancy", "marching cubes", "write .obj", "total")
    rows = []
    for resolution in args.resolutions:
        found = {stage: [] for stage in stages}
        for path in paths:
            best = None
            for _ in range(args.repeats):
                t = [time.perf_counter()]
                picture = images.load_image(path, object_size=image_model.object_size)
                t.append(time.perf_counter())
                z = svr.predict_z(image_model, picture[None])[0]
                t.append(time.perf_counter())
                occupancy, _ = autoencoder.reconstruct(ae, z, resolution)
                t.append(time.perf_counter())
                shape = geometry.marching_cubes(occupancy, 0.5)
                t.append(time.perf_counter())
                geometry.save_mesh(shape, folder / "out.obj")
                t.append(time.perf_counter())
                times = [b - a for a, b in zip(t, t[1:])] + [t[-1] - t[0]]
                best = times if best is None or times[-1] < best[-1] else best
            for stage, seconds in zip(stages, best):
                found[stage].append(seconds)
        rows.append({"resolution": resolution} | {stage: float(np.mean(v)) for stage, v in found.items()})
    started = time.perf_counter()
    command = [sys.executable, "-m", "tutorial_lib", "reconstruct", str(paths[0]), "--out", str(folder / "cli.obj"), "--profile", s.profile.name,
               "--resolution", str(args.cli_resolution), "--device", "cpu"]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    cli = time.perf_counter() - started
    print(f"\n## Picture file → mesh file, shipped {s.profile.name} models, CPU: mean over {len(paths)} pictures, seconds\n")
    print(table(["grid", *stages], [[f"{r['resolution']}³", *(f"{r[stage]:.2f}" for stage in stages)] for r in rows]))
    print(f"\nthe whole command, `python -m tutorial_lib reconstruct picture.png --out mesh.obj --resolution {args.cli_resolution}`, "
          f"in a fresh process (importing torch and loading both models included): {cli:.1f} s")  # fmt: skip
    return {"pictures": len(paths), "rows": rows, "cli_resolution": args.cli_resolution, "cli_seconds": cli}


def evaluate(s, args) -> dict:
    import torch.nn.functional as F

    from tutorial_lib import autoencoder, data, shipping, svr

    image_model = shipping.load("image_encoder", s.profile, device=s.device)
    ae = shipping.load("autoencoder", s.profile, device=s.device)
    test_file, train_file = s.split("test"), s.split("train")
    picks = spread(len(data.read_split(test_file, ())["names"]), args.shapes)
    started = time.perf_counter()
    results = svr.evaluate(image_model, ae, test_file, train_file, view=args.view, indices=picks, progress=False)
    summary = svr.summarize(results)
    # the error in z, against the autoencoder's z of the same shapes
    true_z = autoencoder.encode(ae, data.read_split(test_file, ("voxels",))["voxels"][picks]).cpu()
    train_z = torch.as_tensor(autoencoder.load_shipped_z(s.profile)["train_z"], dtype=torch.float32)  # what the model was trained on
    predicted = svr.predict_z(image_model, svr.test_views(test_file, args.view)[picks])
    z_error = {"network": float(F.mse_loss(predicted, true_z)), "mean_training_z": float(F.mse_loss(train_z.mean(0).expand_as(true_z), true_z))}
    methods = list(summary["mean"])

    def cells(values):
        return [f"{values[m]['iou']:.3f}" for m in methods] + [
            f"{1e3 * values[m]['chamfer']:.2f}" if values[m]["chamfer"] is not None else "–" for m in methods
        ]

    print(f"\n## View {args.view} of {len(picks)} test shapes, shipped {s.profile.name} image encoder and autoencoder "
          f"({time.perf_counter() - started:.0f} s)\n")  # fmt: skip
    rows = [[c, *cells(v)] for c, v in summary["per_category"].items()] + [[f"**mean ({summary['shapes']} shapes)**", *cells(summary["mean"])]]
    print(table(["category", *(f"{m} IoU" for m in methods), *(f"{m} Chamfer ×10³" for m in methods)], rows))
    print(f"\nerror in z (mean squared): the network {z_error['network']:.4f}; always the mean training z {z_error['mean_training_z']:.4f}")
    return {"model": model_record("image_encoder", s.profile), "view": args.view, "summary": summary, "z_error": z_error,
            "per_shape": {k: results[k] for k in ("names", "categories", *methods)}}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", help=f"any of {', '.join(PARTS)} (default: all)")
    add_options(parser)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=2, help="timings: best of this many")
    parser.add_argument("--steps", type=int, default=5, help="speed: optimiser steps per timing")
    parser.add_argument("--batch", type=int, default=32, help="speed: images per step")
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"], help="speed: precisions")
    parser.add_argument("--pictures", type=int, default=3, help="mesh: test renderings turned into meshes")
    parser.add_argument("--resolutions", type=int, nargs="+", default=[64, 128, 256], help="mesh: extraction grids")
    parser.add_argument("--cli-resolution", type=int, default=128, help="mesh: the command line's grid (its default: 128)")
    parser.add_argument("--view", type=int, default=0, help="evaluate: which view of each test shape")
    parser.add_argument("--shapes", type=int, default=None, help="evaluate: test shapes, spread over the split (default: all)")
    args = parser.parse_args()
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}: choose from {', '.join(PARTS)}")
    parts = [p for p in PARTS if p in args.parts] or list(PARTS)
    if args.smoke:
        args.repeats, args.steps, args.batch, args.precisions = 1, 1, 2, ["fp32"]
        args.pictures, args.resolutions, args.cli_resolution, args.shapes = 1, [64], 64, 2
    if args.threads:
        torch.set_num_threads(args.threads)
    s = setup(args, dataset=parts != ["speed"])
    print(f"# Image encoder: {', '.join(parts)}\n")
    print("\n".join(machine_lines(s.device)))
    record = {"machine": machine_lines(s.device)}
    for part, run in (("speed", speed), ("mesh", mesh), ("evaluate", evaluate)):
        if part in parts:
            record[part] = run(s, args)
    write_results(s, f"svr_{s.profile.name}.json", record)


if __name__ == "__main__":
    main()
