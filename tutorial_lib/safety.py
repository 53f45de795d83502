"""Hard edges: full disks, signals, two writers at once, and state files cut short.

* :class:`WriteError` – a file that could not be written (full disk, no permission, read-only
  file system), one line naming it; :func:`tutorial_lib.provenance.atomic_path` raises it.
* :func:`write_json` / :func:`read_json` – the small JSON state files kept beside data, written
  atomically; an empty or cut-short one is named, set aside and rebuilt, never parsed into
  ``Expecting value: line 1 column 1``.
* :func:`hdf5_for_writing` – an HDF5 file opened for writing so that a full disk is an error
  naming the file, not a crash when HDF5 closes it.
* :func:`writer_lock` – one writer at a time in a dataset folder (``data build``, the search
  index): a second one waits, saying for which process.
* :func:`remove_stale_partials` – the temporary files (``.NAME.PID.partial.SUFFIX``) of
  processes that no longer exist, removed.
* :func:`stop_on_signals` (the command line) and :func:`worker_setup` (worker processes):
  SIGTERM, SIGHUP and SIGINT end the whole process tree, temporary files removed on the way out.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The temporary files of the writes in progress in this process (see
#: :func:`tutorial_lib.provenance.atomic_path`): a worker stopped by a signal removes them.
LIVE_TEMPORARIES: set[Path] = set()

# --------------------------------------------------------------------------------------------
# Errors on write
# --------------------------------------------------------------------------------------------

#: Errors that mean "this file cannot be written" wherever they come from inside a write.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}
_REASONS = {
    errno.ENOSPC: "the disk is full (no space left on the device); free some space and run the same command again",
    errno.EDQUOT: "the disk quota is used up; free some space and run the same command again",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EFBIG: "the file would be larger than the file system allows",
}


def _errno_in(text: str) -> int | None:
    """The ``errno = N`` that HDF5 writes into its messages, if any."""
    found = re.search(r"errno = (\d+)", text)
    return int(found.group(1)) if found else None


def error_number(error: BaseException) -> int | None:
    """The errno of an OS error, also where HDF5 wraps it in its own message."""
    number = getattr(error, "errno", None)
    if not number and isinstance(error, (OSError, RuntimeError)):
        number = _errno_in(str(error))
    return number


class WriteError(OSError):
    """A file that could not be written (full disk, no permission, read-only file system), named in the message."""

    def __init__(self, path: str | Path, error: BaseException):
        number = error_number(error)
        super().__init__(number, os.strerror(number) if number else str(error))
        self.path = Path(path)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        self.message = f"{path}: cannot write it: {_REASONS.get(number) or (os.strerror(number) if number else first)}"

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # across processes (a worker's full disk reaches the parent with its message)
        return _rebuild_write_error, (str(self.path), self.errno, self.message)


def _rebuild_write_error(path: str, number: int | None, message: str) -> WriteError:
    error = WriteError(path, OSError(number, os.strerror(number) if number else message))
    error.message = message
    return error


def is_write_failure(error: BaseException) -> bool:
    """A full disk, a read-only file system or a refused permission (also as HDF5 reports them)."""
    if isinstance(error, WriteError):
        return False
    number = error_number(error)
    return number in WRITE_ERRNOS or (number in (errno.EACCES, errno.EPERM) and isinstance(error, OSError))


def check_writable(path: str | Path, what: str = "file", folder: bool = False) -> Path:
    """Refuse, before any work, an output path that cannot be written: a folder where a file is
    wanted (or a file where a folder is), or a parent that cannot be written in (the nearest
    existing parent must be writable, to create the rest)."""
    path = Path(path)
    if path.exists() and path.is_dir() != folder:
        raise ValueError(f"{path}: is a {'file' if folder else 'folder'}; give a {what} name")
    parent = path if folder and path.is_dir() else path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise WriteError(path, PermissionError(errno.EACCES, os.strerror(errno.EACCES)))
    return path


# --------------------------------------------------------------------------------------------
# JSON state beside data
# --------------------------------------------------------------------------------------------


def write_json(path: str | Path, value, indent: int | None = None) -> Path:
    """Write ``value`` as JSON atomically (a crash or a full disk leaves the old file, never half of one)."""
    from .provenance import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, indent=indent) + "\n")
    return Path(path)


def read_json(path: str | Path, default=None, what: str = "state file"):
    """The JSON in ``path``; ``default`` when there is no such file.

    An empty or damaged file (left by a full disk before its writes were atomic, or edited by
    hand) is not parsed into a bare ``Expecting value``: it is renamed to ``NAME.damaged``, one
    line on stderr says so, and ``default`` comes back, so the caller rebuilds what it held.
    """
    path = Path(path)
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        reason = "empty" if path.stat().st_size == 0 else f"not valid JSON ({getattr(exc, 'msg', type(exc).__name__)})"
        aside = path.with_name(path.name + ".damaged")
        os.replace(path, aside)
        print(f"{path}: the {what} is {reason}; set aside as {aside.name} and rebuilt", file=sys.stderr, flush=True)
        return default


# --------------------------------------------------------------------------------------------
# HDF5 on a full disk
# --------------------------------------------------------------------------------------------

#: Space set aside while an HDF5 file is written, freed if a write fails, so that HDF5 can
#: still close the file (it flushes when closing; a close that fails leaves objects whose
#: clean-up crashes the interpreter).
HDF5_RESERVE_BYTES = 8 * 2**20


@contextmanager
def hdf5_for_writing(tmp: str | Path, name: str | Path | None = None) -> Iterator:
    """``h5py.File(tmp, "w")`` that turns a full disk into a :class:`WriteError` naming ``name``.

    The file is opened without a chunk cache, so a failed write raises where it happens, and
    closed inside the block. When a write fails, the reserve (:data:`HDF5_RESERVE_BYTES`) is
    freed and the file truncated before HDF5 closes it, so that its last flush succeeds and no
    HDF5 object is left half-closed (which ends the process with a segmentation fault when
    Python frees it). The caller removes ``tmp`` (:func:`tutorial_lib.provenance.atomic_path`).
    """
    import h5py

    tmp, name = Path(tmp), Path(name or tmp)
    reserve = tmp.with_name(tmp.name + ".reserve")
    LIVE_TEMPORARIES.add(reserve)
    try:
        try:
            with open(reserve, "wb") as f:
                os.posix_fallocate(f.fileno(), 0, HDF5_RESERVE_BYTES)
        except OSError as exc:
            raise WriteError(name, exc) from None
        f = h5py.File(tmp, "w", rdcc_nbytes=0)
        try:
            yield f
            f.close()
        except BaseException as exc:
            reserve.unlink(missing_ok=True)
            try:
                os.ftruncate(f.id.get_vfd_handle(), 0)
            except Exception:  # noqa: BLE001  (the file may be closed already)
                pass
            try:
                f.close()
            except Exception:  # noqa: BLE001  (what matters is the first error)
                pass
            if is_write_failure(exc):
                raise WriteError(name, exc) from None
            raise
    finally:
        LIVE_TEMPORARIES.discard(reserve)
        reserve.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Leftovers of ended processes
# --------------------------------------------------------------------------------------------

PARTIAL = re.compile(r"^\..+\.(?P<pid>\d+)\.partial(\..*)?$")


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists and has not ended (a zombie has)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:3] + " "
    except (OSError, IndexError):
        return True


def remove_stale_partials(folder: str | Path, depth: int = 1) -> list[Path]:
    """Remove the temporary files (``.NAME.PID.partial.SUFFIX``) of processes that no longer exist
    in ``folder`` and its sub-folders down to ``depth``; return them."""
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            if depth > 0:
                removed += remove_stale_partials(entry, depth - 1)
            continue
        found = PARTIAL.match(entry.name)
        if found and int(found["pid"]) != os.getpid() and not process_alive(int(found["pid"])):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


# --------------------------------------------------------------------------------------------
# One writer at a time
# --------------------------------------------------------------------------------------------

LOCK_FILE = ".writer.lock"
_HELD: dict[Path, list] = {}  # folder -> [file descriptor, depth]: the locks this process holds


class FolderLocked(RuntimeError):
    """Another process is writing in the folder (``wait=False``)."""


def _holder(lock: Path) -> str:
    try:
        pid, _, rest = lock.read_text().strip().partition(" ")
        pid = int(pid)
    except (OSError, ValueError):
        return "another process"
    state = "" if process_alive(pid) else ", which has ended: its worker processes still hold the lock"
    return f"process {pid} ({rest}{state})" if rest else f"process {pid}{state}"


@contextmanager
def writer_lock(folder: str | Path, purpose: str, wait: bool = True) -> Iterator[Path]:
    """Hold the writer's lock of a dataset folder (``fcntl.flock`` on ``FOLDER/.writer.lock``).

    A second writer waits, after one line on stderr naming the holder's process id and what it
    does (``wait=False``: :class:`FolderLocked` with that line instead). The lock is the
    kernel's: it ends with the process that holds it, even after ``kill -9``. Taken again in the
    same process (the index build builds the dataset first), it is simply held deeper. Once
    held, the temporary files of ended processes in the folder are removed.
    """
    import fcntl

    folder = Path(folder).resolve()
    if folder in _HELD:
        _HELD[folder][1] += 1
        try:
            yield folder
        finally:
            _HELD[folder][1] -= 1
        return
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_FILE
    try:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise WriteError(lock, exc) from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = f"{folder}: {_holder(lock)} is writing here"
            if not wait:
                raise FolderLocked(f"{message}; wait for it to finish, or stop it") from None
            print(f"{message}; waiting for it to finish (Ctrl-C to give up)", file=sys.stderr, flush=True)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()} {purpose}, since {time.strftime('%H:%M:%S')}\n".encode(), 0)
        remove_stale_partials(folder)
        _HELD[folder] = [descriptor, 1]
        try:
            yield folder
        finally:
            del _HELD[folder]
            fcntl.flock(descriptor, fcntl.LOCK_UN)  # also for worker processes that share the descriptor
    finally:
        os.close(descriptor)


def held_folders() -> list[Path]:
    """The folders whose writer's lock this process holds."""
    return list(_HELD)


# --------------------------------------------------------------------------------------------
# Signals: the whole process tree ends
# --------------------------------------------------------------------------------------------


class Stopped(KeyboardInterrupt):
    """The command was stopped by a signal (SIGTERM, SIGHUP, SIGINT): ``signum`` says which."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


_STOPPING = False


def _stop(signum, frame) -> None:
    global _STOPPING
    end_workers(wait=0.0)
    if _STOPPING:  # a second signal while cleaning up: let the clean-up finish
        return
    _STOPPING = True
    raise Stopped(signum)


def stop_on_signals() -> None:
    """In a command's main process: SIGTERM, SIGHUP (the terminal closed) and SIGINT end the worker
    processes at once and raise :class:`Stopped` in the main thread, so that every ``finally``
    (temporary files, HDF5 files, progress bars) runs on the way out."""
    global _STOPPING
    _STOPPING = False
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup` (SIGHUP) and background jobs (SIGINT) ignore them on purpose
            signal.signal(signum, _stop)


def end_workers(wait: float = 3.0) -> None:
    """Terminate this process's worker processes (multiprocessing's children); after ``wait``
    seconds, kill those still there; then remove the temporary files they left."""
    import multiprocessing

    children = multiprocessing.active_children()
    for child in children:
        try:
            child.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    if not wait:
        return
    deadline = time.monotonic() + wait
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()
            child.join(1.0)
    for folder in held_folders():
        remove_stale_partials(folder)


def close_pool(pool) -> None:
    """Shut a ``ProcessPoolExecutor`` down from a ``finally``: normally, waiting for it; while an
    exception is on its way out (a signal, Ctrl-C, an error), without waiting. A worker ended in
    the middle of sending its result leaves the pool's manager thread waiting for the rest of the
    message forever, so waiting for that thread would hang the command."""
    if sys.exc_info()[0] is None:
        pool.shutdown(cancel_futures=True)
    else:
        pool.shutdown(wait=False, cancel_futures=True)


def pool_threads_alive() -> bool:
    """Whether a worker pool's manager thread is still running in this process (see :func:`close_pool`)."""
    import threading

    return any(type(t).__name__ == "_ExecutorManagerThread" and t.is_alive() for t in threading.enumerate())


def _parent_death_signal(signum: int) -> None:
    """Linux: deliver ``signum`` to this process when its parent ends (even by ``kill -9``)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signum), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def _worker_exit(signum, frame) -> None:
    for tmp in list(LIVE_TEMPORARIES):
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    os._exit(128 + signum)


def worker_setup() -> None:
    """The initializer of every worker pool: the worker ends, removing its temporary files, on
    SIGTERM and when its parent ends; SIGINT and SIGHUP (sent to the whole terminal's process
    group) are left to the parent, which ends the workers itself."""
    parent = os.getppid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_exit)
    _parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent:  # the parent ended before the line above
        os._exit(1)


__all__ = [
    "FolderLocked", "HDF5_RESERVE_BYTES", "LIVE_TEMPORARIES", "Stopped", "WriteError", "check_writable", "close_pool", "end_workers",
    "hdf5_for_writing", "held_folders", "is_write_failure", "pool_threads_alive", "process_alive", "read_json", "remove_stale_partials",
    "stop_on_signals", "worker_setup", "write_json", "writer_lock",
]  # fmt: skip
