"""The 3D autoencoder: training speed, mesh extraction, and what the shipped model gets right.

    python benchmarks/bench_autoencoder.py [speed] [extraction] [quality] [--profile quick] [--device auto] [--smoke]

Runs the parts named (all three when none is):

speed
    Training throughput, points per second, of one whole optimiser step (voxel encoder and
    implicit decoder: forward, backward, Adam) and of the decoder alone (z given), at the quick
    widths and at the paper's (the ``full`` profile's), in float32 and in bfloat16 autocast
    (``training.precision_context``), on random voxels and points: the speed does not depend
    on their values. Batches: the quick profile's 16 shapes × 2,048 points, and for the paper's
    widths 4 × 4,096 on a CPU or the full profile's own on a GPU (``--shapes``/``--points``
    set both). Best of ``--repeats`` after a warm-up; ``--steps`` steps per timing.

extraction
    The shipped autoencoder on ``--shapes`` test shapes (spread over the categories):
    (a) where coarse-to-fine extraction may start: the 64³ grid from 16³ and from 32³, each
        without and with the band (``geometry.coarse_to_fine_occupancy``), against the dense
        64³ grid: IoU with it (mean, worst shape), IoU with the true voxels, points evaluated.
        ``autoencoder.reconstruct`` starts where this says it may (``EXTRACTION_START``,
        ``EXTRACTION_BAND``);
    (b) ``autoencoder.reconstruct`` against the dense grid at ``--resolutions``: seconds, points
        evaluated, and the IoU of the two (the dense grids above 64³, 2 M points at 128³ and 16.7 M
        at 256³, only for the first ``--dense-shapes`` shapes);
    (c) a paper-size decoder's coarse-to-fine extraction at ``--paper-resolution``: the shipped
        model decides inside and outside (there is no trained paper-size model to ask), and on
        every batch of points the extractor asks for, a paper-width decoder runs too and its
        time is counted instead of the shipped decoder's: what a paper-size model needs for
        the same surface.

quality
    Every test shape (or ``--shapes`` of them) at 64³, by ``autoencoder.evaluate_iou``:
    (a) per category: IoU, and the thin parts (``metrics.thin_voxels``: parts at most 3 voxels
        across; rods: legs, stems, barrels, without the plates) — their share of the true
        voxels, and the share of them the decoded shape has inside (recall);
    (b) fitted codes: the same from a z fitted to each shape with the decoder fixed
        (``autoencoder.fit_codes``) for each of ``--fit-steps`` (0 is the encoder's z), and the
        seconds fitting adds per shape: the amortisation gap;
    (c) the generalisation gap: ``--train-shapes`` training shapes decoded from
        the encoder's z (spread over the split), beside the test shapes from the encoder's z and
        from fitted ones.
        Test shapes from fitted z close to training shapes: the decoder can draw unseen
        shapes, and the encoder is what fails to find their codes.
    ``--checkpoint RUN.pt`` scores a training checkpoint instead of the shipped model. Writes
    ``fitted_codes_<profile>.json`` (notebook 04 draws it) and ``thin_parts_<profile>.json``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from machine import add_options, best_of, machine_lines, model_record, setup, spread, table, write_results  # benchmarks/machine.py

PARTS = ("speed", "extraction", "quality")


# --------------------------------------------------------------------------------------------
# speed
# --------------------------------------------------------------------------------------------


def step_seconds(model, batch, precision: str, whole: bool, steps: int, repeats: int, device) -> float:
    """Seconds per optimiser step (best of ``repeats`` runs of ``steps`` steps, after a warm-up) of the
    whole autoencoder, or (``whole`` False) of the decoder alone on the given z."""
    import torch.nn.functional as F

    from tutorial_lib import training

    voxels, xyz, values, z = batch
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)  # small: the weights barely move between timings

    def run():
        for _ in range(steps):
            with training.precision_context(precision, device):
                logits = model(voxels, xyz) if whole else model.decoder(z, xyz)
            loss = F.binary_cross_entropy_with_logits(logits.float(), values)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    return best_of(repeats, run, warmup=True) / steps


def speed(s, args) -> dict:
    from tutorial_lib import config, training
    from tutorial_lib.models import Autoencoder

    device = s.device
    print(f"\n## Training throughput (points per second; forward, backward, Adam), {device.type}; "
          f"bfloat16 in hardware: {training.cpu_has_native_bf16() if device.type == 'cpu' else 'n/a'}\n")  # fmt: skip
    rows, found = [], []
    for label, name in (("quick", "quick"), ("paper", "full")):
        settings = config.get_profile(name).autoencoder
        own = (settings.shapes_per_batch, settings.points_per_shape) if name == "quick" or device.type == "cuda" else (4, 4096)
        shapes, points = args.batch_shapes or own[0], args.points or own[1]
        torch.manual_seed(0)
        model = Autoencoder(settings.encoder_width, settings.decoder_width).to(device)
        batch = ((torch.rand(shapes, 1, 64, 64, 64, device=device) < 0.2).float(), torch.rand(shapes, points, 3, device=device) - 0.5,
                 (torch.rand(shapes, points, 1, device=device) < 0.5).float(), torch.rand(shapes, 128, device=device))  # fmt: skip
        parameters = sum(p.numel() for p in model.parameters())
        for precision in args.precisions:
            whole, decoder = (step_seconds(model, batch, precision, w, args.steps, args.repeats, device) for w in (True, False))
            found.append({"widths": label, "encoder_width": settings.encoder_width, "decoder_width": settings.decoder_width,
                          "parameters": parameters, "shapes": shapes, "points": points, "precision": precision,
                          "whole_step_s": whole, "whole_points_per_s": shapes * points / whole,
                          "decoder_step_s": decoder, "decoder_points_per_s": shapes * points / decoder})  # fmt: skip
            rows.append([f"{label} ({settings.encoder_width}, {settings.decoder_width})", f"{parameters:,}", f"{shapes} × {points:,}", precision,
                         f"{whole:.3f}", f"{shapes * points / whole:,.0f}", f"{decoder:.3f}", f"{shapes * points / decoder:,.0f}"])  # fmt: skip
            print(f"  {rows[-1]}", flush=True)
    print(table(["widths (encoder, decoder)", "parameters", "batch (shapes × points)", "precision", "whole step s", "points/s",
                 "decoder only s", "points/s"], rows, right={1, 4, 5, 6, 7}))  # fmt: skip
    return {"device": str(device), "steps": args.steps, "repeats": args.repeats, "rows": found}


# --------------------------------------------------------------------------------------------
# extraction
# --------------------------------------------------------------------------------------------


def level_of(points: np.ndarray, resolution: int, start: int) -> int:
    """The grid (``start``, 2·``start``, …, ``resolution``) whose cell centres ``points`` are."""
    from tutorial_lib import geometry

    n = start
    while n < resolution:
        index = geometry.world_to_grid(points[:1], n)
        if np.abs(index - np.round(index)).max() < 1e-3:
            return n
        n *= 2
    return n


def paper_size_extraction(model, z: torch.Tensor, resolution: int, device) -> dict:
    """Coarse-to-fine at ``resolution`` as ``autoencoder.reconstruct`` does it, where a paper-width decoder does the evaluating."""
    from tutorial_lib import autoencoder, config, geometry
    from tutorial_lib.models import ImplicitDecoder

    torch.manual_seed(0)
    paper = ImplicitDecoder(width=config.get_profile("full").autoencoder.decoder_width).to(device).eval()
    shipped = autoencoder.decoder_field(model, z)
    z_paper = z.reshape(1, -1).to(device)
    clock = {"shipped": 0.0, "paper": 0.0}
    per_level: dict[int, int] = {}

    @torch.no_grad()
    def field(points: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        answer = shipped(points)
        clock["shipped"] += time.perf_counter() - start
        level = level_of(points, resolution, autoencoder.EXTRACTION_START)
        per_level[level] = per_level.get(level, 0) + len(points)
        start = time.perf_counter()
        paper.occupancy_at(z_paper, torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32)).to(device)).cpu()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        clock["paper"] += time.perf_counter() - start
        return answer

    start = time.perf_counter()
    _, evaluated = geometry.coarse_to_fine_occupancy(field, resolution, start=autoencoder.EXTRACTION_START, band=autoencoder.EXTRACTION_BAND)
    total = time.perf_counter() - start
    return {"seconds": total - clock["shipped"], "in_decoder": clock["paper"], "points": evaluated, "per_level": dict(sorted(per_level.items()))}


@torch.no_grad()
def extraction(s, args, shapes: int) -> dict:
    from tutorial_lib import autoencoder, data, geometry, metrics, shipping

    model = shipping.load("autoencoder", s.profile, device=s.device)
    test = data.read_split(s.split("test"), ("voxels",))
    picks = spread(len(test["names"]), shapes)
    names = [test["names"][i] for i in picks]
    z = autoencoder.encode(model, test["voxels"][picks])
    band = autoencoder.EXTRACTION_BAND

    # (a) where to start
    settings = {"dense": None} | {f"from {n}³{', band ' + str(b) if b else ''}": (n, b) for n in (16, 32) for b in (None, band)}
    found = {name: {"iou_dense": [], "iou_truth": [], "points": []} for name in settings}
    for k, i in enumerate(picks):
        field = autoencoder.decoder_field(model, z[k])
        dense, _ = geometry.dense_occupancy(field, 64)
        for name, setting in settings.items():
            values, evaluated = (dense, 64**3) if setting is None else geometry.coarse_to_fine_occupancy(field, 64, start=setting[0], band=setting[1])
            found[name]["iou_dense"].append(metrics.iou(values >= 0.5, dense >= 0.5))
            found[name]["iou_truth"].append(metrics.iou(values >= 0.5, test["voxels"][i, ..., 0]))
            found[name]["points"].append(evaluated)
    start_rows = []
    for name, f in found.items():
        worst = int(np.argmin(f["iou_dense"]))
        f |= {"iou_dense_mean": float(np.mean(f["iou_dense"])), "iou_dense_worst": float(f["iou_dense"][worst]), "worst_shape": names[worst],
              "iou_truth_mean": float(np.mean(f["iou_truth"])), "points_mean": float(np.mean(f["points"]))}  # fmt: skip
        start_rows.append([name, f"{f['iou_dense_mean']:.4f}", f"{f['iou_dense_worst']:.4f} ({names[worst]})", f"{f['iou_truth_mean']:.4f}",
                           f"{f['points_mean']:,.0f}"])  # fmt: skip
    print(f"\n## (a) Where extraction may start: 64³ grids of {len(picks)} test shapes, shipped {s.profile.name} autoencoder\n")
    print(table(["extraction at 64³", "IoU with dense: mean", "worst (shape)", "IoU with the true voxels", "points per shape"], start_rows))

    # (b) reconstruct against dense
    def timed(k: int, resolution: int, method: str, repeats: int):
        out = []
        seconds = best_of(repeats, lambda: out.append(autoencoder.reconstruct(model, z[k], resolution, method)))
        return seconds, *out[-1]

    grids = []
    for resolution in args.resolutions:
        runs = []
        for k in range(len(picks)):
            fine_s, fine, fine_points = timed(k, resolution, "coarse_to_fine", args.repeats)
            row = {"shape": names[k], "reconstruct_s": fine_s, "reconstruct_points": fine_points}
            if resolution <= 64 or k < args.dense_shapes:
                dense_s, dense, dense_points = timed(k, resolution, "dense", 1 if resolution > 64 else args.repeats)
                row |= {"dense_s": dense_s, "dense_points": dense_points, "iou": metrics.iou(fine >= 0.5, dense >= 0.5)}
            runs.append(row)
        dense_rows = [r for r in runs if "dense_s" in r]
        summary = {"resolution": resolution, "shapes": runs, "reconstruct_s": float(np.mean([r["reconstruct_s"] for r in runs])),
                   "reconstruct_points": float(np.mean([r["reconstruct_points"] for r in runs])),
                   "dense_s": float(np.mean([r["dense_s"] for r in dense_rows])) if dense_rows else None,
                   "iou_min": float(min(r["iou"] for r in dense_rows)) if dense_rows else None}  # fmt: skip
        grids.append(summary)
    print(f"\n## (b) autoencoder.reconstruct against the dense grid, mean over {len(picks)} shapes (dense above 64³: the first {args.dense_shapes})\n")
    print(table(["grid", "dense s", "dense points", "reconstruct s", "reconstruct points", "IoU(dense, reconstruct), worst"],
                [[f"{g['resolution']}³", f"{g['dense_s']:.2f}" if g["dense_s"] is not None else "–", f"{g['resolution'] ** 3:,}",
                  f"{g['reconstruct_s']:.2f}", f"{g['reconstruct_points']:,.0f}", f"{g['iou_min']:.4f}" if g["iou_min"] is not None else "–"]
                 for g in grids]))  # fmt: skip

    # (c) a paper-size decoder
    paper = []
    if args.paper_resolution:
        for k in range(len(picks)):
            runs = [paper_size_extraction(model, z[k], args.paper_resolution, s.device) for _ in range(args.repeats)]
            paper.append({"shape": names[k]} | min(runs, key=lambda r: r["seconds"]))
        print(f"\n## (c) A paper-size decoder (width {paper_width()}), coarse-to-fine {args.paper_resolution}³, the shipped model's surface\n")
        print(table(["shape", "points evaluated, per level = all", "s in the paper-width decoder", "s in all"],
                    [[r["shape"], " + ".join(f"{n:,}" for n in r["per_level"].values()) + f" = {r['points']:,}", f"{r['in_decoder']:.2f}",
                      f"{r['seconds']:.2f}"] for r in paper]))  # fmt: skip
    return {"model": model_record("autoencoder", s.profile), "band": band, "shapes": names, "start": found, "reconstruct": grids,
            "paper_size": {"resolution": args.paper_resolution, "width": paper_width(), "shapes": paper}}  # fmt: skip


def paper_width() -> int:
    from tutorial_lib import config

    return config.get_profile("full").autoencoder.decoder_width


# --------------------------------------------------------------------------------------------
# quality
# --------------------------------------------------------------------------------------------


def mean(values) -> float:
    values = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def quality(s, args, shapes: int | None) -> dict:
    from tutorial_lib import autoencoder, data, metrics, provenance, shipping, training

    if args.checkpoint:
        model = autoencoder.make_autoencoder(s.profile)
        training.load_checkpoint(args.checkpoint, model)
        model = model.to(s.device).eval()
        record = {"kind": "autoencoder", "checkpoint": str(args.checkpoint)}
    else:
        model = shipping.load("autoencoder", s.profile, device=s.device)
        record = model_record("autoencoder", s.profile)
    test_file, train_file = s.split("test"), s.split("train")
    picks = spread(len(data.read_split(test_file, ())["names"]), shapes)

    by_steps = {}
    for steps in sorted(set(args.fit_steps)):
        start = time.time()
        result = autoencoder.evaluate_iou(model, test_file, indices=picks, fit_steps=steps, progress=False)
        by_steps[steps] = {"seconds": time.time() - start, "mean_iou": result["mean_iou"], "thin_recall": result["mean_thin_recall"],
                           "rod_recall": result["mean_rod_recall"], "per_category": result["per_category"],
                           "per_category_thin_recall": result["per_category_thin_recall"],
                           "per_category_rod_recall": result["per_category_rod_recall"], "iou": result["iou"], "names": result["names"],
                           "categories": result["categories"], "thin_recalls": result["thin_recall"], "rod_recalls": result["rod_recall"]}  # fmt: skip
        print(f"  z {'of the encoder' if steps == 0 else f'fitted for {steps} steps'}: mean IoU {result['mean_iou']:.4f} "
              f"({by_steps[steps]['seconds']:.0f} s)", flush=True)  # fmt: skip
    first = by_steps[min(by_steps)]
    categories = first["categories"]

    # (a) thin parts, from the first pass (the encoder's z unless 0 is not among --fit-steps)
    voxels = data.read_split(test_file, ("voxels",))["voxels"][picks, ..., 0]
    thin_share = [metrics.thin_voxels(v).sum() / max(v.sum(), 1) for v in voxels]
    rod_share = [metrics.thin_voxels(v, rods_only=True).sum() / max(v.sum(), 1) for v in voxels]
    rows = {}
    for c in [*first["per_category"], "all"]:
        at = [i for i, k in enumerate(categories) if c in (k, "all")]
        rows[c] = {"shapes": len(at), "iou": mean([first["iou"][i] for i in at]), "thin_share": mean([thin_share[i] for i in at]),
                   "thin_recall": mean([first["thin_recalls"][i] for i in at]), "rod_share": mean([rod_share[i] for i in at]),
                   "rod_recall": mean([first["rod_recalls"][i] for i in at]),
                   "shapes_with_rods": int(sum(not np.isnan(first["rod_recalls"][i]) for i in at))}  # fmt: skip
    print(f"\n## (a) Thin parts: {len(picks)} test shapes at 64³, {args.checkpoint or f'the shipped {s.profile.name} autoencoder'}; "
          f"thin: parts at most {metrics.THIN_THICKNESS} voxels across\n")  # fmt: skip
    print(table(["category", "shapes", "IoU", "thin share of voxels", "thin recall", "rod share of voxels", "rod recall (shapes with rods)"],
                [["**all**" if c == "all" else c, r["shapes"], f"{r['iou']:.3f}", f"{r['thin_share']:.3f}", f"{r['thin_recall']:.3f}",
                  f"{r['rod_share']:.3f}", f"{r['rod_recall']:.3f} ({r['shapes_with_rods']})"] for c, r in rows.items()]))  # fmt: skip

    # (b) fitted codes
    base = first["seconds"]
    print(f"\n## (b) Fitted codes: the encoder's z against z fitted with the decoder fixed ({len(picks)} test shapes)\n")
    print(table(["z", "mean IoU", "thin recall", "rod recall", "s per shape added"],
                [["the encoder's" if n == 0 else f"fitted, {n} steps", f"{r['mean_iou']:.4f}", f"{r['thin_recall']:.3f}", f"{r['rod_recall']:.3f}",
                  f"{(r['seconds'] - base) / len(picks):.2f}"] for n, r in by_steps.items()]))  # fmt: skip

    # (c) generalisation: training shapes from the encoder's z
    train_picks = spread(len(data.read_split(train_file, ())["names"]), args.train_shapes)
    train = autoencoder.evaluate_iou(model, train_file, indices=train_picks, progress=False)
    fitted = by_steps[max(by_steps)]
    print(f"\n## (c) The generalisation gap: {len(train_picks)} training shapes against {len(picks)} test shapes, IoU at 64³\n")
    print(table(["shapes, z", "mean IoU"], [["training shapes, the encoder's z", f"{train['mean_iou']:.4f}"],
                                            ["test shapes, the encoder's z", f"{by_steps.get(0, first)['mean_iou']:.4f}"],
                                            [f"test shapes, z fitted for {max(by_steps)} steps", f"{fitted['mean_iou']:.4f}"]]))  # fmt: skip

    thin_parts = {"profile": s.profile.name, "commit": provenance.git_commit(), "thickness": metrics.THIN_THICKNESS, "per_category": rows,
                  "shapes": [{"name": n, "category": k, "iou": v, "thin_recall": t, "rod_recall": r}
                             for n, k, v, t, r in zip(first["names"], categories, first["iou"], first["thin_recalls"], first["rod_recalls"])],
                  "model": record}  # fmt: skip
    fitted_codes = {"checkpoint": args.checkpoint, "commit": provenance.git_commit(), "machine": machine_lines(s.device), "model": record,
                    "by_steps": {str(n): {k: v for k, v in r.items() if k not in ("categories", "thin_recalls", "rod_recalls")} for n, r in by_steps.items()},
                    "train": {"shapes": len(train_picks), "mean_iou": train["mean_iou"], "per_category": train["per_category"],
                              "iou": train["iou"], "names": train["names"]}}  # fmt: skip
    return {"fitted_codes": fitted_codes, "thin_parts": thin_parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", help=f"any of {', '.join(PARTS)} (default: all)")
    add_options(parser)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=2, help="timings: best of this many")
    parser.add_argument("--steps", type=int, default=3, help="speed: optimiser steps per timing")
    parser.add_argument("--batch-shapes", type=int, default=None, help="speed: shapes per batch (default: see above)")
    parser.add_argument("--points", type=int, default=None, help="speed: points per shape (default: see above)")
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"], help="speed: precisions")
    parser.add_argument("--shapes", type=int, default=None, help="extraction, quality: test shapes, spread over the split (default 3; quality: all)")
    parser.add_argument("--resolutions", type=int, nargs="+", default=[64, 128, 256], help="extraction (b): grids")
    parser.add_argument("--dense-shapes", type=int, default=1, help="extraction (b): shapes also extracted densely above 64³ (128³: 2 M points, 256³: 16.7 M)")
    parser.add_argument("--paper-resolution", type=int, default=256, help="extraction (c): grid of the paper-size decoder (0: skip)")
    parser.add_argument("--fit-steps", type=int, nargs="+", default=[0, 10, 30, 100], help="quality (b): steps of fitting (0: the encoder's z)")
    parser.add_argument("--train-shapes", type=int, default=65, help="quality (c): training shapes, spread over the split")
    parser.add_argument("--checkpoint", default=None, help="quality: score this training checkpoint instead of the shipped autoencoder")
    args = parser.parse_args()
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}: choose from {', '.join(PARTS)}")
    parts = [p for p in PARTS if p in args.parts] or list(PARTS)
    if args.smoke:  # a handful of everything
        args.repeats, args.steps, args.batch_shapes, args.points, args.precisions = 1, 1, 2, 256, ["fp32"]
        args.resolutions, args.dense_shapes, args.paper_resolution, args.fit_steps, args.train_shapes = [128], 0, 64, [0, 2], 1
    if args.threads:
        torch.set_num_threads(args.threads)
    s = setup(args, dataset=parts != ["speed"])
    print(f"# Autoencoder: {', '.join(parts)}\n")
    print("\n".join(machine_lines(s.device)))
    profile = s.profile.name
    if "speed" in parts:
        write_results(s, "autoencoder_speed.json", {"machine": machine_lines(s.device)} | speed(s, args))
    if "extraction" in parts:
        shapes = args.shapes or (1 if args.smoke else 3)
        write_results(s, f"extraction_{profile}.json", {"machine": machine_lines(s.device)} | extraction(s, args, shapes))
    if "quality" in parts:
        out = quality(s, args, args.shapes or (1 if args.smoke else None))
        write_results(s, f"thin_parts_{profile}.json", out["thin_parts"])
        write_results(s, f"fitted_codes_{profile}.json", out["fitted_codes"])


if __name__ == "__main__":
    main()
