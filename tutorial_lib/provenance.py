"""Shipped weights and their manifests: where a model came from, and which files belong together.

Every ``ship`` of the library (autoencoder, image encoder, classifier, GAN) goes through here:

* :func:`save_weights` / :func:`load_weights` – a weights file holds only tensors and plain
  values (loaded with ``torch.load(..., weights_only=True)``, so a file cannot run code), the
  model's class and constructor config, and is written to a temporary file then renamed.
* :func:`write_manifest` / :func:`read_manifest` – the JSON beside the weights: recipe,
  dataset fingerprint, commit, machine, wall time, the scores the model reached.
* :func:`array_fingerprint` – a short hash of an array (for example the training z of an
  autoencoder), so that a model trained on another model's output can say which one, and
  :func:`check_belongs_to` refuses a mismatched pair with a message naming both files.
* :func:`git_commit`, :func:`machine_description` – what goes into every manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from . import config
from .safety import LIVE_TEMPORARIES, WriteError, is_write_failure  # noqa: F401  (WriteError: re-exported)


class CheckpointError(ValueError):
    """A weights file or checkpoint that cannot be used as asked, with the file named in the message."""


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``.

    An interrupted write (Ctrl-C, kill -9, a full disk) leaves the old file, or none, never a
    half-written one. The temporary name keeps the suffix, so writers that look at it (HDF5,
    trimesh's exporters) still know the format; it is ``.NAME.PID.partial.SUFFIX``, so that a
    later run can tell the leftovers of a process that no longer exists
    (:func:`tutorial_lib.safety.remove_stale_partials`). A full disk, a refused permission or a
    read-only file system raise :class:`WriteError`, one line naming ``path``.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")  # per process: two writers never share one
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        LIVE_TEMPORARIES.add(tmp)
        yield tmp
        os.replace(tmp, path)
    except Exception as exc:
        if is_write_failure(exc):
            raise WriteError(path, exc) from None
        raise
    finally:
        LIVE_TEMPORARIES.discard(tmp)
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def git_commit() -> str:
    """The short commit of the checkout (``unknown`` outside a git checkout)."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=config.REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_description(device: torch.device | str = "cpu") -> str:
    """The GPU's name, or the CPU's name and torch's thread count."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{config.cpu_model()}, {torch.get_num_threads()} threads"


def array_fingerprint(array) -> str:
    """16 hex digits of the SHA-256 of an array's float32 bytes (C order)."""
    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.float32).tobytes()).hexdigest()[:16]


def save_weights(path: str | Path, model: torch.nn.Module, half: bool = True, **extra) -> Path:
    """Write ``model``'s weights with its class and config (and ``extra`` plain values), atomically.

    ``half`` stores floating-point tensors as float16: half the file, and the shipped models
    are evaluated from exactly these weights, so the manifest's scores are the file's scores.
    """
    state = {
        "architecture": {"class": type(model).__name__, "config": dict(getattr(model, "config", {}))},
        "model": {k: v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu() for k, v in model.state_dict().items()},
        **extra,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_state(path: str | Path, map_location="cpu") -> dict:
    """Read a weights file or training checkpoint safely (``weights_only=True``), naming the file on error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable tutorial_lib weights file ({first_line})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path}: not a tutorial_lib weights file (no 'model' entry)")
    return state


def load_weights(path: str | Path, expected_class: str | None = None) -> dict:
    """Read a weights file; its float tensors come back as float32.

    With ``expected_class`` (for example ``"Autoencoder"``), a file holding another model is
    refused with a :class:`CheckpointError` that names the file and both classes.
    """
    state = load_state(path)
    found = (state.get("architecture") or {}).get("class", "unknown")
    if expected_class is not None and found != expected_class:
        raise CheckpointError(f"{path}: holds a model of class {found}, not {expected_class}")
    state["model"] = {k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()}
    return state


def base_manifest(model_kind: str, profile_name: str, device="cpu", history=None) -> dict:
    """The fields every manifest starts with: what, which profile, when, where, from which commit."""
    manifest = {
        "model": model_kind, "profile": profile_name,
        "steps": history.step[-1] if history is not None and history.step else 0,
        "wall_time_seconds": round(history.seconds[-1], 1) if history is not None and history.seconds else 0.0,
        "device": machine_description(device), "torch": torch.__version__, "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d"),
    }  # fmt: skip
    precision = getattr(history, "record", {}).get("precision")  # as training.train resolved it ("auto" → what ran)
    if precision is not None:
        manifest["training_precision"] = precision
    return manifest


def write_manifest(path: str | Path, manifest: dict) -> Path:
    """Write a manifest as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    return Path(path)


def read_manifest(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no manifest here")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: not a JSON manifest ({exc.msg}, line {exc.lineno})") from None


def read_arrays(path: str | Path, required: tuple[str, ...] = (), what: str = "array file") -> dict:
    """Every array of an ``.npz`` file, read whole; a cut-short, damaged or foreign file raises
    :class:`CheckpointError` naming it (never a bare ``BadZipFile`` or ``EOFError``)."""
    import zipfile
    import zlib

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: a damaged or cut-short {what} ({first})") from None
    if not isinstance(arrays, dict) or any(k not in arrays for k in required):
        raise CheckpointError(f"{path}: not a {what} of this library (it holds {sorted(arrays)}, not {list(required)})")
    return arrays


def check_belongs_to(what: str, recorded: str | None, actual: str, model_file: str | Path, partner_file: str | Path) -> None:
    """Refuse a model trained on another model's output than the one it is used with.

    ``recorded`` is the fingerprint that ``model_file``'s manifest holds (None: unknown, not
    checked); ``actual`` is the fingerprint of ``partner_file``'s output.
    """
    if recorded is not None and recorded != actual:
        raise CheckpointError(
            f"{model_file}: this {what} was trained on the z of another autoencoder (fingerprint {recorded}), "
            f"not of {partner_file} ({actual}); use the files that were shipped together, or retrain it"
        )
