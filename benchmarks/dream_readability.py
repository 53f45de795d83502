"""Can a person name what the classifier dreams? Pixel priors against a shape prior, and blind sheets.

    python benchmarks/dream_readability.py [--profile quick] [--steps 200] [--out build/dream_readability]

1. **Pixel priors**: the shipped classifier's 13 class visualisations from near-white noise with
   priors stronger than notebook 06's (each on top of the previous where it says so): a
   32×32 picture enlarged to 128 (``low-res``), random scale ±10 %, rotation ±10° and shifts
   of up to 8 pixels at every step (``transforms``, Olah et al. 2017), an L1 pull of every pixel
   towards white (``sparse``), a centred Gaussian window outside which the picture stays white
   (``window``), total variation (``tv``). Adam on the picture's logits. Prints p(category) of
   every result and saves one sheet of all variants (``pixel_priors.png``, labelled).
2. **The shape prior**: ``dream.dream_shapes`` with notebook 06's quick settings; prints
   p(category) from two fixed views.
3. **Blind sheets** for the readability check: the 13 shape dreams shuffled and numbered, no
   labels, each from two views (``blind_sheet_1.png``: the notebook's views, ``blind_sheet_2.png``:
   two others, another order). The answer keys are written beside them (``blind_key_*.json``):
   give a reader only a sheet and the list of the 13 categories. Everything lands in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from machine import machine_lines  # benchmarks/machine.py

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tutorial_lib import autoencoder, classification, dream  # noqa: E402
from tutorial_lib.shapes import CATEGORIES  # noqa: E402

PIXEL_VARIANTS = {
    "low-res + transforms": dict(),
    "+ sparse": dict(sparse=3.0),
    "+ window": dict(window=0.35),
    "+ window + sparse": dict(window=0.35, sparse=3.0),
    "64² + window + sparse + tv": dict(low=64, window=0.35, sparse=3.0, tv=3.0),
}


def random_transform(pictures: torch.Tensor, generator: torch.Generator, shift=8, scale=(0.9, 1.1), degrees=10.0) -> torch.Tensor:
    """Scale, rotate and shift each picture at random (white comes in at the borders)."""
    count, size = len(pictures), pictures.shape[-1]
    s = torch.empty(count).uniform_(*scale, generator=generator)
    a = torch.empty(count).uniform_(-degrees, degrees, generator=generator) * math.pi / 180
    theta = torch.zeros(count, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(a) / s, -torch.sin(a) / s
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(a) / s, torch.cos(a) / s
    theta[:, :, 2] = torch.empty(count, 2).uniform_(-shift, shift, generator=generator) * 2 / size
    grid = F.affine_grid(theta, list(pictures.shape), align_corners=False)
    return 1 - F.grid_sample(1 - pictures, grid, align_corners=False, padding_mode="zeros")


def pixel_dream(classifier, classes, steps, low=32, sparse=0.0, window=None, tv=0.0, seed=0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    logits = (-2.0 + 0.5 * torch.randn(len(classes), 1, low, low, generator=generator)).requires_grad_(True)
    optimiser = torch.optim.Adam([logits], lr=0.05)
    mask = None
    if window:
        r = torch.linspace(-1, 1, 128)
        yy, xx = torch.meshgrid(r, r, indexing="ij")
        mask = torch.exp(-(xx**2 + yy**2) / (2 * window**2))[None, None]
    labels = torch.as_tensor(classes)

    def darkness():
        d = torch.sigmoid(F.interpolate(logits, size=128, mode="bilinear", align_corners=False))
        return d if mask is None else d * mask

    for _ in range(steps):
        d = darkness()
        log_p = torch.log_softmax(classifier(random_transform(1 - d, generator)), dim=1).gather(1, labels[:, None])[:, 0]
        loss = -log_p.sum() + len(classes) * (sparse * d.mean(dim=(1, 2, 3)).sum() + tv * dream.total_variation(d).sum())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        return 1 - darkness()


def sheet(pictures, titles, path, columns=13, title=None):
    rows = math.ceil(len(pictures) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.75 * rows), squeeze=False)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax, picture, name in zip(axes.flat, pictures, titles):
        ax.imshow(picture, cmap="gray", vmin=0, vmax=1)
        ax.set_title(name, fontsize=7 if len(name) > 3 else 10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--steps", type=int, default=200, help="Adam steps of each pixel dream")
    parser.add_argument("--out", type=Path, default=Path("build/dream_readability"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print("\n".join(machine_lines()))
    classifier = classification.load_classifier(args.profile, device="cpu").eval()
    for p in classifier.parameters():
        p.requires_grad_(False)
    classes = list(range(len(CATEGORIES)))

    def probability(pictures):
        with torch.no_grad():
            return torch.softmax(classifier(pictures), dim=1)[classes, classes].numpy()

    pictures, titles = [], []
    for name, options in PIXEL_VARIANTS.items():
        started = time.perf_counter()
        result = pixel_dream(classifier, classes, args.steps, **options)
        p = probability(result)
        print(f"pixels, {name:28s} ({time.perf_counter() - started:4.0f} s): p(category) " + " ".join(f"{v:.2f}" for v in p))
        pictures += list(result[:, 0])
        titles += [f"{name}\n{c} {v:.2f}" for c, v in zip(CATEGORIES, p)]
    sheet(pictures, titles, args.out / "pixel_priors.png")

    model = autoencoder.load_autoencoder(args.profile, device="cpu")
    codes = autoencoder.load_shipped_z(args.profile)
    started = time.perf_counter()
    shapes = dream.dream_shapes(classifier, model.decoder, classes, codes["train_z"], settings=dream.ShapeDreamSettings(), seed=0, progress=True)
    print(
        f"shapes ({time.perf_counter() - started:.0f} s): mean log p {shapes.scores[0]:.2f} → {shapes.scores[-1]:.2f}, "
        f"distance from the training z {shapes.prior_distances[-1]:.2f}"
    )
    for number, (views, seed) in enumerate(((((30.0, 20.0), (-120.0, 25.0)), 2026), (((-60.0, 10.0), (150.0, 30.0)), 7)), start=1):
        with torch.no_grad():
            drawn = [dream.picture_of_z(model.decoder, shapes.z, [view] * len(classes)) for view in views]
        print(f"shapes, views {views}: p(category) " + " | ".join(" ".join(f"{v:.2f}" for v in probability(d)) for d in drawn))
        order = np.random.default_rng(seed).permutation(len(classes))
        tiles = [drawn[row][c, 0] for row in range(len(views)) for c in order]
        sheet(tiles, [str(k + 1) for k in range(len(classes))] + [""] * len(classes), args.out / f"blind_sheet_{number}.png")
        (args.out / f"blind_key_{number}.json").write_text(json.dumps({str(k + 1): CATEGORIES[c] for k, c in enumerate(order)}, indent=1))
    print(f"sheets and keys in {args.out}")


if __name__ == "__main__":
    main()
