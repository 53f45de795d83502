"""3D search measured as a retrieval system, and how long a query takes.

    python benchmarks/bench_search.py [--profile quick] [--views 20] [--repeats 5] [--rows 6006] [--json FILE]
                                      [--smoke] [--results DIR]

Queries come from the test split, the shapes searched are the training split's, and a result
is relevant when it is of the query's category (the 13 categories, the same number of training shapes
each). Per method: precision@1, precision@5, mean average precision and nDCG over the
whole ranking (:func:`tutorial_lib.search.retrieval_scores`):

* ``z by picture`` – each of the ``--views`` renderings of every test shape → the shipped
  image encoder → z → nearest training z;
* ``embedding by picture`` – the same renderings → the image encoder's pooled features
  (``svr.image_embedding``) → nearest of the 20 renderings of each training shape (the
  retrieval baseline of notebook 05), side by side with z;
* ``z by shape`` – each test shape's z (the shipped voxel encoder's) → nearest training z;
* ``LFD by shape`` – each test mesh's light field descriptor → smallest LFD distance;
* ``LFD by sketch`` – the silhouette of each rendering (``search.sketch_mask``) → nearest
  of the 100 framed silhouettes of each training shape.

Latency, in this process: the first query (index read from disk and models loaded, imports
excluded), then warm (best of ``--repeats``) for a picture file, a mesh file (by z and by
LFD) and a sketch file, against the quick index; and warm against an index of ``--rows``
rows made by repeating the quick index's rows with small noise. That larger index measures
the cost of exact nearest neighbours at that size, not retrieval quality.

Query meshes with millions of faces (``--query-meshes``, instead of the above): ``--meshes``
procedural meshes (one per category, round-robin, seeds 100, 101, ...), each subdivided until it
has at least ``--faces`` faces, simplified to each of ``--budgets`` faces by
:func:`tutorial_lib.geometry.simplify_mesh` (what ``search`` does above
``geometry.QUERY_FACE_BUDGET``). Two kinds of dense mesh: midpoint subdivision (the same surface
in many more faces, as a CAD export gives) and Loop subdivision (a smooth surface, rounder than
the original, as a scan gives). The tables give the faces reached and the LFD distance between
the dense mesh and its simplified copy, next to the distances between different shapes.
``--orientations`` (instead of the above): every test mesh turned by a random quarter turn (one
of the 24, seeded) and saved as an ``.obj`` file, as a mesh in its own axes reaches ``search``;
then searched against the training shapes by z with the automatic orientation (the default),
by z told its axes (``--up/--front``, the upright result), by z as the file is, and by LFD as the
file is; the same for the upright files (where the automatic choice must not lose anything).
Reports rank-1 precision, how often the automatic choice was the true turn, and the query times.
``--drawings`` (instead of the above): line drawings of every test shape made as the sketch
encoder's training drawings are made (``sketches.hand_drawn_pictures``), from the test split's
own stream of seeds, which no training drawing uses, ``--per-shape`` of each (the shipped
model's evaluation uses the same ones); each saved as a PNG and searched against the training
shapes by the sketch encoder (``search DRAWING --as sketch``), by the image encoder reading it
as a picture (``--as picture``, what ``search`` did with every picture before), by its LFD
silhouette (``--by lfd``, the 2003 paper's sketch search) and by the default (the automatic
guess between the first two); then how often the guess calls those drawings drawings and the
test shapes' renderings (``--renderings`` each) pictures.
``--holdout DIR`` scores the inputs nobody on the project made (``../shared/holdout``) as their
files are, against the quick index, and nothing else. ``--search-mesh FILE`` runs
``python -m tutorial_lib search FILE --by …`` in a subprocess for each
``--by`` and reports its exit status, wall time and peak memory (needs the quick index).

``--build-index`` first times building the index of the profile's dataset, as
``python -m tutorial_lib search --build-index`` does (``search.build_index`` with the shipped
autoencoder's z, ``--workers`` processes), without saving it. With ``--compare-index FILE`` (an
index file written before, e.g. by an older version of the library, over the same dataset) it
then says how close the new light field descriptors are to that file's: the largest
difference, and the Spearman rank correlation of the LFD distances of ``--pairs`` random
pairs of shapes; and it checks the known answer LFD(A, A) = 0 on every shape.

``--json FILE`` writes the retrieval and latency numbers to a file, and so does ``--results DIR``
(to ``DIR/search_<profile>.json``).

``--smoke`` checks that the script runs, at toy size: the smoke profile's dataset (65 shapes,
built under $TUTORIAL_DATA if missing) has no shipped z and no index file, so its index is built
in memory (timed, as ``--build-index``) with z from the committed quick autoencoder's encoder,
and the quick models answer the queries; 2 renderings of each test shape as picture and sketch
queries, one repeat, a replicated index of 130 rows; then the query meshes' table for 2 meshes
of 4,000 faces and one budget. Its numbers go to ``search_quick.json`` in a temporary folder
(or ``--results``, outside the repository), never to ``--json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from machine import add_options, best_of, machine_lines, setup, write_results  # benchmarks/machine.py
from PIL import Image
from tqdm.auto import tqdm

from tutorial_lib import config, data, geometry, search, sketches, svr


def picture_queries(test_file: Path, views: int) -> tuple[torch.Tensor, np.ndarray]:
    """The first ``views`` renderings of every test shape ``[Q, 1, 137, 137]`` in [0, 1], and the shape of each."""
    pixels = data.read_pixels(test_file)[:, :views]
    shapes = np.repeat(np.arange(len(pixels)), pixels.shape[1])
    return torch.from_numpy(pixels.reshape(-1, 1, *pixels.shape[-2:])).float() / 255.0, shapes


def retrieval_table(index: search.ShapeIndex, folder: Path, views: int, embedding: bool) -> dict:
    test, train = index.split("test"), index.split("train")
    test_file = data.split_path(folder, "test")
    images, shapes = picture_queries(test_file, views)
    categories = test.categories[shapes]
    model = index.load_image_encoder()
    table, seconds = {}, {}

    start = time.perf_counter()
    z = svr.predict_z(model, images).numpy()
    table["z by picture"] = search.evaluate_rankings(index, index.z_distances(z), categories)
    seconds["z by picture"] = time.perf_counter() - start

    if embedding:
        start = time.perf_counter()
        train_pixels = torch.from_numpy(data.read_pixels(data.split_path(folder, "train"))).float() / 255.0
        per_shape = train_pixels.shape[1]
        train_features = svr.image_embedding(model, train_pixels.reshape(-1, 1, *train_pixels.shape[-2:]))
        query_features = svr.image_embedding(model, images)
        # Distance to a training shape: to the nearest of its renderings.
        view_distances = torch.cdist(query_features, train_features).numpy().reshape(len(images), len(train), per_shape).min(axis=2)
        distances = np.full((len(images), len(index)), np.inf)
        distances[:, np.flatnonzero(index.splits == "train")] = view_distances
        table["embedding by picture"] = search.evaluate_rankings(index, distances, categories)
        seconds["embedding by picture"] = time.perf_counter() - start

    start = time.perf_counter()
    table["z by shape"] = search.evaluate_rankings(index, index.z_distances(test.z), test.categories)
    seconds["z by shape"] = time.perf_counter() - start

    start = time.perf_counter()
    table["LFD by shape"] = search.evaluate_rankings(index, index.lfd_distances(test.lfd), test.categories)
    seconds["LFD by shape"] = time.perf_counter() - start

    start = time.perf_counter()
    masks = np.stack([search.sketch_mask(image[0].numpy()) for image in tqdm(images, desc="sketches")])
    descriptors = search.silhouette_descriptors(masks)
    table["LFD by sketch"] = search.evaluate_rankings(index, index.view_distances(descriptors), categories)
    seconds["LFD by sketch"] = time.perf_counter() - start
    chance = float(np.mean([np.mean(train.categories == c) for c in test.categories]))
    return {"methods": table, "seconds": seconds, "chance_precision": chance, "picture_queries": len(images)}


def query_files(folder: Path, tmp: Path) -> dict[str, Path]:
    """A test shape's rendering (PNG), its mesh (OBJ) and its silhouette (PNG) as a user would give them."""
    test_file = data.split_path(folder, "test")
    picture = data.read_pixels(test_file, [7])[0, 3]
    files = {"picture": tmp / "query.png", "mesh": tmp / "query.obj", "sketch": tmp / "sketch.png"}
    Image.fromarray(picture).save(files["picture"])
    geometry.save_mesh(data.read_mesh(test_file, 7), files["mesh"])
    Image.fromarray(np.where(search.sketch_mask(picture), 0, 255).astype(np.uint8)).save(files["sketch"])
    return files


def latencies(index: search.ShapeIndex, files: dict[str, Path], repeats: int) -> dict:
    queries = {
        "picture (z)": lambda: index.by_picture(files["picture"], split="train"),
        "mesh (z)": lambda: index.by_mesh(files["mesh"], by="z", split="train"),
        "mesh (LFD)": lambda: index.by_mesh(files["mesh"], by="lfd", split="train"),
        "sketch (LFD silhouettes)": lambda: index.by_sketch(files["sketch"], split="train"),
    }
    return {name: best_of(repeats, fn) for name, fn in queries.items()}


def nearest_only(index: search.ShapeIndex, repeats: int) -> dict:
    """The nearest-neighbour step alone: one query's distances to every row, then the top 5."""
    z, lfd, view = index.z[0] + 0.01, index.lfd[0] * 1.01, index.views[0, 0] * 1.01
    return {
        "z": best_of(repeats, lambda: index.matches(index.z_distances(z)[0], 5)),
        "LFD": best_of(max(1, repeats // 5), lambda: index.matches(index.lfd_distances(lfd)[0], 5)),
        "sketch": best_of(repeats, lambda: index.matches(index.view_distances(view)[0], 5)),
    }


def replicated(index: search.ShapeIndex, rows: int, seed: int = 0) -> search.ShapeIndex:
    """``rows`` rows: the index's rows repeated, each copy's numbers multiplied by (1 + 1% noise)."""
    rng = np.random.default_rng(seed)
    take = np.arange(rows) % len(index)
    big = index.take(take)
    copy = np.arange(rows) // len(index)
    big.names = np.array([f"{n}~{c}" if c else n for n, c in zip(big.names, copy)])
    for key in ("z", "lfd", "views"):
        values = getattr(big, key)
        noise = 1 + 0.01 * rng.standard_normal(values.shape).astype(np.float32) * (copy > 0).reshape((-1,) + (1,) * (values.ndim - 1))
        setattr(big, key, (values * noise).astype(np.float32))
    return big


def index_build(s, workers: int | None) -> tuple[search.ShapeIndex, dict]:
    """Build the dataset's index in memory (as ``search --build-index`` does, without saving it): the index and its timing.

    With ``--smoke`` the smoke dataset has no shipped z: the quick autoencoder encodes its voxels (within the timing).
    """
    from tutorial_lib import autoencoder, shipping

    if s.smoke:
        z_from = {"autoencoder_model": shipping.load("autoencoder", s.profile)}
    else:
        codes = autoencoder.load_shipped_z(s.profile)
        z_from = {"codes": {split: codes[f"{split}_z"] for split in data.SPLITS}}
    start = time.perf_counter()
    index = search.build_index(s.folder, **z_from, progress=False, workers=workers)
    seconds = time.perf_counter() - start
    return index, {"shapes": len(index), "seconds": seconds, "shapes_per_second": len(index) / seconds, "workers": workers or config.default_workers()}


def compare_descriptors(index: search.ShapeIndex, other_path: Path, pairs: int, seed: int = 0) -> dict:
    """How close ``index``'s light field descriptors are to those of the index file ``other_path`` (same shapes)."""
    from scipy.stats import spearmanr

    from tutorial_lib import metrics

    with np.load(other_path, allow_pickle=False) as f:
        names, lfd, views = f["names"], f["lfd"], f["views"]
    row = {name: i for i, name in enumerate(names.tolist())}
    order = np.array([row[name] for name in index.names.tolist()])
    lfd, views = lfd[order], views[order]
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, len(index), pairs), rng.integers(0, len(index), pairs)
    a, b = a[a != b], b[a != b]
    new = np.array([metrics.lfd_distance_matrix(index.lfd[i], index.lfd[j])[0, 0] for i, j in zip(a, b)])
    old = np.array([metrics.lfd_distance_matrix(lfd[i], lfd[j])[0, 0] for i, j in zip(a, b)])
    self_distance = max(float(metrics.lfd_distance_matrix(index.lfd[i], index.lfd[i])[0, 0]) for i in range(len(index)))
    return {"file": str(other_path), "pairs": int(len(a)), "spearman": float(spearmanr(new, old).statistic),
            "largest_relative_distance_change": float(np.max(np.abs(new - old) / old)),
            "largest_lfd_difference": float(np.abs(index.lfd - lfd).max()), "largest_view_difference": float(np.abs(index.views - views).max()),
            "shapes_whose_lfd_differs": int((np.abs(index.lfd - lfd).reshape(len(index), -1).max(1) > 0).sum()),
            "largest_self_distance": self_distance}  # fmt: skip


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
        print(f"\n### Query meshes, {kind} subdivision: LFD distance between the dense mesh ({min(sizes):,} to {max(sizes):,} faces, {len(dense)} meshes) "
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


def orientation_table(index: search.ShapeIndex, folder: Path, tmp: Path, seed: int = 0, limit: int | None = None) -> dict:
    """Test meshes (the first ``limit``, or all) turned at random by quarter turns, searched by the default method and the others (see the docstring)."""
    test_file = data.split_path(folder, "test")
    categories = data.read_split(test_file, ("categories",))["categories"][:limit]
    turns = geometry.axis_aligned_orientations()
    rng = np.random.default_rng(seed)
    right: dict[str, int] = {}
    seconds: dict[str, list] = {}
    true_turn = 0
    for i in tqdm(range(len(categories)), desc="orientations"):
        upright = data.read_mesh(test_file, i)
        up, front = turns[int(rng.integers(1, len(turns)))]  # never the upright one: that is the "upright files" rows
        turned = upright.copy()
        back = np.eye(4)
        back[:3, :3] = geometry.orientation_matrix(up, front).T  # the file whose up is `up` and front `front`
        turned.apply_transform(back)
        for kind, mesh, axes in (("upright", upright, ("+y", "-z")), ("turned", turned, (up, front))):
            path = tmp / f"{kind}_{i}.obj"
            geometry.save_mesh(mesh, path)
            for method, by, given in (("z, automatic (default)", "z", (None, None)), ("z, told its axes", "z", axes),
                                      ("z, as the file is", "z", ("+y", "-z")), ("LFD, as the file is", "lfd", (None, None))):  # fmt: skip
                if kind == "upright" and method in ("z, told its axes",):
                    continue  # the same as "as the file is" for an upright file
                started = time.perf_counter()
                found = search.search_file(index, path, by=by, k=1, split="train", up=given[0], front=given[1])
                key = f"{kind} files: {method}"
                seconds.setdefault(key, []).append(time.perf_counter() - started)
                right[key] = right.get(key, 0) + (found[0].category == categories[i])
                if kind == "turned" and method.startswith("z, automatic"):
                    chosen = found.orientation
                    true_turn += (chosen.up, chosen.front) == (up, front)
    n = len(categories)
    table = {key: {"precision@1": right[key] / n, "right": right[key], "queries": n, "median_seconds": statistics.median(seconds[key]),
                   "max_seconds": max(seconds[key])} for key in right}  # fmt: skip
    return {"methods": table, "automatic_chose_the_true_turn": true_turn, "turned_queries": n, "seed": seed}


def print_orientation_table(index: search.ShapeIndex, folder: Path, limit: int | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        table = orientation_table(index, folder, Path(tmp), limit=limit)
    print(f"\n### Test meshes in their own axes: each of the {table['turned_queries']} test meshes turned by a random quarter turn "
          f"(seed {table['seed']}), searched against the training shapes\n")  # fmt: skip
    print("| files, method | precision@1 | right | median s a query | max s |\n| --- | ---: | ---: | ---: | ---: |")
    for key, score in table["methods"].items():
        print(f"| {key} | {score['precision@1']:.3f} | {score['right']}/{score['queries']} | {score['median_seconds']:.2f} | {score['max_seconds']:.2f} |")
    print(f"\nthe automatic orientation was the true turn for {table['automatic_chose_the_true_turn']} of {table['turned_queries']} turned files")
    return table


def drawing_table(index: search.ShapeIndex, folder: Path, per_shape: int, renderings: int, limit: int | None = None) -> dict:
    """Drawings of the test shapes (the first ``limit``, or all) searched four ways, and the automatic guess (see the docstring)."""
    test_file = data.split_path(folder, "test")
    categories = data.read_split(test_file, ("categories",))["categories"][:limit]
    right: dict[str, int] = {}
    seconds: dict[str, list] = {}
    guessed_drawings = queries = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "drawing.png"
        for row in tqdm(range(len(categories)), desc="test drawings"):
            pictures, _ = sketches.hand_drawn_pictures(data.read_mesh(test_file, row), per_shape, sketches.drawing_seed(0, 1, row))
            for picture in pictures:
                Image.fromarray(picture).save(path)  # read back as a user's file is read
                queries += 1
                answers = {}
                for method, run in (("sketch encoder (z)", lambda: index.by_drawing(path, k=1, split="train")),
                                    ("image encoder (z)", lambda: index.by_picture(path, k=1, split="train")),
                                    ("LFD sketch (2003)", lambda: index.by_sketch(path, k=1, split="train"))):  # fmt: skip
                    started = time.perf_counter()
                    answers[method] = run()[0].category
                    seconds.setdefault(method, []).append(time.perf_counter() - started)
                is_drawing = sketches.looks_like_drawing(path)
                guessed_drawings += is_drawing
                answers["default (automatic guess)"] = answers["sketch encoder (z)" if is_drawing else "image encoder (z)"]
                for method, answer in answers.items():
                    right[method] = right.get(method, 0) + (answer == categories[row])
    pixels = data.read_pixels(test_file)[: len(categories), :renderings]
    guessed_pictures = int(sum(not sketches.looks_like_drawing(p) for p in pixels.reshape(-1, *pixels.shape[-2:])))
    table = {m: {"precision@1": n / queries, "right": n, "queries": queries,
                 "median_ms": 1000 * statistics.median(seconds[m]) if m in seconds else None} for m, n in right.items()}  # fmt: skip
    return {"methods": table, "per_shape": per_shape, "drawings_read_as_drawings": guessed_drawings, "drawings": queries,
            "renderings_read_as_pictures": guessed_pictures, "renderings": int(pixels.shape[0] * pixels.shape[1])}  # fmt: skip


def print_drawing_table(index: search.ShapeIndex, folder: Path, per_shape: int, renderings: int, limit: int | None = None) -> dict:
    table = drawing_table(index, folder, per_shape, renderings, limit)
    print(f"\n### Search by a line drawing: {table['drawings']} drawings of the test shapes ({per_shape} each, seeds no training "
          "drawing uses), against the training shapes\n")  # fmt: skip
    print("| method | precision@1 | right | median ms a query |\n| --- | ---: | ---: | ---: |")
    for method, score in table["methods"].items():
        ms = "" if score["median_ms"] is None else f"{score['median_ms']:.0f}"
        print(f"| {method} | {score['precision@1']:.3f} | {score['right']}/{score['queries']} | {ms} |")
    print(f"\nthe automatic guess: {table['drawings_read_as_drawings']}/{table['drawings']} drawings read as drawings; "
          f"{table['renderings_read_as_pictures']}/{table['renderings']} renderings read as pictures")  # fmt: skip
    return table


def holdout_scores(index: search.ShapeIndex, root: Path) -> dict:
    """The held-out inputs (``root``/pictures, meshes, sketches, each with ``truth.txt``: ``STEM
    CATEGORY``), searched as their files are against the training shapes: how many of N have the
    right category at rank 1 and by a vote of the top 5, per kind of input and method."""
    from collections import Counter

    plans = {"pictures": ["z"], "meshes": ["z", "lfd"], "sketches": ["z", "lfd"]}
    scores = {}
    for folder, methods in plans.items():
        truth_file = root / folder / "truth.txt"
        if not truth_file.is_file():
            continue
        truth = dict(line.split()[:2] for line in truth_file.read_text().splitlines() if line.strip())
        files = sorted(p for p in (root / folder).iterdir() if p.stem in truth and p.suffix.lower() in search.IMAGE_SUFFIXES + geometry.MESH_SUFFIXES)
        for by in methods:
            top1 = top5 = 0
            started = time.perf_counter()
            for path in tqdm(files, desc=f"holdout {folder} by {by}", leave=False):
                matches = search.search_file(index, path, by=by, k=5, split="train")
                top1 += matches[0].category == truth[path.stem]
                top5 += Counter(m.category for m in matches).most_common(1)[0][0] == truth[path.stem]
            scores[f"{folder} by {by}"] = {"top1": top1, "top5_vote": top5, "n": len(files), "seconds": time.perf_counter() - started}
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser, device=None)  # --profile, --smoke, --results
    parser.add_argument("--views", type=int, default=20, help="renderings of each test shape used as picture and sketch queries")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=6006, help="rows of the replicated index for the latency at scale")
    parser.add_argument("--no-embedding", action="store_true", help="skip the pooled-feature picture baseline (slow: all training renderings)")
    parser.add_argument("--latency-only", action="store_true", help="measure the query times only, not the retrieval table")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--build-index", action="store_true", help="first time building the index (in memory, not saved)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes of the index build (default: every core, at most 8)")
    parser.add_argument("--compare-index", default=None, metavar="FILE", help="with --build-index: compare the new descriptors with this index file's")
    parser.add_argument("--pairs", type=int, default=2000, help="random pairs of shapes for --compare-index's rank correlation")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--query-meshes", action="store_true", help="only the query meshes' simplification table (see above)")
    parser.add_argument("--meshes", type=int, default=8, help="with --query-meshes: dense meshes")
    parser.add_argument("--faces", type=int, default=300_000, help="with --query-meshes: faces of each dense mesh, at least")
    parser.add_argument("--budgets", type=int, nargs="+", default=[20_000, 50_000, 100_000], help="with --query-meshes: face budgets")
    parser.add_argument("--search-mesh", default=None, metavar="FILE", help="only: search by this mesh file in a subprocess, its time and memory")
    parser.add_argument("--orientations", action="store_true", help="only: test meshes turned at random by quarter turns (see above)")
    parser.add_argument("--drawings", action="store_true", help="only: line drawings of the test shapes searched four ways (see above)")
    parser.add_argument("--per-shape", type=int, default=4, help="with --drawings: drawings of each test shape")
    parser.add_argument("--renderings", type=int, default=4, help="with --drawings: renderings of each test shape for the guess")
    parser.add_argument("--holdout", default=None, metavar="DIR", help="only: score the held-out inputs of DIR (see holdout_scores) on the index")
    parser.add_argument("--by", nargs="+", default=["lfd", "z"], help="with --search-mesh: the search methods")
    args = parser.parse_args()
    if args.smoke:
        if args.json or args.search_mesh:
            parser.error("--smoke writes toy numbers to --results (a temporary folder by default), not --json, and runs no --search-mesh "
                         "(its subprocess searches the quick profile's own index)")  # fmt: skip
        args.views, args.repeats, args.rows, args.pairs, args.threads = 2, 1, 130, 20, 1
        args.build_index, args.workers = True, args.workers or 2  # the only index of the smoke dataset is the one built here
        args.meshes, args.faces, args.budgets = 2, 4000, [2000]
    torch.set_num_threads(args.threads)
    print("\n".join(machine_lines()))
    if args.query_meshes or args.search_mesh:
        if args.search_mesh:
            print(f"\n### Search by the mesh {args.search_mesh}\n")
            print("| command | exit status | wall, s | peak memory, MB |\n| --- | ---: | ---: | ---: |")
            for by in args.by:
                search_run(args.search_mesh, by)
        else:
            loss_table(args.meshes, args.faces, args.budgets)
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"\nload average at the end: {load}; this process's peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        return
    results: dict = {
        "machine": machine_lines(),
        "command": "python benchmarks/bench_search.py "
        + " ".join(f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in vars(args).items() if v not in (None, False)),
    }

    s = setup(args, dataset=args.smoke)  # a real run reads the profile's dataset as it is; --smoke builds the smoke one if missing
    profile, folder = s.profile, s.folder
    built = None
    if args.build_index:
        built, results["index_build"] = index_build(s, args.workers)
        build = results["index_build"]
        print(f"\nindex build ({build['workers']} workers): {build['shapes']} shapes in {build['seconds']:.1f} s ({build['shapes_per_second']:.1f} shapes/s)")
        if args.compare_index:
            results["descriptors_against"] = compare_descriptors(built, Path(args.compare_index), args.pairs)
            c = results["descriptors_against"]
            print(f"descriptors against {c['file']}: Spearman {c['spearman']:.6f} over {c['pairs']} random pairs' LFD distances, "
                  f"largest relative change of a distance {c['largest_relative_distance_change']:.2e}, largest coefficient difference "
                  f"{c['largest_lfd_difference']:.2e} (LFD, {c['shapes_whose_lfd_differs']} shapes) and {c['largest_view_difference']:.2e} "
                  f"(framed silhouettes); largest LFD(A, A) {c['largest_self_distance']}")  # fmt: skip
    if args.smoke:
        index, read_seconds = built, 0.0  # no index file of the smoke dataset: the one just built, nothing read
    else:
        del built
        start = time.perf_counter()
        index = search.ShapeIndex.load(search.index_path(profile), expected=search.profile_fingerprints(profile))
        read_seconds = time.perf_counter() - start
    index.profile = profile  # whose shipped image encoder and autoencoder the picture and mesh queries load
    if args.drawings:
        results["drawings"] = print_drawing_table(index, folder, args.per_shape, args.renderings)
        print(f"- load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        save(results, args, s)
        return
    if args.orientations:
        results["orientations"] = print_orientation_table(index, folder)
        print(f"- load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        save(results, args, s)
        return
    if args.holdout:
        results["holdout"] = holdout_scores(index, Path(args.holdout))
        print("\n| inputs, method | right at rank 1 | right by a top-5 vote | s |\n| --- | ---: | ---: | ---: |")
        for key, score in results["holdout"].items():
            print(f"| {key} | {score['top1']}/{score['n']} | {score['top5_vote']}/{score['n']} | {score['seconds']:.0f} |")
        save(results, args, s)
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = query_files(folder, Path(tmp))
        start = time.perf_counter()
        index.by_picture(files["picture"], split="train")  # loads the image encoder
        first_picture = time.perf_counter() - start
        start = time.perf_counter()
        index.by_mesh(files["mesh"], split="train")  # loads the autoencoder
        first_mesh = time.perf_counter() - start
        results["first_query_seconds"] = {
            "index read": read_seconds,
            "picture (z), image encoder loaded": first_picture,
            "mesh (z), autoencoder loaded": first_mesh,
        }
        results["warm_seconds"] = {len(index): latencies(index, files, args.repeats)}
        results["nearest_only_seconds"] = {len(index): nearest_only(index, args.repeats)}
        big = replicated(index, args.rows)
        results["warm_seconds"][len(big)] = latencies(big, files, max(1, args.repeats // 2))
        results["nearest_only_seconds"][len(big)] = nearest_only(big, args.repeats)
    for key in ("first_query_seconds",):
        print(f"\n{key}: " + ", ".join(f"{k} {v:.2f} s" for k, v in results[key].items()))
    for key in ("warm_seconds", "nearest_only_seconds"):
        for rows, times in results[key].items():
            print(f"{key} at {rows} rows: " + ", ".join(f"{k} {1000 * v:.1f} ms" for k, v in times.items()))

    if args.latency_only:
        save(results, args, s)
        return
    results["retrieval"] = retrieval_table(index, folder, args.views, embedding=not args.no_embedding)
    retrieval = results["retrieval"]
    print(f"\nretrieval: test queries against the {int((index.splits == 'train').sum())} training shapes; relevant = same category "
          f"(chance precision {retrieval['chance_precision']:.3f}); {retrieval['picture_queries']} picture/sketch queries, "
          f"{int((index.splits == 'test').sum())} shape queries")  # fmt: skip
    print("| method | precision@1 | precision@5 | mAP | nDCG | queries | seconds (all queries) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for method, scores in retrieval["methods"].items():
        print(f"| {method} | {scores['precision@1']:.3f} | {scores['precision@5']:.3f} | {scores['average_precision']:.3f} | {scores['ndcg']:.3f} "
              f"| {scores['queries']} | {retrieval['seconds'][method]:.1f} |")  # fmt: skip
    if args.smoke:  # the query meshes and the turned meshes too, at toy size, so that one smoke run goes through every table
        loss_table(args.meshes, args.faces, args.budgets)
        results["orientations"] = print_orientation_table(index, folder, limit=2)
        results["drawings"] = print_drawing_table(index, folder, per_shape=1, renderings=1, limit=3)
    print(f"- load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    save(results, args, s)


def save(results: dict, args, s) -> None:
    """``--json FILE`` as always; with ``--smoke`` or ``--results`` also ``<results folder>/search_<profile>.json``."""
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str) + "\n")
    if args.smoke or args.results is not None:  # a real run without --results writes only --json, as it always did
        write_results(s, f"search_{s.profile.name}.json", results)


if __name__ == "__main__":
    main()
