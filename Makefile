# Tasks for working on rehabflow. Run them inside the project's virtual environment (see CONTRIBUTING.md).
PYTHON ?= python
PACKAGES = scenarios sim optimizer rehabflow dashboard

.PHONY: help install test test-fast lint format format-check typecheck check bench bench-sim bench-roster docs docs-check backtest

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

install:  ## editable install with the development tools
	$(PYTHON) -m pip install -e ".[dev]"

test:  ## the whole suite (what CI runs)
	$(PYTHON) -m pytest -q

test-fast:  ## the suite without the real-browser test
	$(PYTHON) -m pytest -q -m "not browser"

lint:  ## ruff lint (rules and complexity limit in pyproject.toml)
	$(PYTHON) -m ruff check .

format:  ## ruff format the tree
	$(PYTHON) -m ruff format .

format-check:  ## would ruff format change anything?
	$(PYTHON) -m ruff format --check .

typecheck:  ## mypy on the packages (settings in pyproject.toml)
	$(PYTHON) -m mypy

check: lint format-check typecheck test  ## everything CI checks

bench:  ## every benchmark, figures as ratios against a reference measured in the same run
	$(PYTHON) benchmarks/bench_all.py

bench-sim:  ## the simulation benchmark alone
	$(PYTHON) benchmarks/bench_sim.py

bench-roster:  ## the roster ladder (slow: minutes)
	$(PYTHON) benchmarks/bench_roster.py

docs:  ## regenerate the generated reference pages (scenario fields, CLI)
	$(PYTHON) -m rehabflow.docs_gen

docs-check:  ## fail if a generated reference page is stale
	$(PYTHON) -m rehabflow.docs_gen --check

backtest:  ## regenerate the back-test reference tables in tests/data/
	$(PYTHON) tests/data/make_backtest.py
