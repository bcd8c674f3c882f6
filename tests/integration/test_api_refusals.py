"""Bad input of every kind gets a 4xx RFC 9457 problem naming what is wrong; nothing is stored for it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chain_world import Deployed, random_hash
from eth_account import Account
from service_support import assert_problem, live_server, service_settings, settled

from credreg.api import create_app
from credreg.chain.eip712 import StatusAction
from credreg.registry import Relayer

MAX_BODY = 64 * 1024
MAX_LEAVES = 8
MAX_BATCH = 3


@pytest.fixture(scope="module")
def api(deployed: Deployed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = service_settings(
        tmp_path_factory.mktemp("service"),
        deployed,
        max_body_bytes=MAX_BODY,
        max_leaves=MAX_LEAVES,
        max_batch=MAX_BATCH,
    )
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture
def issuance(deployed: Deployed) -> dict[str, Any]:
    """A valid signed issuance body, as JSON."""
    return deployed.sign_issue().model_dump(mode="json")


def post(api: httpx.Client, path: str, body: Any) -> httpx.Response:
    return api.post(path, json=body)


# --- not JSON, not the right shape -------------------------------------------------------------------


def test_a_body_that_is_not_json_is_400(api: httpx.Client) -> None:
    response = api.post(
        "/v1/issuances", content=b'{"chain_id": 1,', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed-json")
    assert_problem(
        api.post("/v1/verify", content=b"\xff\xfe not utf-8", headers={"content-type": "application/json"}),
        400,
        "malformed-json",
    )


def test_json_nested_beyond_reason_is_400(api: httpx.Client) -> None:
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    response = api.post("/v1/verify", content=deep, headers={"content-type": "application/json"})
    assert_problem(response, 400, "malformed-json")


def test_a_body_that_is_not_declared_json_is_415(api: httpx.Client, issuance: dict[str, Any]) -> None:
    response = api.post("/v1/issuances", content=json.dumps(issuance), headers={"content-type": "text/plain"})
    assert_problem(response, 415, "unsupported-media-type")


def test_an_empty_body_names_the_body(api: httpx.Client) -> None:
    assert_problem(api.post("/v1/issuances"), 422, "validation", "body")


def test_wrong_types_name_the_field(api: httpx.Client, issuance: dict[str, Any]) -> None:
    assert_problem(post(api, "/v1/issuances", [issuance]), 422, "validation")
    assert_problem(
        post(api, "/v1/issuances", issuance | {"chain_id": "thirty-one"}), 422, "validation", "chain_id"
    )
    bad = json.loads(json.dumps(issuance))
    bad["request"]["valid_until"] = -1
    assert_problem(post(api, "/v1/issuances", bad), 422, "validation", "request.valid_until")
    bad["request"]["valid_until"] = 2**40
    assert_problem(post(api, "/v1/issuances", bad), 422, "validation", "request.valid_until")
    assert_problem(post(api, "/v1/revocations", {"request": "revoke it"}), 422, "validation")


def test_missing_and_unknown_fields_are_named(api: httpx.Client, issuance: dict[str, Any]) -> None:
    missing = {k: v for k, v in issuance.items() if k != "signature"}
    assert_problem(post(api, "/v1/issuances", missing), 422, "validation", "signature")
    assert_problem(post(api, "/v1/issuances", issuance | {"sig": "0x00"}), 422, "validation", "sig")


@pytest.mark.parametrize(
    "root",
    [
        "0x" + "zz" * 32,  # not hex
        "0x" + "ab" * 31,  # 31 bytes
        "0x" + "ab" * 33,  # 33 bytes
        "ab" * 32,  # no 0x
        "",
    ],
)
def test_bad_hex_and_wrong_lengths_are_refused(
    api: httpx.Client, issuance: dict[str, Any], root: str
) -> None:
    issuance["request"]["root"] = root
    body = assert_problem(post(api, "/v1/issuances", issuance), 422, "validation", "request.root")
    assert "64 hex digits" in body["detail"]


def test_a_bad_signature_is_refused(api: httpx.Client, issuance: dict[str, Any]) -> None:
    assert_problem(
        post(
            api, "/v1/issuances", issuance | {"signature": {"r": "0x12", "vs": issuance["signature"]["vs"]}}
        ),
        422,
        "validation",
        "signature.r",
    )
    # EIP-2098 keeps 255 bits for s: values above n/2 that fit are the malleable twins.
    high_s = {"r": issuance["signature"]["r"], "vs": "0x7" + "f" * 63}
    body = assert_problem(
        post(api, "/v1/issuances", issuance | {"signature": high_s}),
        422,
        "invalid-signature",
        "signature.vs",
    )
    assert "upper half" in body["detail"]
    zero = {"r": "0x" + "00" * 32, "vs": "0x" + "00" * 32}
    assert_problem(
        post(api, "/v1/issuances", issuance | {"signature": zero}), 422, "invalid-signature", "signature"
    )


# --- signed for something else ------------------------------------------------------------------------


def test_a_request_signed_for_another_chain_or_registry_is_422(
    api: httpx.Client, issuance: dict[str, Any]
) -> None:
    assert_problem(post(api, "/v1/issuances", issuance | {"chain_id": 1}), 422, "wrong-domain", "chain_id")
    other = "0x" + "11" * 20
    assert_problem(
        post(api, "/v1/issuances", issuance | {"registry": other}), 422, "wrong-domain", "registry"
    )


def test_a_signature_by_a_stranger_is_refused_by_the_contract(api: httpx.Client, deployed: Deployed) -> None:
    stranger = Account.create()
    body = deployed.sign_issue(signer=stranger).model_dump(mode="json")
    problem = assert_problem(post(api, "/v1/issuances", body), 422, "unknown-signer", "signature")
    assert problem["contract_error"]["name"] == "CredentialRegistryUnknownSigner"
    assert problem["contract_error"]["args"]["signer"] == stranger.address
    assert problem["contract_error"]["zh"].startswith("此签名密钥不属于任何评价机构")
    assert problem["contract_error"]["en"].startswith("this key is not a signer of any agency")


def test_a_scope_the_agency_is_not_accredited_for_is_refused(api: httpx.Client, deployed: Deployed) -> None:
    body = deployed.sign_issue(scope_id=deployed.other_scope_id).model_dump(mode="json")
    assert_problem(post(api, "/v1/issuances", body), 422, "not-accredited", "request.scope_id")


def test_an_expiry_in_the_past_is_refused(api: httpx.Client, deployed: Deployed) -> None:
    body = deployed.sign_issue(valid_until=1_000).model_dump(mode="json")
    assert_problem(post(api, "/v1/issuances", body), 422, "invalid-valid-until", "request.valid_until")


def test_a_root_already_on_the_ledger_is_a_conflict(api: httpx.Client, deployed: Deployed) -> None:
    signed = deployed.sign_issue()
    Relayer(deployed.registry, deployed.relayer).issue(signed)
    again = deployed.sign_issue(signed.request.root, valid_until=deployed.registry.block_time() + 10**6)
    assert_problem(
        post(api, "/v1/issuances", again.model_dump(mode="json")), 409, "already-issued", "request.root"
    )

    mine = deployed.sign_issue()
    first = post(api, "/v1/issuances", mine.model_dump(mode="json")).json()
    assert settled(api, first["location"])["status"] == "confirmed"
    rival = deployed.sign_issue(mine.request.root, valid_until=deployed.registry.block_time() + 10**6)
    body = assert_problem(
        post(api, "/v1/issuances", rival.model_dump(mode="json")), 409, "already-requested", "request.root"
    )
    assert first["id"] in body["detail"]


def test_leaves_must_make_the_root_and_stay_within_the_limit(api: httpx.Client, deployed: Deployed) -> None:
    batch = deployed.batch(3, first=500)
    body = deployed.sign_batch(batch).model_dump(mode="json")
    assert_problem(
        post(api, "/v1/issuances", body | {"leaves": batch.leaves[:2]}), 422, "invalid-leaves", "leaves"
    )
    assert_problem(
        post(api, "/v1/issuances", body | {"leaves": [batch.leaves[0]] * 3}), 422, "invalid-leaves", "leaves"
    )
    too_many = [random_hash() for _ in range(MAX_LEAVES + 1)]
    assert_problem(post(api, "/v1/issuances", body | {"leaves": too_many}), 422, "batch-too-large", "leaves")
    assert_problem(post(api, "/v1/issuances", body | {"leaves": ["0x1234"]}), 422, "validation", "leaves[0]")


def test_status_changes_with_a_stale_nonce_bad_proof_or_wrong_transition(
    api: httpx.Client, deployed: Deployed
) -> None:
    signed = deployed.sign_issue()
    Relayer(deployed.registry, deployed.relayer).issue(signed)
    root = signed.request.root

    reinstate = deployed.sign_status(root, root, [], StatusAction.REINSTATE)
    assert_problem(
        post(api, "/v1/revocations", reinstate.model_dump(mode="json")),
        409,
        "invalid-transition",
        "request.action",
    )

    wrong_proof = deployed.sign_status(root, random_hash(), [random_hash()], StatusAction.REVOKE)
    assert_problem(
        post(api, "/v1/revocations", wrong_proof.model_dump(mode="json")), 422, "invalid-proof", "proof"
    )

    stale = deployed.sign_status(root, root, [], StatusAction.SUSPEND)
    Relayer(deployed.registry, deployed.relayer).set_status(
        deployed.sign_status(root, root, [], StatusAction.SUSPEND)
    )
    body = assert_problem(
        post(api, "/v1/revocations", stale.model_dump(mode="json")), 409, "stale-nonce", "request.nonce"
    )
    assert "nonce 1" in body["detail"]

    expired = deployed.registry.sign_status_change(
        deployed.signer,
        deployed.agency_id,
        root,
        root,
        [],
        StatusAction.REVOKE,
        deadline=deployed.registry.block_time() - 100,
    )
    assert_problem(
        post(api, "/v1/revocations", expired.model_dump(mode="json")),
        422,
        "expired-signature",
        "request.deadline",
    )
    bad_action = expired.model_dump(mode="json")
    bad_action["request"]["action"] = 9
    assert_problem(post(api, "/v1/revocations", bad_action), 422, "validation", "request.action")


# --- limits --------------------------------------------------------------------------------------------


def test_a_huge_body_is_413(api: httpx.Client, issuance: dict[str, Any]) -> None:
    huge = json.dumps(issuance | {"leaves": ["0x" + "ab" * 32] * 2000}).encode()
    assert len(huge) > MAX_BODY
    assert_problem(api.post("/v1/issuances", content=huge, headers={"content-type": "application/json"}), 413,
                   "body-too-large")  # fmt: skip

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while reading
        for _ in range(MAX_BODY // 1024 + 2):
            yield b" " * 1024

    response = api.post("/v1/verify", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(response, 413, "body-too-large")
    assert api.get("/healthz").status_code == 200


def test_verify_refuses_empty_and_oversized_lists(api: httpx.Client) -> None:
    assert_problem(post(api, "/v1/verify", []), 422, "validation", "body")
    assert_problem(post(api, "/v1/verify", [{}] * (MAX_BATCH + 1)), 422, "batch-too-large", "body")
    assert_problem(post(api, "/v1/verify", "a string"), 422, "validation")
    assert_problem(post(api, "/v1/verify", [1, 2]), 422, "validation")


# --- unknown ids and bad query parameters -------------------------------------------------------------


def test_unknown_ids_are_404(api: httpx.Client, deployed: Deployed) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(api.get(f"/v1/issuances/{unknown}"), 404, "not-found", "request_id")
    assert_problem(api.get(f"/v1/revocations/{unknown}"), 404, "not-found", "request_id")
    accepted = post(api, "/v1/issuances", deployed.sign_issue().model_dump(mode="json")).json()
    assert_problem(api.get(f"/v1/revocations/{accepted['id']}"), 404, "not-found", "request_id")
    assert_problem(api.get("/v1/issuances/not-a-uuid"), 422, "validation", "request_id")


def test_bad_query_parameters_are_named(api: httpx.Client) -> None:
    assert_problem(api.get("/v1/credentials/0x1234"), 422, "validation", "hash")
    assert_problem(api.get("/v1/audit/events", params={"cursor": "%%%"}), 422, "validation", "cursor")
    assert_problem(api.get("/v1/audit/events", params={"cursor": "OTk5"}), 422, "validation", "cursor")
    assert_problem(api.get("/v1/audit/events", params={"type": "Nope"}), 422, "validation", "type")
    assert_problem(api.get("/v1/audit/events", params={"limit": 0}), 422, "validation", "limit")
    assert_problem(api.get("/v1/audit/events", params={"root": "0xabc"}), 422, "validation", "root")
    assert_problem(api.get("/v1/audit/events", params={"from_block": -1}), 422, "validation", "from_block")
    assert_problem(api.get("/v1/agencies", params={"from_id": "x"}), 422, "validation", "from_id")


def test_refused_requests_leave_nothing_behind(api: httpx.Client, deployed: Deployed) -> None:
    signed = deployed.sign_issue(scope_id=deployed.other_scope_id)
    assert post(api, "/v1/issuances", signed.model_dump(mode="json")).status_code == 422
    fixed = deployed.sign_issue(signed.request.root)
    accepted = post(api, "/v1/issuances", fixed.model_dump(mode="json"))
    assert accepted.status_code == 202
    assert accepted.json()["repeated"] is False
    assert settled(api, accepted.json()["location"])["status"] == "confirmed"
