"""The embedded dev chain: anvil from the project's node_modules, on loopback, its ledger kept on disk.

`DevChain(data_dir).start()` loads `<data_dir>/chain/state.json` if it exists and saves it on a clean stop
and every few seconds, so the ledger survives restarts (a hard kill loses at most the last interval).
Anvil prints its accounts' private keys at start-up; they never reach a log, because output is discarded
unless anvil fails, and then only its last lines, with key material removed, are reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from credreg.errors import DevChainError, PortInUse, StateFileUnreadable
from credreg.paths import node_tool

DEV_CHAIN_ID = 31337
STATE_INTERVAL_SECONDS = 2
_KEYLIKE = re.compile(r"0x[0-9a-fA-F]{64}")


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the server will: connections of a previous run in TIME_WAIT must not count as "taken".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1)
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now, for tests and benchmarks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def rpc_answers(url: str, timeout: float = 1.0) -> bool:
    try:
        reply = httpx.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=timeout
        )
        return reply.status_code == 200 and "result" in reply.json()
    except (httpx.HTTPError, ValueError):
        return False


def check_state_file(path: Path) -> None:
    """Refuse, with a clear message, a saved state anvil could not load."""
    if not path.exists():
        return
    try:
        with path.open("rb") as fh:
            state = json.load(fh)
    except (OSError, ValueError) as exc:
        raise StateFileUnreadable(
            f"the dev chain state {path} cannot be read ({exc}); move it away to start a new, empty "
            f"chain, or restore a backup"
        ) from exc
    if not isinstance(state, dict) or "accounts" not in state:
        raise StateFileUnreadable(
            f"the dev chain state {path} is not an anvil state file (no 'accounts'); move it away to "
            f"start a new, empty chain"
        )


@dataclass
class DevChain:
    """One anvil process. Use as a context manager, or call `start()` and `stop()`."""

    data_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8545
    chain_id: int = DEV_CHAIN_ID
    persist: bool = True
    startup_timeout: float = 30.0
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state_path(self) -> Path | None:
        return self.data_dir / "chain" / "state.json" if self.persist and self.data_dir else None

    def command(self) -> list[str]:
        cmd = [
            str(node_tool("anvil")),
            "--host", self.host,
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
        ]  # fmt: skip
        if self.state_path is not None:
            cmd += ["--state", str(self.state_path), "--state-interval", str(STATE_INTERVAL_SECONDS)]
        return cmd

    def start(self) -> DevChain:
        if self._process is not None:
            return self
        if self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            check_state_file(self.state_path)
        if not port_is_free(self.host, self.port):
            raise PortInUse(self.host, self.port)
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self._process = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = self._output_tail()
                self._process = None
                if "Address already in use" in tail:
                    raise PortInUse(self.host, self.port)
                if self.state_path is not None and ("state" in tail.lower()):
                    raise StateFileUnreadable(f"anvil could not load {self.state_path}: {tail}")
                raise DevChainError(f"anvil exited during start-up: {tail}")
            if rpc_answers(self.url, timeout=0.5):
                return self
            time.sleep(0.05)
        self.stop()
        raise DevChainError(f"anvil did not answer on {self.url} within {self.startup_timeout:.0f} s")

    def stop(self, timeout: float = 60.0) -> None:
        """Stop cleanly (SIGINT makes anvil write its state), killing only if it will not exit."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """Stop abruptly, as a crash would: nothing since the last periodic save is kept."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(5)
        self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _output_tail(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", "replace").strip().splitlines()[-5:]
        return _KEYLIKE.sub("0x…", " | ".join(lines))

    def __enter__(self) -> DevChain:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def ephemeral_chain(host: str = "127.0.0.1") -> Iterator[DevChain]:
    """A throwaway anvil on a free loopback port with nothing persisted: for tests and benchmarks."""
    chain = DevChain(host=host, port=free_port(host), persist=False)
    with chain:
        yield chain
