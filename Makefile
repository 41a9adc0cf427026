# The two commands of the quick start are `make run` and `make test`.

# Any Python from 3.11 to 3.13: `make test PYTHON=python3.12 VENV=.venv-3.12`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install browser lint format clean demo-code exercise-reset

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The public pages' words in each language: compiled from the .po files in the repository.
MO := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))
locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -i $< -o $@ --locale $*

install: $(STAMP) $(MO)

# With no configuration: SQLite under var/, worker and beat inside the web process.
# With DATABASE_URL and REDIS_URL: PostgreSQL and Redis, web, worker and beat as processes.
# `make run HOST=0.0.0.0` serves the other laptops in the room as well (see the README). Only
# the command line sets it: some shells keep the machine's name in an environment HOST.
HOST = 127.0.0.1
run: export DEBUG ?= true
run: export DEMO_MODE ?= true
run: export HOST := $(HOST)
run: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@$(PY) manage.py room_addresses --port 8000
	@if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then \
		PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start --port 8000; \
	else \
		$(PY) manage.py run_console --host $(HOST) --port 8000; \
	fi

# Start the district's tabletop exercise again from the beginning of its scenario.
exercise-reset: export DEBUG ?= true
exercise-reset: install
	@$(PY) manage.py exercise_reset $(if $(DISTRICT),--district $(DISTRICT),)

# The code the demo users' authenticator shows now (they share one demo secret).
demo-code: export DEBUG ?= true
demo-code: install
	@$(PY) manage.py demo_code

# Browser tests drive Debian's chromium; install it once if it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
		fi; }

test: install browser
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var/ .pytest_cache
