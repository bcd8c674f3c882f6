"""Signed requests: an agency signer key's EIP-712 signature over an issuance or a status change, with what a
relayer needs to send it. A signed request is plain JSON (`model_dump_json`), so it can be made on a machine
that never touches the network and sent later by anyone (`credreg sign`, `credreg submit`; the format is in
docs/service.md), until its deadline."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field

from credreg.chain.eip712 import (
    ADDRESS,
    HEX32,
    AnyRequest,
    BatchLeavesRequest,
    CompactSignature,
    Domain,
    IssueRequest,
    StatusAction,
    StatusChangeRequest,
    recover,
    sign,
)

#: How long a request signed without an explicit deadline stays good for: long enough for a service's
#: outbox to relay it through a busy hour, short enough that a signature kept back is soon worthless.
DEFAULT_VALIDITY = 24 * 3600


class _Signed(BaseModel):
    """What every signed request has: its kind, the EIP-712 domain it was signed for, and the signer.

    The kind's own fields (`request`, then a proof or leaves, then `signature`) are declared by each kind, so
    that the JSON keeps the documented order (docs/service.md): `type`, `chain_id`, `registry`, `request`,
    the kind's extras, `signature`. A field declared here would come before all of them.
    """

    model_config = ConfigDict(frozen=True)

    type: str
    chain_id: int = Field(ge=1)
    registry: str = Field(pattern=ADDRESS)

    if TYPE_CHECKING:  # declared by each kind (see above)
        request: AnyRequest
        signature: CompactSignature

    @property
    def domain(self) -> Domain:
        return Domain(chain_id=self.chain_id, registry=self.registry)

    def signer(self) -> str:
        return recover(self.domain, self.request, self.signature)


class SignedIssue(_Signed):
    """An issuance request with its agency signature, ready for anyone to relay."""

    type: Literal["credreg.issue"] = "credreg.issue"
    request: IssueRequest
    signature: CompactSignature


class SignedStatusChange(_Signed):
    """A revoke / suspend / reinstate request with its agency signature and the target's merkle proof."""

    type: Literal["credreg.status-change"] = "credreg.status-change"
    request: StatusChangeRequest
    proof: list[str] = Field(default_factory=list, max_length=64)
    signature: CompactSignature


class SignedBatchLeaves(_Signed):
    """The leaves of a batch its agency issued straight to the ledger, signed by one of that agency's signer
    keys, so a service can answer for each certificate of the batch (`credreg batch upload`)."""

    type: Literal["credreg.batch-leaves"] = "credreg.batch-leaves"
    request: BatchLeavesRequest
    leaves: list[Annotated[str, Field(pattern=HEX32)]] = Field(min_length=1)
    signature: CompactSignature


def leaves_hash(leaves: Sequence[str]) -> str:
    """keccak256 of the leaves, 32 bytes each, concatenated in the order given."""
    return "0x" + keccak(b"".join(bytes.fromhex(leaf.removeprefix("0x")) for leaf in leaves)).hex()


def default_deadline(ledger_time: int | None = None, valid_for: int = DEFAULT_VALIDITY) -> int:
    """`valid_for` seconds from now, by the later of this machine's clock and the ledger's time."""
    return max(ledger_time or 0, int(time.time())) + valid_for


def sign_issue(signer: LocalAccount, domain: Domain, request: IssueRequest) -> SignedIssue:
    return SignedIssue(
        chain_id=domain.chain_id,
        registry=domain.registry,
        request=request,
        signature=sign(signer, domain, request),
    )


def sign_status_change(
    signer: LocalAccount, domain: Domain, request: StatusChangeRequest, proof: Sequence[str]
) -> SignedStatusChange:
    return SignedStatusChange(
        chain_id=domain.chain_id,
        registry=domain.registry,
        request=request,
        proof=list(proof),
        signature=sign(signer, domain, request),
    )


def sign_batch_leaves(
    signer: LocalAccount, domain: Domain, agency_id: int, root: str, leaves: Sequence[str]
) -> SignedBatchLeaves:
    request = BatchLeavesRequest(agency_id=agency_id, root=root.lower(), leaves_hash=leaves_hash(leaves))
    return SignedBatchLeaves(
        chain_id=domain.chain_id,
        registry=domain.registry,
        request=request,
        leaves=[leaf.lower() for leaf in leaves],
        signature=sign(signer, domain, request),
    )


__all__ = [
    "DEFAULT_VALIDITY",
    "BatchLeavesRequest",
    "IssueRequest",
    "SignedBatchLeaves",
    "SignedIssue",
    "SignedStatusChange",
    "StatusAction",
    "StatusChangeRequest",
    "default_deadline",
    "leaves_hash",
    "sign_batch_leaves",
    "sign_issue",
    "sign_status_change",
]
