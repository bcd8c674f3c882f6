"""A large batch is kept with the roots of its chunks, and a leaf's proof is read from its own chunk and
those roots: the same root and the same proofs as the whole tree's, for any size of batch and chunk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from credreg.documents.merkle import MerkleTree
from credreg.service.batches import chunk_roots, has_leaf, leaf_count, proof_of, write_chunks
from credreg.service.db import BatchLeaf, Database


def _leaves(n: int) -> list[str]:
    return sorted("0x" + os.urandom(32).hex() for _ in range(n))


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 31, 64, 65, 100, 257])
@pytest.mark.parametrize("chunk", [1, 2, 8, 16])
def test_chunk_roots_build_the_trees_root(n: int, chunk: int) -> None:
    leaves = _leaves(n)
    tree = MerkleTree(bytes.fromhex(x[2:]) for x in leaves)
    runs = [leaves[i : i + 5] for i in range(0, n, 5)]  # runs of a size unrelated to the chunk's
    root, chunks = chunk_roots(runs, chunk)
    assert root == "0x" + tree.root.hex()
    assert [c[1] for c in chunks] == leaves[::chunk]
    assert len(chunks) == -(-n // chunk)


@pytest.mark.parametrize(("n", "chunk"), [(1, 8), (9, 8), (100, 8), (64, 16), (77, 4)])
def test_a_proof_read_by_chunks_is_the_whole_trees_proof(tmp_path: Path, n: int, chunk: int) -> None:
    db = Database(f"sqlite:///{tmp_path / 'service.db'}")
    db.create_schema()
    leaves = _leaves(n)
    tree = MerkleTree(bytes.fromhex(x[2:]) for x in leaves)
    root = "0x" + tree.root.hex()
    _, chunks = chunk_roots([leaves], chunk)
    with db.session() as session:
        session.add_all(BatchLeaf(agency_id=3, root=root, leaf=leaf) for leaf in leaves)
        write_chunks(session, 3, root, chunks)
    assert leaf_count(db, 3, root) == n
    for leaf in leaves:
        want = ["0x" + p.hex() for p in tree.proof(bytes.fromhex(leaf[2:]))]
        assert proof_of(db, 3, root, leaf, chunk) == want
    stranger = "0x" + "00" * 32
    assert proof_of(db, 3, root, stranger, chunk) is None
    assert not has_leaf(db, 4, root, leaves[0])
    assert proof_of(db, 4, root, leaves[0], chunk) is None


def test_a_batch_kept_without_chunks_is_read_whole(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'service.db'}")
    db.create_schema()
    leaves = _leaves(13)
    tree = MerkleTree(bytes.fromhex(x[2:]) for x in leaves)
    root = "0x" + tree.root.hex()
    with db.session() as session:
        session.add_all(BatchLeaf(agency_id=1, root=root, leaf=leaf) for leaf in leaves)
    assert proof_of(db, 1, root, leaves[5]) == [
        "0x" + p.hex() for p in tree.proof(bytes.fromhex(leaves[5][2:]))
    ]
