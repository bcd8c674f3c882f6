"""Every route of the HTTP API, through a real uvicorn server, against a real anvil chain."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chain_world import Deployed, random_hash
from service_support import assert_problem, live_server, service_settings, settled, wait_for

from credreg import __version__
from credreg.api import create_app
from credreg.chain.eip712 import StatusAction
from credreg.registry import Governor, Relayer
from credreg.service import Service
from credreg.verify import STEPS


@pytest.fixture(scope="module")
def api(deployed: Deployed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = service_settings(tmp_path_factory.mktemp("service"), deployed)
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def issue(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/v1/issuances", json=body)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == response.json()["location"]
    return settled(api, response.json()["location"])


def change_status(api: httpx.Client, deployed: Deployed, root: str, target: str, proof: list[str],
                  action: StatusAction, reason: int = 0) -> dict[str, Any]:  # fmt: skip
    signed = deployed.sign_status(root, target, proof, action, reason)
    response = api.post("/v1/revocations", json=signed.model_dump(mode="json"))
    assert response.status_code == 202, response.text
    return settled(api, response.json()["location"])


def indexed(api: httpx.Client, block: int) -> None:
    wait_for(lambda: api.get("/v1/audit/events", params={"limit": 1}).json()["indexed_to"] >= block,
             what=f"the index to reach block {block}")  # fmt: skip


def test_healthz_answers_while_the_process_is_up(api: httpx.Client) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_is_ready_once_the_index_caught_up(api: httpx.Client, deployed: Deployed) -> None:
    head = deployed.registry.head()
    indexed(api, head)
    body = api.get("/readyz").json()
    assert body["ready"]
    assert body["chain_reachable"]
    assert body["contract_found"]
    assert body["index_caught_up"]
    assert body["indexed_to"] >= head


def test_registry_names_the_deployment(api: httpx.Client, deployed: Deployed) -> None:
    body = api.get("/v1/registry").json()
    manifest = deployed.manifest
    assert body["chain_id"] == manifest.chain_id == 31337
    assert body["registry"] == deployed.registry.address
    assert body["deployment_block"] == manifest.deployment_block
    assert body["governor"] == deployed.governor.address
    assert body["contract_version"] == deployed.registry.version()
    assert body["head_block"] >= manifest.deployment_block
    assert body["rpc_urls"] == [deployed.url]  # where `credreg verify --registry` reads the ledger


def test_scopes_are_listed_in_definition_order(api: httpx.Client, deployed: Deployed) -> None:
    scopes = api.get("/v1/scopes").json()["scopes"]
    assert [s["scope_id"] for s in scopes][:2] == [deployed.scope_id, deployed.other_scope_id]
    assert scopes[0]["occupation_code"] == "6-31-01-03"
    assert scopes[0]["level"] == 3
    assert scopes[0]["index"] == 1


def test_a_scope_is_found_by_code_and_level_or_by_its_id(api: httpx.Client, deployed: Deployed) -> None:
    by_code = api.get("/v1/scopes/6-31-01-03/3")
    assert by_code.status_code == 200, by_code.text
    assert by_code.json()["scope_id"] == deployed.scope_id
    assert api.get(f"/v1/scopes/{deployed.scope_id}").json() == by_code.json()
    assert_problem(api.get("/v1/scopes/6-31-01-03/4"), 404, "not-found", "scope")
    problem = assert_problem(api.get("/v1/scopes/2-02-1009/2"), 422, "validation", "scope")
    assert "D-DD-DD-DD" in problem["detail"]


def test_labels_serve_the_words_people_read(api: httpx.Client) -> None:
    body = api.get("/v1/labels").json()
    assert body["contract_errors"]["OwnableUnauthorizedAccount"]["zh"].startswith("此账户不是主管部门")
    assert body["levels"]["skill_level"]["1"]["zh"] == "一级/高级技师"
    assert body["levels"]["technical_grade"]["3"]["zh"] == "中级"
    assert body["fields"]["recipient.idNumber"] == {"zh": "身份证号", "en": "ID number"}
    assert body["reason_codes"]["7"]["en"] == "under investigation"


def test_agencies_are_listed_a_page_at_a_time(api: httpx.Client, deployed: Deployed) -> None:
    governor = Governor(deployed.registry, deployed.governor)
    for n in range(2):
        governor.register_agency(f"Paging Agency {n}", f"PG-{n}-{random_hash()[2:8]}", deployed.admin.address)
    first = api.get("/v1/agencies", params={"limit": 2}).json()
    assert [a["agency_id"] for a in first["agencies"]] == [1, 2]
    assert first["agencies"][0]["state"] == "active"
    assert first["agencies"][0]["name"]
    rest = api.get("/v1/agencies", params={"from_id": first["next_from_id"], "limit": 200}).json()
    assert rest["agencies"][0]["agency_id"] == 3
    assert rest["next_from_id"] is None


def test_agency_detail_shows_accreditations_signers_and_history(
    api: httpx.Client, deployed: Deployed
) -> None:
    d = deployed
    Governor(d.registry, d.governor).accredit(d.agency_id, d.other_scope_id, d.registry.block_time() - 5, 0)
    Governor(d.registry, d.governor).withdraw_accreditation(d.agency_id, d.other_scope_id)
    indexed(api, d.registry.head())
    body = api.get(f"/v1/agencies/{d.agency_id}").json()
    assert body["state"] == "active"
    assert body["admin"] == d.admin.address
    by_scope = {a["scope_id"]: a for a in body["accreditations"]}
    assert by_scope[d.scope_id]["active_now"] is True
    assert by_scope[d.scope_id]["valid_until"] == 0
    assert by_scope[d.other_scope_id]["active_now"] is False
    assert by_scope[d.other_scope_id]["valid_until"] > 0
    assert [s["address"] for s in body["signers"]] == [d.signer.address]
    assert body["signers"][0]["valid_now"] is True
    kinds = [e["type"] for e in body["history"]]
    assert kinds[:3] == ["AgencyRegistered", "AgencyAccredited", "SignerAdded"]
    assert kinds[-2:] == ["AgencyAccredited", "AccreditationWithdrawn"]
    positions = [(e["block_number"], e["log_index"]) for e in body["history"]]
    assert positions == sorted(positions)


def test_agency_unknown_is_404_and_out_of_range_is_422(api: httpx.Client) -> None:
    assert_problem(api.get("/v1/agencies/4000000"), 404, "not-found", "agency_id")
    assert_problem(api.get("/v1/agencies/0"), 422, "validation", "agency_id")
    assert_problem(api.get(f"/v1/agencies/{2**32}"), 422, "validation", "agency_id")


def test_issuance_is_relayed_and_confirmed_with_its_transaction(
    api: httpx.Client, deployed: Deployed
) -> None:
    d = deployed
    signed = d.sign_issue()
    done = issue(api, signed.model_dump(mode="json"))
    assert done["status"] == "confirmed", done
    receipt = d.registry.w3.eth.get_transaction_receipt(done["tx_hash"])
    assert receipt["status"] == 1
    assert receipt["blockNumber"] == done["block_number"]
    assert done["signer"] == d.signer.address
    assert done["agency_id"] == d.agency_id
    assert d.registry.record(d.agency_id, signed.request.root).signer == d.signer.address


def test_the_same_signed_issuance_twice_gets_the_same_id(api: httpx.Client, deployed: Deployed) -> None:
    body = deployed.sign_issue().model_dump(mode="json")
    first = api.post("/v1/issuances", json=body).json()
    # Hex case does not make a different request.
    body["request"]["root"] = body["request"]["root"].upper().replace("0X", "0x")
    again = api.post("/v1/issuances", json=body)
    assert again.status_code == 202
    assert again.json()["id"] == first["id"]
    assert again.json()["repeated"] is True
    assert first["repeated"] is False
    assert settled(api, first["location"])["status"] == "confirmed"
    third = api.post("/v1/issuances", json=body).json()
    assert third["id"] == first["id"]
    assert third["status"] == "confirmed"


def test_a_batch_with_leaves_answers_per_leaf_and_follows_status_changes(
    api: httpx.Client, deployed: Deployed
) -> None:
    d = deployed
    batch = d.batch(5)
    done = issue(api, d.sign_batch(batch).model_dump(mode="json") | {"leaves": batch.leaves})
    assert done["status"] == "confirmed", done
    revoked, suspended_doc = batch.leaves[1], batch.documents[3]

    leaf = api.get(f"/v1/credentials/{revoked}").json()
    assert leaf["kind"] == "leaf"
    assert leaf["root"] == batch.root
    assert leaf["valid"]
    assert leaf["verdict"] == "valid"
    assert leaf["record"]["valid_until"] == batch.valid_until
    assert leaf["record"]["agency_id"] == d.agency_id

    assert (
        change_status(api, d, batch.root, revoked, leaf["proof"], StatusAction.REVOKE, 7)["status"]
        == "confirmed"
    )
    after = api.get(f"/v1/credentials/{revoked}").json()
    assert after["verdict"] == "leaf-revoked"
    assert after["reason"] == 7
    assert not after["valid"]
    assert api.get(f"/v1/credentials/{batch.leaves[0]}").json()["verdict"] == "valid"

    # The root is a batch, never a valid certificate; it names the revoked certificate under it.
    root = api.get(f"/v1/credentials/{batch.root}").json()
    assert root["kind"] == "root"
    assert root["valid"] is None
    assert root["verdict"] == "valid"
    assert root["decided_by"] is None
    assert root["batch"]["leaves_known"] == 5
    indexed(api, root["checked_block"])
    changes = api.get(f"/v1/credentials/{batch.root}").json()["batch"]["status_changes"]
    assert [(c["target"], c["state"], c["reason"], c["known_leaf"]) for c in changes] == [
        (revoked, "revoked", 7, True)
    ]

    assert change_status(api, d, batch.root, batch.root, [], StatusAction.SUSPEND)["status"] == "confirmed"
    root = api.get(f"/v1/credentials/{batch.root}").json()
    assert root["kind"] == "root"
    assert root["verdict"] == "root-suspended"
    assert root["decided_by"] == batch.root
    report = api.post("/v1/verify", json=suspended_doc).json()
    assert report["code"] == "suspended"
    assert report["verdict"] == "invalid"

    reinstated = change_status(api, d, batch.root, batch.root, [], StatusAction.REINSTATE)
    assert reinstated["status"] == "confirmed"
    assert reinstated["action"] == 3
    assert reinstated["nonce"] == 1
    assert api.get(f"/v1/credentials/{batch.root}").json()["verdict"] == "valid"
    revocation = api.get(f"/v1/revocations/{reinstated['id']}").json()
    assert revocation["target"] == batch.root
    assert revocation["kind"] == "status-change"


def test_verify_takes_one_document_or_a_list(api: httpx.Client, deployed: Deployed) -> None:
    d = deployed
    batch = d.batch(2, first=100)
    assert issue(api, d.sign_batch(batch).model_dump(mode="json"))["status"] == "confirmed"
    single = api.post("/v1/verify", json=batch.documents[0])
    assert single.status_code == 200
    report = single.json()
    assert report["verdict"] == "valid"
    assert report["code"] == "valid"
    assert [s["name"] for s in report["steps"]][:2] == ["format", "integrity"]
    assert report["agency"]["agency_id"] == d.agency_id

    tampered = dict(batch.documents[1])
    tampered["data"] = dict(tampered["data"]) | {"recipient": dict(tampered["data"]["recipient"])}
    tampered["data"]["recipient"]["name"] = tampered["data"]["recipient"]["name"].replace("张伟", "李娜")
    never = d.batch(1, first=200).documents[0]
    reports = api.post("/v1/verify", json=[batch.documents[0], tampered, never, {"not": "a document"}]).json()
    assert [r["code"] for r in reports] == ["valid", "tampered", "not-issued", "malformed"]


def test_credential_lookup_of_an_unknown_hash_says_what_it_cannot_tell(api: httpx.Client) -> None:
    response = api.get(f"/v1/credentials/{random_hash()}")
    assert_problem(response, 404, "unknown-hash", "hash")
    detail = response.json()["detail"]
    assert "does not mean it was not issued" in detail
    assert "POST /v1/verify" in detail


def test_a_batch_issued_outside_the_service_is_answered_by_root_proof_and_own_status(
    api: httpx.Client, deployed: Deployed
) -> None:
    d = deployed
    batch = d.batch(4, first=400)
    Relayer(d.registry, d.relayer).issue(d.sign_batch(batch))
    proofs = [["0x" + p for p in doc["signature"]["proof"]] for doc in batch.documents]
    revoked = batch.leaves[2]
    Relayer(d.registry, d.relayer).set_status(
        d.sign_status(batch.root, revoked, proofs[2], StatusAction.REVOKE, 4)
    )
    # The service does not know the leaves: a valid certificate's hash alone cannot be answered ...
    assert_problem(api.get(f"/v1/credentials/{batch.leaves[0]}"), 404, "unknown-hash", "hash")
    # ... but with its root and proof it can (what the page's QR codes carry).
    answer = api.get(
        f"/v1/credentials/{batch.leaves[0]}", params={"root": batch.root, "proof": ",".join(proofs[0])}
    ).json()
    assert (answer["kind"], answer["valid"], answer["verdict"], answer["root"]) == (
        "leaf",
        True,
        "valid",
        batch.root,
    )
    assert answer["checked_block"] > 0
    # The revoked one is found by its own status change, which names its batch.
    indexed(api, d.registry.head())
    leaf = api.get(f"/v1/credentials/{revoked}").json()
    assert (leaf["verdict"], leaf["valid"], leaf["root"], leaf["reason"], leaf["proof_known"]) == (
        "leaf-revoked",
        False,
        batch.root,
        4,
        False,
    )
    root = api.get(f"/v1/credentials/{batch.root}").json()
    assert root["valid"] is None
    assert root["batch"]["leaves_known"] is None
    assert [(c["target"], c["state"], c["known_leaf"]) for c in root["batch"]["status_changes"]] == [
        (revoked, "revoked", False)
    ]


def test_labels_and_a_verification_qr_code(api: httpx.Client, deployed: Deployed) -> None:
    labels = api.get("/v1/labels").json()
    assert labels["version"] == __version__
    assert labels["time_zone"] == "Asia/Shanghai"
    assert labels["levels"]["skill_level"]["5"]["zh"] == "五级/初级工"
    assert labels["levels"]["technical_grade"]["3"]["zh"] == "中级"
    assert labels["fields"]["recipient.idNumber"]["zh"] == "身份证号"
    assert labels["reasons"]["1"]["en"] == "the certificate's details were wrong"
    assert labels["contract_errors"]["CredentialRegistryStatusHeldByGovernor"]["zh"].startswith(
        "该证书由主管部门暂停"
    )
    assert set(labels["steps"]) == {name for name, _ in STEPS}

    batch = deployed.batch(2, first=500)
    proof = ",".join("0x" + p for p in batch.documents[0]["signature"]["proof"])
    qr = api.get(
        "/v1/qr/verify.svg",
        params={"agency": deployed.agency_id, "root": batch.root, "leaf": batch.leaves[0], "proof": proof},
    )
    assert qr.status_code == 200
    assert qr.headers["content-type"] == "image/svg+xml"
    assert qr.text.startswith("<svg")
    assert 'xmlns="http://www.w3.org/2000/svg"' in qr.text
    raw = base64.urlsafe_b64decode(qr.headers["x-link"].split("?v=")[1] + "==")
    assert int.from_bytes(raw[:4], "big") == deployed.agency_id
    raw = raw[4:]
    assert ["0x" + raw[i : i + 32].hex() for i in range(0, len(raw), 32)] == [
        batch.root,
        batch.leaves[0],
        *proof.split(","),
    ]
    bad = api.get(
        "/v1/qr/verify.svg", params={"agency": deployed.agency_id, "root": batch.root, "leaf": "0x12"}
    )
    assert_problem(bad, 422, "validation", "leaf")


def test_a_root_issued_outside_the_service_is_answered_too(api: httpx.Client, deployed: Deployed) -> None:
    d = deployed
    signed = d.sign_issue()
    Relayer(d.registry, d.relayer).issue(signed)
    body = api.get(f"/v1/credentials/{signed.request.root}").json()
    assert body["kind"] == "root"
    assert body["verdict"] == "valid"
    assert body["proof"] == []


def test_audit_events_filter_and_paginate(api: httpx.Client, deployed: Deployed) -> None:
    d = deployed
    batch = d.batch(2, first=300)
    issued = issue(api, d.sign_batch(batch).model_dump(mode="json"))
    indexed(api, issued["block_number"])

    everything: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = api.get("/v1/audit/events", params=params).json()
        everything += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    positions = [(e["block_number"], e["log_index"]) for e in everything]
    assert positions == sorted(set(positions)), "pages overlap or are out of order"
    whole = api.get("/v1/audit/events", params={"limit": 1000}).json()["events"]
    assert everything == whole

    mine = api.get("/v1/audit/events", params={"root": batch.root}).json()["events"]
    assert [e["type"] for e in mine] == ["CredentialIssued"]
    assert mine[0]["transaction_hash"] == issued["tx_hash"]
    assert mine[0]["args"]["signer"] == d.signer.address

    typed = api.get(
        "/v1/audit/events", params=[("type", "ScopeDefined"), ("type", "AgencyRegistered")]
    ).json()
    assert {e["type"] for e in typed["events"]} == {"ScopeDefined", "AgencyRegistered"}
    agency = api.get("/v1/audit/events", params={"agency_id": d.agency_id, "limit": 1000}).json()["events"]
    assert agency
    assert all(e["agency_id"] == d.agency_id for e in agency)
    block = issued["block_number"]
    ranged = api.get("/v1/audit/events", params={"from_block": block, "to_block": block}).json()["events"]
    assert ranged
    assert all(e["block_number"] == block for e in ranged)


def test_api_docs_are_served_without_any_cdn(api: httpx.Client) -> None:
    for page in ("/docs", "/redoc"):
        html = api.get(page)
        assert html.status_code == 200
        assert "text/html" in html.headers["content-type"]
        external = re.findall(r"""(?:src|href)=["']?(https?:)?//""", html.text) + re.findall(
            r"https?://", html.text
        )
        assert not external, f"{page} loads from elsewhere: {external}"
        for asset in re.findall(r"""(?:src|href)=["'](/docs-assets/[^"']+)""", html.text):
            assert api.get(asset).status_code == 200, asset
    schema = api.get("/openapi.json").json()
    assert {"/v1/issuances", "/v1/revocations", "/v1/verify", "/v1/audit/events"} <= set(schema["paths"])
    # Real examples: a certificate to verify, and a signed issuance with how to build and sign one.
    verify_body = schema["paths"]["/v1/verify"]["post"]["requestBody"]["content"]["application/json"]
    assert (
        verify_body["examples"]["certificate"]["value"]["version"]
        == "https://schema.openattestation.com/2.0/schema.json"
    )
    issuance = schema["paths"]["/v1/issuances"]["post"]
    assert "sign_issue" in issuance["description"]
    assert issuance["requestBody"]["content"]["application/json"]["examples"]["signed"]["value"]["signature"][
        "vs"
    ]


def test_unknown_paths_and_methods_are_problems(api: httpx.Client) -> None:
    assert_problem(api.get("/v1/nothing-here"), 404, "not-found")
    assert_problem(api.delete("/v1/issuances"), 405, "method-not-allowed")


def test_audit_report_replays_the_ledger(api: httpx.Client, deployed: Deployed) -> None:
    head = deployed.registry.head()
    report = api.get("/v1/audit/report")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["clean"] is True, body["findings"]
    assert body["through_block"] >= head
    assert body["totals"]
    again = api.get("/v1/audit/report", params={"at_block": body["through_block"]}).json()
    assert again["digest"] == body["digest"]
    assert_problem(api.get("/v1/audit/report", params={"at_block": 10**9}), 422, "validation", "at_block")


def test_a_request_the_contract_refuses_later_fails_with_the_reason_and_can_be_retried(
    deployed: Deployed, tmp_path: Path
) -> None:
    d = deployed
    service = Service(service_settings(tmp_path / "service", d, outbox_worker=False))
    with (
        live_server(create_app(service.settings, service=service)) as url,
        httpx.Client(base_url=url) as client,
    ):
        signed = d.sign_issue().model_dump(mode="json")
        accepted = client.post("/v1/issuances", json=signed).json()
        governor = Governor(d.registry, d.governor)
        governor.suspend_agency(d.agency_id, 4)  # after acceptance, before relaying
        try:
            service.outbox.run_once()
            failed = client.get(accepted["location"]).json()
            assert failed["status"] == "failed"
            assert failed["error"]["name"] == "CredentialRegistryAgencyNotActive"
            assert failed["error"]["args"]["agencyId"] == d.agency_id
            assert_problem(client.post("/v1/issuances", json=signed), 422, "agency-not-active", "signature")
        finally:
            governor.reinstate_agency(d.agency_id)
        again = client.post("/v1/issuances", json=signed).json()
        assert again["id"] == accepted["id"]
        assert again["status"] == "pending"
        wait_for(lambda: service.outbox.run_once() == 0 and service.outbox.open_count() == 0, what="relayed")
        done = client.get(accepted["location"]).json()
        assert done["status"] == "confirmed", done
        assert done["error"] is None
