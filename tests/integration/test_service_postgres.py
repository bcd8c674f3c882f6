"""The same service on PostgreSQL, as a deployment with several instances runs it: a throwaway PostgreSQL
server on a loopback port, two instances relaying from one outbox, and the event index rebuilt there."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from chain_world import Deployed
from service_support import (
    assert_problem,
    index_rows,
    issued_events,
    live_server,
    make_history,
    service_settings,
    settled,
    wait_for,
)

from credreg.api import create_app
from credreg.service import Service

START_TIMEOUT = 60


def _server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A PostgreSQL server of its own on 127.0.0.1 (fsync off: it lives for this module only)."""
    bin_dir = _server_binaries()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL server binaries are not installed: run `make postgres-server` (Debian: apt-get install postgresql)"
        )
    from credreg.chain.devchain import free_port

    root = Path(tempfile.mkdtemp(prefix="credreg-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        owner = pwd.getpwnam("postgres")
        root.chmod(0o755)
        for path in (root, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=START_TIMEOUT)

    try:
        run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "credreg",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", str(START_TIMEOUT),
            "-l", str(root / "server.log"), "start")  # fmt: skip
        try:
            yield f"postgresql+psycopg://credreg@127.0.0.1:{port}/postgres"
        finally:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def create_database(url: str, name: str) -> str:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


def test_the_service_runs_on_postgresql(postgres: str, deployed: Deployed, tmp_path: Path) -> None:
    url = create_database(postgres, "service")
    settings = service_settings(tmp_path / "service", deployed, database_url=url)
    with live_server(create_app(settings)) as base, httpx.Client(base_url=base, timeout=30) as client:
        make_history(deployed, client, 700)
        repeat = deployed.sign_issue().model_dump(mode="json")
        first = client.post("/v1/issuances", json=repeat).json()
        assert client.post("/v1/issuances", json=repeat).json()["id"] == first["id"]
        assert settled(client, first["location"])["status"] == "confirmed"
        head = deployed.registry.head()
        wait_for(lambda: client.get("/v1/audit/events").json()["indexed_to"] >= head, what="index caught up")

    service = Service(settings)
    live = index_rows(service.db)
    assert live
    assert service.index.rebuild() == head
    assert index_rows(service.db) == live
    service.db.dispose()


def test_two_instances_share_one_outbox_and_relay_each_request_once(
    postgres: str, deployed: Deployed, tmp_path: Path
) -> None:
    url = create_database(postgres, "shared")
    instances = [
        Service(
            service_settings(
                tmp_path / name, deployed, database_url=url, worker_id=name, outbox_worker=False
            ),
            relayer=account,
        )
        for name, account in (("instance-a", deployed.relayer), ("instance-b", deployed.admin))
    ]
    for instance in instances:
        instance.db.create_schema()
    signed = [deployed.sign_issue() for _ in range(8)]
    for n, s in enumerate(signed):  # accepted by either instance
        assert instances[n % 2].outbox.accept_issue(s)[1]
    # A lease keeps a request with one instance: the other takes only the rest.
    first, second = instances[0].outbox.claim(4), instances[1].outbox.claim(100)
    assert len(first) == 4
    assert len(second) == 4
    assert not set(first) & set(second)

    stop = threading.Event()
    workers = [threading.Thread(target=i.outbox.work, args=(stop,), daemon=True) for i in instances]
    for worker in workers:
        worker.start()
    try:
        wait_for(lambda: instances[0].outbox.open_count() == 0, what="both instances to finish")
    finally:
        stop.set()
        for instance in instances:
            instance.outbox.wake.set()
        for worker in workers:
            worker.join(30)
    senders = set()
    for s in signed:
        events = issued_events(deployed, s.request.root)
        assert len(events) == 1
        senders.add(deployed.registry.w3.eth.get_transaction(events[0]["transactionHash"])["from"])
    assert senders == {deployed.relayer.address, deployed.admin.address}
    for instance in instances:
        instance.db.dispose()


def test_two_instances_count_an_agencys_limits_together(
    postgres: str, deployed: Deployed, tmp_path: Path
) -> None:
    url = create_database(postgres, "limits")
    limits = {"agency_requests_per_minute": 4, "agency_tx_per_day": 3, "agency_gas_per_day": 10**9}
    apps = [
        create_app(service_settings(tmp_path / name, deployed, database_url=url, worker_id=name, **limits))
        for name in ("instance-a", "instance-b")
    ]
    with live_server(apps[0]) as a, live_server(apps[1]) as b, httpx.Client(timeout=30) as client:

        def issue(base: str) -> httpx.Response:
            return client.post(f"{base}/v1/issuances", json=deployed.sign_issue().model_dump(mode="json"))

        assert [issue(base).status_code for base in (a, a, b)] == [202, 202, 202]
        assert_problem(issue(b), 429, "quota-exceeded")  # three transactions today, counted by both
        refused = issue(a)  # the fifth request in a minute, of which b saw two and a three
        assert_problem(refused, 429, "rate-limited")
        assert int(refused.headers["Retry-After"]) <= 60
