"""The notebooks' house rules. (nbval runs the notebooks themselves: see pyproject's addopts.)"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    dirty = [i for i, c in enumerate(_cells(path)) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_parameters_cell(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    assert code and "parameters" in code[0].get("metadata", {}).get("tags", []), f"{path.name}: first code cell is not tagged 'parameters'"
    source = "".join(code[0]["source"])
    assert "PROFILE" in source and "quick" in source, f"{path.name}: the parameters cell must set PROFILE (default 'quick')"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_objectives_summary_and_exercises(path):
    markdown = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
    for heading in ("In this notebook you will", "## Summary", "## Exercises", "## References"):
        assert heading in markdown, f"{path.name}: missing '{heading}'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_never_edits_sys_path(path):
    code = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code")
    assert "sys.path" not in code, f"{path.name}: import tutorial_lib (pip install -e .), do not edit sys.path"
