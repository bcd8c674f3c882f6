"""Certificates in every state a verification can report, put on the demo's ledger with the library's own
calls (as an agency and the governor would): suspended, expired, from a revoked agency, signed by a
compromised key, and one never issued. The demo provides the valid and the revoked ones.

Accounts are the well-known anvil test keys: 3 and 4 administer and sign for a second agency, 5 is a
second signer key of the demo agency.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.eip712 import StatusAction
from credreg.demo import ACCREDITED_FROM, Demo, demo_accounts
from credreg.documents.layout import wrap_certificates
from credreg.documents.model import CHINA_STANDARD_TIME
from credreg.documents.results import IssueContext, read_results
from credreg.documents.wrap import dump_document, load_document
from credreg.issuance import issue_results_file, signer_agency
from credreg.registry import AgencyAdmin, Governor, Registry, Relayer
from credreg.samples import write_sample_results

DAY = 86_400
REASON_UNDER_INVESTIGATION = 6
REASON_AGENCY_MISCONDUCT = 8


@dataclass(frozen=True)
class LedgerStates:
    suspended: Path
    expired: Path
    agency_revoked: Path
    signer_compromised: Path
    not_issued: Path


def _account(n: int) -> LocalAccount:
    return Account.from_key(ANVIL_TEST_KEYS[n])


def _issue(registry: Registry, signer: LocalAccount, out: Path, prefix: str, **sample: object) -> list[Path]:
    results = write_sample_results(out / f"{prefix}.csv", 2, prefix=prefix, **sample)
    outcome = issue_results_file(
        registry, signer, signer, results, out / prefix, identity_location="localhost"
    )
    return sorted(out / prefix / name for name in outcome.summary.files)


def _set_status(
    registry: Registry, signer: LocalAccount, path: Path, action: StatusAction, reason: int
) -> None:
    signature = load_document(path.read_bytes())["signature"]
    signed = registry.sign_status_change(
        signer,
        "0x" + signature["merkleRoot"],
        "0x" + signature["targetHash"],
        ["0x" + p for p in signature["proof"]],
        action,
        reason,
    )
    Relayer(registry, signer).set_status(signed)


def _never_issued(registry: Registry, signer: LocalAccount, out: Path) -> Path:
    """A correctly wrapped certificate for the demo agency whose batch was never sent to the ledger."""
    results = write_sample_results(out / "NEVER.csv", 1, prefix="NEVER")
    context = IssueContext(
        agency=signer_agency(registry, signer), chain_id=registry.domain.chain_id, registry=registry.address
    )
    (document,) = wrap_certificates(
        read_results(io.BytesIO(results.read_bytes()), context=context, file_format="csv"),
        identity_location="localhost",
    )
    path = out / "never-issued.json"
    path.write_text(dump_document(document) + "\n", encoding="utf-8")
    return path


def add_ledger_states(registry: Registry, demo: Demo, out: Path) -> LedgerStates:
    governor_key, admin_key, signer_key = demo_accounts()
    governor, admin = Governor(registry, governor_key), AgencyAdmin(registry, admin_key)
    scope_id = demo.scope_ids[0]

    suspended = _issue(registry, signer_key, out, "SUSP", seed=7)[0]
    _set_status(registry, signer_key, suspended, StatusAction.SUSPEND, REASON_UNDER_INVESTIGATION)

    # Valid until two days from the chain's today; the chain's clock is moved past that at the end.
    today = datetime.fromtimestamp(registry.block_time(), UTC).astimezone(CHINA_STANDARD_TIME).date()
    ends = today + timedelta(days=2)
    expired = _issue(registry, signer_key, out, "EXP", seed=8, issue_date=date(ends.year - 1, ends.month, ends.day),
                     valid_years=1)[0]  # fmt: skip

    other_admin, other_signer = _account(3), _account(4)
    other = governor.register_agency(
        "上海技能评价中心 Shanghai Skills Assessment Centre", "SH-SAC-0002", other_admin.address
    )
    governor.accredit(other, scope_id, ACCREDITED_FROM)
    AgencyAdmin(registry, other_admin).add_signer(other, other_signer.address, ACCREDITED_FROM)
    agency_revoked = _issue(registry, other_signer, out, "REVAG", seed=9)[0]
    issued_at = registry.record(
        "0x" + load_document(agency_revoked.read_bytes())["signature"]["merkleRoot"]
    ).issued_at
    governor.revoke_agency(other, issued_at, REASON_AGENCY_MISCONDUCT)

    leaked = _account(5)
    admin.add_signer(demo.agency_id, leaked.address, ACCREDITED_FROM)
    signer_compromised = _issue(registry, leaked, out, "LEAK", seed=10)[0]
    since = registry.record(
        "0x" + load_document(signer_compromised.read_bytes())["signature"]["merkleRoot"]
    ).issued_at
    admin.report_compromised(leaked.address, since)

    not_issued = _never_issued(registry, signer_key, out)

    moved = registry.w3.provider.make_request("evm_mine", [registry.block_time() + 4 * DAY])  # type: ignore[arg-type]
    assert "error" not in moved, moved
    return LedgerStates(suspended, expired, agency_revoked, signer_compromised, not_issued)
