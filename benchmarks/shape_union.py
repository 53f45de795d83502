"""Why the shapes package unions its parts in manifold3d directly rather than through trimesh.

    python benchmarks/shape_union.py [--seeds 3] [--repeats 3]

For ``--seeds`` shapes of each of the 13 categories, the parts a generator draws are unioned
two ways, and each is timed (best of ``--repeats``):

(a) as the package does it: one ``manifold3d`` batch union of the ``Manifold`` parts, then one
    conversion of the solid to a ``trimesh.Trimesh`` (``_union``, ``_drop_slivers``,
    ``_to_normalised_trimesh``);
(b) the same parts handed to ``trimesh.boolean.union(meshes, engine="manifold")`` as trimesh
    meshes (the conversion of the parts to trimesh is done beforehand and not timed, so (b)
    is the least it would cost): trimesh checks every part, converts each to manifold3d and
    the result back.

Both results are compared by volume, so that the two ways are seen to make the same solid.
"""

from __future__ import annotations

import argparse
import os
import statistics

import numpy as np
import trimesh
from machine import best_of, machine_lines  # benchmarks/machine.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from tutorial_lib import shapes
    from tutorial_lib.shapes import primitives, registry

    print("## Shapes: union in manifold3d against trimesh.boolean.union\n")
    print("\n".join(machine_lines()))
    print("\n| category | parts (mean) | (a) manifold3d batch, ms | (b) trimesh.boolean.union, ms | (b) / (a) | largest volume difference |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    all_ratios, all_a, all_b = [], [], []
    for category in shapes.CATEGORIES:
        generator, _ = registry._GENERATORS[category]
        counts, times_a, times_b, volume_gap = [], [], [], []
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            choice = registry._draw_structure(category, rng)  # the draws make_shape makes, in its order
            parts = primitives._flatten(generator(choice, registry._Params(rng)))
            meshes = []
            for part in parts:
                raw = part.to_mesh64()
                meshes.append(trimesh.Trimesh(np.asarray(raw.vert_properties[:, :3]), np.asarray(raw.tri_verts), process=False))
            counts.append(len(parts))
            times_a.append(best_of(args.repeats, lambda p=parts: primitives._to_normalised_trimesh(primitives._drop_slivers(primitives._union(p)))))
            times_b.append(best_of(args.repeats, lambda m=meshes: trimesh.boolean.union(m, engine="manifold")))
            via_manifold = primitives._drop_slivers(primitives._union(parts)).volume()
            via_trimesh = trimesh.boolean.union(meshes, engine="manifold").volume
            volume_gap.append(abs(via_trimesh - via_manifold) / via_manifold)
        a, b = statistics.mean(times_a), statistics.mean(times_b)
        all_a += times_a
        all_b += times_b
        all_ratios += [tb / ta for ta, tb in zip(times_a, times_b, strict=True)]
        print(f"| {category} | {statistics.mean(counts):.0f} | {1e3 * a:.1f} | {1e3 * b:.1f} | {b / a:.1f} | {max(volume_gap):.1e} |")
    print(
        f"| **all {len(all_a)} shapes** | | {1e3 * statistics.mean(all_a):.1f} | {1e3 * statistics.mean(all_b):.1f} | "
        f"{statistics.mean(all_b) / statistics.mean(all_a):.1f} (per shape: {min(all_ratios):.1f}–{max(all_ratios):.1f}) | |"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"\nload average at the end: {load}")


if __name__ == "__main__":
    main()
