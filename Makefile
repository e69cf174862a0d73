# Each target sets up .venv on first use; torch is installed first and pinned (CPU build).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Every brand-monitor command reads ./config.toml by default; `make run` writes it once from
# config.example.toml when it is missing, so the CLI and the daemon use the same file.
CONFIG ?= config.toml
STAMP := $(VENV)/.installed

.PHONY: run demo test bench lint clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11'"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	@if [ "$(CONFIG)" = config.toml ] && [ ! -e config.toml ]; then \
		cp config.example.toml config.toml && \
		echo "wrote config.toml from config.example.toml: edit it for your brands (or start over: $(BIN)/brand-monitor init --force --brand NAME)"; \
	fi
	$(BIN)/brand-monitor run --config $(CONFIG)

demo: $(STAMP)
	$(BIN)/brand-monitor demo

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/pip install --quiet 'ruff==0.17.6' 'mypy==2.4.1'  # pinned: a new release may add findings
	$(BIN)/ruff check monitor connectors models tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
