"""Where things live, what the two profiles mean, which device to use, and seeding.

Every notebook starts with ``PROFILE = "quick"`` (or ``"full"``) and asks this module what
that means: how many shapes to build, how wide the networks are, how long to train.
``quick`` runs on a laptop CPU in minutes; ``full`` is the paper's scale, meant for a GPU.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The repository root when the package is used from a source checkout (``pip install -e .``).
PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent if (PACKAGE_DIR.parent / "pyproject.toml").exists() else Path.cwd()

#: The 64³ voxel grid and its padding, as in the talk ("Voxel 64X64X64, padding of 2 voxels").
VOXEL_RESOLUTION = 64
VOXEL_PADDING = 2
#: Number of inside/outside samples per shape at each training resolution (the talk's budgets).
POINT_BUDGETS = {16: 16**3, 32: 2 * 16**3, 64: 32**3}
#: The latent code: 128 numbers in (0, 1).
Z_DIM = 128
#: Renderings per shape and their size (the talk's "20 synthetic images, 137X137").
VIEWS_PER_SHAPE = 20
IMAGE_SIZE = 137
IMAGE_PADDING = 9
#: The image encoder reads a random (train) or central (test) crop of this size.
CROP_SIZE = 128


def data_root() -> Path:
    """Folder for generated datasets and trained models: ``$TUTORIAL_DATA`` or ``<repo>/data``."""
    env = os.environ.get("TUTORIAL_DATA")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / "data"


def shipped_checkpoints_dir() -> Path:
    """The small checkpoints committed with the repository (always inside the checkout)."""
    return REPO_ROOT / "data" / "checkpoints"


def figures_dir() -> Path:
    """Folder the notebooks save their figures to: ``$TUTORIAL_FIGURES``, or ``<repo>/build/figures``.

    The committed ``figures/`` (the README shows them) is refreshed only on purpose, by
    ``make figures``, which points ``$TUTORIAL_FIGURES`` at it: running the tests or the
    notebooks never rewrites a tracked file.
    """
    env = os.environ.get("TUTORIAL_FIGURES")
    path = Path(env).expanduser().resolve() if env else REPO_ROOT / "build" / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class DatasetSettings:
    """How many procedural shapes of each of the 13 categories go to each split.

    Shapes of a category are numbered 0, 1, 2, … and every number has its own seed, so a shape
    is the same in every build. The test shapes are the block of numbers that starts at
    ``first_test_number``; the training shapes take the other numbers in order.
    """

    train_per_category: int
    test_per_category: int
    first_test_number: int
    views_per_shape: int = VIEWS_PER_SHAPE

    @property
    def shapes_per_category(self) -> int:
        return self.train_per_category + self.test_per_category

    def split_numbers(self) -> dict[str, list[int]]:
        """The shape numbers of each split, the same for every category."""
        test = list(range(self.first_test_number, self.first_test_number + self.test_per_category))
        others = (n for n in range(self.shapes_per_category) if n not in test)
        return {"train": [next(others) for _ in range(self.train_per_category)], "test": test}


@dataclass(frozen=True)
class AutoencoderSettings:
    encoder_width: int  # channels of the first 3D convolution (the paper: 32)
    decoder_width: int  # units of the decoder's last hidden layer (the paper: 128, so 2048 first)
    shapes_per_batch: int
    points_per_shape: int  # points of each shape per step, drawn from its edge sample
    steps: int  # optimiser steps of the whole progressive run (16³ → 32³ → 64³)


@dataclass(frozen=True)
class ImageEncoderSettings:
    width: int  # channels of ResNet-18's first stage (torchvision's ResNet-18: 64)
    batch_size: int  # images per step
    steps: int  # optimiser steps (Adam, cosine decay)
    learning_rate: float
    # Train on pictures randomised the way other renderers and cameras differ (light, material,
    # framing, blur, JPEG: images.randomise_pictures), so that pictures from elsewhere work.
    randomise_pictures: bool = True
    cpu_bf16: bool = True  # precision "auto" on a CPU with bfloat16 in hardware: bfloat16 autocast (training.cpu_has_native_bf16)


@dataclass(frozen=True)
class ClassifierSettings:
    """The category classifier of notebook 06 (a ResNet-18 on the renderings, ``classification``)."""

    width: int = 32  # channels of ResNet-18's first stage: the quick image encoder's width
    batch_size: int = 32  # crops per step
    steps: int = 4000  # optimiser steps (Adam, cosine decay) of batch_size crops each
    learning_rate: float = 1e-3
    # Adversarial training makes the class visualisations of notebook 06 show shapes rather than
    # textures (classification.adversarial_pictures); 0.0 trains a plain classifier.
    adversarial_epsilon: float = 4.0  # L2 radius in grey levels × pixels (a root-mean-square change of 0.03 per pixel at 128²)
    adversarial_steps: int = 3  # gradient steps that find each adversarial picture
    adversarial_from_step: int = 2800  # plain training before this step (learn the categories), adversarial from it on


@dataclass(frozen=True)
class GanSettings:
    """The latent GAN of notebook 08 (``gan``): IM-GAN's WGAN-GP on the autoencoder's z."""

    width: int = 256  # hidden units of generator and critic (IM-GAN: 2048; quick: benchmarks/bench_gan.py widths)
    batch_size: int = 64  # real and generated z per critic step
    steps: int = 4000  # generator steps; each follows n_critic critic steps
    n_critic: int = 5  # critic steps per generator step (WGAN-GP)
    learning_rate: float = 1e-4  # Adam, betas (0.5, 0.9) as in WGAN-GP


@dataclass(frozen=True)
class SketchEncoderSettings:
    """The sketch encoder of notebook 09 (``sketches``): the image encoder's ResNet fine-tuned on line drawings."""

    drawings_per_shape: int = 4  # drawings of each training shape, each from its own view and style
    test_drawings_per_shape: int = 4  # drawings of each test shape it is scored on (seeds never used in training)
    batch_size: int = 32
    steps: int = 4000  # optimiser steps (Adam, cosine decay), started from the shipped image encoder's weights
    learning_rate: float = 3e-4  # a third of the image encoder's: it starts from trained weights


@dataclass(frozen=True)
class Profile:
    """Everything that differs between a laptop run and a paper-scale run."""

    name: str
    dataset: DatasetSettings
    autoencoder: AutoencoderSettings
    image_encoder: ImageEncoderSettings
    classifier: ClassifierSettings = ClassifierSettings()
    gan: GanSettings = GanSettings()
    sketch_encoder: SketchEncoderSettings = SketchEncoderSettings()
    evaluation_shapes: int | None = None  # test shapes a shipped model is scored on (None: every one)


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        # 200 training shapes per category: with 25 the autoencoder scored much better on its
        # training shapes than on test shapes, 50 closed most of that gap, and 100 raised thin
        # parts (legs, stems, slats) most of all (docs/benchmark-log.md, "How the quick profile came
        # to 50 training shapes per category", "Twice the training shapes", "200 training shapes
        # per category"). The test shapes keep their numbers (25-29) whenever the training split
        # grows, so test numbers measured on any of these datasets compare directly.
        dataset=DatasetSettings(train_per_category=200, test_per_category=5, first_test_number=25),
        # 13,000 steps: the training fits within an hour on 2 CPU cores, and a longer run gained
        # nothing on the test shapes (docs/benchmark-log.md, "The shipped `quick` checkpoint").
        autoencoder=AutoencoderSettings(encoder_width=16, decoder_width=32, shapes_per_batch=16, points_per_shape=2048, steps=13000),
        # Half the channels of ResNet-18 at every stage (same depth and skips), so that it trains
        # on a laptop CPU (both widths' speed: ``benchmarks/bench_svr.py speed``).
        image_encoder=ImageEncoderSettings(width=32, batch_size=32, steps=10000, learning_rate=1e-3),
    ),
    "full": Profile(
        name="full",
        # The talk's ~5000 train / ~1000 test: 385 + 77 shapes of each of 13 categories.
        dataset=DatasetSettings(train_per_category=385, test_per_category=77, first_test_number=385),
        autoencoder=AutoencoderSettings(encoder_width=32, decoder_width=128, shapes_per_batch=32, points_per_shape=8192, steps=60000),
        image_encoder=ImageEncoderSettings(width=64, batch_size=64, steps=60000, learning_rate=1e-3),
        classifier=ClassifierSettings(width=64, batch_size=64, steps=20000, learning_rate=1e-3, adversarial_from_step=14000),
        gan=GanSettings(width=2048, batch_size=64, steps=20000, n_critic=5, learning_rate=1e-4),
        sketch_encoder=SketchEncoderSettings(drawings_per_shape=8, test_drawings_per_shape=2, batch_size=64, steps=20000),
    ),
    "smoke": Profile(
        name="smoke",
        # The full path at toy size, for the CPU test of `make full` (tests/test_full_path.py):
        # the full profile's network widths, 5 shapes per category (notebook 07 compares 3 test
        # shapes of a category), a few steps of each model. Its models are not meant to be good,
        # only to go through every step.
        dataset=DatasetSettings(train_per_category=2, test_per_category=3, first_test_number=2),
        autoencoder=AutoencoderSettings(encoder_width=32, decoder_width=128, shapes_per_batch=2, points_per_shape=256, steps=3),
        image_encoder=ImageEncoderSettings(width=64, batch_size=8, steps=4, learning_rate=1e-3),
        classifier=ClassifierSettings(width=64, batch_size=8, steps=4, learning_rate=1e-3, adversarial_from_step=2),
        gan=GanSettings(width=2048, batch_size=8, steps=4, n_critic=2, learning_rate=1e-4),
        sketch_encoder=SketchEncoderSettings(drawings_per_shape=1, test_drawings_per_shape=1, batch_size=8, steps=4),
        evaluation_shapes=1,  # scoring a paper-width decoder on a 64³ grid is slow on a CPU
    ),
}


def get_profile(name: str | Profile) -> Profile:
    """Look a profile up by name (``"quick"``, ``"full"``, or ``"smoke"``: the full path at toy size)."""
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}: choose one of {sorted(PROFILES)}") from None


_ANNOUNCED_DEVICES: set = set()


def get_device(choice: str = "auto", verbose: bool = False):
    """``"auto"`` picks CUDA when present, else the CPU; ``"cpu"``/``"cuda"``/``"cuda:1"`` are taken as given.

    With ``verbose``, the first choice of each device is printed (``device: cuda (NVIDIA …)``).
    Asking for CUDA where torch sees none raises a one-line ``RuntimeError``.
    """
    import torch

    if choice == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(choice)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {choice!r} was asked for, but torch sees no CUDA device (use DEVICE='auto' or 'cpu')")
    if verbose and (choice, str(device)) not in _ANNOUNCED_DEVICES:
        _ANNOUNCED_DEVICES.add((choice, str(device)))
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()
        print(f"device: {device} ({name}){' — chosen by DEVICE=auto' if choice == 'auto' else ''}")
    return device


def default_workers(limit: int = 8) -> int:
    """Worker processes for the CPU-bound builds (the dataset's shapes, the search index's descriptors): one per core, at most ``limit``."""
    return max(1, min(os.cpu_count() or 1, limit))


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a fresh NumPy generator for the caller."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def cpu_model() -> str:
    """The processor's name (from /proc/cpuinfo on Linux), for benchmark records and manifests."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"
