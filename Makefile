# Two commands do all set-up on a fresh machine:
#   make solve   solve a bundled example with S* on the embedded model
#   make test    run the test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE ?= examples/sum-of-two.json

.PHONY: solve test test-all lint bench install

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,dev,benchmarks]'
	touch $@

install: $(BIN)/.installed

solve: $(BIN)/.installed
	$(BIN)/codestar solve $(EXAMPLE)

test: $(BIN)/.installed
	$(BIN)/python -m pytest

test-all: $(BIN)/.installed
	$(BIN)/python -m pytest -m ''

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
