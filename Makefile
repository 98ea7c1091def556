# Two commands do all the set-up on a fresh machine:
#   make run    — create .venv, install, open the explorer on its shipped defaults
#   make test   — create .venv, install, run the test suite (what CI runs)
# GPU users: make run TORCH_SPEC=torch   (or pre-install the CUDA build of torch for your platform)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Pinned so pip takes the CPU wheel this machine keeps on disk instead of several GB of CUDA packages.
TORCH_SPEC ?= torch==2.13.0
ARGS ?=

.PHONY: run test bench lint clean-venv gpu-check wheel-smoke

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/gncviewer $(ARGS)

test: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(ARGS)

bench: $(VENV)/.installed
	$(PY) benchmarks/run_all.py $(ARGS)

# The GPU path on a machine with CUDA: CUDA-only tests, CT benchmark and full toy study on the GPU, with
# figures; without CUDA it says "no CUDA device" and fails.  ARGS=--self-check: its CPU-side check (CI).
gpu-check: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/gpu_check.py $(ARGS)

# Build the sdist and the wheel, install the wheel into a fresh venv outside the tree and smoke-test it (CI).
wheel-smoke:
	PYTHON=$(PYTHON) TORCH_SPEC="$(TORCH_SPEC)" packaging/wheel-smoke-test.sh

# ruff (style and bugs), ruff format (layout), import-linter (the layers), pyright (types, basic mode).
LINTED := gncviewer tests benchmarks packaging
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pyright

clean-venv:
	rm -rf $(VENV)

# Standalone Linux bundle in dist/gncviewer/ (PyInstaller onedir, CPU torch), smoke-tested; see packaging/README.md.
.PHONY: bundle
bundle:
	VENV=$(VENV) PYTHON=$(PYTHON) TORCH_SPEC="$(TORCH_SPEC)" packaging/build.sh
