"""Hard edges: full disks, signals, two writers, damaged state files, corrupt indexes, giant meshes.

Each test runs the user's command (``main([...])`` in this process, or ``python -m tutorial_lib``
in a subprocess where a signal, a crash or the memory of the whole run is what is checked) and
checks the one line on stderr, the exit status, and that no file is left half-written.
"""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import trimesh
from command_line import fails_with, one_error_line  # tests/command_line.py

from tutorial_lib import autoencoder, config, data, geometry, provenance, safety, search
from tutorial_lib.__main__ import main

COMMAND = [sys.executable, "-m", "tutorial_lib"]
REPO = Path(__file__).resolve().parents[1]
QUICK = config.get_profile("quick")


def partials(folder: Path) -> list[Path]:
    """Temporary files of interrupted writes anywhere under ``folder``."""
    return [p for p in Path(folder).rglob("*") if ".partial" in p.name]


def env_with(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), **{k: str(v) for k, v in extra.items()}}
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


MEASURE = """
import json, os, subprocess, sys
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"status": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime}, f)
"""


def run_measured(argv, env, timeout=600):
    """Run a command to its end; (exit status, stdout, stderr, peak memory in MB, CPU seconds).

    The peak memory is the larger of the command's maximum resident set (from ``wait4``, exact)
    and the largest sum over its process tree of the proportional set sizes, sampled every 20 ms
    (child processes, such as the one that simplifies a giant mesh, count with their parent). The
    command is started by a small interpreter: a process forked from this one (pytest, with torch
    loaded) would count this process's memory in its own maximum until it runs the command."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, tempfile.NamedTemporaryFile("r") as report:
        wrapper = subprocess.Popen([sys.executable, "-c", MEASURE, report.name, *argv], stdout=out, stderr=err, env=env, text=True)
        deadline, tree_peak = time.monotonic() + timeout, 0
        while wrapper.poll() is None:
            if time.monotonic() > deadline:
                wrapper.kill()
                raise AssertionError(f"{argv} ran longer than {timeout} s")
            total = 0
            try:
                for member in psutil.Process(wrapper.pid).children(recursive=True):
                    try:
                        total += member.memory_full_info().pss
                    except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
                        pass
            except psutil.NoSuchProcess:
                pass
            tree_peak = max(tree_peak, total)
            time.sleep(0.02)
        measured = json.load(report)
        out.seek(0)
        err.seek(0)
        return measured["status"], out.read(), err.read(), max(measured["maxrss"] / 1024, tree_peak / 2**20), measured["cpu"]


@pytest.fixture
def quick_root(tmp_path, box_dataset, monkeypatch):
    """A data root whose "quick" dataset is three boxes per split, with a search index that
    belongs to it and to the shipped models (so `search` runs against it as it is)."""
    root = tmp_path / "data"
    monkeypatch.setenv("TUTORIAL_DATA", str(root))
    folder = box_dataset(root / "quick", shapes=3)
    codes = {s: np.random.default_rng(i).random((3, 128)).astype(np.float32) for i, s in enumerate(data.SPLITS)}
    index = search.build_index(folder, codes=codes, progress=False, workers=1)
    index.meta.update(search.profile_fingerprints(QUICK))
    index.save(search.index_path(QUICK))
    return root


@pytest.fixture(scope="module")
def mesh_folder(tmp_path_factory):
    """Two categories of three small meshes (a build of them takes a few seconds)."""
    root = tmp_path_factory.mktemp("meshes")
    for category, make in (("chair", lambda s: trimesh.creation.box([0.5, 0.3 + 0.2 * s, 0.4])),
                           ("table", lambda s: trimesh.creation.cylinder(radius=0.3 + 0.05 * s, height=0.4)),):  # fmt: skip
        (root / category).mkdir()
        for s in range(3):
            make(s).export(root / category / f"{category}{s}.obj")
    return root


def build_argv(mesh_folder, out, workers=1):
    return ["data", "build", "--source", str(mesh_folder), "--out", str(out), "--workers", str(workers), "--seed", "3"]


# --------------------------------------------------------------------------------------------
# 2. State files: written atomically; an empty or damaged one is named and rebuilt
# --------------------------------------------------------------------------------------------


def test_empty_state_files_left_by_a_full_disk_are_named_and_rebuilt(mesh_folder, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "parts").mkdir(parents=True)
    np.savez(out / "parts" / "chair_chair0.npz", junk=np.zeros(3))  # a part from a build of unknown settings
    for name in ("parts_builder.json", "failures.json", "repaired.json"):
        (out / name).write_text("")  # what a full disk left before these writes were atomic
    assert main(build_argv(mesh_folder, out)) == 0
    err = capsys.readouterr().err
    assert f"{out / 'parts_builder.json'}: the build settings file is empty; set aside as parts_builder.json.damaged and rebuilt" in err
    assert "Expecting value" not in err and "Traceback" not in err
    assert data.is_complete(out) and data.read_split(data.split_path(out, "train"), ())["names"]
    assert not partials(out)


def test_state_files_go_through_the_atomic_writer(mesh_folder, tmp_path, monkeypatch):
    """Every JSON state file of the build is written to a temporary name and renamed."""
    written = []
    real = safety.write_json
    monkeypatch.setattr(safety, "write_json", lambda path, value, indent=None: written.append(Path(path).name) or real(path, value, indent))
    broken = mesh_folder.parent / "broken_meshes"
    shutil.copytree(mesh_folder, broken, dirs_exist_ok=True)
    (broken / "chair" / "bad.obj").write_text("v 0 0 0\nnot a mesh\n")
    assert main(build_argv(broken, tmp_path / "out")) == 0
    assert {"parts_builder.json", "failures.json"} <= set(written)
    assert "chair_bad" in safety.read_json(tmp_path / "out" / "failures.json")


# --------------------------------------------------------------------------------------------
# 3. A full disk (or no permission, or a read-only disk) at every write site: one line with the path
# --------------------------------------------------------------------------------------------

FULL = OSError(errno.ENOSPC, "No space left on device")


def _fail_write_text(self, *args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("site", ["part", "state", "split"])
def test_a_full_disk_while_building_is_one_line_naming_the_file(mesh_folder, tmp_path, capsys, monkeypatch, site):
    import h5py

    out = tmp_path / "out"
    if site == "part":  # the worker's np.savez of one shape
        monkeypatch.setattr(np, "savez", lambda *a, **k: (_ for _ in ()).throw(FULL))
        expected = f"{out / 'parts'}/"
    elif site == "state":  # parts_builder.json
        monkeypatch.setattr(Path, "write_text", _fail_write_text)
        expected = f"{out / 'parts_builder.json'}: cannot write it"
    else:  # the HDF5 split, as h5py reports a failed write (errno inside its message), after its chunks are written
        real = h5py.Group.create_dataset

        def full_at_the_names(group, name, *args, **kwargs):
            if name == "names":
                raise OSError(errno.ENOSPC, "Can't synchronously write data (file write failed: errno = 28, error message = 'No space left on device')")
            return real(group, name, *args, **kwargs)

        monkeypatch.setattr(h5py.Group, "create_dataset", full_at_the_names)
        expected = f"{out / 'train.hdf5'}: cannot write it"
    line = fails_with(capsys, build_argv(mesh_folder, out), "cannot write it: the disk is full")
    assert expected in line
    assert not partials(out)
    monkeypatch.undo()  # space again: the same command finishes the build
    assert main(build_argv(mesh_folder, out)) == 0
    assert data.is_complete(out) and not partials(out)


@pytest.mark.parametrize("number, reason", [(errno.EACCES, "permission denied"), (errno.EROFS, "the file system is read-only")])
def test_other_write_errors_name_the_file(tmp_path, monkeypatch, number, reason):
    monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: (_ for _ in ()).throw(OSError(number, os.strerror(number))))
    with pytest.raises(safety.WriteError) as error:
        provenance.write_manifest(tmp_path / "model.json", {"model": "x"})
    assert str(error.value) == f"{tmp_path / 'model.json'}: cannot write it: {reason}"
    assert not partials(tmp_path)


def _small_disk(folder: Path, megabytes: int) -> str:
    """Mount a tmpfs of ``megabytes`` on ``folder`` ("tmpfs"), or, where that is not allowed, say
    so ("limit": the subprocess then limits its file size with RLIMIT_FSIZE, a real failed write too)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0 and shutil.which("mount"):
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)], capture_output=True)
        if done.returncode == 0:
            return "tmpfs"
    return "limit"


WRITE_SPLIT = """
import resource, signal, sys
import numpy as np
from tutorial_lib import data
if sys.argv[2] == "limit":
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (12 * 2**20, 12 * 2**20))
rng = np.random.default_rng(0)
def record(i):  # random pixels: they do not compress, so the file outgrows the space
    r = {"name": f"s{i}", "category": "chair", "variant": "", "voxels": rng.integers(0, 2, (64, 64, 64)).astype(bool),
         "pixels": rng.integers(0, 255, (20, 137, 137), dtype=np.uint8), "view_angles": np.zeros((20, 2), np.float32),
         "sampling_stages": np.ones(3, np.uint8), "edge_counts": np.zeros(3, np.int32),
         "mesh_vertices": rng.random((3000, 3)).astype(np.float32), "mesh_faces": np.zeros((12, 3), np.int32)}
    for res, n in ((16, 4096), (32, 8192), (64, 32768)):
        r[f"points_{res}"] = rng.uniform(-0.5, 0.5, (n, 3)).astype(np.float32)
        r[f"values_{res}"] = rng.integers(0, 2, (n, 1)).astype(np.uint8)
    return r
class Records:
    def __len__(self): return 60
    def __getitem__(self, i): return record(i)
from tutorial_lib.__main__ import _one_line
try:
    data.write_split(sys.argv[1], Records(), {"seed": 0})
except Exception as error:
    print("error:", _one_line(error), file=sys.stderr)
    sys.exit(1)
"""


def test_a_really_full_disk_while_writing_a_split_is_one_line_not_a_crash(tmp_path):
    """HDF5 flushes when it closes a file: on a full disk that used to end in a segmentation fault."""
    disk = tmp_path / "disk"
    how = _small_disk(disk, 16)
    try:
        status, out, err, _, _ = run_measured([sys.executable, "-c", WRITE_SPLIT, str(disk / "train.hdf5"), how], env_with(), timeout=300)
        assert status == 1, f"exit status {status} (139 or 134: a crash)\n{err}"
        line = one_error_line(err)
        assert line.startswith(f"error: {disk / 'train.hdf5'}: cannot write it: "), line
        assert ("the disk is full" if how == "tmpfs" else "larger than the file system allows") in line
        assert len(err.strip().splitlines()) == 1, err
        assert sorted(os.listdir(disk)) == [], os.listdir(disk)  # neither the temporary file nor the reserve is left
    finally:
        if how == "tmpfs":
            subprocess.run(["umount", str(disk)], check=False)


def test_a_full_disk_when_the_reserve_cannot_be_made(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "posix_fallocate", lambda *a: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(safety.WriteError, match=r"train.hdf5: cannot write it: the disk is full"):
        with provenance.atomic_path(tmp_path / "train.hdf5") as tmp, safety.hdf5_for_writing(tmp, tmp_path / "train.hdf5") as f:
            f["voxels"] = np.zeros(3)
    assert os.listdir(tmp_path) == []


def test_a_contact_sheet_and_an_index_are_written_atomically(quick_root, tmp_path, capsys, monkeypatch):
    import matplotlib.figure

    query = geometry.save_mesh(trimesh.creation.box([0.3, 0.5, 0.2]), tmp_path / "box.obj")
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    line = fails_with(capsys, ["search", str(query), "--by", "lfd", "--top", "2", "--sheet", str(tmp_path / "sheet.png")], "sheet.png: cannot write it")
    assert "the disk is full" in line and not (tmp_path / "sheet.png").exists() and not partials(tmp_path)
    monkeypatch.setattr(np, "savez", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    index = search.load_index(QUICK, build=False)
    with pytest.raises(safety.WriteError, match="search_index.npz: cannot write it: the disk is full"):
        index.save(search.index_path(QUICK))
    assert search.index_path(QUICK).is_file() and not partials(quick_root)  # the old index is still there, whole


# --------------------------------------------------------------------------------------------
# 6. Signals end the whole process tree; temporary files go with it
# --------------------------------------------------------------------------------------------


def _as_from_a_terminal():
    """SIGINT and SIGHUP as a command typed in a terminal has them, whatever this test process
    inherited (a background job ignores SIGINT, a run under ``nohup`` SIGHUP)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def start(argv, env):
    return subprocess.Popen([*COMMAND, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=_as_from_a_terminal)


def wait_for(condition, process, seconds=300):
    deadline = time.time() + seconds
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the process ended before the condition held:\n{process.stderr.read()}")
        if time.time() > deadline:
            process.kill()
            raise AssertionError("timed out")
        time.sleep(0.05)


def running(pid: int) -> bool:
    """Whether a process exists and has not ended (a zombie waiting to be reaped has ended)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_and_check(process, signum, folder):
    """Send ``signum`` to the command (its main process only, as `kill` does); within 5 s no
    process of its tree is left, and no temporary file in ``folder``. Returns (status, stderr)."""
    tree = [process.pid] + [child.pid for child in psutil.Process(process.pid).children(recursive=True)]
    assert len(tree) >= 2, "no worker processes were running"
    os.kill(process.pid, signum)
    deadline = time.time() + 5
    left = tree
    while time.time() < deadline:
        process.poll()
        left = [pid for pid in tree if running(pid)]
        if not left:
            break
        time.sleep(0.05)
    assert not left, f"processes left 5 s after {signal.Signals(signum).name}: {left}"
    _, err = process.communicate(timeout=30)
    assert not partials(folder), partials(folder)
    return process.returncode, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_data_build_ends_every_worker(tmp_path, signum):
    root = tmp_path / "data"
    root.mkdir()
    env = env_with(TUTORIAL_DATA=root)
    build = start(["data", "build", "--profile", "quick", "--workers", "2"], env)
    parts = root / "quick" / "parts"
    wait_for(lambda: parts.is_dir() and len(list(parts.glob("[!.]*.npz"))) >= 2, build)
    status, err = stop_and_check(build, signum, root)
    assert status == 128 + signum, err
    last = err.strip().splitlines()[-1]
    assert "Traceback" not in err and last.endswith("run the same command again to continue"), err
    assert parts.is_dir() and list(parts.glob("[!.]*.npz"))  # the finished shapes are kept for the next run


def test_a_later_run_removes_the_leftovers_of_ended_processes(tmp_path):
    root = tmp_path / "data"
    parts = root / "quick" / "parts"
    parts.mkdir(parents=True)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    leftovers = [parts / f".chair_0003.{gone}.partial.npz", root / "quick" / f".train.{gone}.partial.hdf5"]
    for path in leftovers:
        path.write_bytes(b"half a file")
    alive = root / "quick" / f".test.{os.getpid()}.partial.hdf5"  # a live process's write in progress is left alone
    alive.write_bytes(b"being written")
    build = start(["data", "build", "--profile", "quick", "--workers", "1"], env_with(TUTORIAL_DATA=root))
    wait_for(lambda: len(list(parts.glob("[!.]*.npz"))) >= 1, build)
    build.send_signal(signal.SIGTERM)
    build.communicate(timeout=60)
    assert not any(path.exists() for path in leftovers) and alive.exists()


def test_kill_9_of_the_build_ends_its_workers_too(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    build = start(["data", "build", "--profile", "quick", "--workers", "2"], env_with(TUTORIAL_DATA=root))
    parts = root / "quick" / "parts"
    wait_for(lambda: parts.is_dir() and len(list(parts.glob("[!.]*.npz"))) >= 1, build)
    workers = [child.pid for child in psutil.Process(build.pid).children(recursive=True)]
    build.send_signal(signal.SIGKILL)
    build.wait()
    deadline = time.time() + 5
    while time.time() < deadline and any(running(pid) for pid in workers):
        time.sleep(0.05)
    assert workers and not [pid for pid in workers if running(pid)], "workers outlived their parent's kill -9"


INDEX_BUILD = """
import sys
import numpy as np
from tutorial_lib import autoencoder, config, data, search
from tutorial_lib.__main__ import main
QUICK = config.get_profile("quick")
# The shipped z belong to the real quick dataset: here, z for the boxes of this data root.
names = {s: data.read_split(data.split_path(data.dataset_dir(QUICK), s), ())["names"] for s in data.SPLITS}
codes = {f"{s}_z": np.zeros((len(n), 128), np.float32) for s, n in names.items()} | {f"{s}_names": n for s, n in names.items()}
autoencoder.load_shipped_z = lambda profile: codes
data.ensure_dataset = lambda profile, progress=True: data.dataset_dir(profile)  # the boxes, not a quick build
sys.exit(main(["search", "--build-index"]))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_the_index_build_ends_every_worker(tmp_path, box_dataset, signum):
    root = tmp_path / "data"
    box_dataset(root / "quick", shapes=150)
    build = subprocess.Popen(
        [sys.executable, "-c", INDEX_BUILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_with(TUTORIAL_DATA=root),
        preexec_fn=_as_from_a_terminal,
    )
    wait_for(lambda: len(psutil.Process(build.pid).children(recursive=True)) >= 2, build)
    time.sleep(1.0)  # the workers are at work
    status, err = stop_and_check(build, signum, root)
    assert status == 128 + signum, err
    assert not (root / "quick" / search.INDEX_FILE).exists()


# --------------------------------------------------------------------------------------------
# 11. One writer at a time
# --------------------------------------------------------------------------------------------

HOLD_LOCK = """
import sys, time
from pathlib import Path
from tutorial_lib import safety
with safety.writer_lock(sys.argv[1], "data build"):
    print("held", flush=True)
    deadline = time.time() + 300
    while not Path(sys.argv[2]).exists() and time.time() < deadline:
        time.sleep(0.05)
"""


def test_a_second_writer_waits_naming_the_first(mesh_folder, tmp_path):
    out, release = tmp_path / "out", tmp_path / "release"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out), str(release)], stdout=subprocess.PIPE, text=True, env=env_with())
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(safety.FolderLocked, match=rf"{out}: process {holder.pid} \(data build, since .*\) is writing here; wait for it to finish"):
        with safety.writer_lock(out, "test", wait=False):
            pass
    second = start(build_argv(mesh_folder, out), env_with())
    waiting = second.stderr.readline()  # its first line
    assert waiting.startswith(f"{out}: process {holder.pid} (data build, since ") and "waiting for it to finish" in waiting, waiting
    assert second.poll() is None and not (out / "parts").exists()  # it waits, doing nothing
    release.touch()
    _, stderr = second.communicate(timeout=300)
    assert second.returncode == 0, stderr
    assert holder.wait(timeout=30) == 0 and data.is_complete(out)


def test_two_builds_at_once_do_the_work_once(mesh_folder, tmp_path):
    out = tmp_path / "out"
    first, second = start(build_argv(mesh_folder, out), env_with()), start(build_argv(mesh_folder, out), env_with())
    results = [(p.returncode, *p.communicate(timeout=300)) for p in (first, second)]
    results = [(p.returncode, out, err) for p, (_, out, err) in zip((first, second), results)]
    assert [r[0] for r in results] == [0, 0], results
    built = [int(r[1].split(" shapes built in")[0].rsplit("(", 1)[1]) for r in results]
    assert sorted(built) == [0, 6], results  # the one that waited found the dataset complete
    assert data.is_complete(out)


def test_the_lock_is_taken_again_by_the_same_process(tmp_path):
    with safety.writer_lock(tmp_path, "outer"):
        with safety.writer_lock(tmp_path, "inner"):
            assert safety.held_folders() == [tmp_path.resolve()]
    assert safety.held_folders() == []


# --------------------------------------------------------------------------------------------
# 8. A corrupt index or shipped z file
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "random bytes", "empty"])
def test_a_corrupt_index_is_named_and_rebuilt(quick_root, tmp_path, capsys, monkeypatch, damage):
    path = search.index_path(QUICK)
    whole = path.read_bytes()
    path.write_bytes({"truncated": whole[: len(whole) // 2], "random bytes": os.urandom(5000), "empty": b""}[damage])
    with pytest.raises(search.StaleIndexError, match=rf"{path}: not a search index"):
        search.load_index(QUICK, build=False)
    rebuilt = []
    monkeypatch.setattr(
        search, "build_profile_index", lambda profile, progress=True: rebuilt.append(profile.name) or search.ShapeIndex.load(tmp_path / "ok.npz")
    )
    (tmp_path / "ok.npz").write_bytes(whole)
    query = geometry.save_mesh(trimesh.creation.box([0.3, 0.5, 0.2]), tmp_path / "box.obj")
    assert main(["search", str(query), "--by", "lfd", "--top", "1"]) == 0
    captured = capsys.readouterr()
    assert rebuilt == ["quick"] and f"{path}: not a search index" in captured.out and "rebuilding it now" in captured.out


def test_a_corrupt_shipped_z_file_is_named(tmp_path, capsys, monkeypatch, quick_root):
    shipped = tmp_path / "checkpoints"
    shutil.copytree(config.shipped_checkpoints_dir(), shipped)
    z_file = shipped / "autoencoder_quick_z.npz"
    z_file.write_bytes(z_file.read_bytes()[:1000])
    monkeypatch.setattr(config, "shipped_checkpoints_dir", lambda: shipped)
    with pytest.raises(provenance.CheckpointError, match=rf"{z_file}: a damaged or cut-short z file"):
        autoencoder.load_shipped_z(QUICK)
    query = geometry.save_mesh(trimesh.creation.box([0.3, 0.5, 0.2]), tmp_path / "box.obj")
    fails_with(capsys, ["search", str(query), "--by", "lfd"], f"{z_file}: a damaged or cut-short z file")


# --------------------------------------------------------------------------------------------
# 1. A query mesh of millions of faces: bounded memory
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def giant_mesh(tmp_path_factory):
    """A torus of 2,599,200 faces as a binary STL (130 MB): the size of a fine scan."""
    path = tmp_path_factory.mktemp("giant") / "torus.stl"
    trimesh.creation.torus(1.0, 0.3, major_sections=1140, minor_sections=1140).export(path)
    return path


@pytest.mark.parametrize("by", ["lfd", "z"])
def test_a_mesh_of_2_6_million_faces_is_searched_in_bounded_memory(quick_root, giant_mesh, by):
    started = time.perf_counter()
    status, out, err, peak, cpu = run_measured([*COMMAND, "search", str(giant_mesh), "--by", by, "--top", "3"], env_with(TUTORIAL_DATA=quick_root))
    assert status == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == (5 if by == "z" else 4)  # the header and three shapes; by z first the turn it chose
    assert by == "lfd" or lines[0].startswith("orientation: --up +y --front -z, chosen of 24")  # a torus: no turn brings it nearer
    # The time is reported, not asserted (wall-clock numbers are for benchmarks/bench_search.py --search-mesh).
    print(f"search {giant_mesh.name} --by {by}: {peak:.0f} MB peak, {cpu:.1f} CPU s, {time.perf_counter() - started:.1f} s (load {os.getloadavg()[0]:.1f})")
    assert peak < 2048, f"{peak:.0f} MB"


def test_simplification_keeps_the_centre_and_the_look(sphere):
    dense = sphere.subdivide().subdivide()  # 81,920 faces
    simple = geometry.simplify_mesh(dense, 5000)
    assert len(simple.faces) <= 5000
    np.testing.assert_allclose(geometry.center_of_mass(simple), geometry.center_of_mass(dense), atol=1e-9)
    from tutorial_lib import metrics

    assert metrics.lfd_distance(metrics.lfd_descriptor(dense), metrics.lfd_descriptor(simple)) < 1.0  # different shapes: 5 and more


def test_stl_read_lean_equals_trimesh(tmp_path):
    mesh = trimesh.creation.icosphere(subdivisions=3)
    mesh.export(tmp_path / "s.stl")
    lean = geometry.load_mesh(tmp_path / "s.stl", max_faces=100)
    assert len(lean.faces) <= 100 and lean.is_watertight


# --------------------------------------------------------------------------------------------
# 12. Wrong diagnoses
# --------------------------------------------------------------------------------------------


def _write_obj(path, vertices, faces):
    with open(path, "w") as f:
        f.writelines(f"v {x:.17g} {y:.17g} {z:.17g}\n" for x, y, z in vertices)
        f.writelines(f"f {a + 1} {b + 1} {c + 1}\n" for a, b, c in faces)
    return path


@pytest.mark.parametrize("scale", [1e30, 1e-30])
def test_huge_and_tiny_coordinates_are_not_zero_area(quick_root, tmp_path, capsys, scale):
    box = trimesh.creation.box([0.5, 0.3, 0.4])
    obj = _write_obj(tmp_path / "box.obj", box.vertices * scale, box.faces)
    box.apply_scale(scale)
    box.export(tmp_path / "box.stl")
    for path in (obj, tmp_path / "box.stl"):
        loaded = geometry.load_mesh(path)
        assert len(loaded.faces) == 12 and loaded.is_watertight
        np.testing.assert_allclose(geometry.normalize_mesh(loaded).bounds, [[-0.46875, -0.28125, -0.375], [0.46875, 0.28125, 0.375]], rtol=1e-6)
        assert main(["search", str(path), "--by", "lfd", "--top", "1"]) == 0
        assert "zero surface area" not in capsys.readouterr().err


def test_nan_vertices_are_reported_not_dropped(quick_root, tmp_path, capsys):
    box = trimesh.creation.box([0.5, 0.3, 0.4])
    vertices = box.vertices.copy()
    vertices[3] = np.nan
    path = _write_obj(tmp_path / "nan.obj", vertices, box.faces)
    fails_with(capsys, ["search", str(path)], f"{path}: the mesh has non-finite vertex coordinates (NaN or inf): 1 of its 8 vertices, the first at index 3")


def test_a_folder_given_as_a_query_says_it_is_a_folder(quick_root, tmp_path, capsys):
    (tmp_path / "chair.png").mkdir()
    fails_with(capsys, ["search", str(tmp_path / "chair.png")], f"{tmp_path / 'chair.png'}: is a folder")
    fails_with(capsys, ["reconstruct", str(tmp_path / "chair.png"), "--out", str(tmp_path / "x.obj")], f"{tmp_path / 'chair.png'}: is a folder, not a picture")


def test_a_data_root_that_does_not_exist_is_named_not_built(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TUTORIAL_DATA", str(tmp_path / "typo"))
    query = geometry.save_mesh(trimesh.creation.box([0.3, 0.5, 0.2]), tmp_path / "box.obj")
    line = fails_with(capsys, ["search", str(query)], f"TUTORIAL_DATA={tmp_path / 'typo'}: no such folder")
    assert "data build --profile quick" in line
    assert not (tmp_path / "typo").exists()


# --------------------------------------------------------------------------------------------
# 9. A giant picture costs no more memory than a small one; 10. --top against the index
# --------------------------------------------------------------------------------------------


def test_a_12000_pixel_picture_is_searched_within_300_mb_of_a_200_pixel_one(quick_root, tmp_path):
    from PIL import Image, ImageDraw

    peaks = {}
    for side in (200, 12000):
        picture = Image.new("RGB", (side, side), "white")
        ImageDraw.Draw(picture).rectangle([side * 0.3, side * 0.2, side * 0.7, side * 0.8], fill=(60, 60, 60))
        picture.save(tmp_path / f"chair_{side}.png")
        del picture
        status, out, err, peaks[side], _ = run_measured(
            [*COMMAND, "search", str(tmp_path / f"chair_{side}.png"), "--top", "2"], env_with(TUTORIAL_DATA=quick_root)
        )
        assert status == 0, err
    print(f"search by a picture: 200² {peaks[200]:.0f} MB, 12,000² {peaks[12000]:.0f} MB")
    assert peaks[12000] - peaks[200] < 300, peaks


def test_top_beyond_the_index_is_refused_before_the_search_runs(quick_root, tmp_path, capsys):
    query = geometry.save_mesh(trimesh.creation.box([0.3, 0.5, 0.2]), tmp_path / "box.obj")
    argv = ["search", str(query), "--top", "100000", "--sheet", str(tmp_path / "sheet.png")]
    fails_with(capsys, argv, f"--top 100000: the index of {search.index_path(QUICK)} holds 6 shapes; give --top between 1 and 6")
    fails_with(capsys, [*argv[:3], "4", "--split", "test"], "--top 4: the index of")
    assert not (tmp_path / "sheet.png").exists()
    assert main(["search", str(query), "--top", "6", "--by", "lfd", "--sheet", str(tmp_path / "sheet.png")]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 8 and (tmp_path / "sheet.png").is_file() and not partials(tmp_path)


def test_a_pool_closed_on_the_way_out_of_an_exception_is_not_waited_for():
    """safety.close_pool: a stopped command must not wait for its pool's manager thread, which can
    wait forever for the rest of a result that an ended worker was sending; a normal end waits."""
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=1)
    pool.submit(time.sleep, 20)
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        try:
            raise KeyboardInterrupt
        finally:
            safety.close_pool(pool)
    assert time.perf_counter() - started < 5 and safety.pool_threads_alive()
    safety.end_workers()  # the sleeping worker, as the command's handler ends it
    quick = ProcessPoolExecutor(max_workers=1)
    done = quick.submit(abs, -3)
    safety.close_pool(quick)  # no exception: waits, and the work is done
    assert done.result(timeout=0) == 3
