"""Accepting a signed request into the outbox: every check, in the order a client's mistakes are cheapest.

The domain, then the signature (recovered here, canonical `s` only), then the agency's request rate, then
whether the very same request is known already (its row is the answer), then the deadline, the validity date
and a batch's leaves, then requests already open for the same root or nonce, and last the contract itself:
an `eth_call` of the very transaction that will be sent, whose gas estimate counts against the agency's daily
quota. Only a request that passes all of them is written and committed; then the caller answers 202.

A refusal is a `RequestRefused`: a stable problem slug, the request field that is wrong, and what to do.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from typing import Any, cast

from eth_utils.address import to_checksum_address
from web3.types import TxParams

from credreg.chain.client import with_retries
from credreg.chain.reverts import as_contract_revert
from credreg.documents.merkle import MerkleTree, verify_proof
from credreg.errors import ChainUnreachable, ContractRevert, CredregError, DocumentError
from credreg.hashes import hash_bytes
from credreg.registry import Registry, Relayer, SignedIssue, SignedStatusChange
from credreg.service.db import BatchLeaf, OutboxRow
from credreg.service.limits import AgencyLimits
from credreg.service.store import FAILED, ISSUE, STATUS_CHANGE, OutboxStore, request_key

__all__ = [
    "GREGORIAN_YEAR",
    "SECP256K1_HALF_N",
    "Intake",
    "RequestRefused",
    "json_args",
    "normalise_issue",
    "normalise_status_change",
    "refusal_of",
]

GREGORIAN_YEAR = 31_556_952  # seconds in the calendar's average year (365.2425 days)
SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


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


class Intake:
    """Checks signed requests and records those it accepts (see the module docstring)."""

    def __init__(
        self,
        store: OutboxStore,
        registry: Registry,
        relayer: Relayer,
        wake: threading.Event,
        *,
        max_leaves: int = 10_000,
        request_horizon: int = 30 * 86_400,
        valid_until_horizon_years: int = 100,
        limits: AgencyLimits | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.relayer = relayer
        self.wake = wake
        self.max_leaves = max_leaves
        self.request_horizon = request_horizon
        self.valid_until_horizon_years = valid_until_horizon_years
        self.limits = limits

    def accept_issue(
        self, signed: SignedIssue, leaves: Sequence[str] | None = None
    ) -> tuple[OutboxRow, bool]:
        """Check and record an issuance; returns the row and whether it is new (False: a repeat)."""
        signed = normalise_issue(signed)
        self._check_domain(signed.chain_id, signed.registry)
        signer = self._recover(signed)
        agency_id = self._agency_of(signer)
        key = request_key(ISSUE, signed, signer)
        existing = self.store.by_key(key)
        if existing is not None:
            return self._repeat(existing, self.relayer.issue_tx(signed)), False
        now = self._check_deadline(signed.request.deadline)
        self._check_valid_until(signed.request.valid_until, now)
        leaf_list = self.check_leaves(signed.request.root, leaves)
        other = self.store.issue_of_root(agency_id, signed.request.root)
        if other is not None:
            raise RequestRefused(
                "already-requested",
                "request.root",
                f"request {other.id} for this root is already {other.status}",
                conflict=True,
            )
        gas = self._simulate(self.relayer.issue_tx(signed))
        self._check_quota(agency_id, gas)
        row = self.store.new_row(
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
        leaf_rows = [
            BatchLeaf(agency_id=agency_id, root=signed.request.root, leaf=leaf) for leaf in leaf_list
        ]
        return self._insert(row, leaf_rows)

    def accept_status_change(self, signed: SignedStatusChange) -> tuple[OutboxRow, bool]:
        """Check and record a revoke / suspend / reinstate; returns the row and whether it is new."""
        signed = normalise_status_change(signed)
        self._check_domain(signed.chain_id, signed.registry)
        signer = self._recover(signed)
        self._agency_of(signer)
        key = request_key(STATUS_CHANGE, signed, signer)
        existing = self.store.by_key(key)
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
        other = self.store.open_change_of(req.agency_id, req.target, req.nonce)
        if other is not None:
            raise RequestRefused(
                "already-requested",
                "request.nonce",
                f"request {other.id} already changes this target at nonce {req.nonce}",
                conflict=True,
            )
        gas = self._simulate(self.relayer.status_change_tx(signed))
        self._check_quota(req.agency_id, gas)
        row = self.store.new_row(
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

    def check_leaves(self, root: str, leaves: Sequence[str] | None) -> list[str]:
        """A batch's leaves, sorted as its tree holds them, after checking they build `root` (0x-hex)."""
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

    # --- the checks ------------------------------------------------------------------------------------

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

    # --- recording -------------------------------------------------------------------------------------

    def _repeat(self, row: OutboxRow, tx: TxParams) -> OutboxRow:
        """The same request again: its row. A failed one is tried afresh if the contract would take it now."""
        if row.status != FAILED:
            return row
        gas = self._simulate(tx)
        self._check_quota(row.agency_id, gas)  # a re-opened request is one more transaction to pay for
        self.store.reopen_failed(row, gas)
        self.wake.set()
        return self.store.get(row.id) or row

    def _insert(self, row: OutboxRow, leaves: list[BatchLeaf]) -> tuple[OutboxRow, bool]:
        stored, new = self.store.insert(row, leaves)
        if new:
            self.wake.set()
        return stored, new
