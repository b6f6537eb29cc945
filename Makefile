# Intersection — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MANAGE := $(PY) manage.py

.PHONY: help run test check lint typecheck imports migrations-check translations translations-check gettext screenshots pytest-sqlite pytest-postgres bench faults eval messages clean

help:
	@echo "make run    start web, worker and scheduler on http://127.0.0.1:8000 (SQLite, demo data)"
	@echo "make test   lint, types, import contracts, migrations check, tests on SQLite (and PostgreSQL if DATABASE_URL is set)"
	@echo "make bench  benchmarks under bench/"

$(STAMP): requirements.txt requirements-dev.txt constraints.txt scripts/find-python.sh scripts/fetch_feed_corpus.py
	@PYTHON=$$(scripts/find-python.sh) || exit 1; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$PYTHON"; "$$PYTHON" -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(PY) scripts/fetch_feed_corpus.py
	@touch $(STAMP)

var:
	@mkdir -p var

gettext:
	@command -v msgfmt >/dev/null || { echo "GNU gettext is missing: install it (apt-get install gettext) and run make again." >&2; exit 1; }

# Compiled with Babel (a Python library): `make run` needs no GNU gettext.
translations: $(STAMP)
	@$(PY) scripts/compile_messages.py >/dev/null

# Every interface string must be in the French and Dutch catalogs, translated: extract the
# strings into a scratch copy of the sources and check the resulting catalogs.
translations-check: $(STAMP) gettext
	@tmp=$$(mktemp -d); cp -r intersection manage.py $$tmp/; \
	(cd $$tmp && $(CURDIR)/$(PY) manage.py makemessages -l fr -l nl --no-obsolete -v 0) && \
	$(PY) scripts/check_translations.py $$tmp/intersection/locale; rc=$$?; rm -rf $$tmp; \
	if [ $$rc -ne 0 ]; then echo "Run 'make messages' and translate the new strings." >&2; fi; exit $$rc

run: $(STAMP) var translations
	$(MANAGE) migrate --no-input -v 0
	$(MANAGE) collectstatic --no-input -v 0
	$(MANAGE) load_demo
	$(MANAGE) mediawatch demo-sources
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

check: lint typecheck imports migrations-check translations-check

test: check pytest-sqlite pytest-postgres

# The last two need the PostgreSQL server of 127.0.0.1:5432 (they create and drop their own
# databases); archive_growth fills archives of 1,000,000 articles once (about 15 minutes
# each engine) and keeps them under var/bench-cache and as PostgreSQL databases.
bench: $(STAMP) var translations
	$(PY) bench/web.py
	$(PY) bench/dedup_lookup.py
	$(PY) bench/mediawatch.py
	$(PY) bench/contention.py
	$(PY) bench/archive_growth.py --engine sqlite
	$(PY) bench/archive_growth.py --engine postgresql

# Faults under load on PostgreSQL (DATABASE_URL's server): connections cut mid-ingestion while
# clients browse; prints what users got and what was lost or stored twice. Restarting
# PostgreSQL itself: .venv/bin/python bench/faults.py --yes-restart-postgres (cuts everyone).
faults: $(STAMP) var translations
	$(PY) bench/faults.py

# The main pages at 390 px and 1280 px into docs/screenshots (the browser tests write them to
# var/screenshots otherwise).
screenshots: $(STAMP) translations
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(VENV)/bin/pytest -q \
		tests/browser/test_design_system.py -k screenshotted

# Duplicate detection on the project's labelled pairs: precision, recall, F1.
eval: $(STAMP) var
	$(MANAGE) mediawatch eval-duplicates intersection/mediawatch/data/duplicates.jsonl | tail -n 1

messages: $(STAMP)
	$(MANAGE) makemessages -l fr -l nl -l en --ignore=.venv --ignore=tests --ignore=bench --no-obsolete

clean:
	rm -rf $(VENV) var staticfiles
