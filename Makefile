# salesboost: `make run` runs the default experiment, `make test` the tests; both install first.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
PYTEST_ARGS ?=
UI_PORT ?= 5000

export RAY_USAGE_STATS_ENABLED := 0
export MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT := true

$(STAMP): pyproject.toml uv.lock requirements-lock.txt scripts/install.sh
	@./scripts/install.sh
	@touch $@

.PHONY: install
install: $(STAMP) ## Create .venv with the locked dependencies (uv, or pip as fallback)

.PHONY: run
run: $(STAMP) ## Run the default experiment (legacy vs optimised); pass overrides with ARGS="key=value ..."
	$(BIN)/salesboost $(ARGS)

.PHONY: test
test: $(STAMP) ## Run the test suite (without tests marked slow)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

.PHONY: test-all
test-all: $(STAMP) ## Run every test, slow ones included
	$(BIN)/python -m pytest $(PYTEST_ARGS)

BENCH_REF ?= 2d075e0

.PHONY: bench
bench: $(STAMP) ## Throughput against the reference engines and the old engine (BENCH_REF), memory, CRN variance reduction, sweep scaling (writes benchmarks/results/; about 20 min)
	$(BIN)/python benchmarks/throughput.py --compare-ref $(BENCH_REF)
	$(BIN)/python benchmarks/crn.py
	$(BIN)/python benchmarks/sweep_scaling.py

.PHONY: lint
lint: $(STAMP) ## Check style and types: ruff lint and format, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: format
format: $(STAMP) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: ui
ui: $(STAMP) ## Open the MLflow UI for ./mlflow.db on http://127.0.0.1:5000 (UI_PORT=...)
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db \
		--host 127.0.0.1 --port $(UI_PORT) --workers 1

.PHONY: lock
lock: ## Re-resolve dependencies: update uv.lock and requirements-lock.txt
	uv lock
	uv export --frozen --format requirements.txt --no-hashes --all-groups --no-emit-project -o requirements-lock.txt

.PHONY: clean
clean: ## Remove run outputs (keeps mlflow.db and .venv)
	rm -rf outputs multirun benchmarks/results .pytest_cache

.PHONY: help
help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'
