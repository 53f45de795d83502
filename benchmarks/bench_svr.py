"""Speed of single-view reconstruction: training images per second, and seconds from an image file to a mesh.

    python benchmarks/bench_svr.py [--device auto] [--steps 5] [--pictures 3] [--repeats 2]

Measures:

(a) training throughput, in images per second, of one whole optimiser step of the image
    encoder (random 128×128 crops and flips of 137×137 images, forward, MSE on z, backward,
    Adam) at the ``quick`` width (ResNet-18 with half the channels) and at torchvision's
    ResNet-18 width (``full``), batch 32 (the speed does not depend on the pixel values);
(b) picture → mesh with the shipped ``quick`` models: ``--pictures`` test renderings saved as
    PNG files, each read, framed, encoded, decoded coarse-to-fine and written as .obj by
    :func:`tutorial_lib.svr.reconstruct_from_image`, at 64³, 128³ (the CLI's default) and
    256³, split into its stages; and once the whole command line
    (``python -m tutorial_lib reconstruct``), a fresh process that also imports torch and
    loads both models. Each in-process timing is the best of ``--repeats`` runs.
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
from machine import best_of, machine_lines  # benchmarks/machine.py


def training_throughput(width: int, batch: int, steps: int, repeats: int, device: torch.device) -> float:
    from tutorial_lib import svr
    from tutorial_lib.models import ImageEncoder

    torch.manual_seed(0)
    model = ImageEncoder(width=width).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images, codes = torch.rand(batch, 1, 137, 137, device=device), torch.rand(batch, 128, device=device)

    def run():
        for _ in range(steps):
            loss = svr.z_loss(model, (images, codes))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    run()  # warm-up
    return steps * batch / best_of(repeats, run)


def picture_to_mesh(pictures: int, repeats: int) -> list[tuple[int, dict]]:
    from PIL import Image

    from tutorial_lib import autoencoder, data, geometry, svr

    image_model = svr.load_image_encoder("quick", device="cpu")
    ae = autoencoder.load_autoencoder("quick", device="cpu")
    test_file = data.split_path(data.dataset_dir("quick"), "test")
    folder = Path(tempfile.mkdtemp())
    paths = []
    for i in np.linspace(0, len(data.read_split(test_file, ())["names"]) - 1, pictures).astype(int):
        paths.append(folder / f"test_{i}.png")
        Image.fromarray(data.read_pixels(test_file, [int(i)])[0, 0]).save(paths[-1])
    rows = []
    for resolution in (64, 128, 256):
        stages = {"read and frame": [], "image → z": [], "z → occupancy": [], "marching cubes": [], "write .obj": [], "total": []}
        for path in paths:
            best = None
            for _ in range(repeats):
                t0 = time.perf_counter()
                picture = svr.load_image(path, object_size=image_model.object_size)
                t1 = time.perf_counter()
                z = svr.predict_z(image_model, picture[None])[0]
                t2 = time.perf_counter()
                occupancy, _ = autoencoder.reconstruct(ae, z, resolution)
                t3 = time.perf_counter()
                mesh = geometry.marching_cubes(occupancy, 0.5)
                t4 = time.perf_counter()
                geometry.save_mesh(mesh, folder / "out.obj")
                t5 = time.perf_counter()
                times = [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0]
                best = times if best is None or times[-1] < best[-1] else best
            for key, value in zip(stages, best):
                stages[key].append(value)
        rows.append((resolution, {k: float(np.mean(v)) for k, v in stages.items()}))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tutorial_lib", "reconstruct", str(paths[0]), "--out", str(folder / "cli.obj"), "--device", "cpu"],
                   check=True, capture_output=True)  # fmt: skip
    rows.append(("CLI", {"total": time.perf_counter() - started}))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=5, help="optimiser steps per timing")
    parser.add_argument("--pictures", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    from tutorial_lib.config import get_device, get_profile

    device = get_device(args.device)
    print("# Single-view reconstruction benchmark\n")
    print("\n".join(machine_lines()))
    if device.type == "cuda":
        print(f"- GPU: {torch.cuda.get_device_name(device)}")
    print("\n## (a) Training images per second (crops, flips, forward, backward, Adam)\n")
    print("| model | channels | batch | device | images/s |\n|---|---|---|---|---|")
    for profile in ("quick", "full"):
        width = get_profile(profile).image_encoder.width
        rate = training_throughput(width, 32, args.steps, args.repeats, device)
        print(f"| ResNet-18 ({profile}) | {width}-{8 * width} | 32 | {device.type} | {rate:,.0f} |", flush=True)
    print("\n## (b) Picture file → mesh file, shipped quick models, CPU (mean over pictures, seconds)\n")
    rows = picture_to_mesh(args.pictures, args.repeats)
    stages = list(rows[0][1])
    print("| grid | " + " | ".join(stages) + " |\n|---|" + "---|" * len(stages))
    for resolution, times in rows:
        label = f"{resolution}³" if isinstance(resolution, int) else "whole CLI call (128³, new process, loading included)"
        print(f"| {label} | " + " | ".join(f"{times[s]:.2f}" if s in times else "" for s in stages) + " |")


if __name__ == "__main__":
    main()
