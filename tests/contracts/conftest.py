"""Fixtures for the contract tests: a deployed CredentialRegistry on a real anvil.

One chain per test module holds a registry with one scope and one agency (admin + signer key) accredited for
it; every test starts from a snapshot of that state and the chain is reverted to it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from registry_harness import DESELECTED, Harness, harness_for
from support.registry import deploy_ledger

from credreg.chain.devchain import DevChain


@pytest.fixture(scope="module")
def deployed(module_chain: DevChain) -> Harness:
    """The registry with one scope and one accredited agency holding one signer key, on a module's chain."""
    return harness_for(deploy_ledger(module_chain.url))


@pytest.fixture
def reg(deployed: Harness) -> Iterator[Harness]:
    """The module's registry, reverted to its initial state after the test."""
    snapshot = deployed.snapshot()
    try:
        yield deployed
    finally:
        deployed.revert(snapshot)


COVERAGE_MODULE = "test_error_coverage.py"


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash.setdefault(DESELECTED, []).extend(items)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the error-coverage check after every other test, so that it sees every revert they decoded."""
    items.sort(key=lambda item: item.path.name == COVERAGE_MODULE)  # stable: the rest keep their order
