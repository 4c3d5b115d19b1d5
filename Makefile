# Every target sets up .venv by itself, so a fresh clone needs only Python and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint format wheel-check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m examples.demo

test: lint wheel-check
	$(BIN)/python -m pytest

# The package as a user gets it: the wheel built from this tree, installed once per extra
# into fresh virtualenvs (.venv-wheel/, from the package registry), runs the README's
# quickstart from outside the clone (tests/packaging/check_wheel.py).
wheel-check: $(STAMP)
	$(BIN)/python tests/packaging/check_wheel.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The bench extra (langchain-openai, llama-index-llms-openai-like, pyinstrument) is only
# for this target; demo and test never install it.
BENCH_STAMP := $(VENV)/.bench-stamp

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# Imports are timed in a venv of their own, holding what a user installs and none of the
# test tools (which make httpx import its command-line client): see benchmarks/imports.py.
IMPORTS_VENV := .venv-imports
IMPORTS_STAMP := $(IMPORTS_VENV)/.installed-stamp

$(IMPORTS_STAMP): pyproject.toml
	$(PYTHON) -m venv $(IMPORTS_VENV)
	$(IMPORTS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	touch $(IMPORTS_STAMP)

bench: $(BENCH_STAMP) $(IMPORTS_STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) $(IMPORTS_VENV) .venv-wheel dist .mypy_cache .ruff_cache .pytest_cache
