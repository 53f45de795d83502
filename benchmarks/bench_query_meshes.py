"""Query meshes with millions of faces: what simplifying them to geometry.QUERY_FACE_BUDGET costs the
light field descriptor, and the memory and time of a search by such a mesh.

    python benchmarks/bench_query_meshes.py [--meshes 8] [--faces 300000] [--budgets 20000 50000 100000]
    python benchmarks/bench_query_meshes.py --search MESH_FILE [--by lfd z]   # needs the quick index in $TUTORIAL_DATA

(a) ``--meshes`` procedural meshes (one per category, round-robin, seeds 100, 101, ...), each
    subdivided until it has at least ``--faces`` faces, are simplified to each of ``--budgets``
    faces by :func:`tutorial_lib.geometry.simplify_mesh`. Two kinds of dense mesh: midpoint
    subdivision (the same surface in many more faces, as a CAD export gives) and Loop subdivision
    (a smooth surface, rounder than the original, as a scan gives). The tables give the faces the
    simplification reached and the LFD distance between the dense mesh and its simplified copy,
    next to the distances between different shapes (5 chairs, all pairs; the original meshes,
    all pairs, of different categories). Seconds: the mean over the meshes.
(b) With ``--search``: ``python -m tutorial_lib search MESH_FILE --by …`` in a subprocess, its
    wall time and peak memory (the child's maximum resident set size).
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import statistics
import subprocess
import sys
import time

from machine import machine_lines  # benchmarks/machine.py


def loss_table(meshes: int, faces: int, budgets: list[int]) -> None:
    from tutorial_lib import geometry, metrics, shapes

    categories = shapes.CATEGORIES
    originals = [shapes.make_shape_from_seed(categories[i % len(categories)], 100 + i // len(categories)).mesh for i in range(meshes)]
    chairs = [metrics.lfd_descriptor(shapes.make_shape_from_seed("chair", 100 + i).mesh) for i in range(5)]
    same_category = [metrics.lfd_distance(a, b) for a, b in itertools.combinations(chairs, 2)]
    different = [metrics.lfd_distance(metrics.lfd_descriptor(a), metrics.lfd_descriptor(b)) for a, b in itertools.combinations(originals, 2)]
    for kind in ("midpoint", "loop"):
        dense = []
        for mesh in originals:
            while len(mesh.faces) < faces:
                mesh = mesh.subdivide() if kind == "midpoint" else mesh.subdivide_loop()
            dense.append(mesh)
        sizes = [len(m.faces) for m in dense]
        full = [metrics.lfd_descriptor(m) for m in dense]
        print(f"\n### (a) {kind} subdivision: LFD distance between the dense mesh ({min(sizes):,} to {max(sizes):,} faces, {len(dense)} meshes) "
              "and its simplified copy\n")  # fmt: skip
        print("| budget, faces | faces reached (mean, max) | distance mean | min | max | simplification, s |\n| ---: | ---: | ---: | ---: | ---: | ---: |")
        for budget in budgets:
            distances, seconds, reached = [], [], []
            for mesh, descriptor in zip(dense, full, strict=True):
                started = time.perf_counter()
                simple = geometry.simplify_mesh(mesh, budget)
                seconds.append(time.perf_counter() - started)
                reached.append(len(simple.faces))
                distances.append(metrics.lfd_distance(descriptor, metrics.lfd_descriptor(simple)))
            print(f"| {budget:,} | {statistics.mean(reached):,.0f}, {max(reached):,} | {statistics.mean(distances):.2f} | {min(distances):.2f} | "
                  f"{max(distances):.2f} | {statistics.mean(seconds):.1f} |")  # fmt: skip
    print("\n| between | mean | min | max |\n| --- | ---: | ---: | ---: |")
    print(f"| two different chairs ({len(same_category)} pairs) | {statistics.mean(same_category):.2f} | {min(same_category):.2f} | {max(same_category):.2f} |")
    print(f"| two meshes of different categories ({len(different)} pairs) | {statistics.mean(different):.2f} | {min(different):.2f} | {max(different):.2f} |")


def search_run(path: str, by: str) -> None:
    """One search in a subprocess: its wall time and the peak memory of the child processes so far
    (this script starts them one at a time, each larger than the last or not, so the maximum is
    reported per run by starting a fresh interpreter for each)."""
    code = (
        "import resource, subprocess, sys, time\n"
        "started = time.time()\n"
        f"done = subprocess.run([sys.executable, '-m', 'tutorial_lib', 'search', {path!r}, '--by', {by!r}], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(f'{done.returncode} {time.time() - started:.1f} {peak:.0f}')\n"
        "sys.stderr.write(done.stderr[-2000:])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    status, seconds, peak = result.stdout.split()
    print(f"| search {os.path.basename(path)} --by {by} | {status} | {seconds} | {peak} |")
    if status != "0":
        print(result.stderr, file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=int, default=8)
    parser.add_argument("--faces", type=int, default=300_000)
    parser.add_argument("--budgets", type=int, nargs="+", default=[20_000, 50_000, 100_000])
    parser.add_argument("--search", default=None, help="a mesh file to search with (skips the table)")
    parser.add_argument("--by", nargs="+", default=["lfd", "z"])
    args = parser.parse_args()

    print("## Query meshes with many faces\n")
    print("\n".join(machine_lines()))
    if args.search:
        print(f"\n### (b) search by a mesh of {args.search}\n")
        print("| command | exit status | wall, s | peak memory, MB |\n| --- | ---: | ---: | ---: |")
        for by in args.by:
            search_run(args.search, by)
    else:
        loss_table(args.meshes, args.faces, args.budgets)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average at the end: {load}; this process's peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
