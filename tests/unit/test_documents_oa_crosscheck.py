"""OpenAttestation's own JavaScript (npm @govtechsg/open-attestation and oa-verify) accepts what we produce.

One Node.js run (tests/unit/oa_crosscheck.js) answers every scenario below. If our salting, string
escaping, flattening, field hashing, target hash, merkle tree or disclosure drifted from
OpenAttestation's, these fail.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
from documents_factories import DOMAIN, make_certificate, run_crosscheck, salt_stream

from credreg.documents import (
    MAX_SAFE_INTEGER,
    MerkleTree,
    WrappedDocument,
    disclose,
    js_string,
    json_stringify,
    unsalt_data,
    wrap_certificates,
    wrap_documents,
)

Scenario = tuple[dict[str, Any], dict[str, Any]]  # (what we made, what OpenAttestation answered)


def _batch() -> tuple[dict[str, Any], dict[str, Any]]:
    batch = [
        make_certificate(kind, n)
        for n, kind in enumerate(["skill_level", "technical_grade", "competition_award"] * 3)
    ]
    batch.append(
        make_certificate(
            n=99,
            holder={"name": '欧阳·娜娜 "Nana" \\ \u2028 😀', "id_type": "passport", "id_number": "E12345678"},
            assessment={"date": "2025-06-01", "session_id": "X", "location": None, "score": "优秀"},
        )
    )
    docs = wrap_certificates(batch, identity_location=DOMAIN, renderer_url="https://renderer.example.org")
    return {"docs": docs}, {"documents": docs, "rewrap": True}


PARTIAL = ["recipient.idNumber", "credreg.assessment.score", "id"]
EMPTYING = ["recipient.name", "recipient.idType", "recipient.idNumber"]


def _disclosure() -> tuple[dict[str, Any], dict[str, Any]]:
    docs = wrap_certificates(
        [make_certificate("skill_level", 1), make_certificate("competition_award", 2)],
        identity_location=DOMAIN,
    )
    ours = [
        disclose(docs[0], PARTIAL),
        disclose(docs[0], EMPTYING),
        disclose(docs[1], ["credreg.competition", "credreg.occupation.title"]),
    ]
    request = {
        "documents": docs,
        "obfuscate": [{"index": 0, "fields": PARTIAL}, {"index": 0, "fields": EMPTYING}],
        "disclosed": ours,
    }
    return {"disclosed": ours}, request


def _arbitrary() -> tuple[dict[str, Any], dict[str, Any]]:
    awkward: list[dict[str, Any]] = [
        {
            "0": "integer-like keys come first in JavaScript",
            "10": 10,
            "2": [True, False, None],
            "b": {"1": "x"},
        },
        {
            "控制": "\x00\x01\x1f\x7f\x80\x9f",
            "quotes": "\"'\\/",
            "lines": "\n\r\t\u2028\u2029",
            "emoji": "😀👩‍👩‍👧",
        },
        {
            "nested": [[1, [2, [3]]], {"deep": {"deeper": {"deepest": -MAX_SAFE_INTEGER}}}],
            "max": MAX_SAFE_INTEGER,
        },
        {"spaces ": " leading and trailing ", "colon:key": "a:b:c", "e": ""},
        {
            "bmp": "".join(chr(c) for c in range(0x20, 0xD800, 97))
            + "".join(chr(c) for c in range(0xE000, 0x10000, 89))
        },
    ]
    docs = wrap_documents(awkward, salts=salt_stream(11))
    disclosed = [disclose(docs[0], ["2.2", "2.1", "b"]), disclose(docs[2], ["nested.1"])]
    return {"docs": docs, "disclosed": disclosed}, {"documents": docs, "disclosed": disclosed}


def _tampered() -> tuple[dict[str, Any], dict[str, Any]]:
    docs = wrap_certificates([make_certificate(n=n) for n in range(3)], identity_location=DOMAIN)
    forged: WrappedDocument = copy.deepcopy(docs[1])
    forged["data"]["recipient"]["name"] = forged["data"]["recipient"]["name"].replace("张伟", "张伟伟")
    wrong_proof: WrappedDocument = copy.deepcopy(docs[2])
    wrong_proof["signature"]["proof"] = [*docs[0]["signature"]["proof"][::-1], "00" * 32]
    return {}, {"documents": [docs[0], forged, wrong_proof]}


STRINGS = [
    "".join(chr(c) for c in range(0, 0xD800)),
    "".join(chr(c) for c in range(0xE000, 0x10000)),
    "😀\U0010ffff𠀀",
    "",
]
NUMBERS = [0, 1, -1, 7, 10**15, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 2**31, -(2**31) - 1, 123456789012]


def _primitives() -> tuple[dict[str, Any], dict[str, Any]]:
    leaves = [os.urandom(32).hex() for _ in range(1001)]
    return {"leaves": leaves}, {"strings": STRINGS, "numbers": [str(n) for n in NUMBERS], "leaves": leaves}


@pytest.fixture(scope="module")
def oa() -> dict[str, Scenario]:
    built = {
        "batch": _batch(),
        "disclosure": _disclosure(),
        "arbitrary": _arbitrary(),
        "tampered": _tampered(),
        "primitives": _primitives(),
    }
    answers = run_crosscheck([request for _, request in built.values()])
    return {name: (ours, answer) for (name, (ours, _)), answer in zip(built.items(), answers, strict=True)}


def test_openattestation_verifies_and_rewraps_a_credreg_batch_identically(oa: dict[str, Scenario]) -> None:
    ours, answer = oa["batch"]
    docs = ours["docs"]
    for doc, check in zip(docs, answer["checks"], strict=True):
        assert check == {
            "verifySignature": True,
            "validateSchema": True,
            "isWrappedV2Document": True,
            "digest": doc["signature"]["targetHash"],
            "integrity": True,
        }
    assert answer["tree"]["root"] == docs[0]["signature"]["merkleRoot"]
    assert answer["tree"]["proofs"] == [d["signature"]["proof"] for d in docs]
    # OpenAttestation's wrapDocuments, given our salts, produces our signatures and our salted data.
    assert answer["rewrapped"] == [d["signature"] for d in docs]
    assert answer["rewrappedData"] == [d["data"] for d in docs]


def test_openattestation_verifies_our_disclosures(oa: dict[str, Scenario]) -> None:
    ours, answer = oa["disclosure"]
    for disclosed, check in zip(ours["disclosed"], answer["disclosed"], strict=True):
        assert check["verifySignature"] is True
        assert check["integrity"] is True
        assert check["validateSchema"] is True
        assert check["data"] == unsalt_data(disclosed["data"])


def test_our_disclosure_agrees_with_openattestations_obfuscate_where_it_works(
    oa: dict[str, Scenario],
) -> None:
    ours, answer = oa["disclosure"]
    theirs_partial, theirs_emptying = answer["obfuscated"]
    assert theirs_partial["verifySignature"] is True
    assert theirs_partial["document"]["data"] == ours["disclosed"][0]["data"]
    assert sorted(theirs_partial["document"]["privacy"]["obfuscatedData"]) == sorted(
        ours["disclosed"][0]["privacy"]["obfuscatedData"]
    )
    # OpenAttestation leaves `recipient: {}` behind and its own verifier then rejects the document;
    # ours removes the emptied object and verifies (see the test above).
    assert theirs_emptying["document"]["data"]["recipient"] == {}
    assert theirs_emptying["verifySignature"] is False
    assert sorted(theirs_emptying["document"]["privacy"]["obfuscatedData"]) == sorted(
        ours["disclosed"][1]["privacy"]["obfuscatedData"]
    )


def test_openattestation_hashes_arbitrary_data_as_we_do(oa: dict[str, Scenario]) -> None:
    ours, answer = oa["arbitrary"]
    docs = ours["docs"]
    for doc, check in zip(docs, answer["checks"], strict=True):
        assert check["verifySignature"] is True
        assert check["digest"] == doc["signature"]["targetHash"]
    assert answer["tree"]["root"] == docs[0]["signature"]["merkleRoot"]
    assert answer["tree"]["proofs"] == [d["signature"]["proof"] for d in docs]
    for doc, check in zip(ours["disclosed"], answer["disclosed"], strict=True):
        assert check["verifySignature"] is True
        assert check["data"] == unsalt_data(doc["data"])


def test_tampering_is_caught_by_openattestation_too(oa: dict[str, Scenario]) -> None:
    _, answer = oa["tampered"]
    assert [c["verifySignature"] for c in answer["checks"]] == [True, False, False]
    assert [c["integrity"] for c in answer["checks"]] == [True, False, False]


def test_string_escaping_and_integer_printing_match_javascript(oa: dict[str, Scenario]) -> None:
    _, answer = oa["primitives"]
    assert answer["strings"] == [json_stringify(s) for s in STRINGS]
    assert answer["numbers"] == [js_string(n) for n in NUMBERS]


def test_a_thousand_and_one_leaf_tree_matches_openattestations(oa: dict[str, Scenario]) -> None:
    ours, answer = oa["primitives"]
    tree = MerkleTree(bytes.fromhex(h) for h in ours["leaves"])
    assert answer["leafTree"]["root"] == tree.root.hex()
    assert answer["leafTree"]["proofs"] == [
        [p.hex() for p in tree.proof(bytes.fromhex(h))] for h in ours["leaves"]
    ]
