"""Merkle trees over document target hashes, as OpenAttestation v2 and OpenZeppelin ``MerkleProof`` use them.

- Leaves are 32-byte hashes, sorted bytewise before the tree is built (OpenAttestation sorts them, so a
  batch's root does not depend on the order its documents were given in).
- A parent is ``keccak256(min(a, b) ++ max(a, b))``: sorted pairs, so a proof is a plain list of
  siblings with no left/right flags.
- A level with an odd number of nodes promotes its last node unchanged to the next level.
- A single leaf is its own root, with an empty proof.

The chain checks revocation of every node on a proof's path (a suspended subtree suspends all its leaves),
so `MerkleTree.path` and `proof_path` give those intermediate nodes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from credreg.documents._keccak import keccak256
from credreg.errors import DocumentError

__all__ = ["MerkleTree", "combine", "proof_path", "to_bytes32", "verify_proof"]


def combine(a: bytes, b: bytes) -> bytes:
    """The parent of two nodes: keccak256 of the pair in ascending byte order."""
    return keccak256(a + b if a <= b else b + a)


def to_bytes32(value: str | bytes) -> bytes:
    """A 32-byte hash from bytes or hex text (with or without ``0x``)."""
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        text = value[2:] if value[:2] in ("0x", "0X") else value
        if len(text) != 64:
            raise DocumentError(f"{value!r} is not a 32-byte hash (64 hex digits)")
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise DocumentError(f"{value!r} is not hexadecimal") from None
    if len(raw) != 32:
        raise DocumentError(f"a hash must be 32 bytes, not {len(raw)}")
    return raw


class MerkleTree:
    """A tree over 32-byte leaves; building 10,000 leaves and all their proofs takes milliseconds."""

    __slots__ = ("_index", "_layers")

    def __init__(self, leaves: Iterable[bytes]) -> None:
        ordered = sorted(leaves)
        if not ordered:
            raise DocumentError("a merkle tree needs at least one leaf")
        for leaf in ordered:
            if not isinstance(leaf, bytes) or len(leaf) != 32:
                raise DocumentError(f"merkle leaves must be 32 bytes, got {leaf!r}")
        for a, b in itertools.pairwise(ordered):
            if a == b:
                raise DocumentError(f"leaf 0x{a.hex()} appears twice: two documents are identical")
        layers = [ordered]
        while len(layers[-1]) > 1:
            layer = layers[-1]
            parents = [combine(layer[i], layer[i + 1]) for i in range(0, len(layer) - 1, 2)]
            if len(layer) % 2:
                parents.append(layer[-1])
            layers.append(parents)
        self._layers: list[list[bytes]] = layers
        self._index = {leaf: i for i, leaf in enumerate(ordered)}

    @property
    def root(self) -> bytes:
        return self._layers[-1][0]

    @property
    def leaves(self) -> Sequence[bytes]:
        """The leaves in tree order (sorted)."""
        return tuple(self._layers[0])

    def __len__(self) -> int:
        return len(self._layers[0])

    def __contains__(self, leaf: object) -> bool:
        return leaf in self._index

    def _position(self, leaf: bytes) -> int:
        try:
            return self._index[leaf]
        except KeyError:
            raise DocumentError(f"0x{leaf.hex()} is not a leaf of this tree") from None

    def proof(self, leaf: bytes) -> list[bytes]:
        """The siblings from `leaf` up to the root (a promoted odd node has no sibling at its level)."""
        index = self._position(leaf)
        siblings = []
        for layer in self._layers[:-1]:
            pair = index ^ 1
            if pair < len(layer):
                siblings.append(layer[pair])
            index //= 2
        return siblings

    def path(self, leaf: bytes) -> list[bytes]:
        """The distinct nodes from `leaf` to the root, both included: what the chain checks for revocation."""
        index = self._position(leaf)
        nodes = [leaf]
        for layer in self._layers[1:]:
            index //= 2
            if layer[index] != nodes[-1]:
                nodes.append(layer[index])
        return nodes

    def proofs(self) -> dict[bytes, list[bytes]]:
        """Every leaf's proof, computed together."""
        return {leaf: self.proof(leaf) for leaf in self._layers[0]}


def verify_proof(leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether folding `proof` into `leaf` with sorted-pair hashing gives `root`."""
    node = leaf
    for sibling in proof:
        node = combine(node, sibling)
    return node == root


def proof_path(leaf: bytes, proof: Sequence[bytes]) -> list[bytes]:
    """`leaf`, every intermediate node `proof` implies, and the root it leads to, in that order."""
    nodes = [leaf]
    for sibling in proof:
        nodes.append(combine(nodes[-1], sibling))
    return nodes
