"""The shipped models on pictures from elsewhere: our renderings against the foreign set, and the fragment cleaner.

    python benchmarks/bench_foreign.py [--profile quick] [--view 0] [--shapes N] [--smoke]

Measures, on the test shapes of the profile's dataset (all of them, or ``--shapes`` spread
evenly over the split; recognition always on all):

(1) the fragment cleaner (:func:`tutorial_lib.geometry.keep_main_parts`) on the TRUE 64³ voxels
    of every train and test shape: how many connected parts the shapes have, the smallest
    real part as a share of its shape's largest, and how many parts the cleaner would drop
    (it must drop none);
(2) picture → z → mesh with the shipped image encoder and autoencoder, on (a) view ``--view`` of
    our renderings (the dataset's ``pixels``, as notebook 05 and ``svr.evaluate`` use them) and
    (b) the foreign picture of the same view number (:mod:`tutorial_lib.foreign_rendering`,
    built with ``python -m tutorial_lib data foreign`` if missing), read and framed by
    :func:`tutorial_lib.images.load_image` at the image encoder's object size. For each: IoU at
    64³, Chamfer distance (the talk's, 10,000 surface points) and F-score at τ = 0.01 of
    - the network, as decoded, and cleaned (fragments dropped),
    - retrieval: the training shape whose view is nearest in the encoder's pooled features,
    - the category mean (given the true category; the same on both sets: no picture involved);
    the number of fragments the cleaner drops; and, on every test shape, the category accuracy
    of the nearest training z (predicted z → nearest ``train_z`` of the shipped autoencoder →
    its category) and of retrieval, also on (a') our renderings framed the way a user's picture
    is (:func:`tutorial_lib.images.frame_like_renderings`: the object scaled to one size), which
    separates what the framing costs from what the foreign look costs.

The methods and measures are those of :func:`tutorial_lib.svr.evaluate` (notebook 05 and the
shipped manifest), extended by the F-score and the cleaner, and fed with any pictures. Writes
every per-shape number to ``foreign_<profile>.json``. The training views' features (retrieval's
candidates) are kept in ``<data root>/cache/`` between runs, keyed by the weights and the dataset.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path

import numpy as np
import torch
from machine import add_options, machine_lines, model_record, setup, spread, table, write_results  # benchmarks/machine.py
from tqdm.auto import tqdm

METHODS = ("network", "network_cleaned", "retrieval", "category_mean")
CHAMFER_POINTS = 10_000


def cleaner_on_true_shapes(folder: Path) -> dict:
    """(1): connected parts of every true shape and what the cleaner would drop from them."""
    from scipy import ndimage

    from tutorial_lib import data, geometry

    report = {}
    for split in data.SPLITS:
        arrays = data.read_split(data.split_path(folder, split), ("voxels",))
        several, smallest, dropped = [], 1.0, 0
        for name, voxels in zip(arrays["names"], arrays["voxels"][..., 0]):
            labels, count = ndimage.label(voxels > 0, structure=np.ones((3, 3, 3), bool))
            if count > 1:
                sizes = np.bincount(labels.ravel())[1:]
                share = float(sizes.min() / sizes.max())
                several.append((name, int(count), round(share, 4)))
                smallest = min(smallest, share)
            dropped += geometry.keep_main_parts(voxels)[1]
        report[split] = {"shapes": len(arrays["names"]), "with_several_parts": several, "smallest_part_share": smallest, "parts_dropped": dropped}
    return report


def training_embedding(image_model, train_file: Path, cache: Path) -> tuple[torch.Tensor, int]:
    """The encoder's pooled features of every training view (retrieval's candidates) and the views per shape.

    Kept in ``cache`` with the fingerprints of the weights and of the dataset, so that a second
    run on a busy machine skips the longest step; any other model or dataset recomputes it.
    """
    from tutorial_lib import data, provenance, svr

    key = provenance.array_fingerprint(np.concatenate([t.detach().float().numpy().ravel() for t in image_model.state_dict().values()]))
    key += "/" + str(data.read_attrs(train_file).get("fingerprint"))
    if cache.is_file():
        with np.load(cache) as stored:
            if str(stored["key"]) == key:
                return torch.from_numpy(stored["embedding"]), int(stored["views"])
    train_pixels = torch.from_numpy(data.read_pixels(train_file)).float() / 255.0
    n_views = train_pixels.shape[1]
    embedding = svr.image_embedding(image_model, train_pixels.reshape(-1, 1, *train_pixels.shape[-2:]))
    with provenance.atomic_path(cache) as tmp:
        np.savez(tmp, embedding=embedding.numpy(), views=n_views, key=key)
    return embedding, n_views


def smaller_part_shares(inside: np.ndarray) -> list[float]:
    """Every connected part but the largest, as a share of the largest (the cleaner's measure)."""
    from scipy import ndimage

    labels, count = ndimage.label(inside, structure=np.ones((3, 3, 3), bool))
    if count <= 1:
        return []
    sizes = np.sort(np.bincount(labels.ravel())[1:])[::-1]
    return [round(float(s / sizes[0]), 5) for s in sizes[1:]]


def foreign_pictures(folder: Path, names: list[str], view: int, object_size: float) -> torch.Tensor:
    """The foreign picture ``view`` of every named test shape, framed like our renderings ``[N, 1, 137, 137]``."""
    from tutorial_lib import foreign_rendering, images

    index = foreign_rendering.read_foreign_index(folder)
    files = {(p["name"], p["view"]): p["file"] for p in index["pictures"]}
    missing = [n for n in names if (n, view) not in files]
    if missing:
        raise ValueError(f"{foreign_rendering.index_path(folder)}: no view {view} of {missing[:3]} (rebuild with more --views)")
    framed = [images.load_image(folder / files[(n, view)], object_size=object_size) for n in names]
    return torch.from_numpy(np.stack(framed))[:, None]


def surface_scores(mesh, true_points, seed: int) -> tuple[float | None, float]:
    """Chamfer distance (None for an empty mesh) and F-score at τ = 0.01 (0 for an empty mesh)."""
    from tutorial_lib import geometry, metrics

    if len(mesh.faces) == 0:
        return None, 0.0
    points, _ = geometry.sample_surface(mesh, CHAMFER_POINTS, seed=seed)
    return metrics.chamfer_distance(points, true_points), metrics.f_score(points, true_points, metrics.DEFAULT_TAU)


def recognition(pictures, models, test, train) -> dict:
    """What needs no mesh, for every picture: z, the retrieved training shape, and the category
    of the nearest training z (of the autoencoder's training set) and of retrieval (the dataset's)."""
    from tutorial_lib import svr

    image_model, _, codes, train_embedding, n_views = models
    z = svr.predict_z(image_model, pictures)
    retrieved = torch.cdist(svr.image_embedding(image_model, pictures), train_embedding).argmin(dim=1).numpy() // n_views
    nearest_z = torch.cdist(z, torch.as_tensor(codes["train_z"], dtype=torch.float32)).argmin(dim=1).numpy()
    z_categories, retrieved_categories = np.array(codes["train_categories"])[nearest_z], np.array(train["categories"])[retrieved]
    truth = np.array(test["categories"])
    return {
        "z": z, "retrieved": retrieved,
        "nearest_z_category": z_categories.tolist(), "retrieved_category": retrieved_categories.tolist(),
        "category_accuracy_nearest_z": float(np.mean(z_categories == truth)),
        "category_accuracy_retrieval": float(np.mean(retrieved_categories == truth)),
    }  # fmt: skip


def score_shape(i: int, seen: dict, models, test, train, train_file: Path, true_points: np.ndarray) -> dict:
    """(2) for test shape ``i`` seen in one picture: every method's scores, and the fragments."""
    from tutorial_lib import autoencoder, data, geometry, metrics

    ae = models[1]
    truth = test["voxels"][i, ..., 0]
    occupancy, _ = autoencoder.reconstruct(ae, seen["z"][i], 64)
    cleaned, dropped = geometry.keep_main_parts(occupancy, 0.5)
    j = int(seen["retrieved"][i])
    candidates = {
        "network": (occupancy, lambda: geometry.marching_cubes(occupancy, 0.5)),
        "network_cleaned": (cleaned, lambda: geometry.marching_cubes(cleaned, 0.5)),
        "retrieval": (train["voxels"][j, ..., 0], lambda: data.read_mesh(train_file, j)),
    }
    out = {"fragments_dropped": dropped, "fragment_voxels": int((occupancy >= 0.5).sum() - (cleaned >= 0.5).sum()),
           "smaller_part_shares": smaller_part_shares(occupancy >= 0.5)}  # fmt: skip
    for method, (grid, mesh_of) in candidates.items():
        chamfer, f = surface_scores(mesh_of(), true_points, seed=i)
        out[method] = {"iou": metrics.iou(grid, truth), "chamfer": chamfer, "f_score": f}
    return out


def means(shapes: list[dict]) -> dict:
    """Mean IoU, Chamfer (over shapes with a surface) and F-score per method, over scored shapes."""
    out = {}
    for method in METHODS:
        chamfer = np.array([s[method]["chamfer"] for s in shapes], dtype=float)  # None → NaN
        out[method] = {"iou": float(np.mean([s[method]["iou"] for s in shapes])),
                       "chamfer": float(np.nanmean(chamfer)) if np.isfinite(chamfer).any() else None,
                       "f_score": float(np.mean([s[method]["f_score"] for s in shapes])), "empty": int((~np.isfinite(chamfer)).sum())}  # fmt: skip
    return out


def _stop(signum, frame):
    raise KeyboardInterrupt  # `kill PID` ends the mesh loop early and still reports what was scored


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser, device=None)
    parser.add_argument("--view", type=int, default=0, help="which view of each test shape (ours and foreign)")
    parser.add_argument("--shapes", type=int, default=None, help="meshes of only this many test shapes, spread evenly (default: all)")
    parser.add_argument("--foreign", default=None, help="the foreign set's folder (default: <data root>/<profile>_foreign, built if missing)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--mesh-sets", default="ours,foreign", help="which pictures to score meshes on (ours, ours_framed, foreign)")
    args = parser.parse_args()
    if args.smoke:
        args.shapes = 1
    torch.set_num_threads(args.threads)

    from tutorial_lib import autoencoder, config, data, foreign_rendering, geometry, images, metrics, provenance, shipping, svr

    s = setup(args)
    print("# Pictures from elsewhere\n")
    print("\n".join(machine_lines()))
    started = time.perf_counter()
    test_file, train_file = s.split("test"), s.split("train")

    print("\n## (1) The fragment cleaner on the true voxels\n")
    cleaner = cleaner_on_true_shapes(s.folder)
    for split, report in cleaner.items():
        print(f"- {split}: {report['shapes']} shapes, {len(report['with_several_parts'])} with more than one part "
              f"{report['with_several_parts']}; smallest part {report['smallest_part_share']:.4f} of its shape's largest; "
              f"parts the cleaner drops (min_fraction {geometry.FRAGMENT_FRACTION}): {report['parts_dropped']}")  # fmt: skip

    foreign_folder = Path(args.foreign) if args.foreign else foreign_rendering.foreign_dir(s.data_profile)
    if not foreign_rendering.index_path(foreign_folder).is_file():
        foreign_rendering.build_foreign_set(s.data_profile, views=args.view + 1 if args.smoke else max(2, args.view + 1), out=foreign_folder,
                                            test_file=test_file, progress=False)  # fmt: skip
    index = foreign_rendering.read_foreign_index(foreign_folder)

    image_model = shipping.load("image_encoder", s.profile)
    ae = shipping.load("autoencoder", s.profile)
    codes = autoencoder.load_shipped_z(s.profile)  # the z the autoencoder was trained on, with their categories
    test = data.read_split(test_file, ("voxels",))
    train = data.read_split(train_file, ("voxels",))
    total = len(test["names"])
    indices = spread(total, args.shapes)
    object_size = image_model.object_size or images.rendering_object_size(train_file)

    t = time.perf_counter()
    cache = config.data_root() / "cache" / f"bench_foreign_{s.data_profile.name}_train_embedding.npz"
    train_embedding, n_views = training_embedding(image_model, train_file, cache)
    print(f"\n{len(train_embedding)} training views embedded for retrieval ({time.perf_counter() - t:.0f} s)")

    # Recognition needs no mesh: every test shape, every set of pictures.
    ours = svr.test_views(test_file, args.view)
    pictures = {
        "ours": ours,
        # our renderings through the same framing as a user's picture: the object scaled to one size
        "ours_framed": torch.from_numpy(np.stack([images.frame_like_renderings(p[0].numpy(), object_size) for p in ours]))[:, None],
        "foreign": foreign_pictures(foreign_folder, test["names"], args.view, object_size),
    }
    models = (image_model, ae, codes, train_embedding, n_views)
    seen = {name: recognition(pictures[name], models, test, train) for name in pictures}
    mesh_sets = args.mesh_sets.split(",")  # meshes cost most: by default only (a) and (b)

    # Meshes: shape by shape, every set in turn, so that a run stopped early (Ctrl-C, or
    # `kill PID`) still reports the same shapes for each; the category mean needs no picture.
    category_means = svr.category_mean_shapes(train_file)
    scored = {name: [] for name in mesh_sets}
    done = []
    try:
        for i in tqdm(indices, desc="shapes (every set)", disable=args.smoke):
            true_points, _ = geometry.sample_surface(data.read_mesh(test_file, i), CHAMFER_POINTS, seed=i)
            grid = category_means[test["categories"][i]]
            chamfer, f = surface_scores(geometry.marching_cubes(grid, 0.5), true_points, seed=i)
            category_mean = {"iou": metrics.iou(grid, test["voxels"][i, ..., 0]), "chamfer": chamfer, "f_score": f}
            for name in mesh_sets:
                scored[name].append(score_shape(i, seen[name], models, test, train, train_file, true_points) | {"category_mean": category_mean})
            done.append(i)
    except KeyboardInterrupt:
        print(f"\nstopped early: {len(done)} of {len(indices)} shapes scored")

    print(f"\n## (2) View {args.view}; foreign set {foreign_folder} (seed {index['seed']})\n")
    print(f"Category of the nearest training z and of retrieval, all {total} test shapes:\n")
    print(table(["pictures", "nearest training z", "retrieval"],
                [[name, f"{r['category_accuracy_nearest_z']:.3f}", f"{r['category_accuracy_retrieval']:.3f}"] for name, r in seen.items()]))  # fmt: skip
    rows = []
    for category in sorted(set(test["categories"])):
        at = [k for k in range(total) if test["categories"][k] == category]
        wrong = [seen["foreign"]["nearest_z_category"][k] for k in at if seen["foreign"]["nearest_z_category"][k] != category]
        rows.append([category, *(f"{sum(r['nearest_z_category'][k] == category for k in at)}/{len(at)}" for r in seen.values()), ", ".join(wrong) or "–"])
    print()
    print(table(["category", *(f"{n}: nearest z right" for n in seen), "foreign: nearest z's categories when wrong"], rows, right=set(range(1, len(seen) + 1))))

    if done:
        print(f"\nMeshes of {len(done)} test shapes ({'all' if len(done) == total else 'spread evenly over the categories'}):\n")
        rows = []
        for name, shapes in scored.items():
            for method, m in means(shapes).items():
                rows.append(
                    [name, method, f"{m['iou']:.3f}", f"{1e3 * m['chamfer']:.2f}" if m["chamfer"] is not None else "–", f"{m['f_score']:.3f}", m["empty"]]
                )
        print(table(["pictures", "method", "IoU", "Chamfer ×10³", f"F-score (τ={metrics.DEFAULT_TAU})", "empty"], rows, right={2, 3, 4, 5}))
        print()
        bins = [0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 1.0]
        for name, shapes in scored.items():
            dropped = np.array([s["fragments_dropped"] for s in shapes])
            shares = np.concatenate([np.asarray(s["smaller_part_shares"], float) for s in shapes])
            counts = np.histogram(shares, bins=bins)[0]
            print(f"- {name}: the cleaner dropped {dropped.sum()} fragments from {(dropped > 0).sum()} of {len(dropped)} shapes "
                  f"({sum(s['fragment_voxels'] for s in shapes)} voxels at 64³); parts other than the largest, by share of the "
                  "largest: " + ", ".join(f"[{lo:g}, {hi:g}): {c}" for lo, hi, c in zip(bins[:-1], bins[1:], counts)))  # fmt: skip
    print(f"\ntotal {time.perf_counter() - started:.0f} s; load average now {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    write_results(s, f"foreign_{s.profile.name}.json", {
        "machine": machine_lines(), "commit": provenance.git_commit(), "model": model_record("image_encoder", s.profile),
        "autoencoder": model_record("autoencoder", s.profile), "view": args.view, "scored_shapes": [test["names"][i] for i in done],
        "cleaner_on_true_shapes": cleaner, "fragment_fraction": geometry.FRAGMENT_FRACTION, "foreign_index_seed": index["seed"],
        "recognition": {n: {k: v for k, v in r.items() if k not in ("z", "retrieved")} for n, r in seen.items()},
        "mean_scores": {name: means(shapes) for name, shapes in scored.items()} if done else {}, "meshes": scored,
    })  # fmt: skip


if __name__ == "__main__":
    main()
