# `make dev` runs harvest locally, `make test` runs every test. Both build .venv on first use and
# reinstall it whenever pyproject.toml changes, from nothing but Python 3.11 and pip.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HARVEST_DATA_DIR ?= data
export HARVEST_DATA_DIR

.PHONY: dev test lint format bench sandbox clean browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "harvest needs Python 3.11; set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/harvest dev

sandbox: $(STAMP)
	$(BIN)/harvest sandbox serve

test: $(STAMP) browser
	$(BIN)/pytest -n auto

# Debian's chromium, for the browser test (Playwright drives it and downloads no browser): installed
# when missing, as root or with password-less sudo; otherwise this says how, and that test skips.
APT_CHROMIUM := apt-get install -y -qq --no-install-recommends chromium \
	|| (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium)
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif ! command -v apt-get >/dev/null; then \
	  echo "make browser: no apt-get here: install chromium as /usr/bin/chromium, or the browser test skips" >&2; \
	elif [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive sh -c '$(APT_CHROMIUM)' \
	    || echo "make browser: installing chromium failed; the browser test skips" >&2; \
	elif sudo -n true 2>/dev/null; then \
	  sudo -n env DEBIAN_FRONTEND=noninteractive sh -c '$(APT_CHROMIUM)' \
	    || echo "make browser: installing chromium failed; the browser test skips" >&2; \
	else \
	  echo "make browser: run 'sudo apt-get install chromium' once, or the browser test skips" >&2; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	VIRTUAL_ENV="$$PWD/$(VENV)" $(BIN)/dg check defs

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
