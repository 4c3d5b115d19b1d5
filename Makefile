# Every target sets up .venv by itself, so a fresh clone needs only Python and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m examples.demo

test: lint
	$(BIN)/python -m pytest

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
	rm -rf $(VENV) $(IMPORTS_VENV) .mypy_cache .ruff_cache .pytest_cache
