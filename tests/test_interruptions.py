"""Killed and resumed: a build or a training run stopped by kill -9 (no chance to save) and run
again gives exactly what an uninterrupted run gives; two builds with one seed are identical.

These run the real command line in subprocesses, on a dataset of a few meshes.
"""

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
import torch
import trimesh

from tutorial_lib import data
from tutorial_lib.training import load_checkpoint

COMMAND = [sys.executable, "-m", "tutorial_lib"]


@pytest.fixture(scope="module")
def mesh_folder(tmp_path_factory):
    """Two categories of three meshes; one of the chairs is open (a box with a face missing)."""
    root = tmp_path_factory.mktemp("meshes")
    for category, make in (("chair", lambda s: trimesh.creation.box([0.5, 0.3 + 0.2 * s, 0.4])),
                           ("table", lambda s: trimesh.creation.cylinder(radius=0.3 + 0.05 * s, height=0.4)),):  # fmt: skip
        (root / category).mkdir()
        for s in range(3):
            make(s).export(root / category / f"{category}{s}.obj")
    open_box = trimesh.creation.box([0.4, 0.5, 0.4])
    open_box.update_faces(np.arange(len(open_box.faces)) > 1)  # drop one side: not watertight
    open_box.export(root / "chair" / "open_chair.obj")
    return root


def build(mesh_folder, out, **popen):
    argv = [*COMMAND, "data", "build", "--source", str(mesh_folder), "--out", str(out), "--workers", "1", "--seed", "3"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def arrays(folder):
    out = {}
    for split in data.SPLITS:
        with h5py.File(data.split_path(folder, split), "r") as f:
            for key in f:
                out[f"{split}/{key}"] = f[key][()]
    return out


def assert_same_arrays(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if a[key].dtype == object:  # variable-length meshes and strings
            assert len(a[key]) == len(b[key]) and all(np.array_equal(x, y) for x, y in zip(a[key], b[key])), key
        else:
            assert a[key].tobytes() == b[key].tobytes(), key


def wait_for(condition, process, seconds=600):
    deadline = time.time() + seconds
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the process ended before the condition held:\n{process.stderr.read()}")
        if time.time() > deadline:
            process.kill()
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_two_builds_are_identical_and_a_killed_build_resumes_to_the_same_files(mesh_folder, tmp_path):
    first = build(mesh_folder, tmp_path / "a")
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert "1 shapes repaired (kept):" in out and "open_chair: not watertight" in out  # the open mesh is reported
    second = build(mesh_folder, tmp_path / "b")
    assert second.wait(timeout=300) == 0
    assert_same_arrays(arrays(tmp_path / "a"), arrays(tmp_path / "b"))  # one seed, the same bytes

    killed = build(mesh_folder, tmp_path / "c")
    parts = tmp_path / "c" / "parts"
    wait_for(lambda: parts.is_dir() and len(list(parts.glob("*.npz"))) >= 2, killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert not data.is_complete(tmp_path / "c")
    again = build(mesh_folder, tmp_path / "c")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert_same_arrays(arrays(tmp_path / "a"), arrays(tmp_path / "c"))


@pytest.fixture(scope="module")
def small_dataset(mesh_folder, tmp_path_factory):
    folder = tmp_path_factory.mktemp("dataset")
    process = build(mesh_folder, folder)
    assert process.wait(timeout=300) == 0
    return folder


def train(small_dataset, checkpoint, steps=24):
    argv = [*COMMAND, "train", "ae", "--dataset", str(small_dataset), "--steps", str(steps), "--checkpoint", str(checkpoint),
            "--checkpoint-every", "4", "--device", "cpu", "--seed", "5"]  # fmt: skip
    # One thread: the same sums in the same order in every process, so weights compare exactly.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    # Ctrl-C as a terminal sends it, whatever pytest inherited: a shell that starts a job in the
    # background (nohup, `&` in a script) starts it with SIGINT ignored, and children inherit that.
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip


def test_training_killed_with_sigkill_resumes_to_the_same_weights(small_dataset, tmp_path):
    whole = train(small_dataset, tmp_path / "whole.pt")
    out, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err

    killed = train(small_dataset, tmp_path / "killed.pt")
    wait_for(lambda: (tmp_path / "killed.pt").exists() and load_checkpoint(tmp_path / "killed.pt")["step"] >= 8, killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    stopped_at = load_checkpoint(tmp_path / "killed.pt")["step"]
    assert 8 <= stopped_at < 24
    again = train(small_dataset, tmp_path / "killed.pt")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err

    a, b = load_checkpoint(tmp_path / "whole.pt"), load_checkpoint(tmp_path / "killed.pt")
    assert a["step"] == b["step"] == 24
    assert a["record"] == b["record"] and a["record"]["seed"] == 5 and a["record"]["dataset"]
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name


def test_ctrl_c_says_where_the_checkpoint_is_and_how_to_resume(small_dataset, tmp_path):
    run = train(small_dataset, tmp_path / "ae.pt", steps=100000)
    wait_for(lambda: (tmp_path / "ae.pt").exists(), run)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=600)
    assert run.returncode == 130
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted at step ") and f"checkpoint saved to {tmp_path / 'ae.pt'}" in last
    assert "Run the same command again to resume." in last
    step = int(last.split("interrupted at step ")[1].split(";")[0])
    assert load_checkpoint(tmp_path / "ae.pt")["step"] == step
