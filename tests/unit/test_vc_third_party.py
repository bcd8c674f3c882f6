"""Implementations credreg did not write verify its VCs and SD-JWTs offline, and refuse tampered copies.

- VC 2.0: Digital Bazaar's @digitalbazaar/vc with @digitalbazaar/eddsa-rdfc-2022-cryptosuite, resolving the
  issuer's did:key with @digitalbazaar/did-method-key (vc_di_verify.mjs);
- Bitstring Status Lists: decoded by @digitalbazaar/vc-bitstring-status-list (vc_di_verify.mjs);
- SD-JWT VC: the OpenWallet Foundation's @sd-jwt/sd-jwt-vc (vc_sdjwt_verify.mjs).
"""

from __future__ import annotations

import base64
import copy
import json

from vc_factories import (
    BASE_URL,
    DI_VERIFY,
    KINDS,
    SDJWT_VERIFY,
    SIGNED_AT,
    FakeLedger,
    batch_documents,
    credreg_contexts,
    run_node,
    tree_of,
)

from credreg.vc.export import export_vc
from credreg.vc.keys import generate_key
from credreg.vc.sdjwt import issue_sd_jwt, present
from credreg.vc.statuslist import LIST_SIZE, build_status_lists, status_list_credential, status_list_url

KEY = generate_key()


def test_digital_bazaars_verifier_accepts_our_vcs_and_refuses_tampered_copies() -> None:
    credentials = [
        export_vc(
            batch_documents(kind, size=3)[1], KEY, status_base_url=BASE_URL, position=i, created=SIGNED_AT
        )
        for i, kind in enumerate(KINDS)
    ]
    status_list = status_list_credential(
        base_url=BASE_URL,
        purpose="revocation",
        page=0,
        bitstring=bytes(LIST_SIZE // 8),
        key=KEY,
        issued_at=SIGNED_AT,
    )
    tampered = []
    for credential in credentials:
        changed = copy.deepcopy(credential)
        changed["credentialSubject"]["identifier"][0]["identityHash"] = "110105197001010000"
        tampered.append(changed)
    moved = copy.deepcopy(credentials[0])
    moved["evidence"][0]["merkleRoot"] = "0x" + "22" * 32
    tampered.append(moved)
    other_key = copy.deepcopy(credentials[1])
    other_key["proof"]["verificationMethod"] = generate_key().verification_method
    tampered.append(other_key)

    answers = run_node(
        DI_VERIFY, {"credentials": [*credentials, status_list, *tampered], "contexts": credreg_contexts()}
    )

    good, bad = answers[: len(credentials) + 1], answers[len(credentials) + 1 :]
    assert all(a["verified"] for a in good), good
    assert not any(a["verified"] for a in bad), bad


def test_the_openwallet_sd_jwt_verifier_accepts_a_presentation_without_the_identity_number() -> None:
    document = batch_documents("technical_grade", size=2)[0]
    sd_jwt = issue_sd_jwt(document, KEY, status_base_url=BASE_URL, position=1, issued_at=SIGNED_AT)
    presentation = present(sd_jwt, ["recipient.idNumber"])
    jwt, rest = presentation.split("~", 1)
    header, payload, signature = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credreg"]["agencyId"] = 8
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    answers = run_node(
        SDJWT_VERIFY,
        {
            "presentations": [sd_jwt, presentation, f"{header}.{forged}.{signature}~{rest}"],
            "currentDate": SIGNED_AT,
        },
    )

    full, partial, tampered = answers
    assert full["verified"], full
    assert full["claims"]["recipient"]["idNumber"]
    assert partial["verified"], partial
    assert "idNumber" not in partial["claims"]["recipient"]
    assert partial["claims"]["credreg"]["scopeId"] == claims["credreg"]["scopeId"]
    assert not tampered["verified"]
    assert "Signature" in tampered["error"]


def test_digital_bazaars_status_list_library_reads_our_lists_bit_for_bit() -> None:
    ledger = FakeLedger()
    first, second = batch_documents(size=5), batch_documents(size=3, start=10)
    ledger.issue(first)
    ledger.issue(second)
    root = "0x" + first[0]["signature"]["merkleRoot"]
    tree = tree_of(first)
    node = tree.path(tree.leaves[0])[1]  # the first pair of the five sorted leaves
    ledger.set_status(root, "0x" + first[3]["signature"]["targetHash"], 1)
    ledger.set_status(root, "0x" + node.hex(), 2)
    other_root = "0x" + second[0]["signature"]["merkleRoot"]
    ledger.set_status(other_root, other_root, 1)
    lists = [ledger.lists[status_list_url(BASE_URL, purpose, 0)] for purpose in ("revocation", "suspension")]

    answers = run_node(DI_VERIFY, {"credentials": lists, "contexts": credreg_contexts()})

    built = build_status_lists(ledger.batches, ledger.events)
    for answer, purpose in zip(answers, ("revocation", "suspension"), strict=True):
        assert answer["verified"], answer
        ours = [i for i in range(LIST_SIZE) if built.is_set(purpose, i)]
        assert answer["setIndices"] == ours
    assert len(answers[0]["setIndices"]) == 4  # one leaf and a whole batch of three
    assert len(answers[1]["setIndices"]) == 2  # the two leaves under the node
