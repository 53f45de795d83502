"""Command line: ``python -m tutorial_lib <command> ...``.

    python -m tutorial_lib data build --profile quick|full [--source DIR] [--workers N] [--out DIR]
    python -m tutorial_lib data info FILE.hdf5
"""

from __future__ import annotations

import argparse
import sys


def _data_build(args) -> int:
    from .data import build_dataset

    report = build_dataset(args.profile, out=args.out, source=args.source, workers=args.workers, seed=args.seed, up=args.up, front=args.front)
    print(report.summary())
    return 0


def _data_info(args) -> int:
    import h5py

    from .data import read_attrs

    attrs = read_attrs(args.file)
    with h5py.File(args.file, "r") as f:
        for key in sorted(f.keys()):
            print(f"{key:16s} {str(f[key].shape):28s} {f[key].dtype}")
    for key, value in sorted(attrs.items()):
        print(f"@{key}: {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tutorial_lib", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="build or inspect a dataset").add_subparsers(dest="action", required=True)
    build = data.add_parser("build", help="build the procedural dataset, or one from a folder of meshes")
    build.add_argument("--profile", default="quick", choices=["quick", "full"])
    build.add_argument("--source", default=None, help="folder of meshes in category sub-folders (ShapeNet/ModelNet layout)")
    build.add_argument("--out", default=None, help="output folder (default: <data root>/<profile>, or <data root>/<source name>)")
    build.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores, at most 8)")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--up", default="+y", help="up axis of --source meshes, e.g. +z for ModelNet")
    build.add_argument("--front", default="-z", help="front axis of --source meshes")
    build.set_defaults(run=_data_build)
    info = data.add_parser("info", help="print the keys, shapes and attributes of a dataset file")
    info.add_argument("file")
    info.set_defaults(run=_data_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
