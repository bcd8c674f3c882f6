"""Deploying, governing and issuing work under every EVM fee model a permissioned network may run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lifecycle_support import GOVERNOR, World, documents_in, sample_results, set_up_registry
from nodes import NODE_MODES
from web3 import Web3

from credreg.chain.transactions import TxSender

LEGACY_TX, EIP1559_TX = 0, 2


@pytest.fixture(scope="module", params=list(NODE_MODES))
def node(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    with NODE_MODES[request.param]() as url:
        yield request.param, url


def _transaction(world: World, tx_hash: str) -> dict[str, int]:
    tx = world.registry.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    return {"type": int(tx.get("type", 0)), "gasPrice": int(tx.get("gasPrice", 0) or 0)}


def test_deploy_govern_and_issue_under_every_fee_model(node: tuple[str, str], tmp_path: Path) -> None:
    mode, url = node
    latest = Web3(Web3.HTTPProvider(url)).eth.get_block("latest")
    london = "baseFeePerGas" in latest
    assert london == (not mode.endswith("berlin-free")), latest  # the node runs the mode named

    world = set_up_registry(url)  # deploy, then governor calls: define a scope, register, accredit
    outcome = world.issue(sample_results(tmp_path / "results.csv", 3, prefix="FEE"), tmp_path / "out")

    assert world.registry.record(world.agency_id, outcome.summary.root).issued
    assert len(documents_in(tmp_path / "out", "FEE")) == 3
    assert outcome.summary.transaction_hash is not None
    for tx_hash in (world.registry.manifest.registry.transaction_hash, outcome.summary.transaction_hash):
        sent = _transaction(world, tx_hash)
        assert sent["type"] == (EIP1559_TX if london else LEGACY_TX), (mode, sent)
        if mode.endswith("free"):
            assert sent["gasPrice"] == 0
    fees = TxSender(world.registry.w3, GOVERNOR).fees()
    assert fees.eip1559 == london
    if mode.endswith("free"):
        assert (fees.max_fee, fees.gas_price) == (0, 0)  # a free network is paid nothing
    if mode == "anvil-zero-base-fee":
        assert fees.max_fee == fees.priority_fee  # no base fee to cover; the tip is what the node asks
