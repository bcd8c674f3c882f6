"""Signed requests keep the JSON layout docs/service.md documents: the same keys in the same order, and the
signer recovered from the signature."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from credreg.chain.eip712 import Domain, IssueRequest, StatusAction, StatusChangeRequest
from credreg.registry.requests import (
    SignedBatchLeaves,
    SignedIssue,
    SignedStatusChange,
    sign_batch_leaves,
    sign_issue,
    sign_status_change,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "service.md"
DOMAIN = Domain(chain_id=31337, registry="0x5FbDB2315678afecb367f032d93F642f64180aa3")
H = ["0x" + f"{i:02x}" * 32 for i in range(1, 5)]


def documented() -> dict[str, dict[str, Any]]:
    """The JSON examples of docs/service.md by their `type`, with `…` made into something parseable."""
    found = {}
    for block in re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S):
        body = json.loads(block.replace("…", ""))
        if str(body.get("type", "")).startswith("credreg."):
            found[body["type"]] = body
    return found


def signed() -> list[SignedIssue | SignedStatusChange | SignedBatchLeaves]:
    key = Account.create()  # made for this test only
    issue = IssueRequest(root=H[0], scope_id=H[1], valid_until=0, deadline=2_000_000_000)
    change = StatusChangeRequest(
        agency_id=1,
        root=H[0],
        target=H[2],
        action=StatusAction.REVOKE,
        reason=3,
        nonce=0,
        deadline=2_000_000_000,
    )
    return [
        sign_issue(key, DOMAIN, issue),
        sign_status_change(key, DOMAIN, change, [H[3]]),
        sign_batch_leaves(key, DOMAIN, 1, H[0], [H[2], H[3]]),
    ]


def test_the_docs_show_every_kind() -> None:
    assert set(documented()) == {"credreg.issue", "credreg.status-change", "credreg.batch-leaves"}


@pytest.mark.parametrize("request_", signed(), ids=lambda r: r.type)
def test_a_signed_request_is_the_documented_json_in_the_documented_order(
    request_: SignedIssue | SignedStatusChange | SignedBatchLeaves,
) -> None:
    body = json.loads(request_.model_dump_json())
    example = documented()[request_.type]
    assert list(body) == list(example)
    assert list(body["request"]) == list(example["request"])
    assert list(type(request_).model_json_schema()["properties"]) == list(example)
    again = type(request_).model_validate_json(request_.model_dump_json())
    assert again == request_
    assert again.signer() == request_.signer()
    assert again.domain == DOMAIN
