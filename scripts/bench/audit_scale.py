"""The audit replay at decade scale: a contract-valid ledger of any size, replayed in a fresh process.

    .venv/bin/python scripts/bench/audit_scale.py --events 1000000                  # records move to disk
    .venv/bin/python scripts/bench audit-scale --events 1000000                     # the same
    .venv/bin/python scripts/bench/audit_scale.py --events 150000 --memory-records 10000000   # all in memory

A million events take hours to put on anvil, so the ledger is generated here as the raw logs `eth_getLogs`
returns (topics and data words, block and transaction fields, `blockTimestamp`), window by window, and read
by the codec's path for raw replies (`ContractCodec.decode_raw`, the path after the node's reply). The ledger: one scope, 20
agencies each with a signer key, then blocks of 50 events: 7 in 10 issue a new root (agencies in turn), 3 in
10 change a status: an agency suspends one of its older roots, reinstates one it suspended 1,000 changes
earlier (a record long out of any cache), and the governor revokes another. Every rule holds: the replay
must end without a finding.

Reading the logs (here: decoding them) is timed apart from applying them (`Replayer.apply`: the rules, the
state, the records, the event digest), which is the rate the issue's target is for, in CPU-seconds of this process
(`time.process_time`) and in seconds. The peak resident memory is the whole process's since it started
(`rss_mb`: VmHWM; getrusage's figure would also count the benchmark process it was started from),
generation, decoding and replay included (`peak_rss_mb`). With the records on disk, the replay then saves a
checkpoint (timed apart), which commits them, and the peak is read again (`peak_rss_with_checkpoint_mb`): a
replay of `credreg audit` saves one every ten seconds. The records' file size is read after that commit (it includes the two key filters, 16 MiB each,
whatever the ledger's size; `bytes_per_record` is the rest, per root or target).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak
from web3 import HTTPProvider, Web3

from credreg.audit.replay import MEMORY_RECORDS, Replayer
from credreg.audit.store import FILTER_BITS
from credreg.chain.codec import ContractCodec
from credreg.chain.manifest import DeployedContract, Manifest
from credreg.documents.model import scope_id as scope_id_of
from credreg.registry import Registry
from credreg.registry.reads import CONTRACT_VERSION

AGENCIES = 20
EVENTS_PER_BLOCK = 50
BLOCK_SECONDS = 5
WINDOW_EVENTS = 5_000  # about what one eth_getLogs reply of the log source holds
REINSTATE_LAG = 1_000
START_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z
REGISTRY = "0x" + "c0" * 20
GOVERNOR = "0x" + "90" * 20
SCOPE = ("4-04-05-01", 3, "Blockchain engineering technician, level 3")


def _address(kind: str, n: int) -> str:
    return "0x" + hashlib.blake2b(f"{kind} {n}".encode(), digest_size=20).hexdigest()


def _hash(kind: bytes, n: int) -> str:
    return hashlib.blake2b(kind + n.to_bytes(8, "big"), digest_size=32).hexdigest()


def _word(value: int) -> str:
    return f"{value:064x}"


def _address_word(address: str) -> str:
    return "0" * 24 + address[2:]


class LedgerLogs:
    """Raw logs of a generated ledger, window by window (see the module docstring)."""

    def __init__(self, abi: list[dict[str, Any]], events: int) -> None:
        self.events = events
        self.specs = {e["name"]: e for e in abi if e.get("type") == "event" and not e.get("anonymous")}
        self.topics = {
            name: "0x" + keccak(text=f"{name}({','.join(i['type'] for i in e['inputs'])})").hex()
            for name, e in self.specs.items()
        }
        self.scope = scope_id_of(SCOPE[0], SCOPE[1])
        self.signers = [_address("signer", a) for a in range(AGENCIES + 1)]  # index 0 unused
        self.block = 0
        self.log_index = 0
        self.serial = 0
        self.last_block = 0

    def _log(self, name: str, topics: list[str], data: str) -> dict[str, Any]:
        self.serial += 1
        log = {
            "address": REGISTRY,
            "topics": [self.topics[name], *topics],
            "data": "0x" + data,
            "blockNumber": hex(self.block),
            "blockHash": "0x" + _hash(b"block", self.block),
            "blockTimestamp": hex(self.time),
            "transactionHash": "0x" + _hash(b"tx", self.serial),
            "transactionIndex": hex(self.log_index),
            "logIndex": hex(self.log_index),
            "removed": False,
        }
        self.log_index += 1
        return log

    def _encoded(self, event: str, **values: Any) -> dict[str, Any]:
        """A governance log through eth_abi (few of them; the bulk below is written word by word)."""
        inputs = self.specs[event]["inputs"]
        topics = ["0x" + encode([i["type"]], [values[i["name"]]]).hex() for i in inputs if i["indexed"]]
        data = [i for i in inputs if not i["indexed"]]
        return self._log(
            event, topics, encode([i["type"] for i in data], [values[i["name"]] for i in data]).hex()
        )

    @property
    def time(self) -> int:
        return START_TIME + BLOCK_SECONDS * self.block

    def _setup(self) -> list[dict[str, Any]]:
        self.block, self.log_index = 1, 0
        zero = "0x" + "00" * 20
        scope = bytes.fromhex(self.scope[2:])
        logs = [
            self._encoded("OwnershipTransferred", previousOwner=zero, newOwner=GOVERNOR),
            self._encoded(
                "ScopeDefined",
                scopeId=scope, scopeIndex=1, occupationCode=SCOPE[0], level=SCOPE[1], title=SCOPE[2],
            ),
        ]  # fmt: skip
        for agency in range(1, AGENCIES + 1):
            logs += [
                self._encoded(
                    "AgencyRegistered", agencyId=agency, admin=_address("admin", agency),
                    name=f"Assessment Centre {agency}", registrationCode=f"BENCH-{agency}",
                    documentStore=_address("store", agency),
                ),
                self._encoded(
                    "AgencyAccredited", agencyId=agency, scopeId=scope, validFrom=self.time - 60, validUntil=0
                ),
                self._encoded(
                    "SignerAdded", agencyId=agency, signer=self.signers[agency], signerIndex=agency,
                    validFrom=self.time - 60, validUntil=0, actor=GOVERNOR,
                ),
            ]  # fmt: skip
        return logs

    def windows(self) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """(last block, its logs and those of the blocks before it not yet given), about WINDOW_EVENTS at once."""
        window = self._setup()
        made = len(window)
        issued = changes = 0
        scope_word = self.scope[2:]
        issued_topic = self.topics["CredentialIssued"]
        governor_topic = "0x" + _address_word(GOVERNOR)
        signer_topics = ["0x" + _address_word(s) for s in self.signers]
        agency_words = ["0x" + _word(a) for a in range(AGENCIES + 1)]
        blocks = hashlib.blake2b
        while made < self.events:
            self.block += 1
            self.log_index = 0
            time_word = _word(self.time)
            block_hash = "0x" + blocks(b"block" + self.block.to_bytes(8, "big"), digest_size=32).hexdigest()
            for n in range(min(EVENTS_PER_BLOCK, self.events - made)):
                self.serial += 1
                if (made + n) % 10 < 7:
                    r = issued
                    issued += 1
                    agency = r % AGENCIES + 1
                    topics = [
                        issued_topic,
                        "0x" + _hash(b"root", r),
                        agency_words[agency],
                        signer_topics[agency],
                    ]
                    data = "0x" + scope_word + time_word + "0" * 64
                else:
                    topics, data = self._change(
                        changes, time_word, governor_topic, signer_topics, agency_words
                    )
                    changes += 1
                window.append(
                    {
                        "address": REGISTRY, "topics": topics, "data": data, "blockNumber": hex(self.block),
                        "blockHash": block_hash, "blockTimestamp": hex(self.time),
                        "transactionHash": "0x" + _hash(b"tx", self.serial), "transactionIndex": hex(n),
                        "logIndex": hex(n), "removed": False,
                    }
                )  # fmt: skip
            made += min(EVENTS_PER_BLOCK, self.events - made)
            if len(window) >= WINDOW_EVENTS or made >= self.events:
                yield self.block, window
                window = []
        self.last_block = self.block

    def _change(
        self, c: int, time_word: str, governor_topic: str, signer_topics: list[str], agency_words: list[str]
    ) -> tuple[list[str], str]:
        """Status change `c`: suspend root 2m, reinstate root 2(m - lag), or the governor revokes root 2m+1."""
        m, step = divmod(c, 3)
        status_topic = self.topics["CredentialStatusChanged"]
        if step == 0 or (step == 1 and m < REINSTATE_LAG):
            r = 2 * m
            agency = r % AGENCIES + 1
            root = _hash(b"root", r)
            if step == 0:  # suspend the root itself
                target, action, nonce = root, 2, 1
            else:  # revoke one of its leaves (the proof is calldata; the audit sees the target only)
                target, action, nonce = _hash(b"leaf", r), 1, 1
            actor, by_governor = signer_topics[agency], 0
        elif step == 1:  # reinstate a root suspended REINSTATE_LAG changes ago
            r = 2 * (m - REINSTATE_LAG)
            agency = r % AGENCIES + 1
            root = target = _hash(b"root", r)
            action, nonce, actor, by_governor = 3, 2, signer_topics[agency], 0
        else:  # the governor revokes another root
            r = 2 * m + 1
            agency = r % AGENCIES + 1
            root = target = _hash(b"root", r)
            action, nonce, actor, by_governor = 1, 1, governor_topic, 1
        topics = [status_topic, "0x" + root, agency_words[agency], actor]
        reason = 0 if action == 3 else 7
        data = "0x" + target + _word(action) + _word(reason) + _word(nonce) + time_word + _word(by_governor)
        return topics, data


def fake_registry() -> Registry:
    """A registry object for the replay's bookkeeping (chain id, address, ABI); no node is ever asked."""
    manifest = Manifest(
        chain_id=31337,
        registry=DeployedContract(
            address=Web3.to_checksum_address(REGISTRY), deployment_block=1, transaction_hash="0x" + "00" * 32,
            bytecode_hash="0x" + "00" * 32, deployed_bytecode_hash="0x" + "00" * 32,
        ),
        governor=Web3.to_checksum_address(GOVERNOR), contract_version=CONTRACT_VERSION, compiler_version="",
        evm_version="london", optimizer_runs=0, credreg_version="", deployed_at=datetime.now(UTC),
    )  # fmt: skip
    return Registry(Web3(HTTPProvider("http://127.0.0.1:9")), manifest)


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


def replay(events: int, memory_records: int, records_dir: Path) -> dict[str, Any]:
    """Generate, decode and replay `events` events in this process; the figures as a dict."""
    registry = fake_registry()
    replayer = Replayer(registry, memory_records=memory_records, records_dir=records_dir)
    logs = LedgerLogs(registry.abi, events)
    decoder: ContractCodec = replayer.decoder
    generate = decode = apply = apply_cpu = decode_cpu = 0.0
    source = logs.windows()
    clock, cpu = time.perf_counter, time.process_time
    while True:
        started = clock()
        window = next(source, None)
        generate += clock() - started
        if window is None:
            break
        last_block, raw = window
        started, started_cpu = clock(), cpu()
        decoded = [decoder.decode_raw(log) for log in raw]
        del raw
        decode += clock() - started
        decode_cpu += cpu() - started_cpu
        started, started_cpu = clock(), cpu()
        replayer.apply(decoded, last_block)
        apply += clock() - started
        apply_cpu += cpu() - started_cpu
    started = clock()
    digest = replayer.digest()
    digest_seconds = clock() - started
    state = replayer.state
    on_disk = state.database_path
    peak_rss_mb = rss_mb()[1]
    # The records' file is whole once a checkpoint commits it (until then much of it is in SQLite's page
    # cache and the open transaction): its size is read after that commit, timed apart.
    checkpoint_seconds = 0.0
    if on_disk is not None:
        started = clock()
        replayer.save(records_dir / "checkpoint.json")
        checkpoint_seconds = clock() - started
    peak_with_checkpoint_mb = rss_mb()[1]
    file_bytes = on_disk.stat().st_size if on_disk is not None else 0
    filter_bytes = 2 * (FILTER_BITS >> 3) if on_disk is not None else 0  # one key filter per kind of record
    result = {
        "events": digest.event_count,
        "roots": len(state.roots),
        "targets": len(state.targets),
        "generate_seconds": generate,
        "decode_seconds": decode,
        "replay_seconds": apply,
        "replay_cpu_seconds": apply_cpu,
        "decode_cpu_seconds": decode_cpu,
        "replay_events_per_second": digest.event_count / apply,
        "replay_events_per_cpu_second": digest.event_count / apply_cpu,
        "decode_events_per_second": digest.event_count / decode,
        "decode_events_per_cpu_second": digest.event_count / decode_cpu,
        "state_digest_seconds": digest_seconds,
        "checkpoint_seconds": checkpoint_seconds,
        "findings": state.findings_total,
        "finding_codes": dict(state.finding_counts),
        "records_on_disk": on_disk is not None,
        "records_file_mb": file_bytes / 1e6,
        "key_filters_mb": filter_bytes / 1e6,
        "bytes_per_record": (file_bytes - filter_bytes) / max(1, len(state.roots) + len(state.targets)),
        "memory_records": memory_records,
        "peak_rss_mb": peak_rss_mb,
        "peak_rss_with_checkpoint_mb": peak_with_checkpoint_mb,
        "digest": digest.digest,
    }
    replayer.close()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/bench audit-scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events on the generated ledger")
    parser.add_argument(
        "--memory-records", type=int, default=MEMORY_RECORDS,
        help=f"roots and targets held in memory before they move to disk (default {MEMORY_RECORDS:,})",
    )  # fmt: skip
    parser.add_argument("--dir", type=Path, help="where the records' file goes (default: a temporary folder)")
    args = parser.parse_args(None if argv is None else list(argv))
    if args.events < 1_000:
        parser.error("--events: at least 1,000")
    with tempfile.TemporaryDirectory(prefix="credreg-audit-scale-", dir=args.dir) as folder:
        print(json.dumps(replay(args.events, args.memory_records, Path(folder))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
