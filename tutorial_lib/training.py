"""One small training loop that every model of the tutorial uses.

    history = train(model, optimizer, loss_fn, batches, RunOptions(steps=2000, checkpoint="runs/ae.pt"))

* :class:`RunOptions` is how to run (steps, device, seed, checkpoint, time limit, precision,
  progress, a callback): what a notebook or the command line chooses; the recipe that calls
  :func:`train` chooses the model, optimiser, schedule (:func:`cosine_schedule`) and loss.
* ``batches(step)`` returns the batch for a step (see :class:`EpochBatches`), and ``loss_fn(model,
  batch)`` returns the loss (or ``(loss, {"name": value, ...})`` to log more numbers).
* A ``tqdm`` progress bar shows the running loss; :class:`History` keeps every logged number
  so a notebook can plot it, live through ``RunOptions.callback``.
* With a ``checkpoint`` the run saves itself every ``checkpoint_every`` steps and at the end,
  and a later call with the same path continues where it stopped. Ctrl-C, or a SIGTERM (what
  ``kill`` and job schedulers send), saves at the current step before the run stops and raises
  :class:`TrainingInterrupted`, which says where the checkpoint is. Beside the checkpoint,
  ``<checkpoint>.history.json`` holds the run's settings and every logged number (loss,
  metrics, seconds per step), so curves can be drawn after the run; ``tensorboard_dir``
  also writes them for TensorBoard (needs the ``tensorboard`` package).
* A checkpoint is plain tensors and values, read with ``torch.load(weights_only=True)``:
  a checkpoint file cannot run code. ``record=`` (seed, recipe, dataset fingerprint, …) is
  stored in it, and resuming with a different record is refused: a run never continues on
  other data or settings than it started with.
* ``precision`` (:func:`resolve_precision`, one rule for every recipe): ``"auto"`` trains in
  bfloat16 autocast with TF32 matrix products on CUDA, and on a CPU in bfloat16 only for the
  recipes that opt in where the CPU has it in hardware, else in float32 (``"bf16"`` or
  ``"fp32"`` force one; ``"fp32"`` also turns TF32 off).
* Launched by ``torchrun`` (see :mod:`tutorial_lib.distributed`), the loop runs data-parallel:
  DistributedDataParallel, each rank a consecutive share of the same global batch, rank 0
  alone writing checkpoints, history and the progress bar.

Resuming is exact, not approximate: before every step the loop reseeds torch from
``(seed, step)``, and :class:`EpochBatches` derives each epoch's order from ``(seed, epoch)``.
So everything random in step ``s`` (which shapes, which points, which crops) depends on ``s``
alone, and an interrupted run that resumes ends with the same weights as one that did not stop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import distributed
from .provenance import CheckpointError, atomic_path, load_state

__all__ = [
    "CheckpointError",
    "EpochBatches",
    "History",
    "RunOptions",
    "TrainingInterrupted",
    "cosine_schedule",
    "load_checkpoint",
    "resolve_precision",
    "save_checkpoint",
    "train",
]


#: The default device of the library's functions (a notebook or the CLI resolves "auto" once: config.get_device).
CPU = torch.device("cpu")


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during :func:`train`, after the checkpoint was saved at ``step``."""

    def __init__(self, checkpoint: Path | None, step: int, reason: str = ""):
        self.checkpoint, self.step = checkpoint, step
        where = f"checkpoint saved at step {step}: {checkpoint}" if checkpoint else f"stopped at step {step} (no checkpoint)"
        super().__init__(f"{reason or 'interrupted'}; {where}")


@dataclass
class History:
    """Everything a run logged: per-step loss and time, and any named metrics."""

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # wall time since the run started (summed over resumes)
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # name -> [(step, value)]

    def log(self, step: int, loss: float, seconds: float, **metrics: float) -> None:
        self.step.append(step)
        self.loss.append(loss)
        self.seconds.append(seconds)
        for name, value in metrics.items():
            self.metrics.setdefault(name, []).append((step, float(value)))

    def log_metrics(self, step: int, **metrics: float) -> None:
        for name, value in metrics.items():
            self.metrics.setdefault(name, []).append((step, float(value)))

    def smoothed_loss(self, window: int = 20) -> np.ndarray:
        loss = np.asarray(self.loss, dtype=float)
        if len(loss) < window:
            return loss
        kernel = np.ones(window) / window
        head = np.cumsum(loss[: window - 1]) / np.arange(1, window)
        return np.concatenate([head, np.convolve(loss, kernel, mode="valid")])

    def to_dict(self) -> dict:
        return {"step": self.step, "loss": self.loss, "seconds": self.seconds, "metrics": self.metrics}

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(list(d["step"]), list(d["loss"]), list(d["seconds"]), {k: [tuple(x) for x in v] for k, v in d["metrics"].items()})

    def plot(self, ax=None, x: str = "step", log_y: bool = True, label: str = "training loss"):
        """Loss against ``"step"`` or ``"seconds"``, raw (faint) and smoothed."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        xs = self.step if x == "step" else self.seconds
        ax.plot(xs, self.loss, alpha=0.25, color="C0")
        ax.plot(xs, self.smoothed_loss(), color="C0", label=label)
        ax.set_xlabel("step" if x == "step" else "seconds")
        ax.set_ylabel("loss")
        if log_y and len(self.loss) and min(self.loss) > 0:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
        return ax


class EpochBatches:
    """``batches(step)`` for a map-style dataset: shuffled epochs of ``batch_size`` items.

    The order of epoch ``e`` is a permutation seeded by ``(seed, e)``, so the batch of any
    step can be recomputed at any time (which is what makes resuming exact). Items are
    collated with ``torch.utils.data.default_collate``.
    """

    def __init__(self, dataset, batch_size: int, seed: int = 0, drop_last: bool = True):
        if len(dataset) == 0:
            raise ValueError("the dataset is empty")
        self.dataset = dataset
        self.batch_size = min(batch_size, len(dataset))
        self.seed = seed
        self.per_epoch = len(dataset) // self.batch_size if drop_last else math.ceil(len(dataset) / self.batch_size)
        self._epoch, self._order = -1, None

    def order(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._order = epoch, torch.randperm(len(self.dataset), generator=generator)
        return self._order

    def indices(self, step: int) -> list[int]:
        epoch, position = divmod(step, self.per_epoch)
        return self.order(epoch)[position * self.batch_size : (position + 1) * self.batch_size].tolist()

    def __call__(self, step: int):
        return torch.utils.data.default_collate([self.dataset[i] for i in self.indices(step)])


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor in a (nested) batch to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def architecture_of(model: torch.nn.Module) -> dict:
    """What a checkpoint records about a model to recognise it: its class and constructor config."""
    return {"class": type(model).__name__, "config": dict(getattr(model, "config", {}))}


def save_checkpoint(path: str | Path, model, optimizer=None, scheduler=None, step: int = 0, history: History | None = None, **extra) -> None:
    """Save atomically (write to a temporary file, then rename): an interrupt never corrupts it."""
    state = {
        "architecture": architecture_of(model),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "step": step,
        "history": history.to_dict() if history is not None else None,
        **extra,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def history_path(checkpoint: str | Path) -> Path:
    """Where a run's history is written as JSON: beside its checkpoint."""
    return Path(f"{checkpoint}.history.json")


def write_history(checkpoint: str | Path, history: History, record: dict | None = None) -> Path:
    """The run's settings and every logged number as JSON (readable without torch)."""
    path = history_path(checkpoint)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"record": record or {}, **history.to_dict()}) + "\n")
    return path


def read_history(path: str | Path) -> History:
    """A :class:`History` from ``<checkpoint>.history.json`` (or from the checkpoint itself)."""
    path = Path(path)
    if path.suffix == ".json":
        return History.from_dict(json.loads(path.read_text()))
    state = load_checkpoint(path)
    return History.from_dict(state["history"]) if state.get("history") else History()


def load_checkpoint(path: str | Path, model=None, optimizer=None, scheduler=None, map_location="cpu") -> dict:
    """Load a checkpoint, into ``model`` (and optimizer, scheduler) when given.

    Raises :class:`CheckpointError` naming the file when the checkpoint was made for another
    architecture (another class, other widths), instead of a wall of size-mismatch errors.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    state = load_state(path, map_location=map_location)
    if model is not None:
        expected, found = architecture_of(model), state.get("architecture", {})
        if expected != found:
            raise CheckpointError(f"{path}: made for {found}, but the model is {expected}")
        if any(v.dtype == torch.float16 for v in state["model"].values() if torch.is_tensor(v)):
            state["model"] = {k: v.float() if torch.is_tensor(v) and v.is_floating_point() else v for k, v in state["model"].items()}
        model.load_state_dict(state["model"])
        if optimizer is not None and state.get("optimizer") is not None:
            optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
    return state


def _interrupt_on_sigterm(signum, frame):
    raise KeyboardInterrupt(f"stopped by signal {signum}")


@dataclass(frozen=True)
class RunOptions:
    """How to run a training: what a notebook or the command line chooses (the recipe chooses the rest).

    ``steps`` None means the profile's; ``precision`` ``"auto"`` is resolved by
    :func:`resolve_precision` for the device and the recipe; ``device`` is a ``torch.device``
    (resolve a name once, with :func:`tutorial_lib.config.get_device`).
    """

    steps: int | None = None
    device: torch.device = CPU
    seed: int = 0
    checkpoint: str | Path | None = None  # save every checkpoint_every steps, at the end and on Ctrl-C; resume from it
    checkpoint_every: int = 200
    max_seconds: float | None = None  # stop early (a checkpoint lets a later run continue)
    precision: str = "auto"
    evaluate_every: int = 0  # run the recipe's evaluation every N steps (0: only at the end, if it has one)
    callback: Callable[[History, int], None] | None = None  # e.g. a live plot, every callback_every steps
    callback_every: int = 50
    progress: bool = True
    tensorboard_dir: str | Path | None = None

    def with_default_steps(self, steps: int) -> RunOptions:
        """These options with ``steps`` where they leave the number of steps to the profile."""
        return self if self.steps is not None else dataclasses.replace(self, steps=steps)


def _resume(checkpoint, model, optimizer, scheduler, record: dict, device) -> tuple[History, int]:
    """The history and step of a checkpoint (loaded into the model, optimiser and scheduler), or a fresh start.

    A checkpoint started with another record (data, settings) is refused: a run never continues
    on other data or settings than it started with.
    """
    if checkpoint is None or not Path(checkpoint).exists():
        return History(), 0
    state = load_checkpoint(checkpoint, model, optimizer, scheduler, map_location=device)
    stored = state.get("record")
    if stored is not None and stored != record:
        changed = sorted(k for k in set(stored) | set(record) if stored.get(k) != record.get(k))
        raise CheckpointError(
            f"{checkpoint}: this run was started with other settings ({', '.join(f'{k}={stored.get(k)!r}' for k in changed)}; "
            f"now {', '.join(f'{k}={record.get(k)!r}' for k in changed)}); resume with the same ones, or use another --checkpoint"
        )
    return (History.from_dict(state["history"]) if state.get("history") else History()), state["step"]


def _step(model, optimizer, scheduler, compute_loss, batch, autocast, clip_grad_norm) -> tuple[torch.Tensor, dict]:
    """One optimiser step on one batch; returns the loss and the recipe's logged numbers."""
    with autocast:
        out = compute_loss(batch)
    loss, metrics = out if isinstance(out, tuple) else (out, {})
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return loss, metrics


def train(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable,
    batches: Callable[[int], Any],
    run: RunOptions,
    *,
    scheduler=None,
    evaluate: Callable[[torch.nn.Module], dict] | None = None,
    record: dict | None = None,
    description: str = "training",
    clip_grad_norm: float | None = None,
) -> History:
    """Train ``model`` for ``run.steps`` optimiser steps (or until ``run.max_seconds``) and return its :class:`History`.

    If ``run.checkpoint`` exists, the run resumes from it (model, optimiser, scheduler, step,
    history); it is saved every ``run.checkpoint_every`` steps, at the end, and on Ctrl-C.
    ``evaluate(model) -> {name: value}`` runs every ``run.evaluate_every`` steps (in eval mode,
    no gradients) and at the end; its numbers go into ``history.metrics``. ``record`` (plain
    values: recipe, dataset fingerprint, …) is saved with the checkpoint together with the seed;
    resuming a checkpoint whose record differs raises :class:`CheckpointError`. Under
    ``torchrun`` the run is data-parallel (:mod:`tutorial_lib.distributed`).
    """
    from tqdm.auto import tqdm

    if run.steps is None:
        raise ValueError("RunOptions.steps is None: the recipe sets the profile's number of steps before calling train")
    steps, checkpoint, seed = run.steps, run.checkpoint, run.seed
    device = distributed.local_device(run.device)
    autocast = precision_context(resolve_precision(run.precision, device), device)
    main = distributed.is_main()  # rank 0 (or the only process) writes files and shows progress
    record = {"seed": seed, **(record or {})}
    model.to(device)
    history, start_step = _resume(checkpoint, model, optimizer, scheduler, record, device)
    history.record = record  # what the run was started with, for the manifest (not part of the saved history)
    elapsed_before = history.seconds[-1] if history.seconds else 0.0
    writer = _tensorboard_writer(run.tensorboard_dir) if run.tensorboard_dir is not None and main else None
    logged_to_tensorboard = len(history.step)

    def save(step: int) -> None:
        nonlocal logged_to_tensorboard
        if checkpoint is not None and main:
            save_checkpoint(checkpoint, model, optimizer, scheduler, step, history, seed=seed, record=record)
            write_history(checkpoint, history, record)
        if writer is not None:
            logged_to_tensorboard = _write_tensorboard(writer, history, logged_to_tensorboard)

    def run_evaluation(step: int) -> None:
        if evaluate is None or not main:
            return
        model.eval()
        with torch.no_grad():
            history.log_metrics(step, **evaluate(model))
        model.train()

    # A SIGTERM becomes a KeyboardInterrupt, so that `kill` saves like Ctrl-C does (signal
    # handlers can only be set from the main thread).
    previous_handler = None
    if checkpoint is not None and threading.current_thread() is threading.main_thread():
        previous_handler = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)

    started = time.time()
    step = start_step
    bar = tqdm(total=steps, initial=start_step, desc=description, disable=not (run.progress and main), dynamic_ncols=True)
    running = None
    model.train()
    # Under torchrun the loss goes through DistributedDataParallel, which averages the gradients.
    compute_loss = distributed.wrap(model, loss_fn, device) if distributed.is_distributed() else (lambda batch: loss_fn(model, batch))
    try:
        while step < steps:
            if run.max_seconds is not None and distributed.any_rank(time.time() - started > run.max_seconds, device):
                break
            # Every random choice of this step depends on (seed, step) only: resume is exact.
            # Every rank draws the same global batch and keeps its share of it.
            torch.manual_seed(seed * 1_000_003 + step)
            batch = to_device(distributed.shard(batches(step)), device)
            loss, metrics = _step(model, optimizer, scheduler, compute_loss, batch, autocast, clip_grad_norm)
            step += 1
            value = float(distributed.mean_over_ranks(loss.detach()))  # the global batch's loss
            if not math.isfinite(value):
                raise FloatingPointError(f"loss became {value} at step {step}; lower the learning rate")
            metrics = {k: float(distributed.mean_over_ranks(v.detach())) if torch.is_tensor(v) else float(v) for k, v in metrics.items()}
            history.log(step, value, elapsed_before + time.time() - started, **metrics)
            running = value if running is None else 0.95 * running + 0.05 * value
            bar.update()
            bar.set_postfix(loss=f"{running:.4g}")
            if run.evaluate_every and step % run.evaluate_every == 0 and step < steps:
                run_evaluation(step)
            if run.callback is not None and main and step % run.callback_every == 0:
                run.callback(history, step)
            if checkpoint is not None and step % run.checkpoint_every == 0:
                save(step)
    except KeyboardInterrupt as interrupt:
        save(step)
        bar.close()
        raise TrainingInterrupted(Path(checkpoint) if checkpoint is not None else None, step, str(interrupt)) from None
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
        if writer is not None:
            writer.flush()
    bar.close()
    if step > start_step:
        run_evaluation(step)
    if run.callback is not None and main:
        run.callback(history, step)
    save(step)
    distributed.barrier()  # every rank returns once rank 0 has written the final checkpoint
    model.eval()
    return history


def cosine_schedule(optimizer: torch.optim.Optimizer, steps: int, floor: float = 0.01):
    """The learning rate decays from its start to ``floor`` times it along half a cosine over ``steps`` steps
    (``torch.optim.lr_scheduler.CosineAnnealingLR``): large steps first, small ones to settle."""
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=floor * optimizer.param_groups[0]["lr"])


@contextlib.contextmanager
def frozen(*models: torch.nn.Module):
    """Inside: the models in eval mode and their weights without gradients; after: both as they were.

    For optimising an input through fixed networks (a picture in DeepDream, a z fitted to a
    shape): only the input learns, and no weight gradient is computed or kept.
    """
    states = [(m, m.training, [p.requires_grad for p in m.parameters()]) for m in models]
    try:
        for model in models:
            model.eval()
            for p in model.parameters():
                p.requires_grad_(False)
        yield
    finally:
        for model, was_training, flags in states:
            model.train(was_training)
            for p, flag in zip(model.parameters(), flags):
                p.requires_grad_(flag)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX). There, autocast to
    bfloat16 trains the quick autoencoder and image encoder several times faster than float32
    (``benchmarks/compare_training.py``); elsewhere bfloat16 is emulated and slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


PRECISIONS = ("auto", "bf16", "fp32")


def resolve_precision(precision: str, device: torch.device, cpu_bf16: bool = False) -> str:
    """``"bf16"`` or ``"fp32"``: what ``precision`` means on ``device``, the one rule for every recipe.

    ``"auto"`` is bfloat16 on CUDA; on a CPU it is bfloat16 only for a recipe that opts in
    (``cpu_bf16``) on a CPU that multiplies bfloat16 in hardware (:func:`cpu_has_native_bf16`),
    float32 otherwise. ``"bf16"`` and ``"fp32"`` are taken as given.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    if device.type == "cuda" or (device.type == "cpu" and cpu_bf16 and cpu_has_native_bf16()):
        return "bf16"
    return "fp32"


def precision_context(precision: str, device: torch.device):
    """The autocast context of a resolved ``precision`` (``"bf16"`` or ``"fp32"``) on ``device``; sets the TF32 flags on CUDA.

    bfloat16 has float32's range, so no loss scaling is needed (unlike float16); the losses
    themselves are computed in float32 by autocast. ``"bf16"`` on CUDA also lets the remaining
    float32 matrix products and convolutions use TF32; ``"fp32"`` turns TF32 off, for exact
    float32 measurements.
    """
    precision = resolve_precision(precision, device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = precision == "bf16"
        torch.backends.cudnn.allow_tf32 = precision == "bf16"
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _tensorboard_writer(log_dir: str | Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ImportError("tensorboard_dir= needs the tensorboard package: pip install tensorboard") from None
    return SummaryWriter(log_dir=str(log_dir))


def _write_tensorboard(writer, history: History, already: int) -> int:
    """Add the steps logged since ``already`` to TensorBoard; return how many are written."""
    for i in range(already, len(history.step)):
        writer.add_scalar("loss", history.loss[i], history.step[i])
    for name, values in history.metrics.items():
        for step, value in values:
            if step > (history.step[already - 1] if already else 0):
                writer.add_scalar(name, value, step)
    return len(history.step)


def recalibrate_batch_norm(model: torch.nn.Module, batches, steps: int = 10, device: torch.device | None = None) -> None:
    """Recompute the running mean and variance of every batch-norm layer for the current weights.

    In training mode a batch-norm layer normalises with the statistics of the batch; in eval
    mode it uses running averages that it kept during training, mostly over the last ~10
    batches (momentum 0.1). While the weights still change quickly, those averages lag behind
    them, and a network that is right in training mode can be badly wrong in eval mode. This
    runs ``steps`` batches (``batches(step)`` → ``(images, ...)``, as :class:`EpochBatches`
    gives) through the network without learning and sets the running statistics to their
    plain average (``torch.optim.swa_utils.update_bn``). Nothing else changes.
    """
    torch.optim.swa_utils.update_bn((batches(step) for step in range(steps)), model, device)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
