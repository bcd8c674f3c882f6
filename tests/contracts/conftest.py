"""Fixtures for the contract tests: a deployed CredentialRegistry on a real anvil.

`ape test tests/contracts` runs them (make check does), with ape's fixtures at hand; plain pytest runs them too.
Each test module gets a registry (tests/support/registry.py) with one scope and one agency (admin + signer key)
accredited for it; every test starts from a snapshot of that state and the chain is reverted to it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_harness import APE_ONLY_MODULE, DESELECTED, Harness, harness_for
from support.ape import ape_chain, under_ape_test
from support.registry import deploy_ledger

from credreg.chain.devchain import DevChain


@pytest.fixture(scope="module")
def deployed(request: pytest.FixtureRequest) -> Harness:
    """The registry with one scope and one accredited agency holding one signer key: under `ape test` on the
    anvil ape is connected to (one for the session), else on a module's own chain."""
    chain: DevChain = ape_chain(request.config) or request.getfixturevalue("module_chain")
    return harness_for(deploy_ledger(chain.url))


@pytest.fixture
def reg(deployed: Harness) -> Iterator[Harness]:
    """The module's registry, reverted to its initial state after the test."""
    snapshot = deployed.snapshot()
    try:
        yield deployed
    finally:
        deployed.revert(snapshot)


COVERAGE_MODULE = "test_error_coverage.py"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return True if collection_path.name == APE_ONLY_MODULE and not under_ape_test(config) else None


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash.setdefault(DESELECTED, []).extend(items)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the error-coverage check after every other test, so that it sees every revert they decoded."""
    items.sort(key=lambda item: item.path.name == COVERAGE_MODULE)  # stable: the rest keep their order
