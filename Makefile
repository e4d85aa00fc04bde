# Briefing: `make run` to set up, index sources/ and start; `make test` to set up and test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install run test test-fast lint bench browser clean help

help:
	@echo "make run     set up, index sources/, serve the app"
	@echo "make test    set up, lint (ruff, mypy) and run every test"
	@echo "make bench   run the benchmarks, write docs/BENCHMARKS.md"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch pinned in the same command: an unpinned torch drags in CUDA wheels.
	$(BIN)/python -m pip install --quiet "torch==2.13.0" -e ".[test,bench]"
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (no browser download: none is reachable).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

run: install
	$(BIN)/briefing index sources
	$(BIN)/briefing status
	$(BIN)/briefing serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install browser lint
	$(BIN)/python -m pytest -q

test-fast: install lint
	$(BIN)/python -m pytest -q -m "not integration and not e2e"

bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .briefing
