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
	$(BIN)/python -m pip install --quiet -e '.[local,dev,benchmarks,report,ray]'
	touch $@

install: $(BIN)/.installed

# Best effort, tried once: headless Chromium from Debian for the report's browser tests
# (they skip without it). Needs root and the network; anything else just carries on.
$(VENV)/.browser: | $(BIN)/.installed
	-@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		>/dev/null 2>&1; } || echo "chromium not installed: the report's browser tests will skip"
	@touch $@

solve: $(BIN)/.installed
	$(BIN)/codestar solve $(EXAMPLE)

test: $(BIN)/.installed $(VENV)/.browser
	$(BIN)/python -m pytest

test-all: $(BIN)/.installed
	$(BIN)/python -m pytest -m ''

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
