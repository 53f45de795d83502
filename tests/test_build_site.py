"""scripts/build_site.py: links between the pages, pictures inside them, titles and the index (no notebook is executed)."""

import base64
import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_site.py"


@pytest.fixture(scope="module")
def site():
    spec = importlib.util.spec_from_file_location("build_site", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_links_point_at_pages_and_the_index(site):
    page = '<a href="02_neural_networks_and_cnns.ipynb">next</a> <a href="../README.md#the-notebooks">all</a> <a href="https://x.org/a.ipynb">out</a>'
    assert site.local_links(page) == '<a href="02_neural_networks_and_cnns.html">next</a> <a href="index.html">all</a> <a href="https://x.org/a.ipynb">out</a>'


def test_diagrams_are_embedded_and_the_rest_left_alone(site):
    page = '<img alt="IM-NET" src="../figures/diagrams/imnet.png"> <img src="data:image/png;base64,AAAA"> <img src="../figures/diagrams/none.png">'
    embedded = site.embed_local_images(page)
    expected = base64.b64encode((site.ROOT / "figures" / "diagrams" / "imnet.png").read_bytes()).decode("ascii")
    assert f'<img alt="IM-NET" src="data:image/png;base64,{expected}">' in embedded
    assert '<img src="data:image/png;base64,AAAA">' in embedded  # already inside the page
    assert '<img src="../figures/diagrams/none.png">' in embedded  # no such file: unchanged
    assert site.embed_local_images('<img src="../../../etc/passwd">') == '<img src="../../../etc/passwd">'  # outside the repository


def test_titles_and_index(site, tmp_path):
    notebook = tmp_path / "01_demo.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": ["intro\n", "# 01 · A demo\n"]}]}))
    assert site.notebook_title(notebook) == "01 · A demo"
    index = site.index_page([("01_demo", "01 · A demo", "ok"), ("02_other", "02 · <Other>", "stopped at an error: ValueError")], "quick")
    assert '<li><a href="01_demo.html">01 · A demo</a></li>' in index
    assert "02 · &lt;Other&gt;" in index and "stopped at an error: ValueError" in index
