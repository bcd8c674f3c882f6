"""Shared fixtures: real anvil chains on free loopback ports, and web3 clients for them. Registries on them
come from tests/support/registry.py; ape's pytest plugin is kept to `ape test` (tests/support/ape.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from support.ape import keep_ape_plugin_to_ape_test, start_ape_chain, stop_ape_chain
from web3 import Web3

from credreg.chain.devchain import DevChain, ephemeral_chain
from credreg.chain.devkeys import ANVIL_TEST_KEYS


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    keep_ape_plugin_to_ape_test(config)


def pytest_configure(config: pytest.Config) -> None:
    start_ape_chain(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    stop_ape_chain(config)


@pytest.fixture
def chain() -> Iterator[DevChain]:
    """A fresh, empty anvil for one test (starting one takes a fraction of a second)."""
    with ephemeral_chain() as dev_chain:
        yield dev_chain


@pytest.fixture(scope="module")
def module_chain() -> Iterator[DevChain]:
    """One anvil shared by a test module, for tests that only read or build on each other."""
    with ephemeral_chain() as dev_chain:
        yield dev_chain


@pytest.fixture
def w3(chain: DevChain) -> Web3:
    return Web3(Web3.HTTPProvider(chain.url, request_kwargs={"timeout": 30}))


@pytest.fixture(scope="session")
def anvil_accounts() -> list[LocalAccount]:
    """The well-known anvil test accounts 0..9 (funded on every dev chain)."""
    return [Account.from_key(key) for key in ANVIL_TEST_KEYS]
