"""What the ledger already holds of a request: its effect, found by the contract's views and its logs.

A request may have reached the ledger before a crash, through this or another instance, or through someone
else entirely. Before anything is sent, the relay asks here: the request's own effect (`OnChain`, where),
another effect that rules it out for good (`Superseded`: the root issued otherwise, the target's nonce used
by another change), or nothing yet (None). Logs are read from the chain itself, since the event index may
trail it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from credreg.chain.logs import read_logs
from credreg.errors import ContractRevert
from credreg.registry import Registry, SignedIssue, SignedStatusChange
from credreg.service.db import OutboxRow

__all__ = ["OnChain", "Superseded", "on_chain"]


@dataclass(frozen=True)
class OnChain:
    """A request found already effective on the ledger: where."""

    tx_hash: str
    block_number: int
    block_hash: str


@dataclass(frozen=True)
class Superseded:
    """The ledger holds a different effect for the request's root or nonce: it can never apply."""

    error: ContractRevert


def on_chain(
    registry: Registry, row: OutboxRow, signed: SignedIssue | SignedStatusChange
) -> OnChain | Superseded | None:
    """Whether the ledger holds `signed`'s effect (see the module docstring)."""
    if isinstance(signed, SignedIssue):
        return _issue_on_chain(registry, row, signed)
    return _status_change_on_chain(registry, row, signed)


def _issue_on_chain(registry: Registry, row: OutboxRow, signed: SignedIssue) -> OnChain | Superseded | None:
    req = signed.request
    record = registry.record(row.agency_id, req.root)
    if not record.issued:
        return None
    for log_entry in _logs(registry, "CredentialIssued", row.agency_id, req.root):
        args = log_entry["args"]
        if (
            to_checksum_address(args["signer"]) == row.signer
            and str(args["scopeId"]).lower() == req.scope_id
            and int(args["validUntil"]) == req.valid_until
        ):
            return OnChain(log_entry["tx_hash"], log_entry["block_number"], log_entry["block_hash"])
    return Superseded(
        ContractRevert(
            "CredentialRegistryAlreadyIssued",
            {"agencyId": row.agency_id, "root": req.root, "issuedAt": record.issued_at},
            f"the root was already issued by another request (signer {record.signer})",
        )
    )


def _status_change_on_chain(
    registry: Registry, row: OutboxRow, signed: SignedStatusChange
) -> OnChain | Superseded | None:
    req = signed.request
    status = registry.status_of(req.agency_id, req.target)
    if status.nonce <= req.nonce:
        return None
    for log_entry in _logs(registry, "CredentialStatusChanged", req.agency_id, req.root):
        args = log_entry["args"]
        if str(args["target"]).lower() != req.target or int(args["nonce"]) != req.nonce + 1:
            continue
        if to_checksum_address(args["actor"]) == row.signer and int(args["action"]) == int(req.action):
            return OnChain(log_entry["tx_hash"], log_entry["block_number"], log_entry["block_hash"])
        break
    return Superseded(
        ContractRevert(
            "Superseded",
            {"target": req.target, "nonce": req.nonce},
            f"another change used nonce {req.nonce} of the target first; sign again with nonce {status.nonce}",
        )
    )


def _logs(registry: Registry, event: str, agency_id: int, root: str) -> list[dict[str, Any]]:
    """The registry's `event` logs about an agency's `root`, read from the chain (the index may trail)."""
    head = registry.head()
    start = registry.manifest.deployment_block
    topics = [registry.events.topic_of(event), root, "0x" + f"{agency_id:064x}"]
    found: list[dict[str, Any]] = []
    for _, _, logs in read_logs(registry.w3, registry.address, start, head, topics=topics):
        for raw in logs:
            decoded = registry.events.decode(dict(raw))
            if decoded is None:
                continue
            found.append(
                {
                    "args": decoded.args,
                    "tx_hash": decoded.transaction_hash,
                    "block_number": decoded.block_number,
                    "block_hash": HexBytes(raw["blockHash"]).to_0x_hex(),
                }
            )
    return found
