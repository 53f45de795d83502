"""The networks of the tutorial, as IM-NET (Chen & Zhang 2019) and the talk describe them.

* :class:`VoxelEncoder` – 3D CNN: a 64³ voxel grid → z, 128 numbers in (0, 1).
* :class:`ImplicitDecoder` – MLP: (code z, a point p = (x, y, z)) → is the point inside the shape?
* :class:`Autoencoder` – the two together (the talk's "3D to 3D").
* :class:`ImageEncoder` – ResNet-18: one 128×128 grey image → z (the talk's "2D to 3D").
* :class:`DeepConvNet`, :func:`without_skips` – plain against residual networks, to measure
  why ResNet has skip connections (:func:`convolution_gradient_norms`).
* :class:`CategoryCNN` – a small image classifier for the CNN notebook.
* :class:`CategoryResNet` – a ResNet-18 that names the category of a rendering (notebook 06);
  it and :class:`ImageEncoder` are the same :class:`GreyResNet18` with another head.
* :class:`Generator`, :class:`Critic`, :class:`LatentGan` – the latent GAN's networks (notebook 08).

Every model keeps the arguments it was built with in ``model.config`` so that checkpoints
can rebuild it (:func:`build_model`) and refuse weights of another architecture.
:func:`shape_table` prints a layer-by-layer table of output shapes and parameter counts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import Z_DIM

IMNET_LEAKY_SLOPE = 0.02  # IM-NET's LeakyReLU slope, in the voxel encoder and the implicit decoder
#: The latent GAN's LeakyReLU slope (the common choice of DCGAN and WGAN-GP), in generator and critic.
GAN_LEAKY_SLOPE = 0.2


class VoxelEncoder(nn.Module):
    """IM-NET's 3D CNN encoder.

    Four 4³ convolutions with stride 2 halve the grid each time (64 → 32 → 16 → 8 → 4) while the
    channels grow ``width × (1, 2, 4, 8)`` (the paper: 32, 64, 128, 256); each is followed by
    instance normalisation and LeakyReLU(0.02). A last 4³ convolution without padding turns the
    4³ × 8·width block into ``z_dim`` numbers, and a sigmoid puts them in (0, 1).
    """

    def __init__(self, width: int = 32, z_dim: int = Z_DIM):
        super().__init__()
        self.config = {"width": width, "z_dim": z_dim}
        layers, channels = [], 1
        for multiple in (1, 2, 4, 8):
            layers += [
                nn.Conv3d(channels, width * multiple, kernel_size=4, stride=2, padding=1, bias=False),
                nn.InstanceNorm3d(width * multiple, affine=True),
                nn.LeakyReLU(IMNET_LEAKY_SLOPE),
            ]
            channels = width * multiple
        layers.append(nn.Conv3d(channels, z_dim, kernel_size=4, stride=1, padding=0))
        self.layers = nn.Sequential(*layers)

    def logits(self, voxels: torch.Tensor) -> torch.Tensor:
        """The numbers before the sigmoid: voxels [B, 1, 64, 64, 64] → [B, z_dim]."""
        return self.layers(voxels).flatten(1)

    def forward(self, voxels: torch.Tensor) -> torch.Tensor:
        """voxels [B, 1, 64, 64, 64] (0/1 floats) → z [B, z_dim] in (0, 1)."""
        return torch.sigmoid(self.logits(voxels))


class ImplicitDecoder(nn.Module):
    """IM-NET's implicit decoder: an MLP that answers "inside?" for any point, given z.

    Input: ``[z, p]`` (z_dim + 3 numbers): the code z, then the point p = (x, y, z) (two
    different z's: the code, and the point's third coordinate). Five fully connected layers of
    ``width × (16, 8, 4, 2, 1)`` units (the paper: 2048, 1024, 512, 256, 128) with
    LeakyReLU(0.02), and a last layer to one number. Before every inner layer the input
    ``[z, p]`` is concatenated again, so that no layer forgets which point it is asked about.

    :meth:`forward` returns logits (any real number; > 0 means inside); :meth:`occupancy`
    applies the sigmoid and returns the probability of "inside", in [0, 1].
    """

    def __init__(self, width: int = 128, z_dim: int = Z_DIM, point_init_std: float = 3.0):
        super().__init__()
        self.config = {"width": width, "z_dim": z_dim}
        skip = z_dim + 3
        sizes = [width * m for m in (16, 8, 4, 2, 1)]
        self.hidden = nn.ModuleList()
        fan_in = skip
        for i, size in enumerate(sizes):
            self.hidden.append(nn.Linear(fan_in, size))
            fan_in = size + (skip if i < len(sizes) - 1 else 0)
        self.out = nn.Linear(sizes[-1], 1)
        self.activation = nn.LeakyReLU(IMNET_LEAKY_SLOPE)
        self._init_point_weights(point_init_std)

    @torch.no_grad()
    def _init_point_weights(self, std: float) -> None:
        """Give the first layer's x, y, z weights a larger start than the default.

        A unit of the first layer bends (LeakyReLU) on the plane w·p + b = 0. With PyTorch's
        default init the 3 point weights are as small as the 128 z weights (about ±0.09) while
        the points span only ±0.5, so these planes lie far outside the unit cube: the network
        starts out almost linear in the point and sits on a long plateau, predicting "outside"
        everywhere, before it can draw thin parts. With std 3 the planes cut through the cube
        and the decoder fits a shape in a few hundred steps instead of thousands. Only the
        initial values change; the architecture is IM-NET's.
        """
        self.hidden[0].weight[:, -3:].normal_(0.0, std)

    def forward(self, z: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """z [B, z_dim], points [B, P, 3] → logits [B, P, 1].

        Every layer reads the concatenation [h, z, point]. A linear layer on a concatenation is
        the sum of linear layers on its parts: W·[h; z; p] = W_h·h + W_z·z + W_p·p. The z part is
        the same for all points of a shape, so it is computed once per shape rather than once
        per point. The result is exactly that of concatenating (same weights, same function),
        with fewer operations: the z columns are most of the first layer.
        """
        if any(layer._forward_hooks for layer in self.hidden):
            # Someone watches the layers (e.g. shape_table's hooks): call them as modules.
            return self.forward_by_concatenation(z, points)
        z_dim = z.shape[1]
        h = None
        for layer in self.hidden:
            w = layer.weight
            n_h = w.shape[1] - z_dim - 3  # columns for the previous layer's output (0 for the first layer)
            per_shape = F.linear(z, w[:, n_h : n_h + z_dim], layer.bias)[:, None, :]  # [B, 1, out]
            out = per_shape + points @ w[:, n_h + z_dim :].T  # [B, P, out]
            if h is not None:
                out = out + h @ w[:, :n_h].T
            h = self.activation(out)
        return self.out(h)

    def forward_by_concatenation(self, z: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """The same function written the direct way (concatenate, then apply each layer); for reading and testing."""
        zp = torch.cat([z[:, None, :].expand(-1, points.shape[1], -1), points], dim=-1)
        h = zp
        for i, layer in enumerate(self.hidden):
            h = self.activation(layer(h))
            if i < len(self.hidden) - 1:
                h = torch.cat([h, zp], dim=-1)
        return self.out(h)

    def occupancy(self, z: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """Probability that each point is inside, [B, P, 1]."""
        return torch.sigmoid(self.forward(z, points))

    @torch.inference_mode()
    def occupancy_at(self, z: torch.Tensor, points: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        """Probability that each point is inside one shape, for mesh extraction: z [z_dim] or [1, z_dim],
        points [P, 3] → [P].

        The same function as :meth:`occupancy` (equal up to float rounding, about 1e-7), made for
        the hundreds of thousands of points of a mesh, where the paper-size decoder's
        multiply-adds are nearly all the time:

        * the z columns and the bias of every layer are folded into one row once per call, not
          once per chunk of points;
        * each layer is one ``addmm`` into a buffer allocated once and reused for every chunk,
          followed by an in-place LeakyReLU: no temporary tensors per layer;
        * on a CPU the points go through in chunks of 4,096: a layer's output is then at most
          32 MB (the paper's widest layer), allocated once. A single pass over the 65,536 points
          :func:`~tutorial_lib.geometry.coarse_to_fine_occupancy` hands over at a time would
          allocate 512 MB for that layer alone, freshly (page faults) on every call.

        No autograd (inference mode). Layers watched by forward hooks are called as modules
        through :meth:`occupancy` instead.
        """
        z = z.reshape(1, -1)
        if any(layer._forward_hooks for layer in [*self.hidden, self.out]):
            return self.occupancy(z, points[None])[0, :, 0]
        chunk = chunk or (4096 if points.device.type == "cpu" else 65536)
        z_dim, slope = z.shape[1], self.activation.negative_slope
        layers = []  # (row for z and bias [1, out], weights of h [n_h, out], weights of p [3, out])
        for layer in self.hidden:
            w = layer.weight
            n_h = w.shape[1] - z_dim - 3
            layers.append((F.linear(z, w[:, n_h : n_h + z_dim], layer.bias), w[:, :n_h].T, w[:, n_h + z_dim :].T))
        buffers = [points.new_empty(min(chunk, len(points)), row.shape[1]) for row, _, _ in layers]
        result = points.new_empty(len(points))
        for start in range(0, len(points), chunk):
            p = points[start : start + chunk]
            h = None
            for (row, w_h, w_p), buffer in zip(layers, buffers):
                out = buffer[: len(p)]
                if h is None:
                    torch.addmm(row, p, w_p, out=out)
                else:
                    torch.addmm(row, h, w_h, out=out)
                    out.addmm_(p, w_p)
                h = F.leaky_relu_(out, slope)
            torch.sigmoid(F.linear(h, self.out.weight, self.out.bias)[:, 0], out=result[start : start + len(p)])
        return result


class Autoencoder(nn.Module):
    """Voxel encoder + implicit decoder: the talk's "3D to 3D reconstruction"."""

    def __init__(self, encoder_width: int = 32, decoder_width: int = 128, z_dim: int = Z_DIM):
        super().__init__()
        self.config = {"encoder_width": encoder_width, "decoder_width": decoder_width, "z_dim": z_dim}
        self.encoder = VoxelEncoder(encoder_width, z_dim)
        self.decoder = ImplicitDecoder(decoder_width, z_dim)

    def forward(self, voxels: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """Logits of "inside" for ``points`` of the shapes in ``voxels``."""
        return self.decoder(self.encoder(voxels), points)


class GreyResNet18(nn.Module):
    """torchvision's ResNet-18 for one grey 128×128 picture, with ``outputs`` numbers out.

    ``weights=None``: every weight is trained here, nothing is downloaded. Two changes adapt it
    to our pictures: the first convolution takes 1 channel (grey renderings) instead of 3 (RGB
    photos), and the head (1000 ImageNet classes) gives ``outputs`` numbers. Below torchvision's
    width (64 channels in the first stage) the same network at fewer channels per stage: the
    same depth, blocks and skips, for quick CPU runs. At 128×128 the stem (7×7 stride-2
    convolution, max-pool) gives 32×32 feature maps, the four residual stages 32 → 16 → 8 → 4,
    and global average pooling a vector of ``8 × width`` numbers.
    """

    def __init__(self, outputs: int, width: int = 64):
        super().__init__()
        from torchvision.models import resnet18

        net = resnet18(weights=None, num_classes=outputs)
        if width != 64:
            _narrow(net, width, outputs)
        net.conv1 = nn.Conv2d(1, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.net = net

    def head(self, images: torch.Tensor) -> torch.Tensor:
        """The network's ``outputs`` numbers for images [B, 1, 128, 128] in [0, 1]."""
        # Centre the grey values (white background = 1) so the first layer sees values around 0.
        return self.net((images - 0.5) / 0.5)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The pooled vector before the head ([B, 8 × width]): what retrieval compares."""
        net = self.net
        x = net.maxpool(net.relu(net.bn1(net.conv1((images - 0.5) / 0.5))))
        x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
        return torch.flatten(net.avgpool(x), 1)


def _narrow(net: nn.Module, width: int, outputs: int) -> None:
    """Replace a ResNet-18's stages by the same stages at ``width × (1, 2, 4, 8)`` channels."""
    from torchvision.models.resnet import BasicBlock, conv1x1

    def stage(inputs: int, channels: int, stride: int) -> nn.Sequential:
        # As torchvision builds a stage: the first block changes size (a 1×1 convolution on its skip), the second keeps it.
        downsample = nn.Sequential(conv1x1(inputs, channels, stride), nn.BatchNorm2d(channels)) if stride != 1 or inputs != channels else None
        return nn.Sequential(BasicBlock(inputs, channels, stride, downsample), BasicBlock(channels, channels))

    net.bn1 = nn.BatchNorm2d(width)
    net.layer1 = stage(width, width, 1)
    net.layer2 = stage(width, width * 2, 2)
    net.layer3 = stage(width * 2, width * 4, 2)
    net.layer4 = stage(width * 4, width * 8, 2)
    net.fc = nn.Linear(width * 8, outputs)


class ImageEncoder(GreyResNet18):
    """ResNet-18 that reads one grey 128×128 image and predicts the shape's z (the talk's "2D to 3D").

    A :class:`GreyResNet18` with ``z_dim`` outputs and a sigmoid after them, because the
    autoencoder's z lives in (0, 1).
    """

    def __init__(self, z_dim: int = Z_DIM, width: int = 64):
        super().__init__(z_dim, width)
        self.config = {"z_dim": z_dim, "width": width}

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images [B, 1, 128, 128] in [0, 1] → z [B, z_dim] in (0, 1)."""
        return torch.sigmoid(self.head(images))


class CategoryResNet(GreyResNet18):
    """ResNet-18 (the image encoder's network) that names the category of one grey 128×128 crop:
    one score (logit) per category. The shipped category classifier (``tutorial_lib.classification``)
    and the dreams of notebook 06 use it."""

    def __init__(self, num_classes: int = 13, width: int = 32):
        super().__init__(num_classes, width)
        self.config = {"num_classes": num_classes, "width": width}

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images [B, 1, 128, 128] in [0, 1] → logits [B, num_classes]."""
        return self.head(images)


# --------------------------------------------------------------------------------------------
# Why ResNet: the same layers with and without skip connections
# --------------------------------------------------------------------------------------------


class _BlockWithoutSkip(nn.Module):
    """A torchvision ``BasicBlock`` whose output is ``relu(F(x))`` instead of ``relu(F(x) + x)``."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.block
        return b.relu(b.bn2(b.conv2(b.relu(b.bn1(b.conv1(x))))))


def without_skips(model: ImageEncoder) -> ImageEncoder:
    """A copy of an image encoder with every residual connection removed (same layers, same weights)."""
    import copy

    plain = copy.deepcopy(model)
    for stage in (plain.net.layer1, plain.net.layer2, plain.net.layer3, plain.net.layer4):
        for i, block in enumerate(stage):
            block.downsample = None  # the 1×1 convolution only served the skip
            stage[i] = _BlockWithoutSkip(block)
    return plain


class DeepConvNet(nn.Module):
    """``depth`` 3×3 convolutions at one width, with or without a skip around every pair.

    The smallest model that shows why ResNets have skips: without normalisation and without
    skips, the gradient that reaches the first layers shrinks by a constant factor per layer
    and vanishes; with ``skips=True`` each pair computes ``relu(x + F(x))``, the gradient has a
    path through the additions that no layer can shrink, and every layer gets a similar share.
    A 4×4 stride-4 convolution first brings a 128×128 image down to 32×32; global average
    pooling and a linear layer with a sigmoid give z, as in :class:`ImageEncoder`.
    """

    def __init__(self, depth: int = 32, width: int = 16, skips: bool = False, batch_norm: bool = False, z_dim: int = Z_DIM):
        super().__init__()
        if depth % 2:
            raise ValueError(f"depth must be even (the skips go around pairs of layers), not {depth}")
        self.config = {"depth": depth, "width": width, "skips": skips, "batch_norm": batch_norm, "z_dim": z_dim}
        self.stem = nn.Conv2d(1, width, 4, stride=4)
        self.convs = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1) for _ in range(depth))
        self.norms = nn.ModuleList(nn.BatchNorm2d(width) if batch_norm else nn.Identity() for _ in range(depth))
        self.head = nn.Linear(width, z_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.stem((images - 0.5) / 0.5))
        for i in range(0, len(self.convs), 2):
            y = F.relu(self.norms[i](self.convs[i](h)))
            y = self.norms[i + 1](self.convs[i + 1](y))
            h = F.relu(y + h) if self.config["skips"] else F.relu(y)
        return torch.sigmoid(self.head(h.mean(dim=(2, 3))))


def convolution_gradient_norms(model: nn.Module, loss_fn, batch) -> list[tuple[str, float]]:
    """(name, ‖∂loss/∂weights‖) of every convolution that gets a gradient, from input to output.

    One forward and backward pass of ``loss_fn(model, batch)`` in training mode; the model's
    gradients are cleared before and after.
    """
    model.train()
    model.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss = loss[0] if isinstance(loss, tuple) else loss
    loss.backward()
    norms = [(name.removesuffix(".weight"), float(p.grad.norm())) for name, p in model.named_parameters()
             if p.ndim == 4 and p.grad is not None]  # fmt: skip
    model.zero_grad(set_to_none=True)
    return norms


class CategoryCNN(nn.Module):
    """A small CNN that names the category of a grey rendering (the CNN notebook's classifier).

    Four blocks of (3×3 convolution, batch norm, ReLU, 2×2 max-pool) shrink a 128×128 image
    to 8×8 while the channels grow; global average pooling and one linear layer give one
    score per category.
    """

    def __init__(self, num_classes: int = 13, width: int = 16):
        super().__init__()
        self.config = {"num_classes": num_classes, "width": width}
        blocks, channels = [], 1
        for multiple in (1, 2, 4, 8):
            blocks += [nn.Conv2d(channels, width * multiple, 3, padding=1, bias=False), nn.BatchNorm2d(width * multiple), nn.ReLU(), nn.MaxPool2d(2)]
            channels = width * multiple
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features((images - 0.5) / 0.5).mean(dim=(2, 3)))


# --------------------------------------------------------------------------------------------
# The latent GAN's networks (tutorial_lib.gan trains them)
# --------------------------------------------------------------------------------------------


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(GAN_LEAKY_SLOPE))
    return nn.Sequential(*layers)


#: Standard deviation of the generator's noise (IM-GAN: N(0, 0.2²)).
NOISE_STD = 0.2


class Generator(nn.Module):
    """noise [B, noise_dim] → sample [B, out_dim]: two hidden layers of ``width`` units, LeakyReLU.

    ``sigmoid=True`` (the latent GAN) squeezes the output into (0, 1), where the autoencoder's z
    live; ``sigmoid=False`` (the 2-D toy of notebook 08) leaves it unbounded.
    """

    def __init__(self, noise_dim: int = Z_DIM, width: int = 2048, out_dim: int = Z_DIM, sigmoid: bool = True, noise_std: float = NOISE_STD):
        super().__init__()
        self.config = {"noise_dim": noise_dim, "width": width, "out_dim": out_dim, "sigmoid": sigmoid, "noise_std": noise_std}
        self.net = _mlp([noise_dim, width, width, out_dim])

    def noise(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``count`` noise vectors from N(0, noise_std²), on the generator's device."""
        device = next(self.parameters()).device
        return torch.randn(count, self.config["noise_dim"], generator=generator).to(device) * self.config["noise_std"]

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        out = self.net(noise)
        return torch.sigmoid(out) if self.config["sigmoid"] else out

    @torch.no_grad()
    def sample(self, count: int, seed: int | None = None) -> torch.Tensor:
        """``count`` generated samples (on the CPU), reproducible for a given ``seed``."""
        was_training = self.training
        self.eval()
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        out = self(self.noise(count, generator)).cpu()
        self.train(was_training)
        return out


class Critic(nn.Module):
    """sample [B, in_dim] → score [B]: higher means "looks real". No sigmoid (a Wasserstein critic)."""

    def __init__(self, in_dim: int = Z_DIM, width: int = 2048):
        super().__init__()
        self.config = {"in_dim": in_dim, "width": width}
        self.net = _mlp([in_dim, width, width, 1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)[:, 0]


class LatentGan(nn.Module):
    """Generator and critic together: the one module the training loop saves and resumes.

    Built from the two networks, or from their configs (as a checkpoint records them).
    """

    def __init__(self, generator: Generator | dict, critic: Critic | dict):
        super().__init__()
        self.generator = generator if isinstance(generator, Generator) else Generator(**generator)
        self.critic = critic if isinstance(critic, Critic) else Critic(**critic)
        self.config = {"generator": dict(self.generator.config), "critic": dict(self.critic.config)}


#: Every network a weights file or checkpoint may hold, by class name: :func:`build_model` rebuilds them from their config.
MODELS = {cls.__name__: cls for cls in (VoxelEncoder, ImplicitDecoder, Autoencoder, ImageEncoder, DeepConvNet, CategoryCNN, CategoryResNet,
                                        Generator, Critic, LatentGan)}  # fmt: skip


def build_model(architecture: dict) -> nn.Module:
    """Rebuild a model from what a checkpoint records: ``{"class": name, "config": {...}}``."""
    try:
        cls = MODELS[architecture["class"]]
    except KeyError:
        raise ValueError(f"unknown model class in {architecture}: expected one of {sorted(MODELS)}") from None
    return cls(**architecture["config"])


def shape_table(model: nn.Module, *inputs: torch.Tensor) -> str:
    """A table of every leaf layer: its output shape and parameter count, for the given inputs."""
    rows = []

    def hook(module, _inputs, output):
        params = sum(p.numel() for p in module.parameters(recurse=False))
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else "-"
        rows.append((name_of[module], type(module).__name__, shape, params))

    name_of = {m: n for n, m in model.named_modules()}
    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'layer':{width}s}{'type':16s}{'output shape':26s}{'parameters':>12s}"]
    lines += [f"{n:{width}s}{t:16s}{str(s):26s}{p:12,d}" for n, t, s, p in rows]
    lines.append(f"{'total':{width}s}{'':16s}{'':26s}{sum(p.numel() for p in model.parameters()):12,d}")
    return "\n".join(lines)
