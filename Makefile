# Every target creates .venv and installs the project first when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=

export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: help install serve test test-fast lint train evaluate reexport bench soak docker-test clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[train,test]"
	touch $@

install: $(INSTALLED) ## Create .venv and install the project with its training and test extras.

serve: install ## Serve the newest model under artifacts/ on HOST:PORT (default 127.0.0.1:8000).
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m app

test: install ## Run the whole test suite (trains tiny models; a few minutes).
	$(BIN)/python -m pytest

test-fast: install ## Run the tests that need no training or subprocess.
	$(BIN)/python -m pytest -m "not slow"

lint: install ## Check style with ruff.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

train: install ## Train with the default config and export a new version (ARGS="--epochs 2 ...", RESUME=1).
	$(BIN)/python -m training.train $(if $(RESUME),--resume true) $(ARGS)

evaluate: install ## Re-evaluate a version on the test split (VERSION=n, default newest).
	$(BIN)/python -m training.evaluate $(if $(VERSION),--version $(VERSION)) $(ARGS)

reexport: install ## Export a version again with the current export code, as a new version (VERSION=n, default newest).
	$(BIN)/python -m training.reexport $(if $(VERSION),--version $(VERSION)) $(ARGS)

bench: install ## Load-test the service with wrk (installed when missing) against the in-process ceiling; prints a table.
	$(BIN)/python -m benchmarks.serving $(ARGS)

soak: install ## Ten minutes of mixed good and bad traffic from 64 wrk connections; reports 5xx and memory growth.
	$(BIN)/python -m benchmarks.soak $(ARGS)

docker-test: ## Build the image, run it on loopback and check /predict.
	bash ../shared/tools/docker-smoke.sh . -- bash tests/docker/check_predict.sh

clean: ## Remove .venv and caches (keeps artifacts/).
	rm -rf $(VENV) .pytest_cache .ruff_cache runs
