"""Fixtures for the integration tests: a deployed registry on a real anvil chain (see chain_world.py)."""

from __future__ import annotations

import pytest
from chain_world import Deployed, deploy_world

from credreg.chain.devchain import DevChain


@pytest.fixture(scope="module")
def deployed(module_chain: DevChain) -> Deployed:
    """A registry with one agency accredited for one scope and holding a signer key, on a module's chain."""
    return deploy_world(module_chain.url)
