"""How long the dataset takes to build, where the time goes, and edge sampling beside IM-NET's.

    python benchmarks/bench_dataset.py [--shapes 39] [--workers N] [--build-shapes K] [--skip-build]
                                       [--imnet DIR] [--json FILE] [--smoke] [--results DIR]

Measures, on ``--shapes`` procedural shapes spread evenly over the 13 categories, one core:

(a) shape generation (``shapes.make_shape``), ms per shape, per category;
(b) edge sampling at 16³, 32³ and 64³ (``point_sampling.edge_sample`` on the max-pooled 64³
    voxels, as the builder does), ms per shape; with ``--imnet DIR``, IM-NET's own sampling
    loops on the same voxels, in the same run, shape by shape (see below);
(c) rendering: the 20 views of a shape in one ``rendering.render_views`` call (the compiled
    z-buffer), ms per view, beside the same views cast ray by ray with Embree
    (``rendering._render_views_raycast``, the renderer before it), and how many pixels differ;
(d) normalisation and 64³ voxelisation (``geometry.voxelize``: the compiled column kernel),
    ms per shape, beside Embree's rays (``geometry._parity_along_axis``), and whether the voxels
    are the same;
(f) encoding one shape's arrays as the split files' compressed chunks (``data.encode_record``),
    which the builder's workers do;
(g) meshes that are not watertight, as people's files often are: the same shapes with 1 % of
    their faces removed at random (seeded), voxelised as ``data build --source`` and ``search``
    voxelise them (``geometry.voxelize``: the generalised winding number), ms per shape, and the
    IoU with the closed shape's voxels;
(e) a whole build with ``data.build_dataset(profile="quick", out=<temporary folder>,
    workers=N)``: shapes per second, and what that means for the full profile (6,006 shapes).
    By default it builds the whole quick profile; ``--build-shapes K`` (at least 2: a training
    and a test shape) builds only K shapes of every category (passed to the builder as
    ``jobs=``). The compiled kernels are loaded (or, the first time after a change, compiled)
    inside the build and billed to it.

IM-NET's sampler: ``--imnet DIR`` names a folder holding IM-NET's
``vox2pointvaluepair_from_binvox.py`` (from the ``point_sampling`` folder of
github.com/czq142857/implicit-decoder, IM-NET's original repository; copy it to a temporary
folder, never into this repository). Its per-shape loops (from ``#compress model 64 -> 64`` to
the line that writes the shape's name) are read from that file and run as they are, at module
level as the script runs them, with its HDF5 writes sent to arrays and its prints silenced,
on our 64³ voxels. Both samplers are timed on the same shapes in this one run; the speed-up is
IM-NET's total time over ours. Without ``--imnet`` that part is skipped, and the script says so.

Prints the machine and markdown tables; ``--json`` also writes the numbers to a file (e.g.
``benchmarks/results/dataset_build.json``), and so does ``--results DIR`` (to
``DIR/dataset_build.json``). Timings are wall-clock on whatever else the machine is doing: the
load average is printed at the start and the end so that a busy machine shows.

``--smoke`` checks that the script runs, at toy size: 5 shapes for (a)–(d) and (f), a build of 2
shapes of every category (one training, one test) in (e), no IM-NET; the numbers go to
``dataset_build.json`` in a temporary folder (or ``--results``, outside the repository), never
to ``--json``.
"""

from __future__ import annotations

import argparse
import builtins
import json
import os
import random
import re
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from machine import add_options, machine_lines, setup, write_results  # benchmarks/machine.py

IMNET_SCRIPT = "vox2pointvaluepair_from_binvox.py"


def stats_row(name: str, values_ms: list[float]) -> str:
    return (f"| {name} | {statistics.median(values_ms):.2f} | {statistics.mean(values_ms):.2f} | "
            f"{min(values_ms):.2f} | {max(values_ms):.2f} |")  # fmt: skip


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


class IMNetSampler:
    """IM-NET's point sampling loops, read from its script and run as they are on one shape's voxels."""

    def __init__(self, folder: str | Path):
        script = Path(folder) / IMNET_SCRIPT
        if not script.is_file():
            raise FileNotFoundError(f"{script}: no such file (copy IM-NET's point_sampling/{IMNET_SCRIPT} into that folder)")
        source = script.read_text()
        start = source.rfind("\n", 0, source.index("#compress model 64 -> 64")) + 1
        stop = source.rfind("\n", 0, source.index("fout.write(", start)) + 1
        self.body = textwrap.dedent(source[start:stop])
        self.code = compile(self.body, str(script), "exec")
        # The budgets, as the script sets them (they must be the talk's: 4096, 8192, 32768).
        self.budgets = {name: eval(expression, {}) for name, expression in re.findall(r"^\s*(batch_size_[123])\s*=\s*([\d* ]+)$", source, re.M)}
        if self.budgets != {"batch_size_1": 4096, "batch_size_2": 8192, "batch_size_3": 32768}:
            raise ValueError(f"{script}: budgets {self.budgets}, not the talk's 4096 / 8192 / 32768")
        self.path = script

    def __call__(self, voxels: np.ndarray, seed: int) -> dict:
        """Run the loops on ``voxels`` (64³, bool); returns the arrays the script would write and its counters."""
        budgets = self.budgets
        sink = {
            "voxels": np.zeros((1, 64, 64, 64, 1), np.uint8),
            **{f"points_{n}": np.zeros((1, budgets[k], 3), np.uint8) for n, k in (("16", "batch_size_1"), ("32", "batch_size_2"), ("64", "batch_size_3"))},
            **{f"values_{n}": np.zeros((1, budgets[k], 1), np.uint8) for n, k in (("16", "batch_size_1"), ("32", "batch_size_2"), ("64", "batch_size_3"))},
        }
        random.seed(seed)
        namespace = {"__builtins__": builtins, "np": np, "random": random, "print": lambda *args, **kwargs: None, "hdf5_file": sink,
                     "voxel_model_64": np.asarray(voxels, dtype=np.uint8), "counter": 0, "exceed_32": 0, "exceed_64": 0, **budgets}  # fmt: skip
        exec(self.code, namespace)  # noqa: S102  (IM-NET's own loops, from the file named on the command line)
        return {"arrays": sink, "exceed_64": namespace["exceed_64"], "exceed_32": namespace["exceed_32"]}


def bench_parts(shapes_total: int, imnet: IMNetSampler | None) -> dict:
    """(a)–(d) and (f) on ``shapes_total`` shapes, round-robin over the categories, in this process."""
    from tutorial_lib import _raster, data, geometry, point_sampling, rendering, shapes
    from tutorial_lib.config import POINT_BUDGETS, VIEWS_PER_SHAPE

    # Warm-up (imports, the kernels, Embree's first scene, scipy) so that it is not billed to shape 1.
    _raster.warm_up()
    warm = geometry.normalize_mesh(shapes.make_shape_from_seed("table", 10_000).mesh)
    point_sampling.sample_all_resolutions(geometry.voxelize(warm), np.random.default_rng(0))
    rendering.render_views(warm, rendering.random_views(2, np.random.default_rng(0)))
    rendering._render_views_raycast(warm, rendering.random_views(2, np.random.default_rng(0)))

    per_category = {c: [] for c in shapes.CATEGORIES}
    faces = {c: [] for c in shapes.CATEGORIES}
    generate, normalise, voxelise, voxelise_rays, render_per_view, raycast_per_view, encode = [], [], [], [], [], [], []
    sampling = {n: [] for n in POINT_BUDGETS}
    ours_ms, imnet_ms, stages_64, imnet_exceeded_64 = [], [], [], []
    voxels_same, pixels_differing, pixels = 0, 0, 0
    for i in range(shapes_total):
        category = shapes.CATEGORIES[i % len(shapes.CATEGORIES)]
        seed = i // len(shapes.CATEGORIES)
        rng = np.random.default_rng(seed)

        start = time.perf_counter()
        shape = shapes.make_shape(category, rng)
        generate.append(1e3 * (time.perf_counter() - start))
        per_category[category].append(generate[-1])
        faces[category].append(len(shape.mesh.faces))

        start = time.perf_counter()
        mesh = geometry.normalize_mesh(shape.mesh)
        normalise.append(1e3 * (time.perf_counter() - start))

        start = time.perf_counter()
        voxels = geometry.voxelize(mesh, 64)
        voxelise.append(1e3 * (time.perf_counter() - start))
        start = time.perf_counter()
        intersector = geometry.ray_intersector(mesh)
        votes = sum(geometry._parity_along_axis(intersector, 64, axis).astype(np.uint8) for axis in range(3))
        voxelise_rays.append(1e3 * (time.perf_counter() - start))
        voxels_same += bool(np.array_equal(voxels, votes >= 2))

        sample_rng = np.random.default_rng(seed)
        for n, budget in POINT_BUDGETS.items():
            start = time.perf_counter()
            point_sampling.edge_sample(point_sampling.downsample(voxels, n), budget, sample_rng)
            sampling[n].append(1e3 * (time.perf_counter() - start))
        if imnet is not None:
            # Side by side on this shape: ours (the mean of 5 runs, each from a fresh generator), then IM-NET's loops once.
            start = time.perf_counter()
            for _ in range(5):
                ours = point_sampling.sample_all_resolutions(voxels, np.random.default_rng(seed))
            ours_ms.append(1e3 * (time.perf_counter() - start) / 5)
            start = time.perf_counter()
            theirs = imnet(voxels, seed)
            imnet_ms.append(1e3 * (time.perf_counter() - start))
            stages_64.append(ours[64].stage)
            imnet_exceeded_64.append(theirs["exceed_64"])

        views = rendering.random_views(VIEWS_PER_SHAPE, np.random.default_rng(seed))
        start = time.perf_counter()
        images = rendering.render_views(mesh, views)
        render_per_view.append(1e3 * (time.perf_counter() - start) / VIEWS_PER_SHAPE)
        start = time.perf_counter()
        cast = rendering._render_views_raycast(mesh, views)
        raycast_per_view.append(1e3 * (time.perf_counter() - start) / VIEWS_PER_SHAPE)
        pixels_differing += int((images != cast).sum())
        pixels += images.size

        record = data.build_shape(data.ShapeJob(name=f"{category}_{seed}", category=category, split="train", seed=seed))
        start = time.perf_counter()
        data.encode_record(record)
        encode.append(1e3 * (time.perf_counter() - start))
    return dict(per_category=per_category, faces=faces, generate=generate, normalise=normalise, voxelise=voxelise, voxelise_rays=voxelise_rays,
                voxels_same=voxels_same, sampling=sampling, render_per_view=render_per_view, raycast_per_view=raycast_per_view,
                pixels_differing=pixels_differing, pixels=pixels, encode=encode, views=VIEWS_PER_SHAPE,
                imnet={"ours_ms": ours_ms, "imnet_ms": imnet_ms, "stages_64": stages_64, "imnet_exceeded_64": imnet_exceeded_64} if imnet else None)  # fmt: skip


def bench_open(shapes_total: int) -> dict:
    """(g): ``shapes_total`` shapes, round-robin over the categories, with 1 % of their faces removed."""
    from tutorial_lib import geometry, shapes

    geometry.voxelize(geometry.normalize_mesh(trimesh_with_holes(shapes.make_shape_from_seed("table", 10_000).mesh, 0)), report=lambda line: None)
    ms, iou = [], []
    for i in range(shapes_total):
        category = shapes.CATEGORIES[i % len(shapes.CATEGORIES)]
        closed = geometry.normalize_mesh(shapes.make_shape(category, np.random.default_rng(i // len(shapes.CATEGORIES))).mesh)
        opened = trimesh_with_holes(closed, i)
        start = time.perf_counter()
        voxels = geometry.voxelize(opened, report=lambda line: None)
        ms.append(1e3 * (time.perf_counter() - start))
        truth = geometry.voxelize(closed)
        iou.append(float((voxels & truth).sum() / (voxels | truth).sum()))
    return {"ms": ms, "iou": iou}


def trimesh_with_holes(mesh, seed: int, share: float = 0.01):
    """A copy of a mesh without ``share`` of its faces (at least one), chosen at random."""
    rng = np.random.default_rng(seed)
    keep = np.ones(len(mesh.faces), bool)
    keep[rng.choice(len(mesh.faces), max(1, int(share * len(mesh.faces))), replace=False)] = False
    holed = mesh.copy()
    holed.update_faces(keep)
    return holed


def bench_build(workers: int | None, per_category: int | None) -> dict:
    """(e): time ``data.build_dataset`` of the quick profile (or K shapes of each category) into a temporary folder."""
    from tutorial_lib import config, data

    quick = config.get_profile("quick")
    all_jobs = data.procedural_jobs(quick)
    if per_category:
        # Keep both splits in the narrowed list: a category's first shapes are all train
        # shapes, so take its test shapes from its end, in the same ratio as the full list.
        n_test = max(1, round(per_category * quick.dataset.test_per_category / quick.dataset.shapes_per_category))
        jobs = []
        for category in dict.fromkeys(j.category for j in all_jobs):
            mine = [j for j in all_jobs if j.category == category]
            jobs += [j for j in mine if j.split == "train"][: per_category - n_test] + [j for j in mine if j.split == "test"][:n_test]
    else:
        jobs = all_jobs
    with tempfile.TemporaryDirectory(prefix="bench_dataset_") as tmp:
        start = time.perf_counter()
        report = data.build_dataset(quick, out=Path(tmp) / "quick", workers=workers, progress=False, jobs=jobs)
        seconds = time.perf_counter() - start
        size_mb = sum(p.stat().st_size for p in Path(tmp, "quick").glob("*.hdf5")) / 1e6
    built = sum(report.counts.values())
    full = config.get_profile("full").dataset
    return dict(shapes=built, failed=len(report.failed), seconds=seconds, size_mb=size_mb, workers=workers or config.default_workers(),
                full_shapes=13 * full.shapes_per_category)  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", type=int, default=39, help="shapes for (a)-(d) and (f), spread over the 13 categories (default 39: 3 each)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes of the build (default: the builder's, all cores up to 8)")
    parser.add_argument("--build-shapes", type=int, default=0, metavar="K", help="build only K shapes per category in (e) (default 0: the whole quick profile)")
    parser.add_argument("--skip-build", action="store_true", help="measure (a)-(d) and (f) only")
    parser.add_argument("--imnet", default=None, metavar="DIR", help=f"a folder holding IM-NET's {IMNET_SCRIPT}: time its sampler beside ours in (b)")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the numbers to this JSON file")
    add_options(parser, device=None, profile=False)  # --smoke, --results; (e) always builds the quick profile
    args = parser.parse_args(argv)
    if args.smoke:
        if args.json or args.imnet:
            parser.error("--smoke writes toy numbers to --results (a temporary folder by default), not --json, and runs no --imnet")
        args.shapes, args.build_shapes, args.workers = 5, 2, args.workers or 2  # two workers: the pool's path, as in a real build
    if args.shapes < 1:
        parser.error("--shapes must be at least 1")
    if args.build_shapes == 1:
        parser.error("--build-shapes must be at least 2: the builder needs a training and a test shape of every category")
    s = setup(args, dataset=False)  # where --smoke's numbers go; (a)-(f) make their own shapes

    command = "python benchmarks/bench_dataset.py " + " ".join(f"--{k.replace('_', '-')} {v}" if v is not True else f"--{k.replace('_', '-')}"
                                                               for k, v in vars(args).items() if v not in (None, False, 0))  # fmt: skip
    results: dict = {"machine": machine_lines(), "command": command.strip()}
    print("## Dataset benchmark\n")
    print("\n".join(results["machine"]))
    print(f"- command: {results['command']}")

    imnet = None
    if args.imnet:
        imnet = IMNetSampler(args.imnet)
        print(f"- IM-NET's sampler: the loops of {imnet.path}")
    else:
        print("- IM-NET's sampler: skipped (no --imnet DIR given)")

    parts = bench_parts(args.shapes, imnet)
    results["parts_ms"] = {k: parts[k] for k in ("generate", "normalise", "voxelise", "voxelise_rays", "render_per_view", "raycast_per_view", "encode")}
    results["parts_ms"]["sampling"] = {str(n): v for n, v in parts["sampling"].items()}
    print(f"\n### (a) Shape generation, ms per shape ({args.shapes} shapes)\n")
    print("| category | shapes | ms per shape (mean) | triangles (mean) |")
    print("| --- | ---: | ---: | ---: |")
    for category, times in parts["per_category"].items():
        if times:
            print(f"| {category} | {len(times)} | {statistics.mean(times):.0f} | {statistics.mean(parts['faces'][category]):,.0f} |")
    every = [t for times in parts["per_category"].values() for t in times]
    print(f"| **all** | {len(every)} | {statistics.mean(every):.0f} | |")

    print(f"\n### (b)–(d), (f) The other steps of one shape, ms ({args.shapes} shapes, one core)\n")
    print("| step | median | mean | min | max |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(stats_row("(d) normalise (centre of mass, scale)", parts["normalise"]))
    print(stats_row("(d) voxelise to 64³ (compiled column kernel)", parts["voxelise"]))
    print(stats_row("(d) voxelise to 64³ with Embree's rays (before)", parts["voxelise_rays"]))
    for n, times in parts["sampling"].items():
        print(stats_row(f"(b) edge sampling {n}³ (incl. max-pooling)", times))
    all_sampling = [sum(t) for t in zip(*parts["sampling"].values(), strict=True)]
    print(stats_row("(b) edge sampling, all three resolutions", all_sampling))
    print(stats_row(f"(c) rendering, per view ({parts['views']} views per call; compiled z-buffer)", parts["render_per_view"]))
    print(stats_row("(c) rendering, per view, Embree's rays (before)", parts["raycast_per_view"]))
    print(stats_row("(f) encoding the arrays as compressed HDF5 chunks", parts["encode"]))
    per_shape = [a + b + c + d + parts["views"] * e + f for a, b, c, d, e, f in zip(
        parts["generate"], parts["normalise"], parts["voxelise"], all_sampling, parts["render_per_view"], parts["encode"], strict=True)]  # fmt: skip
    print(stats_row("sum: one whole shape, one core", per_shape))
    results["per_shape_ms"] = per_shape
    results["voxels_same_as_embree"] = f"{parts['voxels_same']} of {args.shapes}"
    results["pixels_differing_from_embree"] = parts["pixels_differing"] / parts["pixels"]
    print(f"\nThe kernel's voxels are Embree's on {parts['voxels_same']} of {args.shapes} shapes; "
          f"{parts['pixels_differing']} of {parts['pixels']:,} pixels ({parts['pixels_differing'] / parts['pixels']:.2e}) differ from Embree's renderings.")  # fmt: skip

    opened = bench_open(args.shapes)
    results["open_meshes"] = opened
    print(f"\n### (g) Meshes with holes: the same {args.shapes} shapes without 1 % of their faces, voxelised by their winding number\n")
    print("| | median | mean | min | max |\n| --- | ---: | ---: | ---: | ---: |")
    print(stats_row("ms per shape (geometry.voxelize, 64³)", opened["ms"]))
    print(f"| IoU with the closed shape's voxels | {statistics.median(opened['iou']):.4f} | {statistics.mean(opened['iou']):.4f} | "
          f"{min(opened['iou']):.4f} | {max(opened['iou']):.4f} |")  # fmt: skip

    if imnet is not None:
        side = parts["imnet"]
        ratio = sum(side["imnet_ms"]) / sum(side["ours_ms"])
        results["imnet"] = {**side, "speedup": ratio, "script": str(imnet.path)}
        print(f"\n### (b) Edge sampling beside IM-NET's sampler (the same {args.shapes} shapes' 64³ voxels, one run)\n")
        print("| sampler | median ms per shape | mean | total s |")
        print("| --- | ---: | ---: | ---: |")
        print(f"| ours (point_sampling.sample_all_resolutions, mean of 5 runs) | {statistics.median(side['ours_ms']):.2f} | "
              f"{statistics.mean(side['ours_ms']):.2f} | {sum(side['ours_ms']) / 1e3:.3f} |")  # fmt: skip
        print(f"| IM-NET's loops ({IMNET_SCRIPT}) | {statistics.median(side['imnet_ms']):.1f} | {statistics.mean(side['imnet_ms']):.1f} | "
              f"{sum(side['imnet_ms']) / 1e3:.2f} |")  # fmt: skip
        print(f"\nSpeed-up (IM-NET's total time / ours): **{ratio:.0f}×**. At 64³, {sum(s == 2 for s in side['stages_64'])} of our samples "
              f"needed stage 2; IM-NET's loops exceeded the budget (its stage 2) on {sum(side['imnet_exceeded_64'])} shapes "
              "(its window test skips the 3 voxels nearest each face of the grid, ours clips the window there).")  # fmt: skip

    if not args.skip_build:
        build = bench_build(args.workers, args.build_shapes or None)
        results["build"] = build
        rate = build["shapes"] / build["seconds"]
        print(f'\n### (e) Whole build: data.build_dataset(profile="quick", workers={build["workers"]})\n')
        print("| shapes built | failed | workers | seconds | shapes / s | ms per shape per worker | files (MB) |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print(
            f"| {build['shapes']} | {build['failed']} | {build['workers']} | {build['seconds']:.1f} | {rate:.2f} | "
            f"{1e3 * build['seconds'] * build['workers'] / build['shapes']:.0f} | {build['size_mb']:.0f} |"
        )
        projected = build["full_shapes"] / rate
        print(
            f"\nProjection for the full profile ({build['full_shapes']:,} shapes) at this rate and "
            f"{build['workers']} workers: {projected / 60:.0f} min, "
            f"about {build['size_mb'] * build['full_shapes'] / max(build['shapes'], 1) / 1e3:.1f} GB of split files. "
            "The build is parallel over shapes, so more cores shorten it roughly in proportion."
        )
    results["load_average_at_end"] = load_average()
    print(f"\n- load average (1, 5, 15 min) at the end: {results['load_average_at_end']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
        print(f"- numbers written to {args.json}")
    if args.smoke or args.results is not None:  # a real run without --results writes only --json, as it always did
        write_results(s, "dataset_build.json", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
