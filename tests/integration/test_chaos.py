"""A bounded chaos run: while issuances and verifications flow, the service is SIGKILLed at random moments,
the chain is SIGKILLed and restarted from an older saved state, and RPC connections are cut at the proxy.

At the end every accepted request is on the ledger exactly once, the event index equals a fresh rebuild and
the audit replay is clean. The run prints what it did. In `make test` it lasts about 12 s of load; a longer
one: `CREDREG_CHAOS_SECONDS=600 pytest tests/integration/test_chaos.py -s` (or `make chaos`), and
`CREDREG_CHAOS_SEED` replays the same sequence of fault choices.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from chain_world import Deployed, deploy_world
from rpc_proxy import RpcProxy
from service_support import ServeProcess, index_rows, issued_events, service_settings, wait_for

from credreg.audit.report import build_report
from credreg.chain.devchain import DevChain, free_port
from credreg.registry import SignedIssue
from credreg.service import Database, EventIndex

SECONDS = float(os.environ.get("CREDREG_CHAOS_SECONDS", "12"))
SEED = int(os.environ.get("CREDREG_CHAOS_SEED", str(random.SystemRandom().randrange(1 << 30))))
MAX_REQUESTS = max(100, int(SECONDS * 20))  # the load is bounded in count as well as in time
MIN_FAULTS = 3  # injected even if the load's time is up first (one more each round: bounded)
SETTLE_SECONDS = 60 + SECONDS / 4
PAUSE = (1.5, 3.5)  # seconds between faults


@dataclass
class Load:
    """What the load thread sent and what came of it."""

    accepted: dict[str, str] = field(default_factory=dict)  # root -> request id
    unanswered: list[SignedIssue] = field(default_factory=list)  # sent; the answer was lost
    refused: Counter[str] = field(default_factory=Counter)
    verifications: Counter[str] = field(default_factory=Counter)


def _post(client: httpx.Client, signed: SignedIssue, load: Load) -> None:
    try:
        response = client.post("/v1/issuances", json=signed.model_dump(mode="json"))
    except httpx.ConnectError:
        load.refused["service down"] += 1
        time.sleep(0.2)  # the service is restarting
        return
    except httpx.HTTPError:
        load.unanswered.append(signed)  # perhaps accepted before the answer was lost: asked again at the end
        return
    if response.status_code == 202:
        load.accepted[signed.request.root] = response.json()["id"]
    else:
        load.refused[str(response.status_code)] += 1


def run_load(d: Deployed, url: str, load: Load, stop: threading.Event, rng: random.Random) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        for _ in range(MAX_REQUESTS):
            if stop.is_set():
                return
            _post(client, d.sign_issue(), load)
            if load.accepted:
                root = rng.choice(sorted(load.accepted))
                try:
                    answer = client.get(f"/v1/credentials/{root}")
                    load.verifications[str(answer.status_code)] += 1
                except httpx.HTTPError:
                    load.verifications["no answer"] += 1
            stop.wait(0.05)


def snapshot(node: DevChain, into: Path) -> bool:
    """Copy the chain's periodically saved state if it is whole (anvil may be writing it)."""
    assert node.state_path is not None
    try:
        text = node.state_path.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, ValueError):
        return False
    into.write_text(text, encoding="utf-8")
    return True


def test_chaos_nothing_accepted_is_lost_or_doubled(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    node = DevChain(tmp_path / "node", port=free_port())
    assert node.state_path is not None
    saved = tmp_path / "older-state.json"
    node.start()
    proxy = RpcProxy(node.url).start()
    serve: ServeProcess | None = None
    faults: Counter[str] = Counter()
    load = Load()
    stop = threading.Event()
    started = time.monotonic()
    try:
        d = deploy_world(node.url)
        node.stop()  # a clean stop saves the deployment: the oldest state the chain may come back to
        shutil.copyfile(node.state_path, saved)
        node.start()
        settings = service_settings(tmp_path / "service", d, rpc_url=proxy.url)
        serve = ServeProcess(settings, tmp_path / "serve.log").start()
        loader = threading.Thread(
            target=run_load, args=(d, serve.url, load, stop, random.Random(rng.random())), daemon=True
        )
        loader.start()

        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline or sum(faults.values()) < MIN_FAULTS:
            time.sleep(rng.uniform(*PAUSE))
            fault = rng.choice(["kill service", "kill chain", "drop connections"])
            faults[fault] += 1
            if fault == "kill service":
                serve.kill()
                serve.start()
            elif fault == "kill chain":
                node.kill()  # what was mined since `saved` is lost
                shutil.copyfile(saved, node.state_path)
                node.start()
            else:
                proxy.kill()
                time.sleep(rng.uniform(0.1, 1.0))
                proxy.start()
            if rng.random() < 0.5:
                snapshot(node, saved)  # a newer "older state" for the next chain kill
        stop.set()
        loader.join(30)
        assert not loader.is_alive()
        load_seconds = time.monotonic() - started
        settle_started = time.monotonic()

        with httpx.Client(base_url=serve.url, timeout=30) as client:
            # A request whose answer was lost may have been accepted: the same signed request again says.
            for signed in load.unanswered:
                _post(client, signed, Load(accepted=load.accepted))

            def settled() -> bool:
                rows = [client.get(f"/v1/issuances/{i}").json() for i in load.accepted.values()]
                return all(r["status"] in ("confirmed", "failed") for r in rows)

            wait_for(settled, timeout=SETTLE_SECONDS, what="every accepted request to settle")
            wait_for(
                lambda: client.get("/readyz").status_code == 200,
                timeout=SETTLE_SECONDS,
                what="/readyz to say the service re-synced",
            )
            rows = {root: client.get(f"/v1/issuances/{i}").json() for root, i in load.accepted.items()}
            head = d.registry.head()
            wait_for(
                lambda: client.get("/v1/audit/events").json()["indexed_to"] >= head,
                timeout=SETTLE_SECONDS,
                what="the index to catch up",
            )
        serve.stop()
        settle_seconds = time.monotonic() - settle_started

        on_ledger = {root: len(issued_events(d, root)) for root in rows}
        landed = sum(1 for n in on_ledger.values() if n == 1)
        doubled = sum(1 for n in on_ledger.values() if n > 1)
        lost = sum(1 for n in on_ledger.values() if n == 0)
        print(
            f"\nchaos run (seed {SEED}, {load_seconds:.0f} s of load, {settle_seconds:.0f} s to settle): faults injected {sum(faults.values())} "
            f"{dict(faults)}; requests accepted {len(rows)}, landed {landed}, doubled {doubled}, lost {lost}; "
            f"refused while down {dict(load.refused)}, answers lost {len(load.unanswered)}, "
            f"verifications {dict(load.verifications)}"
        )
        assert sum(faults.values()) >= MIN_FAULTS, faults
        assert len(rows) >= 5, load
        assert doubled == 0
        assert lost == 0, {root: rows[root] for root, n in on_ledger.items() if n == 0}
        assert all(r["status"] == "confirmed" for r in rows.values())
        for root, row in rows.items():
            assert issued_events(d, root)[0]["transactionHash"].to_0x_hex() == row["tx_hash"]

        live = index_rows(Database(settings.effective_database_url))
        rebuilt = Database(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
        rebuilt.create_schema()
        EventIndex(rebuilt, d.registry).rebuild()
        assert live == index_rows(rebuilt)

        report = build_report(d.registry, recompile=False)
        assert report.clean, report.findings
    finally:
        stop.set()
        if serve is not None:
            serve.stop()
        proxy.kill()
        node.stop()
