"""What every benchmark shares: the lines it prints first (when, on what, how busy, with which
versions), one timer, runs side by side in their own processes, and the options every script
takes (which profile, ``--smoke``, where its results go).

A script is run as ``python benchmarks/<name>.py`` (which puts ``benchmarks/`` on the path, so
``from machine import …`` finds this file). Its options::

    --profile quick     whose shipped models and dataset are measured (default quick)
    --smoke             a check that the script runs, at toy size: the committed quick models on
                        the smoke profile's dataset (65 shapes, built under $TUTORIAL_DATA if
                        missing), a handful of shapes and steps; results into a temporary folder
    --results DIR       where its JSON goes (default benchmarks/results/)
    --device auto       cpu, cuda or auto

``tests/test_benchmarks.py`` runs every script with ``--smoke``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import multiprocessing as mp
import os
import platform
import queue as queues
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tutorial_lib.config import cpu_model

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS = REPOSITORY / "benchmarks" / "results"


# --------------------------------------------------------------------------------------------
# The machine, and one timer
# --------------------------------------------------------------------------------------------


def load_average() -> str:
    """The load average over 1, 5 and 15 minutes (``n/a`` where the system has none)."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def machine_lines(device=None) -> list[str]:
    """Markdown list lines: date, CPU (and GPU), load average now, versions, commit."""
    import numpy
    import scipy
    import torch
    import trimesh

    from tutorial_lib import provenance

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores ({usable} usable by this process), {torch.get_num_threads()} torch threads",
    ]
    if device is not None and torch.device(device).type == "cuda":
        lines.append(f"- GPU: {torch.cuda.get_device_name(torch.device(device))}")
    return lines + [
        f"- load average (1, 5, 15 min) at start: {load_average()}",
        f"- Python {platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}, torch {torch.__version__}, "
        f"trimesh {trimesh.__version__} (Embree ray casting: {trimesh.ray.has_embree})",
        f"- commit: {provenance.git_commit()}",
    ]


def best_of(repeats: int, fn, warmup: bool = False) -> float:
    """The shortest wall time of ``repeats`` calls of ``fn()``, in seconds (the one least disturbed
    by other work on the machine); ``warmup`` first makes one call that is not timed."""
    if warmup:
        fn()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def side_by_side(target, argument_lists) -> tuple[list, float]:
    """Call ``target(*arguments, queue)`` for each of ``argument_lists``, each in its own process, all at the same time.

    Each call puts its result on ``queue``; returns the results (in the order they came) and the
    wall seconds until the last. Fresh ("spawn") processes, so that each sets its own torch threads
    and sees the same machine and the same load as the others.
    """
    context = mp.get_context("spawn")
    queue = context.Queue()
    jobs = [context.Process(target=target, args=(*arguments, queue)) for arguments in argument_lists]
    started = time.time()
    for job in jobs:
        job.start()
    results = []
    for _ in jobs:
        while True:
            try:
                results.append(queue.get(timeout=5))
                break
            except queues.Empty:  # is anyone still running?
                if not any(job.is_alive() for job in jobs):
                    try:
                        results.append(queue.get(timeout=1))
                        break
                    except queues.Empty:
                        raise RuntimeError(f"a process ended without its result (exit codes {[job.exitcode for job in jobs]})") from None
    for job in jobs:
        job.join()
    return results, time.time() - started


# --------------------------------------------------------------------------------------------
# Options every script takes
# --------------------------------------------------------------------------------------------


def add_options(parser: argparse.ArgumentParser, device: str | None = "auto", profile: bool = True) -> None:
    """``--profile`` (unless ``profile`` is False), ``--smoke``, ``--results`` and (unless ``device`` is None) ``--device``."""
    if profile:
        parser.add_argument("--profile", default="quick", choices=["quick", "full"], help="whose shipped models and dataset (default quick)")
    parser.add_argument("--smoke", action="store_true",
                        help="toy size, to check that the script runs: the committed quick models on the smoke profile's dataset "
                             "(built under $TUTORIAL_DATA if missing), a handful of shapes and steps, results into a temporary folder")  # fmt: skip
    parser.add_argument("--results", type=Path, default=None, help="folder for the results JSON (default benchmarks/results/)")
    if device is not None:
        parser.add_argument("--device", default=device, help="cpu, cuda or auto")


@dataclass
class Setup:
    """What a script measures, resolved once from its options."""

    profile: object  # config.Profile whose shipped models are measured
    data_profile: object  # config.Profile whose dataset is read (the smoke profile's with --smoke)
    folder: Path  # that dataset's folder
    device: object  # torch.device
    smoke: bool
    results: Path  # folder for the results JSON

    def split(self, name: str) -> Path:
        from tutorial_lib import data

        return data.split_path(self.folder, name)


def setup(args, dataset: bool = True) -> Setup:
    """Resolve ``args`` once: profiles, the dataset (built if missing, unless ``dataset`` is False), device, results folder.

    With ``--smoke`` the models are the committed ``quick`` ones (small and always there) and the
    data the ``smoke`` profile's; results go to a fresh temporary folder unless ``--results``,
    which must then lie outside the repository (toy numbers never land among the real ones).
    A script without ``--profile`` (``add_options(profile=False)``) is given the quick profile.
    """
    from tutorial_lib import config, data

    name = getattr(args, "profile", "quick")
    profile = config.get_profile("quick" if args.smoke else name)
    data_profile = config.get_profile("smoke" if args.smoke else name)
    results = Path(args.results if args.results is not None else tempfile.mkdtemp(prefix="benchmark_") if args.smoke else RESULTS)
    if args.smoke and results.resolve().is_relative_to(REPOSITORY):
        raise SystemExit(f"--smoke --results {results}: a folder inside the repository; give one outside it (or none: a temporary folder)")
    folder = data.ensure_dataset(data_profile) if dataset else data.dataset_dir(data_profile)
    device = config.get_device(getattr(args, "device", "cpu"))
    return Setup(profile, data_profile, folder, device, args.smoke, results)


def spread(total: int, count: int | None) -> list[int]:
    """``count`` indices spread evenly over ``range(total)`` (all of them for None)."""
    import numpy as np

    if count is None or count >= total:
        return list(range(total))
    return sorted(set(np.linspace(0, total - 1, count).astype(int).tolist()))


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def file_fingerprint(path: str | Path) -> str:
    """16 hex digits of the SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def model_record(kind: str, profile, path: str | Path | None = None) -> dict:
    """What a results file records of the model it measured: its weights file and fingerprint, and
    the commit and date of its manifest (``benchmarks/report.py`` compares them with the shipped model)."""
    from tutorial_lib import config, shipping

    files = shipping.paths(kind, profile)
    weights = Path(path) if path is not None else files.weights
    manifest = json.loads(files.manifest.read_text()) if path is None and files.manifest.is_file() else {}
    try:
        shown = str(weights.resolve().relative_to(config.REPO_ROOT))
    except ValueError:
        shown = str(weights)
    return {"kind": kind, "profile": profile.name, "weights": shown, "weights_sha256": file_fingerprint(weights),
            "commit": manifest.get("commit"), "date": manifest.get("date")}  # fmt: skip


def _plain(value):
    """``value`` as plain JSON: NaN (a shape without thin parts, say) as None, numpy numbers as Python ones."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_results(setup: Setup, name: str, record: dict) -> Path:
    """Write ``record`` to ``<results folder>/<name>`` (atomically), with the machine lines; print where."""
    from tutorial_lib import provenance

    path = setup.results / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with provenance.atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_plain(record), indent=1) + "\n")
    print(f"written: {path}")
    return path


def table(header: list[str], rows: list[list], right: set[int] | None = None) -> str:
    """A markdown table; columns in ``right`` (default: all but the first) are right-aligned."""
    right = set(range(1, len(header))) if right is None else right
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---:" if i in right else "---" for i in range(len(header))) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
