"""The audit: a ledger generated on the benchmark's chain and replayed from genesis in fresh processes (rate and
peak memory)."""

from __future__ import annotations

import cProfile
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

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
from credreg.chain.eip712 import DOMAIN_NAME, DOMAIN_VERSION, ISSUE_TYPES
from credreg.chain.manifest import Manifest
from credreg.registry import Registry

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
