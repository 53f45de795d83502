"""Data-parallel training on the CPU: gloo, two processes, against one process at the same global batch.

The two ranks are started with ``torch.multiprocessing.spawn`` and join a process group the
way torchrun's environment tells them to (``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR``, ...), then
train through the same :func:`tutorial_lib.autoencoder.train_autoencoder` as a single process.
"""

import json
import os
import socket

import pytest
import torch

from tutorial_lib import distributed, training
from tutorial_lib.autoencoder import ProgressiveBatches, train_autoencoder
from tutorial_lib.config import get_profile
from tutorial_lib.models import Autoencoder
from tutorial_lib.training import RunOptions

STEPS = 6
SHAPES_PER_BATCH = 4  # the global batch: 2 shapes per rank with 2 processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(folder, checkpoint, steps):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = Autoencoder(encoder_width=4, decoder_width=8)
    # float32: the tolerances below are float32 rounding (bfloat16, "auto" on some CPUs, rounds at every layer)
    run = RunOptions(steps=steps, checkpoint=checkpoint, seed=3, progress=False, checkpoint_every=2, precision="fp32")
    train_autoencoder(get_profile("quick"), run, model=model, dataset=folder, shapes_per_batch=SHAPES_PER_BATCH)
    return model


def _rank(rank, world_size, port, folder, checkpoint, interrupt_at, log):
    os.environ.update({"WORLD_SIZE": str(world_size), "RANK": str(rank), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})  # fmt: skip
    distributed.setup(torch.device("cpu"))
    assert distributed.world_size() == world_size and distributed.rank() == rank
    save = training.save_checkpoint

    def logged_save(path, *args, **kwargs):  # which rank writes the checkpoint
        with open(log, "a") as f:
            f.write(f"{rank}\n")
        save(path, *args, **kwargs)

    training.save_checkpoint = logged_save
    if interrupt_at is not None:  # Ctrl-C (or torchrun forwarding a SIGTERM) reaches every rank at this step
        batch_of = ProgressiveBatches.__call__

        def interrupted(self, step):
            if step == interrupt_at:
                raise KeyboardInterrupt("stopped by the test")
            return batch_of(self, step)

        ProgressiveBatches.__call__ = interrupted
    try:
        model = _train(folder, checkpoint, STEPS)
        torch.save(model.state_dict(), f"{checkpoint}.rank{rank}.weights")
    except training.TrainingInterrupted as stop:
        assert interrupt_at is not None and stop.step == interrupt_at
    finally:
        distributed.cleanup()


def _spawn(folder, checkpoint, log, interrupt_at=None, world_size=2):
    torch.multiprocessing.spawn(_rank, args=(world_size, _free_port(), folder, checkpoint, interrupt_at, log), nprocs=world_size, join=True)


def test_shard_splits_every_tensor_of_a_batch_into_consecutive_shares():
    batch = (torch.arange(8), {"points": torch.arange(16).reshape(8, 2)})
    first, second = distributed.shard(batch, 0, 2), distributed.shard(batch, 1, 2)
    assert first[0].tolist() == [0, 1, 2, 3] and second[0].tolist() == [4, 5, 6, 7]
    assert second[1]["points"].tolist() == [[8, 9], [10, 11], [12, 13], [14, 15]]
    assert distributed.shard(batch, 0, 1) is batch
    with pytest.raises(ValueError, match="cannot be split evenly over 3"):
        distributed.shard(torch.arange(8), 0, 3)


def test_two_gloo_processes_train_the_single_process_weights_and_only_rank_0_writes(tmp_path, box_dataset):
    folder = box_dataset(tmp_path / "boxes", shapes=4)
    single = _train(folder, tmp_path / "single.pt", STEPS).state_dict()

    # Two processes, interrupted after 2 steps and resumed to the end (as a second torchrun would).
    checkpoint, log = tmp_path / "ddp.pt", tmp_path / "writers.log"
    _spawn(folder, checkpoint, log, interrupt_at=2)
    assert training.load_checkpoint(checkpoint)["step"] == 2
    _spawn(folder, checkpoint, log)

    # Both ranks hold the same weights (DDP averaged the same gradients into both) ...
    rank0 = torch.load(f"{checkpoint}.rank0.weights", weights_only=True)
    rank1 = torch.load(f"{checkpoint}.rank1.weights", weights_only=True)
    for name in rank0:
        torch.testing.assert_close(rank0[name], rank1[name], rtol=0, atol=0)
    # ... and the single process's, up to float rounding: each rank's gradient is the mean over
    # its 2 shapes and DDP averages the two, where one process takes the mean over 4 at once,
    # so the sums are added in another order (float32: relative differences of ~1e-7 per step).
    # Adam divides by the root of the squared gradients' average, which keeps each update near
    # the learning rate (1e-3) in size and a ~1e-7 relative change in it near 1e-10; six steps
    # stay far below 1e-5. A wrong share (another batch, or one rank's batch only) moves the
    # weights by ~1e-3 per step.
    for name in single:
        torch.testing.assert_close(rank0[name], single[name], rtol=0, atol=1e-5)

    # Rank 0 alone wrote the checkpoint: every 2 steps, on the interrupt (step 2) and at the end.
    writers = log.read_text().split()
    assert set(writers) == {"0"} and len(writers) == 5
    state = training.load_checkpoint(checkpoint)
    assert state["step"] == STEPS
    history = json.loads(training.history_path(checkpoint).read_text())
    assert history["step"] == list(range(1, STEPS + 1))
    single_history = json.loads(training.history_path(tmp_path / "single.pt").read_text())
    # The logged loss is the global batch's (the mean over ranks), as the single process logs it.
    assert history["loss"] == pytest.approx(single_history["loss"], rel=1e-4)


def test_a_wrong_share_would_fail_the_tolerance(tmp_path, box_dataset):
    """The tolerance above is meaningful: training on half of each global batch ends elsewhere."""
    folder = box_dataset(tmp_path / "boxes", shapes=4)
    whole = _train(folder, None, STEPS).state_dict()
    global SHAPES_PER_BATCH
    try:
        SHAPES_PER_BATCH = 2
        half = _train(folder, None, STEPS).state_dict()
    finally:
        SHAPES_PER_BATCH = 4
    assert max((whole[name] - half[name]).abs().max().item() for name in whole) > 1e-4
