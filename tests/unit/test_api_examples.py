"""The API docs' example bodies are real: the certificate verifies offline, the issuance is signed by the demo
agency's signer for the demo registry."""

from __future__ import annotations

from eth_account import Account

from credreg.api.examples import DEMO_REGISTRY, certificate_example, issuance_example
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.documents.layout import binding_from_document
from credreg.documents.store import document_store_address
from credreg.registry import SignedIssue
from credreg.verify import StepStatus, verify_offline


def test_the_example_certificate_is_intact_and_names_its_agencys_store() -> None:
    report = verify_offline(certificate_example())
    assert report.step("integrity").status is StepStatus.VALID
    assert report.step("merkle-proof").status is StepStatus.VALID
    binding = binding_from_document(certificate_example())  # type: ignore[arg-type]
    assert (binding.registry, binding.agency_id) == (DEMO_REGISTRY, 1)
    assert binding.document_store == document_store_address(DEMO_REGISTRY, 1)


def test_the_example_issuance_is_the_demo_signers_signature_over_that_certificate() -> None:
    body = issuance_example()
    signed = SignedIssue.model_validate({k: v for k, v in body.items() if k != "leaves"})
    assert signed.signer() == Account.from_key(ANVIL_TEST_KEYS[2]).address
    assert signed.request.root == "0x" + certificate_example()["signature"]["merkleRoot"]
    assert body["leaves"] == ["0x" + certificate_example()["signature"]["targetHash"]]
