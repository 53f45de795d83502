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


ALL_NOTEBOOKS = NOTEBOOKS + sorted((Path(__file__).resolve().parents[1] / "notebooks" / "solutions").glob("*.ipynb"))


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_reads_and_validates_without_a_warning(path):
    """nbformat warns (MissingIDFieldWarning) about a format-4.5 notebook whose cells lack ids: a
    newcomer's first `make run` must print nothing that looks like a problem."""
    import warnings

    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nbformat.validate(nbformat.read(path, as_version=4))


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_turns_the_profile_name_into_settings_once(path):
    """The cell after the parameters reads PROFILE with config.get_profile: a wrong name (papermill -p PROFILE quik)
    stops there with the valid names; the library below takes the Profile, never the name."""
    code = ["".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code"]
    assert "config.get_profile(PROFILE)" in code[1], f"{path.name}: the cell after the parameters must resolve config.get_profile(PROFILE)"
    later = "\n".join(code[2:])
    for call in ("(PROFILE", "PROFILE)", "[PROFILE]"):
        assert call not in later, f"{path.name}: passes the name PROFILE to the library ({call}); pass the resolved profile"


def test_a_wrong_profile_name_stops_the_notebook_at_once_with_the_valid_names(tmp_path):
    """`papermill notebooks/01_….ipynb out.ipynb -p PROFILE quik`: one clear error in the first cells, not a KeyError deep inside."""
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(str(NOTEBOOKS[0]), str(tmp_path / "out.ipynb"), parameters={"PROFILE": "quik"}, kernel_name="python3",
                                   progress_bar=False, cwd=str(NOTEBOOKS[0].parent))  # fmt: skip
    assert "unknown profile 'quik': choose one of ['full', 'quick', 'smoke']" in str(error.value)
    assert error.value.exec_count <= 3  # the parameters, papermill's injected cell, the imports
