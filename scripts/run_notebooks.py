"""Execute every notebook through papermill and print a table: notebook, seconds, status.

    python scripts/run_notebooks.py --profile quick --out build/notebooks [--only 04]
    python scripts/run_notebooks.py --profile full --out build/notebooks_full      # what `make full` runs

With a profile whose models are not committed (``full``, or ``smoke``: the full path at toy
size, for tests), the models come first, in the order the notebooks need them, each through
the same library call as its CLI command and each resumable (run the script again after an
interruption and every step continues where it stopped, or finds its result and skips):

    dataset -> autoencoder -> image encoder -> classifier -> latent GAN (each ``shipping.ensure``)
    -> search index -> every notebook

Everything goes under the data root (``$TUTORIAL_DATA``: datasets, ``runs/`` checkpoints,
``models/``) and ``build/`` (executed notebooks, figures); the committed ``data/checkpoints/``
is written only with ``--ship``, which copies the trained models there.

Notebooks run in their own folder (so relative paths behave as in JupyterLab) and write
their figures to build/figures/, or to $TUTORIAL_FIGURES (``make figures`` points it at the
committed figures/). The exit status is non-zero when any step or notebook failed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ["quick", "full", "smoke"]


def model_steps(profile, device):
    """(name, callable) for every model the notebooks need, in the order they depend on each other
    (``profile`` and ``device`` resolved: a ``config.Profile`` and a ``torch.device``)."""
    from tutorial_lib import data, search, shipping

    steps = [("dataset", lambda: data.ensure_dataset(profile))]
    for kind in ("autoencoder", "image_encoder", "classifier", "gan", "sketch_encoder"):
        steps.append((shipping.KINDS[kind].title, lambda kind=kind: shipping.ensure(kind, profile, device=device)))
    steps.append(("search index", lambda: search.load_index(profile, build=True)))  # read when up to date, else built and saved
    return steps


def encrypted_kernel_manager():
    """A kernel manager that gives each kernel CurveZMQ keys where its kernelspec supports them.

    The kernel and this script talk over local TCP sockets; ipykernel (7.3 and newer) warns on
    every start when that traffic is not encrypted. With keys there is nothing to warn about.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class EncryptedKernelManager(AsyncKernelManager):
        @default("transport_encryption")
        def _transport_encryption_default(self):
            return "auto"  # keys when the kernel declares support, plain TCP otherwise

    return EncryptedKernelManager


def ship_models(profile: str) -> list[Path]:
    """Copy a profile's trained models from the data root's models/ into the committed data/checkpoints/."""
    from tutorial_lib import config

    target = config.shipped_checkpoints_dir()
    copied = []
    for path in sorted((config.data_root() / "models").glob(f"*_{profile}*")):
        shutil.copy2(path, target / path.name)
        copied.append(target / path.name)
    return copied


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick", choices=PROFILES)
    parser.add_argument("--out", default="build/notebooks")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--only", default="", help="run only notebooks whose name contains this (or one of these, comma-separated)")
    parser.add_argument("--models", default=None, action=argparse.BooleanOptionalAction,
                        help="train or load the models first (default: yes for full and smoke, no for quick, whose models are committed)")  # fmt: skip
    parser.add_argument("--ship", action="store_true", help="copy the trained models into the committed data/checkpoints/")
    parser.add_argument("--notebooks", default=True, action=argparse.BooleanOptionalAction, help="run the notebooks (--no-notebooks: the models only)")
    args = parser.parse_args(argv)

    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    if args.models if args.models is not None else args.profile != "quick":
        from tutorial_lib import config

        device = config.get_device(args.device, verbose=True)
        for name, step in model_steps(config.get_profile(args.profile), device):
            start = time.time()
            try:
                result = step()
                status = result if isinstance(result, str) and result.startswith("skipped") else "ok"
            except Exception as exc:
                status = f"FAILED: {type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[-1][:120]}"
            rows.append((f"[{name}]", time.time() - start, status))
            print(f"[{name}]: {rows[-1][1]:.0f} s, {status}", flush=True)
            if status.startswith("FAILED") and name in ("dataset", "autoencoder", "image encoder"):
                break  # the notebooks need these
        if args.ship:
            for path in ship_models(args.profile):
                print(f"shipped {path}")

    import papermill

    wanted = [w for w in args.only.split(",") if w] or [""]
    notebooks = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if any(w in p.name for w in wanted))
    if any(r[2].startswith("FAILED") for r in rows) or not args.notebooks:
        notebooks = []
    for notebook in notebooks:
        start = time.time()
        status = "ok"
        try:
            papermill.execute_notebook(
                str(notebook),
                str(out / notebook.name),
                parameters={"PROFILE": args.profile, "DEVICE": args.device},
                cwd=str(notebook.parent),
                kernel_name="python3",
                progress_bar=False,
                kernel_manager_class=encrypted_kernel_manager(),
            )
        except Exception as exc:  # papermill raises PapermillExecutionError with the failing cell
            status = f"FAILED: {type(exc).__name__}: {str(exc).strip().splitlines()[-1][:80]}"
        rows.append((notebook.name, time.time() - start, status))
        print(f"{notebook.name}: {rows[-1][1]:.0f} s, {status}", flush=True)

    width = max([len(r[0]) for r in rows] + [8])
    print(f"\n{'step':{width}s}  {'seconds':>7s}  status")
    for name, seconds, status in rows:
        print(f"{name:{width}s}  {seconds:7.0f}  {status}")
    from tutorial_lib.config import figures_dir

    print(f"\nexecuted notebooks in {out}; figures in {figures_dir()}")
    return 0 if not any(r[2].startswith("FAILED") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
