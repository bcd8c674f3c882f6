"""Bitstring Status Lists rebuilt from the ledger: index assignment, bitstrings, list credentials.

Index assignment. Every certificate gets one position, the same in the revocation and the suspension
list, derived from the ledger's events and each batch's leaves alone:

- batches are taken in the order of their ``CredentialIssued`` events, by (block number, log index);
- inside a batch, leaves are taken in merkle tree order (`MerkleTree.leaves`: the target hashes sorted
  bytewise), which the leaves alone determine, however the batch was submitted;
- a certificate's position is the number of leaves in earlier batches plus its place in its batch.

Positions never move: a new batch only appends. Lists have `LIST_SIZE` entries (the Recommendation's
minimum, 131,072), so position ``p`` is entry ``p % LIST_SIZE`` of page ``p // LIST_SIZE``, published at
``{base}/{purpose}/{page}``.

Memory. A batch keeps only its merkle tree (each level packed, about 64 bytes a leaf) and the lists only
their bitstrings: positions are answered from the trees by binary search (`StatusPositions`), never held
as a Python object a leaf, so the lists for 1,000,000 certificates take about 64 MB. A batch's leaves may
be given packed (32 bytes each, back to back), as the service reads them from its database.

Status. The ledger's status events (revoke, suspend, reinstate) name a target under a root: the root, an
intermediate node or a leaf. Replaying them in (block, log index) order gives each target's state the way
the contract keeps it (revoke is final; suspend and reinstate toggle). A certificate's revocation bit is
set when any node on its path (leaf, intermediate nodes, root) is revoked; its suspension bit when any is
suspended. Lists are GZIP-compressed and base64url-encoded without padding, with the multibase prefix
``u``, as the Recommendation specifies.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from typing import Any, Final, Literal, TypeAlias

from credreg.chain.states import Status
from credreg.documents.merkle import MerkleTree, build_tree
from credreg.errors import DocumentError, MalformedDocument
from credreg.hashes import hash_bytes
from credreg.vc.jsonld import CREDENTIALS_V2
from credreg.vc.keys import SigningKey
from credreg.vc.proof import add_proof, xsd_datetime

__all__ = [
    "LIST_SIZE",
    "STATUS_PURPOSES",
    "Batch",
    "StatusEvent",
    "StatusLists",
    "StatusPositions",
    "StatusPurpose",
    "bit_is_set",
    "build_status_lists",
    "decode_list",
    "encode_list",
    "status_entries",
    "status_list_credential",
    "status_list_url",
    "status_positions",
]

LIST_SIZE: Final = 131_072
StatusPurpose: TypeAlias = Literal["revocation", "suspension"]
STATUS_PURPOSES: Final[tuple[StatusPurpose, ...]] = ("revocation", "suspension")
_ACTIONS: Final = {1: "revoke", 2: "suspend", 3: "reinstate"}
_FEW_MARKS: Final = 16  # up to this many marked nodes an agency's trees' levels are searched per mark


@dataclass(frozen=True)
class Batch:
    """One ``CredentialIssued`` event with the batch's leaves (target hashes, any order): hex strings in
    any hex form, packed (32 bytes each back to back), or their tree. Only the tree is kept."""

    agency_id: int
    root: str
    leaves: InitVar[Sequence[str] | bytes | bytearray | MerkleTree]
    block: int
    log_index: int
    tree: MerkleTree = field(init=False, repr=False, compare=False)

    def __post_init__(self, leaves: Sequence[str] | bytes | bytearray | MerkleTree) -> None:
        if isinstance(leaves, MerkleTree):
            tree = leaves
        elif isinstance(leaves, bytes | bytearray):
            tree = _packed_tree(leaves)
        else:
            tree = MerkleTree(hash_bytes(leaf) for leaf in leaves)
        if tree.root != hash_bytes(self.root):
            raise DocumentError(
                f"the leaves given for batch 0x{hash_bytes(self.root).hex()} make another root"
            )
        object.__setattr__(self, "tree", tree)


def _packed_tree(packed: bytes | bytearray) -> MerkleTree:
    """The tree over packed leaves: taken as they are when already in tree order (no copy), else sorted."""
    if len(packed) % 32 or not packed:
        raise DocumentError(f"packed leaves take a positive multiple of 32 bytes, not {len(packed)}")
    data = bytes(packed)
    in_order = all(data[at - 32 : at] < data[at : at + 32] for at in range(32, len(data), 32))
    if in_order:
        return MerkleTree._from_sorted(data)
    return build_tree(data)[0]


@dataclass(frozen=True)
class StatusEvent:
    """One ``CredentialStatusChanged`` event: `action` is the contract's (1 revoke, 2 suspend, 3 reinstate)."""

    agency_id: int
    root: str
    target: str
    action: int
    block: int
    log_index: int


def _ordered(batches: Iterable[Batch]) -> list[Batch]:
    ordered = sorted(batches, key=lambda b: (b.block, b.log_index))
    seen: set[tuple[int, bytes]] = set()
    for batch in ordered:
        key = (batch.agency_id, hash_bytes(batch.root))
        if key in seen:
            raise DocumentError(f"batch 0x{key[1].hex()} of agency {key[0]} is given twice")
        seen.add(key)
    return ordered


def status_positions(batches: Iterable[Batch]) -> StatusPositions:
    """Every leaf's position (``0x…`` target hash -> index); see the module docstring for the rule."""
    return StatusPositions(_ordered(batches))


class StatusPositions(Mapping[str, int]):
    """Every leaf's position (``0x…`` target hash -> index), read from the batches' trees by binary search:
    no object is held a leaf. A leaf in two batches is at its place in the later one."""

    __slots__ = ("_batches", "_offsets")

    def __init__(self, ordered: Sequence[Batch]) -> None:
        self._batches = tuple(ordered)
        offsets, offset = [], 0
        for batch in self._batches:
            offsets.append(offset)
            offset += len(batch.tree)
        self._offsets = tuple(offsets)

    def _find(self, leaf: bytes) -> int | None:
        for batch, offset in zip(reversed(self._batches), reversed(self._offsets), strict=True):
            place = batch.tree.leaves._search(leaf)
            if place is not None:
                return offset + place
        return None

    def __getitem__(self, key: str) -> int:
        try:
            leaf = hash_bytes(key) if isinstance(key, str) else None
        except DocumentError:
            leaf = None
        found = None if leaf is None else self._find(leaf)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        for batch, offset in zip(self._batches, self._offsets, strict=True):
            for place, leaf in enumerate(batch.tree.leaves):
                if self._find(leaf) == offset + place:  # not placed again by a later batch
                    yield "0x" + leaf.hex()

    def __len__(self) -> int:
        return sum(1 for _ in self)


def status_list_url(base_url: str, purpose: StatusPurpose, page: int) -> str:
    """Where the list credential for `purpose` holding positions ``page * LIST_SIZE …`` is published."""
    return f"{base_url.rstrip('/')}/{purpose}/{page}"


def status_entries(base_url: str, position: int) -> list[dict[str, Any]]:
    """The two ``credentialStatus`` entries (revocation, suspension) of the certificate at `position`."""
    if position < 0:
        raise DocumentError(f"a status list position is not negative, got {position}")
    page, index = divmod(position, LIST_SIZE)
    entries = []
    for purpose in STATUS_PURPOSES:
        url = status_list_url(base_url, purpose, page)
        entries.append(
            {
                "id": f"{url}#{index}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": str(index),
                "statusListCredential": url,
            }
        )
    return entries


@dataclass(frozen=True)
class StatusLists:
    """The rebuilt lists: one bitstring per purpose per page, and every leaf's position."""

    positions: StatusPositions
    bits: Mapping[StatusPurpose, Sequence[bytearray]]

    @property
    def pages(self) -> int:
        return len(self.bits["revocation"])

    def is_set(self, purpose: StatusPurpose, position: int) -> bool:
        page, index = divmod(position, LIST_SIZE)
        return page < self.pages and bit_is_set(self.bits[purpose][page], index)


def build_status_lists(batches: Iterable[Batch], events: Iterable[StatusEvent]) -> StatusLists:
    """Replay `events` over `batches` into the revocation and suspension bitstrings (module docstring)."""
    ordered = _ordered(batches)
    by_root = {(b.agency_id, hash_bytes(b.root)): b for b in ordered}
    states: dict[tuple[int, bytes], Status] = {}
    for event in sorted(events, key=lambda e: (e.block, e.log_index)):
        root = hash_bytes(event.root)
        if (event.agency_id, root) not in by_root:
            raise DocumentError(
                f"a status event names batch 0x{root.hex()} of agency {event.agency_id}, not given"
            )
        key = (event.agency_id, hash_bytes(event.target))
        current = states.get(key, Status.NONE)
        action = _ACTIONS.get(event.action)
        if action == "revoke":
            states[key] = Status.REVOKED
        elif action == "suspend" and current is Status.NONE:
            states[key] = Status.SUSPENDED
        elif action == "reinstate" and current is Status.SUSPENDED:
            states[key] = Status.NONE
        else:
            # The contract refuses every other transition, so the log cannot hold one.
            raise DocumentError(
                f"status event at block {event.block} log {event.log_index}: {action or event.action!r} "
                f"of 0x{key[1].hex()} while it is {current.name.lower()}"
            )
    total = sum(len(b.tree) for b in ordered)
    pages = max(1, -(-total // LIST_SIZE))
    bits: dict[StatusPurpose, list[bytearray]] = {
        p: [bytearray(LIST_SIZE // 8) for _ in range(pages)] for p in STATUS_PURPOSES
    }
    offset = 0
    marked_by_agency: dict[int, dict[bytes, Status]] = {}
    for (agency_id, target), state in states.items():
        if state is not Status.NONE:
            marked_by_agency.setdefault(agency_id, {})[target] = state
    for batch in ordered:
        marked = marked_by_agency.get(batch.agency_id)
        if marked:
            for first, last, state in _marked_ranges(batch.tree, marked):
                purpose: StatusPurpose = "revocation" if state is Status.REVOKED else "suspension"
                for position in range(offset + first, offset + last):
                    page, index = divmod(position, LIST_SIZE)
                    _set(bits[purpose][page], index)
        offset += len(batch.tree)
    return StatusLists(StatusPositions(ordered), bits)


def _marked_ranges(tree: MerkleTree, marked: Mapping[bytes, Status]) -> Iterator[tuple[int, int, Status]]:
    """The leaves (tree order, ``[first, last)``) under each node of `tree` in `marked`, with its state.

    Node ``j`` of level ``k`` (leaves are level 0) is over leaves ``j << k`` to ``(j + 1) << k``: a parent
    is at half its child's index, and a node promoted unchanged is over its child's leaves. A marked leaf
    is found by binary search; a marked node above them by searching each level's packed bytes for a few
    marks, by one pass over the levels for many."""
    layers: list[bytes] = tree._layers
    count = len(tree)
    for target, state in marked.items():
        place = tree.leaves._search(target)
        if place is not None:
            yield place, place + 1, state
    if len(marked) > _FEW_MARKS:
        for level, layer in enumerate(layers[1:], start=1):
            for node, at in enumerate(range(0, len(layer), 32)):
                found = marked.get(layer[at : at + 32])
                if found is not None:
                    yield node << level, min((node + 1) << level, count), found
        return
    for target, state in marked.items():
        for level, layer in enumerate(layers[1:], start=1):
            at = layer.find(target)
            while at >= 0:
                if at % 32 == 0:
                    node = at // 32
                    yield node << level, min((node + 1) << level, count), state
                at = layer.find(target, at + 1)


def _set(bitstring: bytearray, index: int) -> None:
    # The Recommendation counts from the left-most (most significant) bit of the first byte.
    bitstring[index // 8] |= 0x80 >> (index % 8)


def bit_is_set(bitstring: bytes | bytearray, index: int) -> bool:
    """Whether entry `index` of a decoded bitstring is set."""
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def encode_list(bitstring: bytes | bytearray) -> str:
    """GZIP then base64url without padding, multibase prefix ``u`` (reproducible: no time in the header)."""
    packed = gzip.compress(bytes(bitstring), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_list(encoded: str) -> bytes:
    """The bitstring an ``encodedList`` holds; `MalformedDocument` if it is not one."""
    if not encoded.startswith("u"):
        raise MalformedDocument("encodedList", "expected base64url multibase (u…)")
    try:
        packed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
        bitstring = gzip.decompress(packed)
    except (ValueError, OSError, EOFError) as error:
        raise MalformedDocument("encodedList", f"not GZIP in base64url: {error}") from None
    if len(bitstring) * 8 < LIST_SIZE:
        raise MalformedDocument("encodedList", f"{len(bitstring) * 8} entries, fewer than {LIST_SIZE}")
    return bitstring


def status_list_credential(
    *,
    base_url: str,
    purpose: StatusPurpose,
    page: int,
    bitstring: bytes | bytearray,
    key: SigningKey,
    issued_at: int,
    valid_for: int | None = None,
) -> dict[str, Any]:
    """A BitstringStatusListCredential for one page, signed by the operator's `key` at `issued_at`.

    `valid_for` (seconds) sets ``validUntil``: how long a relying party may use a cached copy.
    """
    url = status_list_url(base_url, purpose, page)
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": key.did,
        "validFrom": xsd_datetime(issued_at),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_list(bitstring),
        },
    }
    if valid_for is not None:
        credential["validUntil"] = xsd_datetime(issued_at + valid_for)
    return add_proof(credential, key, created=issued_at)
