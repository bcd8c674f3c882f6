"""What governors, agencies and relayers do with the credential registry, from Python.

    registry = Registry.connect(rpc_url, Manifest.load(path))
    governor = Governor(registry, governor_account)
    scope_id = governor.define_scope("4-04-05-01", 3, "Blockchain engineering technician, level 3")
    agency_id = governor.register_agency("Beijing Digital Skills Assessment Centre", "BJ-0001", admin)
    ...
    signed = sign_issue(signer_account, registry.domain, IssueRequest(root=..., scope_id=scope_id))
    Relayer(registry, any_account).issue(signed)

The CLI and the HTTP service are thin shells over these calls.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, cast

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field
from web3 import Web3
from web3.contract import Contract
from web3.types import TxParams, TxReceipt

from credreg.chain.artifacts import load_artifact
from credreg.chain.client import connect, rpc_url_of, with_retries
from credreg.chain.eip712 import (
    ADDRESS,
    CompactSignature,
    Domain,
    IssueRequest,
    StatusAction,
    StatusChangeRequest,
    recover,
    sign,
)
from credreg.chain.events import EventDecoder
from credreg.chain.manifest import Manifest
from credreg.chain.reverts import as_contract_revert
from credreg.chain.transactions import TxSender
from credreg.errors import ChainUnreachable, ContractRevert, DocumentError, WrongChain

ZERO_HASH = "0x" + "00" * 32
REGISTRY_CONTRACT = "CredentialRegistry"


def scope_id_of(occupation_code: str, level: int) -> str:
    """The on-chain scope id: keccak256(abi.encode(occupationCode, uint8 level))."""
    return "0x" + keccak(encode(["string", "uint8"], [occupation_code, level])).hex()


class AgencyState(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class TargetState(IntEnum):
    NONE = 0
    REVOKED = 1
    SUSPENDED = 2


class Verdict(IntEnum):
    """The contract's one-call answer, most decisive first."""

    VALID = 0
    NOT_ISSUED = 1
    INVALID_PROOF = 2
    ROOT_REVOKED = 3
    NODE_REVOKED = 4
    LEAF_REVOKED = 5
    AGENCY_REVOKED = 6
    SIGNER_COMPROMISED = 7
    EXPIRED = 8
    ROOT_SUSPENDED = 9
    NODE_SUSPENDED = 10
    LEAF_SUSPENDED = 11

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class ScopeInfo:
    scope_id: str
    occupation_code: str
    level: int
    index: int
    title: str


@dataclass(frozen=True)
class AgencyInfo:
    agency_id: int
    name: str
    registration_code: str
    admin: str
    state: AgencyState
    reason: int
    cutoff: int


@dataclass(frozen=True)
class SignerInfo:
    address: str
    agency_id: int
    index: int
    valid_from: int
    valid_until: int
    compromised_since: int


@dataclass(frozen=True)
class AccreditationInfo:
    agency_id: int
    scope_id: str
    scope_index: int
    valid_from: int
    valid_until: int


@dataclass(frozen=True)
class CredentialRecord:
    root: str
    agency_id: int
    scope_id: str
    signer: str
    issued_at: int
    valid_until: int

    @property
    def issued(self) -> bool:
        return self.issued_at != 0


@dataclass(frozen=True)
class TargetStatus:
    target: str
    state: TargetState
    reason: int
    nonce: int
    since: int
    set_by_agency: int


@dataclass(frozen=True)
class CredentialState:
    """The contract's answer for one credential (root, leaf, proof)."""

    verdict: Verdict
    target: str
    reason: int
    since: int
    record: CredentialRecord


class SignedIssue(BaseModel):
    """An issuance request with its agency signature, ready for anyone to relay."""

    model_config = ConfigDict(frozen=True)

    chain_id: int = Field(ge=1)
    registry: str = Field(pattern=ADDRESS)
    request: IssueRequest
    signature: CompactSignature

    @property
    def domain(self) -> Domain:
        return Domain(chain_id=self.chain_id, registry=self.registry)

    def signer(self) -> str:
        return recover(self.domain, self.request, self.signature)


class SignedStatusChange(BaseModel):
    """A revoke / suspend / reinstate request with its agency signature and the target's merkle proof."""

    model_config = ConfigDict(frozen=True)

    chain_id: int = Field(ge=1)
    registry: str = Field(pattern=ADDRESS)
    request: StatusChangeRequest
    proof: list[str] = Field(default_factory=list, max_length=64)
    signature: CompactSignature

    @property
    def domain(self) -> Domain:
        return Domain(chain_id=self.chain_id, registry=self.registry)

    def signer(self) -> str:
        return recover(self.domain, self.request, self.signature)


def _b32(value: str) -> bytes:
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise DocumentError(f"expected a 0x-prefixed 32-byte hex hash, got {value!r}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise DocumentError(f"not a hex hash: {value!r}") from exc


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


class Registry:
    """A connection to one deployed CredentialRegistry: reads, and the pieces writers need."""

    def __init__(self, w3: Web3, manifest: Manifest) -> None:
        self.w3 = w3
        self.manifest = manifest
        self.abi: list[dict[str, Any]] = load_artifact(REGISTRY_CONTRACT).abi
        self.address = to_checksum_address(manifest.registry_address)
        self.contract: Contract = w3.eth.contract(address=self.address, abi=self.abi)
        self.domain = Domain(chain_id=manifest.chain_id, registry=self.address)
        self.events = EventDecoder(self.abi)

    @classmethod
    def connect(cls, rpc_url: str, manifest: Manifest, *, check: bool = True) -> Registry:
        """Connect and make sure the endpoint serves the manifest's chain and contract."""
        registry = cls(connect(rpc_url), manifest)
        if check:
            registry.check_deployment()
        return registry

    @property
    def url(self) -> str:
        return rpc_url_of(self.w3)

    def check_deployment(self) -> None:
        actual = with_retries(lambda: int(self.w3.eth.chain_id), what="eth_chainId", url=self.url)
        if actual != self.manifest.chain_id:
            raise WrongChain(
                f"{self.url} serves chain {actual}, but the deployment manifest is for chain {self.manifest.chain_id}"
            )
        code = with_retries(lambda: self.w3.eth.get_code(self.address), what="eth_getCode", url=self.url)
        if not code:
            raise WrongChain(
                f"there is no contract at {self.address} on chain {actual}; is the manifest current?"
            )

    # --- reads -----------------------------------------------------------------------------------------

    def _call(self, name: str, *args: Any, block: int | str = "latest") -> Any:
        fn = getattr(self.contract.functions, name)(*args)
        try:
            return with_retries(lambda: fn.call(block_identifier=block), what=name, url=self.url)
        except ChainUnreachable:
            raise
        except Exception as exc:
            revert = as_contract_revert(exc, self.abi)
            if revert is not None:
                raise revert from exc
            raise

    def version(self) -> str:
        return str(self._call("VERSION"))

    def governor(self) -> str:
        return str(self._call("owner"))

    def scope(self, scope_id: str) -> ScopeInfo:
        code, level, index, title = self._call("scope", _b32(scope_id))
        return ScopeInfo(scope_id, code, int(level), int(index), title)

    def scope_count(self) -> int:
        return int(self._call("scopeCount"))

    def scope_id_at(self, index: int) -> str:
        return _hex(self._call("scopeIdAt", index))

    def agency(self, agency_id: int) -> AgencyInfo:
        name, code, admin, state, reason, cutoff = self._call("agency", agency_id)
        return AgencyInfo(agency_id, name, code, admin, AgencyState(state), int(reason), int(cutoff))

    def agency_count(self) -> int:
        return int(self._call("agencyCount"))

    def signer(self, address: str) -> SignerInfo:
        agency_id, index, valid_from, valid_until, compromised = self._call(
            "signerRecord", to_checksum_address(address)
        )
        return SignerInfo(
            to_checksum_address(address), agency_id, index, valid_from, valid_until, compromised
        )

    def signer_count(self) -> int:
        return int(self._call("signerCount"))

    def signer_at(self, index: int) -> str:
        return str(self._call("signerAt", index))

    def accreditation(self, agency_id: int, scope_id: str) -> AccreditationInfo:
        scope_index, valid_from, valid_until = self._call("accreditation", agency_id, _b32(scope_id))
        return AccreditationInfo(agency_id, scope_id, scope_index, valid_from, valid_until)

    def record(self, root: str) -> CredentialRecord:
        return _record(root, self._call("record", _b32(root)))

    def status_of(self, target: str) -> TargetStatus:
        state, reason, nonce, since, by = self._call("statusOf", _b32(target))
        return TargetStatus(target, TargetState(state), reason, nonce, since, by)

    def is_issued(self, root: str) -> bool:
        return bool(self._call("isIssued", _b32(root)))

    def is_revoked(self, target: str) -> bool:
        return bool(self._call("isRevoked", _b32(target)))

    def credential_status(self, root: str, leaf: str, proof: Sequence[str]) -> CredentialState:
        raw = self._call("credentialStatus", _b32(root), _b32(leaf), [_b32(p) for p in proof])
        return _credential_state(root, raw)

    def credential_statuses(self, queries: Sequence[tuple[str, str, Sequence[str]]]) -> list[CredentialState]:
        """Many `credentialStatus` calls in JSON-RPC batches (one round trip per batch)."""
        results: list[CredentialState] = []
        batch_size = 200
        for start in range(0, len(queries), batch_size):
            chunk = queries[start : start + batch_size]

            def run(chunk: Sequence[tuple[str, str, Sequence[str]]] = chunk) -> list[Any]:
                with self.w3.batch_requests() as batch:
                    for root, leaf, proof in chunk:
                        batch.add(
                            self.contract.functions.credentialStatus(
                                _b32(root), _b32(leaf), [_b32(p) for p in proof]
                            )
                        )
                    return list(batch.execute())

            replies = with_retries(run, what="credentialStatus batch", url=self.url)
            results.extend(_credential_state(q[0], r) for q, r in zip(chunk, replies, strict=True))
        return results

    def block_time(self, block: int | None = None) -> int:
        """The timestamp of `block` (default: the latest)."""
        ident: Any = "latest" if block is None else block
        return int(
            with_retries(lambda: self.w3.eth.get_block(ident)["timestamp"], what="eth_getBlock", url=self.url)
        )

    def head(self) -> int:
        return int(with_retries(lambda: self.w3.eth.block_number, what="eth_blockNumber", url=self.url))

    # --- writes ----------------------------------------------------------------------------------------

    def sender(self, account: LocalAccount, confirmations: int = 0) -> TxSender:
        return TxSender(self.w3, account, abi=self.abi, confirmations=confirmations)

    def build(self, name: str, *args: Any) -> TxParams:
        """The transaction calling `name(*args)` on the registry, without gas, fees or nonce."""
        data = self.contract.encode_abi(name, args=list(args))
        return cast(TxParams, {"to": self.address, "data": data})

    def sign_issue(self, signer: LocalAccount, request: IssueRequest) -> SignedIssue:
        return SignedIssue(
            chain_id=self.domain.chain_id,
            registry=self.address,
            request=request,
            signature=sign(signer, self.domain, request),
        )

    def sign_status_change(
        self,
        signer: LocalAccount,
        root: str,
        target: str,
        proof: Sequence[str],
        action: StatusAction,
        reason: int = 0,
        deadline: int | None = None,
        valid_for: int = 3600,
    ) -> SignedStatusChange:
        """Sign a status change with the target's current nonce, good until `deadline` (default: 1 h)."""
        nonce = self.status_of(target).nonce
        if deadline is None:
            deadline = max(self.block_time(), int(time.time())) + valid_for
        request = StatusChangeRequest(
            root=root, target=target, action=action, reason=reason, nonce=nonce, deadline=deadline
        )
        return SignedStatusChange(
            chain_id=self.domain.chain_id,
            registry=self.address,
            request=request,
            proof=list(proof),
            signature=sign(signer, self.domain, request),
        )


def _record(root: str, raw: Sequence[Any]) -> CredentialRecord:
    agency_id, scope_id, signer, issued_at, valid_until = raw
    return CredentialRecord(
        root, int(agency_id), _hex(scope_id), str(signer), int(issued_at), int(valid_until)
    )


def _credential_state(root: str, raw: Sequence[Any]) -> CredentialState:
    verdict, target, reason, since, record = raw
    return CredentialState(Verdict(verdict), _hex(target), int(reason), int(since), _record(root, record))


class _Actor:
    def __init__(self, registry: Registry, account: LocalAccount, confirmations: int = 0) -> None:
        self.registry = registry
        self.account = account
        self.sender = registry.sender(account, confirmations)

    def _send(self, name: str, *args: Any) -> TxReceipt:
        return self.sender.send(self.registry.build(name, *args))

    def _event(self, receipt: TxReceipt, name: str) -> dict[str, Any]:
        for log in receipt["logs"]:
            event = self.registry.events.decode(dict(log))
            if event is not None and event.name == name:
                return event.args
        raise ContractRevert("MissingEvent", {"event": name}, f"the transaction emitted no {name} event")


class Governor(_Actor):
    """The accrediting authority: defines scopes, registers and accredits agencies, can overrule statuses."""

    def define_scope(self, occupation_code: str, level: int, title: str) -> str:
        receipt = self._send("defineScope", occupation_code, level, title)
        return str(self._event(receipt, "ScopeDefined")["scopeId"])

    def register_agency(self, name: str, registration_code: str, admin: str) -> int:
        receipt = self._send("registerAgency", name, registration_code, to_checksum_address(admin))
        return int(self._event(receipt, "AgencyRegistered")["agencyId"])

    def accredit(self, agency_id: int, scope_id: str, valid_from: int, valid_until: int = 0) -> TxReceipt:
        return self._send("accredit", agency_id, _b32(scope_id), valid_from, valid_until)

    def withdraw_accreditation(self, agency_id: int, scope_id: str) -> TxReceipt:
        return self._send("withdrawAccreditation", agency_id, _b32(scope_id))

    def suspend_agency(self, agency_id: int, reason: int = 0) -> TxReceipt:
        return self._send("suspendAgency", agency_id, reason)

    def reinstate_agency(self, agency_id: int) -> TxReceipt:
        return self._send("reinstateAgency", agency_id)

    def revoke_agency(self, agency_id: int, cutoff: int, reason: int = 0) -> TxReceipt:
        return self._send("revokeAgency", agency_id, cutoff, reason)

    def set_status(
        self, root: str, target: str, proof: Sequence[str], action: StatusAction, reason: int = 0
    ) -> TxReceipt:
        return self._send(
            "governorSetStatus", _b32(root), _b32(target), [_b32(p) for p in proof], int(action), reason
        )

    def transfer_governor(self, new_governor: str) -> TxReceipt:
        """Propose a new governor; it takes over only when it calls `accept_governor`."""
        return self._send("transferOwnership", to_checksum_address(new_governor))

    def accept_governor(self) -> TxReceipt:
        return self._send("acceptOwnership")

    # The governor may also manage any agency's keys.
    def add_signer(self, agency_id: int, signer: str, valid_from: int, valid_until: int = 0) -> TxReceipt:
        return self._send("addSigner", agency_id, to_checksum_address(signer), valid_from, valid_until)

    def report_compromised(self, signer: str, since: int) -> TxReceipt:
        return self._send("reportCompromised", to_checksum_address(signer), since)


class AgencyAdmin(_Actor):
    """An agency's admin key: manages the agency's signer keys."""

    def add_signer(self, agency_id: int, signer: str, valid_from: int, valid_until: int = 0) -> TxReceipt:
        return self._send("addSigner", agency_id, to_checksum_address(signer), valid_from, valid_until)

    def retire_signer(self, signer: str) -> TxReceipt:
        return self._send("retireSigner", to_checksum_address(signer))

    def report_compromised(self, signer: str, since: int) -> TxReceipt:
        return self._send("reportCompromised", to_checksum_address(signer), since)

    def transfer_admin(self, agency_id: int, new_admin: str) -> TxReceipt:
        return self._send("transferAgencyAdmin", agency_id, to_checksum_address(new_admin))


class Relayer(_Actor):
    """Any funded account: submits agency-signed requests. It needs no authority of its own."""

    def issue_tx(self, signed: SignedIssue) -> TxParams:
        self._check_domain(signed.chain_id, signed.registry)
        req = signed.request
        return self.registry.build(
            "issue",
            _b32(req.root),
            _b32(req.scope_id),
            req.valid_until,
            _b32(signed.signature.r),
            _b32(signed.signature.vs),
        )

    def status_change_tx(self, signed: SignedStatusChange) -> TxParams:
        self._check_domain(signed.chain_id, signed.registry)
        req = signed.request
        return self.registry.build(
            "setStatus",
            _b32(req.root),
            _b32(req.target),
            [_b32(p) for p in signed.proof],
            int(req.action),
            req.reason,
            req.deadline,
            _b32(signed.signature.r),
            _b32(signed.signature.vs),
        )

    def issue(self, signed: SignedIssue) -> TxReceipt:
        return self.sender.send(self.issue_tx(signed))

    def set_status(self, signed: SignedStatusChange) -> TxReceipt:
        return self.sender.send(self.status_change_tx(signed))

    def _check_domain(self, chain_id: int, registry: str) -> None:
        if (
            chain_id != self.registry.domain.chain_id
            or to_checksum_address(registry) != self.registry.address
        ):
            raise WrongChain(
                f"the request was signed for registry {registry} on chain {chain_id}, "
                f"not {self.registry.address} on chain {self.registry.domain.chain_id}"
            )


__all__ = [
    "ZERO_HASH",
    "AccreditationInfo",
    "AgencyAdmin",
    "AgencyInfo",
    "AgencyState",
    "CredentialRecord",
    "CredentialState",
    "Governor",
    "Registry",
    "Relayer",
    "ScopeInfo",
    "SignedIssue",
    "SignedStatusChange",
    "SignerInfo",
    "TargetState",
    "TargetStatus",
    "Verdict",
    "scope_id_of",
]
