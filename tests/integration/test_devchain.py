"""The embedded dev chain: persistence across restarts, and clear refusals of bad set-up states."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from web3 import Web3

from credreg.chain.devchain import (
    RECORD_NAME,
    ChainRecord,
    DevChain,
    free_port,
    is_anvil_with_state,
    recorded_chain_processes,
    rpc_answers,
)
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.errors import PortInUse, StateFileUnreadable

ROOT = Path(__file__).resolve().parents[2]


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


# --- the dev chain is owned: found and stopped after its starter is killed ---------------------------


class Commands:
    """`credreg` as a separate process, as a user runs it, for one data directory and chain port."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CREDREG_")},
            "CREDREG_DATA_DIR": str(data_dir),
            "CREDREG_CHAIN_PORT": str(port),
            "CREDREG_PROJECT_ROOT": str(ROOT),
            "COLUMNS": "200",
        }

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "credreg.cli", *args],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "credreg.cli", *args],
            env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    def record(self) -> ChainRecord:
        record = ChainRecord.read(self.data_dir / "chain" / RECORD_NAME)
        assert record is not None
        return record

    def wait_until(self, answering: bool, process: subprocess.Popen[str] | None = None) -> None:
        deadline = time.monotonic() + 60
        while rpc_answers(self.url, timeout=0.5) != answering:
            assert process is None or process.poll() is None, "credreg exited early"
            assert time.monotonic() < deadline, (
                f"the chain at {self.url} never {'answered' if answering else 'stopped'}"
            )
            time.sleep(0.1)

    def start_and_kill(self, *args: str) -> ChainRecord:
        """Start the chain with `credreg <args>`, mine a block, then SIGKILL credreg (not its anvil)."""
        starter = self.spawn(*args)
        try:
            self.wait_until(True, starter)
            Web3(Web3.HTTPProvider(self.url)).provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        finally:
            starter.kill()
            starter.wait(30)
        return self.record()


def _gone(record: ChainRecord) -> bool:
    return not recorded_chain_processes(record)


def test_chain_stop_stops_the_anvil_a_killed_chain_start_left_behind(tmp_path: Path) -> None:
    commands = Commands(tmp_path / "data", free_port())
    record = commands.start_and_kill("chain", "start")

    assert rpc_answers(commands.url)  # the orphan still holds the port
    assert is_anvil_with_state(record.pid, record.state)
    status = commands.run("chain", "status")
    stopped = commands.run("chain", "stop")

    assert "left behind by a killed run" in status.stdout, status
    assert stopped.returncode == 0, stopped
    assert f"left behind (pid {record.pid})" in " ".join(stopped.stdout.split()), stopped
    assert _gone(record)
    assert not rpc_answers(commands.url)
    assert (tmp_path / "data" / "chain" / "state.json").exists()  # stopped cleanly: the ledger was saved
    again = commands.run("chain", "start", "--detach")
    assert again.returncode == 0, again
    assert Web3(Web3.HTTPProvider(commands.url)).eth.block_number >= 1  # the mined block survived
    assert commands.run("chain", "stop").returncode == 0
    assert not rpc_answers(commands.url)


def test_credreg_run_after_a_killed_run_stops_the_orphan_and_starts_again(tmp_path: Path) -> None:
    commands = Commands(tmp_path / "data", free_port())
    commands.env["CREDREG_API_PORT"] = str(free_port())
    api = f"http://127.0.0.1:{commands.env['CREDREG_API_PORT']}"
    record = commands.start_and_kill("run")
    assert rpc_answers(commands.url)

    second = commands.spawn("run")
    try:
        deadline = time.monotonic() + 120
        while True:
            assert second.poll() is None, "the second credreg run exited (port in use?)"
            try:
                if httpx.get(f"{api}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the second credreg run never became ready"
            time.sleep(0.25)
        assert _gone(record)
        assert commands.record().pid != record.pid
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(90)
    assert not rpc_answers(commands.url)


def test_a_recorded_pid_that_is_not_our_anvil_is_never_signalled(tmp_path: Path) -> None:
    commands = Commands(tmp_path / "data", free_port())
    (tmp_path / "data" / "chain").mkdir(parents=True)
    state = str((tmp_path / "data" / "chain" / "state.json").absolute())
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    other = DevChain(tmp_path / "other", port=free_port()).start()  # an anvil, but with another ledger
    try:
        other_pid = ChainRecord.read(tmp_path / "other" / "chain" / RECORD_NAME).pid  # type: ignore[union-attr]
        for pid in (stranger.pid, other_pid):
            ChainRecord(pid, state, "127.0.0.1", 1, owner=pid, owner_started=0).write(
                tmp_path / "data" / "chain" / RECORD_NAME
            )
            stopped = commands.run("chain", "stop")

            assert stopped.returncode == 0, stopped
            assert "no dev chain is running" in stopped.stdout
            assert stranger.poll() is None
            assert rpc_answers(other.url)
            assert not (tmp_path / "data" / "chain" / RECORD_NAME).exists()  # the stale record is gone
    finally:
        other.stop()
        stranger.kill()
        stranger.wait(10)
