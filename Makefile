# q2c — the quickstart is `make demo` then `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
# SQL that sqlfluff lints (dbt templater config in .sqlfluff); only the folders that exist.
SQL_CANDIDATES := dbt_project
SQL_DIRS := $(wildcard $(SQL_CANDIDATES))

.PHONY: setup demo test test-fast lint format lock bench clean

setup: $(STAMP)

# Re-installs only when the lock or the project metadata changed, so it is fast when up to date.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	$(BIN)/q2c demo

# Lint, then the whole suite (slow tests included: CI runs exactly this). The bench's own tests need reladiff.
# Two workers (pytest-xdist), a test file each at a time: a file's module fixtures (servers, ingests, builds)
# are set up once. `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: setup $(BENCH_STAMP) lint
	$(PYTEST)

test-fast: setup $(BENCH_STAMP)
	$(PYTEST) -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(if $(SQL_DIRS),$(BIN)/sqlfluff lint $(SQL_DIRS),@echo "sqlfluff: no SQL folders yet ($(SQL_CANDIDATES))")

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: setup
	$(BIN)/python -m pip freeze --all --exclude-editable | grep -v "^pip==" | sed '/^q2c/d' > requirements.lock.new
	{ head -2 requirements.lock; cat requirements.lock.new; } > requirements.lock.tmp && mv requirements.lock.tmp requirements.lock && rm requirements.lock.new

# The whole cycle at a scale, each stage against its limit (not part of `make test`): one table, and every
# figure in bench/results/latest.json. reladiff (the table-diff peer) is a benchmark-only dependency.
SCALE ?= L
$(BENCH_STAMP): requirements-bench.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-bench.txt
	touch $(BENCH_STAMP)

bench: setup $(BENCH_STAMP)
	$(BIN)/python -m bench.cycle --scale $(SCALE)

clean:
	rm -rf $(VENV) q2c-data .pytest_cache .ruff_cache
