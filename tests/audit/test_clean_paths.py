"""Issuances and status changes that break no rule, checked and applied in one pass, give the audit of the rules
walked one by one.

The ledger is made of decoded events (no node is asked): runs of clean issuances and status changes, with in
their middle the events the rules must name.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from credreg.audit import invariants, store
from credreg.audit.replay import Replayer
from credreg.chain.codec import LedgerEvent
from credreg.chain.manifest import DeployedContract, Manifest
from credreg.documents.model import scope_id as scope_id_of
from credreg.registry import Registry
from credreg.registry.reads import CONTRACT_VERSION

START = 1_767_225_600  # 2026-01-01T00:00:00Z
GOVERNOR = Web3.to_checksum_address("0x" + "90" * 20)
SCOPE = scope_id_of("4-04-05-01", 3)
UNDEFINED_SCOPE = scope_id_of("4-04-05-02", 1)
AGENCIES = 4


def _address(kind: str, n: int) -> str:
    return Web3.to_checksum_address(
        "0x" + hashlib.blake2b(f"{kind} {n}".encode(), digest_size=20).hexdigest()
    )


def _hash(kind: str, n: int) -> str:
    return "0x" + hashlib.blake2b(f"{kind} {n}".encode(), digest_size=32).hexdigest()


def _registry() -> Registry:
    """A registry object for the replay's bookkeeping; its node (a closed loopback port) is never asked."""
    manifest = Manifest(
        chain_id=31337,
        registry=DeployedContract(
            address=Web3.to_checksum_address("0x" + "c0" * 20), deployment_block=1,
            transaction_hash="0x" + "00" * 32, bytecode_hash="0x" + "00" * 32,
            deployed_bytecode_hash="0x" + "00" * 32,
        ),
        governor=GOVERNOR, contract_version=CONTRACT_VERSION, compiler_version="", evm_version="london",
        optimizer_runs=0, credreg_version="", deployed_at=datetime.now(UTC),
    )  # fmt: skip
    return Registry(Web3(HTTPProvider("http://127.0.0.1:9")), manifest)


class Ledger:
    """Events of consecutive blocks, five seconds apart, one transaction each."""

    def __init__(self) -> None:
        self.events: list[LedgerEvent] = []
        self.block = 1
        self.time = START

    def add(self, event: str, /, **args: Any) -> None:
        n = len(self.events)
        self.events.append(
            LedgerEvent(
                name=event, block_number=self.block, block_hash=_hash("block", self.block),
                transaction_hash=_hash("tx", n), transaction_index=0, log_index=0, args=args,
                block_time=self.time,
            )
        )  # fmt: skip
        self.block += 1
        self.time += 5

    def issue(self, agency: int, root: str, *, signer: int | None = None, scope: str = SCOPE) -> None:
        self.add(
            "CredentialIssued", root=root, agencyId=agency, signer=_address("signer", signer or agency),
            scopeId=scope, issuedAt=self.time, validUntil=0,
        )  # fmt: skip

    def change(self, agency: int, root: str, *, action: int, nonce: int) -> None:
        self.add(
            "CredentialStatusChanged", root=root, agencyId=agency, actor=_address("signer", agency),
            target=root, action=action, reason=7, nonce=nonce, since=self.time, byGovernor=False,
        )  # fmt: skip


def _ledger() -> Ledger:
    ledger = Ledger()
    ledger.add("OwnershipTransferred", previousOwner="0x" + "00" * 20, newOwner=GOVERNOR)
    ledger.add(
        "ScopeDefined", scopeId=SCOPE, scopeIndex=1, occupationCode="4-04-05-01", level=3,
        title="Blockchain engineering technician, level 3",
    )  # fmt: skip
    for agency in range(1, AGENCIES + 1):
        ledger.add(
            "AgencyRegistered", agencyId=agency, admin=_address("admin", agency), name=f"Centre {agency}",
            registrationCode=f"C-{agency}", documentStore=_address("store", agency),
        )  # fmt: skip
        ledger.add("AgencyAccredited", agencyId=agency, scopeId=SCOPE, validFrom=START, validUntil=0)
        # Agency 4's signer may sign until a time set below.
        ledger.add(
            "SignerAdded", agencyId=agency, signer=_address("signer", agency), signerIndex=agency,
            validFrom=START, validUntil=0, actor=GOVERNOR,
        )  # fmt: skip
    serial = 0

    def clean_run(length: int, agencies: tuple[int, ...] = (1, 2, 3, 4)) -> None:
        nonlocal serial
        for _ in range(length):
            ledger.issue(agencies[serial % len(agencies)], _hash("root", serial))
            serial += 1

    clean_run(30)
    ledger.issue(1, _hash("root", 4))  # a root of agency 1 issued again, long ago
    clean_run(5)
    ledger.issue((serial - 2) % 4 + 1, _hash("root", serial - 2))  # a root issued again, lately
    clean_run(5)
    ledger.issue(1, _hash("new", 1), scope=UNDEFINED_SCOPE)  # out of scope
    clean_run(5)
    ledger.change(3, _hash("root", 2), action=2, nonce=1)  # a clean status change between two runs
    clean_run(5)
    ledger.change(3, _hash("root", 2), action=3, nonce=5)  # a status change with the wrong nonce
    clean_run(5)
    ledger.issue(2, _hash("new", 2), signer=1)  # by another agency's signer
    # Agency 4's signer's window ends in the middle of the next run, with no governance event to mark it.
    signer_added = next(e for e in ledger.events if e.name == "SignerAdded" and e.args["agencyId"] == 4)
    signer_added.args["validUntil"] = ledger.time + 10
    clean_run(5, (1, 2, 3))
    ledger.issue(4, _hash("new", 3))  # by a signer outside its window
    clean_run(6, (1, 2, 3))
    ledger.add("AgencySuspended", agencyId=2, reason=1)
    clean_run(3, (1, 3))
    ledger.issue(2, _hash("new", 4))  # by a suspended agency
    clean_run(3, (1, 3))
    ledger.add("AgencyReinstated", agencyId=2)
    clean_run(6, (1, 2, 3))
    ledger.add("AgencyRevoked", agencyId=3, cutoff=ledger.time, reason=2)
    clean_run(4, (1, 2))
    ledger.issue(3, _hash("new", 5))  # by a revoked agency
    ledger.issue(1, _hash("new", 6))
    ledger.issue(1, _hash("new", 6))  # the same root twice in a row
    clean_run(20, (1, 2))
    return ledger


def _replay(ledger: Ledger, tmp_path: Path, memory_records: int, window: int) -> Replayer:
    replayer = Replayer(_registry(), memory_records=memory_records, records_dir=tmp_path)
    events = ledger.events
    for start in range(0, len(events), window):
        part = events[start : start + window]
        replayer.apply(part, part[-1].block_number)
    return replayer


def _audit(replayer: Replayer) -> Iterator[object]:
    state = replayer.state
    yield [str(f) for f in replayer.findings]
    yield [f.model_dump() for f in replayer.findings]
    yield dict(state.finding_counts)
    yield state.dump()
    yield list(state.canonical_lines())
    yield replayer.digest()


@pytest.mark.parametrize("window", [7, 1_000], ids=["cut-into-windows", "one-window"])
@pytest.mark.parametrize("memory_records", [10**6, 0], ids=["in-memory", "on-disk"])
def test_the_one_pass_gives_the_findings_and_digest_of_the_rules_among_unusual_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_records: int, window: int
) -> None:
    ledger = _ledger()
    # A write-back cache of four records: on disk, roots are also flushed to the file and found there again.
    monkeypatch.setattr(store, "CACHE_RECORDS", 4)
    one_pass: Counter[str] = Counter()

    def counted(path: Callable[[Any, LedgerEvent], bool]) -> Callable[[Any, LedgerEvent], bool]:
        def apply(state: Any, event: LedgerEvent) -> bool:
            applied = path(state, event)
            one_pass[event.name] += applied
            return applied

        return apply

    paths = {name: counted(path) for name, path in invariants.CLEAN_PATHS.items()}
    monkeypatch.setattr(invariants, "CLEAN_PATHS", paths)
    clean = _replay(ledger, tmp_path / "one-pass", memory_records, window)
    monkeypatch.setattr(invariants, "CLEAN_PATHS", {})
    rule_by_rule = _replay(ledger, tmp_path / "rules", memory_records, window)

    assert (clean.state.database is not None) == (memory_records == 0)
    events = clean.state.events_by_name
    assert one_pass["CredentialIssued"] == events["CredentialIssued"] - 8  # all but the unusual ones
    assert one_pass["CredentialStatusChanged"] == events["CredentialStatusChanged"] - 1
    codes = clean.state.finding_counts
    assert codes["root-reissued"] == 3
    assert codes["issuance-agency-not-active"] == 2  # suspended, revoked
    assert codes["issuance-signer-invalid"] == 2  # another agency's signer, outside its window
    assert codes["scope-unknown"] == 1
    assert codes["status-nonce"] == 1
    assert list(_audit(clean)) == list(_audit(rule_by_rule))
    clean.close()
    rule_by_rule.close()
