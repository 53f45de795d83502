"""The numbers behind the light field descriptor's design choices (tutorial_lib/metrics/lfd.py).

    python benchmarks/lfd_choices.py [--meshes 13] [--rotations 5] [--repeats 3]

Measures, on ``--meshes`` procedural meshes (one per category, round-robin, seeds 100, 101, ...):

(a) silhouettes by scan conversion (``renderer="raster"``, the default) against Embree ray
    casting (``"raycast"``): seconds per mesh for the 100 silhouettes at 128², and the share of
    pixels on which the two disagree;
(b) the default 128² silhouettes against the original's 256²: how much the coefficients move,
    as ``|c128 - c256|₁ / |c256|₁`` per silhouette, for the Zernike (region) and the contour
    Fourier parts, averaged over the 100 silhouettes of a mesh;
(c) what rotation invariance is worth: the LFD distance between a mesh and the same mesh turned
    by ``--rotations`` of the 60 rotations of the dodecahedron (exact up to pixelation), next
    to the distance between different shapes of one category (5 chairs, all pairs).

Timings are the best of ``--repeats`` runs; the load average is printed so a busy machine shows.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics

import numpy as np
from machine import best_of, machine_lines  # benchmarks/machine.py


def relative_l1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over silhouettes of |a - b|₁ / |b|₁ (coefficients on the last axis)."""
    return float(np.mean(np.abs(a - b).sum(-1) / np.maximum(np.abs(b).sum(-1), 1e-12)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meshes", type=int, default=13)
    parser.add_argument("--rotations", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from tutorial_lib import metrics, shapes

    print("## Light field descriptor: the design choices\n")
    print("\n".join(machine_lines()))
    categories = shapes.CATEGORIES
    meshes = [shapes.make_shape_from_seed(categories[i % len(categories)], 100 + i // len(categories)).mesh for i in range(args.meshes)]
    metrics.lfd_descriptor(meshes[0])  # warm-up: caches the dodecahedra and the Zernike basis

    # (a) raster against ray casting -----------------------------------------------------------
    raster_s, raycast_s, disagree = [], [], []
    for mesh in meshes:
        raster_s.append(best_of(args.repeats, lambda m=mesh: metrics.lfd_silhouettes(m, renderer="raster")))
        raycast_s.append(best_of(args.repeats, lambda m=mesh: metrics.lfd_silhouettes(m, renderer="raycast")))
        a, b = metrics.lfd_silhouettes(mesh, renderer="raster"), metrics.lfd_silhouettes(mesh, renderer="raycast")
        disagree.append(float(np.mean(a != b)))
    ratios = [r / s for r, s in zip(raycast_s, raster_s, strict=True)]
    print(f"\n### (a) 100 silhouettes at {metrics.LFD_RESOLUTION}², {len(meshes)} meshes\n")
    print("| measure | mean | min | max |\n| --- | ---: | ---: | ---: |")
    print(f"| scan conversion (raster), s / mesh | {statistics.mean(raster_s):.4f} | {min(raster_s):.4f} | {max(raster_s):.4f} |")
    print(f"| ray casting (Embree), s / mesh | {statistics.mean(raycast_s):.4f} | {min(raycast_s):.4f} | {max(raycast_s):.4f} |")
    print(f"| ray casting time / raster time | {statistics.mean(ratios):.1f} | {min(ratios):.1f} | {max(ratios):.1f} |")
    print(f"| pixels that differ, % | {100 * statistics.mean(disagree):.4f} | {100 * min(disagree):.4f} | {100 * max(disagree):.4f} |")

    # (b) 128² against 256² --------------------------------------------------------------------
    region, contour = [], []
    for mesh in meshes:
        low = np.asarray(metrics.lfd_descriptor(mesh, resolution=128))
        high = np.asarray(metrics.lfd_descriptor(mesh, resolution=256))
        region.append(relative_l1(low[..., :35], high[..., :35]))
        contour.append(relative_l1(low[..., 35:], high[..., 35:]))
    print("\n### (b) Coefficients at 128² against 256², |c128 - c256|₁ / |c256|₁ per silhouette, % (mean over a mesh's 100)\n")
    print("| part | mean over meshes | min | max |\n| --- | ---: | ---: | ---: |")
    for name, values in (("region (35 Zernike magnitudes)", region), ("contour (10 Fourier magnitudes)", contour)):
        print(f"| {name} | {100 * statistics.mean(values):.1f} | {100 * min(values):.1f} | {100 * max(values):.1f} |")

    # (c) rotation residual against distances between shapes ------------------------------------
    rotations = metrics.dodecahedron_rotations()
    chosen = np.random.default_rng(0).choice(np.arange(1, len(rotations)), size=args.rotations, replace=False)
    residual = []
    for mesh in meshes:
        reference = metrics.lfd_descriptor(mesh)
        for k in chosen:
            turned = mesh.copy()
            transform = np.eye(4)
            transform[:3, :3] = rotations[k]
            turned.apply_transform(transform)
            residual.append(metrics.lfd_distance(reference, metrics.lfd_descriptor(turned)))
    chairs = [metrics.lfd_descriptor(shapes.make_shape_from_seed("chair", 100 + i).mesh) for i in range(5)]
    between = [metrics.lfd_distance(a, b) for a, b in itertools.combinations(chairs, 2)]
    print(f"\n### (c) LFD distance at {metrics.LFD_RESOLUTION}²\n")
    print("| pair | mean | min | max |\n| --- | ---: | ---: | ---: |")
    print(
        f"| a mesh and itself turned by a dodecahedral rotation ({len(residual)} pairs) | {statistics.mean(residual):.2f} | {min(residual):.2f} | {max(residual):.2f} |"
    )
    print(f"| two different chairs ({len(between)} pairs) | {statistics.mean(between):.2f} | {min(between):.2f} | {max(between):.2f} |")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"\nload average at the end: {load}")


if __name__ == "__main__":
    main()
