"""The embedded dev chain: anvil from the project's node_modules, on loopback, its ledger kept on disk.

`DevChain(data_dir).start()` loads `<data_dir>/chain/state.json` if it exists and saves it on a clean stop
and every few seconds, so the ledger survives restarts (a hard kill loses at most the last interval).
Anvil prints its accounts' private keys at start-up; they never reach a log, because output is discarded
unless anvil fails, and then only its last lines, with key material removed, are reported.

The chain is owned: a started anvil is recorded in `<data_dir>/chain/anvil.json` (its pid and the state
file it was given). If the process that started it is killed outright, the anvil lives on and holds the
port; the next `start()` (and `credreg chain stop`) finds it through the record and stops it cleanly. A
process is only ever signalled after /proc shows it is anvil running with that very state file, so a pid the
system has since given to another program is never touched.
"""

from __future__ import annotations

import contextlib
import itertools
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
RECORD_NAME = "anvil.json"
_KEYLIKE = re.compile(r"0x[0-9a-fA-F]{64}")
_PROC = Path("/proc")


@dataclass(frozen=True)
class ChainRecord:
    """What `DevChain.start()` wrote down about the anvil it started, to find it again after a crash."""

    pid: int
    state: str  # the absolute state file given to anvil with --state
    host: str
    port: int
    owner: int  # the process that started it (`credreg run`, `credreg chain start`)
    owner_started: int  # when the owner started, in clock ticks since boot: a reused pid differs here

    @classmethod
    def read(cls, path: Path) -> ChainRecord | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                int(data["pid"]),
                str(data["state"]),
                str(data["host"]),
                int(data["port"]),
                int(data["owner"]),
                int(data["owner_started"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @property
    def owner_alive(self) -> bool:
        """The process that started the chain still runs (the same process, not a reuse of its pid)."""
        return _started_at(self.owner) == self.owner_started

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.__dict__) + "\n", encoding="utf-8")
        temporary.replace(path)


def process_cmdline(pid: int) -> list[str] | None:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part] or None


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat from its third field on (state, ppid, pgrp, ...), or [] if there is no such process."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return []
    # The command name before is in parentheses and may itself hold spaces or parentheses.
    return stat[stat.rfind(")") + 2 :].split()


def _process_group(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[2]) if len(fields) > 2 else None


def _started_at(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[19]) if len(fields) > 19 and fields[0] != "Z" else -1


def is_anvil_with_state(pid: int, state: str) -> bool:
    """True only if process `pid` is anvil (its npm launcher or the binary) given `--state <state>`."""
    argv = process_cmdline(pid)
    if not argv:
        return False
    program = any(Path(part).name in ("anvil", "bin.mjs") and "anvil" in part for part in argv[:2])
    given = any(a == "--state" and b == state for a, b in itertools.pairwise(argv))
    return program and given


def recorded_chain_processes(record: ChainRecord) -> list[int]:
    """The live processes of the recorded anvil: the recorded pid and the members of its process group, each
    checked to be anvil with the recorded state file. Empty when the pid now belongs to something else."""
    found = [record.pid] if is_anvil_with_state(record.pid, record.state) else []
    try:
        entries = [int(p.name) for p in _PROC.iterdir() if p.name.isdigit()]
    except OSError:
        entries = []
    for pid in entries:
        if pid != record.pid and _process_group(pid) == record.pid and is_anvil_with_state(pid, record.state):
            found.append(pid)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return process_cmdline(pid) is not None  # a zombie has no command line and holds no port


def stop_recorded_chain(data_dir: Path, timeout: float = 60.0, *, even_if_owned: bool = False) -> int | None:
    """Stop the anvil recorded under `data_dir` if it still runs (SIGINT, so it saves its ledger; SIGKILL
    only if it will not exit); returns its pid, or None if none of ours was running. Forgets the record.

    A chain whose starting process still runs is not an orphan: unless `even_if_owned`, that raises
    DevChainError naming the process, rather than pulling the chain from under it.
    """
    path = data_dir / "chain" / RECORD_NAME
    record = ChainRecord.read(path)
    if record is None:
        path.unlink(missing_ok=True)
        return None
    pids = recorded_chain_processes(record)
    if pids and record.owner_alive and not even_if_owned and record.owner != os.getpid():
        raise DevChainError(
            f"the dev chain of {data_dir} runs on {record.host}:{record.port}, started by process "
            f"{record.owner}, which still runs; stop it there (Ctrl-C, or `credreg chain stop`)"
        )
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while any(_alive(pid) and is_anvil_with_state(pid, record.state) for pid in pids):
        if time.monotonic() > deadline:
            for pid in pids:
                if is_anvil_with_state(pid, record.state):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    path.unlink(missing_ok=True)
    return record.pid if pids else None


def recorded_chain(data_dir: Path) -> ChainRecord | None:
    """The record of an anvil under `data_dir` that still runs, or None."""
    record = ChainRecord.read(data_dir / "chain" / RECORD_NAME)
    return record if record is not None and recorded_chain_processes(record) else None


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
    # More anvil options, e.g. ("--hardfork", "berlin", "--gas-price", "0") for a pre-London, zero-fee chain.
    options: tuple[str, ...] = ()
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def process_group(self) -> int | None:
        """The process group of the running anvil (its launcher's pid; the binary is in it), else None."""
        return self._process.pid if self._process is not None else None

    @property
    def state_path(self) -> Path | None:
        return (self.data_dir / "chain" / "state.json").absolute() if self.persist and self.data_dir else None

    @property
    def record_path(self) -> Path | None:
        return self.data_dir / "chain" / RECORD_NAME if self.persist and self.data_dir else None

    def command(self) -> list[str]:
        cmd = [
            str(node_tool("anvil")),
            "--host", self.host,
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
        ]  # fmt: skip
        if self.state_path is not None:
            cmd += ["--state", str(self.state_path), "--state-interval", str(STATE_INTERVAL_SECONDS)]
        return cmd + list(self.options)

    def start(self) -> DevChain:
        if self._process is not None:
            return self
        if self.state_path is not None and self.data_dir is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            # An anvil of ours that outlived a killed run: stop it (its ledger is saved) and start afresh.
            stop_recorded_chain(self.data_dir)
            check_state_file(self.state_path)
        if not port_is_free(self.host, self.port):
            raise PortInUse(self.host, self.port)
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self._process = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        if self.record_path is not None and self.state_path is not None:
            me = os.getpid()
            record = ChainRecord(
                self._process.pid, str(self.state_path), self.host, self.port, me, _started_at(me)
            )
            record.write(self.record_path)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = self._output_tail()
                self._process = None
                self._forget()
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
        # The npm launcher may exit before the anvil binary has finished writing the state file.
        _wait_group_gone(process.pid, timeout)
        self._close_log()
        self._forget()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def _forget(self) -> None:
        if self.record_path is not None:
            self.record_path.unlink(missing_ok=True)

    def kill(self) -> None:
        """Stop abruptly, as a crash would: nothing since the last periodic save is kept."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(5)
        if self._process is not None:
            _wait_group_gone(self._process.pid, 5.0)
        self._process = None
        self._close_log()
        self._forget()

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


def _wait_group_gone(group: int, timeout: float) -> None:
    """Wait (at most `timeout` seconds) until no process of process group `group` is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            return
        time.sleep(0.02)


@contextlib.contextmanager
def ephemeral_chain(host: str = "127.0.0.1", *options: str) -> Iterator[DevChain]:
    """A throwaway anvil on a free loopback port with nothing persisted: for tests and benchmarks."""
    chain = DevChain(host=host, port=free_port(host), persist=False, options=options)
    with chain:
        yield chain
