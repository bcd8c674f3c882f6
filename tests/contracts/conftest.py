"""Fixtures for the contract tests: a deployed CredentialRegistry on a real anvil.

One chain per test module holds a registry with one scope and one agency (admin + signer key) accredited for
it; every test starts from a snapshot of that state and the chain is reverted to it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from registry_harness import (
    ANVIL_TEST_ACCOUNTS,
    DESELECTED,
    SCOPE_CODE,
    SCOPE_LEVEL,
    SCOPE_TITLE,
    Harness,
    deploy,
)
from web3 import Web3

from credreg.chain.devchain import DevChain


@pytest.fixture(scope="module")
def deployed(module_chain: DevChain) -> Harness:
    """The registry with one scope and one accredited agency holding one signer key, on a module's chain."""
    w3 = Web3(Web3.HTTPProvider(module_chain.url, request_kwargs={"timeout": 30}))
    contract = deploy(w3, ANVIL_TEST_ACCOUNTS[0].address)
    harness = Harness(w3=w3, contract=contract, scope_id=b"", agency_id=0)
    receipt = harness.send("defineScope", SCOPE_CODE, SCOPE_LEVEL, SCOPE_TITLE, sender=harness.governor)
    harness.scope_id = bytes(harness.events(receipt, "ScopeDefined")[0]["scopeId"])
    harness.agency_id = harness.add_agency("Agency A", "REG-A", harness.admin, harness.signer)
    return harness


@pytest.fixture
def reg(deployed: Harness) -> Iterator[Harness]:
    """The module's registry, reverted to its initial state after the test."""
    snapshot = deployed.rpc("evm_snapshot", [])
    try:
        yield deployed
    finally:
        assert deployed.rpc("evm_revert", [snapshot]) is True


COVERAGE_MODULE = "test_error_coverage.py"


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash.setdefault(DESELECTED, []).extend(items)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the error-coverage check after every other test, so that it sees every revert they decoded."""
    items.sort(key=lambda item: item.path.name == COVERAGE_MODULE)  # stable: the rest keep their order
