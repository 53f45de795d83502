"""Speed of the surface scores and of the light field descriptor.

    python benchmarks/bench_metrics.py [--points 100000] [--meshes 13] [--matrix 20] [--repeats 3]

Measures:

(a) Chamfer distance between two clouds of ``--points`` points each (both KD-trees built and
    queried, ``workers=-1``), and the whole ``metrics.surface_metrics`` of two meshes
    (surface sampling included), seconds: for a chair against its marching-cubes
    reconstruction from 32³ voxels (the usual case: the surfaces are close), for two different
    chairs, and for two uniform random clouds;
(b) the light field descriptor (``metrics.lfd_descriptor``: 100 silhouettes at 128², Zernike
    moments, contour Fourier descriptors), seconds per mesh, averaged over ``--meshes``
    procedural meshes (one per category, round-robin), split into its three stages; also
    the ray-cast silhouettes (``rendering.orthographic_silhouettes``) for comparison;
(c) LFD distances: one ``metrics.lfd_distance_matrix`` of ``--matrix`` × ``--matrix``
    descriptors (two different sets), milliseconds per pair.

The goals: under 0.3 s per descriptor and under 1 ms per pair on a 2-core machine (the
original C implementation: about 1–1.8 s per mesh with OpenGL, 2.5 ms per pair).
Each timing is the best of ``--repeats`` runs (the least disturbed by other work); the
load average is printed so that a busy machine shows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from machine import machine_lines  # benchmarks/machine.py


def best_of(repeats: int, fn):
    """(best seconds, last result) of ``repeats`` calls of ``fn``."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--meshes", type=int, default=13)
    parser.add_argument("--matrix", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from tutorial_lib import geometry, metrics, rendering, shapes

    print("## Metrics benchmark\n")
    print("\n".join(machine_lines()))

    # (a) Chamfer ------------------------------------------------------------------------------
    rng = np.random.default_rng(0)
    chair = geometry.normalize_mesh(shapes.make_shape_from_seed("chair", 1).mesh)
    reconstruction = geometry.marching_cubes(geometry.voxelize(chair, 32))  # close to the chair
    other_chair = geometry.normalize_mesh(shapes.make_shape_from_seed("chair", 2).mesh)
    cloud, _ = geometry.sample_surface(chair, args.points, seed=0)
    print(f"\n### (a) Surface scores, {args.points:,} × {args.points:,} points\n")
    print("| measure | seconds | value |\n| --- | --- | --- |")
    for label, other in [("a chair vs its 32³ marching-cubes reconstruction", reconstruction), ("two different chairs", other_chair)]:
        other_cloud, _ = geometry.sample_surface(other, args.points, seed=1)
        seconds, chamfer = best_of(args.repeats, lambda o=other_cloud: metrics.chamfer_distance(cloud, o))
        print(f"| Chamfer distance, {label} | {seconds:.3f} | {chamfer:.2e} |")
        seconds, scores = best_of(args.repeats, lambda o=other: metrics.surface_metrics(chair, o, n_points=args.points))
        print(f"| surface_metrics (sampling + all scores), {label} | {seconds:.3f} | F-score@{scores['tau']}: {scores['f_score']:.3f} |")
    uniform_a, uniform_b = rng.random((args.points, 3)), rng.random((args.points, 3))
    seconds, _ = best_of(args.repeats, lambda: metrics.chamfer_distance(uniform_a, uniform_b))
    print(f"| Chamfer distance, two clouds uniform in the unit cube | {seconds:.3f} | |")
    print("\n(Surfaces far apart are slower: a query point far from the other surface has many of its")
    print("points at about the same distance, and the KD-tree can prune little.)")

    # (b) LFD descriptors ----------------------------------------------------------------------
    categories = shapes.CATEGORIES
    meshes = [shapes.make_shape_from_seed(categories[i % len(categories)], 100 + i // len(categories)).mesh for i in range(args.meshes)]
    metrics.lfd_descriptor(meshes[0])  # warm-up: caches the dodecahedra and the Zernike basis
    directions = metrics.light_field_directions().reshape(-1, 3)
    silhouettes, region, contour, whole, raycast = [], [], [], [], []
    for mesh in meshes:
        t, images = best_of(args.repeats, lambda mesh=mesh: metrics.lfd_silhouettes(mesh))
        silhouettes.append(t)
        region.append(best_of(args.repeats, lambda images=images: metrics.zernike_magnitudes(images))[0])
        contour.append(best_of(args.repeats, lambda images=images: metrics.contour_fourier(images))[0])
        whole.append(best_of(args.repeats, lambda mesh=mesh: metrics.lfd_descriptor(mesh))[0])
        normalised = metrics.normalize_for_lfd(mesh)
        raycast.append(best_of(1, lambda n=normalised: rendering.orthographic_silhouettes(n, directions, size=metrics.LFD_RESOLUTION, radius=1.0))[0])
    faces = [len(m.faces) for m in meshes]
    print(
        f"\n### (b) Light field descriptor, {len(meshes)} procedural meshes ({min(faces)}–{max(faces)} triangles), 100 silhouettes at {metrics.LFD_RESOLUTION}²\n"
    )
    print("| stage | mean s / mesh | median | max |\n| --- | --- | --- | --- |")
    for name, values in [("silhouettes (numpy scan conversion)", silhouettes), ("Zernike moments (35 per silhouette)", region),
                         ("contour Fourier descriptors (10 per silhouette)", contour), ("**whole descriptor**", whole),
                         ("for comparison: ray-cast silhouettes (Embree)", raycast)]:  # fmt: skip
        print(f"| {name} | {statistics.mean(values):.3f} | {statistics.median(values):.3f} | {max(values):.3f} |")

    # (c) LFD distances ------------------------------------------------------------------------
    n = args.matrix
    pool = [metrics.lfd_descriptor(meshes[i % len(meshes)]) for i in range(min(n, len(meshes)))]
    descriptors = np.stack([np.asarray(pool[i % len(pool)]) for i in range(n)])
    others = descriptors + rng.random(descriptors.shape).astype(np.float32) * 1e-3  # a second, distinct set
    matrix_s, _ = best_of(args.repeats, lambda: metrics.lfd_distance_matrix(descriptors, others))
    pairs = n * n
    single_s, _ = best_of(max(args.repeats, 20), lambda: metrics.lfd_distance(pool[0], pool[-1]))
    print("\n### (c) LFD distances (min over 10 × 10 light field pairs × 60 rotations)\n")
    print("| measure | value |\n| --- | --- |")
    print(f"| {n} × {n} matrix | {matrix_s:.3f} s = **{matrix_s / pairs * 1e3:.3f} ms per pair** |")
    print(f"| one pair through lfd_distance (call overhead included) | {single_s * 1e3:.3f} ms |")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"\nload average at the end: {load}")


if __name__ == "__main__":
    main()
