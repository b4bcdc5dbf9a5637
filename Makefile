# iocmap — the two commands: `make demo` and `make test`. Everything else is a step of them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
LEAFLET := maps/assets/vendor/leaflet/leaflet.js

.PHONY: demo test system venv assets db db-down lint bench clean

demo: db assets ## set up everything, load the demo data, serve on http://127.0.0.1:8000
	$(BIN)/iocmap demo
	$(BIN)/iocmap serve --host 127.0.0.1 --port 8000

test: db assets ## set up everything and run the test suite against a real PostGIS
	$(BIN)/pytest -q; rc=$$?; [ $$rc -eq 5 ] && echo "no tests collected" && exit 0; exit $$rc

system: ## Debian packages that are missing (PostgreSQL/PostGIS, GDAL, Chromium, Node)
	@scripts/install-system.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

venv: system $(VENV)/.installed

$(LEAFLET): maps/package.json
	cd maps && npm install --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $(LEAFLET))
	cp -r maps/node_modules/leaflet/dist/. $(dir $(LEAFLET))
	@touch $@

assets: system $(LEAFLET) ## self-hosted JS/CSS for the map pages (from the npm registry)

db: venv ## start the project-local PostGIS (unless IOCMAP_DATABASE_URL is set) and migrate
	$(BIN)/iocmap db up
	$(BIN)/iocmap db migrate

db-down: ## stop the project-local PostGIS
	$(BIN)/iocmap db down

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: db assets ## compare with tipg on the same database (see bench/README.md)
	$(BIN)/python -m bench.run

clean: db-down
	rm -rf $(VENV) var maps/node_modules maps/assets/vendor
