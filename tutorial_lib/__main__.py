"""Command line: ``python -m tutorial_lib <command> ...``.

    python -m tutorial_lib data build --profile quick|full [--source DIR [--up AXIS --front AXIS]] [--workers N] [--out DIR]
    python -m tutorial_lib data info FILE.hdf5
    python -m tutorial_lib data foreign --profile quick|full [--views N] [--seed S] [--out DIR]
    python -m tutorial_lib train ae --profile quick|full [--recipe fast|fast-augmented|paper] [--steps N] [--minutes M] [--ship]
    python -m tutorial_lib train svr --profile quick|full [--steps N] [--minutes M] [--ship]
    python -m tutorial_lib train classifier --profile quick|full [--steps N] [--minutes M] [--ship]
    python -m tutorial_lib train gan --profile quick|full [--steps N] [--minutes M] [--ship]
    python -m tutorial_lib train sketch --profile quick|full [--steps N] [--minutes M] [--ship]
    python -m tutorial_lib reconstruct IMAGE --out MESH.obj|.ply [--profile quick|full] [--resolution R] [--drop-fragments]
    python -m tutorial_lib search QUERY [--by z|lfd] [--top K] [--sheet results.png] [--split all|train|test] [--up AXIS --front AXIS] [--as auto|sketch|picture]
    python -m tutorial_lib search --build-index [--profile quick|full]

Errors are one line on stderr (the file and the problem) with exit status 1; add --debug
anywhere on the command line to see the Python traceback instead. Ctrl-C during training
saves the checkpoint and says how to resume (exit status 130).
"""

from __future__ import annotations

import argparse
import os
import re
import sys


class UsageError(ValueError):
    """A command line that cannot be parsed: one line, exit status 1, like every other error."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, with its errors as :class:`UsageError` (one line, exit status 1) instead of the usage and exit status 2."""

    def error(self, message: str):
        raise UsageError(f"{self.prog.removeprefix('python -m tutorial_lib').strip() or 'tutorial_lib'}: {message} (see --help)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value}")
    return value


def _axis(text: str) -> str:
    """An axis of --up/--front: +x, -x, +y, -y, +z, -z (also X, -Z, ...)."""
    if not re.fullmatch(r"[+-]?[xyz]", text.strip().lower()):
        raise argparse.ArgumentTypeError(f"axis {text!r} must be one of +x, -x, +y, -y, +z, -z")
    return text.strip().lower()


def _joined_axes(argv: list[str]) -> list[str]:
    """``--front -x`` as ``--front=-x``: argparse would take ``-x`` for an option."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] in ("--up", "--front") and i + 1 < len(argv) and re.fullmatch(r"[+-]\w{1,8}", argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def _data_root_exists() -> None:
    """A ``TUTORIAL_DATA`` that does not exist (a typo) is named, rather than a dataset built there from scratch."""
    value = os.environ.get("TUTORIAL_DATA")
    if value and not os.path.isdir(os.path.expanduser(value)):
        raise FileNotFoundError(f"TUTORIAL_DATA={value}: no such folder; point TUTORIAL_DATA at the folder that holds your datasets, "
                                "or build one there first with `python -m tutorial_lib data build --profile quick`")  # fmt: skip


SHEET_SUFFIXES = (".png", ".jpg", ".jpeg", ".pdf", ".svg", ".webp", ".tif", ".tiff")


def _data_build(args) -> int:
    from . import geometry, safety
    from .config import get_profile
    from .data import build_dataset

    args.front = args.front or geometry.default_front(args.up)
    geometry.orientation_matrix(args.up, args.front)  # up and front on one axis: refused before any work
    if args.out:
        safety.check_writable(args.out, "folder", folder=True)

    report = build_dataset(get_profile(args.profile), out=args.out, source=args.source, workers=args.workers, seed=args.seed, up=args.up, front=args.front)
    print(report.summary())
    return 0


def _data_info(args) -> int:
    from .data import open_split, read_attrs

    attrs = read_attrs(args.file)
    with open_split(args.file) as f:
        for key in sorted(f.keys()):
            print(f"{key:16s} {str(f[key].shape):28s} {f[key].dtype}")
    for key, value in sorted(attrs.items()):
        print(f"@{key}: {value}")
    return 0


def _data_foreign(args) -> int:
    from .config import get_profile
    from .foreign_rendering import build_foreign_set

    _data_root_exists()

    index = build_foreign_set(get_profile(args.profile), views=args.views, seed=args.seed, out=args.out)
    print(f"{index}: {args.views} foreign JPEG picture(s) of every test shape, beside it (test only: no training reads them)")
    return 0


def _train(args) -> int:
    """``train ae|svr|classifier|gan|sketch``: every kind through the same lifecycle (tutorial_lib.shipping)."""
    from . import config, data, distributed, shipping
    from .training import RunOptions

    kind = shipping.KINDS[args.kind]
    profile = config.get_profile(args.profile)
    device = config.get_device(args.device)
    if kind.data_parallel:
        device = distributed.setup(device)  # under torchrun: join the process group, one GPU per process
    main = distributed.is_main()  # only rank 0 prints and ships
    options = {"recipe": args.recipe, "dataset": args.dataset} if kind.name == "autoencoder" else {}
    suffix = f"_{args.recipe}" if kind.name == "autoencoder" else None
    checkpoint = args.checkpoint or shipping.training_checkpoint(kind, profile, suffix)
    if main:
        config.get_device(args.device, verbose=True)
        print(f"training checkpoint: {checkpoint} (run the same command again to resume)"
              + (f"; {distributed.world_size()} processes" if distributed.is_distributed() else ""))  # fmt: skip
    if distributed.is_distributed() and options.get("dataset") is None:  # rank 0 alone builds a missing dataset while the others wait
        if main:
            data.ensure_dataset(profile)
        distributed.barrier()
    run = RunOptions(steps=args.steps, device=device, seed=args.seed, checkpoint=checkpoint, checkpoint_every=args.checkpoint_every,
                     max_seconds=args.minutes * 60 if args.minutes else None, precision=args.precision, evaluate_every=args.evaluate_every,
                     progress=main)  # fmt: skip
    model, history = shipping.train(kind, profile, run, **options)
    if main:
        steps, seconds = (history.step[-1], history.seconds[-1]) if history.step else (0, 0.0)
        print(f"{steps} steps, {seconds:.0f} s, final loss {history.loss[-1] if history.loss else float('nan'):.5g}")
    if args.ship and main:
        manifest = shipping.ship(kind, model, history, profile, device=device)
        print(f"shipped to {shipping.paths(kind, profile).weights}: {manifest['summary']}")
    distributed.cleanup()
    return 0


def _search(args) -> int:
    import time

    from . import geometry, picture_files, safety

    # Every argument is checked first, and the query read: while the process is still small (no
    # torch, no index, no model), so that a giant query's reading adds nothing to the peak memory.
    if args.sheet:
        if os.path.splitext(args.sheet)[1].lower() not in SHEET_SUFFIXES:
            raise ValueError(f"{args.sheet}: choose a picture file name for --sheet ({', '.join(SHEET_SUFFIXES)})")
        safety.check_writable(args.sheet, "picture file")
    if args.up is not None or args.front is not None:
        up = args.up or "+y"
        geometry.orientation_matrix(up, args.front or geometry.default_front(up))  # up and front on one axis: refused before any work
    if args.query is not None:
        if picture_files.query_kind(args.query) == "picture":
            if args.up is not None or args.front is not None:
                raise ValueError(f"{args.query}: --up and --front turn a mesh; a picture has no axes to give")
            picture_files.read_grey(args.query)
        else:
            geometry.load_mesh(args.query, max_faces=geometry.QUERY_FACE_BUDGET)  # checked, and simplified above the face budget
    _data_root_exists()

    from . import config, search

    profile = config.get_profile(args.profile)
    if args.build_index:
        started = time.perf_counter()
        index = search.build_profile_index(profile)
        print(f"{search.index_path(profile)}: {index}, built in {time.perf_counter() - started:.0f} s")
        if args.query is None:
            return 0
    if args.query is None:
        raise ValueError("give a QUERY file (a picture or a mesh), or --build-index")
    index = search.load_index(profile)
    rows = len(index) if args.split == "all" else int((index.splits == args.split).sum())
    if args.top > rows:
        raise ValueError(f"--top {args.top}: the index of {search.index_path(profile)} holds {rows} shapes"
                         + ("" if args.split == "all" else f" in the {args.split} split") + f"; give --top between 1 and {rows}")  # fmt: skip
    matches = search.search_file(index, args.query, by=args.by, k=args.top, split=None if args.split == "all" else args.split, up=args.up,
                                 front=args.front, read_as=args.read_as)  # fmt: skip
    if matches.reading():
        print(matches.reading())
    print(search.format_matches(matches))
    if args.sheet:
        import matplotlib

        from .provenance import atomic_path

        matplotlib.use("Agg")
        fig = search.contact_sheet(search.query_preview(args.query), matches, index, title=f"{args.query} (by {args.by})")
        with atomic_path(args.sheet) as tmp:  # never a half-written sheet under the asked-for name
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format=os.path.splitext(args.sheet)[1].lower().lstrip(".").replace("jpg", "jpeg"))
        print(f"contact sheet: {args.sheet}")
    return 0


def _reconstruct(args) -> int:
    import time

    from . import geometry, picture_files, safety

    started = time.perf_counter()
    # Every argument is checked before a model is loaded or run (and before torch is imported).
    picture_files.read_grey(args.image)  # unreadable, blank or dark-background pictures are refused here
    geometry.check_mesh_path(args.out)
    safety.check_writable(args.out, "mesh file")
    _data_root_exists()
    from . import autoencoder, config, shipping, svr

    autoencoder.check_resolution(args.resolution)
    profile, device = config.get_profile(args.profile), config.get_device(args.device)
    autoencoder_path = args.autoencoder or shipping.paths("autoencoder", profile).weights
    autoencoder_model = shipping.load("autoencoder", profile, autoencoder_path, device=device)
    image_model = shipping.load("image_encoder", profile, args.image_encoder, device=device, autoencoder=autoencoder_path,
                                trust_unlabelled=args.trust_unlabelled)  # fmt: skip
    mesh = svr.reconstruct_from_image(args.image, image_model, autoencoder_model, resolution=args.resolution, out=args.out, profile=profile,
                                      clean=args.drop_fragments)  # fmt: skip
    print(f"{args.out}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces, {time.perf_counter() - started:.1f} s")
    return 0


def _add_training_options(parser: argparse.ArgumentParser, evaluate_help: str, ship_help: str) -> None:
    """The options every ``train`` command shares."""
    parser.add_argument("--profile", default="quick", choices=["quick", "full", "smoke"], help="smoke: the full path at toy size (tests)")
    parser.add_argument("--steps", type=int, default=None, help="optimiser steps (default: the profile's)")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this wall time (resume later)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default=None, help="training checkpoint to save to and resume from")
    parser.add_argument("--evaluate-every", type=int, default=0, help=evaluate_help)
    parser.add_argument("--ship", action="store_true", help=ship_help)
    parser.add_argument("--checkpoint-every", type=int, default=200, help="save the training checkpoint every N steps")
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                        help="auto: bfloat16 on CUDA, and on a CPU that has it in hardware for the recipes that opt in; float32 otherwise")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m tutorial_lib", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="build or inspect a dataset").add_subparsers(dest="action", required=True)
    build = data.add_parser("build", help="build the procedural dataset, or one from a folder of meshes")
    build.add_argument("--profile", default="quick", choices=["quick", "full"])
    build.add_argument("--source", default=None, help="folder of meshes in category sub-folders (ShapeNet/ModelNet layout)")
    build.add_argument("--out", default=None, help="output folder (default: <data root>/<profile>, or <data root>/<source name>)")
    build.add_argument("--workers", type=_positive, default=None, help="worker processes (default: all cores, at most 8)")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--up", default="+y", type=_axis, help="up axis of --source meshes, e.g. +z for ModelNet")
    build.add_argument("--front", default=None, type=_axis,
                       help="front axis of --source meshes, e.g. --front -x (default: -z, or +y with --up +z, -y with --up -z)")  # fmt: skip
    build.set_defaults(run=_data_build)
    info = data.add_parser("info", help="print the keys, shapes and attributes of a dataset file")
    info.add_argument("file")
    info.set_defaults(run=_data_info)
    foreign = data.add_parser("foreign", help="render the test shapes the way another project would (colour, texture, lights, JPEG): a test set")
    foreign.add_argument("--profile", default="quick", choices=["quick", "full"])
    foreign.add_argument("--views", type=_positive, default=2, help="pictures per test shape")
    foreign.add_argument("--seed", type=int, default=0)
    foreign.add_argument("--out", default=None, help="output folder (default: <data root>/<profile>_foreign)")
    foreign.set_defaults(run=_data_foreign)

    train = commands.add_parser("train", help="train a model").add_subparsers(dest="model", required=True)
    ae = train.add_parser("ae", help="the 3D autoencoder (voxel encoder + implicit decoder), progressive 16³→32³→64³")
    ae.add_argument("--recipe", default="fast", choices=["fast", "fast-augmented", "paper"])
    ae.add_argument("--dataset", default=None, help="a dataset folder with train.hdf5 and test.hdf5 (default: the profile's)")
    _add_training_options(ae, evaluate_help="log the IoU of a few test shapes every N steps",
                          ship_help="evaluate on the test split and write data/checkpoints/autoencoder_<profile>.*")  # fmt: skip
    ae.set_defaults(run=_train, kind="autoencoder")
    image = train.add_parser("svr", help="the image encoder (ResNet-18): one rendering → the autoencoder's z")
    _add_training_options(image, evaluate_help="log the z error on the test views every N steps",
                          ship_help="evaluate against the baselines and write data/checkpoints/image_encoder_<profile>.*")  # fmt: skip
    image.set_defaults(run=_train, kind="image_encoder")
    classifier = train.add_parser("classifier", help="the category classifier (ResNet-18) that notebook 06 dreams with")
    _add_training_options(classifier, evaluate_help="log the accuracy on two views of every test shape every N steps",
                          ship_help="evaluate on the test split and write data/checkpoints/classifier_<profile>.*")  # fmt: skip
    classifier.set_defaults(run=_train, kind="classifier")
    latent_gan = train.add_parser("gan", help="the latent GAN (IM-GAN's WGAN-GP) on the shipped autoencoder's training z")
    _add_training_options(latent_gan, evaluate_help="log COV/MMD/1-NNA in z space of generated against test z every N steps",
                          ship_help="write data/checkpoints/gan_<profile>.* (the generator and its manifest)")  # fmt: skip
    latent_gan.set_defaults(run=_train, kind="gan")
    sketch = train.add_parser("sketch", help="the sketch encoder: a line drawing → the autoencoder's z (starts from the image encoder)")
    _add_training_options(sketch, evaluate_help="(not used by this recipe)",
                          ship_help="score on drawings of the test shapes and write data/checkpoints/sketch_encoder_<profile>.*")  # fmt: skip
    sketch.set_defaults(run=_train, kind="sketch_encoder")

    rec = commands.add_parser("reconstruct", help="a 3D mesh from one picture (PNG/JPG; grey, RGB or RGBA)")
    rec.add_argument("image", help="the picture: one object, on a white or transparent background")
    rec.add_argument("--out", required=True, help="mesh file to write (.obj or .ply)")
    rec.add_argument("--profile", default="quick", choices=["quick", "full"])
    rec.add_argument("--resolution", type=int, default=128, help="grid of the extraction (coarse-to-fine above 64)")
    rec.add_argument("--image-encoder", default=None, help="image encoder weights (default: the shipped one)")
    rec.add_argument("--autoencoder", default=None, help="autoencoder weights (default: the shipped one)")
    rec.add_argument("--device", default="auto")
    rec.add_argument("--drop-fragments", action="store_true", help="drop the decoded shape's small separate parts (under 0.5%% of the largest)")
    rec.add_argument("--trust-unlabelled", action="store_true",
                     help="use an image encoder or autoencoder that has no manifest saying they belong together (unchecked)")  # fmt: skip
    rec.set_defaults(run=_reconstruct)

    find = commands.add_parser("search", help="3D search: the shapes nearest to a picture, a mesh or a sketch")
    find.add_argument("query", nargs="?", default=None, help="a picture (PNG/JPG) or a mesh (.obj/.off/.ply/.stl)")
    find.add_argument("--by", default="z", choices=["z", "lfd"],
                      help="z: the encoders' code (default); lfd: light field descriptor (a picture is then read as a sketch's silhouette)")  # fmt: skip
    find.add_argument("--top", type=_positive, default=5, help="how many shapes to list (1 to the number of shapes in the index)")
    find.add_argument("--sheet", default=None, help="also write a contact sheet (query beside its results) to this PNG")
    find.add_argument("--split", default="all", choices=["all", "train", "test"], help="search only these shapes")
    find.add_argument("--up", default=None, type=_axis,
                      help="a mesh's up axis, e.g. +z for ModelNet (default, by z: the best of the 24 quarter turns, printed)")  # fmt: skip
    find.add_argument("--front", default=None, type=_axis, help="a mesh's front axis (default: -z, or +y with --up +z, -y with --up -z)")
    find.add_argument("--as", dest="read_as", default="auto", choices=["auto", "sketch", "picture"],
                      help="read a picture as a line drawing (the sketch encoder) or a rendering/photo (the image encoder); auto guesses")  # fmt: skip
    find.add_argument("--profile", default="quick", choices=["quick", "full"])
    find.add_argument("--build-index", action="store_true", help="(re)build the index next to the dataset")
    find.set_defaults(run=_search)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .safety import Stopped, end_workers, pool_threads_alive, stop_on_signals

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(_joined_axes([a for a in argv if a != "--debug"]))
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    stop_on_signals()  # SIGTERM, SIGHUP, SIGINT: worker processes end at once, temporary files are removed
    try:
        return args.run(args)
    except KeyboardInterrupt as stop:
        training = sys.modules.get(f"{__package__}.training")  # not imported (torch) unless a command trained
        if training is not None and isinstance(stop, training.TrainingInterrupted):
            if stop.checkpoint is not None:
                print(f"interrupted at step {stop.step}; checkpoint saved to {stop.checkpoint}. "
                      "Run the same command again to resume.", file=sys.stderr)  # fmt: skip
            else:
                print(f"interrupted at step {stop.step} (no checkpoint was asked for)", file=sys.stderr)
            return 130
        signum = getattr(stop, "signum", 2)
        end_workers()
        name = str(stop) if isinstance(stop, Stopped) and signum != 2 else "interrupted"
        print(f"{name}; run the same command again to continue", file=sys.stderr)
        if pool_threads_alive():
            # A worker pool's manager thread can wait forever for the rest of a result that an ended
            # worker was sending; Python would wait for that thread at exit. Everything is cleaned up
            # (the finally blocks ran, the workers are gone): end the process now.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(128 + signum)
        return 128 + signum
    except Exception as error:  # a user's mistake or a broken file: one line, not a traceback
        if debug:
            raise
        end_workers()
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 1


def _one_line(error: Exception) -> str:
    """The one line an error is reported as: its message (an OS error with the file it concerns), else its type and message."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, OSError) and getattr(error, "filename", None) and error.strerror:
        return f"{error.filename}: {error.strerror.lower() if error.strerror[:1].isupper() else error.strerror}"
    if isinstance(error, (OSError, ValueError, KeyError, ImportError)) and message:
        return message
    return f"{type(error).__name__}: {message} (run again with --debug for the traceback)"


if __name__ == "__main__":
    sys.exit(main())
