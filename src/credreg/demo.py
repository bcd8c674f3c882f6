"""The demo `credreg run` seeds on a fresh dev chain: a governor, two scopes, an accredited agency and a
few sample certificates under `<data_dir>/demo/`. Every step is idempotent, so an interrupted seeding
finishes on the next start.

All keys are the well-known anvil test keys: account 0 governs, 1 administers the demo agency, 2 signs
for it. They are for the dev chain only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.eip712 import StatusAction
from credreg.chain.manifest import write_atomically
from credreg.documents.disclosure import disclose
from credreg.documents.wrap import dump_document, load_document
from credreg.issuance import issue_results_file
from credreg.registry import AgencyAdmin, Governor, Registry, Relayer, Status, scope_id_of
from credreg.samples import AI_TECHNICIAN, BLOCKCHAIN_TECHNICIAN, SampleScope, write_sample_results

DEMO_AGENCY_NAME = "北京数字技能评价中心 Beijing Digital Skills Evaluation Centre"
DEMO_AGENCY_CODE = "BJ-DSE-0001"
DEMO_CERTIFICATES = 5
ACCREDITED_FROM = 1767196800  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class Demo:
    directory: Path
    agency_id: int
    scope_ids: tuple[str, ...]
    certificates: Path
    shared: Path
    revoked: Path


def demo_accounts() -> tuple[LocalAccount, LocalAccount, LocalAccount]:
    governor, admin, signer = (Account.from_key(k) for k in ANVIL_TEST_KEYS[:3])
    return governor, admin, signer


def _scope(registry: Registry, governor: Governor, scope: SampleScope) -> str:
    scope_id = scope_id_of(scope.occupation_code, scope.level)
    if registry.scope(scope_id).index == 0:
        governor.define_scope(scope.occupation_code, scope.level, scope.occupation_title)
    return scope_id


def seed_demo(registry: Registry, data_dir: Path) -> Demo:
    """Create (or finish creating) the demo on `registry`, writing its files under `data_dir/demo`."""
    directory = data_dir / "demo"
    gov_key, admin_key, signer_key = demo_accounts()
    governor = Governor(registry, gov_key)
    scope_ids = tuple(_scope(registry, governor, s) for s in (BLOCKCHAIN_TECHNICIAN, AI_TECHNICIAN))
    agency_id = next(
        (
            i
            for i in range(1, registry.agency_count() + 1)
            if registry.agency(i).registration_code == DEMO_AGENCY_CODE
        ),
        0,
    )
    if agency_id == 0:
        agency_id = governor.register_agency(DEMO_AGENCY_NAME, DEMO_AGENCY_CODE, admin_key.address)
    for scope_id in scope_ids:
        if registry.accreditation(agency_id, scope_id).scope_index == 0:
            governor.accredit(agency_id, scope_id, ACCREDITED_FROM, 0)
    if registry.signer(signer_key.address).agency_id == 0:
        AgencyAdmin(registry, admin_key).add_signer(agency_id, signer_key.address, ACCREDITED_FROM, 0)
    results = directory / "results.csv"
    if not results.exists():
        write_sample_results(results, DEMO_CERTIFICATES, prefix="DEMO")
    certificates = directory / "certificates"
    outcome = issue_results_file(
        registry, signer_key, signer_key, results, certificates, identity_location="localhost"
    )
    files = sorted(certificates / name for name in outcome.summary.files)
    shared = directory / "shared-with-employer.json"
    if not shared.exists():
        document = load_document(files[0].read_bytes())
        write_atomically(shared, dump_document(disclose(document, ["recipient.idNumber"])) + "\n")
    revoked = files[-1]
    revoked_doc = load_document(revoked.read_bytes())
    target = "0x" + revoked_doc["signature"]["targetHash"]
    if registry.status_of(agency_id, target).status is Status.NONE:
        proof = ["0x" + p for p in revoked_doc["signature"]["proof"]]
        signed = registry.sign_status_change(
            signer_key,
            agency_id,
            "0x" + revoked_doc["signature"]["merkleRoot"],
            target,
            proof,
            StatusAction.REVOKE,
            1,
        )
        Relayer(registry, signer_key).set_status(signed)
    demo = Demo(directory, agency_id, scope_ids, certificates, shared, revoked)
    guide = {
        "agency_id": agency_id,
        "scopes": list(scope_ids),
        "valid_certificate": str(files[0]),
        "shared_with_employer": str(shared),
        "revoked_certificate": str(revoked),
        "root": outcome.summary.root,
    }
    write_atomically(directory / "demo.json", json.dumps(guide, indent=2, ensure_ascii=False) + "\n")
    return demo
