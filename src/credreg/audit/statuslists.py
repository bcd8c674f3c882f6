"""Recomputing a service's published status lists from the ledger, and comparing.

The auditor reads the registry's events from the chain itself (not from the service's index), takes only
the batches' leaves from the service (each batch's leaves are checked against its root on the ledger, so
the service cannot change which certificate a position is), rebuilds both lists as of the block the
service says its lists reflect, and compares them bit for bit with the served credentials, whose proofs it
also checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from credreg.chain.events import iter_events
from credreg.errors import ChainUnreachable, DocumentError
from credreg.registry import Registry
from credreg.vc.keys import did_key
from credreg.vc.ledger import STATUS_EVENTS, lists_from_events
from credreg.vc.proof import check_proof
from credreg.vc.statuslist import LIST_SIZE, STATUS_PURPOSES, bit_is_set, decode_list

__all__ = ["ListDifference", "StatusListAudit", "audit_status_lists"]

MAX_DIFFERENCES = 1_000  # positions listed per list; beyond that only counted


@dataclass(frozen=True)
class ListDifference:
    """A position whose bit the service publishes differently from the ledger's."""

    purpose: str
    position: int
    published: bool
    recomputed: bool


@dataclass
class StatusListAudit:
    """What was compared, and every difference or problem found."""

    service: str
    as_of_block: int
    operator_key: str
    batches: int
    certificates: int
    set_bits: dict[str, int] = field(default_factory=dict)
    differences: list[ListDifference] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    without_positions: list[tuple[int, str]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences and not self.problems


def _get(client: httpx.Client, url: str) -> httpx.Response:
    try:
        reply = client.get(url)
    except httpx.HTTPError as error:
        raise ChainUnreachable(f"{url} does not answer: {error}") from None
    if reply.status_code != 200:
        raise ChainUnreachable(f"{url} answered {reply.status_code}: {reply.text[:300]}")
    return reply


def audit_status_lists(
    registry: Registry, service: str, *, trusted_keys: Sequence[str] = (), timeout: float = 60.0
) -> StatusListAudit:
    """Compare `service`'s published lists with lists rebuilt from `registry`'s events (module docstring).

    `trusted_keys` are the operator's did:keys; when given, a list signed by another key is a problem.
    """
    base = service.rstrip("/")
    with httpx.Client(timeout=timeout) as client:
        published = _get(client, f"{base}/v1/status/batches").json()
        block = int(published["as_of_block"])
        leaves = {
            (int(b["agency_id"]), str(b["root"]).lower()): [str(x) for x in b["leaves"]]
            for b in published["batches"]
        }
        audit = StatusListAudit(
            service=base,
            as_of_block=block,
            operator_key=str(published["operator_key"]),
            batches=len(leaves),
            certificates=sum(len(v) for v in leaves.values()),
        )
        if trusted_keys and audit.operator_key not in trusted_keys:
            audit.problems.append(f"the lists are signed by {audit.operator_key}, not a trusted operator key")
        names = set(STATUS_EVENTS)
        events = [
            (e.name, e.block_number, e.log_index, e.args)
            for e in iter_events(
                registry.w3, registry.address, registry.events, registry.manifest.deployment_block, block
            )
            if e.name in names
        ]
        try:
            rebuilt = lists_from_events(events, lambda a, r: leaves.get((a, r.lower())))
        except DocumentError as error:
            audit.problems.append(f"the service's leaves do not fit the ledger: {error}")
            return audit
        audit.without_positions = list(rebuilt.unknown)
        served = {(b["agency_id"], str(b["root"]).lower(), b["first_position"]) for b in published["batches"]}
        offset = 0
        for batch in rebuilt.batches:
            if (batch.agency_id, batch.root.lower(), offset) not in served:
                audit.problems.append(
                    f"batch {batch.root} of agency {batch.agency_id} does not start at {offset}"
                )
            offset += len(batch.tree)
        known = {(b.agency_id, b.root.lower()) for b in rebuilt.batches}
        for agency_id, root in leaves:
            if (agency_id, root) not in known:
                audit.problems.append(
                    f"the service lists batch {root} of agency {agency_id}, not on the ledger"
                )
        for purpose in STATUS_PURPOSES:
            audit.set_bits[purpose] = 0
            for page in range(rebuilt.lists.pages):
                url = f"{base}/v1/status/{purpose}/{page}"
                credential = _get(client, url).json()
                bits = _checked_bits(credential, purpose, audit)
                if bits is None:
                    continue
                expected = rebuilt.lists.bits[purpose][page]
                audit.set_bits[purpose] += sum(bin(byte).count("1") for byte in expected)
                if bytes(bits[: len(expected)]) == bytes(expected):
                    continue
                for index in range(LIST_SIZE):
                    was, want = bit_is_set(bits, index), bit_is_set(expected, index)
                    if was != want and len(audit.differences) < MAX_DIFFERENCES:
                        audit.differences.append(ListDifference(purpose, page * LIST_SIZE + index, was, want))
    return audit


def _checked_bits(credential: Any, purpose: str, audit: StatusListAudit) -> bytes | None:
    try:
        check = check_proof(credential)
        if did_key(check.public_key) != audit.operator_key:
            audit.problems.append(f"the {purpose} list is signed by {check.verification_method}")
        subject = credential["credentialSubject"]
        if subject.get("statusPurpose") != purpose:
            audit.problems.append(f"the {purpose} list says it is a {subject.get('statusPurpose')} list")
        return decode_list(subject["encodedList"])
    except (DocumentError, KeyError, TypeError) as error:
        audit.problems.append(f"the {purpose} list does not verify: {error}")
        return None
