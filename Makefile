# closedloop: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export CLOSEDLOOP_DATABASE_URL ?= sqlite:///closedloop.db

.PHONY: install install-test run test lint format bench migration clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

## Install, load the demo data into SQLite and serve it at http://127.0.0.1:8000
run: install
	$(BIN)/closedloop init
	$(BIN)/closedloop demo --scale s --seed 1 --serve

## Install the test dependencies and run lint plus every test (unit, integration on SQLite and
## PostgreSQL, end-to-end in Debian's chromium)
test: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/pytest -n 2 --dist loadfile -q

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format:
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## Every benchmark at scales s and m on SQLite and PostgreSQL (SCALES="s m l" adds l); writes
## benchmarks/RESULTS.md and benchmarks/RESULTS.json
SCALES ?= s m
bench: install-test
	$(BIN)/python -m benchmarks.run_all --scales $(SCALES)

migration:
	./scripts/regen_migration.sh

clean:
	rm -rf $(VENV) closedloop.db closedloop.db-wal closedloop.db-shm
