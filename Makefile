# Intersection — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MANAGE := $(PY) manage.py

.PHONY: help run test check lint typecheck imports migrations-check pytest pytest-sqlite pytest-postgres bench messages clean

help:
	@echo "make run    start web, worker and scheduler on http://127.0.0.1:8000 (SQLite, demo data)"
	@echo "make test   lint, types, import contracts, migrations check, tests on SQLite (and PostgreSQL if DATABASE_URL is set)"
	@echo "make bench  benchmarks under bench/"

$(STAMP): requirements.txt requirements-dev.txt constraints.txt scripts/find-python.sh
	@PYTHON=$$(scripts/find-python.sh) || exit 1; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$PYTHON"; "$$PYTHON" -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@touch $(STAMP)

var:
	@mkdir -p var

translations: $(STAMP)
	@$(MANAGE) compilemessages --ignore=.venv -v 0

run: $(STAMP) var translations
	$(MANAGE) migrate --no-input -v 0
	$(MANAGE) collectstatic --no-input -v 0
	$(MANAGE) load_demo
	$(MANAGE) runall

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

imports: $(STAMP)
	$(VENV)/bin/lint-imports

migrations-check: $(STAMP) var
	$(MANAGE) makemigrations --check --dry-run

pytest-sqlite: $(STAMP) translations
	env -u DATABASE_URL $(VENV)/bin/pytest

pytest-postgres: $(STAMP) translations
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== pytest on $$DATABASE_URL"; $(VENV)/bin/pytest; \
	else echo "== DATABASE_URL not set: PostgreSQL run skipped"; fi

check: lint typecheck imports migrations-check

test: check pytest-sqlite pytest-postgres

bench: $(STAMP) var translations
	$(PY) bench/web.py

messages: $(STAMP)
	$(MANAGE) makemessages -l fr -l nl -l en --ignore=.venv --ignore=tests --no-obsolete

clean:
	rm -rf $(VENV) var staticfiles
