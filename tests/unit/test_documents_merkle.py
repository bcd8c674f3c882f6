"""Merkle trees: OpenAttestation's sorted-leaf, sorted-pair, promote-the-odd-node construction."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from credreg.documents import MerkleTree, combine, proof_path, verify_proof
from credreg.documents._keccak import keccak256
from credreg.errors import DocumentError

leaves = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70, unique=True)


def reference_root(level: list[bytes]) -> bytes:
    """A deliberately plain restatement of OpenAttestation's tree, for comparison."""
    level = sorted(level)
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            if i + 1 < len(level):
                a, b = sorted((level[i], level[i + 1]))
                nxt.append(keccak256(a + b))
            else:
                nxt.append(level[i])
        level = nxt
    return level[0]


@given(leaves)
@example([bytes(32)])
@example([bytes(32), b"\xff" * 32])
@example([bytes([i]) * 32 for i in range(3)])
@example([bytes([i]) * 32 for i in range(5)])
@settings(deadline=None)
def test_every_leaf_proves_against_the_root(items: list[bytes]) -> None:
    tree = MerkleTree(items)
    assert tree.root == reference_root(items)
    assert len(tree) == len(items)
    for leaf in items:
        proof = tree.proof(leaf)
        assert verify_proof(leaf, proof, tree.root)
        assert proof_path(leaf, proof) == tree.path(leaf)
        assert tree.path(leaf)[0] == leaf
        assert tree.path(leaf)[-1] == tree.root


@given(leaves, st.randoms(use_true_random=False))
@settings(deadline=None)
def test_root_does_not_depend_on_leaf_order(items: list[bytes], rnd: random.Random) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert MerkleTree(shuffled).root == MerkleTree(items).root
    assert tuple(MerkleTree(shuffled).leaves) == tuple(sorted(items))


@given(leaves.filter(lambda xs: len(xs) > 1), st.data())
@settings(deadline=None)
def test_a_tampered_leaf_or_proof_step_does_not_verify(items: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(items)
    leaf = data.draw(st.sampled_from(items))
    proof = tree.proof(leaf)
    flip = data.draw(st.integers(0, 255))
    byte = data.draw(st.integers(0, 31))
    tampered_leaf = bytearray(leaf)
    tampered_leaf[byte] ^= flip or 1
    assert not verify_proof(bytes(tampered_leaf), proof, tree.root)
    step = data.draw(st.integers(0, len(proof) - 1))
    bad = list(proof)
    bad[step] = bytes(b ^ 0x01 for b in bad[step])
    assert not verify_proof(leaf, bad, tree.root)
    assert not verify_proof(leaf, proof[:-1], tree.root)


def test_a_single_leaf_is_its_own_root_with_an_empty_proof() -> None:
    leaf = keccak256(b"only")
    tree = MerkleTree([leaf])
    assert tree.root == leaf
    assert tree.proof(leaf) == []
    assert tree.path(leaf) == [leaf]


def test_the_odd_node_is_promoted_unchanged() -> None:
    a, b, c = sorted(keccak256(bytes([i])) for i in range(3))
    tree = MerkleTree([c, a, b])
    assert tree.root == combine(combine(a, b), c)
    assert tree.proof(c) == [combine(a, b)]
    assert tree.path(c) == [c, tree.root]


def test_pairs_hash_in_ascending_order() -> None:
    low, high = bytes(32), b"\x01" * 32
    assert combine(high, low) == combine(low, high) == keccak256(low + high)


def test_ten_thousand_leaves_all_prove() -> None:
    items = [os.urandom(32) for _ in range(10_000)]
    tree = MerkleTree(items)
    proofs = tree.proofs()
    assert len(proofs) == 10_000
    assert all(verify_proof(leaf, proof, tree.root) for leaf, proof in proofs.items())
    assert max(len(p) for p in proofs.values()) == 14


@pytest.mark.parametrize(
    ("items", "message"),
    [([], "at least one leaf"), ([b"short"], "32 bytes"), ([bytes(32), bytes(32)], "appears twice")],
)
def test_bad_leaves_are_refused(items: list[bytes], message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        MerkleTree(items)


def test_unknown_leaf_has_no_proof() -> None:
    tree = MerkleTree([bytes(32)])
    with pytest.raises(DocumentError, match="not a leaf"):
        tree.proof(b"\x01" * 32)
    assert b"\x01" * 32 not in tree
