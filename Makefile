# The two commands a newcomer needs are `make run` and `make test`. Each installs what is missing (Python
# venv and packages, Node tools, the compiler registration) and skips what is current.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOLC_VERSION := 0.8.37
SOLCX_DIR := $(or $(SOLCX_BINARY_PATH),$(HOME)/.solcx)
PY_STAMP := $(VENV)/.credreg-installed
NODE_STAMP := node_modules/.credreg-installed
SOLC_LINK := $(SOLCX_DIR)/solc-v$(SOLC_VERSION)

.PHONY: run test setup check lint typecheck pytest lint-contracts artifacts gas bench clean-chain help

help:
	@echo "make run    start the embedded chain, deploy, and serve credreg on http://127.0.0.1:8000"
	@echo "make test   lint, type-check and run the whole test suite"

run: setup
	$(BIN)/credreg run

test: setup check

setup: toolchain $(PY_STAMP) $(NODE_STAMP) $(SOLC_LINK)

toolchain:
	@PYTHON=$(PYTHON) scripts/check-toolchain

$(PY_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# py-solc-x, ape-solidity and slither look for installed compilers here; the wrapper is ours.
$(SOLC_LINK): scripts/solc scripts/solc.js
	@mkdir -p $(SOLCX_DIR)
	ln -sf $(CURDIR)/scripts/solc $@

check: lint typecheck lint-contracts pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy --strict src

pytest:
	$(BIN)/pytest

lint-contracts:
	@true

artifacts: setup
	$(BIN)/python -m credreg.chain.build

.PHONY: toolchain
