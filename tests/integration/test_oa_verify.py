"""OpenAttestation's own verifier (@govtechsg/oa-verify, ethers v5) judges credreg documents on a real chain.

It checks document integrity (target hash and merkle proof) and document-store status: `isIssued` on the
merkle root, `isRevoked` on the leaf, every node of its proof and the root. credreg's registry is the
document store, so OpenAttestation must accept what credreg issued and reject what was tampered with,
revoked or suspended (OpenAttestation counts a suspension as a revocation), or never issued; and credreg's
own verifier must agree.
"""

from __future__ import annotations

import copy
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lifecycle_support import (
    IDENTITY_LOCATION,
    RELAYER,
    SIGNER,
    documents_in,
    load,
    sample_results,
    set_up_registry,
)

from credreg.chain.devchain import ephemeral_chain
from credreg.chain.eip712 import StatusAction
from credreg.documents.disclosure import disclose
from credreg.documents.layout import wrap_certificates
from credreg.documents.model import AgencyRef
from credreg.documents.results import IssueContext, read_results
from credreg.registry import Relayer
from credreg.verify import verify_documents

SCRIPT = Path(__file__).with_name("oa_verify.js")
INTEGRITY, STATUS = "OpenAttestationHash", "OpenAttestationEthereumDocumentStoreStatus"


def oa_verify(url: str, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run oa_verify.js on `documents` against the chain at `url`; one answer per document."""
    node = shutil.which("node")
    assert node is not None, "Node.js is needed to run OpenAttestation's verifier"
    done = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps({"url": url, "documents": documents}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)["results"]
    return results


def fragment(answer: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in answer["fragments"] if f["name"] == name)


def with_changed_name(document: dict[str, Any]) -> dict[str, Any]:
    """The document with the holder's name changed, its salt and type kept: a forger's edit."""
    forged = copy.deepcopy(document)
    salt, kind, _ = forged["data"]["recipient"]["name"].split(":", 2)
    forged["data"]["recipient"]["name"] = f"{salt}:{kind}:李四"
    return forged


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[dict[str, Any], str]]]:
    """Each case's document judged by OpenAttestation (its answer) and by credreg (its code), in one run."""
    base = tmp_path_factory.mktemp("oa")
    with ephemeral_chain() as chain:
        world = set_up_registry(chain.url)
        world.issue(sample_results(base / "batch.csv", 64, prefix="OA"), base / "batch")
        world.issue(sample_results(base / "single.csv", 1, prefix="ONE", seed=11), base / "single")
        batch = [load(p) for p in documents_in(base / "batch", "OA")]
        (single,) = [load(p) for p in documents_in(base / "single", "ONE")]
        for document, action in ((batch[3], StatusAction.REVOKE), (batch[4], StatusAction.SUSPEND)):
            sig = document["signature"]
            signed = world.registry.sign_status_change(
                SIGNER,
                world.agency_id,
                "0x" + sig["merkleRoot"],
                "0x" + sig["targetHash"],
                ["0x" + p for p in sig["proof"]],
                action,
                reason=1,
            )
            Relayer(world.registry, RELAYER).set_status(signed)
        context = IssueContext(
            agency=AgencyRef(id=world.agency_id, name="Beijing Digital Skills Centre"),
            chain_id=world.registry.domain.chain_id,
            registry=world.registry.address,
        )
        unissued_results = sample_results(base / "unissued.csv", 2, prefix="NEVER").read_bytes()
        never_issued = wrap_certificates(
            read_results(io.BytesIO(unissued_results), context=context, file_format="csv"),
            identity_location=IDENTITY_LOCATION,
        )[0]
        cases: dict[str, dict[str, Any]] = {
            "batch member": batch[0],
            "batch member, last leaf": batch[-1],
            "single certificate": single,
            "id number hidden": dict(disclose(batch[1], ["recipient.idNumber"])),
            "tampered": with_changed_name(batch[2]),
            "tampered single": with_changed_name(single),
            "revoked": batch[3],
            "suspended": batch[4],
            "never issued": dict(never_issued),
        }
        answers = oa_verify(chain.url, list(cases.values()))
        reports = verify_documents(world.registry, list(cases.values()))
        yield {
            name: (answer, report.code) for name, answer, report in zip(cases, answers, reports, strict=True)
        }


@pytest.mark.parametrize(
    "case", ["batch member", "batch member, last leaf", "single certificate", "id number hidden"]
)
def test_openattestation_accepts_what_credreg_issued(
    judged: dict[str, tuple[dict[str, Any], str]], case: str
) -> None:
    answer, credreg_code = judged[case]
    assert answer["valid"], answer
    assert fragment(answer, INTEGRITY)["status"] == "VALID"
    assert fragment(answer, STATUS)["status"] == "VALID"
    assert credreg_code == "valid"


@pytest.mark.parametrize("case", ["tampered", "tampered single"])
def test_openattestation_rejects_a_tampered_document(
    judged: dict[str, tuple[dict[str, Any], str]], case: str
) -> None:
    answer, credreg_code = judged[case]
    assert not answer["valid"]
    assert not answer["integrity"]
    assert fragment(answer, INTEGRITY)["status"] == "INVALID"
    assert fragment(answer, INTEGRITY)["reason"]["codeString"] == "DOCUMENT_TAMPERED"
    assert credreg_code == "tampered"


@pytest.mark.parametrize(
    ("case", "oa_reason", "expected_code"),
    [
        ("revoked", "DOCUMENT_REVOKED", "revoked"),
        ("suspended", "DOCUMENT_REVOKED", "suspended"),
        ("never issued", "DOCUMENT_NOT_ISSUED", "not-issued"),
    ],
)
def test_openattestation_rejects_a_revoked_suspended_or_unissued_document(
    judged: dict[str, tuple[dict[str, Any], str]], case: str, oa_reason: str, expected_code: str
) -> None:
    answer, credreg_code = judged[case]
    assert not answer["valid"]
    assert answer["integrity"], "the document itself is intact"
    assert fragment(answer, STATUS)["status"] == "INVALID"
    assert fragment(answer, STATUS)["reason"]["codeString"] == oa_reason
    assert credreg_code == expected_code
