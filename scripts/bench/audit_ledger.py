"""Audit replay benchmark: events per second and peak memory, on a ledger generated on its own anvil.

    .venv/bin/python scripts/bench audit-ledger                 # about 100,000 events
    .venv/bin/python scripts/bench audit-ledger --events 300000 --roots 1000
    .venv/bin/python scripts/bench audit-ledger --empty-blocks 2000   # a sparse start before the dense stretch

The ledger: one scope, one agency, `--roots` issued roots (agency-signed, each the root of a two-leaf
batch), then governor status changes on every root and both its leaves (suspend, then reinstate / suspend
cycles) until `--events` events exist. `--empty-blocks` mines blocks without registry events between the
setup and the issuance, as a real chain has: the replay must not read the dense stretch after them in one
reply. Transactions go through a small batching contract that holds the
governor role, so hundreds of registry calls share one transaction (100,000 events build in about 30 s).

Each measurement replays in a fresh child process (so its peak RSS is its own): once to a block part-way
through the ledger and once to its end. The state (roots and status targets) is the same size at both
points while the event count grows, which is what shows whether memory grows with the ledger. The view
comparison and provenance are timed separately from the replay (they scale with records, not events).
Issue 7's target: at least 20,000 events a second, memory not growing with the ledger's length. The
`/CPU-s` column (events per second of the replaying process's own CPU time) does not depend on what else
the machine runs; the wall-clock rate does, and includes the node's time to serve the logs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3

from credreg.audit.state import combine
from credreg.chain.build import COMPILER_SETTINGS, compile_sources
from credreg.chain.client import connect
from credreg.chain.deploy import deploy_registry
from credreg.chain.devchain import ephemeral_chain
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.manifest import Manifest
from credreg.chain.transactions import TxSender
from credreg.registry import Registry, scope_id_of

TARGET_EVENTS_PER_SECOND = 20_000
CALLS_PER_TX = 400
TX_GAS = 29_000_000

# Holds the governor role so that many registry calls share one transaction; reverts with the first failure.
BATCHER_SOURCE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

contract Batcher {
    function run(address target, bytes[] calldata calls) external {
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool ok, bytes memory reply) = target.call(calls[i]);
            if (!ok) {
                assembly {
                    revert(add(reply, 32), mload(reply))
                }
            }
        }
    }
}
"""


def rss_kb() -> tuple[int, int]:
    """(current, peak) resident set size of this process in KiB."""
    fields = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


# --- the ledger ----------------------------------------------------------------------------------------------


class Ledger:
    def __init__(self, w3: Web3, deployer: LocalAccount) -> None:
        output = compile_sources(
            input_json={
                "language": "Solidity",
                "sources": {"Batcher.sol": {"content": BATCHER_SOURCE}},
                "settings": COMPILER_SETTINGS,
            }
        )
        compiled = output["contracts"]["Batcher.sol"]["Batcher"]
        self.w3 = w3
        self.sender = TxSender(w3, deployer, abi=compiled["abi"])
        factory = w3.eth.contract(abi=compiled["abi"], bytecode="0x" + compiled["evm"]["bytecode"]["object"])
        tx: Any = factory.constructor().build_transaction({"from": deployer.address, "gas": 0})
        for key in ("gas", "maxFeePerGas", "maxPriorityFeePerGas", "gasPrice", "nonce", "chainId"):
            tx.pop(key, None)
        self.batcher = self.sender.send(tx)["contractAddress"]
        self.batch_contract = w3.eth.contract(address=self.batcher, abi=compiled["abi"])
        self.manifest = deploy_registry(w3, deployer, governor=self.batcher)
        self.registry = Registry(w3, self.manifest)
        self.pending: list[bytes] = []
        self.submitted: list[str] = []
        self.events = 1  # the registry's deployment emitted OwnershipTransferred
        # web3's encode_abi validates the whole ABI on every call (milliseconds); encode directly instead.
        self.functions: dict[str, tuple[bytes, list[str]]] = {}
        for entry in self.registry.abi:
            if entry["type"] == "function":
                types = [i["type"] for i in entry["inputs"]]
                selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4]
                self.functions[entry["name"]] = (selector, types)

    def call(self, name: str, *args: Any, events: int = 1) -> None:
        selector, types = self.functions[name]
        self.pending.append(selector + encode(types, list(args)))
        self.events += events
        if len(self.pending) >= CALLS_PER_TX:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        data = self.batch_contract.encode_abi("run", args=[self.registry.address, self.pending])
        self.pending = []
        # Submitted without web3's receipt formatting (hundreds of logs each); checked in bulk by `settle`.
        self.submitted.append(
            self.sender.submit({"to": self.batcher, "data": data, "gas": TX_GAS}).to_0x_hex()
        )

    def settle(self) -> None:
        """Wait until every submitted batch is mined, and stop if one failed."""
        self.flush()
        deadline = time.monotonic() + 600
        for tx_hash in self.submitted:
            while True:
                reply: Any = self.w3.provider.make_request("eth_getTransactionReceipt", [tx_hash])  # type: ignore[arg-type]
                receipt = reply.get("result")
                if receipt:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"batch {tx_hash} was not mined within 10 minutes")
                time.sleep(0.05)
            if int(receipt["status"], 16) != 1:
                raise SystemExit(f"a batch transaction failed: {tx_hash}")
        self.submitted = []


def build_ledger(
    w3: Web3, roots: int, events: int, empty_blocks: int = 0
) -> tuple[Ledger, int, dict[str, Any]]:
    """Generate the ledger; returns it, the block where the churn phase starts, and generation figures."""
    started = time.perf_counter()
    deployer = Account.from_key(ANVIL_TEST_KEYS[0])
    signers = [Account.from_key(k) for k in ANVIL_TEST_KEYS[1:5]]
    ledger = Ledger(w3, deployer)
    registry = ledger.registry
    ledger.call("defineScope", "4-04-05-01", 3, "Blockchain engineering technician, level 3")
    scope = bytes.fromhex(scope_id_of("4-04-05-01", 3)[2:])
    ledger.call("registerAgency", "Benchmark Assessment Centre", "BENCH-1", ledger.batcher)
    ledger.settle()
    now = registry.block_time()
    ledger.call("accredit", 1, scope, now - 60, 0)
    for signer in signers:
        ledger.call("addSigner", 1, signer.address, now - 60, 0)
    ledger.settle()
    if empty_blocks:
        w3.provider.make_request("anvil_mine", [hex(empty_blocks)])  # type: ignore[arg-type]

    targets: list[tuple[bytes, bytes, list[bytes]]] = []  # (root, target, proof)
    signing = time.perf_counter()
    deadline = registry.block_time() + 7 * 86_400
    for i in range(roots):
        a, b = os.urandom(32), os.urandom(32)
        root_hex = combine("0x" + a.hex(), "0x" + b.hex())
        root = bytes.fromhex(root_hex[2:])
        signed = registry.sign_issue(
            signers[i % len(signers)], registry.issue_request(root_hex, "0x" + scope.hex(), deadline=deadline)
        )
        sig = signed.signature
        ledger.call("issue", root, scope, 0, deadline, bytes.fromhex(sig.r[2:]), bytes.fromhex(sig.vs[2:]))
        targets += [(root, root, []), (root, a, [b]), (root, b, [a])]
    signing = time.perf_counter() - signing
    for root, target, proof in targets:
        ledger.call("governorSetStatus", 1, root, target, proof, 2, 1)
    ledger.settle()
    churn_block = registry.head()
    action = 3
    while ledger.events < events:
        for root, target, proof in targets:
            ledger.call("governorSetStatus", 1, root, target, proof, action, 0)
            if ledger.events >= events and action == 3:
                break
        action = 2 if action == 3 else 3
    ledger.settle()
    figures = {
        "generation_seconds": round(time.perf_counter() - started, 1),
        "signing_seconds": round(signing, 1),
        "blocks": registry.head() - ledger.manifest.deployment_block + 1,
        "roots": roots,
        "targets": len(targets),
    }
    return ledger, churn_block, figures


# --- one measurement, in a child process ---------------------------------------------------------------------


def measure(url: str, manifest_json: str, to_block: int, views: bool) -> dict[str, Any]:
    from credreg.audit.provenance import check_provenance
    from credreg.audit.replay import Replayer
    from credreg.audit.views import compare_views

    registry = Registry(connect(url), Manifest.model_validate_json(manifest_json))
    baseline, _ = rss_kb()
    replayer = Replayer(registry)
    reads = count_log_reads(replayer)
    started, cpu = time.perf_counter(), time.process_time()
    replayer.run(to_block)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    digest = replayer.digest()
    _, peak = rss_kb()
    result: dict[str, Any] = {
        "to_block": to_block,
        "events": digest.event_count,
        "seconds": round(seconds, 3),
        "events_per_second": round(digest.event_count / seconds),
        "cpu_seconds": round(cpu, 3),
        "events_per_cpu_second": round(digest.event_count / cpu),
        "baseline_rss_mib": round(baseline / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "growth_mib": round((peak - baseline) / 1024, 1),
        "roots": len(replayer.state.roots),
        "targets": len(replayer.state.targets),
        "findings": replayer.state.findings_total,
        "digest": digest.digest,
        "log_reads": reads,
    }
    if views:
        started = time.perf_counter()
        comparison = compare_views(
            registry.w3, registry.address, registry.abi, replayer.state, to_block, replayer.through_time()
        )
        result["views_seconds"] = round(time.perf_counter() - started, 2)
        result["views_compared"] = sum(comparison.compared.values())
        result["views_mismatched"] = sum(comparison.mismatched.values())
        started = time.perf_counter()
        check_provenance(registry.w3, registry.address, to_block, recompile=False)
        result["provenance_seconds"] = round(time.perf_counter() - started, 2)
    return result


def count_log_reads(replayer: Any) -> dict[str, int]:
    """eth_getLogs replies, the logs they brought and the largest: logs beyond the events replayed were
    fetched and thrown away, and the largest reply is what the replay held at once."""
    reads = {"calls": 0, "logs": 0, "largest": 0}
    fetch = replayer.source._get_logs

    def counted(start: int, end: int) -> Any:
        reply = fetch(start, end)
        logs = reply[0] or []
        reads["calls"] += 1
        reads["logs"] += len(logs)
        reads["largest"] = max(reads["largest"], len(logs))
        return reply

    replayer.source._get_logs = counted
    return reads


def run_child(url: str, manifest: Manifest, to_block: int, views: bool) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve().parent),
        "audit-ledger",
        "--child",
        url,
        str(to_block),
        "--views" if views else "--no-views",
    ]
    done = subprocess.run(
        command, input=manifest.model_dump_json(), capture_output=True, text=True, check=False, timeout=1800
    )
    if done.returncode != 0:
        raise SystemExit(f"the measurement failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="events on the generated ledger")
    parser.add_argument("--roots", type=int, default=600, help="roots issued (each with 3 status targets)")
    parser.add_argument(
        "--empty-blocks", type=int, default=0, help="blocks without registry events before the issuance"
    )
    parser.add_argument("--repeat", type=int, default=3, help="replays per point; the median is reported")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child", nargs=2, metavar=("URL", "BLOCK"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--views", action=argparse.BooleanOptionalAction, default=False, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child[0], sys.stdin.read(), int(args.child[1]), args.views)))
        return 0

    with ephemeral_chain() as chain:
        w3 = connect(chain.url)
        print(
            f"generating a ledger of about {args.events:,} events on anvil {chain.url} ...", file=sys.stderr
        )
        ledger, churn_block, generation = build_ledger(w3, args.roots, args.events, args.empty_blocks)
        head = ledger.registry.head()
        # part-way: the whole state exists, about a quarter of the churn is done
        middle = churn_block + (head - churn_block) // 4
        points: dict[str, list[dict[str, Any]]] = {"part-way": [], "whole": []}
        load = os.getloadavg()
        for _ in range(max(1, args.repeat)):
            points["part-way"].append(run_child(chain.url, ledger.manifest, middle, views=False))
            points["whole"].append(run_child(chain.url, ledger.manifest, head, views=False))
        with_views = run_child(chain.url, ledger.manifest, head, views=True)

    def median(runs: list[dict[str, Any]], key: str) -> float:
        values = sorted(float(r[key]) for r in runs)
        return values[len(values) // 2]

    print(
        f"\nledger: {generation['roots']:,} roots, {generation['targets']:,} status targets, "
        f"{points['whole'][0]['events']:,} events in {generation['blocks']:,} blocks "
        f"({args.empty_blocks:,} of them empty before the issuance) "
        f"(generated in {generation['generation_seconds']} s, of which signing {generation['signing_seconds']} s)"
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"load average before the replays: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores are shared)")
    header = (
        f"{'replay to':<10} {'events':>9} {'seconds':>8} {'events/s':>9} {'/CPU-s':>9} {'peak RSS':>9} "
        f"{'growth':>8} {'logs read':>10} {'replies':>8} {'largest':>8}"
    )
    print(f"\n{header}  state")
    for label, runs in points.items():
        first = runs[0]
        print(
            f"{label:<10} {first['events']:>9,} {median(runs, 'seconds'):>8.2f} "
            f"{median(runs, 'events_per_second'):>9,.0f} {median(runs, 'events_per_cpu_second'):>9,.0f} "
            f"{median(runs, 'peak_rss_mib'):>7.1f}Mi {median(runs, 'growth_mib'):>6.1f}Mi "
            f"{first['log_reads']['logs']:>10,} {first['log_reads']['calls']:>8,} "
            f"{first['log_reads']['largest']:>8,}  "
            f"{first['roots']:,} roots, {first['targets']:,} targets"
        )
    rate = median(points["whole"], "events_per_second")
    growth = median(points["whole"], "growth_mib") - median(points["part-way"], "growth_mib")
    ratio = points["whole"][0]["events"] / max(1, points["part-way"][0]["events"])
    print(
        f"\nreplay rate {rate:,.0f} events/s: target ≥ {TARGET_EVENTS_PER_SECOND:,} "
        f"{'met' if rate >= TARGET_EVENTS_PER_SECOND else 'MISSED'}"
    )
    print(f"memory: {ratio:.1f}× the events with the same state used {growth:+.1f} MiB more at peak")
    print(
        f"views: {with_views['views_compared']:,} records compared in {with_views['views_seconds']} s "
        f"({with_views['views_mismatched']} mismatched); provenance {with_views['provenance_seconds']} s"
    )
    if args.json:
        figures = {"generation": generation, "replays": points, "with_views": with_views,
                   "target_events_per_second": TARGET_EVENTS_PER_SECOND}  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0
