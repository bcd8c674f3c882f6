"""A small in-memory ledger for the VC tests: batches, statuses, issuer keys, and the lists built from them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from documents_factories import CHAIN_ID, DOMAIN, REGISTRY, REPO, make_certificate

from credreg.chain.states import Verdict
from credreg.documents import WrappedDocument, binding_from_document, wrap_certificates
from credreg.documents.merkle import MerkleTree
from credreg.documents.model import expiry_timestamp
from credreg.errors import ChainUnreachable
from credreg.hashes import hash_bytes
from credreg.vc.jsonld import CREDREG_CONTEXT, shipped_context
from credreg.vc.keys import SigningKey, generate_key
from credreg.vc.statuslist import (
    STATUS_PURPOSES,
    Batch,
    StatusEvent,
    build_status_lists,
    status_list_credential,
    status_list_url,
)
from credreg.vc.verify import IssuerKeyRecord, LedgerRecord

BASE_URL = "https://registry.example.org/v1/status"
ISSUED_AT = 1_751_300_000  # 2025-06-30, the sample certificates' issue date
SIGNED_AT = ISSUED_AT + 60
NOW = ISSUED_AT + 86_400
KINDS = ("technical_grade", "skill_level", "competition_award")
DI_VERIFY = REPO / "tests" / "unit" / "vc_di_verify.mjs"
SDJWT_VERIFY = REPO / "tests" / "unit" / "vc_sdjwt_verify.mjs"


def batch_documents(
    kind: str = "skill_level", size: int = 3, start: int = 0, **overrides: Any
) -> list[WrappedDocument]:
    return wrap_certificates(
        [make_certificate(kind, n, **overrides) for n in range(start, start + size)], identity_location=DOMAIN
    )


@dataclass
class FakeLedger:
    """Answers `LedgerResolver` from plain dicts; every test sets up only what it needs."""

    agency_key: SigningKey = field(default_factory=generate_key)
    operator_key: SigningKey = field(default_factory=generate_key)
    chain_id: int = CHAIN_ID
    registry: str = REGISTRY
    clock: int = NOW
    records: dict[str, LedgerRecord] = field(default_factory=dict)
    batches: list[Batch] = field(default_factory=list)
    events: list[StatusEvent] = field(default_factory=list)
    issuer_keys: dict[str, IssuerKeyRecord] = field(default_factory=dict)
    accreditations: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    lists: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    unreachable: bool = False

    def __post_init__(self) -> None:
        self.issuer_keys[self.agency_key.public_key_hex] = IssuerKeyRecord(7, ISSUED_AT - 1000, 0, 0)

    def issue(self, documents: Sequence[WrappedDocument], *, agency_id: int = 7) -> None:
        """Record a batch as the ledger would, accredit its scope, and republish the lists."""
        binding = binding_from_document(documents[0])
        root = "0x" + binding.merkle_root
        self.records[root] = LedgerRecord(
            Verdict.VALID, agency_id, binding.scope_id, ISSUED_AT, expiry_timestamp(binding.valid_until)
        )
        self.accreditations[(agency_id, binding.scope_id)] = (ISSUED_AT - 5000, 0)
        leaves = ["0x" + d["signature"]["targetHash"] for d in documents]
        self.batches.append(Batch(agency_id, root, leaves, block=len(self.batches) + 1, log_index=0))
        self.publish()

    def set_status(self, root: str, target: str, action: int, *, agency_id: int = 7) -> None:
        block = 100 + len(self.events)
        self.events.append(StatusEvent(agency_id, root, target, action, block, 0))
        self.publish()

    def publish(self) -> None:
        lists = build_status_lists(self.batches, self.events)
        for purpose in STATUS_PURPOSES:
            for page in range(lists.pages):
                url = status_list_url(BASE_URL, purpose, page)
                self.lists[url] = status_list_credential(
                    base_url=BASE_URL,
                    purpose=purpose,
                    page=page,
                    bitstring=lists.bits[purpose][page],
                    key=self.operator_key,
                    issued_at=self.clock - 10,
                )

    def position(self, document: WrappedDocument) -> int:
        """The document's list position, or 0 for one this ledger never issued."""
        return build_status_lists(self.batches, []).positions.get(
            "0x" + document["signature"]["targetHash"], 0
        )

    # --- LedgerResolver ---

    def now(self) -> int:
        return self.clock

    def credential(self, agency_id: int, root: str, leaf: str, proof: Sequence[str]) -> LedgerRecord:
        if self.unreachable:
            raise ChainUnreachable("the JSON-RPC endpoint does not answer")
        record = self.records.get(root)
        if record is None or record.agency_id != agency_id:
            return LedgerRecord(Verdict.NOT_ISSUED, 0, "0x" + "00" * 32, 0, 0)
        batch = next(b for b in self.batches if b.root == root)
        path = batch.tree.path(hash_bytes(leaf))
        states = _states(self.events, agency_id)
        root_b, leaf_b = hash_bytes(root), hash_bytes(leaf)
        for wanted, names in (("revoked", "REVOKED"), ("suspended", "SUSPENDED")):
            for node in (root_b, *[n for n in path if n not in (root_b, leaf_b)], leaf_b):
                if states.get(node) == wanted:
                    where = "ROOT" if node == root_b else "LEAF" if node == leaf_b else "NODE"
                    verdict = Verdict[f"{where}_{names}"]
                    return LedgerRecord(
                        verdict, record.agency_id, record.scope_id, record.issued_at, record.valid_until
                    )
        if record.valid_until and self.clock >= record.valid_until:
            return LedgerRecord(
                Verdict.EXPIRED, record.agency_id, record.scope_id, record.issued_at, record.valid_until
            )
        return record

    def issuer_key(self, public_key: str) -> IssuerKeyRecord | None:
        return self.issuer_keys.get(public_key)

    def accreditation(self, agency_id: int, scope_id: str) -> tuple[int, int] | None:
        return self.accreditations.get((agency_id, scope_id))

    def status_list(self, url: str) -> Mapping[str, Any]:
        if url not in self.lists:
            raise ChainUnreachable(f"{url} does not answer")
        return self.lists[url]

    def is_status_list_signer(self, public_key: str) -> bool:
        return public_key == self.operator_key.public_key_hex


def _states(events: Sequence[StatusEvent], agency_id: int) -> dict[bytes, str]:
    states: dict[bytes, str] = {}
    for event in sorted(events, key=lambda e: (e.block, e.log_index)):
        if event.agency_id == agency_id:
            states[hash_bytes(event.target)] = {1: "revoked", 2: "suspended", 3: "none"}[event.action]
    return states


def tree_of(documents: Sequence[WrappedDocument]) -> MerkleTree:
    return MerkleTree(bytes.fromhex(d["signature"]["targetHash"]) for d in documents)


def run_node(script: Any, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Run one of the third-party verifier scripts on `payload`; one answer per credential."""
    result = subprocess.run(
        ["node", str(script)],
        input=json.dumps(payload, ensure_ascii=False),
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"node failed:\n{result.stderr}"
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    return answers


def credreg_contexts() -> dict[str, Any]:
    """credreg's own shipped context, handed to the third-party verifier as its only non-W3C context."""
    return {CREDREG_CONTEXT: shipped_context(CREDREG_CONTEXT)}
