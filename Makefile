# One command each: `make playground` runs the product, `make test` runs every check.
# Both set everything up on a fresh machine (a virtual environment in .venv, and the few
# system packages the checks need, through apt-get, when they are missing).

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SYSTEM_STAMP := $(VENV)/.system-stamp

.PHONY: install system test lint types unit playground bench locales locales-check clean

$(STAMP): pyproject.toml
	@echo "creating the virtual environment in $(VENV)"
	python3 -m venv $(VENV)
	@echo "upgrading pip"
	$(PY) -m pip install --quiet --upgrade pip
	@echo "installing Check-in and its dependencies into $(VENV) (a few minutes the first time)"
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)
	@echo "installed"

install: $(STAMP)

# GNU gettext (msgfmt --check, for the catalogue tests) and Debian's chromium (for the
# playground's browser test, driven by Playwright at /usr/bin/chromium). Installed only when missing.
$(SYSTEM_STAMP): $(STAMP)
	@command -v msgfmt >/dev/null 2>&1 || { \
	  echo "installing gettext (msgfmt) with apt-get"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext) >/dev/null; }
	@test -x /usr/bin/chromium || { \
	  echo "installing chromium (for the playground's browser test) with apt-get"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; }
	touch $(SYSTEM_STAMP)

system: $(SYSTEM_STAMP)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: install
	$(VENV)/bin/mypy

unit: install system
	$(VENV)/bin/pytest

## Every check: lint, types and the whole test suite.
test: lint types unit

## The bot against the local Bot API, with a web page to chat as a young person and staff.
playground: install
	@echo "starting the playground (the real bot against a local Bot API) on http://127.0.0.1:8080"
	$(VENV)/bin/checkin-bot playground

bench: install
	$(PY) -m bench

## Regenerate locales/messages.pot and merge it into every catalogue.
locales: install
	$(PY) -m bot.locales extract
	$(PY) -m bot.locales update

locales-check: install
	$(PY) -m bot.locales check

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
