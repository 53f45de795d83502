"""Data-parallel training through PyTorch's own engine (``torchrun`` + DistributedDataParallel).

    torchrun --nproc_per_node 8 -m tutorial_lib train ae --profile full

``torchrun`` starts one process per GPU and tells each its place in the environment
(``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``). :func:`setup`
reads it and joins the process group (NCCL on CUDA, gloo on the CPU); nothing here starts
or watches processes. :func:`tutorial_lib.training.train` then wraps the model in
``DistributedDataParallel``:

* every rank computes the same global batch of step ``s`` (the batch a single process would
  use, from the same ``(seed, step)``) and keeps its own consecutive share of it
  (:func:`shard`), so the global batch and its order do not depend on the number of
  processes; DDP averages the gradients, which makes the update the single process's;
* rank 0 alone writes checkpoints, history and TensorBoard logs and shows the progress bar;
  every rank reads the checkpoint to resume.

Without ``torchrun`` (no ``WORLD_SIZE`` in the environment) everything here is a no-op and
training runs in one process as before.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

__all__ = ["is_distributed", "rank", "world_size", "is_main", "setup", "local_device", "shard", "mean_over_ranks", "any_rank", "barrier", "cleanup"]


def is_distributed() -> bool:
    """True inside a process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    """The process that writes files and prints: rank 0, or the only process."""
    return rank() == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def local_device(device: torch.device) -> torch.device:
    """The device of this process: on CUDA under torchrun, GPU number ``LOCAL_RANK``."""
    if device.type == "cuda" and device.index is None and launched_by_torchrun():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def setup(device: torch.device) -> torch.device:
    """Join torchrun's process group if launched by it; return this process's device.

    The backend follows the device: NCCL for GPUs, gloo for the CPU.
    """
    device = local_device(device)
    if launched_by_torchrun() and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return device


def cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def shard(batch, rank_: int | None = None, world_size_: int | None = None):
    """This rank's consecutive share of a (nested) global batch: rows ``[r·B/W, (r+1)·B/W)``.

    Every tensor of the batch is split along its first axis; the batch size must be divisible
    by the number of processes (so every rank's loss is a mean over the same number of items
    and DDP's average of the gradients is the gradient of the global mean).
    """
    r = rank() if rank_ is None else rank_
    w = world_size() if world_size_ is None else world_size_
    if w == 1:
        return batch
    if isinstance(batch, torch.Tensor):
        if len(batch) % w:
            raise ValueError(f"a batch of {len(batch)} cannot be split evenly over {w} processes: choose a batch size divisible by {w}")
        size = len(batch) // w
        return batch[r * size : (r + 1) * size]
    if isinstance(batch, (list, tuple)):
        return type(batch)(shard(b, r, w) for b in batch)
    if isinstance(batch, dict):
        return {k: shard(v, r, w) for k, v in batch.items()}
    return batch


def mean_over_ranks(value: torch.Tensor) -> torch.Tensor:
    """The mean of a tensor over all ranks (the global batch's loss from the ranks' losses)."""
    if not is_distributed():
        return value
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / world_size()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any (so all ranks stop at the same step)."""
    if not is_distributed():
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def barrier() -> None:
    if is_distributed():
        dist.barrier()


class LossOf(torch.nn.Module):
    """``loss_fn(model, batch)`` as a module, so DDP's forward sees the whole computation.

    The recipes' losses call parts of the model (``model.encoder``, ``model.decoder``) rather
    than ``model(...)``; DDP synchronises gradients for what runs inside its own forward, so
    it wraps this module, whose forward is the loss.
    """

    def __init__(self, model: torch.nn.Module, loss_fn):
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn

    def forward(self, batch):
        return self.loss_fn(self.model, batch)


def wrap(model: torch.nn.Module, loss_fn, device: torch.device):
    """``loss_fn`` computed through DistributedDataParallel.

    Batch-norm layers normalise with each rank's share of the batch, as in plain DDP (the image
    encoder's test-time statistics are recomputed after training anyway:
    :func:`tutorial_lib.svr.recalibrate_image_encoder`).
    """
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(LossOf(model, loss_fn), device_ids=[device.index] if device.type == "cuda" else None)
