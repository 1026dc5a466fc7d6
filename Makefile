# Set-up and everyday commands. Each target creates $(VENV) when it is missing and
# installs the project into it, so a fresh clone needs nothing but Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
# Django 5.2 LTS by default; `make test PYTHON=python3.12 VENV=.venv-django6
# DJANGO='Django>=6.0,<6.2' EXTRAS=test,zstd` runs the suite on Django 6.
DJANGO ?= Django>=5.2,<5.3
EXTRAS ?= test,zstd,tasks
PYTEST_ARGS ?=

BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-$(shell echo '$(DJANGO) $(EXTRAS)' | cksum | cut -d' ' -f1)
# `make docs` installs the docs extra beside the others, under a stamp of its own.
DOCS_INSTALLED := $(VENV)/.installed-$(shell echo '$(DJANGO) $(EXTRAS),docs' | cksum | cut -d' ' -f1)
$(DOCS_INSTALLED): EXTRAS := $(EXTRAS),docs

.PHONY: test test-fast demo bench install clean

install: $(INSTALLED)

$(INSTALLED) $(DOCS_INSTALLED): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]" "$(DJANGO)"
	rm -f $(VENV)/.installed-* && touch $@

test: $(INSTALLED)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The core and integration tests, in seconds: no slow, browser, subprocess or fault tests.
test-fast: $(INSTALLED)
	$(BIN)/python -m pytest -m "not slow and not browser and not subprocess and not fault" $(PYTEST_ARGS)

demo: $(INSTALLED)
	test -e "$${TIMAK_DEMO_DB:-example_project/db.sqlite3}" || { \
	  $(BIN)/python example_project/manage.py migrate --noinput && \
	  $(BIN)/python example_project/manage.py seed_demo; }
	$(BIN)/python example_project/manage.py migrate --noinput
	$(BIN)/python example_project/manage.py runserver 127.0.0.1:8000

bench: $(INSTALLED)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

.PHONY: docs
docs: $(DOCS_INSTALLED)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) .venv-django6 build dist *.egg-info docs/_build
