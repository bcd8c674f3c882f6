"""What each party sends to the registry: the governor, an agency's admin key, and any relayer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3.types import TxParams, TxReceipt

from credreg.chain.eip712 import StatusAction
from credreg.errors import ContractRevert, WrongChain
from credreg.registry.reads import Registry
from credreg.registry.requests import SignedIssue, SignedStatusChange


class _Actor:
    def __init__(self, registry: Registry, account: LocalAccount, confirmations: int = 0) -> None:
        self.registry = registry
        self.account = account
        self.sender = registry.sender(account, confirmations)

    def _send(self, name: str, *args: Any) -> TxReceipt:
        return self.sender.send(self.registry.build(name, *args))

    def _event(self, receipt: TxReceipt, name: str) -> dict[str, Any]:
        for log in receipt["logs"]:
            event = self.registry.codec.decode_log(dict(log))
            if event is not None and event.name == name:
                return event.args
        raise ContractRevert("MissingEvent", {"event": name}, f"the transaction emitted no {name} event")


class AgencyAdmin(_Actor):
    """An agency's admin key (or the governor, who may do the same): manages the agency's keys."""

    def add_signer(self, agency_id: int, signer: str, valid_from: int, valid_until: int = 0) -> TxReceipt:
        return self._send("addSigner", agency_id, to_checksum_address(signer), valid_from, valid_until)

    def retire_signer(self, signer: str) -> TxReceipt:
        return self._send("retireSigner", to_checksum_address(signer))

    def report_compromised(self, signer: str, since: int) -> TxReceipt:
        return self._send("reportCompromised", to_checksum_address(signer), since)

    def add_issuer_key(
        self, agency_id: int, public_key: str, valid_from: int, valid_until: int = 0
    ) -> TxReceipt:
        return self._send("addIssuerKey", agency_id, public_key, valid_from, valid_until)

    def retire_issuer_key(self, public_key: str) -> TxReceipt:
        return self._send("retireIssuerKey", public_key)

    def report_issuer_key_compromised(self, public_key: str, since: int) -> TxReceipt:
        return self._send("reportIssuerKeyCompromised", public_key, since)

    def transfer_admin(self, agency_id: int, new_admin: str) -> TxReceipt:
        return self._send("transferAgencyAdmin", agency_id, to_checksum_address(new_admin))


class Governor(AgencyAdmin):
    """The accrediting authority: defines scopes, registers and accredits agencies, can overrule statuses."""

    def define_scope(self, occupation_code: str, level: int, title: str) -> str:
        receipt = self._send("defineScope", occupation_code, level, title)
        return str(self._event(receipt, "ScopeDefined")["scopeId"])

    def retire_scope(self, scope_id: str) -> TxReceipt:
        return self._send("retireScope", scope_id)

    def register_agency(self, name: str, registration_code: str, admin: str) -> int:
        receipt = self._send("registerAgency", name, registration_code, to_checksum_address(admin))
        return int(self._event(receipt, "AgencyRegistered")["agencyId"])

    def accredit(self, agency_id: int, scope_id: str, valid_from: int, valid_until: int = 0) -> TxReceipt:
        return self._send("accredit", agency_id, scope_id, valid_from, valid_until)

    def withdraw_accreditation(self, agency_id: int, scope_id: str) -> TxReceipt:
        return self._send("withdrawAccreditation", agency_id, scope_id)

    def suspend_agency(self, agency_id: int, reason: int = 0) -> TxReceipt:
        return self._send("suspendAgency", agency_id, reason)

    def reinstate_agency(self, agency_id: int) -> TxReceipt:
        return self._send("reinstateAgency", agency_id)

    def revoke_agency(self, agency_id: int, cutoff: int, reason: int = 0) -> TxReceipt:
        return self._send("revokeAgency", agency_id, cutoff, reason)

    def set_status(
        self,
        agency_id: int,
        root: str,
        target: str,
        proof: Sequence[str],
        action: StatusAction,
        reason: int = 0,
    ) -> TxReceipt:
        return self._send("governorSetStatus", agency_id, root, target, list(proof), int(action), reason)

    def transfer_governor(self, new_governor: str) -> TxReceipt:
        """Propose a new governor; it takes over only when it calls `accept_governor`."""
        return self._send("transferOwnership", to_checksum_address(new_governor))

    def accept_governor(self) -> TxReceipt:
        return self._send("acceptOwnership")


class Relayer(_Actor):
    """Any funded account: submits agency-signed requests. It needs no authority of its own."""

    def issue_tx(self, signed: SignedIssue) -> TxParams:
        self._check_domain(signed.chain_id, signed.registry)
        req = signed.request
        return self.registry.build(
            "issue",
            req.root,
            req.scope_id,
            req.valid_until,
            req.deadline,
            signed.signature.r,
            signed.signature.vs,
        )

    def status_change_tx(self, signed: SignedStatusChange) -> TxParams:
        self._check_domain(signed.chain_id, signed.registry)
        req = signed.request
        return self.registry.build(
            "setStatus",
            req.agency_id,
            req.root,
            req.target,
            list(signed.proof),
            int(req.action),
            req.reason,
            req.deadline,
            signed.signature.r,
            signed.signature.vs,
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
