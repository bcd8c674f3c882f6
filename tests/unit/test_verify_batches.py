"""`verify_documents` reads the ledger a chunk at a time while it checks the next chunk: every report must
still be the one its document gets alone, in the order given, all at one block, and a ledger that stops
answering part way must leave the documents already answered with their verdicts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from documents_factories import CHAIN_ID, REGISTRY, make_certificate

from credreg import verify as verify_module
from credreg.chain.codec import checksum
from credreg.chain.eip712 import Domain
from credreg.chain.states import AgencyState, Verdict
from credreg.documents.layout import wrap_certificates
from credreg.documents.model import scope_id
from credreg.documents.wrap import WrappedDocument, dump_document
from credreg.errors import ChainUnreachable
from credreg.registry import (
    AccreditationInfo,
    AgencyInfo,
    BlockHead,
    CredentialRecord,
    CredentialState,
    ScopeInfo,
    SignerInfo,
    Snapshot,
    StatusQuery,
)
from credreg.verify import verify_documents

SIGNER = "0x" + "5a" * 20
HEAD = BlockHead(7, "0x" + "07" * 32, 1_900_000_000)


class Ledger:
    """An in-memory ledger answering as `Registry` does; it can be told to stop answering after a number
    of status reads, and records the blocks it was asked about."""

    def __init__(self, roots: set[str], *, answers: int | None = None) -> None:
        self.address = checksum(REGISTRY)
        self.domain = Domain(chain_id=CHAIN_ID, registry=self.address)
        self.roots = roots
        self.answers = answers
        self.asked_at: list[BlockHead | None] = []

    def statuses(
        self, queries: Sequence[StatusQuery], *, at: BlockHead | None = None
    ) -> tuple[BlockHead, list[CredentialState]]:
        self.asked_at.append(at)
        if self.answers is not None:
            if self.answers == 0:
                raise ChainUnreachable("the test ledger stopped answering")
            self.answers -= 1
        states = []
        for agency, root, _leaf, _proof in queries:
            issued = root in self.roots
            record = CredentialRecord(
                root,  # type: ignore[arg-type]
                agency if issued else 0,
                scope_id("6-31-01-03", 3) if issued else "0x" + "00" * 32,  # type: ignore[arg-type]
                SIGNER if issued else "0x" + "00" * 20,
                1_800_000_000 if issued else 0,
                0,
            )
            verdict = Verdict.VALID if issued else Verdict.NOT_ISSUED
            states.append(CredentialState(verdict, "0x" + "00" * 32, 0, 0, record))  # type: ignore[arg-type]
        return HEAD, states

    def facts_at(
        self,
        head: BlockHead,
        *,
        agencies: Iterable[int] = (),
        scopes: Iterable[str] = (),
        signers: Iterable[str] = (),
        accreditations: Iterable[tuple[int, str]] = (),
    ) -> Snapshot:
        assert head == HEAD
        return Snapshot(
            head.timestamp,
            {
                a: AgencyInfo(a, "Agency", "BJ-0001", SIGNER, AgencyState.ACTIVE, 0, 0, "0x" + "11" * 20)
                for a in agencies
            },
            {s: ScopeInfo(s, "6-31-01-03", 3, 0, "电工", 0) for s in scopes},  # type: ignore[arg-type]
            {s: SignerInfo(s, 1, 0, 1, 0, 0) for s in signers},
            {(a, s): AccreditationInfo(a, s, 0, 1, 0) for a, s in accreditations},  # type: ignore[arg-type]
        )


def _batch(size: int, first: int) -> list[WrappedDocument]:
    certificates = [make_certificate(n=first + n, valid_until=None) for n in range(size)]
    return wrap_certificates(certificates, identity_location="registry.example.org")


@pytest.fixture(scope="module")
def documents() -> list[Any]:
    """Two batches (one issued, one not) interleaved, and broken files among them."""
    issued, unknown = _batch(700, 0), _batch(400, 1000)
    mixed: list[Any] = []
    for n in range(700):
        mixed.append(dump_document(issued[n]).encode())
        if n < 400:
            mixed.append(unknown[n])
        if n % 250 == 0:
            mixed.append(b"{not json")
    return mixed


def _issued_root(documents: list[Any]) -> str:
    return "0x" + json.loads(documents[0])["signature"]["merkleRoot"]


def test_chunked_reports_are_each_documents_own_in_order(
    documents: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_module, "CHUNK", 150)
    ledger = Ledger({_issued_root(documents)})
    done: list[int] = []
    reports = verify_documents(ledger, documents, progress=done.append)
    alone = [verify_documents(Ledger({_issued_root(documents)}), [d])[0] for d in documents[::97]]
    assert [r.code for r in reports[::97]] == [r.code for r in alone]
    assert [r.target_hash for r in reports[::97]] == [r.target_hash for r in alone]
    expected = [
        "malformed"
        if isinstance(d, bytes) and d.startswith(b"{not")
        else "valid"
        if isinstance(d, bytes)
        else "not-issued"
        for d in documents
    ]
    assert [r.code for r in reports] == expected
    # one block for the whole call: the first read finds it, every later one is pinned to it
    assert ledger.asked_at[0] is None
    assert set(ledger.asked_at[1:]) == {HEAD}
    assert len(ledger.asked_at) > 5
    assert {r.checked_block for r in reports if r.checked_block is not None} == {HEAD.number}
    assert done == sorted(done)
    assert done[-1] == len(documents)


def test_a_ledger_that_stops_answering_leaves_the_answered_documents_their_verdicts(
    documents: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_module, "CHUNK", 150)
    reports = verify_documents(Ledger({_issued_root(documents)}, answers=2), documents)
    codes = [r.code for r in reports]
    first_unanswered = codes.index("chain-unreachable")
    assert first_unanswered > 200
    assert "chain-unreachable" not in codes[:first_unanswered]
    assert set(codes[first_unanswered:]) <= {"chain-unreachable", "malformed"}
    assert "the test ledger stopped answering" in reports[-1].step("issued").reason


@pytest.mark.parametrize("seed", range(4))
def test_merkle_proofs_checked_together_agree_with_each_checked_alone(seed: int) -> None:
    # One checker for a whole batch skips the steps an earlier proof has proven; a tampered proof, one
    # for another root, or one in upper case must get the answer a checker of its own gives it.
    import random

    from credreg.documents.merkle import MerkleTree, verify_proof

    rng = random.Random(seed)
    leaves = [rng.randbytes(32) for _ in range(rng.randint(2, 40))]
    tree = MerkleTree(leaves)
    root = tree.root.hex()
    cases: list[tuple[str, tuple[str, ...], str]] = []
    for leaf in leaves:
        proof = tuple(step.hex() for step in tree.proof(leaf))
        cases.append((leaf.hex(), proof, root))
        if proof:
            at = rng.randrange(len(proof))
            bad = (*proof[:at], rng.randbytes(32).hex(), *proof[at + 1 :])
            cases.append((leaf.hex(), bad, root))
            cases.append((leaf.hex(), proof[:-1], root))
            cases.append((leaf.hex().upper(), tuple(s.upper() for s in proof), root.upper()))
        cases.append((leaf.hex(), proof, rng.randbytes(32).hex()))
    rng.shuffle(cases)
    together = verify_module._Proofs()
    answers = [together.leads_to_root(*case) for case in cases]
    alone = [
        verify_proof(bytes.fromhex(t), [bytes.fromhex(s) for s in p], bytes.fromhex(r)) for t, p, r in cases
    ]
    assert answers == alone
    assert sum(alone) == 2 * len(leaves)  # each proof, as given and in upper case


def test_calls_of_one_document_share_the_reader_of_its_data_shape(
    documents: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Compiling a data shape costs a few hundred µs: a server verifying one document a request learns the
    # shape once, not every time, and its reports are those of a batch.
    from credreg.documents import canonical

    learned: list[object] = []
    learn = canonical._ReadShape.of
    monkeypatch.setattr(canonical._ReadShape, "of", lambda data: learned.append(data) or learn(data))
    monkeypatch.setattr(verify_module, "_READER", canonical.SaltedReader())
    issued = [d for d in documents if isinstance(d, bytes) and not d.startswith(b"{not")][:5]
    ledger = Ledger({_issued_root(documents)})
    alone = [verify_documents(ledger, [d])[0] for d in issued]
    assert len(learned) == 1
    together = verify_documents(Ledger({_issued_root(documents)}), issued)
    assert [r.model_dump() for r in alone] == [r.model_dump() for r in together]
    assert {r.code for r in alone} == {"valid"}


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["data"]["credreg"].__setitem__("level", 2**70),  # orjson would read a float
        lambda d: d["data"]["credreg"].__setitem__("level", 3),  # unsalted: the separate steps
        lambda d: d["data"]["credreg"].__setitem__("level", 1.5),
        lambda d: d.__setitem__("version", 12345678901234567890123),
        lambda d: d.__setitem__("note", [2**64, 1e300, -0.0]),  # never read: the document stays valid
        lambda d: d["data"]["recipient"].__setitem__("name", d["data"]["recipient"]["name"] + "x"),
        lambda d: d["signature"].__setitem__("merkleRoot", "00" * 32),
        lambda d: d["data"]["credreg"].__setitem__("registry", d["data"]["credreg"]["registry"][:-1] + "0"),
        lambda d: d.__setitem__("privacy", {"obfuscatedData": ["ab" * 32]}),
        lambda d: None,
    ],
)
def test_a_document_read_from_text_gets_the_report_its_parsed_form_gets(
    documents: list[Any], change: Any
) -> None:
    # Text is read by orjson first, and by `json` whenever orjson's reading might differ from it (numbers
    # past 64 bits, floats) or any check fails; a parsed document is never read by orjson.
    document = json.loads(documents[0])
    change(document)
    text = json.dumps(document, ensure_ascii=False)
    ledger = Ledger({_issued_root(documents)})
    from_text = verify_documents(ledger, [text, text.encode()])
    from_mapping = verify_documents(ledger, [document])[0]
    assert from_text[0].model_dump_json() == from_text[1].model_dump_json() == from_mapping.model_dump_json()


def test_a_document_nested_past_what_python_compiles_gets_a_report(documents: list[Any]) -> None:
    from credreg.documents.canonical import salt_data

    document = json.loads(documents[0])
    nested: Any = "x"
    for _ in range(250):
        nested = {"k": nested}
    document["data"]["extra"] = salt_data({"deep": nested})["deep"]
    reports = verify_documents(Ledger({_issued_root(documents)}), [json.dumps(document), documents[0]])
    assert [r.code for r in reports] == ["tampered", "valid"]
