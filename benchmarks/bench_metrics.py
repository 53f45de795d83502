"""The metrics: answers known by hand, what each costs, and the numbers behind the light field descriptor's choices.

    python benchmarks/bench_metrics.py [--points 100000] [--meshes 13] [--matrix 20] [--repeats 3] [--smoke]

Measures, on procedural meshes (one per category, round-robin, seeds 100, 101, …):

(0) known answers, which must hold exactly (or, for a turned mesh, up to pixelation): the IoU
    of a voxel grid with itself (1), the Chamfer distance of a point cloud to itself (0) and
    the F-score (1), the LFD distance of a mesh to itself (0) and to itself turned by a
    rotation of the dodecahedron (small beside two different chairs);
(a) the Chamfer distance between two clouds of ``--points`` points (both KD-trees built and
    queried) and the whole ``metrics.surface_metrics`` of two meshes (surface sampling
    included), seconds: a chair against its marching-cubes reconstruction from 32³ voxels
    (close surfaces, the usual case), two different chairs, two uniform random clouds;
(b) the light field descriptor (``metrics.lfd_descriptor``: 100 silhouettes at 128², Zernike
    moments, contour Fourier descriptors), seconds per mesh over ``--meshes`` meshes, stage by
    stage, and the ray-cast silhouettes for comparison;
(c) LFD distances: one ``metrics.lfd_distance_matrix`` of ``--matrix`` × ``--matrix``
    descriptors, milliseconds per pair (min over 10 × 10 light field pairs × 60 rotations);
(d) the descriptor's choices (tutorial_lib/metrics/lfd.py): silhouettes by scan conversion
    (the default) against Embree ray casting — seconds and the share of pixels on which they
    differ; 128² silhouettes against the original's 256² — how much the coefficients move,
    ``|c128 − c256|₁ / |c256|₁`` per silhouette; and what rotation invariance is worth — the
    distance between a mesh and itself turned by ``--rotations`` of the 60 rotations of the
    dodecahedron, beside the distances between ``--chairs`` different chairs.

Each timing is the best of ``--repeats`` runs (the least disturbed by other work).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import numpy as np
from machine import add_options, best_of, load_average, machine_lines, setup, table, write_results  # benchmarks/machine.py


def relative_l1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over silhouettes of |a - b|₁ / |b|₁ (coefficients on the last axis)."""
    return float(np.mean(np.abs(a - b).sum(-1) / np.maximum(np.abs(b).sum(-1), 1e-12)))


def turned(mesh, rotation: np.ndarray):
    transform = np.eye(4)
    transform[:3, :3] = rotation
    return mesh.copy().apply_transform(transform)


def stats(values) -> list[str]:
    return [f"{statistics.mean(values):.4g}", f"{min(values):.4g}", f"{max(values):.4g}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser, device=None)
    parser.add_argument("--points", type=int, default=100_000, help="(a): points per cloud")
    parser.add_argument("--meshes", type=int, default=13, help="(b), (d): procedural meshes")
    parser.add_argument("--matrix", type=int, default=20, help="(c): descriptors per side of the distance matrix")
    parser.add_argument("--rotations", type=int, default=5, help="(d): dodecahedral rotations per mesh")
    parser.add_argument("--chairs", type=int, default=5, help="(d): different chairs, all pairs")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.smoke:
        args.points, args.meshes, args.matrix, args.rotations, args.chairs, args.repeats = 2000, 2, 3, 1, 2, 1

    from tutorial_lib import geometry, metrics, rendering, shapes

    s = setup(args, dataset=False)
    print("# Metrics\n")
    print("\n".join(machine_lines()))
    record: dict = {"machine": machine_lines(), "settings": {k: v for k, v in vars(args).items() if k not in ("results",)}}
    categories = shapes.CATEGORIES
    meshes = [shapes.make_shape_from_seed(categories[i % len(categories)], 100 + i // len(categories)).mesh for i in range(args.meshes)]
    chairs = [shapes.make_shape_from_seed("chair", 100 + i).mesh for i in range(args.chairs)]
    metrics.lfd_descriptor(meshes[0])  # warm-up: caches the dodecahedra and the Zernike basis
    rotations = metrics.dodecahedron_rotations()
    chosen = np.random.default_rng(0).choice(np.arange(1, len(rotations)), size=args.rotations, replace=False)

    # (0) known answers --------------------------------------------------------------------------
    chair = geometry.normalize_mesh(chairs[0])
    grid = geometry.voxelize(chair, 32)
    cloud, _ = geometry.sample_surface(chair, args.points, seed=0)
    descriptor = metrics.lfd_descriptor(chair)
    residual = [metrics.lfd_distance(descriptor, metrics.lfd_descriptor(turned(chair, rotations[k]))) for k in chosen]
    between = [metrics.lfd_distance(metrics.lfd_descriptor(a), metrics.lfd_descriptor(b)) for a, b in itertools.combinations(chairs, 2)]
    known = [
        ["IoU of a 32³ voxel grid with itself", "1", f"{metrics.iou(grid, grid):.6f}"],
        [f"Chamfer distance of {args.points:,} surface points to themselves", "0", f"{metrics.chamfer_distance(cloud, cloud):.6f}"],
        [f"F-score (τ={metrics.DEFAULT_TAU}) of those points with themselves", "1", f"{metrics.f_score(cloud, cloud, metrics.DEFAULT_TAU):.6f}"],
        ["LFD distance of a chair to itself", "0", f"{metrics.lfd_distance(descriptor, descriptor):.6f}"],
        ["LFD distance of a chair to itself turned by a dodecahedral rotation (mean)", "small, up to pixelation", f"{statistics.mean(residual):.4f}"],
        [f"LFD distance between two different chairs (mean of {len(between)} pairs)", "larger", f"{statistics.mean(between):.4f}"],
    ]  # fmt: skip
    print("\n## (0) Known answers\n")
    print(table(["measure", "expected", "found"], known))
    record["known"] = {row[0]: float(row[2]) for row in known}

    # (a) Chamfer -----------------------------------------------------------------------------
    rng = np.random.default_rng(0)
    reconstruction = geometry.marching_cubes(grid)  # close to the chair
    other = geometry.normalize_mesh(chairs[1])
    rows, found = [], {}
    for label, mesh in (("a chair vs its 32³ marching-cubes reconstruction", reconstruction), ("two different chairs", other)):
        other_cloud, _ = geometry.sample_surface(mesh, args.points, seed=1)
        seconds = best_of(args.repeats, lambda o=other_cloud: found.update(chamfer=metrics.chamfer_distance(cloud, o)))
        rows.append([f"Chamfer distance, {label}", f"{seconds:.3f}", f"{found['chamfer']:.2e}"])
        seconds = best_of(args.repeats, lambda m=mesh: found.update(scores=metrics.surface_metrics(chair, m, n_points=args.points)))
        rows.append(
            [f"surface_metrics (sampling + all scores), {label}", f"{seconds:.3f}", f"F-score@{found['scores']['tau']}: {found['scores']['f_score']:.3f}"]
        )
    uniform_a, uniform_b = rng.random((args.points, 3)), rng.random((args.points, 3))
    rows.append(
        ["Chamfer distance, two clouds uniform in the unit cube", f"{best_of(args.repeats, lambda: metrics.chamfer_distance(uniform_a, uniform_b)):.3f}", ""]
    )
    print(f"\n## (a) Surface scores, {args.points:,} × {args.points:,} points\n")
    print(table(["measure", "seconds", "value"], rows))
    record["surface"] = rows

    # (b) LFD descriptors ----------------------------------------------------------------------
    directions = metrics.light_field_directions().reshape(-1, 3)
    times = {"silhouettes (scan conversion)": [], "Zernike moments (35 per silhouette)": [], "contour Fourier descriptors (10 per silhouette)": [],
             "**whole descriptor**": [], "for comparison: ray-cast silhouettes (Embree)": []}  # fmt: skip
    columns = list(times.values())
    for mesh in meshes:
        images = metrics.lfd_silhouettes(mesh)
        columns[0].append(best_of(args.repeats, lambda m=mesh: metrics.lfd_silhouettes(m)))
        columns[1].append(best_of(args.repeats, lambda i=images: metrics.zernike_magnitudes(i)))
        columns[2].append(best_of(args.repeats, lambda i=images: metrics.contour_fourier(i)))
        columns[3].append(best_of(args.repeats, lambda m=mesh: metrics.lfd_descriptor(m)))
        normalised = metrics.normalize_for_lfd(mesh)
        columns[4].append(best_of(1, lambda n=normalised: rendering.orthographic_silhouettes(n, directions, size=metrics.LFD_RESOLUTION, radius=1.0)))
    faces = [len(m.faces) for m in meshes]
    print(
        f"\n## (b) Light field descriptor, {len(meshes)} procedural meshes ({min(faces)}–{max(faces)} triangles), 100 silhouettes at {metrics.LFD_RESOLUTION}²\n"
    )
    print(table(["stage", "mean s / mesh", "min", "max"], [[name, *stats(values)] for name, values in times.items()]))
    record["descriptor_seconds"] = {name: statistics.mean(values) for name, values in times.items()}

    # (c) LFD distances ------------------------------------------------------------------------
    pool = [metrics.lfd_descriptor(meshes[i % len(meshes)]) for i in range(min(args.matrix, len(meshes)))]
    descriptors = np.stack([np.asarray(pool[i % len(pool)]) for i in range(args.matrix)])
    others = descriptors + rng.random(descriptors.shape).astype(np.float32) * 1e-3  # a second, distinct set
    matrix_s = best_of(args.repeats, lambda: metrics.lfd_distance_matrix(descriptors, others))
    single_s = best_of(max(args.repeats, 20), lambda: metrics.lfd_distance(pool[0], pool[-1]))
    print("\n## (c) LFD distances (min over 10 × 10 light field pairs × 60 rotations)\n")
    print(table(["measure", "value"], [[f"{args.matrix} × {args.matrix} matrix", f"{matrix_s:.3f} s = **{matrix_s / args.matrix**2 * 1e3:.3f} ms per pair**"],
                                       ["one pair through lfd_distance (call overhead included)", f"{single_s * 1e3:.3f} ms"]]))  # fmt: skip
    record["distance_ms_per_pair"] = matrix_s / args.matrix**2 * 1e3

    # (d) the descriptor's choices -------------------------------------------------------------
    raster_s, raycast_s, disagree, region, contour, residual = [], [], [], [], [], []
    for mesh in meshes:
        raster_s.append(best_of(args.repeats, lambda m=mesh: metrics.lfd_silhouettes(m, renderer="raster")))
        raycast_s.append(best_of(args.repeats, lambda m=mesh: metrics.lfd_silhouettes(m, renderer="raycast")))
        disagree.append(float(np.mean(metrics.lfd_silhouettes(mesh, renderer="raster") != metrics.lfd_silhouettes(mesh, renderer="raycast"))))
        low, high = np.asarray(metrics.lfd_descriptor(mesh, resolution=128)), np.asarray(metrics.lfd_descriptor(mesh, resolution=256))
        region.append(relative_l1(low[..., :35], high[..., :35]))
        contour.append(relative_l1(low[..., 35:], high[..., 35:]))
        reference = metrics.lfd_descriptor(mesh)
        residual += [metrics.lfd_distance(reference, metrics.lfd_descriptor(turned(mesh, rotations[k]))) for k in chosen]
    rows = [
        ["100 silhouettes at 128², scan conversion (the default), s / mesh", *stats(raster_s)],
        ["100 silhouettes at 128², Embree ray casting, s / mesh", *stats(raycast_s)],
        ["ray casting time / scan conversion time", *stats([r / s for r, s in zip(raycast_s, raster_s, strict=True)])],
        ["pixels on which the two differ, %", *stats([100 * d for d in disagree])],
        ["coefficients at 128² against 256², Zernike (region) part, %", *stats([100 * r for r in region])],
        ["the same, contour Fourier part, %", *stats([100 * c for c in contour])],
        [f"LFD distance, a mesh and itself turned by a dodecahedral rotation ({len(residual)} pairs)", *stats(residual)],
        [f"LFD distance, two different chairs ({len(between)} pairs)", *stats(between)],
    ]
    print(f"\n## (d) The descriptor's choices, {len(meshes)} meshes\n")
    print(table(["measure", "mean", "min", "max"], rows))
    record["choices"] = rows
    print(f"\nload average at the end: {load_average()}")
    record["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    write_results(s, "metrics.json", record)


if __name__ == "__main__":
    main()
