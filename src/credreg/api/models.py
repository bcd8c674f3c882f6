"""The bodies the HTTP API takes and gives. Requests are the library's own signed models, so what an agency
signs with `credreg` or from Python is exactly what it POSTs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from credreg.chain.codec import LedgerEvent
from credreg.chain.eip712 import ADDRESS, HEX32, BatchLeavesRequest, CompactSignature
from credreg.registry import SignedBatchLeaves, SignedIssue, SignedStatusChange

Hex32 = Annotated[str, Field(pattern=HEX32, examples=["0x" + "ab" * 32])]
Address = Annotated[str, Field(pattern=ADDRESS, examples=["0x" + "12" * 20])]


def iso_ms(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None


# --- operations --------------------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class NodeHealthOut(BaseModel):
    """One of several JSON-RPC nodes the service fails over between."""

    url: str = Field(description="The node's URL, credentials masked.")
    healthy: bool = Field(description="Answering, or not tried since it last answered.")
    failures: int = Field(description="Requests it failed in a row.")
    refused: str | None = Field(None, description="Why it is not used: it serves another network.")
    last_error: str | None = None


class Readiness(BaseModel):
    ready: bool
    chain_reachable: bool
    contract_found: bool
    index_caught_up: bool
    head_block: int | None
    indexed_to: int | None
    detail: str
    diverged: bool = Field(
        False,
        description="The ledger lost blocks the service had read (a rewind or reorg) and the service has "
        "not re-synced yet: the index is read again, and the requests confirmed in those blocks re-checked.",
    )
    nodes: list[NodeHealthOut] | None = Field(
        None, description="With several nodes (CREDREG_RPC_URLS): how each is answering."
    )
    answers_as_of: int | None = Field(
        None,
        description="The block POST /v1/verify's ledger answers are as of, from the ledger cache (of the "
        "process that answered); null while they are read from the chain at its head.",
    )


# --- the registry ------------------------------------------------------------------------------------------


class RegistryInfo(BaseModel):
    chain_id: int
    registry: Address
    deployment_block: int
    deployment_transaction: str
    governor: Address
    contract_version: str
    compiler_version: str
    evm_version: str
    deployed_by_credreg: str = Field(description="credreg version that deployed the contract.")
    service_version: str
    deployed_at: datetime
    head_block: int
    rpc_urls: list[str] = Field(
        description="JSON-RPC endpoints a verifier may read the ledger from (`credreg verify --registry`)."
    )


class WordsOut(BaseModel):
    zh: str
    en: str


class ScopeOut(BaseModel):
    scope_id: Hex32
    index: int
    occupation_code: str
    level: int
    title: str


class ScopeList(BaseModel):
    scopes: list[ScopeOut]


AgencyStateName = Literal["active", "suspended", "revoked"]


class AgencyOut(BaseModel):
    agency_id: int
    name: str
    registration_code: str
    admin: Address
    state: AgencyStateName
    reason: int = Field(description="Reason code of the last suspension or of the revocation.")
    revocation_cutoff: int | None = Field(description="Credentials issued at or after this time are void.")


class AgencyList(BaseModel):
    agencies: list[AgencyOut]
    next_from_id: int | None = Field(description="Pass as from_id for the next page; null at the end.")


class AccreditationOut(BaseModel):
    scope_id: Hex32
    occupation_code: str
    level: int
    title: str
    valid_from: int
    valid_until: int = Field(description="Exclusive end in block-time seconds; 0 means open-ended.")
    active_now: bool


class SignerOut(BaseModel):
    address: Address
    index: int
    valid_from: int
    valid_until: int
    compromised_since: int = Field(description="0 when never reported compromised.")
    valid_now: bool


class EventOut(BaseModel):
    type: str = Field(description="The contract event's name, e.g. CredentialIssued.")
    block_number: int
    log_index: int
    block_hash: Hex32
    block_time: int
    transaction_hash: Hex32
    transaction_index: int
    agency_id: int | None
    root: Hex32 | None
    args: dict[str, Any]

    @classmethod
    def of(cls, event: LedgerEvent) -> EventOut:
        """The one conversion from the codec's `LedgerEvent` (its block time known) to the wire form."""
        if event.block_time is None:
            raise ValueError(f"{event.name} at block {event.block_number} has no block time")
        agency, root = event.args.get("agencyId"), event.args.get("root")
        return cls(
            type=event.name,
            block_number=event.block_number,
            log_index=event.log_index,
            block_hash=event.block_hash,
            block_time=event.block_time,
            transaction_hash=event.transaction_hash,
            transaction_index=event.transaction_index,
            agency_id=agency if isinstance(agency, int) else None,
            root=root.lower() if isinstance(root, str) else None,
            args=dict(event.args),
        )


class AgencyDetail(AgencyOut):
    accreditations: list[AccreditationOut]
    signers: list[SignerOut]
    history: list[EventOut] = Field(description="The agency's events in ledger order (from the event index).")
    indexed_to: int = Field(description="History and signers include events up to this block.")


# --- relaying signed requests ----------------------------------------------------------------------------


class IssuanceIn(SignedIssue):
    """A signed issuance; `leaves` optionally lists the batch's document target hashes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    leaves: list[Hex32] | None = Field(
        None,
        description="Target hashes of the batch's documents, so GET /v1/credentials can answer for each.",
    )


class StatusChangeIn(SignedStatusChange):
    """A signed revoke (action 1), suspend (2) or reinstate (3)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class BatchLeavesIn(SignedBatchLeaves):
    """A directly issued batch's leaves, signed by one of its agency's signer keys (see docs/service.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class BatchListedOut(BaseModel):
    agency_id: int
    root: Hex32
    leaves: int = Field(description="How many leaves the batch has.")
    added: int = Field(description="How many of them were new here (0 when the batch was known already).")


class BatchUploadIn(BaseModel):
    """The start of a batch's leaves sent in parts: the signed `BatchLeaves` request of `POST /v1/batches`
    without its leaves, and how many leaves will follow."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chain_id: int = Field(ge=1)
    registry: str = Field(pattern=ADDRESS)
    request: BatchLeavesRequest
    signature: CompactSignature
    count: int = Field(ge=1, description="How many leaves the parts will carry, in the order signed for.")


class UploadPartIn(BaseModel):
    """One part of a batch upload: `part_leaves` leaves (fewer in the last part), in the order signed for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    leaves: list[str] = Field(
        min_length=1, description="0x-hex bytes32 leaves; none sent before in this upload."
    )


class BatchUploadOut(BaseModel):
    id: str
    status: Literal["open", "listed"] = Field(
        description="`open` while parts come in; `listed` once the leaves are checked and served."
    )
    agency_id: int
    root: Hex32
    count: int = Field(description="How many leaves the upload holds once complete.")
    part_leaves: int = Field(description="Leaves per part (the last part holds the rest).")
    parts_total: int
    parts: int = Field(description="Parts acknowledged: 1 to `parts` are kept; resume from `next_part`.")
    received: int = Field(description="Leaves kept so far.")
    next_part: int | None = Field(description="The part to send next; none once every part is in.")
    location: str = Field(description="Where to follow the upload.")
    expires_at: datetime | None = Field(
        description="When an open upload no part reaches is discarded; none once listed."
    )
    added: int | None = Field(
        None, description="Once listed: how many of the leaves were new here (0 when known already)."
    )
    repeated: bool = Field(False, description="True when the same signed upload had been opened already.")


class BatchLeavesPage(BaseModel):
    agency_id: int
    root: Hex32
    count: int = Field(description="How many leaves of the batch this service knows.")
    leaves: list[Hex32] = Field(description="Leaves in merkle tree order (ascending), after `after`.")
    next_after: Hex32 | None = Field(description="Pass as `after` for the next page; none on the last page.")


RequestState = Literal["pending", "submitted", "confirmed", "failed"]


class Accepted(BaseModel):
    id: str
    kind: Literal["issue", "status-change"]
    status: RequestState
    location: str = Field(description="Where to follow the request.")
    repeated: bool = Field(description="True when the same signed request had already been accepted.")


class RequestError(BaseModel):
    name: str = Field(description="The contract's custom error, or the kind of failure.")
    message: str
    args: dict[str, Any] | None = None


class RequestOut(BaseModel):
    id: str
    kind: Literal["issue", "status-change"]
    status: RequestState
    root: Hex32
    target: Hex32 | None
    action: int | None
    nonce: int | None
    signer: Address
    agency_id: int
    tx_hash: Hex32 | None
    block_number: int | None
    block_hash: Hex32 | None
    error: RequestError | None
    attempts: int
    last_problem: str | None = Field(description="Why the last attempt did not finish, while still open.")
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    finished_at: datetime | None


# --- checking credentials ------------------------------------------------------------------------------------


class RecordOut(BaseModel):
    agency_id: int
    scope_id: Hex32
    signer: Address
    issued_at: int
    valid_until: int


class StatusChangeOut(BaseModel):
    target: Hex32 = Field(
        description="The hash whose status is set: a certificate, a part of the batch, or the root."
    )
    state: Literal["revoked", "suspended"]
    reason: int = Field(description="Reason code; GET /v1/labels has them as words.")
    since: int
    known_leaf: bool = Field(description="True if the target is a certificate of a batch this service knows.")


class BatchOut(BaseModel):
    leaves_known: int | None = Field(
        description="Certificates this service knows under the root; null when it was not given the leaves."
    )
    status_changes: list[StatusChangeOut] = Field(
        description="Hashes under the root that are revoked or suspended now, from the ledger's events."
    )


class CredentialOut(BaseModel):
    hash: Hex32
    kind: Literal["root", "leaf"]
    root: Hex32
    proof: list[Hex32]
    proof_known: bool = Field(
        description="False when the answer comes from the certificate's own status change, without its proof."
    )
    valid: bool | None = Field(
        description="For a certificate: whether the ledger holds it valid. Null for a batch root: a batch is "
        "not a certificate, and some of its certificates may be revoked (see `batch`)."
    )
    verdict: str = Field(
        description="valid, not-issued, root-revoked, leaf-suspended, expired, ...; for a root, the answer for "
        "the batch as a whole (root revoked or suspended, agency, signer, expiry), not for each certificate."
    )
    decided_by: Hex32 | None = Field(
        description="The hash whose status decided the verdict; null if none did."
    )
    reason: int
    since: int
    record: RecordOut
    batch: BatchOut | None = Field(None, description="For a root: what is known about its certificates.")
    checked_at: int = Field(description="Time of the block the answer was read at.")
    checked_block: int = Field(description="The block the answer was read at.")


# --- auditing ------------------------------------------------------------------------------------------------


class EventPage(BaseModel):
    events: list[EventOut]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null when this is the last."
    )
    indexed_to: int = Field(description="The index holds every event up to this block.")
