"""How long the dataset takes to build, and where the time goes.

    python benchmarks/bench_dataset.py [--shapes 39] [--workers N] [--build-shapes K]

Measures, on ``--shapes`` procedural shapes spread evenly over the 13 categories:

(a) shape generation (``shapes.make_shape``), ms per shape, per category;
(b) edge sampling at 16³, 32³ and 64³ (``point_sampling.edge_sample`` on the max-pooled
    64³ voxels of those shapes, as the builder does), ms per shape;
(c) rendering: the 20 views of a shape in one ``rendering.render_views`` call, ms per view;
(d) normalisation and 64³ voxelisation (``geometry.voxelize``), ms per shape;
(e) a whole build with ``data.build_dataset(profile="quick", out=<temporary folder>,
    workers=N)``: shapes per second, and what that means for the full profile (6,006 shapes).
    By default it builds the whole quick profile (390 shapes); ``--build-shapes K`` builds
    only its first K shapes of every category (passed to the builder as ``jobs=``).

Prints the machine and markdown tables. Timings are wall-clock on whatever else the
machine is doing: the load average is printed so that a busy machine shows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from machine import machine_lines  # benchmarks/machine.py


def stats_row(name: str, values_ms: list[float]) -> str:
    return (f"| {name} | {statistics.median(values_ms):.1f} | {statistics.mean(values_ms):.1f} | "
            f"{min(values_ms):.1f} | {max(values_ms):.1f} |")  # fmt: skip


def bench_parts(shapes_total: int) -> dict:
    """(a)–(d) on ``shapes_total`` shapes, round-robin over the categories, in this process."""
    from tutorial_lib import geometry, point_sampling, rendering, shapes
    from tutorial_lib.config import POINT_BUDGETS, VIEWS_PER_SHAPE

    # Warm-up (imports, Embree's first scene, scipy's filters) so that it is not billed to shape 1.
    warm = geometry.normalize_mesh(shapes.make_shape_from_seed("table", 10_000).mesh)
    point_sampling.sample_all_resolutions(geometry.voxelize(warm), np.random.default_rng(0))
    rendering.render_views(warm, rendering.random_views(2, np.random.default_rng(0)))

    per_category = {c: [] for c in shapes.CATEGORIES}
    faces = {c: [] for c in shapes.CATEGORIES}
    generate, normalise, voxelise, render_per_view = [], [], [], []  # in shape order
    sampling = {n: [] for n in POINT_BUDGETS}
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

        sample_rng = np.random.default_rng(seed)
        for n, budget in POINT_BUDGETS.items():
            start = time.perf_counter()
            point_sampling.edge_sample(point_sampling.downsample(voxels, n), budget, sample_rng)
            sampling[n].append(1e3 * (time.perf_counter() - start))

        views = rendering.random_views(VIEWS_PER_SHAPE, np.random.default_rng(seed))
        start = time.perf_counter()
        rendering.render_views(mesh, views)
        render_per_view.append(1e3 * (time.perf_counter() - start) / VIEWS_PER_SHAPE)
    return dict(per_category=per_category, faces=faces, generate=generate, normalise=normalise, voxelise=voxelise,
                sampling=sampling, render_per_view=render_per_view, views=VIEWS_PER_SHAPE)  # fmt: skip


def bench_build(workers: int | None, per_category: int | None) -> dict:
    """(e): time ``data.build_dataset`` of the quick profile (or its first shapes) into a temporary folder."""
    from tutorial_lib import config, data

    all_jobs = data.procedural_jobs("quick")
    if per_category:
        # Keep both splits in the narrowed list: a category's first shapes are all train
        # shapes, so take its test shapes from its end, in the same ratio as the full list.
        quick = config.get_profile("quick").dataset
        n_test = max(1, round(per_category * quick.test_per_category / quick.shapes_per_category))
        jobs = []
        for category in dict.fromkeys(j.category for j in all_jobs):
            mine = [j for j in all_jobs if j.category == category]
            jobs += [j for j in mine if j.split == "train"][: per_category - n_test] + [j for j in mine if j.split == "test"][:n_test]
    else:
        jobs = all_jobs
    with tempfile.TemporaryDirectory(prefix="bench_dataset_") as tmp:
        start = time.perf_counter()
        report = data.build_dataset("quick", out=Path(tmp) / "quick", workers=workers, progress=False, jobs=jobs)
        seconds = time.perf_counter() - start
        size_mb = sum(p.stat().st_size for p in Path(tmp, "quick").glob("*.hdf5")) / 1e6
    built = sum(report.counts.values())
    full = config.get_profile("full").dataset
    return dict(shapes=built, failed=len(report.failed), seconds=seconds, size_mb=size_mb,
                workers=workers or max(1, min(os.cpu_count() or 1, 8)),
                full_shapes=13 * full.shapes_per_category)  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", type=int, default=39, help="shapes for (a)-(d), spread over the 13 categories (default 39: 3 each)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes of the build (default: the builder's, all cores up to 8)")
    parser.add_argument(
        "--build-shapes", type=int, default=0, metavar="K", help="build only K shapes per category in (e) (default 0: the whole quick profile, 30 per category)"
    )
    parser.add_argument("--skip-build", action="store_true", help="measure (a)-(d) only")
    args = parser.parse_args(argv)
    if args.shapes < 1:
        parser.error("--shapes must be at least 1")

    print("## Dataset benchmark\n")
    print("\n".join(machine_lines()))
    print(
        f"- command: python benchmarks/bench_dataset.py --shapes {args.shapes}"
        + (f" --workers {args.workers}" if args.workers else "")
        + (f" --build-shapes {args.build_shapes}" if args.build_shapes else "")
    )

    parts = bench_parts(args.shapes)
    print(f"\n### (a) Shape generation, ms per shape ({args.shapes} shapes)\n")
    print("| category | shapes | ms per shape (mean) | triangles (mean) |")
    print("| --- | ---: | ---: | ---: |")
    for category, times in parts["per_category"].items():
        if times:
            print(f"| {category} | {len(times)} | {statistics.mean(times):.0f} | {statistics.mean(parts['faces'][category]):,.0f} |")
    every = [t for times in parts["per_category"].values() for t in times]
    print(f"| **all** | {len(every)} | {statistics.mean(every):.0f} | |")

    print(f"\n### (b)–(d) The other steps of one shape, ms ({args.shapes} shapes)\n")
    print("| step | median | mean | min | max |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(stats_row("(d) normalise (centre of mass, scale)", parts["normalise"]))
    print(stats_row("(d) voxelise to 64³", parts["voxelise"]))
    for n, times in parts["sampling"].items():
        print(stats_row(f"(b) edge sampling {n}³ (incl. max-pooling)", times))
    all_sampling = [sum(t) for t in zip(*parts["sampling"].values(), strict=True)]
    print(stats_row("(b) edge sampling, all three resolutions", all_sampling))
    print(stats_row(f"(c) rendering, per view ({parts['views']} views per call)", parts["render_per_view"]))
    per_shape = [a + b + c + d + parts["views"] * e for a, b, c, d, e in zip(
        parts["generate"], parts["normalise"], parts["voxelise"], all_sampling, parts["render_per_view"], strict=True)]  # fmt: skip
    print(stats_row("sum: one whole shape, one core", per_shape))

    if not args.skip_build:
        build = bench_build(args.workers, args.build_shapes or None)
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
            f"{build['workers']} workers: {projected / 60:.0f} min ({projected / 3600:.1f} h), "
            f"about {build['size_mb'] * build['full_shapes'] / max(build['shapes'], 1) / 1e3:.1f} GB of split files. "
            "The build is parallel over shapes, so more cores shorten it roughly in proportion."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
