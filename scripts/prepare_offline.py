"""Get a copy of the repository ready for a room without internet (the last step of `make offline`).

    python scripts/prepare_offline.py --wheelhouse build/wheelhouse --lock requirements.lock [--without REGEX] [--profile quick]

After `make offline` has downloaded the lock's packages into the wheelhouse, this script

1. checks that the wheelhouse holds a wheel (or source archive) of every package the lock pins,
   at the pinned version (``--without``: packages left out on purpose, such as the CUDA
   libraries when the wheelhouse holds PyTorch's CPU-only torch; a local version label such as
   ``2.14.1+cpu`` counts as ``2.14.1``), and with ``--torch-build cpu`` that torch and
   torchvision are the ``+cpu`` wheels, not PyPI's CUDA build;
2. builds the profile's dataset and the search index of notebook 09, or finds them up to date
   (``data.ensure_dataset`` and ``search.load_index``: the notebooks would otherwise build them
   on first use, on every student's machine);
3. checks that every shipped checkpoint the notebooks load is there: the autoencoder (with its
   z), the image encoder, the latent GAN and the category classifier, each with a manifest that
   reads as JSON.

It prints one line per check and exits with status 1 when anything is missing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def canonical(name: str) -> str:
    """PEP 503 name: lower case, runs of '-', '_' and '.' as one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_pins(lock: Path, without: str | None = None) -> dict[str, str]:
    """{canonical name: version} of every ``name==version`` line of a pip-compile lock, less those matching ``without``."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match and not (without and re.fullmatch(without, match.group(1))):
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def wheelhouse_versions(folder: Path, local: bool = False) -> dict[str, set[str]]:
    """{canonical name: versions} of the wheels and source archives in a folder (local labels such as +cpu dropped unless ``local``)."""
    from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

    found: dict[str, set[str]] = {}
    for path in folder.iterdir():
        try:
            if path.name.endswith(".whl"):
                name, version, *_ = parse_wheel_filename(path.name)
            elif path.name.endswith((".tar.gz", ".zip")):
                name, version = parse_sdist_filename(path.name)
            else:
                continue
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
        found.setdefault(canonical(str(name)), set()).add(str(version) if local else version.public)
    return found


def missing_packages(lock: Path, wheelhouse: Path, without: str | None = None) -> list[str]:
    """``name==version`` of every pin of ``lock`` with no file in ``wheelhouse``."""
    found = wheelhouse_versions(wheelhouse) if wheelhouse.is_dir() else {}
    return [f"{name}=={version}" for name, version in locked_pins(lock, without).items() if version not in found.get(name, set())]


def shipped_checkpoints(profile) -> dict[str, Path]:
    """Every file the notebooks load from the shipped checkpoints of a profile (a ``config.Profile``), by a readable name."""
    from tutorial_lib import shipping

    files = {}
    for kind in shipping.KINDS.values():
        model_files = shipping.paths(kind, profile)
        files |= {f"{kind.title} weights": model_files.weights, f"{kind.title} manifest": model_files.manifest}
        files |= {f"{kind.title} {name}": path for name, path in model_files.extra.items()}
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheelhouse", type=Path, default=ROOT / "build" / "wheelhouse")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--without", default=None, help="a regular expression of package names the wheelhouse leaves out on purpose")
    parser.add_argument("--torch-build", default=None, help="the local version label torch and torchvision must carry (cpu: PyTorch's CPU wheels)")
    parser.add_argument("--profile", default="quick")
    args = parser.parse_args(argv)
    problems = []

    missing = missing_packages(args.lock, args.wheelhouse, args.without)
    pinned = len(locked_pins(args.lock, args.without))
    files = sorted(args.wheelhouse.glob("*")) if args.wheelhouse.is_dir() else []
    size = sum(p.stat().st_size for p in files if p.is_file()) / 1e9
    print(f"wheelhouse {args.wheelhouse}: {len(files)} files, {size:.2f} GB; {pinned - len(missing)} of the {pinned} pins of {args.lock.name} present")
    problems += [f"not in the wheelhouse: {pin}" for pin in missing]
    if args.torch_build and args.wheelhouse.is_dir():
        # A CPU wheel from PyTorch's index is named torch-2.14.1+cpu-...; PyPI's Linux wheel (the CUDA build) has no label.
        versions = wheelhouse_versions(args.wheelhouse, local=True)
        for name in ("torch", "torchvision"):
            if not any(v.endswith(f"+{args.torch_build}") for v in versions.get(name, set())):
                problems.append(f"{name}: no +{args.torch_build} wheel in the wheelhouse (found {sorted(versions.get(name, set())) or 'none'})")

    from tutorial_lib import config, data, search

    profile = config.get_profile(args.profile)
    folder = data.ensure_dataset(profile)
    print(f"dataset: {folder} ({', '.join(data.split_path(folder, s).name for s in data.SPLITS)})")
    index = search.load_index(profile, build=True)
    print(f"search index: {search.index_path(profile)} ({index})")

    checkpoints = shipped_checkpoints(profile)
    for label, path in checkpoints.items():
        if not path.is_file() or path.stat().st_size == 0:
            problems.append(f"{label}: {path} is missing")
        elif path.suffix == ".json":
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                problems.append(f"{label}: {path} is not JSON ({exc})")
    print(f"shipped checkpoints: {len(checkpoints)} files checked")

    for problem in problems:
        print(f"MISSING {problem}")
    print("ready for a room without internet" if not problems else f"{len(problems)} problem(s): not ready")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
