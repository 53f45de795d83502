"""scripts/prepare_offline.py: which pins of a lock a wheelhouse lacks (file names only, nothing is downloaded)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "prepare_offline.py"

LOCK = """# a pip-compile lock with hashes
numpy==2.4.6 \\
    --hash=sha256:aaaa
nvidia-cublas==13.1.1.3 \\
    --hash=sha256:bbbb
    # via torch
torch==2.14.1 \\
    --hash=sha256:cccc
typing-extensions==4.15.0 \\
    --hash=sha256:dddd
Jinja2==3.1.6 ; python_version >= "3.10" \\
    --hash=sha256:eeee
"""


@pytest.fixture(scope="module")
def offline():
    spec = importlib.util.spec_from_file_location("prepare_offline", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lock(tmp_path):
    path = tmp_path / "requirements.lock"
    path.write_text(LOCK)
    return path


def test_pins_are_read_with_canonical_names(offline, lock):
    assert offline.locked_pins(lock) == {"numpy": "2.4.6", "nvidia-cublas": "13.1.1.3", "torch": "2.14.1", "typing-extensions": "4.15.0", "jinja2": "3.1.6"}
    assert "nvidia-cublas" not in offline.locked_pins(lock, without="nvidia-[a-z0-9-]+")


def test_missing_packages_by_name_and_version(offline, lock, tmp_path):
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    for name in (
        "numpy-2.4.6-cp311-cp311-manylinux_2_28_x86_64.whl",
        "torch-2.14.1+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",  # a local label counts as the pinned version
        "typing_extensions-4.14.0-py3-none-any.whl",  # another version: still missing
        "jinja2-3.1.6.tar.gz",  # a source archive counts
        "requirements-cpu.lock",  # not a package
    ):
        (wheelhouse / name).touch()
    assert offline.missing_packages(lock, wheelhouse) == ["nvidia-cublas==13.1.1.3", "typing-extensions==4.15.0"]
    assert offline.missing_packages(lock, wheelhouse, without="nvidia-[a-z0-9-]+") == ["typing-extensions==4.15.0"]
    assert offline.wheelhouse_versions(wheelhouse, local=True)["torch"] == {"2.14.1+cpu"}
    assert offline.missing_packages(lock, tmp_path / "nowhere") == [f"{n}=={v}" for n, v in offline.locked_pins(lock).items()]
