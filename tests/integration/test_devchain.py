"""The embedded dev chain: persistence across restarts, and clear refusals of bad set-up states."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from credreg.chain.devchain import DevChain, free_port
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.errors import PortInUse, StateFileUnreadable


def test_ledger_survives_a_clean_restart(tmp_path: Path) -> None:
    port = free_port()
    sender = Account.from_key(ANVIL_TEST_KEYS[0])
    with DevChain(tmp_path, port=port) as chain:
        w3 = Web3(Web3.HTTPProvider(chain.url))
        tx = {"to": "0x000000000000000000000000000000000000dEaD", "value": 12345, "from": sender.address}
        tx_hash = w3.eth.send_transaction(tx)  # anvil signs for its own test accounts
        w3.eth.wait_for_transaction_receipt(tx_hash)
        height = w3.eth.block_number
    assert chain.state_path is not None
    assert chain.state_path.exists()
    with DevChain(tmp_path, port=port) as again:
        w3 = Web3(Web3.HTTPProvider(again.url))
        assert w3.eth.block_number == height
        assert w3.eth.get_balance("0x000000000000000000000000000000000000dEaD") == 12345
        assert w3.eth.get_transaction(tx_hash)["value"] == 12345


def test_start_refuses_a_port_already_taken(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is already in use"):
            DevChain(tmp_path, port=port).start()


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json at all", "cannot be read"), ('{"blocks": []}', "not an anvil state file")],
)
def test_start_refuses_an_unreadable_state_file(tmp_path: Path, content: str, message: str) -> None:
    state = tmp_path / "chain" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text(content)
    with pytest.raises(StateFileUnreadable, match=message):
        DevChain(tmp_path, port=free_port()).start()
    assert state.read_text() == content  # nothing overwritten
