"""The audit: a ledger built on anvil, replayed from genesis in fresh processes (rate and peak memory).

One ledger builder serves both measurements (`build_ledger`): a registry deployed on the chain with a small
batching contract as its governor and its agency's admin, so that hundreds of registry calls share one
transaction. The ledger has the kinds of event a real one has: the scope, the agency, its accreditation and
signer keys, then roots issued with agency signatures (made by the dev chain's own keys for them, anvil's
`eth_signTypedData_v4`, in JSON-RPC batches), each the root of a two-leaf batch, a leaf of one root in
LEDGER_REVOKE_EVERY revoked by the governor with its proof, and then governor status changes on a fixed set
of targets (suspend all, reinstate all, over and over): the ledger grows while the rebuilt state does not.

Each replay runs in a fresh child process (`run_replay`, `measure_child`: its own peak RSS, `rss_mb`), and
counts what it asks the node for (`count_log_reads`).

`make bench` measures it within the whole run (`measure_audit`: 100,000 credentials, then 60,000 status
changes on 250 targets), and the replay of a generated million-event ledger beside it (`measure_audit_scale`,
`bench.audit_scale`). `python scripts/bench audit` measures the audit alone on its own anvil (`main`, options
with `--help`).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from bench.audit_scale import rss_mb
from bench.core import (
    BENCH_DIR,
    CHURN_TARGETS,
    LEDGER_REVOKE_EVERY,
    Config,
    Deadline,
    Row,
    Setup,
    check,
    leaf_hash,
    median,
)
from credreg.audit.state import combine
from credreg.chain.build import COMPILER_SETTINGS, compile_sources
from credreg.chain.codec import ContractCodec
from credreg.chain.deploy import deploy_registry
from credreg.chain.devchain import ephemeral_chain
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.eip712 import ISSUE_TYPES, CompactSignature
from credreg.chain.manifest import Manifest
from credreg.registry import Registry, scope_id_of

TARGET_EVENTS_PER_SECOND = 20_000
CALLS_PER_TX = 400  # registry calls in one batching transaction
TX_GAS = 29_000_000  # within anvil's default block gas limit (30 M), for `python scripts/bench audit`
SIGN_CHUNK = 500  # signatures asked of the dev chain in one JSON-RPC batch
SIGNERS = 4  # the agency's signer keys, in turn (anvil's test accounts 1 to 4)
HIGH_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
SUSPEND, REINSTATE, REVOKE = 2, 3, 1
# A fee cap well above the dev chain's base fee: full blocks raise it, and a transaction whose cap falls
# below it would wait in the pool for a block automine never makes.
FEES = {"maxFeePerGas": hex(50 * 10**9), "maxPriorityFeePerGas": hex(10**9)}

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

# --- the ledger ----------------------------------------------------------------------------------------------


class Rpc:
    """Plain JSON-RPC batches over one keep-alive connection (the ledger builder's only transport)."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=300.0)
        self.ids = 0

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        if not calls:
            return []
        payload = []
        for method, params in calls:
            self.ids += 1
            payload.append({"jsonrpc": "2.0", "id": self.ids, "method": method, "params": params})
        replies = self.client.post("", json=payload).json()
        if not isinstance(replies, list):
            raise RuntimeError(f"the chain refused a batch: {replies}")
        by_id = {reply["id"]: reply for reply in replies}
        out = []
        for request in payload:
            reply = by_id[request["id"]]
            if "error" in reply:
                raise RuntimeError(f"{request['method']} failed: {reply['error']}")
            out.append(reply["result"])
        return out

    def call(self, method: str, params: list[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def close(self) -> None:
        self.client.close()


class Ledger:
    """A registry deployed with a batching contract as its governor, and registry calls queued for it:
    CALLS_PER_TX calls to a transaction, sent from the deployer's dev account (anvil signs, automine mines)."""

    def __init__(self, url: str, w3: Web3, deployer: LocalAccount) -> None:
        output = compile_sources(
            input_json={
                "language": "Solidity",
                "sources": {"Batcher.sol": {"content": BATCHER_SOURCE}},
                "settings": COMPILER_SETTINGS,
            }
        )
        compiled = output["contracts"]["Batcher.sol"]["Batcher"]
        self.rpc = Rpc(url)
        self.sender = deployer.address
        self.submitted: list[str] = []
        self.pending: list[str] = []
        self.batch_codec = ContractCodec(compiled["abi"])
        bytecode = "0x" + compiled["evm"]["bytecode"]["object"]
        deployed = self._send({"data": bytecode, "gas": hex(1_000_000)})
        self.batcher: str = Web3.to_checksum_address(self.settle([deployed])[0]["contractAddress"])
        self.manifest = deploy_registry(w3, deployer, governor=self.batcher)
        self.registry = Registry(w3, self.manifest)
        self.codec = self.registry.codec
        self.calls = 0
        self.events = 1  # the registry's deployment emitted OwnershipTransferred

    def _send(self, tx: dict[str, Any]) -> str:
        tx_hash: str = self.rpc.call("eth_sendTransaction", [{"from": self.sender, **FEES, **tx}])
        return tx_hash

    def call(self, name: str, *args: Any, events: int = 1) -> None:
        self.pending.append(self.codec.call_data(name, *args))
        self.calls += 1
        self.events += events
        if len(self.pending) >= CALLS_PER_TX:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        data = self.batch_codec.call_data("run", self.registry.address, self.pending)
        self.pending = []
        self.submitted.append(self._send({"to": self.batcher, "data": data, "gas": hex(TX_GAS)}))

    def settle(self, hashes: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Wait until every submitted transaction is mined (2 minutes at most: automine mines each as it
        arrives); stop if one failed."""
        if hashes is None:
            self.flush()
            hashes, self.submitted = self.submitted, []
        deadline = time.monotonic() + 120
        receipts: list[dict[str, Any]] = []
        waiting = list(hashes)
        while waiting:
            got = self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in waiting])
            for tx_hash, receipt in zip(waiting, got, strict=True):
                if receipt is not None and int(receipt["status"], 16) != 1:
                    raise RuntimeError(f"a ledger transaction failed: {tx_hash}")
            receipts += [r for r in got if r is not None]
            waiting = [h for h, r in zip(waiting, got, strict=True) if r is None]
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"{len(waiting)} ledger transactions were not mined within 2 minutes")
            if waiting:
                time.sleep(0.05)
        return receipts

    def head(self) -> int:
        return int(self.rpc.call("eth_blockNumber", []), 16)

    def close(self) -> None:
        self.rpc.close()


@dataclass
class BuiltLedger:
    """A built ledger: its deployment, the blocks where its phases end, and how long building it took."""

    manifest: Manifest
    issued_block: int  # the last block of the issuance (and its revocations)
    churn_first: int  # the status changes on the fixed targets: first and last block
    churn_last: int
    figures: dict[str, Any] = field(default_factory=dict)


def churn_targets_of(roots: int, count: int | None) -> list[tuple[str, str, list[str]]]:
    """(root, target, proof) for the status-change phase: each root and both its leaves, from the first
    root on, skipping roots that had a leaf revoked; `count` of them (None: all)."""
    targets = []
    for i in range(roots):
        if i % LEDGER_REVOKE_EVERY == LEDGER_REVOKE_EVERY - 1:
            continue
        root, a, b = credential(i)
        targets += [(root, root, []), (root, a, [b]), (root, b, [a])]
        if count is not None and len(targets) >= count:
            return targets[:count]
    return targets


def credential(i: int) -> tuple[str, str, str]:
    """The ledger's `i`th root and its two leaves (0x-hex)."""
    a = "0x" + leaf_hash(f"ledger {i} a").hex()
    b = "0x" + leaf_hash(f"ledger {i} b").hex()
    return combine(a, b), a, b


def build_ledger(
    url: str,
    w3: Web3,
    deployer: LocalAccount,
    roots: int,
    *,
    churn_targets: int | None,
    churn_events: int | None = None,
    total_events: int | None = None,
    empty_blocks: int = 0,
    deadline: Deadline | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> BuiltLedger:
    """Build the ledger of the module docstring: `roots` credentials, then `churn_events` status changes
    (or as many as make about `total_events` events) on `churn_targets` targets (None: every root and leaf
    of the roots not revoked)."""
    deadline = deadline or Deadline(3_600)
    started = time.perf_counter()
    ledger = Ledger(url, w3, deployer)
    try:
        registry = ledger.registry
        signers = [Account.from_key(k).address for k in ANVIL_TEST_KEYS[1 : 1 + SIGNERS]]
        ledger.call("defineScope", "4-04-05-01", 3, "Blockchain engineering technician, level 3")
        scope = scope_id_of("4-04-05-01", 3)
        ledger.call("registerAgency", "Benchmark Assessment Centre", "BENCH-1", ledger.batcher)
        ledger.settle()
        now = registry.block_time()
        ledger.call("accredit", 1, scope, now - 60, 0)
        for signer in signers:
            ledger.call("addSigner", 1, signer, now - 60, 0)
        ledger.settle()
        if empty_blocks:
            ledger.rpc.call("anvil_mine", [hex(empty_blocks)])
        first_block = ledger.head() + 1

        issue_deadline = registry.block_time() + 7 * 86_400
        typed_base = {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                **ISSUE_TYPES,
            },
            "primaryType": "Issue",
            "domain": registry.domain.as_eip712(),
        }
        signing = 0.0
        revoked = 0
        for start in range(0, roots, SIGN_CHUNK):
            deadline.check("building the audit ledger")
            chunk = [(i, *credential(i)) for i in range(start, min(roots, start + SIGN_CHUNK))]
            asked = time.perf_counter()
            signatures = ledger.rpc.batch(
                [
                    (
                        "eth_signTypedData_v4",
                        [
                            signers[i % SIGNERS],
                            {
                                **typed_base,
                                "message": {
                                    "root": root,
                                    "scope": scope,
                                    "validUntil": 0,
                                    "deadline": issue_deadline,
                                },
                            },
                        ],
                    )
                    for i, root, _, _ in chunk
                ]
            )
            signing += time.perf_counter() - asked
            for (i, root, a, b), signature in zip(chunk, signatures, strict=True):
                raw = signature[2:]
                r, s, v = int(raw[:64], 16), int(raw[64:128], 16), int(raw[128:130], 16)
                if s > HIGH_S:
                    raise RuntimeError(
                        "the dev chain returned a high-s signature, which the registry rejects"
                    )
                compact = CompactSignature.from_vrs(v, r, s)
                ledger.call("issue", root, scope, 0, issue_deadline, compact.r, compact.vs)
                if i % LEDGER_REVOKE_EVERY == LEDGER_REVOKE_EVERY - 1:
                    ledger.call("governorSetStatus", 1, root, a, [b], REVOKE, 1)
                    revoked += 1
            if (start // SIGN_CHUNK) % 40 == 39:
                log(f"  ledger: {start + len(chunk):,} credentials issued")
        ledger.settle()
        issued_block = ledger.head()
        issued_seconds = time.perf_counter() - started

        targets = churn_targets_of(roots, churn_targets)
        if churn_events is None:
            churn_events = max(0, (total_events or 0) - ledger.events)
        churn_started = time.perf_counter()
        changes, action = 0, SUSPEND
        while changes < churn_events:
            deadline.check("building the audit ledger's status changes")
            for root, target, proof in targets:
                ledger.call(
                    "governorSetStatus", 1, root, target, proof, action, 0 if action == REINSTATE else 7
                )
                changes += 1
                if changes >= churn_events and action == REINSTATE:
                    break
            action = REINSTATE if action == SUSPEND else SUSPEND
        ledger.settle()
        churn_last = ledger.head()
    finally:
        ledger.close()
    seconds = time.perf_counter() - started
    figures = {
        "credentials": roots,
        "revocations": revoked,
        "first_block": first_block,
        "last_block": issued_block,
        "seconds": round(issued_seconds, 1),
        "per_second": roots / issued_seconds,
        "signing_seconds": round(signing, 1),
        "churn": {
            "status_changes": changes,
            "targets": len(targets),
            "first_block": issued_block + 1,
            "last_block": churn_last,
            "seconds": round(time.perf_counter() - churn_started, 1),
        },
        "events_estimated": ledger.events,
        "registry_calls": ledger.calls,
        "blocks": churn_last - ledger.manifest.deployment_block + 1,
        "empty_blocks": empty_blocks,
        "generation_seconds": round(seconds, 1),
        "built_through": f"a batching contract holding the governor role, {CALLS_PER_TX} registry calls a transaction",
    }
    return BuiltLedger(ledger.manifest, issued_block, issued_block + 1, churn_last, figures)


# --- one replay, in a fresh child process -------------------------------------------------------------------


def count_log_reads(replayer: Any) -> dict[str, int]:
    """Count what the replay asks the node for (eth_getLogs calls, logs returned, the largest reply): logs
    read beyond the events replayed are windows fetched and thrown away. Best effort: reads the replay's
    log source through its private fetch method, and counts nothing if that changes."""
    reads = {"calls": 0, "logs": 0, "largest": 0}
    source = getattr(replayer, "source", None)
    fetch = getattr(source, "_get_logs", None)
    if source is None or not callable(fetch):
        return reads

    def counted(start: int, end: int) -> Any:
        result = fetch(start, end)
        logs = result[0] if isinstance(result, tuple) else result
        if isinstance(logs, list):
            reads["calls"] += 1
            reads["logs"] += len(logs)
            reads["largest"] = max(reads["largest"], len(logs))
        return result

    source._get_logs = counted
    return reads


def measure_child(
    url: str, manifest_json: str, to_block: int, views: bool = False, profile_out: str | None = None
) -> dict[str, Any]:
    """In a fresh process (for a peak memory of its own): replay the ledger up to `to_block`; with `views`,
    then compare the contract's views and check provenance, timed apart."""
    from credreg.audit.replay import Replayer

    registry = Registry.connect(url, Manifest.model_validate_json(manifest_json))
    baseline, _ = rss_mb()
    replayer = Replayer(registry)
    reads = count_log_reads(replayer)
    profiler = cProfile.Profile() if profile_out else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    replayer.run(to_block)
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler and profile_out:
        profiler.dump_stats(profile_out)
    _, peak = rss_mb()
    digest = replayer.digest()
    result: dict[str, Any] = {
        "to_block": to_block,
        "through_block": digest.through_block,
        "events": digest.event_count,
        "seconds": seconds,
        "events_per_second": digest.event_count / seconds,
        "cpu_seconds": cpu,
        "events_per_cpu_second": digest.event_count / max(cpu, 1e-9),
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak,
        "growth_mb": peak - baseline,
        "roots": len(replayer.state.roots),
        "targets": len(replayer.state.targets),
        "findings": replayer.state.findings_total,
        "records_on_disk": replayer.state.database_path is not None,  # past the replay's memory_records
        "digest": digest.digest,
        "log_reads": reads,
    }
    if views:
        from credreg.audit.provenance import check_provenance
        from credreg.audit.views import compare_views

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
    replayer.close()
    return result


def run_replay(
    url: str,
    manifest: Manifest,
    to_block: int,
    deadline: Deadline,
    *,
    views: bool = False,
    profile_out: Path | None = None,
) -> dict[str, Any]:
    """`measure_child` in a fresh process (`python scripts/bench audit --child`); its figures."""
    deadline.check("the audit replay")
    command = [sys.executable, str(BENCH_DIR), "audit", "--child", url, str(to_block)]
    if views:
        command.append("--views")
    if profile_out is not None:
        command += ["--profile-out", str(profile_out)]
    done = subprocess.run(
        command,
        input=manifest.model_dump_json(),
        capture_output=True,
        text=True,
        timeout=max(1.0, min(1_800.0, deadline.left())),
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the replay failed: {done.stderr.strip()[-1500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- `make bench`'s audit rows --------------------------------------------------------------------------------


def measure_audit(
    s: Setup, cfg: Config, deadline: Deadline, log: Callable[[str], None]
) -> tuple[list[Row], BuiltLedger]:
    built = build_ledger(
        s.chain.url,
        s.w3,
        s.governor,
        cfg.ledger_credentials,
        churn_targets=CHURN_TARGETS,
        churn_events=cfg.churn_events,
        deadline=deadline,
        log=log,
    )
    ledger = built.figures
    churn = ledger["churn"]
    log(
        f"  ledger: {ledger['credentials']:,} credentials in {ledger['seconds']:.1f} s "
        f"({ledger['per_second']:,.0f}/s), blocks {ledger['first_block']}..{ledger['last_block']}; "
        f"{churn['status_changes']:,} status changes on {churn['targets']} targets after them "
        f"in {churn['seconds']:.1f} s"
    )
    url, manifest = s.chain.url, built.manifest
    # Fresh processes replay to the end of the credentials (what the rebuilt state costs), to half-way
    # through the status changes and to their end: the state is the same at the last two points and both
    # replays went through the same dense stretch, so what memory grows by between them is what the replay
    # holds per event (it should hold nothing).
    credentials_only = run_replay(url, manifest, built.issued_block, deadline)
    part = run_replay(url, manifest, (built.churn_first + built.churn_last) // 2, deadline)
    fulls = []
    for _ in range(cfg.runs):
        full = run_replay(url, manifest, built.churn_last, deadline)
        fulls.append(full)
        log(
            f"  replay {full['events']:,} events: {full['events'] / full['seconds']:,.0f}/s, "
            f"peak {full['peak_rss_mb']:.0f} MB"
        )
    rate = median([f["events"] / f["seconds"] for f in fulls])
    peak = median([f["peak_rss_mb"] for f in fulls])
    events = fulls[0]["events"]
    added_full = median([f["peak_rss_mb"] - f["baseline_rss_mb"] for f in fulls])
    added_part = part["peak_rss_mb"] - part["baseline_rss_mb"]
    extra_events = max(1, events - part["events"])
    growth_kb_per_1k = (added_full - added_part) * 1024 / extra_events * 1000
    added_credentials = credentials_only["peak_rss_mb"] - credentials_only["baseline_rss_mb"]
    state_kb_per_1k = added_credentials * 1024 / max(1, ledger["credentials"]) * 1000
    findings = max(f["findings"] for f in fulls)
    applies = (
        ""
        if ledger["credentials"] >= 100_000
        else f"the target is for ≥ 100,000 credentials; this ledger has {ledger['credentials']:,}"
    )
    rows = [
        Row(
            "audit.replay_rate",
            "audit",
            f"replay {events:,} events ({ledger['credentials']:,} credentials)",
            "events/s",
            rate,
            targets=[check("≥ 20,000 events/s", rate, lambda v: v >= 20_000, applies)],
            detail={
                "runs": fulls,
                "to_end_of_credentials": credentials_only,
                "to_half_of_status_changes": part,
                "ledger": ledger,
                "findings": findings,
            },
        ),
        Row(
            "audit.peak_memory",
            "audit",
            "replay peak memory (whole process RSS)",
            "MB",
            peak,
            detail={
                "added_by_replay_mb": added_full,
                "per_1000_credentials_kb": state_kb_per_1k,
                "basis": "the rebuilt state holds every root and status target, as the contract does",
            },
        ),
        Row(
            "audit.memory_growth",
            "audit",
            f"replay memory growth, last {extra_events:,} events (same state), per 1,000",
            "KB",
            growth_kb_per_1k,
            targets=[
                check(
                    # Any per-event object kept would cost well over 100 bytes; below that is allocator noise.
                    "memory does not grow with the ledger (< 100 KB per 1,000 events)",
                    growth_kb_per_1k,
                    lambda v: v < 100,
                    applies,
                )
            ],
            detail={
                "added_by_replay_mb": {
                    "to_end_of_credentials": added_credentials,
                    "to_half_of_status_changes": added_part,
                    "whole": added_full,
                },
                "events": {
                    "to_end_of_credentials": credentials_only["events"],
                    "to_half_of_status_changes": part["events"],
                    "whole": events,
                },
            },
        ),
    ]
    rows += measure_audit_scale(cfg, deadline, log)
    return rows, built


# --- the replay at decade scale ------------------------------------------------------------------------------

SCALE_SCRIPT = Path(__file__).with_name("audit_scale.py")
# (events with the records on disk, the threshold then, events of the in-memory replay beside it)
SCALE_FULL = (1_000_000, None, 150_000)
SCALE_QUICK = (20_000, 2_000, 10_000)
SCALE_RATE_TARGET = 100_000
SCALE_MEMORY_TARGET_MB = 300


def run_scale(events: int, memory_records: int | None, deadline: Deadline) -> dict[str, Any]:
    """One replay of a generated ledger in a fresh process (`audit_scale.py`: its own peak memory)."""
    deadline.check("the audit replay at scale")
    cmd = [sys.executable, str(SCALE_SCRIPT), "--events", str(events)]
    if memory_records is not None:
        cmd += ["--memory-records", str(memory_records)]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=max(1.0, min(1800.0, deadline.left())), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the replay at scale failed: {done.stderr.strip()[-1500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["findings"]:
        raise RuntimeError(f"the generated ledger broke rules: {result['finding_codes']}")
    return result


def measure_audit_scale(cfg: Config, deadline: Deadline, log: Callable[[str], None]) -> list[Row]:
    """The replay of ≥ 1,000,000 events with its records on disk, beside the same replay in memory.

    The rate is events applied per CPU-second of the replaying process (the rules, the state, the records,
    the event digest): the machine is shared with the chain and other jobs, and the wall-clock rate (in the
    detail) swings with them. Reading the logs is apart: a million events take hours to put on anvil, so
    the ledger is generated as raw logs and decoded by the codec's path for raw replies, timed separately.
    """
    events, threshold, memory_events = SCALE_QUICK if cfg.name == "quick" else SCALE_FULL
    disk = [run_scale(events, threshold, deadline) for _ in range(max(1, cfg.large_runs))]
    memory = [run_scale(memory_events, 10 * memory_events, deadline) for _ in range(cfg.runs)]
    rate = median([r["replay_events_per_cpu_second"] for r in disk])
    peak = median([r["peak_rss_with_checkpoint_mb"] for r in disk])  # a checkpoint commits the records
    memory_rate = median([r["replay_events_per_cpu_second"] for r in memory])
    memory_peak = median([r["peak_rss_mb"] for r in memory])
    log(
        f"  replay at scale: {events:,} events, records on disk: {rate:,.0f} events/CPU-s, peak {peak:.0f} MB; "
        f"in memory ({memory_events:,} events): {memory_rate:,.0f} events/CPU-s, peak {memory_peak:.0f} MB"
    )
    applies = (
        "" if events >= 1_000_000 else f"the target is for ≥ 1,000,000 events; this ledger has {events:,}"
    )
    in_memory = f"in memory, {memory_events:,} events"
    return [
        Row(
            "audit.scale_rate",
            "audit",
            f"replay {events:,} generated events, records on disk (per CPU-second; log reading apart)",
            "events/s",
            rate,
            peers={in_memory: memory_rate},
            targets=[
                check(f"≥ {SCALE_RATE_TARGET:,} events/s", rate, lambda v: v >= SCALE_RATE_TARGET, applies)
            ],
            detail={"disk": disk, "memory": memory},
        ),
        Row(
            "audit.scale_peak_memory",
            "audit",
            f"replay {events:,} generated events: peak memory (whole process, VmHWM, a checkpoint included)",
            "MB",
            peak,
            peers={in_memory: memory_peak},
            targets=[
                check(
                    f"< {SCALE_MEMORY_TARGET_MB} MB whatever the ledger's size",
                    peak,
                    lambda v: v < SCALE_MEMORY_TARGET_MB,
                    applies,
                )
            ],
            detail={
                "records": disk[0]["roots"] + disk[0]["targets"],
                "file_mb": disk[0]["records_file_mb"],  # after the checkpoint's commit, key filters included
                "key_filters_mb": disk[0]["key_filters_mb"],
                "bytes_per_record": disk[0]["bytes_per_record"],
            },
        ),
    ]


# --- the audit alone, on its own anvil (`python scripts/bench audit`) -----------------------------------------

LEDGER_COMMAND = """Audit replay benchmark: events per second and peak memory, on a ledger built on its own anvil.

    .venv/bin/python scripts/bench audit                 # about 100,000 events
    .venv/bin/python scripts/bench audit --events 300000 --roots 1000
    .venv/bin/python scripts/bench audit --empty-blocks 2000   # a sparse start before the dense stretch

The ledger (the one `make bench` replays, `bench.audit`): one scope, one agency with four signer keys,
`--roots` roots issued with agency signatures (each the root of a two-leaf batch; a leaf of one root in 100
revoked by the governor), then governor status changes on every root and both its leaves (suspend all,
reinstate all, over and over) until about `--events` events exist. `--empty-blocks` mines blocks without
registry events between the setup and the issuance, as a real chain has: the replay must not read the dense
stretch after them in one reply. Transactions go through a small batching contract that holds the governor
role, so hundreds of registry calls share one transaction (100,000 events build in about 20 s).

Each measurement replays in a fresh child process (so its peak RSS is its own): once to a block part-way
through the status changes and once to the end. The state (roots and status targets) is the same size at
both points while the event count grows, which is what shows whether memory grows with the ledger. The view
comparison and provenance are timed separately from the replay (they scale with records, not events).
Issue 7's target: at least 20,000 events a second, memory not growing with the ledger's length. The
`/CPU-s` column (events per second of the replaying process's own CPU time) does not depend on what else
the machine runs; the wall-clock rate does, and includes the node's time to serve the logs.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/bench audit",
        description=LEDGER_COMMAND,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=100_000, help="events on the generated ledger")
    parser.add_argument("--roots", type=int, default=600, help="roots issued (each with 3 status targets)")
    parser.add_argument(
        "--empty-blocks", type=int, default=0, help="blocks without registry events before the issuance"
    )
    parser.add_argument("--repeat", type=int, default=3, help="replays per point; the median is reported")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child", nargs=2, metavar=("URL", "BLOCK"), help=argparse.SUPPRESS)
    parser.add_argument("--views", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        url, block = args.child
        if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
            parser.error("the replay child only reads a loopback chain")
        print(json.dumps(measure_child(url, sys.stdin.read(), int(block), args.views, args.profile_out)))
        return 0
    for name in ("events", "roots", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.empty_blocks < 0:
        parser.error("--empty-blocks must be 0 or more")

    deadline = Deadline(3_600)
    with ephemeral_chain() as chain:
        from credreg.chain.client import connect

        w3 = connect(chain.url)
        print(f"building a ledger of about {args.events:,} events on anvil {chain.url} ...", file=sys.stderr)
        built = build_ledger(
            chain.url,
            w3,
            Account.from_key(ANVIL_TEST_KEYS[0]),
            args.roots,
            churn_targets=None,
            total_events=args.events,
            empty_blocks=args.empty_blocks,
            deadline=deadline,
        )
        generation = built.figures
        # part-way: the whole state exists, about a quarter of the status changes are done
        middle = built.churn_first + (built.churn_last - built.churn_first) // 4
        points: dict[str, list[dict[str, Any]]] = {"part-way": [], "whole": []}
        load = os.getloadavg()
        for _ in range(args.repeat):
            points["part-way"].append(run_replay(chain.url, built.manifest, middle, deadline))
            points["whole"].append(run_replay(chain.url, built.manifest, built.churn_last, deadline))
        with_views = run_replay(chain.url, built.manifest, built.churn_last, deadline, views=True)

    def median_of(runs: list[dict[str, Any]], key: str) -> float:
        return median([float(r[key]) for r in runs])

    print(
        f"\nledger: {generation['credentials']:,} roots, {generation['churn']['targets']:,} status targets, "
        f"{points['whole'][0]['events']:,} events in {generation['blocks']:,} blocks "
        f"({args.empty_blocks:,} of them empty before the issuance) "
        f"(built in {generation['generation_seconds']} s, of which signing {generation['signing_seconds']} s)"
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
            f"{label:<10} {first['events']:>9,} {median_of(runs, 'seconds'):>8.2f} "
            f"{median_of(runs, 'events_per_second'):>9,.0f} {median_of(runs, 'events_per_cpu_second'):>9,.0f} "
            f"{median_of(runs, 'peak_rss_mb'):>7.1f}MB {median_of(runs, 'growth_mb'):>6.1f}MB "
            f"{first['log_reads']['logs']:>10,} {first['log_reads']['calls']:>8,} "
            f"{first['log_reads']['largest']:>8,}  "
            f"{first['roots']:,} roots, {first['targets']:,} targets"
        )
    rate = median_of(points["whole"], "events_per_second")
    growth = median_of(points["whole"], "growth_mb") - median_of(points["part-way"], "growth_mb")
    ratio = points["whole"][0]["events"] / max(1, points["part-way"][0]["events"])
    print(
        f"\nreplay rate {rate:,.0f} events/s: target ≥ {TARGET_EVENTS_PER_SECOND:,} "
        f"{'met' if rate >= TARGET_EVENTS_PER_SECOND else 'MISSED'}"
    )
    print(f"memory: {ratio:.1f}× the events with the same state used {growth:+.1f} MB more at peak")
    findings = max(r["findings"] for runs in points.values() for r in runs)
    if findings:
        print(f"findings: {findings} (the built ledger should have none)")
    print(
        f"views: {with_views['views_compared']:,} records compared in {with_views['views_seconds']} s "
        f"({with_views['views_mismatched']} mismatched); provenance {with_views['provenance_seconds']} s"
    )
    if args.json:
        figures = {"generation": generation, "replays": points, "with_views": with_views,
                   "target_events_per_second": TARGET_EVENTS_PER_SECOND}  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0
