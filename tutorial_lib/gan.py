"""New shapes: a latent GAN on the autoencoder's z, interpolation, and how to judge a generator.

The talk's "GANs and 3D": a generator learns to produce z-vectors, a discriminator learns to
tell generated z from the real ones the 3D→3D autoencoder gave the training shapes, and the
autoencoder's decoder turns any z into a shape. This is IM-NET's IM-GAN (Chen & Zhang 2019),
whose latent GAN is a Wasserstein GAN with gradient penalty (WGAN-GP, Gulrajani et al. 2017):

* :class:`~tutorial_lib.models.Generator` – MLP noise(128) → width → width → 128 with LeakyReLU
  and a sigmoid output, because the autoencoder's z live in (0, 1). Noise is drawn from N(0, 0.2²).
* :class:`~tutorial_lib.models.Critic` – MLP 128 → width → width → 1 (no sigmoid: a WGAN critic
  gives a score, not a probability). IM-GAN's width is 2048; the profile says which
  (``config.GanSettings``). Both live in :mod:`tutorial_lib.models`, with the other networks.
* :func:`gradient_penalty` – WGAN-GP's λ (‖∇ critic(x̂)‖ − 1)² on points x̂ between real and fake.
* :func:`train_gan_on` (any data) and :func:`train_gan` (the shipped autoencoder's training z)
  on the shared :func:`tutorial_lib.training.train` loop; CLI
  ``python -m tutorial_lib train gan --profile quick|full [--steps N] [--minutes M] [--ship]``.
* :func:`interpolate` – the talk's zᵢ = αᵢ z₁ + (1 − αᵢ) z₂, αᵢ = i/(n+1), linear or spherical.
* :func:`gaussian_baseline`, :func:`judge` – a generator is only believable beside baselines:
  a Gaussian fitted to the training z, and the training shapes themselves. ``judge`` decodes
  z to meshes and scores every set against the test shapes with COV / MMD / 1-NNA
  (:mod:`tutorial_lib.metrics`) by Chamfer distance and by light field descriptor.
* :func:`to_ship`, :func:`shipped_manifest` – what shipping adds: only the generator is shipped.
  It is loaded, trained where missing and shipped by :mod:`tutorial_lib.shipping`
  (``shipping.load("gan", profile)``). A GAN belongs to one autoencoder: its manifest records the
  fingerprint of the z it learned (``autoencoder_z``), and loading it beside another
  autoencoder raises :class:`tutorial_lib.provenance.CheckpointError`.

How WGAN-GP's alternation fits the one training loop: the loop's "model" is a
:class:`LatentGan` holding both networks, and its one Adam optimiser holds both networks'
parameters. One step of the loop is one *generator* step: ``loss_fn`` first makes
``n_critic`` critic steps itself (on that optimiser, while the generator's gradients are None,
so Adam leaves the generator alone), then returns the generator's loss with the critic frozen
(so the loop's own ``optimizer.step()`` moves only the generator). Both networks and all of
Adam's state are in the loop's checkpoint, and every random draw of a step depends on
``(seed, step)``: a resumed run ends with the same weights as one that did not stop.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
import torch
from torch import nn

from . import config, provenance
from .config import Z_DIM, Profile
from .models import NOISE_STD, Critic, Generator, LatentGan  # noqa: F401  (the networks, re-exported: notebook 08 uses gan.Generator)
from .training import History, RunOptions, train

#: Weight λ of the gradient penalty (WGAN-GP's 10).
PENALTY_WEIGHT = 10.0
#: Adam's betas of WGAN-GP.
ADAM_BETAS = (0.5, 0.9)


def make_gan(profile: Profile, width: int | None = None) -> LatentGan:
    """The latent GAN at the width of a profile (``full``: IM-GAN's 2048), or at ``width``."""
    width = width or profile.gan.width
    return LatentGan(Generator(Z_DIM, width, Z_DIM, sigmoid=True, noise_std=NOISE_STD), Critic(Z_DIM, width))


# --------------------------------------------------------------------------------------------
# WGAN-GP
# --------------------------------------------------------------------------------------------


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP's penalty, mean over the batch of (‖∇ₓ critic(x̂)‖₂ − 1)², without the weight λ.

    x̂ = ε real + (1 − ε) fake with ε ~ U(0, 1) per sample: the critic should have slope 1
    along the lines between real and generated samples (a 1-Lipschitz function, which is what
    makes its score difference an estimate of the Wasserstein distance). ``create_graph``
    lets the penalty's own gradient reach the critic's weights.
    """
    epsilon = torch.rand(len(real), *([1] * (real.ndim - 1)), generator=generator).to(real.device)
    between = (epsilon * real + (1 - epsilon) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def wgan_gp_step(optimizer: torch.optim.Optimizer, n_critic: int = 5, penalty_weight: float = PENALTY_WEIGHT):
    """``loss_fn(gan, real_batches)`` for :func:`tutorial_lib.training.train`: one generator step.

    ``real_batches`` is ``[n_critic, B, dim]``: ``n_critic`` critic steps (each on its own
    batch of real samples and fresh fakes) are made here on ``optimizer``; then the generator's
    loss −critic(G(noise)) is returned with the critic frozen, for the loop to step. Logged:
    ``critic_loss`` (the critic's cost: fake score − real score + λ·penalty, last critic step),
    ``wasserstein`` (real score − fake score: how far apart the critic sees the two sets),
    ``penalty``.
    """

    def loss_fn(gan: LatentGan, real_batches: torch.Tensor):
        generator, critic = gan.generator, gan.critic
        for real in real_batches[:n_critic]:
            with torch.no_grad():
                fake = generator(generator.noise(len(real)))
            real_score, fake_score = critic(real).mean(), critic(fake).mean()
            penalty = gradient_penalty(critic, real, fake)
            critic_loss = fake_score - real_score + penalty_weight * penalty
            optimizer.zero_grad(set_to_none=True)  # the generator's gradients stay None: Adam skips it
            critic_loss.backward()
            optimizer.step()
        critic.requires_grad_(False)  # the generator's step must not move (or even touch) the critic
        try:
            generator_loss = -critic(generator(generator.noise(len(real_batches[0])))).mean()
        finally:
            critic.requires_grad_(True)
        # The loop backpropagates generator_loss after this returns; the critic's weights are not
        # leaves of that graph (requires_grad was off when it was built), so it gets no gradient.
        return generator_loss, {"critic_loss": critic_loss.detach(), "wasserstein": (real_score - fake_score).detach(), "penalty": penalty.detach()}

    return loss_fn


class RealBatches:
    """``batches(step)``: ``[n_critic, batch_size, dim]`` real samples, shuffled epochs over ``data``.

    Critic step k of generator step s takes batch ``s·n_critic + k`` of a permutation seeded
    by ``(seed, epoch)``: every step's batches can be recomputed (what makes resume exact).
    """

    def __init__(self, data: torch.Tensor, batch_size: int, n_critic: int, seed: int = 0):
        self.data = torch.as_tensor(data, dtype=torch.float32)
        if len(self.data) < 2:
            raise ValueError(f"a GAN needs at least 2 training samples, got {len(self.data)}")
        self.batch_size, self.n_critic, self.seed = min(batch_size, len(self.data)), n_critic, seed
        self.per_epoch = len(self.data) // self.batch_size
        self._epoch, self._order = -1, None

    def _batch(self, index: int) -> torch.Tensor:
        epoch, position = divmod(index, self.per_epoch)
        if epoch != self._epoch:
            self._epoch = epoch
            self._order = torch.randperm(len(self.data), generator=torch.Generator().manual_seed(self.seed * 1_000_003 + epoch))
        return self.data[self._order[position * self.batch_size : (position + 1) * self.batch_size]]

    def __call__(self, step: int) -> torch.Tensor:
        return torch.stack([self._batch(step * self.n_critic + k) for k in range(self.n_critic)])


def train_gan_on(samples, gan: LatentGan, run: RunOptions, batch_size: int = 64, n_critic: int = 5, learning_rate: float = 1e-4,
                 penalty_weight: float = PENALTY_WEIGHT, betas: tuple[float, float] = ADAM_BETAS, evaluate=None, record: dict | None = None,
                 description: str = "latent GAN") -> History:  # fmt: skip
    """Train ``gan`` with WGAN-GP to imitate ``samples`` [N, dim]; return the loop's :class:`History`.

    Adam with ``betas`` (default (0.5, 0.9), WGAN-GP's), ``n_critic`` critic steps per generator step. The
    history's ``loss`` is the generator's cost; ``metrics`` hold the critic's cost, the
    Wasserstein estimate and the penalty per step. With ``run.checkpoint`` the run resumes exactly.
    """
    optimizer = torch.optim.Adam(gan.parameters(), lr=learning_rate, betas=betas)
    return train(gan, optimizer, wgan_gp_step(optimizer, n_critic, penalty_weight), RealBatches(samples, batch_size, n_critic, run.seed), run,
                 evaluate=evaluate, record=record, description=description)  # fmt: skip


def train_gan(profile: Profile, run: RunOptions, width: int | None = None, codes: dict | None = None) -> tuple[LatentGan, History]:
    """Train the profile's latent GAN on the shipped autoencoder's training z.

    ``codes`` (default :func:`tutorial_lib.autoencoder.load_shipped_z`) holds ``train_z``;
    ``width`` overrides the profile's (to compare widths). Seeds before building the networks.
    With ``run.evaluate_every``, COV / MMD / 1-NNA in z space of as many generated z as there are
    test z, against the test z, are logged as ``z_cov``, ``z_mmd``, ``z_1nna``.
    """
    from . import autoencoder

    settings = profile.gan
    run = run.with_default_steps(settings.steps)
    codes = codes if codes is not None else autoencoder.load_shipped_z(profile)
    config.seed_everything(run.seed)
    gan = make_gan(profile, width)
    evaluate = None
    if run.evaluate_every and "test_z" in codes:

        def evaluate(model):
            scores = z_scores(model.generator.sample(len(codes["test_z"]), seed=run.seed), codes["test_z"])
            return {"z_cov": scores["cov"], "z_mmd": scores["mmd"], "z_1nna": scores["1-nna"]}

    record = {"model": "gan", "steps": run.steps, "settings": asdict(settings), "architecture": dict(gan.config),
              "autoencoder_z": provenance.array_fingerprint(codes["train_z"]), "training_shapes": int(len(codes["train_z"]))}  # fmt: skip
    history = train_gan_on(codes["train_z"], gan, run, batch_size=settings.batch_size, n_critic=settings.n_critic,
                           learning_rate=settings.learning_rate, evaluate=evaluate, record=record)  # fmt: skip
    return gan, history


# --------------------------------------------------------------------------------------------
# Interpolation
# --------------------------------------------------------------------------------------------


def interpolation_weights(n: int) -> np.ndarray:
    """The talk's αᵢ = i/(n+1) for i = 0 … n+1: 0, the n inner weights, 1."""
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}")
    return np.arange(n + 2) / (n + 1)


def interpolate(z1, z2, n: int = 3, method: str = "linear") -> torch.Tensor:
    """[z₂, z_1, …, z_n, z₁]: the talk's zᵢ = αᵢ z₁ + (1 − αᵢ) z₂ with αᵢ = i/(n+1), ``[n+2, dim]``.

    Row i holds α = i/(n+1), so row 0 is z₂ (α = 0) and the last row is z₁ (α = 1).
    ``method="spherical"`` (slerp) follows the great circle between the two vectors instead
    of the chord: sin((1−α)θ)/sin θ · z₂ + sin(αθ)/sin θ · z₁ with θ the angle between them.
    For Gaussian noise it keeps the in-between vectors as long as the endpoints (a straight
    line passes nearer the origin, where the noise rarely is). Our z all lie in (0, 1)¹²⁸, so
    the angle between two of them is below 90°, but two generated z can still be tens of degrees
    apart, and then the chord's middle is visibly shorter than the arc's (notebook 08's
    exercises compare them). Falls back to linear when z₁ and z₂ are (anti)parallel.
    """
    z1 = torch.as_tensor(np.asarray(z1), dtype=torch.float32).reshape(-1)
    z2 = torch.as_tensor(np.asarray(z2), dtype=torch.float32).reshape(-1)
    alpha = torch.as_tensor(interpolation_weights(n), dtype=torch.float32)[:, None]
    if method == "linear":
        return alpha * z1 + (1 - alpha) * z2
    if method != "spherical":
        raise ValueError(f"unknown interpolation {method!r}: choose 'linear' or 'spherical'")
    cosine = torch.dot(z1, z2) / (z1.norm() * z2.norm()).clamp_min(1e-12)
    theta = torch.arccos(cosine.clamp(-1, 1))
    if torch.sin(theta) < 1e-6:
        return alpha * z1 + (1 - alpha) * z2
    return (torch.sin(alpha * theta) * z1 + torch.sin((1 - alpha) * theta) * z2) / torch.sin(theta)


# --------------------------------------------------------------------------------------------
# Judging a generator: baselines, decoding, COV / MMD / 1-NNA by Chamfer and LFD
# --------------------------------------------------------------------------------------------


def gaussian_baseline(train_z, count: int, seed: int = 0) -> np.ndarray:
    """``count`` z from a Gaussian with the training z's mean and full covariance, clipped to (0, 1).

    The simplest generator there is: a GAN must beat it to have learned more than the z's
    first two moments.
    """
    train_z = np.asarray(train_z, dtype=np.float64)
    rng = np.random.default_rng(seed)
    samples = rng.multivariate_normal(train_z.mean(0), np.cov(train_z, rowvar=False), size=count, method="eigh")
    return np.clip(samples, 1e-6, 1 - 1e-6).astype(np.float32)


def nearest_z_distances(z, train_z) -> tuple[np.ndarray, np.ndarray]:
    """For each z: the Euclidean distance to its nearest training z, and that z's index."""
    from scipy.spatial import cKDTree

    distances, indices = cKDTree(np.asarray(train_z, np.float64)).query(np.asarray(z, np.float64))
    return distances, indices


def z_scores(generated_z, reference_z) -> dict:
    """COV / MMD / 1-NNA in z space (Euclidean distance between codes): cheap, no decoding.

    A first look at a generator (and what compares GAN widths quickly); the shapes' own scores
    come from :func:`judge`.
    """
    from scipy.spatial.distance import cdist

    from .metrics import generative_metrics

    g, r = np.asarray(generated_z, np.float64), np.asarray(reference_z, np.float64)
    return generative_metrics(cdist(g, r), cdist(g, g), cdist(r, r))


def decode_meshes(autoencoder_model, z, resolution: int = 64, progress: bool = True, description: str = "decode z") -> list:
    """One mesh per z: the decoder's occupancy at ``resolution``³, then marching cubes at 0.5."""
    from tqdm.auto import tqdm

    from .autoencoder import reconstruct_mesh

    z = torch.as_tensor(np.asarray(z), dtype=torch.float32)
    return [reconstruct_mesh(autoencoder_model, z[i], resolution) for i in tqdm(range(len(z)), desc=description, disable=not progress)]


def surface_clouds(meshes, points: int = 2048, seed: int = 0) -> list[np.ndarray]:
    """``points`` surface samples of each mesh; an empty mesh (nothing decoded) gives one point at the origin.

    (An empty shape must still be judged, not dropped: it is far from every real shape.)
    """
    from .geometry import sample_surface

    return [sample_surface(m, points, seed=seed + i)[0] if len(m.faces) else np.zeros((1, 3), np.float32) for i, m in enumerate(meshes)]


def describe(meshes, points: int = 2048, seed: int = 0, lfd: bool = True, progress: bool = True) -> dict:
    """What :func:`judge` compares: surface point clouds and (with ``lfd``) light field descriptors."""
    from .metrics import LightFieldDescriptor, lfd_descriptor

    out = {"clouds": surface_clouds(meshes, points, seed)}
    if lfd:
        from tqdm.auto import tqdm

        # An empty mesh has blank silhouettes: an all-zero descriptor, far from every real shape.
        out["lfd"] = [lfd_descriptor(m) if len(m.faces) else LightFieldDescriptor(np.zeros(LightFieldDescriptor.SHAPE, np.float32))
                      for m in tqdm(meshes, desc="LFD", disable=not progress)]  # fmt: skip
    return out


def scores_against(generated: dict, reference: dict) -> dict:
    """COV / MMD / 1-NNA of one described set against a described reference set, by Chamfer and LFD.

    Returns ``{"chamfer": {"cov", "mmd", "1-nna"}, "lfd": {...}}`` (``lfd`` when both have
    descriptors) and the matrices used under ``"matrices"``.
    """
    from .metrics import chamfer_matrix, generative_metrics, lfd_distance_matrix

    out, matrices = {}, {}
    d_gr, d_gg, d_rr = chamfer_matrix(generated["clouds"], reference["clouds"]), chamfer_matrix(generated["clouds"]), chamfer_matrix(reference["clouds"])
    out["chamfer"], matrices["chamfer"] = generative_metrics(d_gr, d_gg, d_rr), d_gr
    if "lfd" in generated and "lfd" in reference:
        d_gr, d_gg, d_rr = lfd_distance_matrix(generated["lfd"], reference["lfd"]), lfd_distance_matrix(generated["lfd"]), lfd_distance_matrix(reference["lfd"])
        out["lfd"], matrices["lfd"] = generative_metrics(d_gr, d_gg, d_rr), d_gr
    out["matrices"] = matrices
    return out


def judge(sets: dict, reference_meshes, autoencoder_model=None, training: dict | None = None, resolution: int = 64,
          points: int = 2048, lfd: bool = True, nearest_lfd: bool = True, seed: int = 0, progress: bool = True) -> dict:  # fmt: skip
    """Score sets of shapes against reference (test) shapes, and say how close each is to the training set.

    ``sets`` maps a name to z ``[N, 128]`` (decoded with ``autoencoder_model`` at
    ``resolution``³) or to a list of meshes (used as given, e.g. the true training meshes).
    ``training`` (optional) is ``{"meshes": [...]}`` of training shapes: each generated shape's
    distance to its nearest one is reported (``nearest_training_chamfer`` / ``_lfd``, one per
    shape), so copies show as distances near 0; ``nearest_lfd=False`` skips the LFD of the
    training shapes (one descriptor per training shape is the slow part).

    Returns ``{name: {"chamfer": {...}, "lfd": {...}, "nearest_training_chamfer": [...], ...,
    "meshes": [...]}}``; the reference set is described once and reused.
    """
    reference = describe(reference_meshes, points, seed + 10_000, lfd, progress)
    train_description = describe(training["meshes"], points, seed + 20_000, lfd and nearest_lfd, progress) if training else None
    results = {}
    for name, value in sets.items():
        meshes = value if isinstance(value, (list, tuple)) else decode_meshes(autoencoder_model, value, resolution, progress, f"decode {name}")
        described = describe(meshes, points, seed, lfd, progress)
        result = scores_against(described, reference)
        result.pop("matrices")
        if train_description is not None:
            from .metrics import chamfer_matrix, lfd_distance_matrix

            result["nearest_training_chamfer"] = chamfer_matrix(described["clouds"], train_description["clouds"]).min(1).tolist()
            if "lfd" in train_description:
                result["nearest_training_lfd"] = lfd_distance_matrix(described["lfd"], train_description["lfd"]).min(1).tolist()
        result["empty_meshes"] = int(sum(len(m.faces) == 0 for m in meshes))
        result["meshes"] = meshes
        results[name] = result
    return results


def scores_table(results: dict) -> str:
    """A plain-text table of :func:`judge`'s scores: one row per set, COV / MMD / 1-NNA by each distance."""
    distances = [d for d in ("chamfer", "lfd") if any(d in r for r in results.values())]
    header = f"{'set':34s}" + "".join(f"{'COV-' + d:>12s}{'MMD-' + d:>12s}{'1-NNA-' + d:>14s}" for d in distances)
    header += f"{'nearest train (CD)':>20s}" if any("nearest_training_chamfer" in r for r in results.values()) else ""
    lines = [header]
    for name, r in results.items():
        row = f"{name:34s}" + "".join(f"{r[d]['cov']:12.3f}{r[d]['mmd']:12.5g}{r[d]['1-nna']:14.3f}" for d in distances)
        if "nearest_training_chamfer" in r:
            row += f"{np.median(r['nearest_training_chamfer']):20.5f}"
        lines.append(row)
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Shipping (the lifecycle itself is tutorial_lib.shipping's)
# --------------------------------------------------------------------------------------------


def to_ship(gan: LatentGan, profile: Profile):
    """Only the generator is shipped: sampling needs nothing else, and the critic is as large again."""
    return gan.generator, {}


def shipped_manifest(generator: Generator, history: History, profile: Profile, device, files, progress: bool = True) -> dict:
    """The GAN's part of shipping: its recipe and what its training ended at (scores: ``benchmarks/bench_gan.py``)."""
    wasserstein = history.metrics.get("wasserstein", [])[-50:]
    return {
        "recipe": {"method": "WGAN-GP on the autoencoder's training z (IM-GAN)", **asdict(profile.gan), "width": generator.config["width"],
                   "penalty_weight": PENALTY_WEIGHT, "noise_std": generator.config["noise_std"], "adam_betas": list(ADAM_BETAS)},
        "architecture": {"generator": generator.config, "critic": history.record["architecture"]["critic"]},
        "contents": "generator only (float16); the critic is needed for training, not for sampling, and is not shipped",
        "training_shapes": history.record["training_shapes"],
        "final_generator_loss": float(np.mean(history.loss[-50:])) if history.loss else None,
        "final_wasserstein_estimate": float(np.mean([v for _, v in wasserstein])) if wasserstein else None,
        "summary": f"generator of z for the autoencoder z {history.record['autoencoder_z']}, {history.step[-1] if history.step else 0} steps",
    }  # fmt: skip


def timed(fn, *args, **kwargs):
    """``(result, seconds)`` of one call (for the benchmarks and the notebook's tables)."""
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


__all__ = [
    "PENALTY_WEIGHT", "make_gan", "gradient_penalty", "wgan_gp_step", "RealBatches", "train_gan_on", "train_gan", "interpolation_weights",
    "interpolate", "gaussian_baseline", "nearest_z_distances", "z_scores", "decode_meshes", "surface_clouds", "describe", "scores_against",
    "judge", "scores_table", "to_ship", "shipped_manifest", "timed",
]  # fmt: skip
