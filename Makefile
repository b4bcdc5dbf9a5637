# iocmap — the two commands: `make demo` and `make test`. Everything else is a step of them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
VENDORED := maps/assets/vendor/.installed

.PHONY: demo test test-fast test-durations docs system venv assets db db-down lint bench clean prod-local

BOUNDARIES ?=

# Python's bytecode caches are written here even where the environment says not to: with
# PYTHONDONTWRITEBYTECODE set (as on this machine's shells) every process compiled the
# project and pytest re-wrote the asserts of every test module (~7 s of CPU each time), so
# each test worker, server and CLI started ~2× slower (measured: `import api.app` 2.1 s of
# CPU without caches, 1.1 s with). The sandbox's children still never write one
# (geo/ingest/sandbox.py ENV_FIXED).
unexport PYTHONDONTWRITEBYTECODE

# Set-up steps that do not wait on each other run side by side: the Python packages (venv,
# then the database) and the map pages' assets (npm). Each needs only the Debian packages
# first (`| system` below). Output is not synchronised: the test run's lines must show as
# they come, and the set-up steps are quiet.
MAKEFLAGS += --jobs=3

# The notices' delivery worker (`iocmap worker`) runs beside the server and stops with it.
demo: db assets ## set up everything, load the demo data, serve on http://127.0.0.1:8000
	$(BIN)/iocmap demo $(if $(BOUNDARIES),--boundaries "$(BOUNDARIES)")
	$(BIN)/iocmap worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT; \
	  $(BIN)/iocmap serve --host 127.0.0.1 --port 8000

# Kinds that run one at a time (`quiet`: tests that measure time or memory under a load
# they make themselves, tests/conftest.py QUIET_MODULES; and `slow`) after the rest has run
# in JOBS parallel workers (pytest-xdist, a database per worker). Four on two cores: the tests wait on browsers, servers and the database more
# than they compute (measured: test-fast 5:45 with 4 workers against 8:53 with 2; 3:03 once
# tests/durations.json moved the tests of 2 s or more to `heavy`, load average 5).
# --no-loadscope-reorder: xdist otherwise reorders the modules by their number of tests,
# undoing the longest-first order tests/conftest.py sets, and the one-test modules that take
# minutes (schemathesis, the real sample end to end) started last and ran alone at the end.
JOBS ?= 4
SERIAL := quiet or slow
FAST := not (browser or server or slow or real_sample or heavy)

test: db assets ## set up everything and run every test against a real PostGIS
	$(BIN)/pytest -q -n $(JOBS) --dist loadfile --no-loadscope-reorder -m "not ($(SERIAL))"; a=$$?; \
	$(BIN)/pytest -q -m "$(SERIAL)"; b=$$?; \
	for rc in $$a $$b; do [ $$rc -ne 0 ] && [ $$rc -ne 5 ] && exit $$rc; done; exit 0

test-fast: db assets ## every test but the slow kinds (browser, server, slow, real_sample, heavy)
	$(BIN)/pytest -q -n $(JOBS) --dist loadfile --no-loadscope-reorder -m "$(FAST)"; rc=$$?; [ $$rc -eq 5 ] && exit 0; exit $$rc

test-durations: db assets ## record each test's time (tests/durations.json): long ones leave test-fast
	$(BIN)/pytest -q -n $(JOBS) --dist loadfile --no-loadscope-reorder -m "not ($(SERIAL))" --store-durations

docs: venv ## the documentation site in site/ (offline, strict: a warning fails it)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

system: ## Debian packages that are missing (PostgreSQL/PostGIS, GDAL, Chromium, Node)
	@scripts/install-system.sh

# uv (from PyPI) installs the same packages as pip in a tenth of the time (measured: 9.6 s
# against 93 s for a new venv); pip does it if uv cannot. --compile-bytecode: uv leaves the
# packages uncompiled by default, and every process then compiled what it imported.
$(VENV)/.installed: pyproject.toml | system
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q uv && VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install -q \
	  --compile-bytecode -e '.[test]' || $(BIN)/pip install -q -e '.[test]'
	@touch $@

venv: system $(VENV)/.installed

$(VENDORED): maps/package.json maps/package-lock.json maps/vendor-assets.sh maps/context-layer.js | system
	maps/vendor-assets.sh

assets: system $(VENDORED) ## self-hosted JS/CSS/fonts for the map pages (from the npm registry)

db: venv ## start the project-local PostGIS (unless IOCMAP_DATABASE_URL is set) and migrate
	$(BIN)/iocmap db up
	$(BIN)/iocmap db migrate

db-down: ## stop the project-local PostGIS
	$(BIN)/iocmap db down

lint: ## ruff (lint + format) and mypy (configured in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: db assets ## compare with tipg on the same database (see bench/README.md)
	$(BIN)/python -m bench.run

prod-local: venv assets ## nginx + 2 API processes + PostGIS primary and streaming replica on loopback
	$(BIN)/python -m deploy.prod_local

clean: db-down
	rm -rf $(VENV) var maps/node_modules maps/assets/vendor
