"""`ape test` beside plain pytest: which of the two started the run, and the anvil ape is connected to.

ape's pytest plugin serves `ape test tests/contracts` only (see docs/toolchain.md). There it is connected,
through ape's own node provider, to an anvil started for the session. Under plain pytest it is taken out before
it configures itself, since it would start an in-process chain of its own and snapshot it around every test.
"""

from __future__ import annotations

import os
from contextlib import ExitStack

import pytest

from credreg.chain.devchain import DevChain, ephemeral_chain

APE_PLUGIN = "ape_test"  # the name `ape test` hands its plugin to pytest by
APE_CHAIN = pytest.StashKey[DevChain]()
_STACK = pytest.StashKey[ExitStack]()


def under_ape_test(config: pytest.Config) -> bool:
    """True when `ape test` started this run: it names its plugin to pytest, plain pytest does not."""
    return APE_PLUGIN in (config.invocation_params.plugins or ())


def keep_ape_plugin_to_ape_test(config: pytest.Config) -> None:
    if not under_ape_test(config):
        config.pluginmanager.set_blocked(APE_PLUGIN)


def start_ape_chain(config: pytest.Config) -> None:
    """Under `ape test` without --network: an anvil for the session, which ape's node provider connects to."""
    if not under_ape_test(config) or config.getoption("network"):
        return
    stack = ExitStack()
    chain = stack.enter_context(ephemeral_chain())
    config.stash[_STACK], config.stash[APE_CHAIN] = stack, chain
    config.option.network = f"ethereum:local:{chain.url}"
    # Else web3's AutoProvider, under ape's, first tries an IPC path that does not exist and leaks its socket.
    os.environ["WEB3_PROVIDER_URI"] = chain.url


def stop_ape_chain(config: pytest.Config) -> None:
    if (stack := config.stash.get(_STACK, None)) is not None:
        stack.close()


def ape_chain(config: pytest.Config) -> DevChain | None:
    """The anvil ape is connected to, under `ape test`."""
    return config.stash.get(APE_CHAIN, None)
