"""Bytecode provenance against a fresh build of contracts/, and auditing a certificate file on that deployment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from audit_ledger import ROOT, deploy_from_sources
from eth_account import Account

from credreg.audit import build_report, check_provenance
from credreg.chain.build import standard_json_input
from credreg.chain.client import connect
from credreg.chain.devchain import ephemeral_chain
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.eip712 import StatusAction
from credreg.cli import main
from credreg.documents.wrap import dump_document, wrap_documents
from credreg.registry import AgencyAdmin, Governor, Registry, Relayer


@dataclass
class Deployment:
    url: str
    registry: Registry
    documents: list[Any]


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    """The registry as contracts/ compiles now, with one issued batch of three certificates, one revoked."""
    governor, admin, signer, relayer = (Account.from_key(k) for k in ANVIL_TEST_KEYS[:4])
    with ephemeral_chain() as chain:
        w3 = connect(chain.url)
        registry = deploy_from_sources(w3, governor, standard_json_input(ROOT))
        gov = Governor(registry, governor)
        scope = gov.define_scope("4-04-05-01", 3, "Blockchain engineering technician, level 3")
        agency = gov.register_agency("Beijing Digital Skills Assessment Centre", "BJ-0001", admin.address)
        now = registry.block_time()
        gov.accredit(agency, scope, now - 10)
        AgencyAdmin(registry, admin).add_signer(agency, signer.address, now - 10)
        documents = wrap_documents(
            [
                {"name": n, "occupation": "4-04-05-01", "level": 3}
                for n in ("Li Wei", "Zhang Min", "Wang Fang")
            ]
        )
        root = "0x" + documents[0]["signature"]["merkleRoot"]
        Relayer(registry, relayer).issue(registry.sign_issue(signer, registry.issue_request(root, scope)))
        revoked = documents[2]["signature"]
        gov.set_status(
            agency,
            root,
            "0x" + revoked["targetHash"],
            ["0x" + p for p in revoked["proof"]],
            StatusAction.REVOKE,
            3,
        )
        yield Deployment(chain.url, registry, documents)


def test_provenance_passes_on_code_built_from_contracts(deployment: Deployment) -> None:
    registry = deployment.registry
    result = check_provenance(registry.w3, registry.address, registry.head())
    assert result.ok
    assert result.verdict == "identical"
    assert result.reference == "recompiled"
    assert "recompiled now" in result.reference_detail
    report = build_report(registry)
    assert report.clean, [str(f) for f in report.findings]


def test_a_changed_comment_gives_metadata_differs() -> None:
    source = standard_json_input(ROOT)
    name = "contracts/CredentialRegistry.sol"
    source["sources"][name]["content"] += "\n// built from a copy that differs in this comment only\n"
    with ephemeral_chain() as chain:
        w3 = connect(chain.url)
        registry = deploy_from_sources(w3, Account.from_key(ANVIL_TEST_KEYS[0]), source)
        result = check_provenance(w3, registry.address, registry.head())
        assert not result.ok
        assert result.verdict == "metadata-differs"
        report = build_report(registry, compare=False)
        assert report.findings_by_code == {"bytecode-mismatch": 1}
        assert "metadata-differs" in report.findings[0].message


def test_without_a_compiler_the_committed_artifact_is_the_reference(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "contracts").mkdir()
    monkeypatch.setenv("CREDREG_PROJECT_ROOT", str(tmp_path))
    registry = deployment.registry
    result = check_provenance(registry.w3, registry.address, registry.head())
    assert result.reference == "artifact"
    assert "compiler unavailable" in result.reference_detail
    assert "committed artifact" in result.reference_detail
    assert result.verdict == result.artifact_verdict


def test_status_of_a_certificate_file(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment.registry.manifest.save(tmp_path / "deployment.json")
    base = ["--data-dir", str(tmp_path), "--rpc-url", deployment.url, "audit", "status"]
    files = []
    for i, document in enumerate(deployment.documents):
        files.append(tmp_path / f"certificate-{i}.json")
        files[-1].write_text(dump_document(document), encoding="utf-8")
    assert main([*base, "--document", str(files[0])]) == 0
    assert "VALID" in capsys.readouterr().out
    assert main([*base, "--document", str(files[2]), "--json"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["then"]["verdict"] == "leaf-revoked"
    assert answer["then"]["reason"] == 3
    tampered = json.loads(files[1].read_text(encoding="utf-8"))
    tampered["data"]["name"] = tampered["data"]["name"].replace("Zhang Min", "Zhang Ming")
    files[1].write_text(json.dumps(tampered), encoding="utf-8")
    main([*base, "--document", str(files[1])])
    assert "altered after wrapping" in capsys.readouterr().out
    files[1].write_text("{", encoding="utf-8")
    assert main([*base, "--document", str(files[1])]) == 2
    assert "not valid JSON" in capsys.readouterr().err
