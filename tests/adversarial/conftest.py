"""One anvil per test module, with three accredited agencies; each test or example starts from that state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from adversarial_world import World, build_world

from credreg.chain.devchain import DevChain


@pytest.fixture(scope="module")
def adversarial_world(module_chain: DevChain) -> World:
    return build_world(module_chain.url)


@pytest.fixture
def world(adversarial_world: World) -> Iterator[World]:
    """The module's world, back in its state after set-up."""
    adversarial_world.restore()
    yield adversarial_world
    adversarial_world.restore()
