"""Issuing a batch in bounded memory: the batch wrapper's fast way, packed trees, and the two passes.

Memory is tested for its structure, not its speed: what a batch keeps per certificate is measured with
tracemalloc at two sizes, and the difference must be tens of bytes (a 32-byte leaf and small change), where
holding the documents would cost tens of kilobytes each.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from documents_factories import certificates, document_data, salt_stream
from hypothesis import example, given, settings
from hypothesis import strategies as st

from credreg.documents import MerkleTree, verify_signature
from credreg.documents.archive import find_in_archive
from credreg.documents.canonical import is_salted
from credreg.documents.layout import certificate_to_data, wrap_certificates
from credreg.documents.merkle import build_tree
from credreg.documents.model import AgencyRef
from credreg.documents.results import IssueContext, read_results
from credreg.documents.wrap import BatchWrapper, document_head, dump_document, finish_document, load_document
from credreg.errors import UnhashableValue
from credreg.issuance import BatchSummary, Journal, prepare_batch, read_summary_head, write_documents
from credreg.samples import write_sample_results

CONTEXT = IssueContext(
    agency=AgencyRef(id=1, name="北京数字技能评价中心"), chain_id=31337, registry="0x" + "11" * 20
)


def _same_as_the_general_way(batch: list[dict[str, Any]], seed: int) -> None:
    fast, general = BatchWrapper(salt_stream(seed)), salt_stream(seed)
    for data in batch:
        assert fast.head(data) == document_head(data, general)


@given(st.lists(document_data, min_size=1, max_size=6), st.integers(0, 2**32))
@example([{"a": "x", "b": {"c": 1}}, {"a": None, "b": {"c": "1"}}, {"a": True, "b": {"c": -(2**53) + 1}}], 1)
@example([{"a": [1, 2]}, {"a": [1]}, {"a": {"0": 1, "1": 2}}, {"a": [1, 2]}], 2)  # same paths, other shape
@settings(deadline=None, max_examples=40)
def test_the_batch_wrapper_gives_what_the_general_way_gives(batch: list[dict[str, Any]], seed: int) -> None:
    _same_as_the_general_way([copy.deepcopy(d) for d in batch for _ in range(2)], seed)


@given(st.lists(certificates(), min_size=2, max_size=8), st.integers(0, 2**32))
@settings(deadline=None, max_examples=20)
def test_certificates_of_every_kind_wrap_alike_either_way(batch: list[Any], seed: int) -> None:
    data = [certificate_to_data(c, identity_location="registry.example.org") for c in batch]
    _same_as_the_general_way(data + data, seed)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("\ud800", "lone UTF-16 surrogate"),
        (1.5, "floats are not hashed reproducibly"),
        (2**53, "outside JavaScript's safe range"),
    ],
)
def test_a_value_the_fast_way_cannot_take_is_named(value: object, reason: str) -> None:
    wrapper = BatchWrapper(salt_stream(3))
    wrapper.head({"name": "甲", "score": {"value": 1}})  # learns the shape
    with pytest.raises(UnhashableValue, match=reason) as caught:
        wrapper.head({"name": "乙", "score": {"value": value}})
    assert caught.value.field == "score.value"


def test_a_finished_head_is_a_valid_document_with_its_proof() -> None:
    wrapper = BatchWrapper(salt_stream(4))
    heads = [wrapper.head({"n": n, "who": f"holder {n}"}) for n in range(5)]
    tree, positions = build_tree(b"".join(leaf for leaf, _ in heads))
    for i, (_, head) in enumerate(heads):
        text = finish_document(head.encode(), tree.proof_hex_at(positions[i]), tree.root.hex())
        assert verify_signature(load_document(text))


def test_a_packed_tree_matches_the_plain_one_and_keeps_64_bytes_a_leaf() -> None:
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(1001)]
    plain = MerkleTree(leaves)
    tracemalloc.start()
    try:
        packed, positions = build_tree(b"".join(leaves))
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert packed.root == plain.root
    assert tuple(packed.leaves) == tuple(sorted(leaves))
    for i in (0, 1, 500, 1000):
        assert packed.proof_at(positions[i]) == plain.proof(leaves[i])
        assert packed.leaves[positions[i]] == leaves[i]
        assert leaves[i] in packed.leaves
        assert packed.leaves.index(leaves[i]) == positions[i]
    assert packed.nbytes == 32 * (1001 + 501 + 251 + 126 + 63 + 32 + 16 + 8 + 4 + 2 + 1)
    assert kept < 80 * 1001, "levels, positions and nothing else: no Python object per node"


def _issue_offline(
    work: Path, count: int, *, files: bool = True, archive: bool = True
) -> tuple[Journal, Any]:
    """Both passes of `issue_results_file` without a ledger (recording the root is what is left out)."""
    results = work / f"results-{count}.csv"
    if not results.exists():
        write_sample_results(results, count, seed=count)
    prefix = hashlib.sha256(b"a batch issued offline")
    whole = prefix.copy()
    whole.update(results.read_bytes())
    journal = Journal(work / f"out-{count}" / ".credreg-journal", whole.hexdigest()[:32])
    state = prepare_batch(results, journal, CONTEXT, prefix.copy(), "registry.example.org", "csv")
    tree, positions = build_tree(journal.leaves())
    assert "0x" + tree.root.hex() == state.root
    name = f"batch-{state.root[2:18]}.jsonl" if archive else None
    write_documents(journal.directory.parent, journal, state, tree, positions, files, name, _quiet)
    return journal, state


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def _peak(run: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_per_certificate_does_not_grow_with_the_batch(tmp_path: Path) -> None:
    for count in (150, 750):
        write_sample_results(tmp_path / f"results-{count}.csv", count, seed=count)
    small = _peak(lambda: _issue_offline(tmp_path, 150))
    large = _peak(lambda: _issue_offline(tmp_path, 750))
    per_certificate = (large - small) / 600
    # A leaf (32 bytes), a file-name digest (20) and the sorting's brief copies (about 150): a batch of a
    # million stays near 200 MB. Holding the documents, as before, cost about 21 KB a certificate.
    assert per_certificate < 400, f"{per_certificate:.0f} bytes a certificate"


def test_both_passes_write_every_certificate_once_in_files_and_archive(tmp_path: Path) -> None:
    journal, state = _issue_offline(tmp_path, 40)
    out = journal.directory.parent
    archive = out / f"batch-{state.root[2:18]}.jsonl"
    lines = archive.read_bytes().splitlines()
    files = sorted(p for p in out.glob("*.json"))
    assert len(lines) == len(files) == state.count == 40
    assert sorted(p.read_bytes().strip() for p in files) == sorted(lines)
    for line in lines:
        document = load_document(line)
        assert verify_signature(document)
        assert "0x" + document["signature"]["merkleRoot"] == state.root
    third = json.loads(lines[2])
    assert find_in_archive(archive, line=3) == lines[2]
    assert find_in_archive(archive, target="0x" + third["signature"]["targetHash"]) == lines[2]


def test_two_numbers_with_the_same_file_name_get_distinct_files(tmp_path: Path) -> None:
    results = write_sample_results(tmp_path / "r.csv", 3, seed=5)
    text = results.read_text(encoding="utf-8").splitlines()
    header, first = text[0], text[1].split(",")
    number = header.split(",").index("certificate_number")
    clashing = [list(first), list(first)]
    clashing[0][number], clashing[1][number] = "A/1", "A:1"  # both become A_1.json
    holder = header.split(",").index("holder_id_number")
    clashing[1][holder] = text[2].split(",")[holder]
    results.write_text("\n".join([header, *(",".join(r) for r in clashing)]) + "\n", encoding="utf-8")
    prefix = hashlib.sha256(b"clash")
    whole = prefix.copy()
    whole.update(results.read_bytes())
    journal = Journal(tmp_path / "out" / ".credreg-journal", whole.hexdigest()[:32])
    state = prepare_batch(results, journal, CONTEXT, prefix, "registry.example.org", "csv")
    assert state.renamed == [1]
    tree, positions = build_tree(journal.leaves())
    write_documents(tmp_path / "out", journal, state, tree, positions, True, None, _quiet)
    names = sorted(p.name for p in (tmp_path / "out").glob("A_1*.json"))
    assert len(names) == 2
    assert "A_1.json" in names


def test_a_results_file_changed_while_read_is_refused(tmp_path: Path) -> None:
    results = write_sample_results(tmp_path / "r.csv", 5, seed=6)
    prefix = hashlib.sha256(b"changed")
    journal = Journal(tmp_path / "out" / ".credreg-journal", "0" * 32)  # the id of other content
    with pytest.raises(Exception, match="changed while it was read"):
        prepare_batch(results, journal, CONTEXT, prefix, "registry.example.org", "csv")
    assert not (tmp_path / "out").exists(), "nothing is left of a first pass that failed"
    assert os.listdir(tmp_path) == ["r.csv"]


def test_random_salts_of_the_fast_way_are_fresh_version_4_uuids() -> None:
    wrapper = BatchWrapper()
    salts: list[str] = []
    for n in range(400):  # 1,200 salts: past the first block of 1,024
        leaf, head = wrapper.head({"n": n, "who": {"name": f"holder {n}"}, "ok": True})
        document = json.loads(finish_document(head.encode(), [], leaf.hex()))
        assert verify_signature(load_document(document))
        salts += [
            document["data"]["n"][:36],
            document["data"]["who"]["name"][:36],
            document["data"]["ok"][:36],
        ]
    assert len(set(salts)) == len(salts)
    assert all(is_salted(salt + ":") for salt in salts)
    assert {salt[14] for salt in salts} == {"4"}
    assert {salt[19] for salt in salts} <= set("89ab")


@pytest.mark.parametrize("files", [["A_1.json", "B 2.json"], []])
def test_a_summary_is_read_from_its_head_whatever_wrote_it(tmp_path: Path, files: list[str]) -> None:
    leaves = ["0x" + "ab" * 32, "0x" + "cd" * 32]
    summary = BatchSummary(
        batch_id="b" * 32, root="0x" + "ef" * 32, chain_id=31337, registry="0x" + "11" * 20, agency_id=1,
        scope_id="0x" + "22" * 32, valid_until=0, signer="0x" + "33" * 20, transaction_hash=None,
        block_number=None, issued_at=1, count=2, files=files, leaves=leaves,
    )  # fmt: skip
    path = tmp_path / "batch-x.json"
    path.write_text(
        summary.model_dump_json(indent=2) + "\n", encoding="utf-8"
    )  # as earlier versions wrote it
    read = read_summary_head(path)
    assert read.model_dump(exclude={"files", "leaves"}) == summary.model_dump(exclude={"files", "leaves"})
    assert list(read.files) == files
    assert list(read.leaves) == leaves
    assert bool(read.files) == bool(files)
    assert len(read.leaves) == 2
    assert read.leaves[1] == leaves[1]


def test_a_journal_of_whole_documents_left_by_an_earlier_version_resumes_to_its_root(tmp_path: Path) -> None:
    certificates = read_results(write_sample_results(tmp_path / "r.csv", 7, seed=9), context=CONTEXT)
    documents = wrap_certificates(certificates, identity_location="registry.example.org")
    journal = Journal(tmp_path / "out" / ".credreg-journal", "c" * 32)
    journal.directory.mkdir(parents=True)
    journal.legacy_path.write_text("".join(dump_document(d, indent=None) + "\n" for d in documents), "utf-8")
    state = journal.state()
    assert state is not None
    assert state.root == "0x" + documents[0]["signature"]["merkleRoot"]
    assert (state.count, state.kind, state.level) == (7, "skill_level", certificates[0].level)
    assert not journal.legacy_path.exists()
    tree, positions = build_tree(journal.leaves())
    for i, (_, head) in enumerate(journal.lines()):
        text = finish_document(head, tree.proof_hex_at(positions[i]), tree.root.hex())
        assert text == (dump_document(documents[i], indent=None) + "\n").encode()
