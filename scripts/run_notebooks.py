"""Execute every notebook through papermill and print a table: notebook, seconds, status.

    python scripts/run_notebooks.py --profile quick --out build/notebooks [--only 04]

Notebooks run in their own folder (so relative paths behave as in JupyterLab) and write
their figures to build/figures/, or to $TUTORIAL_FIGURES (``make figures`` points it at the
committed figures/). The exit status is non-zero when any notebook failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick", choices=["quick", "full"])
    parser.add_argument("--out", default="build/notebooks")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--only", default="", help="run only notebooks whose name contains this")
    args = parser.parse_args(argv)

    import papermill

    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if args.only in p.name)
    rows = []
    for notebook in notebooks:
        start = time.time()
        status = "ok"
        try:
            papermill.execute_notebook(
                str(notebook), str(out / notebook.name), parameters={"PROFILE": args.profile, "DEVICE": args.device},
                cwd=str(notebook.parent), kernel_name="python3", progress_bar=False,
            )
        except Exception as exc:  # papermill raises PapermillExecutionError with the failing cell
            status = f"FAILED: {type(exc).__name__}: {str(exc).strip().splitlines()[-1][:80]}"
        rows.append((notebook.name, time.time() - start, status))
        print(f"{notebook.name}: {rows[-1][1]:.0f} s, {status}", flush=True)

    width = max([len(r[0]) for r in rows] + [8])
    print(f"\n{'notebook':{width}s}  {'seconds':>7s}  status")
    for name, seconds, status in rows:
        print(f"{name:{width}s}  {seconds:7.0f}  {status}")
    from tutorial_lib.config import figures_dir

    print(f"\nexecuted notebooks in {out}; figures in {figures_dir()}")
    return 0 if all(r[2] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
