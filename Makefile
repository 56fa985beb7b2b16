# TAR Portal. `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[dev]"
	touch $@

# Browser-test tooling (axe-core) from package-lock.json; node_modules is not committed.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The portal's Spanish catalogue, compiled in Python (polib) so no system gettext is needed.
portal/locale/es/LC_MESSAGES/django.mo: portal/locale/es/LC_MESSAGES/django.po $(VENV)/.installed
	$(PY) -c "import polib, sys; polib.pofile(sys.argv[1]).save_as_mofile(sys.argv[2])" $< $@

install: $(VENV)/.installed portal/locale/es/LC_MESSAGES/django.mo ## Create .venv, install the portal with its dev tools and translations

install-test-tools: install node_modules/.installed ## Also install the npm test tools (axe-core)

run: install ## Migrate, load the demo world, start web + Celery worker + beat (Ctrl-C stops all)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput -v0
	HOST=$(HOST) PORT=$(PORT) PY=$(PY) bash scripts/run_all.sh

test: install-test-tools ## Run the whole test suite (needs PostgreSQL, Redis and Chromium; see README)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install ## ruff lint + format check, app dependency contracts, migrations up to date
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DJANGO_SETTINGS_MODULE=tar_portal.settings.test $(PY) manage.py makemigrations --check --dry-run

format: install ## Format and auto-fix with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: install ## mypy (django-stubs) on the pure modules, the workflow kernel, every services and selectors module
	$(VENV)/bin/mypy authorizations/clocks.py criteria/engine.py criteria/coverage.py criteria/wording.py criteria/catalog.py \
		authorizations/workflow authorizations/transitions.py authorizations/deadlines.py \
		authorizations/services authorizations/selectors.py authorizations/icd10.py \
		authorizations/calendar.py authorizations/numbering.py tar_portal/pagination.py tar_portal/serializers.py \
		appeals/machines.py appeals/determinations.py appeals/services appeals/selectors.py appeals/sweep.py \
		notifications/policy.py notifications/services.py notifications/selectors.py \
		criteria/services.py accounts/services.py portal/services.py portal/selectors.py \
		portal/casework_selectors.py criteria/pa_list.py tar_portal/versioned.py \
		fhir/validation.py fhir/submit.py fhir/responses.py fhir/inquire.py fhir/access.py \
		fhir/smart.py fhir/subscriptions.py fhir/dtr.py fhir/crd.py fhir/tasks.py \
		fhir/secrets.py fhir/throttles.py \
		reports/periods.py reports/metrics.py reports/figures.py reports/drilldown.py \
		reports/irr.py reports/machines.py reports/tables.py reports/aggregates.py \
		grievances/clocks.py grievances/machines.py grievances/services.py \
		grievances/selectors.py grievances/sweep.py notifications/grievance_letters.py \
		portal/templatetags/portal_dates.py notifications/appeal_letters.py

bench: install ## Run every benchmark under bench/ (small sizes; BENCH_ARGS="--tars 1000000" for a large plan)
	for script in bench/bench_*.py; do echo "== $$script"; \
		if grep -q '"--tars"' $$script; then $(PY) $$script $(BENCH_ARGS) || exit 1; \
		else $(PY) $$script || exit 1; fi; done

migrate: install ## Apply database migrations
	$(PY) manage.py migrate --noinput

seed: install ## Load the demo world into the configured database
	$(PY) manage.py seed_demo

clean: ## Remove the demo database, broker files and caches (keeps .venv)
	rm -rf var .pytest_cache .ruff_cache

.PHONY: help install install-test-tools run test lint format typecheck bench migrate seed clean
