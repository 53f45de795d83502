"""Build a static HTML book of the nine notebooks, executed in the quick profile (what `make site` runs).

    python scripts/build_site.py                                  # execute into build/site/notebooks/, HTML into build/site/
    python scripts/build_site.py --executed build/notebooks       # convert notebooks `make run` already executed, no execution
    python scripts/build_site.py --only 01,02 --out /tmp/site     # a few notebooks only

Every notebook is executed by papermill through ``scripts/run_notebooks.py`` (the same call as
``make run``): the executed copies go to ``<out>/notebooks/`` and their figures to
build/figures/, so no tracked file is written. nbconvert then turns each executed notebook
into ``<out>/NN_name.html`` with the ``lab`` template. The pictures are inside the pages:
outputs are embedded by nbconvert as always, and the markdown images (the concept diagrams
under figures/diagrams/) are embedded as data URIs, so ``<out>`` can be copied anywhere and
read offline. ``<out>/index.html`` links the notebooks in order, with their titles.

Offline, the text, tables and static figures all show. What needs JavaScript from a CDN does
not: the interactive k3d views and widgets (every one has a static twin figure beside it) and
the typesetting of the few LaTeX formulas (shown as their TeX source instead). Links between
notebooks point at the HTML pages, and "all notebooks" at the index.
"""

from __future__ import annotations

import argparse
import base64
import html
import importlib.util
import json
import mimetypes
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def notebook_title(path: Path) -> str:
    """The first markdown heading of a notebook, without the '#'."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            for line in source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def local_links(page: str) -> str:
    """Point links between notebooks at their pages, and the README's notebook list at the index."""
    page = re.sub(r'href="(\d\d_[A-Za-z0-9_]+)\.ipynb(#[^"]*)?"', lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', page)
    return re.sub(r'href="\.\./README\.md(#[^"]*)?"', 'href="index.html"', page)


def embed_local_images(page: str) -> str:
    """Replace ``<img src="../figures/...">`` (a path relative to notebooks/, inside the repository) by a data URI.

    nbconvert's own ``embed_images`` refuses files above the notebook's folder, and the diagrams
    live in ../figures/diagrams/.
    """

    def embed(match: re.Match) -> str:
        path = (NOTEBOOKS / html.unescape(match.group(2))).resolve()
        if not path.is_file() or not path.is_relative_to(ROOT):
            return match.group(0)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return f'{match.group(1)}data:{mime};base64,{base64.b64encode(path.read_bytes()).decode("ascii")}"'

    return re.sub(r'(<img\b[^>]*?\bsrc=")(?!data:|https?:)([^"]+)"', embed, page)


def convert(executed: Path, out: Path) -> Path:
    """One executed notebook → ``out/<name>.html`` (lab template, every picture inside the page)."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    notebook = nbformat.read(executed, as_version=4)
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"path": str(NOTEBOOKS), "name": executed.stem}})
    page = out / f"{executed.stem}.html"
    page.write_text(local_links(embed_local_images(body)), encoding="utf-8")
    return page


def index_page(entries: list[tuple[str, str, str]], profile: str) -> str:
    """The book's first page: the notebooks in order, each with its title and, when it failed, why."""
    items = []
    for name, title, status in entries:
        note = "" if status == "ok" else f' <span class="failed">({html.escape(status)})</span>'
        items.append(f'<li><a href="{name}.html">{html.escape(title)}</a>{note}</li>')
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>From 2D to 3D with neural nets</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46em; margin: 3em auto; padding: 0 1em; line-height: 1.5; color: #222; }}
li {{ margin: 0.4em 0; }}
.failed {{ color: #b03a2e; }}
</style>
</head>
<body>
<h1>From 2D to 3D with neural nets</h1>
<p>A notebook-first tutorial of single-image 3D reconstruction with neural networks (IM-NET),
following the talk <em>From 2D to 3D using neural nets</em>. These pages are the notebooks
executed in the <code>{html.escape(profile)}</code> profile; to run and change them, open the
repository's <code>notebooks/</code> in JupyterLab (<code>make lab</code>).</p>
<ol>
{chr(10).join(items)}
</ol>
<p>Offline, the interactive 3D views and widgets do not appear (they need JavaScript from the
internet); the static figure beside each shows the same view.</p>
</body>
</html>
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="build/site", help="folder of the HTML book (default build/site)")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--executed", default=None, help="convert the executed notebooks in this folder instead of executing them")
    parser.add_argument("--only", default="", help="only notebooks whose name contains this (or one of these, comma-separated)")
    args = parser.parse_args(argv)

    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    wanted = [w for w in args.only.split(",") if w] or [""]
    sources = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if any(w in p.name for w in wanted))
    start = time.time()
    failed_run = False
    if args.executed is None:
        spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
        run_notebooks = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(run_notebooks)
        executed_dir = out / "notebooks"
        only = ",".join(p.stem for p in sources)
        failed_run = run_notebooks.main(["--profile", args.profile, "--out", str(executed_dir), "--only", only]) != 0
    else:
        executed_dir = (ROOT / args.executed).resolve()

    entries = []
    for source in sources:
        executed = executed_dir / source.name
        title = notebook_title(source)
        if not executed.is_file():
            entries.append((source.stem, title, "not executed"))
            print(f"{source.name}: no executed copy in {executed_dir}")
            continue
        status = "ok"
        errors = [o for c in json.loads(executed.read_text(encoding="utf-8"))["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            status = f"stopped at an error: {errors[0].get('ename', '')}"
        page = convert(executed, out)
        entries.append((source.stem, title, status))
        print(f"{page.relative_to(ROOT) if page.is_relative_to(ROOT) else page}: {page.stat().st_size / 1e6:.1f} MB, {status}")
    (out / "index.html").write_text(index_page(entries, args.profile), encoding="utf-8")
    print(f"\n{len(entries)} pages and index.html in {out} ({time.time() - start:.0f} s); open {out / 'index.html'}")
    return 1 if failed_run or any(status != "ok" for _, _, status in entries) else 0


if __name__ == "__main__":
    sys.exit(main())
