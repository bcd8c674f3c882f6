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

.PHONY: run test setup check lint typecheck pytest ape-test lint-contracts artifacts gas bench chaos soak clean-chain help

help:
	@echo "make run    start the embedded chain, deploy, and serve credreg on http://127.0.0.1:8000"
	@echo "make test   lint, type-check and run the whole test suite"

run: setup
	$(BIN)/credreg run

test: setup check

setup: toolchain $(PY_STAMP) $(NODE_STAMP) $(SOLC_LINK) browser postgres-server

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

# py-solc-x, ape-solidity and slither look for installed compilers here; the wrapper is ours. Re-pointed
# whenever it points at another checkout.
.PHONY: $(SOLC_LINK)
$(SOLC_LINK):
	@if [ "$$(readlink $@ 2>/dev/null)" != "$(CURDIR)/scripts/solc" ]; then \
		mkdir -p $(SOLCX_DIR) && ln -sfn $(CURDIR)/scripts/solc $@ && echo "registered scripts/solc as $@"; \
	fi

# The browser tests drive Debian's Chromium through Playwright (Playwright's own browser download comes
# from outside the package registries), with CJK fonts so the page renders Chinese, and print to PDF, render
# it with poppler's pdftoppm and read the QR code with zbar. Each package is installed when missing if we
# may (root with apt-get); else say how.
BROWSER_PACKAGES := chromium fonts-noto-cjk poppler-utils libzbar0

.PHONY: browser
browser:
	@missing=""; for p in $(BROWSER_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's$$missing for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "note: the browser tests (tests/browser) need Debian's$$missing;" \
			"e.g. sudo apt-get install$$missing" >&2; \
	fi

# The service's PostgreSQL tests start a throwaway server of their own from Debian's postgresql package
# (they skip, saying why, where it is missing). Installed when missing if we may (root with apt-get).
PG_INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))

.PHONY: postgres-server
postgres-server:
	@if [ -n "$(PG_INITDB)" ]; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's postgresql for the service's PostgreSQL tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "note: tests/integration/test_service_postgres.py needs PostgreSQL's server binaries;" \
			"e.g. sudo apt-get install postgresql" >&2; \
	fi

check: lint typecheck lint-contracts pytest ape-test

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy --strict src

# The contract tests (tests/contracts) run once, under `ape test` (ape's pytest plugin and fixtures, on an anvil
# its node provider connects to); plain pytest runs everything else.
pytest:
	$(BIN)/pytest --ignore=tests/contracts

ape-test:
	$(BIN)/ape test tests/contracts

# solhint: style and NatSpec (.solhint.json). slither: fails on any medium or high finding; block-time
# comparisons are excluded because the registry's time windows are defined against block time.
lint-contracts:
	node_modules/.bin/solhint --disc --noPoster --max-warnings 0 'contracts/**/*.sol'
	$(BIN)/slither contracts/ --fail-medium --exclude-informational --exclude timestamp

# Gas of credreg's operations beside OpenAttestation's DocumentStore and EAS, on a fresh anvil.
gas: setup
	$(BIN)/python scripts/bench gas

# Gas, issuance, verification and audit replay beside the peers, medians of 3 runs (a few minutes);
# the table is printed and written to bench-results/. BENCH_ARGS=--quick runs the smallest configuration.
bench: setup
	$(BIN)/python scripts/bench $(BENCH_ARGS)

# The chaos run of `make test` (service and chain killed, connections cut, at random) for longer:
# CHAOS_SECONDS of load (default 600); CREDREG_CHAOS_SEED=N replays one run's choices.
CHAOS_SECONDS ?= 600
chaos: setup
	CREDREG_CHAOS_SECONDS=$(CHAOS_SECONDS) $(BIN)/pytest tests/integration/test_chaos.py -s

artifacts: setup
	$(BIN)/python -m credreg.chain.build

.PHONY: toolchain

# The adversarial property suite (tests/adversarial) at soak size: 200 random examples of up to 50 steps
# (CREDREG_SOAK_EXAMPLES=N for another count); `make test` runs it at a small size.
soak: setup
	CREDREG_SOAK=1 $(BIN)/pytest tests/adversarial/test_verdict_machine.py
