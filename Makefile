# Permanence — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast test-future bench lint install migrate seed run check-deploy clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## make demo: install, migrate, load demo data, run web + websockets + worker + scheduler.
# Without an SMTP relay configured, the demo writes outgoing e-mails to var/mails/.
# Staff two-factor authentication is optional in the demo (TWO_FACTOR_REQUIRED_ROLES empty
# unless set); production requires it for administrators and billing staff.
demo: seed
	EMAIL_BACKEND=$${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend} \
	  TWO_FACTOR_REQUIRED_ROLES="$${TWO_FACTOR_REQUIRED_ROLES-}" \
	  PORT=$(PORT) $(PY) manage.py runstack --port $(PORT)

## make test: the whole suite (unit, API, authorization matrix, websockets, browser journeys).
# The non-browser tests run in TEST_WORKERS processes (pytest-xdist, one test database each);
# the browser journeys after them, one at a time (each drives Chromium and servers of its own).
TEST_WORKERS ?= 2

test: install
	$(PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS)
	$(PY) -m pytest -p no:cacheprovider -m browser $(PYTEST_ARGS)

## make test-fast: everything but the browser journeys.
test-fast: install
	$(PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS)

## make test-future: the fast suite with every clock of the test process a year ahead, so a
## test that mixes a fixed date with the real time fails now, not when the calendar gets there.
test-future: install
	PERMANENCE_TEST_CLOCK_SHIFT_DAYS=365 $(PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS)

## make bench: seeds realistic volumes and prints figures.
bench: install
	$(PY) -m bench $(BENCH)

## make lint: ruff, mypy, the import contracts (.importlinter: layers, no cycle), the count
## of imports hidden inside functions and bandit (security linter, [tool.bandit] in pyproject).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy permanence bench testkit
	$(VENV)/bin/lint-imports --no-cache
	$(PY) tools/function_imports.py
	$(VENV)/bin/bandit -c pyproject.toml -r permanence -q

check-deploy: install
	PRODUCTION=1 DEBUG=0 SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets;print(secrets.token_urlsafe(60))')} \
	  FIELD_ENCRYPTION_KEYS=$${FIELD_ENCRYPTION_KEYS:-$$($(PY) -c 'from cryptography.fernet import Fernet;print(Fernet.generate_key().decode())')} \
	  ALLOWED_HOSTS=permanence.example.fr $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var
