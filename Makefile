# The commands the README names. Each one creates .venv and installs the package on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Exact versions with hashes for Linux x86_64 / Python 3.11, made from pyproject.toml by `make lock`.
LOCK   := requirements.lock
# TORCH=cpu: install torch and torchvision from PyTorch's CPU-only index instead of PyPI's CUDA build (Linux).
TORCH  ?= default
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
# Packages that only the CUDA build of torch needs; TORCH=cpu leaves them out of the lock (and takes torch itself from the CPU index).
CUDA_LIBS := triton|nvidia-[a-z0-9-]+|cuda-[a-z-]+
CUDA_ONLY := torch|torchvision|$(CUDA_LIBS)
LOCKED_PLATFORM := import platform, sys; sys.exit(not (sys.platform == "linux" and platform.machine() == "x86_64" and sys.version_info[:2] == (3, 11)))

.PHONY: install lock run test unit notebooks solutions lab full data lint figures site offline

# The lock on the platform it is made for; elsewhere (macOS, Windows, another Python) the newest versions pyproject.toml allows.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@if ! $(BIN)/python -c '$(LOCKED_PLATFORM)'; then \
		echo "$(LOCK) is for Linux x86_64 / Python 3.11: installing the newest versions pyproject.toml allows instead"; \
		echo "+ pip install -e '.[dev]'"; $(BIN)/python -m pip install --quiet -e '.[dev]'; \
	elif [ "$(TORCH)" = cpu ]; then \
		mkdir -p build && awk '/^[a-z]/ { skip = ($$0 ~ /^($(CUDA_ONLY))==/) } !skip' $(LOCK) > build/requirements-cpu.lock; \
		pins=$$(grep -E '^(torch|torchvision)==' $(LOCK) | cut -d' ' -f1 | tr '\n' ' '); \
		echo "+ pip install --no-deps --index-url $(TORCH_CPU_INDEX) $$pins"; \
		$(BIN)/python -m pip install --quiet --no-deps --index-url $(TORCH_CPU_INDEX) $$pins; \
		echo "+ pip install -r build/requirements-cpu.lock"; $(BIN)/python -m pip install --quiet -r build/requirements-cpu.lock; \
	else \
		echo "+ pip install -r $(LOCK)"; $(BIN)/python -m pip install --quiet -r $(LOCK); \
	fi
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## Refresh requirements.lock from pyproject.toml (pip-tools, in build/lock-tools): keeps the pins that still fit;
## UPGRADE=1 moves every package to its newest version. Torch stays at LOCK_TORCH (the versions CI installs).
LOCK_TORCH ?= torch==2.14.1 torchvision==0.29.1
lock:
	@$(PYTHON) -c '$(LOCKED_PLATFORM)' || { echo "make lock resolves for Linux x86_64 / Python 3.11: run it there (PYTHON=python3.11)"; exit 1; }
	test -x build/lock-tools/bin/pip-compile || ($(PYTHON) -m venv build/lock-tools && build/lock-tools/bin/python -m pip install --quiet 'pip-tools==7.6.2')
	CUSTOM_COMPILE_COMMAND='make lock' build/lock-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --extra dev $(if $(UPGRADE),--upgrade) \
		$(foreach pin,$(LOCK_TORCH),--upgrade-package '$(pin)') --output-file $(LOCK) pyproject.toml
	{ echo "# For Linux x86_64 and Python 3.11: exact versions, with sha256 hashes, of tutorial_lib's dependencies and its [dev] extra."; \
	  echo "# torch and torchvision are PyPI's default Linux wheels (the CUDA build, hence the nvidia-* packages); make install TORCH=cpu"; \
	  echo "# swaps them for PyTorch's CPU-only wheels. Other platforms: make install uses pyproject.toml's ranges instead."; \
	  echo "# Install: make install (pip install -r requirements.lock, then pip install --no-deps -e .). Refresh: make lock."; \
	  cat $(LOCK); } > $(LOCK).tmp && mv $(LOCK).tmp $(LOCK)

## Execute every notebook in the quick profile into build/notebooks/ (figures into build/figures/).
run: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py --profile quick --out build/notebooks

## Refresh the committed figures/ (the README shows them): every notebook, or ONLY=06 for one.
figures: $(STAMP)
	TUTORIAL_FIGURES=$(CURDIR)/figures $(BIN)/python scripts/run_notebooks.py --profile quick --out build/notebooks --only "$(ONLY)"

## Unit tests of tutorial_lib, every notebook through nbval (quick profile), then JupyterLab in a real browser.
test: unit notebooks browser

## Unit tests only (tests/ without the browser test, minutes).
unit: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/browser

## Every notebook through nbval (quick profile; --nbval-lax comes from pyproject's addopts).
notebooks: $(STAMP)
	$(BIN)/python -m pytest notebooks

## The worked solutions (notebooks/solutions/, for instructors) through nbval, as `make notebooks` runs the notebooks.
solutions: $(STAMP)
	$(BIN)/python -m pytest notebooks/solutions

## JupyterLab on the notebooks.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

## The paper-scale run (meant for a GPU): every notebook in the full profile into build/notebooks_full/.
full: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py --profile full --out build/notebooks_full

## Build the quick dataset now (the notebooks also build it on first use).
data: $(STAMP)
	$(BIN)/python -m tutorial_lib data build --profile quick

## A static HTML book: every notebook executed in the quick profile (copies under build/site/notebooks/), then
## nbconvert's lab template, pictures embedded, into build/site/ (open build/site/index.html).
site: $(STAMP)
	$(BIN)/python scripts/build_site.py --profile quick --out build/site

## A room without internet (docs/workshop.md): every package of the lock as a file in build/wheelhouse/
## (TORCH=cpu: PyTorch's CPU-only torch and torchvision instead of the CUDA build and its libraries),
## then the quick dataset and search index built and the shipped checkpoints checked (scripts/prepare_offline.py).
## Students install with: pip install --no-index --find-links build/wheelhouse -r requirements.lock
WHEELHOUSE ?= build/wheelhouse
offline: $(STAMP)
	@$(BIN)/python -c '$(LOCKED_PLATFORM)' || { echo "make offline downloads the files of $(LOCK), which is for Linux x86_64 / Python 3.11: run it there"; exit 1; }
	mkdir -p $(WHEELHOUSE)
	@if [ "$(TORCH)" = cpu ]; then \
		awk '/^[a-z]/ { skip = ($$0 ~ /^($(CUDA_ONLY))==/) } !skip' $(LOCK) > $(WHEELHOUSE)/requirements-cpu.lock; \
		pins=$$(grep -E '^(torch|torchvision)==' $(LOCK) | cut -d' ' -f1 | tr '\n' ' '); \
		echo "+ pip download --no-deps --index-url $(TORCH_CPU_INDEX) -d $(WHEELHOUSE) $$pins"; \
		$(BIN)/python -m pip download --quiet --no-deps --index-url $(TORCH_CPU_INDEX) -d $(WHEELHOUSE) $$pins && \
		echo "+ pip download --no-deps -d $(WHEELHOUSE) -r $(WHEELHOUSE)/requirements-cpu.lock" && \
		$(BIN)/python -m pip download --quiet --no-deps -d $(WHEELHOUSE) -r $(WHEELHOUSE)/requirements-cpu.lock; \
	else \
		echo "+ pip download --no-deps -d $(WHEELHOUSE) -r $(LOCK)"; \
		$(BIN)/python -m pip download --quiet --no-deps -d $(WHEELHOUSE) -r $(LOCK); \
	fi
	$(BIN)/python scripts/prepare_offline.py --wheelhouse $(WHEELHOUSE) --lock $(LOCK) --profile quick $(if $(filter cpu,$(TORCH)),--without '$(CUDA_LIBS)' --torch-build cpu)

## Lint and formatting (settings in pyproject.toml): both are checked, nothing is rewritten.
lint: $(STAMP)
	$(BIN)/ruff check tutorial_lib tests benchmarks scripts
	$(BIN)/ruff format --check --output-format concise tutorial_lib tests benchmarks scripts  # `ruff format --diff` shows the changes

.PHONY: diagrams browser

## The concept diagrams (figures/diagrams/, committed), drawn by scripts/draw_diagrams.py from the real modules.
diagrams: $(STAMP)
	$(BIN)/python scripts/draw_diagrams.py

## Notebook 01 in JupyterLab in headless Chromium (Debian's chromium + pip's playwright; skipped without them).
browser: $(STAMP)
	$(BIN)/python -m pytest tests/browser -v -rs
