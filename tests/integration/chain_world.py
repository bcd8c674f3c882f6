"""A deployed registry with a governor, one accredited agency and its signer key, ready to issue; and
batches of real wrapped certificates for it. Fixtures in conftest.py build it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from eth_account.signers.local import LocalAccount

from credreg.chain.client import connect
from credreg.chain.deploy import deploy_registry
from credreg.chain.eip712 import StatusAction
from credreg.chain.manifest import Manifest
from credreg.documents.layout import wrap_certificates
from credreg.documents.model import expiry_timestamp, parse_certificate
from credreg.documents.wrap import WrappedDocument
from credreg.registry import (
    AgencyAdmin,
    Governor,
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
class Deployed:
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


def deploy_world(url: str, accounts: Sequence[LocalAccount]) -> Deployed:
    """Deploy, define two scopes, register one agency accredited for the first, and give it a signer."""
    governor_key, admin, signer, relayer = accounts[:4]
    manifest = deploy_registry(connect(url), governor_key)
    registry = Registry.connect(url, manifest)
    governor = Governor(registry, governor_key)
    scope_id = governor.define_scope(OCCUPATION, LEVEL, "Electrician, level 3")
    other_scope_id = governor.define_scope(OTHER_OCCUPATION, 4, "Blockchain engineering technician, level 4")
    assert scope_id == scope_id_of(OCCUPATION, LEVEL)
    agency_id = governor.register_agency("Digital Skills Assessment Centre", "BJ-0001", admin.address)
    now = registry.block_time()
    governor.accredit(agency_id, scope_id, now - 60, 0)
    AgencyAdmin(registry, admin).add_signer(agency_id, signer.address, now - 60, 0)
    return Deployed(
        url, manifest, registry, governor_key, admin, signer, relayer, scope_id, other_scope_id, agency_id
    )


__all__ = ["Batch", "Deployed", "deploy_world", "random_hash"]
