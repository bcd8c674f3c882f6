"""Bitstring Status Lists rebuilt from ledger events: positions, bits, encoding, the signed list credential."""

from __future__ import annotations

import base64
import gzip
import hashlib

import pytest
from eth_utils.crypto import keccak
from vc_factories import BASE_URL, FakeLedger

from credreg.errors import DocumentError, MalformedDocument
from credreg.vc.keys import generate_key
from credreg.vc.proof import check_proof
from credreg.vc.statuslist import (
    LIST_SIZE,
    Batch,
    StatusEvent,
    bit_is_set,
    build_status_lists,
    decode_list,
    encode_list,
    status_entries,
    status_list_credential,
    status_positions,
)

REVOKE, SUSPEND, REINSTATE = 1, 2, 3


def leaves(tag: str, count: int) -> list[bytes]:
    return [hashlib.sha256(f"{tag}{i}".encode()).digest() for i in range(count)]


def reference_nodes(batch_leaves: list[bytes]) -> dict[bytes, set[bytes]]:
    """Every node of a sorted-pair keccak tree -> the leaves under it, built here without credreg's tree."""
    level = [(leaf, {leaf}) for leaf in sorted(batch_leaves)]
    nodes = dict(level)
    while len(level) > 1:
        parents = []
        for i in range(0, len(level), 2):
            if i + 1 == len(level):
                parents.append(level[i])
                continue
            (a, under_a), (b, under_b) = level[i], level[i + 1]
            parents.append((keccak(min(a, b) + max(a, b)), under_a | under_b))
        level = parents
        nodes.update(level)
    return nodes


def reference_root(batch_leaves: list[bytes]) -> bytes:
    nodes = reference_nodes(batch_leaves)
    return next(node for node, under in nodes.items() if len(under) == len(batch_leaves))


def test_revoking_or_suspending_a_leaf_a_node_and_a_root_sets_exactly_the_bits_under_them() -> None:
    groups = {"a": leaves("a", 5), "b": leaves("b", 6), "c": leaves("c", 3)}
    # Given out of ledger order: positions follow (block, log index), not the order of the list.
    placed = {"b": (20, 1), "a": (20, 0), "c": (31, 4)}
    batches = [
        Batch(
            1 if name != "c" else 2,
            "0x" + reference_root(ls).hex(),
            ["0x" + x.hex() for x in ls],
            *placed[name],
        )
        for name, ls in groups.items()
    ]
    nodes = {name: reference_nodes(ls) for name, ls in groups.items()}
    leaf_a = sorted(groups["a"])[3]
    node_b = next(n for n, under in nodes["b"].items() if len(under) == 2)
    root_c = reference_root(groups["c"])
    noise = sorted(groups["b"])[5]
    events = [
        StatusEvent(1, "0x" + reference_root(groups["a"]).hex(), "0x" + leaf_a.hex(), REVOKE, 40, 0),
        StatusEvent(1, "0x" + reference_root(groups["b"]).hex(), "0x" + node_b.hex(), SUSPEND, 41, 2),
        StatusEvent(2, "0x" + root_c.hex(), "0x" + root_c.hex(), REVOKE, 41, 3),
        StatusEvent(1, "0x" + reference_root(groups["b"]).hex(), "0x" + noise.hex(), SUSPEND, 42, 0),
        StatusEvent(1, "0x" + reference_root(groups["b"]).hex(), "0x" + noise.hex(), REINSTATE, 43, 0),
    ]

    lists = build_status_lists(batches, list(reversed(events)))

    order = ["a", "b", "c"]  # by (block, log index)
    reference_position = {}
    offset = 0
    for name in order:
        for place, leaf in enumerate(sorted(groups[name])):
            reference_position[leaf] = offset + place
        offset += len(groups[name])
    assert lists.positions == {"0x" + leaf.hex(): p for leaf, p in reference_position.items()}
    expected_revoked = {reference_position[leaf_a]} | {reference_position[x] for x in groups["c"]}
    expected_suspended = {reference_position[x] for x in nodes["b"][node_b]}
    assert len(expected_suspended) == 2
    for purpose, expected in (("revocation", expected_revoked), ("suspension", expected_suspended)):
        bitstring = lists.bits[purpose][0]
        assert len(bitstring) * 8 == LIST_SIZE
        assert {i for i in range(LIST_SIZE) if bit_is_set(bitstring, i)} == expected, purpose


def test_suspension_is_lifted_by_reinstatement_but_revocation_is_final() -> None:
    batch_leaves = leaves("x", 4)
    root = "0x" + reference_root(batch_leaves).hex()
    batch = Batch(3, root, ["0x" + x.hex() for x in batch_leaves], 5, 0)
    reinstated = [StatusEvent(3, root, root, SUSPEND, 6, 0), StatusEvent(3, root, root, REINSTATE, 7, 0)]
    assert not any(build_status_lists([batch], reinstated).bits["suspension"][0])
    with pytest.raises(DocumentError, match="reinstate"):
        build_status_lists(
            [batch], [StatusEvent(3, root, root, REVOKE, 6, 0), StatusEvent(3, root, root, REINSTATE, 7, 0)]
        )


def test_a_batch_whose_leaves_do_not_make_its_root_is_refused() -> None:
    with pytest.raises(DocumentError, match="another root"):
        Batch(1, "0x" + "11" * 32, ["0x" + x.hex() for x in leaves("y", 3)], 1, 0)


def test_new_batches_only_append_positions() -> None:
    first = Batch(
        1, "0x" + reference_root(leaves("p", 3)).hex(), ["0x" + x.hex() for x in leaves("p", 3)], 1, 0
    )
    second = Batch(
        1, "0x" + reference_root(leaves("q", 2)).hex(), ["0x" + x.hex() for x in leaves("q", 2)], 2, 0
    )
    before = status_positions([first])
    after = status_positions([second, first])
    assert {k: after[k] for k in before} == before
    assert sorted(after.values()) == list(range(5))


def test_encoding_is_gzip_then_base64url_multibase_most_significant_bit_first() -> None:
    bitstring = bytearray(LIST_SIZE // 8)
    bitstring[0] = 0b1000_0001
    encoded = encode_list(bitstring)
    assert encoded.startswith("u")
    assert "=" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw == bytes(bitstring)
    assert decode_list(encoded) == bytes(bitstring)
    assert bit_is_set(raw, 0)
    assert bit_is_set(raw, 7)
    assert not bit_is_set(raw, 1)
    assert encode_list(bitstring) == encoded  # reproducible: no time in the GZIP header
    with pytest.raises(MalformedDocument, match="fewer than"):
        decode_list(encode_list(bytes(16)))


def test_positions_beyond_one_list_go_to_the_next_page() -> None:
    revocation, suspension = status_entries(BASE_URL, LIST_SIZE + 5)
    assert revocation == {
        "id": f"{BASE_URL}/revocation/1#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": f"{BASE_URL}/revocation/1",
    }
    assert suspension["statusListCredential"] == f"{BASE_URL}/suspension/1"


def test_the_list_credential_is_signed_by_the_operator_key() -> None:
    key = generate_key()
    credential = status_list_credential(
        base_url=BASE_URL,
        purpose="suspension",
        page=0,
        bitstring=bytes(LIST_SIZE // 8),
        key=key,
        issued_at=1_760_000_000,
        valid_for=3600,
    )
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["credentialSubject"]["statusPurpose"] == "suspension"
    assert credential["validUntil"] == "2025-10-09T09:53:20Z"
    assert check_proof(credential).public_key == key.public_key
    forged = {
        **credential,
        "credentialSubject": {
            **credential["credentialSubject"],
            "encodedList": encode_list(bytes([255]) * (LIST_SIZE // 8)),
        },
    }
    with pytest.raises(MalformedDocument, match="signature"):
        check_proof(forged)


def test_fake_ledger_publishes_lists_for_what_it_issued() -> None:
    from vc_factories import batch_documents

    ledger = FakeLedger()
    documents = batch_documents(size=2)
    ledger.issue(documents)
    assert sorted(ledger.position(d) for d in documents) == [0, 1]
    assert set(ledger.lists) == {f"{BASE_URL}/revocation/0", f"{BASE_URL}/suspension/0"}


def test_packed_leaves_in_any_order_make_the_same_batch_as_hex_leaves() -> None:
    given = leaves("k", 9)
    root = "0x" + reference_root(given).hex()
    as_hex = Batch(4, root, ["0x" + x.hex() for x in given], 1, 0)
    for packed in (b"".join(given), b"".join(sorted(given))):
        assert Batch(4, root, packed, 1, 0).tree.leaves == as_hex.tree.leaves
    with pytest.raises(DocumentError, match="multiple of 32"):
        Batch(4, root, b"".join(given)[:-1], 1, 0)


def test_many_marked_nodes_set_the_same_bits_as_a_few_at_a_time() -> None:
    # More marks than are searched for one at a time: the levels are read in one pass instead.
    batch_leaves = leaves("m", 37)
    root = "0x" + reference_root(batch_leaves).hex()
    nodes = reference_nodes(batch_leaves)
    inner = [n for n, under in nodes.items() if 1 < len(under) < len(batch_leaves)]
    targets = sorted(batch_leaves)[::2][:15] + inner[:6]
    events = [StatusEvent(1, root, "0x" + t.hex(), SUSPEND, 10 + i, 0) for i, t in enumerate(targets)]
    position = {leaf: p for p, leaf in enumerate(sorted(batch_leaves))}
    expected = {position[leaf] for t in targets for leaf in nodes[t]}
    lists = build_status_lists([Batch(1, root, b"".join(batch_leaves), 1, 0)], events)
    bitstring = lists.bits["suspension"][0]
    assert {i for i in range(LIST_SIZE) if bit_is_set(bitstring, i)} == expected
    few = build_status_lists([Batch(1, root, b"".join(batch_leaves), 1, 0)], events[-6:])
    assert {i for i in range(LIST_SIZE) if bit_is_set(few.bits["suspension"][0], i)} == {
        position[leaf] for t in targets[-6:] for leaf in nodes[t]
    }
    assert not any(lists.bits["revocation"][0])
