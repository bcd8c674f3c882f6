"""The VC forms against a real registry on anvil: issuer keys on the ledger, the service's status lists
rebuilt from the ledger's events, `credreg export vc` / `verify` / `disclose` / `audit status-lists` and
`POST /v1/verify`, and Digital Bazaar's verifier on a VC exported from this flow."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from chain_world import Deployed
from cryptography.hazmat.primitives import serialization
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from lifecycle_support import Cli
from service_support import live_server, service_settings, settled, wait_for

from credreg.api import create_app
from credreg.chain.eip712 import StatusAction
from credreg.documents.layout import wrap_certificates
from credreg.documents.model import parse_certificate
from credreg.documents.wrap import WrappedDocument, dump_document
from credreg.registry import AgencyAdmin, Governor
from credreg.vc.jsonld import CREDREG_CONTEXT, shipped_context
from credreg.vc.keys import SigningKey, generate_key
from credreg.vc.ledger import DEV_KEY_FILE
from credreg.vc.statuslist import LIST_SIZE, bit_is_set, decode_list

REPO = Path(__file__).resolve().parents[2]
DI_VERIFY = REPO / "tests" / "unit" / "vc_di_verify.mjs"
KINDS = ("technical_grade", "skill_level", "competition_award")
pytestmark = pytest.mark.slow


@dataclass
class World:
    deployed: Deployed
    api: httpx.Client
    url: str
    cli: Cli
    data: Path
    key: SigningKey
    key_file: Path
    batches: dict[str, list[WrappedDocument]]
    next_number: list[int]


def write_key(key: SigningKey, path: Path) -> Path:
    pem = key.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    return path


def certificate(deployed: Deployed, kind: str, n: int, agency_id: int | None = None) -> dict[str, Any]:
    fields = deployed.certificate_fields(n)
    fields["kind"] = kind
    if agency_id is not None:
        fields["agency"] = {"id": agency_id, "name": f"Agency {agency_id}"}
    if kind == "competition_award":
        fields.pop("assessment")
        fields["competition"] = {"name": "全国职业技能大赛", "date": "2025-05-20", "award": "金牌", "rank": 1}
    if kind == "technical_grade":
        fields["grade_title"] = "高级工程师"
    return fields


def relay(world: World, kind: str, size: int, *, signer: LocalAccount | None = None,
          agency_id: int | None = None) -> list[WrappedDocument]:  # fmt: skip
    """Issue a batch through the service, leaves included, and wait until the lists include it."""
    deployed = world.deployed
    first = world.next_number[0]
    world.next_number[0] += size
    documents = wrap_certificates(
        [parse_certificate(certificate(deployed, kind, first + n, agency_id)) for n in range(size)],
        identity_location="registry.example.org",
    )
    root = "0x" + documents[0]["signature"]["merkleRoot"]
    signed = deployed.sign_issue(root, valid_until=_valid_until(), signer=signer)
    body = {
        **signed.model_dump(mode="json"),
        "leaves": ["0x" + d["signature"]["targetHash"] for d in documents],
    }
    response = world.api.post("/v1/issuances", json=body)
    assert response.status_code == 202, response.text
    done = settled(world.api, response.json()["location"])
    assert done["status"] == "confirmed", done
    as_of(world, deployed.registry.head())
    return documents


def _valid_until() -> int:
    from datetime import date

    from credreg.documents.model import expiry_timestamp

    return expiry_timestamp(date(2031, 6, 30))


def as_of(world: World, block: int) -> dict[str, Any]:
    """Wait until the served lists reflect `block`; the batches listing then."""

    def check() -> dict[str, Any] | None:
        body: dict[str, Any] = world.api.get("/v1/status/batches").json()
        return body if body["as_of_block"] >= block else None

    return wait_for(check, what=f"the status lists to reach block {block}")


@pytest.fixture(scope="module")
def world(deployed: Deployed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("vcflow")
    settings = service_settings(data / "data", deployed)
    key = generate_key()
    now = deployed.registry.block_time()
    AgencyAdmin(deployed.registry, deployed.admin).add_issuer_key(
        deployed.agency_id, key.public_key_hex, now - 600
    )
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60) as api:
        cli = Cli(
            data,
            {
                "CREDREG_DATA_DIR": str(data / "data"),
                "CREDREG_RPC_URL": deployed.url,
                "CREDREG_PROJECT_ROOT": str(REPO),
            },
        )
        world = World(deployed, api, url, cli, data, key, write_key(key, data / "issuer.pem"), {}, [9000])
        for kind in KINDS:
            world.batches[kind] = relay(world, kind, 3)
        yield world


def save(world: World, name: str, document: WrappedDocument) -> Path:
    path = world.data / name
    path.write_text(dump_document(document) + "\n", encoding="utf-8")
    return path


def export(world: World, document: WrappedDocument, name: str, *, sd_jwt: bool = False,
           key_file: Path | None = None) -> Path:  # fmt: skip
    source = save(world, name + ".json", document)
    out = world.data / (name + (".sd-jwt" if sd_jwt else ".vc.json"))
    args = ["export", "vc", str(source), "--key", str(key_file or world.key_file), "--service", world.url]
    world.cli.ok(*args, *(["--sd-jwt"] if sd_jwt else []), "--out", str(out))
    return out


def api_verify(world: World, path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8").strip()
    body: Any = json.loads(text) if text.startswith("{") else text
    response = world.api.post("/v1/verify", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def cli_verify(world: World, path: Path, code: int = 0) -> dict[str, Any]:
    answers = world.cli.json("verify", str(path), code=code)
    assert len(answers) == 1
    answer: dict[str, Any] = answers[0]
    return answer


# --- round trips ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_exported_from_the_ledger_verifies_by_cli_and_api_in_both_forms(
    world: World, kind: str
) -> None:
    document = world.batches[kind][1]
    vc_path = export(world, document, f"rt-{kind}")
    sd_path = export(world, document, f"rt-{kind}", sd_jwt=True)
    for path in (vc_path, sd_path):
        by_cli = cli_verify(world, path)
        by_api = api_verify(world, path)
        for answer in (by_cli, by_api):
            assert answer["verdict"] == "valid", answer
            assert answer["code"] == "valid"
            assert [s["name"] for s in answer["steps"]] == [s["name"] for s in by_api["steps"]]
            assert all(s["status"] == "valid" for s in answer["steps"]), answer["steps"]
    credential = json.loads(vc_path.read_text(encoding="utf-8"))
    position = world.api.get(
        "/v1/status/position",
        params={
            "agency": world.deployed.agency_id,
            "root": "0x" + document["signature"]["merkleRoot"],
            "leaf": "0x" + document["signature"]["targetHash"],
        },
    ).json()
    entries = credential["credentialStatus"]
    assert [e["statusListIndex"] for e in entries] == [str(position["index"])] * 2
    assert entries[0]["statusListCredential"] == f"{world.url}/v1/status/revocation/{position['page']}"


def test_a_holder_hides_the_id_number_in_the_sd_jwt_and_the_presentation_verifies(world: World) -> None:
    document = world.batches["skill_level"][0]
    sd_path = export(world, document, "hide", sd_jwt=True)
    id_number = document["data"]["recipient"]["idNumber"].split(":", 2)[-1]
    shown = world.data / "hide-shown.sd-jwt"
    world.cli.ok("disclose", str(sd_path), "--hide", "recipient.idNumber", "--out", str(shown))
    presentation = shown.read_text(encoding="utf-8")
    assert id_number in "".join(_disclosed_values(sd_path.read_text(encoding="utf-8")))
    assert id_number not in "".join(_disclosed_values(presentation))
    for answer in (cli_verify(world, shown), api_verify(world, shown)):
        assert answer["verdict"] == "valid", answer
        assert answer["hidden_fields"] == ["recipient.idNumber"]
    refused = world.cli.fails(
        2, "disclose", str(sd_path), "--hide", "credreg.agencyId", "--out", str(world.data / "x")
    )
    assert "credreg.agencyId" in refused.out + refused.err


def _disclosed_values(sd_jwt: str) -> list[str]:
    import base64

    values = []
    for disclosure in sd_jwt.strip().split("~")[1:]:
        if disclosure:
            decoded = json.loads(base64.urlsafe_b64decode(disclosure + "=" * (-len(disclosure) % 4)))
            values.append(json.dumps(decoded[2], ensure_ascii=False))
    return values


# --- refusals ---------------------------------------------------------------------------------------


def test_a_tampered_vc_is_refused(world: World) -> None:
    vc_path = export(world, world.batches["technical_grade"][0], "tampered")
    credential = json.loads(vc_path.read_text(encoding="utf-8"))
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["name"] = "李四"
    tampered = world.data / "tampered-changed.vc.json"
    tampered.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    for answer in (cli_verify(world, tampered, code=1), api_verify(world, tampered)):
        assert answer["code"] == "tampered", answer


def _answers_for_key(world: World, key: SigningKey, name: str, code: int) -> list[dict[str, Any]]:
    key_file = write_key(key, world.data / f"{name}.pem")
    document = world.batches["skill_level"][2]
    vc_path = export(world, document, name, key_file=key_file)
    sd_path = export(world, document, name, sd_jwt=True, key_file=key_file)
    return [cli_verify(world, vc_path, code=code), api_verify(world, vc_path), api_verify(world, sd_path)]


def test_a_vc_signed_by_a_key_not_bound_on_the_ledger_is_refused(world: World) -> None:
    for answer in _answers_for_key(world, generate_key(), "unbound", 1):
        assert answer["code"] == "issuer-key-unbound", answer
        assert "not registered" in _step(answer, "signer")["reason"]


def test_a_vc_signed_outside_its_keys_window_is_refused(world: World) -> None:
    key = generate_key()
    later = world.deployed.registry.block_time() + 30 * 86_400
    AgencyAdmin(world.deployed.registry, world.deployed.admin).add_issuer_key(
        world.deployed.agency_id, key.public_key_hex, later
    )
    for answer in _answers_for_key(world, key, "window", 1):
        assert answer["code"] == "issuer-key-unbound", answer
        assert "outside the key's window" in _step(answer, "signer")["reason"]


def test_a_vc_signed_by_a_compromised_key_is_refused(world: World) -> None:
    key = generate_key()
    registry, admin = world.deployed.registry, AgencyAdmin(world.deployed.registry, world.deployed.admin)
    now = registry.block_time()
    admin.add_issuer_key(world.deployed.agency_id, key.public_key_hex, now - 600)
    key_file = write_key(key, world.data / "compromised.pem")
    vc_path = export(world, world.batches["skill_level"][2], "compromised", key_file=key_file)
    assert cli_verify(world, vc_path)["verdict"] == "valid"
    admin.report_issuer_key_compromised(key.public_key_hex, registry.block_time())
    for answer in (cli_verify(world, vc_path, code=1), api_verify(world, vc_path)):
        assert answer["code"] == "issuer-key-compromised", answer


def test_a_vc_from_a_revoked_agency_is_refused(world: World, anvil_accounts: list[LocalAccount]) -> None:
    deployed = world.deployed
    governor = Governor(deployed.registry, deployed.governor)
    admin2, signer2 = anvil_accounts[5], anvil_accounts[6]
    agency2 = governor.register_agency("Revoked Skills Centre", "BJ-0666", admin2.address)
    now = deployed.registry.block_time()
    governor.accredit(agency2, deployed.scope_id, now - 60, 0)
    AgencyAdmin(deployed.registry, admin2).add_signer(agency2, signer2.address, now - 60, 0)
    key2 = generate_key()
    AgencyAdmin(deployed.registry, admin2).add_issuer_key(agency2, key2.public_key_hex, now - 600)
    documents = relay(world, "skill_level", 2, signer=signer2, agency_id=agency2)
    issued_at = deployed.registry.record(agency2, "0x" + documents[0]["signature"]["merkleRoot"]).issued_at
    key_file = write_key(key2, world.data / "agency2.pem")
    vc_path = export(world, documents[0], "agency2", key_file=key_file)
    assert api_verify(world, vc_path)["verdict"] == "valid"
    governor.revoke_agency(agency2, issued_at)
    for answer in (cli_verify(world, vc_path, code=1), api_verify(world, vc_path)):
        assert answer["code"] == "agency-revoked", answer


def _step(answer: dict[str, Any], name: str) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in answer["steps"] if s["name"] == name)
    return step


# --- status lists -----------------------------------------------------------------------------------


def served_bits(world: World, purpose: str) -> set[int]:
    response = world.api.get(f"/v1/status/{purpose}/0")
    assert response.status_code == 200, response.text
    bits = decode_list(response.json()["credentialSubject"]["encodedList"])
    return {i for i in range(LIST_SIZE) if bit_is_set(bits, i)}


def reference_positions(world: World) -> dict[tuple[int, str], list[str]]:
    """(agency, root) -> leaves in position order, computed here: batches in the order of their
    CredentialIssued logs, leaves sorted bytewise within a batch."""
    topic = world.deployed.registry.events.topic_of("CredentialIssued")
    logs = world.deployed.registry.w3.eth.get_logs(
        {"address": world.deployed.registry.address, "fromBlock": 0, "toBlock": "latest", "topics": [topic]}
    )
    listed = world.api.get("/v1/status/batches").json()
    leaves = {(b["agency_id"], b["root"]): b["leaves"] for b in listed["batches"]}
    ordered: dict[tuple[int, str], list[str]] = {}
    for log in sorted(logs, key=lambda lg: (lg["blockNumber"], lg["logIndex"])):
        root, agency = "0x" + bytes(log["topics"][1]).hex(), int.from_bytes(bytes(log["topics"][2]), "big")
        if (agency, root) in leaves:
            ordered[(agency, root)] = sorted(leaves[(agency, root)], key=lambda h: bytes.fromhex(h[2:]))
    return ordered


def test_revoking_a_leaf_a_node_and_a_root_sets_exactly_the_expected_bits(world: World) -> None:
    deployed = world.deployed
    governor = Governor(deployed.registry, deployed.governor)
    big = relay(world, "skill_level", 6)
    small = relay(world, "skill_level", 3)
    big_root, small_root = (
        "0x" + big[0]["signature"]["merkleRoot"],
        "0x" + small[0]["signature"]["merkleRoot"],
    )
    before = {p: served_bits(world, p) for p in ("revocation", "suspension")}
    order = reference_positions(world)
    start, offset = {}, 0
    for batch, leaves in order.items():
        start[batch] = offset
        offset += len(leaves)
    agency = deployed.agency_id
    big_leaves = order[(agency, big_root)]
    # One leaf revoked; the node over the first two sorted leaves suspended; the small batch's root revoked.
    revoked_leaf = big_leaves[4]
    pair = sorted(bytes.fromhex(h[2:]) for h in big_leaves[:2])
    node = "0x" + keccak(pair[0] + pair[1]).hex()
    leaf_doc = next(d for d in big if "0x" + d["signature"]["targetHash"] == revoked_leaf)
    node_doc = next(d for d in big if "0x" + d["signature"]["targetHash"] == big_leaves[0])
    node_proof = node_doc["signature"]["proof"]
    assert node_proof[0] == big_leaves[1][2:], "the first sorted pair are siblings"
    governor.set_status(agency, big_root, revoked_leaf, ["0x" + p for p in leaf_doc["signature"]["proof"]],
                        StatusAction.REVOKE, 1)  # fmt: skip
    governor.set_status(agency, big_root, node, ["0x" + p for p in node_proof[1:]], StatusAction.SUSPEND, 2)
    governor.set_status(agency, small_root, small_root, [], StatusAction.REVOKE, 3)
    as_of(world, deployed.registry.head())
    first_big, first_small = start[(agency, big_root)], start[(agency, small_root)]
    expected_revoked = {first_big + 4} | {first_small + i for i in range(3)}
    expected_suspended = {first_big, first_big + 1}
    assert served_bits(world, "revocation") - before["revocation"] == expected_revoked
    assert served_bits(world, "suspension") - before["suspension"] == expected_suspended
    assert before["revocation"] <= served_bits(world, "revocation")
    # The list and the ledger agree on each certificate, and the verdict says which.
    untouched = next(d for d in big if "0x" + d["signature"]["targetHash"] == big_leaves[3])
    for document, code in (
        (leaf_doc, "revoked"),
        (node_doc, "suspended"),
        (small[1], "revoked"),
        (untouched, "valid"),
    ):
        answer = api_verify(world, export(world, document, f"st-{document['signature']['targetHash'][:8]}"))
        assert answer["code"] == code, answer
    # Caching: the same list keeps its ETag, and answers 304 to it.
    first = world.api.get("/v1/status/revocation/0")
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert int(first.headers["x-credreg-as-of-block"]) >= deployed.registry.head() - 0
    again = world.api.get("/v1/status/revocation/0", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    # The audit rebuilds them from the chain's own events and finds them equal.
    report = world.cli.json("audit", "status-lists", world.url)
    assert report["clean"], report
    assert report["set_bits"]["revocation"] == len(served_bits(world, "revocation"))
    wrong = world.cli.json("audit", "status-lists", world.url, "--operator-key", generate_key().did, code=1)
    assert not wrong["clean"]


def test_the_lists_are_signed_by_the_dev_operator_key_under_the_data_dir(world: World) -> None:
    key_file = world.data / "data" / DEV_KEY_FILE
    assert key_file.exists()
    listed = world.api.get("/v1/status/batches").json()
    credential = world.api.get("/v1/status/suspension/0").json()
    assert credential["issuer"] == listed["operator_key"]
    assert world.api.get("/v1/status/suspension/1").status_code == 404
    assert world.api.get("/v1/status/other/0").status_code == 422


# --- a verifier credreg did not write ----------------------------------------------------------------


def test_digital_bazaars_verifier_accepts_a_vc_and_the_lists_from_the_real_flow(world: World) -> None:
    vc_path = export(world, world.batches["competition_award"][0], "third-party")
    credential = json.loads(vc_path.read_text(encoding="utf-8"))
    tampered = copy.deepcopy(credential)
    tampered["validUntil"] = "2099-01-01T00:00:00Z"
    status_list = world.api.get("/v1/status/revocation/0").json()
    payload = {
        "credentials": [credential, status_list, tampered],
        "contexts": {CREDREG_CONTEXT: shipped_context(CREDREG_CONTEXT)},
    }
    ran = subprocess.run(
        ["node", str(DI_VERIFY)], input=json.dumps(payload, ensure_ascii=False), capture_output=True,
        text=True, encoding="utf-8", cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    good, listed, bad = json.loads(ran.stdout)
    assert good["verified"], good
    assert listed["verified"], listed
    assert set(listed["setIndices"]) == served_bits(world, "revocation")
    assert not bad["verified"], bad


def test_issue_with_vc_writes_both_forms_and_every_vc_verifies(world: World) -> None:
    from chain_world import LEVEL, OCCUPATION

    from credreg.samples import SampleScope, write_sample_results

    write_sample_results(world.data / "results.csv", 4, SampleScope(OCCUPATION, LEVEL, "电工"), prefix="VC")
    args = ["issue", "--yes", "results.csv", "--out", "issued", "--dev-account", "2"]
    refused = world.cli.fails(2, *args, "--vc")
    assert "--vc-key" in refused.out + refused.err
    world.cli.ok(*args, "--vc", "--vc-key", str(world.key_file), "--service", world.url)
    documents = sorted(p for p in (world.data / "issued").glob("*.json") if not p.name.startswith("batch-"))
    vcs = sorted((world.data / "issued" / "vc").glob("*.vc.json"))
    assert len(documents) == len(vcs) == 4
    assert [p.name.removesuffix(".vc.json") for p in vcs] == [p.stem for p in documents]
    answers = world.cli.json("verify", *map(str, vcs), *map(str, documents))
    assert [a["verdict"] for a in answers] == ["valid"] * 8, answers
    assert api_verify(world, vcs[0])["code"] == "valid"
    listed = world.api.get("/v1/status/batches", params={"root": answers[-1]["merkle_root"]}).json()
    assert len(listed["batches"]) == 1
    assert len(listed["batches"][0]["leaves"]) == 4


def test_an_employer_verifies_a_vc_with_nothing_but_the_services_address(
    world: World, tmp_path: Path
) -> None:
    vc_path = export(world, world.batches["skill_level"][0], "employer")
    employer = Cli(tmp_path, {"CREDREG_DATA_DIR": str(tmp_path / "empty")})
    answers = employer.json("verify", str(vc_path), "--registry", world.url)
    assert answers[0]["verdict"] == "valid", answers
    wrong = employer.json(
        "verify", str(vc_path), "--registry", world.url, "--status-list-signer", generate_key().did, code=2
    )
    assert wrong[0]["code"] == "status-mismatch", wrong
    assert "not a trusted operator key" in _step(wrong[0], "not-revoked")["reason"]
