"""What a network sees: activation maximisation and DeepDream on any module's layer.

Training changes the weights so that the network's output moves towards the labels. Here the
weights stay fixed and the *picture* changes: the same backpropagation gives the gradient of
a chosen number (a class score, one channel of a layer, one number of z) with respect to the
pixels, and gradient ascent raises it (Simonyan et al. 2014; Mordvintsev et al., "Inceptionism",
2015; Olah et al., "Feature Visualization", Distill 2017).

* :func:`layer_names`, :func:`get_layer`, :func:`record_activations` – pick a layer by its
  name (``"net.layer1"``) and read what it outputs (a forward hook that is always removed).
* :func:`objective` – the number to raise: a class score, a channel's mean, a unit, or a
  layer's mean squared activation (DeepDream's "make whatever you see stronger");
  :func:`closeness` – how near an output (a z) is to a target.
* :func:`dream` – gradient ascent on the input, with the regularisers that keep the picture
  readable, each one switchable in :class:`DreamSettings`: random jitter, blur, total
  variation, octaves (scales), normalised steps, clamping to the image range.
* :func:`visualise_class` – from noise to "what the network calls a chair".
* :func:`deep_dream` – amplify a layer's activations in a given picture.
* :func:`dream_shapes` – the strongest prior: dream a *shape* instead of pixels. The picture
  is a rendering of the autoencoder's decoded z (:func:`picture_of_z`), from a new random view
  at every step, and z is kept where the training shapes' z live (:class:`ZPrior`); what the
  classifier asks for must then be a 3D object that reads as the class from every side
  (a generator as the prior: Nguyen et al. 2016).

Inputs are grey images ``[1, 1, H, W]`` in [0, 1] (white background = 1), as the networks of
this tutorial read them. Everything runs on the CPU; with the same seed the result is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import training

# --------------------------------------------------------------------------------------------
# Layers and their activations
# --------------------------------------------------------------------------------------------


def layer_names(model: nn.Module) -> list[str]:
    """The names of every sub-module of ``model`` (what :func:`get_layer` accepts), in order."""
    return [name for name, _ in model.named_modules() if name]


def get_layer(model: nn.Module, name: str) -> nn.Module:
    """The sub-module called ``name`` (dotted, as ``model.named_modules()`` names it: ``nn.Module.get_submodule``),
    or a one-line error that lists similar names."""
    try:
        if not name:
            raise AttributeError(name)
        return model.get_submodule(name)
    except AttributeError:
        close = [n for n in layer_names(model) if name.split(".")[-1] in n][:8]
        raise ValueError(f"{type(model).__name__} has no layer {name!r}" + (f"; similar names: {close}" if close else "")) from None


@contextmanager
def record_activations(model: nn.Module, names: str | list[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Within the ``with`` block, every forward pass stores the output of the named layers.

    ``with record_activations(model, "net.layer1") as seen: model(x)`` leaves the output in
    ``seen["net.layer1"]`` (with its gradient graph: it can be differentiated). The hooks are
    removed when the block ends, also after an error, so the model runs as fast as before.
    """
    names = [names] if isinstance(names, str) else list(names)
    seen: dict[str, torch.Tensor] = {}
    handles = []
    try:
        for name in names:
            layer = get_layer(model, name)
            handles.append(layer.register_forward_hook(lambda module, inputs, output, name=name: seen.__setitem__(name, output)))
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def objective(kind: str, index: int | tuple[int, ...] | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """The number to raise, computed from a layer's output ``[B, ...]``, one value per picture.

    * ``"class"`` / ``"unit"``: output ``[:, index]`` (a class score before the softmax, one
      number of z); for a feature map ``[B, C, H, W]`` a unit is ``index = (c, y, x)``. For
      ``"class"`` and ``"log_probability"`` a list of indices gives one class per picture;
    * ``"log_probability"``: the log of the softmax probability of class ``index`` (raising
      it also lowers the other classes' scores, where a raw class score can grow with all of them);
    * ``"channel"``: the mean of channel ``index`` of a feature map ``[B, C, H, W]``;
    * ``"energy"``: the mean squared activation of the whole layer (DeepDream: whatever the layer
      already sees a little of, it should see more of).
    """
    if kind in ("class", "log_probability") and index is not None and not isinstance(index, int):
        # one class per picture of the batch: dream all the categories at once
        per_picture = torch.as_tensor(list(index), dtype=torch.long)
        pick = (lambda output: output) if kind == "class" else (lambda output: torch.log_softmax(output, dim=1))
        return lambda output: pick(output).gather(1, per_picture.to(output.device).view(-1, 1))[:, 0]
    if kind in ("class", "unit"):
        if index is None:
            raise ValueError(f"objective {kind!r} needs an index")
        position = (index,) if isinstance(index, int) else tuple(index)
        return lambda output: output[(slice(None), *position)]
    if kind == "channel":
        if index is None:
            raise ValueError("objective 'channel' needs an index")
        return lambda output: output[:, int(index)].flatten(1).mean(dim=1)
    if kind == "log_probability":
        if index is None:
            raise ValueError("objective 'log_probability' needs an index")
        return lambda output: torch.log_softmax(output, dim=1)[:, int(index)]
    if kind == "energy":
        return lambda output: output.pow(2).flatten(1).mean(dim=1)
    raise ValueError(f"unknown objective {kind!r}: use 'class', 'unit', 'log_probability', 'channel' or 'energy'")


def closeness(target: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Minus the squared distance between an output ``[B, D]`` and ``target`` ``[D]``: raising it moves
    the output towards the target (for example an image encoder's z towards a chosen shape's z)."""
    target = torch.as_tensor(target, dtype=torch.float32)
    return lambda output: -(output - target.to(output.device)).pow(2).flatten(1).sum(dim=1)


# --------------------------------------------------------------------------------------------
# Gradient ascent on the picture
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DreamSettings:
    """How the picture is changed; every regulariser can be switched off on its own.

    ``steps`` steps per octave of size ``step_size`` (in grey levels of [0, 1]). With
    ``normalise`` each step moves the picture by ``step_size`` times the gradient divided by its
    mean absolute value, so the step does not depend on how large the score's gradient happens
    to be; without it the step is ``step_size`` times the raw gradient. ``jitter``: shift the
    picture by up to that many pixels (at random, rolled) before each step, so no pattern can
    live on one exact pixel grid. ``blur``: every ``blur_every`` steps smooth the picture with
    a Gaussian of that width (pixels) — high frequencies the network likes but a person cannot
    see are removed. ``total_variation``: a penalty on the differences between neighbouring
    pixels (a smoother picture). ``octaves``: start at a smaller scale (``octave_scale`` per
    octave), dream, enlarge, dream again: large structures first, details last. With
    ``seen_at_full_size`` the network always reads the picture enlarged to its full size (the
    small octaves then only limit how fine the picture's details can be, and the objects keep
    the size the network learned them at); without, it reads the small picture itself, as the
    original DeepDream does. ``decay``: after every step, move each pixel that fraction of the
    way back to ``background`` (white, as behind our renderings; Yosinski et al. 2015): only
    what the gradient keeps asking for stays. ``clamp``: keep
    every pixel in [0, 1], the range of a real rendering.
    """

    steps: int = 40
    step_size: float = 0.02
    normalise: bool = True
    jitter: int = 4
    blur: float = 0.5
    blur_every: int = 4
    total_variation: float = 0.0
    octaves: int = 1
    octave_scale: float = 1.4
    seen_at_full_size: bool = False
    decay: float = 0.0
    background: float = 1.0
    clamp: bool = True

    def plain(self) -> DreamSettings:
        """The same number of steps with no regulariser at all: raw gradient ascent (clamping kept off too)."""
        return replace(self, normalise=False, jitter=0, blur=0.0, total_variation=0.0, octaves=1, decay=0.0, clamp=False)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """A Gaussian blur of ``[B, C, H, W]`` reaching 3 sigma (torchvision's ``gaussian_blur``, reflected at the borders)."""
    from torchvision.transforms.v2 import functional as TF

    if sigma <= 0:
        return images
    return TF.gaussian_blur(images, kernel_size=2 * max(1, int(3 * sigma + 0.5)) + 1, sigma=sigma)


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between horizontally and vertically neighbouring pixels, per picture."""
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().flatten(1).mean(dim=1)
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().flatten(1).mean(dim=1)
    return dx + dy


@dataclass
class DreamResult:
    """The dreamed picture ``[B, 1, H, W]`` and the objective (mean over the batch) along the way.

    ``scores[i]`` is the objective that step ``i`` climbed (of its jittered picture, at its
    octave's size); the last entry is the objective of the returned picture.
    """

    image: torch.Tensor
    scores: list[float]


def _score(model: nn.Module, layer: str | None, target: Callable, images: torch.Tensor) -> torch.Tensor:
    """The objective of every picture: ``target`` of the layer's output (of the model's output when ``layer`` is None)."""
    if layer is None:
        return target(model(images))
    with record_activations(model, layer) as seen:
        model(images)
    return target(seen[layer])


def dream(
    model: nn.Module,
    image: torch.Tensor,
    target: Callable[[torch.Tensor], torch.Tensor],
    layer: str | None = None,
    settings: DreamSettings = DreamSettings(),
    seed: int = 0,
    progress: bool = False,
    description: str = "dreaming",
) -> DreamResult:
    """Change ``image`` ``[B, 1, H, W]`` by gradient ascent so that ``target`` of ``layer``'s output grows.

    ``target`` maps the layer's output (or the model's, when ``layer`` is None) to one number per
    picture (:func:`objective`). The model's weights never change and it runs in eval mode
    (batch norm with its running statistics, as at test time); its mode and its gradients are
    given back unchanged. The random jitter comes from a generator seeded with ``seed``, so the
    same call gives the same picture. With octaves, the picture is first shrunk
    ``octaves - 1`` times by ``octave_scale`` and enlarged back step by step; the size the
    model sees must stay large enough for its layers (a ResNet: 32 pixels and up).
    """
    from tqdm.auto import tqdm

    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    height, width = image.shape[-2:]
    sizes = [(max(1, round(height / settings.octave_scale**k)), max(1, round(width / settings.octave_scale**k))) for k in reversed(range(settings.octaves))]
    picture = image.detach().to(device, torch.float32).clone()
    picture = F.interpolate(picture, size=sizes[0], mode="bilinear", align_corners=False, antialias=True) if sizes[0] != (height, width) else picture
    scores: list[float] = []
    bar = tqdm(total=settings.steps * len(sizes), desc=description, disable=not progress)
    with training.frozen(model):  # only the picture learns; the weights get no gradient at all
        try:
            for size in sizes:
                if picture.shape[-2:] != size:
                    picture = F.interpolate(picture, size=size, mode="bilinear", align_corners=False)
                for step in range(settings.steps):
                    shift = torch.randint(-settings.jitter, settings.jitter + 1, (2,), generator=generator).tolist() if settings.jitter else [0, 0]
                    picture.requires_grad_(True)
                    shifted = torch.roll(picture, shifts=shift, dims=(-2, -1))
                    seen = shifted
                    if settings.seen_at_full_size and seen.shape[-2:] != (height, width):
                        seen = F.interpolate(seen, size=(height, width), mode="bilinear", align_corners=False)
                    score = _score(model, layer, target, seen)
                    scores.append(float(score.detach().mean()))
                    gain = score.sum()
                    if settings.total_variation:
                        gain = gain - settings.total_variation * total_variation(shifted).sum()
                    (gradient,) = torch.autograd.grad(gain, picture)
                    with torch.no_grad():
                        if settings.normalise:
                            gradient = gradient / (gradient.abs().flatten(1).mean(dim=1).view(-1, 1, 1, 1) + 1e-12)
                        picture = picture.detach() + settings.step_size * gradient
                        if settings.decay:
                            picture = picture + settings.decay * (settings.background - picture)
                        if settings.blur and (step + 1) % settings.blur_every == 0:
                            picture = gaussian_blur(picture, settings.blur)
                        if settings.clamp:
                            picture = picture.clamp(0.0, 1.0)
                    bar.update()
            with torch.no_grad():
                scores.append(float(_score(model, layer, target, picture).mean()))
            picture = picture.detach()
        finally:
            bar.close()
    return DreamResult(picture.cpu(), scores)


# --------------------------------------------------------------------------------------------
# The two uses of the talk
# --------------------------------------------------------------------------------------------


def noise_picture(size: int = 128, seed: int = 0, mean: float = 0.5, spread: float = 0.1) -> torch.Tensor:
    """A grey picture ``[1, 1, size, size]`` of Gaussian noise around ``mean``, the start of a class visualisation."""
    generator = torch.Generator().manual_seed(seed)
    return (mean + spread * torch.randn(1, 1, size, size, generator=generator)).clamp(0.0, 1.0)


def visualise_class(
    model: nn.Module,
    index: int | list[int],
    size: int = 128,
    settings: DreamSettings = DreamSettings(octaves=3),
    seed: int = 0,
    kind: str = "log_probability",
    layer: str | None = None,
    start: torch.Tensor | None = None,
    progress: bool = False,
) -> DreamResult:
    """From noise to "what the network calls class ``index``": gradient ascent on a picture.

    With a list of classes, one picture per class is dreamed in one batch (each from its own noise).
    ``kind`` is the objective on the model's output (or on ``layer``'s): ``"log_probability"``
    (default, for a classifier), ``"class"`` (its raw score) or ``"unit"`` (one number of an
    image encoder's z). ``start`` replaces the noise picture (:func:`noise_picture` of ``seed``).
    """
    if start is None:
        count = 1 if isinstance(index, int) else len(index)
        start = torch.cat([noise_picture(size, seed + i) for i in range(count)])
    return dream(model, start, objective(kind, index), layer=layer, settings=settings, seed=seed, progress=progress,
                 description=f"visualising {index}")  # fmt: skip


def deep_dream(
    model: nn.Module,
    image: torch.Tensor,
    layer: str,
    settings: DreamSettings = DreamSettings(steps=20, octaves=3, blur=0.0),
    seed: int = 0,
    channel: int | None = None,
    progress: bool = False,
) -> DreamResult:
    """DeepDream: change ``image`` ``[B, 1, H, W]`` so that ``layer``'s activations grow.

    By default the objective is the layer's mean squared activation (whatever the layer
    already sees a little of, it is made to see more of); with ``channel``, that one channel's mean.
    """
    target = objective("energy") if channel is None else objective("channel", channel)
    return dream(model, image, target, layer=layer, settings=settings, seed=seed, progress=progress, description=f"dreaming {layer}")


# --------------------------------------------------------------------------------------------
# A stronger prior: dream a shape, not pixels
# --------------------------------------------------------------------------------------------


class ZPrior:
    """Where the training shapes' z live: a Gaussian with their mean and covariance.

    :meth:`distance` is the squared Mahalanobis distance of a z from that mean, divided by the
    number of dimensions: about 1 for a typical training z, larger the less a z looks like one.
    """

    def __init__(self, train_z, ridge: float = 1e-4):
        train_z = torch.as_tensor(train_z, dtype=torch.float32)
        self.mean = train_z.mean(dim=0)
        covariance = torch.cov(train_z.T) + ridge * torch.eye(train_z.shape[1])  # the ridge keeps it invertible
        self.precision = torch.linalg.inv(covariance)

    def distance(self, z: torch.Tensor) -> torch.Tensor:
        offset = z - self.mean.to(z)
        return ((offset @ self.precision.to(z)) * offset).sum(dim=1) / z.shape[1]


@dataclass(frozen=True)
class ShapeDreamSettings:
    """How :func:`dream_shapes` changes z.

    ``steps`` Adam steps of ``learning_rate`` on the logits of z (z = sigmoid of them stays in
    (0, 1), as the autoencoder's z do). ``prior``: the weight of :meth:`ZPrior.distance` in the
    loss (0: any z the decoder accepts). Each step decodes the field on a ``grid``³ grid
    (:func:`field_logits`), renders it at ``pixels``×``pixels`` with ``samples`` points per ray
    and enlarges the picture to the 128×128 crop. ``precision``: ``"auto"`` decodes in bfloat16
    where it is fast (CUDA, or a CPU with bfloat16 in hardware), ``"fp32"`` always in float32.
    """

    steps: int = 60
    learning_rate: float = 0.1
    prior: float = 0.03
    grid: int = 24
    pixels: int = 64
    samples: int = 40
    precision: str = "auto"


@dataclass
class ShapeDreamResult:
    """The dreamed z ``[B, z_dim]``; per step, the mean log-probability of the targets (each of
    its own random view) and the mean :meth:`ZPrior.distance`."""

    z: torch.Tensor
    scores: list[float]
    prior_distances: list[float]


def field_logits(decoder: nn.Module, z: torch.Tensor, grid: int) -> torch.Tensor:
    """The decoder's logits at every voxel centre of a ``grid``³ grid, ``[B, grid, grid, grid]`` (differentiable in z)."""
    from .geometry import grid_points

    points = torch.from_numpy(grid_points(grid)).to(z.device)
    return decoder(z, points[None].expand(len(z), -1, -1)).reshape(len(z), grid, grid, grid)


def picture_of_z(decoder: nn.Module, z: torch.Tensor, views, grid: int = 32, pixels: int = 128, samples: int = 64,
                 decode_in: torch.dtype | None = None) -> torch.Tensor:  # fmt: skip
    """Grey pictures ``[B, 1, 128, 128]`` of the shapes decoded from ``z`` ``[B, z_dim]``, one view ``(azimuth,
    inclination)`` each, framed like the dataset's renderings (:func:`tutorial_lib.rendering.render_logit_grid`).
    ``decode_in``: decode under autocast to that type (bfloat16); the rendering is always float32."""
    from .config import CROP_SIZE
    from .rendering import crop_rays, render_logit_grid

    with torch.autocast(z.device.type, dtype=decode_in or torch.float32, enabled=decode_in is not None):
        logits = field_logits(decoder, z, grid)
    logits = logits.float()
    rays = [part.to(z.device) for part in crop_rays(views, pixels, samples)]
    picture = render_logit_grid(logits, rays)
    return picture if pixels == CROP_SIZE else F.interpolate(picture, size=CROP_SIZE, mode="bilinear", align_corners=False)


def _decoding_precision(precision: str, device: torch.device) -> torch.dtype | None:
    from .training import resolve_precision

    return torch.bfloat16 if resolve_precision(precision, device, cpu_bf16=True) == "bf16" else None


def dream_shapes(
    classifier: nn.Module,
    decoder: nn.Module,
    classes: int | list[int],
    train_z,
    settings: ShapeDreamSettings = ShapeDreamSettings(),
    seed: int = 0,
    progress: bool = False,
) -> ShapeDreamResult:
    """From the average training shape to "what the classifier calls class c", one shape per class.

    Every class starts from the same z, the mean of ``train_z``. At every step each shape is
    rendered from its own random view (azimuth and inclination drawn from the dataset's ranges,
    :func:`tutorial_lib.rendering.random_views`), and Adam lowers ``−log p(c | picture) +
    prior · distance(z)`` (:class:`ZPrior`). The classifier reads only pictures of a 3D shape,
    so it can only ask for shapes — and, because the view changes, for shapes that read as the
    class from all sides. Neither network's weights change; both are given back in their mode.
    The views come from ``seed``: the same call gives the same z.
    """
    from tqdm.auto import tqdm

    from .rendering import random_views

    classes = [classes] if isinstance(classes, int) else list(classes)
    device = next(decoder.parameters()).device
    prior = ZPrior(train_z)
    autocast = _decoding_precision(settings.precision, device)
    rng = np.random.default_rng(seed)
    labels = torch.as_tensor(classes, device=device)
    logits_of_z = torch.logit(prior.mean.clamp(1e-4, 1 - 1e-4)).to(device).repeat(len(classes), 1).requires_grad_(True)
    optimiser = torch.optim.Adam([logits_of_z], lr=settings.learning_rate)
    scores: list[float] = []
    distances: list[float] = []
    with training.frozen(classifier, decoder):
        for _ in tqdm(range(settings.steps), desc="dreaming shapes", disable=not progress):
            z = torch.sigmoid(logits_of_z)
            views = random_views(len(classes), rng)
            pictures = picture_of_z(decoder, z, views, settings.grid, settings.pixels, settings.samples, decode_in=autocast)
            log_p = torch.log_softmax(classifier(pictures), dim=1).gather(1, labels[:, None])[:, 0]
            distance = prior.distance(z)
            loss = -log_p.sum() + settings.prior * distance.sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scores.append(float(log_p.detach().mean()))
            distances.append(float(distance.detach().mean()))
    return ShapeDreamResult(torch.sigmoid(logits_of_z).detach().cpu(), scores, distances)
