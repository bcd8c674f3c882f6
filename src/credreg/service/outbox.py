"""The durable outbox: agency-signed requests the service accepted, relayed to the ledger exactly once.

Accepting: the request is checked (domain, signature, then the contract itself through an `eth_call` of
the very transaction that will be sent), written and committed; only then does the caller answer 202.

Relaying (a worker thread, `run_once` in a loop): a pending request is first looked for on the ledger (it may
have been sent before a crash, by this or another instance); if it is not there it is sent and its
transaction hash recorded before any waiting; a submitted request is followed until its receipt is
`confirmations` blocks deep. A transaction the node no longer knows (a restarted node, a dropped
transaction), or keeps queued behind a nonce gap, is looked for on the ledger again and resent only if it had
no effect. Roots are write-once and status changes carry the target's nonce, so the contract itself refuses
any second effect: "exactly once on the ledger" holds even when two instances race.

After a rewind or reorg (found by the event index, recorded as a `LedgerRewind`), every request confirmed in
a block after the common ancestor is re-opened and goes through the same steps: looked for on the ledger,
and sent again, with the same signed request, only if the ledger lost it. A signature whose deadline has
passed meanwhile cannot be sent again: that request fails with a problem saying to sign it again. The
relayer's nonce is read from the chain again, as it is after any nonce error.

Several instances may share one database: a row is worked on under a short lease held by `worker_id`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from web3.exceptions import TransactionNotFound
from web3.types import TxParams, TxReceipt

from credreg.chain.client import with_retries
from credreg.chain.logs import read_logs
from credreg.chain.reverts import as_contract_revert
from credreg.documents.merkle import MerkleTree, verify_proof
from credreg.errors import (
    ChainUnreachable,
    ContractRevert,
    CredregError,
    DocumentError,
    TransactionFailed,
)
from credreg.hashes import hash_bytes
from credreg.registry import Registry, Relayer, SignedIssue, SignedStatusChange
from credreg.service.db import (
    BatchLeaf,
    Database,
    LedgerRewind,
    OutboxRow,
    RewindRecheck,
    keep_block,
    now_ms,
)
from credreg.service.limits import AgencyLimits

log = logging.getLogger(__name__)

Kind = Literal["issue", "status-change"]
ISSUE: Kind = "issue"
STATUS_CHANGE: Kind = "status-change"

PENDING = "pending"
SUBMITTED = "submitted"
CONFIRMED = "confirmed"
FAILED = "failed"
OPEN_STATES = (PENDING, SUBMITTED)

LEASE_MS = 60_000
UNREACHABLE_RETRY_MS = 1_000
# A sent transaction still unmined after this long is checked for a nonce gap (a nonce read before a rewind).
GAP_CHECK_MS = 2_000
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
GREGORIAN_YEAR = 31_556_952  # seconds in the calendar's average year (365.2425 days)
SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


class RequestRefused(CredregError):
    """A signed request the service will not accept; `problem` is a stable slug, `field` where it is wrong."""

    def __init__(
        self,
        problem: str,
        field: str | None,
        detail: str,
        *,
        conflict: bool = False,
        contract_error: ContractRevert | None = None,
    ) -> None:
        super().__init__(detail)
        self.problem = problem
        self.field = field
        self.detail = detail
        self.conflict = conflict
        self.contract_error = contract_error


# The contract's refusals, as what the client got wrong: (problem slug, request field, is a conflict).
_REVERT_FIELDS: dict[str, tuple[str, str | None, bool]] = {
    "CredentialRegistryZeroRoot": ("invalid-root", "request.root", False),
    "CredentialRegistryAlreadyIssued": ("already-issued", "request.root", True),
    "CredentialRegistryNotIssued": ("not-issued", "request.root", False),
    "CredentialRegistryInvalidValidUntil": ("invalid-valid-until", "request.valid_until", False),
    "CredentialRegistryInvalidSignature": ("invalid-signature", "signature", False),
    "CredentialRegistryUnknownSigner": ("unknown-signer", "signature", False),
    "CredentialRegistrySignerNotValid": ("signer-not-valid", "signature", False),
    "CredentialRegistrySignerCompromised": ("signer-compromised", "signature", False),
    "CredentialRegistryAgencyNotActive": ("agency-not-active", "signature", False),
    "CredentialRegistryNotAccredited": ("not-accredited", "request.scope_id", False),
    "CredentialRegistryExpiredSignature": ("expired-signature", "request.deadline", False),
    "CredentialRegistryInvalidProof": ("invalid-proof", "proof", False),
    "CredentialRegistryInvalidAction": ("invalid-action", "request.action", False),
    "CredentialRegistryInvalidTransition": ("invalid-transition", "request.action", True),
    "CredentialRegistryStatusHeldByGovernor": ("status-held-by-governor", "request.target", True),
}


def refusal_of(revert: ContractRevert) -> RequestRefused:
    problem, field, conflict = _REVERT_FIELDS.get(revert.name, ("refused-by-contract", None, False))
    return RequestRefused(
        problem,
        field,
        f"the registry contract refuses this request: {revert}",
        conflict=conflict,
        contract_error=revert,
    )


def _json_arg(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, str) and _ADDRESS.fullmatch(value):
        return to_checksum_address(value)
    return value


def json_args(args: dict[str, Any]) -> dict[str, Any]:
    """Contract error arguments as JSON: bytes as 0x-hex, addresses checksummed, the rest as it is."""
    return {k: _json_arg(v) for k, v in args.items()}


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


def _lower(value: str) -> str:
    return value.lower()


def normalise_issue(signed: SignedIssue) -> SignedIssue:
    req = signed.request
    return SignedIssue(
        chain_id=signed.chain_id,
        registry=to_checksum_address(signed.registry),
        request=req.model_copy(update={"root": _lower(req.root), "scope_id": _lower(req.scope_id)}),
        signature=signed.signature.model_copy(
            update={"r": _lower(signed.signature.r), "vs": _lower(signed.signature.vs)}
        ),
    )


def normalise_status_change(signed: SignedStatusChange) -> SignedStatusChange:
    req = signed.request
    return SignedStatusChange(
        chain_id=signed.chain_id,
        registry=to_checksum_address(signed.registry),
        request=req.model_copy(update={"root": _lower(req.root), "target": _lower(req.target)}),
        proof=[_lower(p) for p in signed.proof],
        signature=signed.signature.model_copy(
            update={"r": _lower(signed.signature.r), "vs": _lower(signed.signature.vs)}
        ),
    )


def request_key(kind: Kind, signed: SignedIssue | SignedStatusChange, signer: str) -> str:
    """Same kind, domain, signed fields and signer: the same request, whatever bytes the signature has."""
    body: dict[str, Any] = {
        "kind": kind,
        "chain_id": signed.chain_id,
        "registry": signed.registry.lower(),
        "request": signed.request.model_dump(mode="json"),
        "signer": signer.lower(),
    }
    if isinstance(signed, SignedStatusChange):
        body["proof"] = list(signed.proof)
    return "0x" + keccak(text=json.dumps(body, sort_keys=True, separators=(",", ":"))).hex()


def id_of(key: str) -> str:
    return str(uuid.UUID(bytes=bytes.fromhex(key[2:34])))


class Outbox:
    """Accepts signed requests into the database and relays them (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        registry: Registry,
        relayer: Relayer,
        *,
        worker_id: str,
        confirmations: int = 0,
        max_attempts: int = 5,
        poll_seconds: float = 0.5,
        max_leaves: int = 10_000,
        request_horizon: int = 30 * 86_400,
        valid_until_horizon_years: int = 100,
        limits: AgencyLimits | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.relayer = relayer
        self.worker_id = worker_id
        self.confirmations = confirmations
        self.max_attempts = max_attempts
        self.poll_ms = int(poll_seconds * 1000)
        self.max_leaves = max_leaves
        self.request_horizon = request_horizon
        self.valid_until_horizon_years = valid_until_horizon_years
        self.limits = limits
        self.wake = threading.Event()

    # --- accepting -----------------------------------------------------------------------------------

    def get(self, request_id: str) -> OutboxRow | None:
        with self.db.session() as session:
            return session.get(OutboxRow, request_id)

    def _existing(self, key: str) -> OutboxRow | None:
        with self.db.session() as session:
            return session.scalars(select(OutboxRow).where(OutboxRow.request_key == key)).first()

    def _check_domain(self, chain_id: int, registry: str) -> None:
        if chain_id != self.registry.domain.chain_id:
            raise RequestRefused(
                "wrong-domain",
                "chain_id",
                f"signed for chain {chain_id}, but this service relays to chain {self.registry.domain.chain_id}",
            )
        if to_checksum_address(registry) != self.registry.address:
            raise RequestRefused(
                "wrong-domain",
                "registry",
                f"signed for registry {registry}, but this service relays to {self.registry.address}",
            )

    @staticmethod
    def _recover(signed: SignedIssue | SignedStatusChange) -> str:
        s_value = int(signed.signature.vs, 16) & ((1 << 255) - 1)
        if int(signed.signature.r, 16) == 0 or s_value == 0:
            raise RequestRefused("invalid-signature", "signature", "r and s of a signature are never zero")
        if s_value > SECP256K1_HALF_N:
            raise RequestRefused(
                "invalid-signature",
                "signature.vs",
                "the signature's s value is in the upper half (not canonical)",
            )
        try:
            return to_checksum_address(signed.signer())
        except Exception as exc:  # eth-keys raises several types for unusable signatures
            raise RequestRefused(
                "invalid-signature", "signature", f"the signature does not recover to any key: {exc}"
            ) from exc

    def _simulate(self, tx: TxParams) -> int:
        """Run the transaction as a call against the latest block: the contract's own checks, nothing sent.
        Returns the gas it is estimated to use, for the agency's gas quota."""
        call: dict[str, Any] = {"from": self.relayer.sender.address, **cast(dict[str, Any], tx)}
        try:
            with_retries(
                lambda: self.registry.w3.eth.call(cast(TxParams, call)),
                what="eth_call",
                url=self.registry.url,
            )
            return self.relayer.sender.estimate_gas(call)
        except ChainUnreachable:
            raise
        except ContractRevert as exc:
            raise refusal_of(exc) from exc
        except Exception as exc:
            revert = as_contract_revert(exc, self.registry.abi)
            if revert is None:
                raise
            raise refusal_of(revert) from exc

    def _agency_of(self, signer: str) -> int:
        """The agency whose key `signer` is (0: none), after counting the request against its rate limit."""
        agency_id = self.registry.signer(signer).agency_id
        if self.limits is not None:
            self.limits.count_request(agency_id)
        return agency_id

    def _check_quota(self, agency_id: int, gas: int) -> None:
        if self.limits is not None:
            self.limits.check_quota(agency_id, gas)

    def accept_issue(
        self, signed: SignedIssue, leaves: Sequence[str] | None = None
    ) -> tuple[OutboxRow, bool]:
        """Check and record an issuance; returns the row and whether it is new (False: a repeat)."""
        signed = normalise_issue(signed)
        self._check_domain(signed.chain_id, signed.registry)
        signer = self._recover(signed)
        agency_id = self._agency_of(signer)
        key = request_key(ISSUE, signed, signer)
        existing = self._existing(key)
        if existing is not None:
            return self._repeat(existing, self.relayer.issue_tx(signed)), False
        now = self._check_deadline(signed.request.deadline)
        self._check_valid_until(signed.request.valid_until, now)
        leaf_list = self._check_leaves(signed.request.root, leaves)
        with self.db.session() as session:
            # Per agency: another agency's request for the same hash (a squat) must not block this one.
            other = session.scalars(
                select(OutboxRow).where(
                    OutboxRow.kind == ISSUE,
                    OutboxRow.agency_id == agency_id,
                    OutboxRow.root == signed.request.root,
                    OutboxRow.status != FAILED,
                )
            ).first()
        if other is not None:
            raise RequestRefused(
                "already-requested",
                "request.root",
                f"request {other.id} for this root is already {other.status}",
                conflict=True,
            )
        gas = self._simulate(self.relayer.issue_tx(signed))
        self._check_quota(agency_id, gas)
        row = self._new_row(
            key,
            ISSUE,
            signed,
            signer,
            agency_id,
            root=signed.request.root,
            target=None,
            action=None,
            nonce=None,
            gas=gas,
        )
        return self._insert(
            row, [BatchLeaf(agency_id=agency_id, root=signed.request.root, leaf=leaf) for leaf in leaf_list]
        )

    def accept_status_change(self, signed: SignedStatusChange) -> tuple[OutboxRow, bool]:
        """Check and record a revoke / suspend / reinstate; returns the row and whether it is new."""
        signed = normalise_status_change(signed)
        self._check_domain(signed.chain_id, signed.registry)
        signer = self._recover(signed)
        self._agency_of(signer)
        key = request_key(STATUS_CHANGE, signed, signer)
        existing = self._existing(key)
        if existing is not None:
            return self._repeat(existing, self.relayer.status_change_tx(signed)), False
        req = signed.request
        self._check_deadline(req.deadline)
        if not verify_proof(
            hash_bytes(req.target), [hash_bytes(p) for p in signed.proof], hash_bytes(req.root)
        ):
            raise RequestRefused(
                "invalid-proof", "proof", "the proof does not lead from the target to the root"
            )
        current = self.registry.status_of(req.agency_id, req.target).nonce
        if current != req.nonce:
            raise RequestRefused(
                "stale-nonce",
                "request.nonce",
                f"the target's nonce on the ledger is {current}, not {req.nonce}: sign again with nonce {current}",
                conflict=True,
            )
        with self.db.session() as session:
            other = session.scalars(
                select(OutboxRow).where(
                    OutboxRow.kind == STATUS_CHANGE,
                    OutboxRow.agency_id == req.agency_id,
                    OutboxRow.target == req.target,
                    OutboxRow.nonce == req.nonce,
                    OutboxRow.status.in_(OPEN_STATES),
                )
            ).first()
        if other is not None:
            raise RequestRefused(
                "already-requested",
                "request.nonce",
                f"request {other.id} already changes this target at nonce {req.nonce}",
                conflict=True,
            )
        gas = self._simulate(self.relayer.status_change_tx(signed))
        self._check_quota(req.agency_id, gas)
        row = self._new_row(
            key,
            STATUS_CHANGE,
            signed,
            signer,
            req.agency_id,
            root=req.root,
            target=req.target,
            action=int(req.action),
            nonce=req.nonce,
            gas=gas,
        )
        return self._insert(row, [])

    def _repeat(self, row: OutboxRow, tx: TxParams) -> OutboxRow:
        """The same request again: its row. A failed one is tried afresh if the contract would take it now."""
        if row.status != FAILED:
            return row
        gas = self._simulate(tx)
        self._check_quota(row.agency_id, gas)  # a re-opened request is one more transaction to pay for
        with self.db.session() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row.id, OutboxRow.status == FAILED)
                .values(
                    status=PENDING,
                    attempts=0,
                    next_attempt_ms=0,
                    tx_hash=None,
                    block_number=None,
                    block_hash=None,
                    error_name=None,
                    error_message=None,
                    error_args=None,
                    last_problem=f"re-opened after failing: {row.error_message}"[:2000],
                    finished_ms=None,
                    updated_ms=now_ms(),
                    # Counted against today's quota from now, at its new estimate.
                    created_ms=now_ms(),
                    gas_estimate=gas,
                    gas_used=None,
                )
            )
        self.wake.set()
        return self.get(row.id) or row

    def _check_deadline(self, deadline: int) -> int:
        """A signed request may be kept for relaying up to `request_horizon` seconds, never longer: a
        signature good for years is one that whoever holds it can play whenever it suits them."""
        now = max(int(time.time()), self.registry.block_time())
        if deadline < now:
            raise RequestRefused(
                "expired-signature", "request.deadline", f"the deadline {deadline} has passed; sign again"
            )
        if deadline > now + self.request_horizon:
            raise RequestRefused(
                "deadline-too-far",
                "request.deadline",
                f"the deadline is {deadline - now} s away; this service takes requests good for at most "
                f"{self.request_horizon} s ({self.request_horizon // 86_400} days): sign with an earlier deadline",
            )
        return now

    def _check_valid_until(self, valid_until: int, now: int) -> None:
        """A validity date centuries ahead is a typing error (a year 2301 for 2031), not a credential."""
        if valid_until > now + self.valid_until_horizon_years * GREGORIAN_YEAR:
            raise RequestRefused(
                "valid-until-too-far",
                "request.valid_until",
                f"the validity date {valid_until} is more than {self.valid_until_horizon_years} years ahead; "
                f"check the date "
                f"(0 means the credential does not expire)",
            )

    def _check_leaves(self, root: str, leaves: Sequence[str] | None) -> list[str]:
        if not leaves:
            return []
        if len(leaves) > self.max_leaves:
            raise RequestRefused("batch-too-large", "leaves", f"at most {self.max_leaves} leaves per request")
        try:
            tree = MerkleTree(hash_bytes(leaf) for leaf in leaves)
        except DocumentError as exc:
            raise RequestRefused("invalid-leaves", "leaves", str(exc)) from exc
        if "0x" + tree.root.hex() != root:
            raise RequestRefused(
                "invalid-leaves",
                "leaves",
                f"the leaves' merkle root is 0x{tree.root.hex()}, not the request's root",
            )
        return ["0x" + leaf.hex() for leaf in tree.leaves]

    def _new_row(
        self,
        key: str,
        kind: Kind,
        signed: SignedIssue | SignedStatusChange,
        signer: str,
        agency_id: int,
        *,
        root: str,
        target: str | None,
        action: int | None,
        nonce: int | None,
        gas: int,
    ) -> OutboxRow:
        now = now_ms()
        return OutboxRow(
            id=id_of(key),
            request_key=key,
            kind=kind,
            status=PENDING,
            root=root,
            target=target,
            action=action,
            nonce=nonce,
            signer=signer,
            agency_id=agency_id,
            payload=signed.model_dump_json(),
            attempts=0,
            next_attempt_ms=0,
            owner=None,
            lease_until_ms=0,
            created_ms=now,
            updated_ms=now,
            gas_estimate=gas,
        )

    def _insert(self, row: OutboxRow, leaves: list[BatchLeaf]) -> tuple[OutboxRow, bool]:
        try:
            with self.db.session() as session:
                session.add(row)
                session.flush()  # the request row first: leaves are only kept for an accepted root
                session.add_all(leaves)
        except IntegrityError:
            # The same request arrived twice at once; the first one's row is the answer for both.
            existing = self._existing(row.request_key)
            if existing is None:
                raise
            return existing, False
        self.wake.set()
        return row, True

    # --- batch leaves ---------------------------------------------------------------------------------

    def roots_of_leaf(self, leaf: str) -> list[tuple[int, str]]:
        """(agency, root) of every relayed batch that has `leaf` as a leaf."""
        with self.db.session() as session:
            rows = session.execute(
                select(BatchLeaf.agency_id, BatchLeaf.root).where(BatchLeaf.leaf == leaf.lower())
            ).all()
            return [(int(agency_id), str(root)) for agency_id, root in rows]

    def leaves_of(self, agency_id: int, root: str) -> list[str]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(BatchLeaf.leaf).where(
                        BatchLeaf.agency_id == agency_id, BatchLeaf.root == root.lower()
                    )
                ).all()
            )

    def open_issuance_for(self, hash_: str) -> str | None:
        """The id of an issuance not yet on the ledger whose root is `hash_` or has `hash_` as a leaf."""
        roots = [hash_.lower(), *(root for _agency, root in self.roots_of_leaf(hash_))]
        with self.db.session() as session:
            return session.scalars(
                select(OutboxRow.id).where(
                    OutboxRow.kind == ISSUE, OutboxRow.root.in_(roots), OutboxRow.status.in_(OPEN_STATES)
                )
            ).first()

    # --- relaying ------------------------------------------------------------------------------------

    def run_once(self, limit: int = 32) -> int:
        """Move every due request one step; return how many were worked on."""
        self.recheck_rewinds()
        claimed = self.claim(limit)
        for request_id in claimed:
            try:
                self._advance(request_id)
            except ChainUnreachable as exc:
                self._retry_later(request_id, UNREACHABLE_RETRY_MS, f"chain unreachable: {exc}")
            except Exception as exc:  # one bad row must not stop the others
                log.exception("outbox request %s could not be advanced", request_id)
                self._retry_later(request_id, UNREACHABLE_RETRY_MS, f"{type(exc).__name__}: {exc}")
        return len(claimed)

    def open_count(self) -> int:
        with self.db.session() as session:
            return len(session.scalars(select(OutboxRow.id).where(OutboxRow.status.in_(OPEN_STATES))).all())

    def claim(self, limit: int) -> list[str]:
        """Take up to `limit` due requests under this instance's lease; other instances skip them."""
        now = now_ms()
        free = or_(
            OutboxRow.owner.is_(None), OutboxRow.owner == self.worker_id, OutboxRow.lease_until_ms < now
        )
        with self.db.session() as session:
            ids = session.scalars(
                select(OutboxRow.id)
                .where(OutboxRow.status.in_(OPEN_STATES), OutboxRow.next_attempt_ms <= now, free)
                .order_by(OutboxRow.created_ms, OutboxRow.id)
                .limit(limit)
            ).all()
        claimed = []
        for request_id in ids:
            with self.db.session() as session:
                result = session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == request_id, free)
                    .values(owner=self.worker_id, lease_until_ms=now + LEASE_MS)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(request_id)
        return claimed

    def _save(self, request_id: str, release: bool = True, **values: Any) -> None:
        values["updated_ms"] = now_ms()
        if release:
            values.update(owner=None, lease_until_ms=0)
        with self.db.session() as session:
            result = session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == request_id, OutboxRow.owner == self.worker_id)
                .values(**values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                log.warning("outbox request %s: lease lost before saving %s", request_id, sorted(values))

    def _retry_later(self, request_id: str, delay_ms: int, problem: str) -> None:
        self._save(request_id, next_attempt_ms=now_ms() + delay_ms, last_problem=problem[:2000])

    def _confirmed(self, request_id: str, where: OnChain) -> None:
        log.info(
            "outbox request %s confirmed in block %d (%s)", request_id, where.block_number, where.tx_hash
        )
        # Kept before the row says confirmed: if the ledger loses this block, the event index notices.
        keep_block(self.db, self.registry.address, where.block_number, where.block_hash)
        self._save(
            request_id,
            status=CONFIRMED,
            tx_hash=where.tx_hash,
            block_number=where.block_number,
            block_hash=where.block_hash,
            finished_ms=now_ms(),
            last_problem=None,
        )

    def _failed(self, request_id: str, error: CredregError, tx_hash: str | None = None) -> None:
        log.info("outbox request %s failed: %s", request_id, error)
        values: dict[str, Any] = {
            "status": FAILED,
            "finished_ms": now_ms(),
            "error_message": str(error)[:2000],
            "error_name": error.name if isinstance(error, ContractRevert) else type(error).__name__,
            "error_args": json.dumps(json_args(error.args_by_name), default=str)
            if isinstance(error, ContractRevert)
            else None,
        }
        if tx_hash is not None:
            values["tx_hash"] = tx_hash
        self._save(request_id, **values)

    def _signed(self, row: OutboxRow) -> SignedIssue | SignedStatusChange:
        if row.kind == ISSUE:
            return SignedIssue.model_validate_json(row.payload)
        return SignedStatusChange.model_validate_json(row.payload)

    def _tx(self, signed: SignedIssue | SignedStatusChange) -> TxParams:
        if isinstance(signed, SignedIssue):
            return self.relayer.issue_tx(signed)
        return self.relayer.status_change_tx(signed)

    def _advance(self, request_id: str) -> None:
        row = self.get(request_id)
        if row is None or row.status not in OPEN_STATES:
            return
        signed = self._signed(row)
        if row.status == SUBMITTED and row.tx_hash:
            self._follow(row, signed)
        else:
            self._submit(row, signed)

    def _submit(self, row: OutboxRow, signed: SignedIssue | SignedStatusChange) -> None:
        found = self._on_chain(row, signed)
        if isinstance(found, OnChain):
            self._settle_found(row, found)
            return
        if isinstance(found, Superseded):
            self._failed(row.id, found.error)
            return
        tx = self._tx(signed)
        try:
            tx_hash = self.relayer.sender.submit(tx)
        except ContractRevert as exc:
            again = self._on_chain(row, signed)
            if isinstance(again, OnChain):
                self._settle_found(row, again)
            else:
                self._failed(row.id, self._lost_and_expired(row, exc))
            return
        except TransactionFailed as exc:
            if row.attempts + 1 >= self.max_attempts:
                self._failed(row.id, exc)
            else:
                self._save(
                    row.id,
                    attempts=row.attempts + 1,
                    last_problem=str(exc)[:2000],
                    next_attempt_ms=now_ms() + UNREACHABLE_RETRY_MS * 2 ** min(row.attempts, 5),
                )
            return
        # The hash is committed before anything waits for the receipt, so a restart follows this very
        # transaction instead of sending another.
        self._save(
            row.id,
            status=SUBMITTED,
            tx_hash=tx_hash.to_0x_hex(),
            attempts=row.attempts + 1,
            submitted_ms=now_ms(),
            next_attempt_ms=now_ms() + self.poll_ms // 4,
            last_problem=None,
        )
        self.wake.set()

    def _settle_found(self, row: OutboxRow, found: OnChain) -> None:
        if self._deep_enough(found.block_number):
            self._confirmed(row.id, found)
        else:
            self._save(
                row.id,
                status=SUBMITTED,
                tx_hash=found.tx_hash,
                block_number=found.block_number,
                next_attempt_ms=now_ms() + self.poll_ms,
            )

    def _deep_enough(self, block_number: int) -> bool:
        return self.confirmations <= 0 or self.registry.head() >= block_number + self.confirmations

    def _follow(self, row: OutboxRow, signed: SignedIssue | SignedStatusChange) -> None:
        assert row.tx_hash is not None
        tx_hash = HexBytes(row.tx_hash)
        receipt = self._receipt(tx_hash)
        if receipt is None:
            known = self._known(tx_hash)
            if known and not self._behind_gap(row, tx_hash):
                self._save(row.id, next_attempt_ms=now_ms() + self.poll_ms)  # still waiting to be mined
                return
            log.warning(
                "outbox request %s: %s %s; checking the ledger",
                row.id,
                row.tx_hash,
                "waits behind a nonce gap" if known else "is no longer known to the node",
            )
            # A node that lost transactions (restarted, rewound, pool dropped) also lost the nonces they
            # used; they are counted again from the node, or the resend would wait behind a gap forever.
            self.relayer.sender.resync_nonce()
            self._submit(row, signed)
            return
        where = OnChain(
            tx_hash=row.tx_hash,
            block_number=int(receipt["blockNumber"]),
            block_hash=HexBytes(receipt["blockHash"]).to_0x_hex(),
        )
        if receipt["status"] == 1:
            if self._deep_enough(where.block_number):
                self._confirmed(row.id, where)
            else:
                self._save(row.id, block_number=where.block_number, next_attempt_ms=now_ms() + self.poll_ms)
            return
        found = self._on_chain(row, signed)
        if isinstance(found, OnChain):
            self._settle_found(row, found)
            return
        self._failed(row.id, self._explain(receipt, self._tx(signed)), tx_hash=row.tx_hash)

    def _receipt(self, tx_hash: HexBytes) -> TxReceipt | None:
        def fetch() -> TxReceipt | None:
            try:
                return self.registry.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                return None

        return with_retries(fetch, what="eth_getTransactionReceipt", url=self.registry.url)

    def _known(self, tx_hash: HexBytes) -> bool:
        def fetch() -> bool:
            try:
                self.registry.w3.eth.get_transaction(tx_hash)
            except TransactionNotFound:
                return False
            return True

        return with_retries(fetch, what="eth_getTransactionByHash", url=self.registry.url)

    def _behind_gap(self, row: OutboxRow, tx_hash: HexBytes) -> bool:
        """True if the node holds `tx_hash` unmined behind a nonce gap (its nonce is not below the relayer's
        pending count, which counts only transactions that can be mined): it was numbered from a nonce a
        rewind took back, and will never be mined."""
        if row.submitted_ms is not None and now_ms() - row.submitted_ms < GAP_CHECK_MS:
            return False
        w3 = self.registry.w3
        url = self.registry.url
        tx = with_retries(lambda: w3.eth.get_transaction(tx_hash), what="eth_getTransactionByHash", url=url)
        if tx.get("blockNumber") is not None:
            return False
        sender = self.relayer.sender.address
        minable = with_retries(
            lambda: int(w3.eth.get_transaction_count(sender, "pending")),  # type: ignore[arg-type]
            what="eth_getTransactionCount",
            url=url,
        )
        return int(tx["nonce"]) >= minable

    def _explain(self, receipt: TxReceipt, tx: TxParams) -> CredregError:
        """Name why a mined transaction reverted by replaying it as a call on the block before."""
        call: dict[str, Any] = {"from": self.relayer.sender.address, **cast(dict[str, Any], tx)}
        try:
            self.registry.w3.eth.call(cast(TxParams, call), int(receipt["blockNumber"]) - 1)
        except Exception as exc:  # the replay only serves to name the reason
            revert = as_contract_revert(exc, self.registry.abi)
            if revert is not None:
                return revert
        return TransactionFailed(f"transaction {HexBytes(receipt['transactionHash']).to_0x_hex()} reverted")

    # --- rewinds ----------------------------------------------------------------------------------------

    def recheck_rewinds(self) -> None:
        """Act on the rewinds the event index found: re-open the requests confirmed after the common ancestor
        and re-read the relayer's nonce (once per rewind, whichever instance comes first); a rewind counts
        as re-checked once none of the requests it re-opened is open any more."""
        with self.db.session() as session:
            rewinds = session.scalars(
                select(LedgerRewind)
                .where(
                    LedgerRewind.contract == self.registry.address,
                    LedgerRewind.outbox_rechecked_ms.is_(None),
                )
                .order_by(LedgerRewind.id)
            ).all()
        for rewind in rewinds:
            if rewind.outbox_reopened_ms is None:
                self._reopen_after(rewind)
                continue
            with self.db.session() as session:
                waiting = session.scalars(
                    select(OutboxRow.id)
                    .join(RewindRecheck, RewindRecheck.request_id == OutboxRow.id)
                    .where(RewindRecheck.rewind_id == rewind.id, OutboxRow.status.in_(OPEN_STATES))
                ).first()
                if waiting is None:
                    session.execute(
                        update(LedgerRewind)
                        .where(LedgerRewind.id == rewind.id)
                        .values(outbox_rechecked_ms=now_ms())
                    )
                    log.info("every request confirmed after block %d was checked again", rewind.ancestor)

    def _reopen_after(self, rewind: LedgerRewind) -> None:
        now = now_ms()
        with self.db.session() as session:
            claimed = session.execute(
                update(LedgerRewind)
                .where(LedgerRewind.id == rewind.id, LedgerRewind.outbox_reopened_ms.is_(None))
                .values(outbox_reopened_ms=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return
            lost = session.scalars(
                select(OutboxRow).where(
                    OutboxRow.status == CONFIRMED, OutboxRow.block_number > rewind.ancestor
                )
            ).all()
            for row in lost:
                session.add(
                    RewindRecheck(
                        rewind_id=rewind.id,
                        request_id=row.id,
                        lost_block=row.block_number,
                        lost_tx_hash=row.tx_hash,
                    )
                )
                session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == row.id)
                    .values(
                        status=PENDING,
                        tx_hash=None,
                        block_number=None,
                        block_hash=None,
                        finished_ms=None,
                        owner=None,
                        lease_until_ms=0,
                        next_attempt_ms=0,
                        updated_ms=now,
                        last_problem=(
                            f"the ledger lost block {row.block_number}, which held this request's "
                            f"transaction {row.tx_hash} (a chain rewind or reorg); checking the ledger "
                            "again and sending the same signed request again if it is not there"
                        ),
                    )
                )
        log.warning(
            "the ledger lost the blocks after %d: %d confirmed requests are checked again",
            rewind.ancestor,
            len(lost),
        )
        self.relayer.sender.resync_nonce()
        self.wake.set()

    def _lost_and_expired(self, row: OutboxRow, error: ContractRevert) -> ContractRevert:
        """An expired signature of a request a rewind took off the ledger, said as what to do about it."""
        if error.name != "CredentialRegistryExpiredSignature":
            return error
        with self.db.session() as session:
            lost = session.scalars(select(RewindRecheck).where(RewindRecheck.request_id == row.id)).first()
        if lost is None:
            return error
        return ContractRevert(
            error.name,
            error.args_by_name,
            f"the ledger lost block {lost.lost_block}, which held this request (a chain rewind), and the "
            f"signature's deadline has passed since, so the same signed request cannot be sent again: "
            f"sign it again with a new deadline and submit it ({error})",
        )

    # --- what the ledger already holds -----------------------------------------------------------------

    def _on_chain(
        self, row: OutboxRow, signed: SignedIssue | SignedStatusChange
    ) -> OnChain | Superseded | None:
        if isinstance(signed, SignedIssue):
            return self._issue_on_chain(row, signed)
        return self._status_change_on_chain(row, signed)

    def _issue_on_chain(self, row: OutboxRow, signed: SignedIssue) -> OnChain | Superseded | None:
        req = signed.request
        record = self.registry.record(row.agency_id, req.root)
        if not record.issued:
            return None
        for log_entry in self._logs("CredentialIssued", row.agency_id, req.root):
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
        self, row: OutboxRow, signed: SignedStatusChange
    ) -> OnChain | Superseded | None:
        req = signed.request
        status = self.registry.status_of(req.agency_id, req.target)
        if status.nonce <= req.nonce:
            return None
        for log_entry in self._logs("CredentialStatusChanged", req.agency_id, req.root):
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

    def _logs(self, event: str, agency_id: int, root: str) -> list[dict[str, Any]]:
        """The registry's `event` logs about an agency's `root`, read from the chain (the index may trail)."""
        w3 = self.registry.w3
        head = self.registry.head()
        start = self.registry.manifest.deployment_block
        topics = [self.registry.events.topic_of(event), root, "0x" + f"{agency_id:064x}"]
        found: list[dict[str, Any]] = []
        for _, _, logs in read_logs(w3, self.registry.address, start, head, topics=topics):
            for raw in logs:
                decoded = self.registry.events.decode(dict(raw))
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

    # --- the worker thread -----------------------------------------------------------------------------

    def work(self, stop: threading.Event, on_idle: Callable[[], None] | None = None) -> None:
        """Relay until `stop` is set: every due request each round, waking early when one is accepted."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database or chain hiccuped; the next round tries again
                log.exception("outbox round failed")
                busy = 0
            if busy == 0 and on_idle is not None:
                on_idle()
            self.wake.wait(self.poll_ms / 1000 if busy == 0 else 0.05)
            self.wake.clear()
