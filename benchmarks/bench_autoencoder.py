"""Speed of the 3D autoencoder: training points per second, and mesh extraction 64³–256³.

    python benchmarks/bench_autoencoder.py [--device auto] [--steps 5] [--shapes 3]

Measures:

(a) training throughput, in points per second, of one full optimiser step of the
    autoencoder (voxel encoder + implicit decoder, forward, backward, Adam) and of the
    decoder alone (z given), at the ``quick`` widths and at the paper's (``full``) widths,
    on random 64³ voxels and points (the speed does not depend on the values);
(b) mesh extraction with the shipped ``quick`` autoencoder on ``--shapes`` test shapes, at
    64³, 128³ and 256³: dense grid versus coarse-to-fine (``autoencoder.reconstruct``, which
    is dense up to 64³ and refines from 32³ above), seconds, points evaluated, and the IoU
    between the two occupancy grids (they must agree); the dense 256³ grid only for the
    first ``--dense-256`` shapes (the dense columns at 256³ average those);
(c) the same coarse-to-fine extraction for a **paper-size** decoder: the quick model decides
    inside/outside (there is no trained paper-size model to ask), and on every batch of points
    that the extractor asks for, a paper-width decoder is run as well and its time is
    counted instead of the quick decoder's. So the seconds are what a paper-size decoder
    would need for the same surface; the talk's goal is under 20 s at 256³ on 2 CPU cores.
    Measured twice in the same run, side by side: "before", the extractor and decoder call
    as they were until the surface-following extractor (kept here as
    ``coarse_to_fine_before`` and ``ImplicitDecoder.occupancy`` on batches of 65,536
    points), and "after", as ``autoencoder.reconstruct`` runs them now
    (``geometry.coarse_to_fine_occupancy`` and ``ImplicitDecoder.occupancy_at``); with the
    points evaluated at each level, which do not depend on the machine's load, and the IoU
    of the two occupancy grids with each other and, for the first ``--dense-256`` shapes,
    with the dense 256³ grid.

For reference: IM-NET-pytorch's paper-size decoder trains at about 6,200 points/s on this
class of 2-core machine, and its coarse-to-fine extraction of one 256³ mesh takes about
166 s (2.7 M points, autograd left on). Each timing is the best of ``--repeats`` runs (in (c),
before and after run in turn).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from machine import best_of, machine_lines  # benchmarks/machine.py


def machine_info(device: torch.device) -> list[str]:
    lines = machine_lines()
    if device.type == "cuda":
        lines.insert(1, f"- GPU: {torch.cuda.get_device_name(device)}")
    return lines


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def training_throughput(encoder_width: int, decoder_width: int, shapes: int, points: int, steps: int, repeats: int, device) -> dict:
    """Points per second of a whole autoencoder step and of a decoder-only step."""
    from tutorial_lib.models import Autoencoder

    torch.manual_seed(0)
    model = Autoencoder(encoder_width, decoder_width).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    voxels = (torch.rand(shapes, 1, 64, 64, 64, device=device) < 0.2).float()
    xyz = torch.rand(shapes, points, 3, device=device) - 0.5
    values = (torch.rand(shapes, points, 1, device=device) < 0.5).float()
    z = torch.rand(shapes, 128, device=device)

    def run(whole: bool):
        for _ in range(steps):
            logits = model(voxels, xyz) if whole else model.decoder(z, xyz)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, values)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        synchronize(device)

    run(True)  # warm-up
    whole = best_of(repeats, lambda: run(True)) / steps
    decoder = best_of(repeats, lambda: run(False)) / steps
    return {"parameters": sum(p.numel() for p in model.parameters()), "batch": f"{shapes} shapes × {points} points",
            "whole_step_s": whole, "whole_points_per_s": shapes * points / whole,
            "decoder_step_s": decoder, "decoder_points_per_s": shapes * points / decoder}  # fmt: skip


def extraction(model, z: torch.Tensor, resolution: int, method: str, repeats: int):
    from tutorial_lib import autoencoder

    result = {}

    def run():
        result["values"], result["evaluated"] = autoencoder.reconstruct(model, z, resolution, method)

    seconds = best_of(repeats, run)
    return seconds, result["values"], result["evaluated"]


def coarse_to_fine_before(field_fn, resolution: int, start: int = 32, level: float = 0.5, batch: int = 65536, band: float | None = None):
    """``geometry.coarse_to_fine_occupancy`` as it was before it followed the surface, for comparison:
    every level evaluates all 8 children of every cell whose 3×3×3 neighbourhood holds both answers."""
    from scipy import ndimage

    from tutorial_lib import geometry

    values, evaluated = geometry.dense_occupancy(field_fn, start, batch)
    current = start
    neighbourhood = np.ones((3, 3, 3), dtype=bool)
    while current < resolution:
        inside = values >= level
        raised = values >= band if band is not None and current == start else inside
        boundary = ndimage.binary_dilation(raised, neighbourhood) & ndimage.binary_dilation(~inside, neighbourhood)
        current *= 2
        values = values.repeat(2, 0).repeat(2, 1).repeat(2, 2)
        refine = boundary.repeat(2, 0).repeat(2, 1).repeat(2, 2)
        index = np.argwhere(refine)
        if len(index):
            points = geometry.grid_to_world(index, current).astype(np.float32)
            fresh = np.concatenate([np.asarray(field_fn(points[i : i + batch])).reshape(-1) for i in range(0, len(points), batch)])
            values[tuple(index.T)] = fresh
            evaluated += len(index)
    return values.astype(np.float32), evaluated


def level_of(points: np.ndarray, resolution: int, start: int = 32) -> int:
    """The grid (``start``, 2·``start``, …, ``resolution``) whose cell centres ``points`` are."""
    from tutorial_lib import geometry

    n = start
    while n < resolution:
        index = geometry.world_to_grid(points[:1], n)
        if np.abs(index - np.round(index)).max() < 1e-3:
            return n
        n *= 2
    return n


def paper_size_extraction(model, z: torch.Tensor, resolution: int, device, after: bool) -> dict:
    """Coarse-to-fine at ``resolution`` where a paper-width decoder does the evaluating.

    ``after``: the extractor and decoder call of ``autoencoder.reconstruct`` now; else the ones
    before (``coarse_to_fine_before``, ``ImplicitDecoder.occupancy``). Returns the seconds in all
    with the paper decoder's time in place of the quick one's, the seconds spent in the paper
    decoder, the points evaluated, per level, and the occupancy (decided by the quick model).
    """
    from tutorial_lib import autoencoder, geometry
    from tutorial_lib.models import ImplicitDecoder

    torch.manual_seed(0)
    paper = ImplicitDecoder(width=128).to(device).eval()
    quick_field = autoencoder.decoder_field(model, z)
    z_paper = z.reshape(1, -1).to(device)
    clock = {"quick": 0.0, "paper": 0.0}
    per_level: dict[int, int] = {}

    @torch.no_grad()
    def field(points: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        answer = quick_field(points)
        clock["quick"] += time.perf_counter() - start
        level = level_of(points, resolution, autoencoder.EXTRACTION_START)
        per_level[level] = per_level.get(level, 0) + len(points)
        start = time.perf_counter()
        p = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32)).to(device)
        if after:
            paper.occupancy_at(z_paper, p).cpu()
        else:
            paper.occupancy(z_paper, p[None]).cpu()
        synchronize(device)
        clock["paper"] += time.perf_counter() - start
        return answer

    extract = geometry.coarse_to_fine_occupancy if after else coarse_to_fine_before
    start = time.perf_counter()
    values, evaluated = extract(field, resolution, start=autoencoder.EXTRACTION_START, band=autoencoder.EXTRACTION_BAND)  # as reconstruct
    total = time.perf_counter() - start
    return {"seconds": total - clock["quick"], "in_decoder": clock["paper"], "evaluated": evaluated,
            "per_level": dict(sorted(per_level.items())), "occupancy": values >= 0.5}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--steps", type=int, default=3, help="optimiser steps per timing")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--shapes", type=int, default=3, help="test shapes for the extraction timings")
    parser.add_argument("--dense-256", type=int, default=1, help="shapes to also extract densely at 256³ (16.7 M points each: minutes)")
    parser.add_argument("--only-paper-size", action="store_true", help="only (c), the paper-size extraction before and after (a minute or two)")
    args = parser.parse_args()

    from tutorial_lib import autoencoder, config, data, metrics

    device = config.get_device(args.device)
    lines = ["## Autoencoder speed", "", *machine_info(device), ""]

    if not args.only_paper_size:
        lines += ["### Training throughput (points per second, forward + backward + Adam)", "",
                  "| widths | parameters | batch | whole autoencoder step | points/s | decoder only step | points/s |",
                  "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
        for label, (ew, dw, shapes, points) in {"quick (encoder 16, decoder 32)": (16, 32, 16, 2048),
                                                "paper (encoder 32, decoder 128)": (32, 128, 4, 4096)}.items():  # fmt: skip
            r = training_throughput(ew, dw, shapes, points, args.steps, args.repeats, device)
            lines.append(f"| {label} | {r['parameters']:,} | {r['batch']} | {r['whole_step_s']:.2f} s | {r['whole_points_per_s']:,.0f} "
                         f"| {r['decoder_step_s']:.2f} s | {r['decoder_points_per_s']:,.0f} |")  # fmt: skip
            print(lines[-1], flush=True)

    paths = autoencoder.shipped_paths("quick")
    if not paths["weights"].is_file():
        lines += ["", f"(no shipped checkpoint at {paths['weights']}: extraction timings skipped)"]
        print("\n".join(lines))
        return
    model = autoencoder.load_autoencoder("quick", device=str(device))
    test = data.read_split(data.split_path(data.ensure_dataset("quick"), "test"), ("voxels",))
    picks = np.linspace(0, len(test["names"]) - 1, args.shapes).astype(int)
    z_all = autoencoder.encode(model, test["voxels"][picks])

    dense_256 = {}  # shape number → the dense 256³ occupancy, for (c)
    if not args.only_paper_size:
        lines += ["", f"### Mesh extraction, shipped quick autoencoder, {args.shapes} test shapes "
                  f"({', '.join(test['names'][i] for i in picks)}); seconds per shape (mean), points evaluated (mean)", "",
                  "| resolution | dense s | dense points | coarse-to-fine s | coarse-to-fine points | fewer points | IoU(dense, c2f) |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
        for resolution in (64, 128, 256):
            rows = []
            for k, z in enumerate(z_all):
                fine_s, fine, fine_n = extraction(model, z, resolution, "coarse_to_fine", args.repeats)
                if resolution == 256 and k >= args.dense_256:
                    rows.append((np.nan, resolution**3, fine_s, fine_n, np.nan))
                    continue
                dense_s, dense, dense_n = extraction(model, z, resolution, "dense", 1 if resolution == 256 else args.repeats)
                rows.append((dense_s, dense_n, fine_s, fine_n, metrics.iou(fine, dense)))
                if resolution == 256:
                    dense_256[k] = dense >= 0.5
            d_s, d_n, f_s, f_n, agreement = (np.nanmean([r[k] for r in rows]) for k in range(5))
            lines.append(f"| {resolution}³ | {d_s:.2f} | {d_n:,.0f} | {f_s:.2f} | {f_n:,.0f} | {d_n / f_n:.1f}× | {agreement:.4f} |")
            print(lines[-1], flush=True)

    lines += ["", "### Paper-size decoder, coarse-to-fine 256³, before and after (same surfaces; see (c) in the docstring)", "",
              "| shape | extractor | points evaluated: 32³ + 64³ + 128³ + 256³ = all | seconds in the paper-width decoder | seconds in all "
              "| IoU(before, after) | IoU with dense 256³ |", "| --- | --- | --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for k, (i, z) in enumerate(zip(picks, z_all)):
        runs = {}
        for _ in range(args.repeats):  # alternately, so that a burst of load on a shared machine hits both alike; the fastest of each
            for name in ("before", "after"):
                r = paper_size_extraction(model, z, 256, device, after=name == "after")
                if name not in runs or r["seconds"] < runs[name]["seconds"]:
                    runs[name] = r
        agree = metrics.iou(runs["before"]["occupancy"], runs["after"]["occupancy"])
        for name, r in runs.items():
            levels = " + ".join(f"{n:,}" for n in r["per_level"].values())
            dense = f"{metrics.iou(r['occupancy'], dense_256[k]):.5f}" if k in dense_256 else "–"
            lines.append(
                f"| {test['names'][i]} | {name} | {levels} = {r['evaluated']:,} | {r['in_decoder']:.1f} | {r['seconds']:.1f} | {agree:.5f} | {dense} |"
            )
            print(lines[-1], flush=True)
    lines += ["", f"- load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
