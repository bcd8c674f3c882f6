"""Merkle trees over document target hashes, as OpenAttestation v2 and OpenZeppelin ``MerkleProof`` use them.

- Leaves are 32-byte hashes, sorted bytewise before the tree is built (OpenAttestation sorts them, so a
  batch's root does not depend on the order its documents were given in).
- A parent is ``keccak256(min(a, b) ++ max(a, b))``: sorted pairs, so a proof is a plain list of
  siblings with no left/right flags.
- A level with an odd number of nodes promotes its last node unchanged to the next level.
- A single leaf is its own root, with an empty proof.

The chain checks revocation of every node on a proof's path (a suspended subtree suspends all its leaves),
so `MerkleTree.path` and `proof_path` give those intermediate nodes.

A tree keeps each level as one packed byte string, 32 bytes a node: about 64 bytes a leaf in all, where a
list of ``bytes`` objects costs about 100 bytes a node more. A batch of 1,000,000 certificates fits in
64 MB; `build_tree` builds one from packed leaves in any order and says where each leaf went.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from credreg.documents._keccak import keccak256, new_keccak256
from credreg.errors import DocumentError

__all__ = ["MerkleTree", "PackedHashes", "build_tree", "combine", "proof_path", "verify_proof"]

_SIZE = 32


def combine(a: bytes, b: bytes) -> bytes:
    """The parent of two nodes: keccak256 of the pair in ascending byte order."""
    return keccak256(a + b if a <= b else b + a)


class PackedHashes(Sequence[bytes]):
    """32-byte hashes stored back to back in one byte string, read as a sequence of ``bytes``.

    Sorted ones (a tree's leaves) answer ``in`` and ``index`` by binary search.
    """

    __slots__ = ("_data", "_sorted")

    def __init__(self, data: bytes, *, is_sorted: bool = False) -> None:
        if len(data) % _SIZE:
            raise DocumentError(f"packed hashes take a multiple of 32 bytes, not {len(data)}")
        self._data = data
        self._sorted = is_sorted

    def __len__(self) -> int:
        return len(self._data) // _SIZE

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("hash index out of range")
        return self._data[index * _SIZE : index * _SIZE + _SIZE]

    def __iter__(self) -> Iterator[bytes]:
        data = self._data
        return (data[i : i + _SIZE] for i in range(0, len(data), _SIZE))

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, bytes | bytearray) or len(value) != _SIZE:
            return False
        if not self._sorted:
            return any(value == item for item in self)
        return self._search(bytes(value)) is not None

    def index(self, value: object, start: int = 0, stop: int | None = None) -> int:
        if self._sorted and isinstance(value, bytes | bytearray) and len(value) == _SIZE:
            found = self._search(bytes(value))
            if found is not None and start <= found < (len(self) if stop is None else stop):
                return found
            raise ValueError(f"{value!r} is not in the sequence")
        return super().index(value, start, len(self) if stop is None else stop)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedHashes):
            return self._data == other._data
        if isinstance(other, Sequence) and not isinstance(other, str | bytes | bytearray):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def _search(self, value: bytes) -> int | None:
        data = self._data
        low, high = 0, len(self)
        while low < high:
            middle = (low + high) // 2
            if data[middle * _SIZE : middle * _SIZE + _SIZE] < value:
                low = middle + 1
            else:
                high = middle
        if low < len(self) and data[low * _SIZE : low * _SIZE + _SIZE] == value:
            return low
        return None

    def tobytes(self) -> bytes:
        """The hashes back to back."""
        return self._data


class MerkleTree:
    """A tree over 32-byte leaves; building 10,000 leaves and all their proofs takes milliseconds."""

    __slots__ = ("_layers",)

    def __init__(self, leaves: Iterable[bytes]) -> None:
        ordered = sorted(leaves)
        for leaf in ordered:
            if not isinstance(leaf, bytes) or len(leaf) != 32:
                raise DocumentError(f"merkle leaves must be 32 bytes, got {leaf!r}")
        self._layers = _build(b"".join(ordered))

    @classmethod
    def _from_sorted(cls, packed: bytes) -> MerkleTree:
        tree = cls.__new__(cls)
        tree._layers = _build(packed)
        return tree

    @property
    def root(self) -> bytes:
        return self._layers[-1][:_SIZE]

    @property
    def leaves(self) -> PackedHashes:
        """The leaves in tree order (sorted)."""
        return PackedHashes(self._layers[0], is_sorted=True)

    @property
    def nbytes(self) -> int:
        """The bytes the tree's nodes take (its packed levels)."""
        return sum(len(layer) for layer in self._layers)

    def __len__(self) -> int:
        return len(self._layers[0]) // _SIZE

    def __contains__(self, leaf: object) -> bool:
        return leaf in self.leaves

    def position(self, leaf: bytes) -> int:
        """Where `leaf` sits among the sorted leaves."""
        found = self.leaves._search(bytes(leaf)) if len(leaf) == _SIZE else None
        if found is None:
            raise DocumentError(f"0x{leaf.hex()} is not a leaf of this tree")
        return found

    def proof(self, leaf: bytes) -> list[bytes]:
        """The siblings from `leaf` up to the root (a promoted odd node has no sibling at its level)."""
        return self.proof_at(self.position(leaf))

    def proof_at(self, index: int) -> list[bytes]:
        """The proof of the leaf at `index` in tree order."""
        siblings = []
        for layer in self._layers[:-1]:
            at = (index ^ 1) * _SIZE
            if at < len(layer):
                siblings.append(layer[at : at + _SIZE])
            index >>= 1
        return siblings

    def proof_hex_at(self, index: int) -> list[str]:
        """`proof_at` as 64-digit hex strings, as a wrapped document carries them."""
        siblings = []
        for layer in self._layers[:-1]:
            at = (index ^ 1) * _SIZE
            if at < len(layer):
                siblings.append(layer[at : at + _SIZE].hex())
            index >>= 1
        return siblings

    def path(self, leaf: bytes) -> list[bytes]:
        """The distinct nodes from `leaf` to the root, both included: what the chain checks for revocation."""
        index = self.position(leaf)
        nodes = [bytes(leaf)]
        for layer in self._layers[1:]:
            index //= 2
            node = layer[index * _SIZE : index * _SIZE + _SIZE]
            if node != nodes[-1]:
                nodes.append(node)
        return nodes

    def proofs(self) -> dict[bytes, list[bytes]]:
        """Every leaf's proof, computed together."""
        return {leaf: self.proof_at(i) for i, leaf in enumerate(self.leaves)}


def build_tree(packed: bytes | bytearray) -> tuple[MerkleTree, array[int]]:
    """A tree over leaves given back to back in any order, and each leaf's position in the tree.

    ``positions[i]`` is where the i-th given leaf went among the sorted leaves (what `proof_at` takes).
    Raises `DocumentError` if a leaf is there twice. The leaves are sorted in 256 buckets by their first
    byte, so that sorting holds Python objects for one bucket at a time: about 40 bytes a leaf beside the
    leaves and the tree, where one sort of everything held 110.
    """
    count = len(packed) // _SIZE
    if not count or len(packed) % _SIZE:
        raise DocumentError("a merkle tree needs at least one leaf, given as 32-byte hashes back to back")
    wide = count >= 2**32
    tag = 8 if wide else 4
    buckets = [bytearray() for _ in range(256)]
    for i in range(count):
        at = i * _SIZE
        buckets[packed[at]] += packed[at : at + _SIZE] + i.to_bytes(tag, "big")
    del packed  # the buckets hold the leaves now; a caller that passed a temporary gets its memory back
    positions = array("Q" if wide else "I", bytes(count * (8 if wide else 4)))
    ordered = bytearray(count * _SIZE)
    place = 0
    step = _SIZE + tag
    for index, bucket in enumerate(buckets):
        entries = [bytes(bucket[at : at + step]) for at in range(0, len(bucket), step)]
        buckets[index] = bytearray()  # each bucket is let go once sorted
        entries.sort()
        for entry in entries:
            ordered[place * _SIZE : place * _SIZE + _SIZE] = entry[:_SIZE]
            positions[int.from_bytes(entry[_SIZE:], "big")] = place
            place += 1
    sorted_leaves = bytes(ordered)
    del ordered  # the tree keeps the bytes copy: one 32-byte-a-leaf buffer at a time
    return MerkleTree._from_sorted(sorted_leaves), positions


def _build(ordered: bytes) -> list[bytes]:
    """Every level from the sorted leaves up to the root, each packed."""
    if not ordered:
        raise DocumentError("a merkle tree needs at least one leaf")
    new_hash = new_keccak256
    previous = None
    for at in range(0, len(ordered), _SIZE):
        leaf = ordered[at : at + _SIZE]
        if leaf == previous:
            raise DocumentError(f"leaf 0x{leaf.hex()} appears twice: two documents are identical")
        previous = leaf
    layers = [ordered]
    layer = ordered
    while len(layer) > _SIZE:
        parents = bytearray()
        paired = len(layer) - len(layer) % (2 * _SIZE)
        for at in range(0, paired, 2 * _SIZE):
            a, b = layer[at : at + _SIZE], layer[at + _SIZE : at + 2 * _SIZE]
            parents += new_hash(a + b if a <= b else b + a).digest()
        if paired < len(layer):
            parents += layer[paired:]
        layer = bytes(parents)
        layers.append(layer)
    return layers


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
