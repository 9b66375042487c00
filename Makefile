# riskkit: the two commands are `make briefing` and `make test`; each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.riskkit-installed
REPORTS ?= reports

.DEFAULT_GOAL := help
.PHONY: help install chromium postgres briefing test lint bench sample audit lock clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "} {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) chromium postgres ## Create .venv and install riskkit, its dev tools, Chromium and PostgreSQL

chromium: ## Install Debian's Chromium (browser test, PDF output); needs root or sudo
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium is missing: install Debian's 'chromium' package"; exit 1; fi

postgres: ## Install Debian's PostgreSQL server (the register tests start a throwaway cluster); needs root or sudo
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "PostgreSQL is missing: install Debian's 'postgresql' package"; exit 1; fi

briefing: $(STAMP) ## Assess the sample ASB incident into reports/asb_publication/ (register: reports/register.sqlite)
	$(BIN)/riskkit assess data/sample/asb_publication/incident.yml --out $(REPORTS)/asb_publication \
		--register $(REPORTS)/register.sqlite

test: install ## Run the whole test suite (unit, notebooks with nbval, end to end, browser) on every core
	$(BIN)/pytest -n auto --dist loadfile

lint: $(STAMP) ## ruff over the code
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP) ## Run the benchmarks and write benchmarks/results.md (about 15 min, 7 GB)
	$(BIN)/python benchmarks/run.py

sample: $(STAMP) ## Regenerate data/sample/ from the generator
	$(BIN)/riskkit sample

audit: $(STAMP) ## Check the locked dependencies for known vulnerabilities (pip-audit, needs PyPI's JSON API)
	$(BIN)/pip-audit --requirement requirements.lock --no-deps --disable-pip --vulnerability-service pypi --strict

lock: $(STAMP) ## Re-pin requirements.lock from the current .venv (after upgrading a dependency)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^riskkit' > requirements.lock

clean: ## Remove .venv and generated reports
	rm -rf $(VENV) reports/*/ .pytest_cache
