"""The integration tests' registry (set up through tests/support/registry.py): a governor, one agency
accredited for the first of two scopes and its signer key, ready to issue; and batches of real wrapped
certificates for it. Fixtures in conftest.py build it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from eth_account.signers.local import LocalAccount
from support.registry import ANVIL_ACCOUNTS, AgencySpec, ChainControls, LedgerSpec, ScopeSpec, deploy_ledger
from web3 import Web3

from credreg.chain.eip712 import StatusAction
from credreg.chain.manifest import Manifest
from credreg.documents.layout import wrap_certificates
from credreg.documents.model import expiry_timestamp, parse_certificate
from credreg.documents.wrap import WrappedDocument
from credreg.registry import (
    Registry,
    SignedIssue,
    SignedStatusChange,
    scope_id_of,
)

OCCUPATION = "6-31-01-03"
LEVEL = 3
OTHER_OCCUPATION = "4-04-05-01"
IDENTITY_LOCATION = "registry.example.org"


@dataclass
class Batch:
    """Wrapped documents of one batch and what an agency signs for them."""

    documents: list[WrappedDocument]
    root: str
    leaves: list[str]
    valid_until: int


@dataclass
class Deployed(ChainControls):
    """A registry on a dev chain: governor (test account 0), agency admin (1), signer (2), relayer (3)."""

    url: str
    manifest: Manifest
    registry: Registry
    governor: LocalAccount
    admin: LocalAccount
    signer: LocalAccount
    relayer: LocalAccount
    scope_id: str
    other_scope_id: str
    agency_id: int

    @property
    def w3(self) -> Web3:
        return self.registry.w3

    def sign_issue(self, root: str | None = None, *, scope_id: str | None = None, valid_until: int = 0,
                   signer: LocalAccount | None = None) -> SignedIssue:  # fmt: skip
        request = self.registry.issue_request(root or random_hash(), scope_id or self.scope_id, valid_until)
        return self.registry.sign_issue(signer or self.signer, request)

    def sign_status(self, root: str, target: str, proof: Sequence[str], action: StatusAction,
                    reason: int = 0) -> SignedStatusChange:  # fmt: skip
        return self.registry.sign_status_change(
            self.signer, self.agency_id, root, target, proof, action, reason
        )

    def batch(self, size: int, *, first: int = 0) -> Batch:
        """`size` certificates for this agency and scope, wrapped under one root."""
        certificates = [parse_certificate(self.certificate_fields(first + n)) for n in range(size)]
        documents = wrap_certificates(certificates, identity_location=IDENTITY_LOCATION)
        root = "0x" + documents[0]["signature"]["merkleRoot"]
        leaves = ["0x" + d["signature"]["targetHash"] for d in documents]
        return Batch(documents, root, leaves, expiry_timestamp(date(2031, 6, 30)))

    def sign_batch(self, batch: Batch) -> SignedIssue:
        return self.sign_issue(batch.root, valid_until=batch.valid_until)

    def certificate_fields(self, n: int) -> dict[str, Any]:
        return {
            "kind": "skill_level",
            "certificate_number": f"CR2025{n:08d}",
            "holder": {"name": "张伟", "id_type": "passport", "id_number": f"E{n:08d}"},
            "occupation_code": OCCUPATION,
            "occupation_title": "电工",
            "level": LEVEL,
            "issue_date": "2025-06-30",
            "valid_until": "2031-06-30",
            "agency": {"id": self.agency_id, "name": "Digital Skills Assessment Centre"},
            "chain_id": self.manifest.chain_id,
            "registry": self.registry.address,
            "assessment": {"date": "2025-06-01", "session_id": "2025-06-A", "location": "北京", "score": 87},
        }


def random_hash() -> str:
    return "0x" + os.urandom(32).hex()


WORLD = LedgerSpec(
    scopes=(
        ScopeSpec(OCCUPATION, LEVEL, "Electrician, level 3"),
        ScopeSpec(OTHER_OCCUPATION, 4, "Blockchain engineering technician, level 4"),
    ),
    agencies=(AgencySpec("Digital Skills Assessment Centre", "BJ-0001", admin=1, signers=(2,), scopes=(0,)),),
    since=60,
)


def deploy_world(url: str) -> Deployed:
    """Deploy, define two scopes, register one agency accredited for the first, and give it a signer."""
    ledger = deploy_ledger(url, WORLD)
    assert ledger.scope_ids[0] == scope_id_of(OCCUPATION, LEVEL)
    (agency,) = ledger.agencies
    return Deployed(
        url,
        ledger.manifest,
        ledger.registry,
        ledger.governor,
        agency.admin,
        agency.signers[0],
        ANVIL_ACCOUNTS[3],
        ledger.scope_ids[0],
        ledger.scope_ids[1],
        agency.agency_id,
    )


__all__ = ["Batch", "Deployed", "deploy_world", "random_hash"]
