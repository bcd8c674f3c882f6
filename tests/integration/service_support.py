"""Running the credreg service in tests: settings for a deployed registry, a real uvicorn server on a free
loopback port (in a thread, or as a `credreg serve` process), waiting, and checking problem answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from chain_world import Deployed
from eth_account import Account
from fastapi import FastAPI
from sqlalchemy import select

from credreg.chain.devchain import free_port
from credreg.chain.eip712 import StatusAction
from credreg.config import Settings
from credreg.registry import AgencyAdmin, Governor, Relayer
from credreg.service import Database
from credreg.service.db import LedgerEventRow

T = TypeVar("T")
PROBLEM_BASE = "https://credreg.dev/problems/"
DEADLINE = 30.0


def service_settings(data_dir: Path, deployed: Deployed, **overrides: Any) -> Settings:
    """Settings for a service over `deployed`, polling fast; nothing is read from the environment."""
    data_dir.mkdir(parents=True, exist_ok=True)
    manifest = data_dir / "deployment.json"
    if not manifest.exists():
        deployed.manifest.save(manifest)
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "rpc_url": deployed.url,
        "manifest": manifest,
        "outbox_poll_seconds": 0.05,
        "index_poll_seconds": 0.05,
        "rpc_timeout": 5.0,
        "worker_id": "test-instance",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def wait_for(check: Callable[[], T | None], *, timeout: float = DEADLINE, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), timeout=DEADLINE, what="uvicorn to start")
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(DEADLINE)


def settled(client: httpx.Client, location: str, *, timeout: float = DEADLINE) -> dict[str, Any]:
    """GET `location` until the request is confirmed or failed; a confirmed one, also until verification's
    answers are as of its block (the ledger cache follows the event index: see docs/service.md)."""

    def check() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(location).json()
        return body if body["status"] in ("confirmed", "failed") else None

    def seen(block: int) -> bool:
        # A cache that answers later starts at the index's block, so the index having read it is enough.
        ready = client.get("/readyz").json()
        as_of = ready.get("answers_as_of")
        return (as_of if as_of is not None else ready["indexed_to"] or -1) >= block

    body = wait_for(check, timeout=timeout, what=f"{location} to settle")
    if body["status"] == "confirmed":
        block = body["block_number"]
        wait_for(lambda: seen(block), timeout=timeout, what=f"verification's answers as of block {block}")
    return body


def assert_problem(
    response: httpx.Response, status: int, slug: str, field: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem of kind `slug`, naming `field` if given."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_BASE + slug, body
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    if field is not None:
        assert field in body["detail"], body
        assert any(e["field"] == field for e in body.get("errors", [])), body
    return body


class ServeProcess:
    """A real `credreg serve` process, configured through CREDREG_* variables, killable with SIGKILL."""

    def __init__(self, settings: Settings, log_path: Path, *, workers: int = 1) -> None:
        self.settings = settings
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("CREDREG_")}
        env.update(
            CREDREG_DATA_DIR=str(s.data_dir),
            CREDREG_RPC_URL=str(s.rpc_url),
            CREDREG_MANIFEST=str(s.manifest),
            CREDREG_API_HOST="127.0.0.1",
            CREDREG_API_PORT=str(self.port),
            CREDREG_OUTBOX_WORKER="true" if s.outbox_worker else "false",
            CREDREG_OUTBOX_POLL_SECONDS=str(s.outbox_poll_seconds),
            CREDREG_INDEX_POLL_SECONDS=str(s.index_poll_seconds),
            CREDREG_WORKER_ID=s.worker_id,
        )
        return env

    def start(self) -> ServeProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "credreg.cli", "serve", "--workers", str(self.workers)],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.settings.data_dir,
            )

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"credreg serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, timeout=DEADLINE, what="credreg serve to answer")
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


@contextmanager
def serving_in_parts(deployed: Deployed, workdir: Path, part: int) -> Iterator[ServeProcess]:
    """A `credreg serve` child process whose batch uploads go in parts of `part` leaves."""
    process = ServeProcess(
        service_settings(workdir / "service", deployed, upload_part_leaves=part), workdir / "serve.log"
    )
    base_env = process.env
    process.env = lambda: {**base_env(), "CREDREG_UPLOAD_PART_LEAVES": str(part)}  # type: ignore[method-assign]
    process.start()
    try:
        yield process
    finally:
        process.stop()


def process_mb(pid: int, field: str) -> float:
    """A `/proc/<pid>/status` memory field (VmRSS, VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def reset_peak(pid: int) -> None:
    """Reset the process's peak resident size (VmHWM) to its current one (writing 5 to clear_refs, Linux 4.0+)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def rpc(deployed: Deployed, method: str, *params: Any) -> Any:
    """A dev-chain control call (anvil's own methods: only tests use them)."""
    return deployed.rpc(method, list(params))


def issued_events(deployed: Deployed, root: str) -> list[Any]:
    topic = deployed.registry.events.topic_of("CredentialIssued")
    return list(
        deployed.registry.w3.eth.get_logs(
            {
                "address": deployed.registry.address,
                "fromBlock": 0,
                "toBlock": "latest",
                "topics": [topic, root],
            }
        )
    )


def index_rows(db: Database) -> list[tuple[Any, ...]]:
    with db.session() as session:
        rows = session.scalars(
            select(LedgerEventRow).order_by(LedgerEventRow.block_number, LedgerEventRow.log_index)
        ).all()
        return [
            (r.block_number, r.log_index, r.block_hash, r.block_time, r.transaction_hash, r.transaction_index,
             r.name, r.agency_id, r.root, r.args)
            for r in rows
        ]  # fmt: skip


def accept(client: httpx.Client, path: str, body: dict[str, Any]) -> str:
    response = client.post(path, json=body)
    assert response.status_code == 202, response.text
    location: str = response.json()["location"]
    return location


def make_history(d: Deployed, client: httpx.Client, first: int) -> None:
    """Events of many kinds: issuance of a batch, leaf revocation, root suspension, agency and key changes."""
    batch = d.batch(4, first=first)
    body = d.sign_batch(batch).model_dump(mode="json") | {"leaves": batch.leaves}
    assert (
        settled(client, client.post("/v1/issuances", json=body).json()["location"])["status"] == "confirmed"
    )
    proof = client.get(f"/v1/credentials/{batch.leaves[0]}").json()["proof"]
    revoke = d.sign_status(batch.root, batch.leaves[0], proof, StatusAction.REVOKE, 3)
    location = accept(client, "/v1/revocations", revoke.model_dump(mode="json"))
    assert settled(client, location)["status"] == "confirmed"
    Relayer(d.registry, d.relayer).set_status(d.sign_status(batch.root, batch.root, [], StatusAction.SUSPEND))
    governor = Governor(d.registry, d.governor)
    governor.suspend_agency(d.agency_id, 9)
    governor.reinstate_agency(d.agency_id)
    AgencyAdmin(d.registry, d.admin).add_signer(
        d.agency_id, Account.create().address, d.registry.block_time(), 0
    )
