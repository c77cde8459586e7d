# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint format venv clean bench system-deps test-deps

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

venv: $(BIN)/activate

## Debian packages a fresh machine lacks: Python's venv for both, PostgreSQL and Redis for the tests.
system-deps:
	@scripts/system-deps.sh run
test-deps:
	@scripts/system-deps.sh test

## The service on its embedded defaults: SQLite, django-q2's ORM broker, console delivery, demo data.
run: system-deps venv
	PORT=$(PORT) exec scripts/run.sh

## Lint, the layer order of the apps, the types (mypy.ini), then the whole suite on a throwaway PostgreSQL server on
## loopback and, side by side, on SQLite (the embedded default, whose claim path differs): scripts/test-both.sh.
## mypy's Django plugin imports config.settings, which exits without a SECRET_KEY (a fresh checkout has no .env);
## the key signs nothing there.
test: test-deps venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	SECRET_KEY=mypy-only $(BIN)/mypy
	scripts/test-both.sh $(PYTEST_ARGS)

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	scripts/with-test-services.sh $(BIN)/python bench/matching.py
	scripts/with-test-services.sh $(BIN)/python bench/ingest.py
	scripts/with-test-services.sh $(BIN)/python bench/delivery.py --cold
	scripts/with-test-services.sh $(BIN)/python bench/freshness.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache staticfiles
