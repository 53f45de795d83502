"""What the benchmarks share: the lines each prints first (when, on what, how busy, with which
versions), a best-of-n timer, and runs side by side in their own processes."""

from __future__ import annotations

import datetime
import multiprocessing as mp
import os
import platform
import time

from tutorial_lib.config import cpu_model


def machine_lines() -> list[str]:
    import numpy
    import scipy
    import torch
    import trimesh

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores ({usable} usable by this process), {torch.get_num_threads()} torch threads",
        f"- load average (1, 5, 15 min) at start: {load}",
        f"- Python {platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}, torch {torch.__version__}, "
        f"trimesh {trimesh.__version__} (Embree ray casting: {trimesh.ray.has_embree})",
    ]


def best_of(repeats: int, fn) -> float:
    """The shortest wall time of ``repeats`` calls of ``fn()``, in seconds."""
    times = []
    for _ in range(repeats):
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
    results = [queue.get() for _ in jobs]
    for job in jobs:
        job.join()
    return results, time.time() - started
