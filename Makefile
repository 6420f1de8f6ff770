# RCU — the two commands that matter: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
INSTALLED := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo serve test test-fast lint bench bench-import messages clean

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[dev]"
	touch $@

install: $(INSTALLED)

## Set everything up on embedded defaults (SQLite, eager Celery), seed the demo base, serve.
demo: install
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "RCU is starting on http://$(HOST):$(PORT)/ (Ctrl-C to stop)."
	@echo "Periodic tasks run beside it (manage.py run_periodic --every 60): var/periodic.log."
	@EMAIL_BACKEND=$${EMAIL_BACKEND:-django.core.mail.backends.console.EmailBackend} \
	  $(PY) manage.py run_periodic --every 60 >> var/periodic.log 2>&1 & periodic=$$!; \
	  trap 'kill $$periodic 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

serve: install
	$(PY) manage.py runserver $(HOST):$(PORT)

## Set up and run the whole test suite (PostgreSQL when DATABASE_URL is set;
## PYTEST_ARGS passes options through, e.g. PYTEST_ARGS='-m "not browser"').
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -x -q -m "not browser"

## The gates CI runs before the tests: ruff, then mypy with the Django and REST framework
## stubs (its configuration, [tool.mypy], is in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

$(VENV)/.installed-bench: $(INSTALLED)
	$(PIP) install --quiet -e ".[dev,bench]"
	touch $@

## Benchmarks: long-running, never part of `make test`.
bench: $(VENV)/.installed-bench
	$(PY) -m bench.run

messages: install
	$(PY) manage.py makemessages -l fr -l en --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf var .pytest_cache
