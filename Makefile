# One command each: `make playground` runs the product, `make test` runs every check.
# Both set everything up on a fresh machine (a virtual environment in .venv, and the few
# system packages the checks need, through apt-get, when they are missing).

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SYSTEM_STAMP := $(VENV)/.system-stamp

.PHONY: install system test lint types unit playground bench locales locales-check clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# GNU gettext (msgfmt --check, for the catalogue tests) and Debian's chromium (for the
# playground's browser test, driven by Playwright at /usr/bin/chromium) and PostgreSQL's server
# (the tests start a throwaway one; see tests/postgres.py), and the Noto fonts that draw the digest
# chart in Arabic script and Ethiopic (fonts-noto-core). Installed only when missing.
$(SYSTEM_STAMP): $(STAMP)
	@command -v msgfmt >/dev/null 2>&1 || { \
	  echo "installing gettext (msgfmt) with apt-get"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext) >/dev/null; }
	@test -x /usr/bin/chromium || { \
	  echo "installing chromium (for the playground's browser test) with apt-get"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing PostgreSQL (the tests start a throwaway server of their own) with apt-get"; \
	  mkdir -p /etc/postgresql-common; \
	  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    -o Dpkg::Options::=--force-confold postgresql) >/dev/null; }
	@test -f /usr/share/fonts/truetype/noto/NotoSansEthiopic-Regular.ttf || { \
	  echo "installing the Noto fonts (the digest chart in Arabic script and Ethiopic) with apt-get"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-core) >/dev/null; }
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
