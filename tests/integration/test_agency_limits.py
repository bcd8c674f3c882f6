"""Per-agency limits through the HTTP API on a real chain: a rate limit on signed requests and a daily
relaying quota (transactions and gas), each answered 429 with Retry-After, counted in the database so that a
restarted service still counts and other agencies are unaffected; and the horizons of dates a request carries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from chain_world import Deployed, random_hash
from eth_account.signers.local import LocalAccount
from service_support import assert_problem, live_server, service_settings, settled
from sqlalchemy import select

from credreg.api import create_app
from credreg.chain.eip712 import StatusAction
from credreg.chain.states import AgencyState
from credreg.registry import AgencyAdmin, Governor
from credreg.service import Database, Service
from credreg.service.db import OutboxRow
from credreg.service.limits import LimitReached

DAY = 86_400
UNLIMITED = {"agency_requests_per_minute": 0, "agency_tx_per_day": 0, "agency_gas_per_day": 0}


@pytest.fixture(scope="module")
def other(deployed: Deployed, anvil_accounts: list[LocalAccount]) -> Deployed:
    """A second agency, accredited for the same scope, with its own admin (account 4) and signer (5)."""
    admin, signer = anvil_accounts[4], anvil_accounts[5]
    governor = Governor(deployed.registry, deployed.governor)
    agency_id = governor.register_agency("Vocational Skills Centre", "SH-0002", admin.address)
    now = deployed.registry.block_time()
    governor.accredit(agency_id, deployed.scope_id, now - 60, 0)
    AgencyAdmin(deployed.registry, admin).add_signer(agency_id, signer.address, now - 60, 0)
    return replace(deployed, admin=admin, signer=signer, agency_id=agency_id)


@contextmanager
def service(data_dir: Path, deployed: Deployed, **limits: Any) -> Iterator[httpx.Client]:
    settings = service_settings(data_dir, deployed, **(UNLIMITED | limits))
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def issue(client: httpx.Client, agency: Deployed) -> httpx.Response:
    return client.post("/v1/issuances", json=agency.sign_issue().model_dump(mode="json"))


def retry_after(response: httpx.Response) -> int:
    value = int(response.headers["Retry-After"])
    assert value >= 1, response.headers
    return value


def test_the_request_past_an_agencys_rate_limit_is_429_and_a_restart_still_counts(
    deployed: Deployed, other: Deployed, tmp_path: Path
) -> None:
    with service(tmp_path, deployed, agency_requests_per_minute=3) as client:
        for _ in range(3):
            assert issue(client, deployed).status_code == 202
        refused = issue(client, deployed)
        body = assert_problem(refused, 429, "rate-limited")
        assert f"agency {deployed.agency_id}" in body["detail"]
        assert retry_after(refused) <= 60
        assert issue(client, other).status_code == 202  # another agency has its own count
    with service(tmp_path, deployed, agency_requests_per_minute=3) as client:  # same database, new process
        assert_problem(issue(client, deployed), 429, "rate-limited")
        assert retry_after(issue(client, deployed)) <= 60
        assert issue(client, other).status_code == 202


def test_the_daily_transaction_quota_refuses_with_429_until_a_day_has_passed(
    deployed: Deployed, other: Deployed, tmp_path: Path
) -> None:
    with service(tmp_path, deployed, agency_tx_per_day=2) as client:
        locations = [issue(client, deployed).json()["location"] for _ in range(2)]
        refused = issue(client, deployed)
        assert_problem(refused, 429, "quota-exceeded")
        assert DAY - 120 <= retry_after(refused) <= DAY
        assert issue(client, other).status_code == 202
        assert all(settled(client, location)["status"] == "confirmed" for location in locations)
        # A status change is a transaction too.
        root = client.get(locations[0]).json()["root"]
        revoke = deployed.sign_status(root, root, [], StatusAction.REVOKE)
        assert_problem(
            client.post("/v1/revocations", json=revoke.model_dump(mode="json")), 429, "quota-exceeded"
        )
    with service(tmp_path, deployed, agency_tx_per_day=2) as client:
        assert_problem(issue(client, deployed), 429, "quota-exceeded")
    with service(tmp_path, deployed, agency_tx_per_day=3) as client:  # a raised quota takes effect at once
        assert issue(client, deployed).status_code == 202


def test_the_daily_gas_quota_counts_estimates_then_the_gas_really_used(
    deployed: Deployed, other: Deployed, tmp_path: Path
) -> None:
    # An issuance costs about 62,000 gas: two fit in 160,000, a third does not.
    with service(tmp_path, deployed, agency_gas_per_day=160_000) as client:
        locations = [issue(client, deployed).json()["location"] for _ in range(2)]
        assert all(settled(client, location)["status"] == "confirmed" for location in locations)
        refused = issue(client, deployed)
        body = assert_problem(refused, 429, "quota-exceeded")
        assert "gas" in body["detail"]
        assert DAY - 120 <= retry_after(refused) <= DAY
        assert issue(client, other).status_code == 202

    db = Database(service_settings(tmp_path, deployed).effective_database_url)
    try:
        with db.session() as session:
            rows = session.scalars(select(OutboxRow).where(OutboxRow.agency_id == deployed.agency_id)).all()
        assert len(rows) == 2
        for row in rows:
            receipt = deployed.registry.w3.eth.get_transaction_receipt(row.tx_hash)  # type: ignore[arg-type]
            assert row.gas_estimate is not None
            assert row.gas_estimate >= receipt["gasUsed"]
            assert row.gas_used == receipt["gasUsed"]  # the estimate was replaced by what was really used
    finally:
        db.dispose()


def test_a_status_change_or_issue_deadline_in_the_year_3000_is_refused(
    deployed: Deployed, tmp_path: Path
) -> None:
    year_3000 = 32_503_680_000
    with service(tmp_path, deployed) as client:
        location = issue(client, deployed).json()["location"]
        root = settled(client, location)["root"]
        far = deployed.registry.sign_status_change(
            deployed.signer, deployed.agency_id, root, root, [], StatusAction.REVOKE, deadline=year_3000
        )
        assert_problem(
            client.post("/v1/revocations", json=far.model_dump(mode="json")),
            422,
            "deadline-too-far",
            "request.deadline",
        )
        request = deployed.registry.issue_request(random_hash(), deployed.scope_id, deadline=year_3000)
        far_issue = deployed.registry.sign_issue(deployed.signer, request)
        assert_problem(
            client.post("/v1/issuances", json=far_issue.model_dump(mode="json")),
            422,
            "deadline-too-far",
            "request.deadline",
        )


def test_a_validity_date_beyond_the_horizon_is_refused(deployed: Deployed, tmp_path: Path) -> None:
    now = deployed.registry.block_time()
    with service(tmp_path, deployed, valid_until_horizon_years=100) as client:
        far = deployed.sign_issue(valid_until=now + 101 * 365 * DAY)
        body = assert_problem(
            client.post("/v1/issuances", json=far.model_dump(mode="json")),
            422,
            "valid-until-too-far",
            "request.valid_until",
        )
        assert "100 years" in body["detail"]
        near = deployed.sign_issue(valid_until=now + 99 * 365 * DAY)
        assert client.post("/v1/issuances", json=near.model_dump(mode="json")).status_code == 202


def test_a_failed_request_sent_again_counts_against_the_quota(deployed: Deployed, tmp_path: Path) -> None:
    settings = service_settings(
        tmp_path, deployed, **(UNLIMITED | {"agency_tx_per_day": 1, "outbox_worker": False})
    )
    svc = Service(settings)
    governor = Governor(deployed.registry, deployed.governor)
    try:
        svc.db.create_schema()
        first = deployed.sign_issue()
        row, _ = svc.outbox.accept_issue(first)
        governor.suspend_agency(deployed.agency_id, 9)
        svc.outbox.run_once()  # the ledger refuses a suspended agency before anything is sent: it cost nothing
        assert svc.outbox.get(row.id).status == "failed"  # type: ignore[union-attr]
        governor.reinstate_agency(deployed.agency_id)
        assert svc.outbox.accept_issue(deployed.sign_issue())[1]
        with pytest.raises(LimitReached) as refused:  # sending the first again would be a second transaction
            svc.outbox.accept_issue(first)
        assert refused.value.problem == "quota-exceeded"
        assert svc.outbox.get(row.id).status == "failed"  # type: ignore[union-attr]
    finally:
        if deployed.registry.agency(deployed.agency_id).state == AgencyState.SUSPENDED:
            governor.reinstate_agency(deployed.agency_id)
        svc.db.dispose()
