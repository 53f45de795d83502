import numpy as np
import pytest
import torch

from tutorial_lib.training import (
    CheckpointError,
    EpochBatches,
    History,
    RunOptions,
    cosine_schedule,
    load_checkpoint,
    resolve_precision,
    save_checkpoint,
    train,
)


class NoisyLine(torch.utils.data.Dataset):
    """y = 3x + 1, with fresh noise on every read (randomness inside the dataset, as augmentation has)."""

    def __init__(self, n=64):
        self.x = torch.linspace(-1, 1, n)[:, None]

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], 3 * self.x[i] + 1 + 0.01 * torch.randn(1)


class Regressor(torch.nn.Module):
    def __init__(self, hidden=16, dropout=0.1):
        super().__init__()
        self.config = {"hidden": hidden, "dropout": dropout}
        self.net = torch.nn.Sequential(torch.nn.Linear(1, hidden), torch.nn.Dropout(dropout), torch.nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


def make(seed=0, hidden=16):
    torch.manual_seed(seed)
    model = Regressor(hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.5)
    return model, optimizer, scheduler


def test_loss_goes_down_to_the_known_solution():
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-2)
    history = train(model, optimizer, mse, EpochBatches(NoisyLine(), 16), RunOptions(steps=400, progress=False))
    assert history.loss[-1] < history.loss[0] / 100
    assert model.weight.item() == pytest.approx(3.0, abs=0.02)
    assert model.bias.item() == pytest.approx(1.0, abs=0.02)


def test_resumed_run_ends_with_the_same_weights(tmp_path):
    model, optimizer, scheduler = make()
    train(model, optimizer, mse, EpochBatches(NoisyLine(), 8, seed=3), RunOptions(steps=60, checkpoint=tmp_path / "whole.pt", progress=False, seed=3),
          scheduler=scheduler)  # fmt: skip

    first, optimizer1, scheduler1 = make()
    train(first, optimizer1, mse, EpochBatches(NoisyLine(), 8, seed=3), RunOptions(steps=25, checkpoint=tmp_path / "split.pt", progress=False, seed=3),
          scheduler=scheduler1)  # fmt: skip
    second, optimizer2, scheduler2 = make(seed=99)  # a fresh process would start from other weights
    history = train(second, optimizer2, mse, EpochBatches(NoisyLine(), 8, seed=3), RunOptions(steps=60, checkpoint=tmp_path / "split.pt", progress=False, seed=3),
                    scheduler=scheduler2)  # fmt: skip

    for a, b in zip(model.state_dict().values(), second.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert history.step == list(range(1, 61))


def test_ctrl_c_saves_and_the_run_continues(tmp_path):
    reference, optimizer, scheduler = make()
    train(reference, optimizer, mse, EpochBatches(NoisyLine(), 8), RunOptions(steps=40, progress=False), scheduler=scheduler)

    def interrupt(history, step):
        if step == 17:
            raise KeyboardInterrupt

    model, optimizer, scheduler = make()
    with pytest.raises(KeyboardInterrupt):
        train(model, optimizer, mse, EpochBatches(NoisyLine(), 8),
              RunOptions(steps=40, checkpoint=tmp_path / "c.pt", callback=interrupt, callback_every=1, progress=False), scheduler=scheduler)  # fmt: skip
    assert load_checkpoint(tmp_path / "c.pt")["step"] == 17
    model, optimizer, scheduler = make()
    train(model, optimizer, mse, EpochBatches(NoisyLine(), 8), RunOptions(steps=40, checkpoint=tmp_path / "c.pt", progress=False), scheduler=scheduler)
    for a, b in zip(reference.state_dict().values(), model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_checkpoint_of_another_architecture_is_a_clear_error(tmp_path):
    model, optimizer, _ = make(hidden=16)
    save_checkpoint(tmp_path / "h16.pt", model, optimizer, step=5)
    other, _, _ = make(hidden=32)
    with pytest.raises(CheckpointError, match=r"h16.pt: made for .*'hidden': 16.*'hidden': 32"):
        load_checkpoint(tmp_path / "h16.pt", other)
    (tmp_path / "junk.pt").write_text("no")
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_checkpoint(tmp_path / "junk.pt", other)


def test_epoch_batches_visit_every_item_once_per_epoch():
    batches = EpochBatches(list(range(10)), batch_size=3, seed=1)
    assert batches.per_epoch == 3  # the incomplete last batch is dropped
    epoch0 = sum((batches.indices(s) for s in range(3)), [])
    assert len(set(epoch0)) == 9
    assert batches.indices(3) != batches.indices(0)  # a new order every epoch
    assert EpochBatches(list(range(10)), 3, seed=1).indices(4) == batches.indices(4)  # recomputable


def test_time_budget_and_evaluation():
    model, optimizer, _ = make()
    history = train(model, optimizer, mse, EpochBatches(NoisyLine(), 8), RunOptions(steps=1000, max_seconds=0, progress=False))
    assert history.step == []
    calls = []
    history = train(model, optimizer, mse, EpochBatches(NoisyLine(), 8), RunOptions(steps=30, evaluate_every=10, progress=False),
                    evaluate=lambda m: calls.append(1) or {"w": 1.0})  # fmt: skip
    assert [s for s, _ in history.metrics["w"]] == [10, 20, 30] and len(calls) == 3


def test_history_round_trip_and_smoothing():
    h = History()
    for i in range(50):
        h.log(i + 1, float(i), 0.1 * i, accuracy=0.5)
    back = History.from_dict(h.to_dict())
    assert back.loss == h.loss and back.metrics["accuracy"][0] == (1, 0.5)
    assert np.allclose(h.smoothed_loss(10)[-1], np.mean(range(40, 50)))


def test_sigterm_saves_like_ctrl_c(tmp_path):
    import os
    import signal

    def terminate(history, step):
        if step == 13:
            os.kill(os.getpid(), signal.SIGTERM)

    model, optimizer, scheduler = make()
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt, match="signal"):
        train(model, optimizer, mse, EpochBatches(NoisyLine(), 8),
              RunOptions(steps=40, checkpoint=tmp_path / "c.pt", callback=terminate, callback_every=1, progress=False), scheduler=scheduler)  # fmt: skip
    assert load_checkpoint(tmp_path / "c.pt")["step"] == 13
    assert signal.getsignal(signal.SIGTERM) is before  # the caller's handler is back


def test_history_json_beside_the_checkpoint_and_resume_refuses_other_settings(tmp_path):
    from tutorial_lib.training import history_path, read_history

    model, optimizer, _ = make()
    train(model, optimizer, mse, EpochBatches(NoisyLine(), 8), RunOptions(steps=12, checkpoint=tmp_path / "c.pt", progress=False), record={"recipe": "a"})
    history = read_history(history_path(tmp_path / "c.pt"))
    assert history.step == list(range(1, 13)) and len(history.loss) == 12
    assert load_checkpoint(tmp_path / "c.pt")["record"] == {"seed": 0, "recipe": "a"}
    model, optimizer, _ = make()
    with pytest.raises(CheckpointError, match=r"c.pt: this run was started with other settings \(recipe='a'; now recipe='b'\)"):
        train(model, optimizer, mse, EpochBatches(NoisyLine(), 8), RunOptions(steps=20, checkpoint=tmp_path / "c.pt", progress=False), record={"recipe": "b"})


def test_checkpoints_load_without_running_code(tmp_path):
    """A pickle that would run code on load is refused: checkpoints are read with weights_only=True."""
    import os
    import pickle

    class Payload:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "ran"),))

    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"model": Payload()}, f)
    with pytest.raises(CheckpointError, match="evil.pt: not a readable tutorial_lib weights file"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not (tmp_path / "ran").exists()


def test_frozen_gives_the_models_back_in_their_mode_and_with_their_gradient_flags_even_after_an_error():
    from tutorial_lib.training import frozen

    a, b = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2)), torch.nn.Linear(2, 1)
    b.eval()
    a[0].bias.requires_grad_(False)
    before = [(m.training, [p.requires_grad for p in m.parameters()]) for m in (a, b)]
    with pytest.raises(KeyError):
        with frozen(a, b):
            assert not a.training and not a[1].training and not b.training
            assert not any(p.requires_grad for m in (a, b) for p in m.parameters())
            raise KeyError("stop")
    assert [(m.training, [p.requires_grad for p in m.parameters()]) for m in (a, b)] == before == [(True, [True, False, True, True]), (False, [True, True])]


def test_cosine_schedule_goes_from_the_rate_to_its_floor_along_half_a_cosine():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=2.0)
    schedule = cosine_schedule(optimizer, steps=10, floor=0.01)
    rates = [optimizer.param_groups[0]["lr"]]
    for _ in range(10):
        optimizer.step()
        schedule.step()
        rates.append(optimizer.param_groups[0]["lr"])
    expected = [2.0 * (0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * s / 10))) for s in range(11)]
    np.testing.assert_allclose(rates, expected, rtol=1e-9)
    assert rates[5] == pytest.approx(2.0 * 0.505)  # halfway: the mean of start and floor


def test_precision_is_resolved_by_one_rule(monkeypatch):
    import tutorial_lib.training as training

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_precision("fp32", cuda) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    assert resolve_precision("auto", cuda) == "bf16"
    monkeypatch.setattr(training, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", cpu) == "fp32"  # a recipe that does not opt in
    assert resolve_precision("auto", cpu, cpu_bf16=True) == "bf16"
    monkeypatch.setattr(training, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", cpu, cpu_bf16=True) == "fp32"  # emulated bfloat16 would be slower
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        resolve_precision("fp16", cpu)


def test_run_options_take_the_profile_steps_only_where_none_are_given():
    assert RunOptions().with_default_steps(7).steps == 7
    assert RunOptions(steps=3).with_default_steps(7).steps == 3
    with pytest.raises(ValueError, match="steps is None"):
        train(torch.nn.Linear(1, 1), torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1), mse, EpochBatches(NoisyLine(), 8), RunOptions())
