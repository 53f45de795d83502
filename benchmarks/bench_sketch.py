"""Search by a line drawing: the sketch encoder beside the image encoder and the light field's sketch search.

    python benchmarks/bench_sketch.py [--profile quick] [--per-shape 4] [--threads 2] [--smoke] [--results DIR]

The queries are drawings of every test shape made as the sketch encoder's training drawings
are made (``sketches.hand_drawn_pictures``: the lines of a view — outline, depth steps, creases
— drawn with a random hand, pen, margin and picture size), from the test split's own stream of
seeds, which no training drawing uses: ``--per-shape`` of each (the shipped model's evaluation
uses the same ones). Each is searched against the training shapes; right = the category of the
shape at rank 1. Methods:

* ``sketch encoder (z)`` – the drawing read by ``sketches.drawing_input`` → the shipped sketch
  encoder → nearest training z (what ``search DRAWING --as sketch`` does);
* ``image encoder (z)`` – the drawing read as a picture → the shipped image encoder → nearest z
  (what ``search`` did with every picture before the sketch encoder);
* ``LFD sketch`` – the drawing's silhouette (``search.sketch_mask``) against each training
  shape's 100 light field silhouettes (Chen et al. 2003; ``search DRAWING --by lfd``);
* ``default (automatic guess)`` – ``search DRAWING`` with no flags: ``sketches.looks_like_drawing``
  decides between the first two.

Then the automatic guess itself: how many of those drawings it calls drawings, and how many of
the test shapes' renderings (``--renderings`` per shape) it calls pictures.

``--smoke``: the smoke dataset's test shapes, one drawing each, one rendering each, the LFD row
left out (the smoke dataset has no search index); results into a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from machine import add_options, machine_lines, setup, write_results  # benchmarks/machine.py
from PIL import Image
from tqdm.auto import tqdm

from tutorial_lib import autoencoder, data, images, search, shipping, sketches, svr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser, device=None)
    parser.add_argument("--per-shape", type=int, default=None, help="drawings of each test shape (default: the profile's test_drawings_per_shape)")
    parser.add_argument("--renderings", type=int, default=4, help="renderings of each test shape for the guess's table")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("\n".join(machine_lines()))
    s = setup(args)
    per_shape = args.per_shape or s.profile.sketch_encoder.test_drawings_per_shape
    renderings = args.renderings
    if args.smoke:
        per_shape, renderings = 1, 1
    test_file = data.split_path(s.folder, "test")
    test = data.read_split(test_file, ("categories",))

    index = None
    if not args.smoke:
        index = search.load_index(s.profile, build=False)
        index.profile = s.profile
    sketch_model = shipping.load("sketch_encoder", s.profile)
    image_model = shipping.load("image_encoder", s.profile)
    codes = autoencoder.load_shipped_z(s.profile)
    train_z, train_categories = np.asarray(codes["train_z"]), np.asarray(codes["train_categories"])

    def nearest_category(z: np.ndarray) -> str:
        return str(train_categories[int(np.argmin(((train_z - z) ** 2).sum(axis=1)))])

    right: dict[str, int] = {}
    seconds: dict[str, list] = {}
    guessed_drawings = queries = 0
    tmp = tempfile.mkdtemp(prefix="bench_sketch_")
    for row in tqdm(range(len(test["categories"])), desc="test drawings"):
        truth = str(test["categories"][row])
        pictures, _ = sketches.hand_drawn_pictures(data.read_mesh(test_file, row), per_shape, sketches.drawing_seed(0, 1, row))
        for picture in pictures:
            queries += 1
            path = Path(tmp) / "query.png"
            Image.fromarray(picture).save(path)  # read back as a user's file is read
            answers = {}
            started = time.perf_counter()
            answers["sketch encoder (z)"] = nearest_category(sketches.predict_drawing_z(sketch_model, [path]).numpy()[0])
            seconds.setdefault("sketch encoder (z)", []).append(time.perf_counter() - started)
            started = time.perf_counter()
            grey = images.load_image(path, object_size=image_model.object_size)  # as ShapeIndex.picture_z reads a file
            answers["image encoder (z)"] = nearest_category(svr.predict_z(image_model, grey[None]).numpy()[0])
            seconds.setdefault("image encoder (z)", []).append(time.perf_counter() - started)
            if index is not None:
                started = time.perf_counter()
                answers["LFD sketch (2003)"] = index.by_sketch(path, k=1, split="train")[0].category
                seconds.setdefault("LFD sketch (2003)", []).append(time.perf_counter() - started)
            is_drawing = sketches.looks_like_drawing(path)
            guessed_drawings += is_drawing
            answers["default (automatic guess)"] = answers["sketch encoder (z)" if is_drawing else "image encoder (z)"]
            for method, answer in answers.items():
                right[method] = right.get(method, 0) + (answer == truth)

    pixels = data.read_pixels(test_file)[:, :renderings]
    guessed_pictures = sum(not sketches.looks_like_drawing(p) for p in pixels.reshape(-1, *pixels.shape[-2:]))

    print(f"\n### Search by a line drawing: {queries} drawings of the {len(test['categories'])} test shapes ({per_shape} each, "
          "seeds no training drawing uses), against the training shapes\n")  # fmt: skip
    print("| method | precision@1 | right | median ms a query |\n| --- | ---: | ---: | ---: |")
    table = {}
    for method, count in right.items():
        ms = 1000 * statistics.median(seconds[method]) if method in seconds else float("nan")
        table[method] = {"precision@1": count / queries, "right": count, "queries": queries, "median_ms": ms}
        print(f"| {method} | {count / queries:.3f} | {count}/{queries} | {ms:.0f} |")
    if index is None:
        print("| LFD sketch (2003) | (left out: the smoke dataset has no search index) | | |")
    print(f"\nthe automatic guess: {guessed_drawings}/{queries} drawings read as drawings; "
          f"{guessed_pictures}/{pixels.shape[0] * pixels.shape[1]} renderings read as pictures")  # fmt: skip
    results = {"machine": machine_lines(), "per_shape": per_shape, "methods": table,
               "guess": {"drawings_read_as_drawings": guessed_drawings, "drawings": queries,
                         "renderings_read_as_pictures": int(guessed_pictures), "renderings": int(pixels.shape[0] * pixels.shape[1])},
               "sketch_encoder": shipping.paths("sketch_encoder", s.profile).manifest.name}  # fmt: skip
    write_results(s, f"sketch_{s.profile.name}.json", results)


if __name__ == "__main__":
    main()
