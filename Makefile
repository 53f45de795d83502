# The commands the README names. Each one creates .venv and installs the package on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lab full data lint figures

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Execute every notebook in the quick profile into build/notebooks/ (figures into build/figures/).
run: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py --profile quick --out build/notebooks

## Refresh the committed figures/ (the README shows them): every notebook, or ONLY=06 for one.
figures: $(STAMP)
	TUTORIAL_FIGURES=$(CURDIR)/figures $(BIN)/python scripts/run_notebooks.py --profile quick --out build/notebooks --only "$(ONLY)"

## Unit tests of tutorial_lib, then every notebook through nbval (quick profile).
test: $(STAMP)
	$(BIN)/python -m pytest

## JupyterLab on the notebooks.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

## The paper-scale run (meant for a GPU): every notebook in the full profile into build/notebooks_full/.
full: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py --profile full --out build/notebooks_full

## Build the quick dataset now (the notebooks also build it on first use).
data: $(STAMP)
	$(BIN)/python -m tutorial_lib data build --profile quick

lint: $(STAMP)
	$(BIN)/ruff check tutorial_lib tests benchmarks scripts


.PHONY: diagrams browser

## The concept diagrams (figures/diagrams/, committed), drawn by scripts/draw_diagrams.py from the real modules.
diagrams: $(STAMP)
	$(BIN)/python scripts/draw_diagrams.py

## Notebook 01 in JupyterLab in headless Chromium (Debian's chromium + pip's playwright; skipped without them).
browser: $(STAMP)
	$(BIN)/python -m pytest tests/browser -v -rs
