"""`credreg batch upload` of a large batch: the summary's leaves are read from the file as they are used, and
the request body is sent as it is read, yet it is the same signed upload as one built whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.cli import batch_cmds
from credreg.errors import DocumentError
from credreg.issuance import BatchSummary
from credreg.summaries import iter_summary_leaves, read_summary


def _summary(tmp_path: Path, leaves: list[str]) -> Path:
    summary = BatchSummary(
        batch_id="b" * 32, root="0x" + "ef" * 32, chain_id=31337, registry="0x" + "11" * 20, agency_id=3,
        scope_id="0x" + "22" * 32, valid_until=0, signer="0x" + "33" * 20, transaction_hash=None,
        block_number=None, issued_at=1, count=len(leaves), files=[], leaves=leaves,
    )  # fmt: skip
    path = tmp_path / "batch-x.json"
    path.write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def test_the_streamed_upload_is_the_upload_built_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaves = [f"0x{n:064X}" for n in range(1, 10_001)]  # upper case in the file: sent in lower case
    path = _summary(tmp_path, leaves)
    summary = read_summary(path)
    assert not isinstance(summary.leaves, list), "the leaves are read from the file, not held"
    signer = Account.from_key(ANVIL_TEST_KEYS[2])
    sent: dict[str, Any] = {}

    def post(url: str, *, content: Iterator[bytes], headers: dict[str, str], **_: object) -> httpx.Response:
        pieces = list(content)
        assert int(headers["content-length"]) == sum(len(p) for p in pieces)
        sent.update(url=url, pieces=len(pieces), body=json.loads(b"".join(pieces)))
        return httpx.Response(200, json={"root": summary.root, "leaves": 10_000, "added": 10_000})

    monkeypatch.setattr(httpx, "post", post)
    monkeypatch.setattr(batch_cmds, "UPLOAD_PIECE", 1_000)
    signed, count = batch_cmds.sign_streamed_upload(
        summary, lambda: iter_summary_leaves(path, summary), signer
    )
    answer = batch_cmds.send_streamed_upload(
        "http://127.0.0.1:9/", signed, lambda: iter_summary_leaves(path, summary), count
    )
    assert answer["added"] == 10_000
    assert sent["url"] == "http://127.0.0.1:9/v1/batches"
    assert sent["pieces"] == 12  # the head, ten pieces of leaves, the tail
    whole = batch_cmds.sign_upload(summary, [leaf.lower() for leaf in leaves], signer)
    assert sent["body"] == whole.model_dump(mode="json")


def test_a_summary_with_a_leaf_that_is_not_a_hash_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    path = _summary(tmp_path, ["0x" + "ab" * 32, "0x" + "cd" * 31])
    summary = read_summary(path)
    signer = Account.from_key(ANVIL_TEST_KEYS[2])
    with pytest.raises(DocumentError, match="is not a 0x-hex hash of 32 bytes"):
        batch_cmds.sign_streamed_upload(summary, lambda: iter_summary_leaves(path, summary), signer)
