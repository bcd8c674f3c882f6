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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias

from credreg.chain.states import Status
from credreg.documents.merkle import MerkleTree
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


@dataclass(frozen=True)
class Batch:
    """One ``CredentialIssued`` event with the batch's leaves (target hashes, any order, any hex form)."""

    agency_id: int
    root: str
    leaves: Sequence[str]
    block: int
    log_index: int
    tree: MerkleTree = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tree = MerkleTree(hash_bytes(leaf) for leaf in self.leaves)
        if tree.root != hash_bytes(self.root):
            raise DocumentError(
                f"the leaves given for batch 0x{hash_bytes(self.root).hex()} make another root"
            )
        object.__setattr__(self, "tree", tree)


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


def status_positions(batches: Iterable[Batch]) -> dict[str, int]:
    """Every leaf's position (``0x…`` target hash -> index); see the module docstring for the rule."""
    positions: dict[str, int] = {}
    offset = 0
    for batch in _ordered(batches):
        for place, leaf in enumerate(batch.tree.leaves):
            positions["0x" + leaf.hex()] = offset + place
        offset += len(batch.tree)
    return positions


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

    positions: Mapping[str, int]
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
    positions: dict[str, int] = {}
    offset = 0
    marked_by_agency: dict[int, dict[bytes, Status]] = {}
    for (agency_id, target), state in states.items():
        if state is not Status.NONE:
            marked_by_agency.setdefault(agency_id, {})[target] = state
    for batch in ordered:
        marked = marked_by_agency.get(batch.agency_id, {})
        for place, leaf in enumerate(batch.tree.leaves):
            position = offset + place
            positions["0x" + leaf.hex()] = position
            if not marked:
                continue
            found = {marked[node] for node in batch.tree.path(leaf) if node in marked}
            page, index = divmod(position, LIST_SIZE)
            if Status.REVOKED in found:
                _set(bits["revocation"][page], index)
            if Status.SUSPENDED in found:
                _set(bits["suspension"][page], index)
        offset += len(batch.tree)
    return StatusLists(positions, bits)


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
