"""The audit: a ledger generated on the benchmark's chain and replayed from genesis in fresh processes (rate and
peak memory).

`make bench` measures it within the whole run (`measure_audit`), and the replay of a generated million-event
ledger beside it (`measure_audit_scale`, `bench.audit_scale`). `python scripts/bench audit` measures the audit
alone, on a larger ledger built in bulk through a batching contract (`main`, options with `--help`).
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
from pathlib import Path
from typing import Any

import httpx
from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3

from bench.core import (
    BENCH_DIR,
    CHURN_TARGETS,
    LEDGER_CHUNK,
    LEDGER_ISSUE_GAS,
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
from credreg.chain.client import connect
from credreg.chain.deploy import deploy_registry
from credreg.chain.devchain import ephemeral_chain
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.eip712 import DOMAIN_NAME, DOMAIN_VERSION, ISSUE_TYPES
from credreg.chain.manifest import Manifest
from credreg.chain.transactions import TxSender
from credreg.registry import Registry, scope_id_of

# --- the audit ledger and its replay -------------------------------------------------------------------


class Rpc:
    """Plain JSON-RPC batches over one keep-alive connection (the ledger generator's only transport)."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=120.0)
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


def generate_ledger(
    s: Setup, credentials: int, deadline: Deadline, log: Callable[[str], None]
) -> dict[str, Any]:
    """Issue `credentials` single-document credentials (one root each) and revoke one in LEDGER_REVOKE_EVERY,
    as fast as the dev chain takes them: the agency signs with the dev chain's own key for it (anvil's
    eth_signTypedData_v4), transactions go in JSON-RPC batches without waiting for each receipt, and a block
    is mined per batch."""
    rpc = Rpc(s.chain.url)
    started = time.perf_counter()
    registry = s.registry
    codec = registry.codec
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
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": registry.domain.chain_id,
            "verifyingContract": registry.address,
        },
    }
    relayer = s.relayer.address
    governor = s.governor.address
    relayer_nonce = int(rpc.call("eth_getTransactionCount", [relayer, "pending"]), 16)
    governor_nonce = int(rpc.call("eth_getTransactionCount", [governor, "pending"]), 16)
    fee = {"maxFeePerGas": hex(50 * 10**9), "maxPriorityFeePerGas": hex(10**9)}
    first_block = int(rpc.call("eth_blockNumber", []), 16) + 1
    rpc.call("evm_setAutomine", [False])

    def revoke_tx(root: str, nonce: int) -> tuple[str, list[Any]]:
        data = codec.call_data("governorSetStatus", s.agency_id, "0x" + root, "0x" + root, [], 1, 1)
        tx = {
            "from": governor,
            "to": registry.address,
            "data": data,
            "gas": hex(200_000),
            "nonce": hex(nonce),
        }
        return ("eth_sendTransaction", [{**tx, **fee}])

    issued = revoked = 0
    revoke_next: list[str] = []
    try:
        for start in range(0, credentials, LEDGER_CHUNK):
            deadline.check("generating the audit ledger")
            roots = [
                leaf_hash(f"ledger {i}").hex() for i in range(start, min(credentials, start + LEDGER_CHUNK))
            ]
            signatures = rpc.batch(
                [
                    (
                        "eth_signTypedData_v4",
                        [
                            s.signer.address,
                            {
                                **typed_base,
                                "message": {
                                    "root": "0x" + r,
                                    "scope": s.scope_id,
                                    "validUntil": 0,
                                    "deadline": issue_deadline,
                                },
                            },
                        ],
                    )
                    for r in roots
                ]
            )
            sends = []
            for root, signature in zip(roots, signatures, strict=True):
                raw = signature[2:]
                r_word, s_word, v = raw[:64], raw[64:128], int(raw[128:130], 16)
                s_int = int(s_word, 16)
                if s_int > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0:
                    raise RuntimeError(
                        "the dev chain returned a high-s signature, which the registry rejects"
                    )
                vs = f"{s_int | ((v - 27) << 255):064x}"
                data = codec.call_data(
                    "issue", "0x" + root, s.scope_id, 0, issue_deadline, "0x" + r_word, "0x" + vs
                )
                sends.append(
                    (
                        "eth_sendTransaction",
                        [
                            {
                                "from": relayer,
                                "to": registry.address,
                                "data": data,
                                "gas": hex(LEDGER_ISSUE_GAS),
                                "nonce": hex(relayer_nonce),
                                **fee,
                            }
                        ],
                    )
                )
                relayer_nonce += 1
            # Revoke roots of the previous batch (mined already: in one block, the order of two senders'
            # transactions is the miner's choice).
            sends += [revoke_tx(root, governor_nonce + n) for n, root in enumerate(revoke_next)]
            governor_nonce += len(revoke_next)
            revoked += len(revoke_next)
            revoke_next = [
                r for n, r in enumerate(roots) if (start + n) % LEDGER_REVOKE_EVERY == LEDGER_REVOKE_EVERY - 1
            ]
            hashes = rpc.batch(sends)
            # The last issue and every revocation: an issue that failed would make its revocation fail.
            mine_and_check(rpc, hashes[len(roots) - 1 :])
            issued += len(roots)
            if (start // LEDGER_CHUNK) % 40 == 39:
                log(f"  ledger: {issued:,} credentials issued")
        if revoke_next:
            sends = [revoke_tx(root, governor_nonce + n) for n, root in enumerate(revoke_next)]
            mine_and_check(rpc, rpc.batch(sends))
            revoked += len(revoke_next)
    finally:
        rpc.call("evm_setAutomine", [True])
        rpc.close()
    last_block = s.registry.head()
    pending = s.w3.eth.get_transaction_count(relayer, "pending") - s.w3.eth.get_transaction_count(relayer)
    if pending:
        raise RuntimeError(f"{pending} ledger transactions were left unmined")
    seconds = time.perf_counter() - started
    return {
        "credentials": issued,
        "revocations": revoked,
        "first_block": first_block,
        "last_block": last_block,
        "seconds": seconds,
        "per_second": issued / seconds,
    }


def generate_churn(s: Setup, events: int, deadline: Deadline) -> dict[str, Any]:
    """`events` governor status changes on CHURN_TARGETS credentials of the ledger: each block suspends them
    all and reinstates them all, so the ledger grows while the rebuilt state stays the same size."""
    rpc = Rpc(s.chain.url)
    registry = s.registry
    codec = registry.codec
    targets = [
        leaf_hash(f"ledger {i}").hex()
        for i in range(CHURN_TARGETS + CHURN_TARGETS // LEDGER_REVOKE_EVERY + 1)
        if i % LEDGER_REVOKE_EVERY != LEDGER_REVOKE_EVERY - 1  # those are revoked for good
    ][:CHURN_TARGETS]
    governor = s.governor.address
    nonce = int(rpc.call("eth_getTransactionCount", [governor, "pending"]), 16)
    fee = {"maxFeePerGas": hex(50 * 10**9), "maxPriorityFeePerGas": hex(10**9)}
    started = time.perf_counter()
    first_block = int(rpc.call("eth_blockNumber", []), 16) + 1
    done = 0
    rpc.call("evm_setAutomine", [False])
    try:
        while done < events:
            deadline.check("generating the audit ledger's status changes")
            sends = []
            for action in (2, 3):  # suspend all, then reinstate all (one sender: nonce order is kept)
                for root in targets:
                    data = codec.call_data(
                        "governorSetStatus", s.agency_id, "0x" + root, "0x" + root, [], action, 7
                    )
                    tx = {"from": governor, "to": registry.address, "data": data, "gas": hex(120_000)}
                    sends.append(("eth_sendTransaction", [{**tx, "nonce": hex(nonce), **fee}]))
                    nonce += 1
            mine_and_check(rpc, rpc.batch(sends)[-1:])
            done += len(sends)
    finally:
        rpc.call("evm_setAutomine", [True])
        rpc.close()
    seconds = time.perf_counter() - started
    return {
        "status_changes": done,
        "targets": len(targets),
        "first_block": first_block,
        "last_block": s.registry.head(),
        "seconds": seconds,
    }


def mine_and_check(rpc: Rpc, hashes: Sequence[str]) -> None:
    """Mine the pending transactions into one block and make sure `hashes` are in it and succeeded."""
    rpc.call("evm_mine", [])
    for receipt in rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes]):
        if receipt is None:
            raise RuntimeError("a ledger transaction was left unmined")
        if int(receipt["status"], 16) != 1:
            raise RuntimeError(f"ledger transaction {receipt['transactionHash']} reverted")


def rss_mb() -> tuple[float, float]:
    """This process's resident memory now and at its peak, in MB (VmRSS, VmHWM: unlike getrusage's
    ru_maxrss, the peak starts afresh at exec, so a child does not inherit its parent's)."""
    fields: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def replay_worker(rpc_url: str, manifest_path: str, to_block: int, profile_out: str | None) -> dict[str, Any]:
    """Run in a fresh process (for a clean peak-memory figure): replay the ledger up to `to_block`."""
    from credreg.audit import Replayer

    registry = Registry.connect(rpc_url, Manifest.load(Path(manifest_path)))
    replayer = Replayer(registry)
    reads = count_log_reads(replayer)
    baseline, _ = rss_mb()
    profiler = cProfile.Profile() if profile_out else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    replayer.run(to_block)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile_out)
    seconds = time.perf_counter() - started
    _, peak = rss_mb()
    digest = replayer.digest()
    return {
        "events": digest.event_count,
        "through_block": digest.through_block,
        "seconds": seconds,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak,
        "findings": len(replayer.findings),
        "log_reads": reads,
    }


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


def run_replay(
    s: Setup, work: Path, to_block: int, deadline: Deadline, profile_out: Path | None = None
) -> dict[str, Any]:
    deadline.check("the audit replay")
    manifest_path = work / "replay-deployment.json"
    s.manifest.save(manifest_path)
    cmd = [
        sys.executable,
        str(BENCH_DIR),
        "--replay-worker",
        s.chain.url,
        str(manifest_path),
        str(to_block),
    ]
    if profile_out is not None:
        cmd += ["--profile-out", str(profile_out)]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=max(1.0, min(900.0, deadline.left())), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the replay failed: {done.stderr.strip()[-1500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure_audit(
    s: Setup, cfg: Config, work: Path, deadline: Deadline, log: Callable[[str], None]
) -> tuple[list[Row], dict[str, Any]]:
    ledger = generate_ledger(s, cfg.ledger_credentials, deadline, log)
    log(
        f"  ledger: {ledger['credentials']:,} credentials in {ledger['seconds']:.1f} s "
        f"({ledger['per_second']:,.0f}/s), blocks {ledger['first_block']}..{ledger['last_block']}"
    )
    churn = generate_churn(s, cfg.churn_events, deadline)
    log(f"  ledger: {churn['status_changes']:,} status changes on {churn['targets']} credentials after them")
    # Fresh processes replay to the end of the credentials (what the rebuilt state costs), to half-way
    # through the status changes and to their end: the state is the same at the last two points and both
    # replays went through the same dense stretch, so what memory grows by between them is what the replay
    # holds per event (it should hold nothing).
    credentials_only = run_replay(s, work, ledger["last_block"], deadline)
    part = run_replay(s, work, (churn["first_block"] + churn["last_block"]) // 2, deadline)
    fulls = []
    for _ in range(cfg.runs):
        full = run_replay(s, work, churn["last_block"], deadline)
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
    ledger = {**ledger, "churn": churn}
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
    return rows, ledger


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
    peak = median([r["peak_rss_mb"] for r in disk])
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
            f"replay {events:,} generated events: peak memory (whole process, getrusage)",
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
            detail={"records": disk[0]["roots"] + disk[0]["targets"], "file_mb": disk[0]["records_file_mb"]},
        ),
    ]


# --- the audit alone: a ledger built in bulk through a batching contract (`python scripts/bench audit`) ----

LEDGER_COMMAND = """Audit replay benchmark: events per second and peak memory, on a ledger generated on its own anvil.

    .venv/bin/python scripts/bench audit                 # about 100,000 events
    .venv/bin/python scripts/bench audit --events 300000 --roots 1000
    .venv/bin/python scripts/bench audit --empty-blocks 2000   # a sparse start before the dense stretch

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


def measure_child(url: str, manifest_json: str, to_block: int, views: bool) -> dict[str, Any]:
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


def run_child(url: str, manifest: Manifest, to_block: int, views: bool) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve().parent),
        "audit",
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
    parser.add_argument(
        "--views", action=argparse.BooleanOptionalAction, default=False, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure_child(args.child[0], sys.stdin.read(), int(args.child[1]), args.views)))
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

    def median_of(runs: list[dict[str, Any]], key: str) -> float:
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
            f"{label:<10} {first['events']:>9,} {median_of(runs, 'seconds'):>8.2f} "
            f"{median_of(runs, 'events_per_second'):>9,.0f} {median_of(runs, 'events_per_cpu_second'):>9,.0f} "
            f"{median_of(runs, 'peak_rss_mib'):>7.1f}Mi {median_of(runs, 'growth_mib'):>6.1f}Mi "
            f"{first['log_reads']['logs']:>10,} {first['log_reads']['calls']:>8,} "
            f"{first['log_reads']['largest']:>8,}  "
            f"{first['roots']:,} roots, {first['targets']:,} targets"
        )
    rate = median_of(points["whole"], "events_per_second")
    growth = median_of(points["whole"], "growth_mib") - median_of(points["part-way"], "growth_mib")
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
