# Every target creates .venv and installs the project first when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=
EXPLAIN_ARGS ?=
# make score: the file to score, the file to write, the column holding the text, local or ray.
INPUT ?=
OUTPUT ?=
TEXT_COLUMN ?= text
ENGINE ?= local

export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: help install serve test test-fast browser-test lint train evaluate reexport score bench bench-explain bench-score soak footprint rollout-test docker-test clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[train,test,score,scale]"
	touch $@

install: $(INSTALLED) ## Create .venv and install the project with its training, test, scoring and Ray extras.

serve: install ## Serve the newest model under artifacts/ on HOST:PORT (default 127.0.0.1:8000).
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m app

test: install ## Run the whole test suite (trains tiny models; a few minutes).
	$(BIN)/python -m pytest

test-fast: install ## Run the tests not marked slow (they still train the tiny test model once).
	$(BIN)/python -m pytest -m "not slow"

CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

browser-test: install $(CHROMIUM) ## Drive the web page in headless Chromium against the real service (screenshots in runs/browser/).
	$(BIN)/python -m pytest -m browser tests/browser $(ARGS)

lint: install ## Check style with ruff and types with mypy (every package but tests/, as set in pyproject.toml).
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

train: install ## Train with the default config and export a new version (ARGS="--epochs 2 ...", RESUME=1).
	$(BIN)/python -m training.train $(if $(RESUME),--resume true) $(ARGS)

evaluate: install ## Re-evaluate a version on the test split (VERSION=n, default newest).
	$(BIN)/python -m training.evaluate $(if $(VERSION),--version $(VERSION)) $(ARGS)

reexport: install ## Export a version again with the current export code, as a new version (VERSION=n, default newest).
	$(BIN)/python -m training.reexport $(if $(VERSION),--version $(VERSION)) $(ARGS)

score: install ## Score a file: INPUT=reviews.csv OUTPUT=scored.csv TEXT_COLUMN=review [ENGINE=ray VERSION=n].
	@test -n "$(INPUT)" && test -n "$(OUTPUT)" || \
	  { echo "usage: make score INPUT=reviews.csv OUTPUT=scored.csv TEXT_COLUMN=review [ENGINE=ray] [VERSION=5]" >&2; exit 2; }
	$(BIN)/python -m scoring "$(INPUT)" "$(OUTPUT)" --text-column "$(TEXT_COLUMN)" --engine "$(ENGINE)" \
	  $(if $(VERSION),--version $(VERSION)) $(if $(MODEL_DIR),--model-dir "$(MODEL_DIR)") $(ARGS)

bench: install ## Load-test the service with wrk (installed when missing) against the in-process ceiling, then time /explain.
	$(BIN)/python -m benchmarks.serving $(ARGS)
	$(BIN)/python -m benchmarks.explain $(EXPLAIN_ARGS)

bench-explain: install ## Explanations: deletion faithfulness on IMDB test reviews and /explain latency (ARGS=...).
	$(BIN)/python -m benchmarks.explain $(ARGS)

bench-score: install ## Bulk scoring against the in-process ceiling, and peak memory on 1,000,000 rows.
	$(BIN)/python -m benchmarks.scoring $(ARGS)

soak: install ## Ten minutes of mixed good and bad traffic from 64 wrk connections; reports 5xx and memory growth.
	$(BIN)/python -m benchmarks.soak $(ARGS)

footprint: install ## One replica's start time, memory and CPU under load and across a reload (sizes the manifests).
	$(BIN)/python -m deploy.footprint $(ARGS)

# Root installs with apt directly; anyone else through sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

rollout-test: install ## Three replicas behind HAProxy under 64 clients: a rolling update with 0 failed requests, then a kill.
	command -v haproxy >/dev/null || test -x /usr/sbin/haproxy || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 haproxy; }
	$(BIN)/python -m deploy.rollout.rollout_test $(ARGS)

docker-test: ## Build the image, run it on loopback and check /predict.
	bash ../shared/tools/docker-smoke.sh . -- bash tests/docker/check_predict.sh

clean: ## Remove .venv and caches (keeps artifacts/).
	rm -rf $(VENV) .pytest_cache .ruff_cache runs
