"""`credreg batch upload` of a large batch: the summary's leaves are read from the file as they are used, and
the request body is sent as it is read, yet it is the same signed upload as one built whole; a batch too large
for one request goes in parts, from the first part the service has not acknowledged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from credreg.api.examples import issuance_example
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.cli import batch_cmds
from credreg.errors import ConfigError, DocumentError
from credreg.issuance import BatchSummary
from credreg.registry import SignedIssue
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


class _FakeService:
    """The parts protocol of POST /v1/batches/uploads, as much as the command needs, over a mock transport."""

    def __init__(self, count: int, per: int, acknowledged: int, *, drop_once: int | None = None) -> None:
        self.count, self.per, self.parts = count, per, acknowledged
        self.received: dict[int, list[str]] = {}
        self.drop_once = drop_once  # a part whose first sending loses its connection

    def _state(self, status: str = "open") -> dict[str, Any]:
        total = -(-self.count // self.per)
        return {"id": "u-1", "location": "/v1/batches/uploads/u-1", "status": status, "agency_id": 3,
                "root": "0x" + "ef" * 32, "count": self.count, "part_leaves": self.per, "parts_total": total,
                "parts": self.parts, "added": self.count if status == "listed" else None}  # fmt: skip

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/v1/batches/uploads":
            assert json.loads(request.content)["count"] == self.count
            return httpx.Response(200 if self.parts else 201, json=self._state())
        if request.method == "PUT":
            n = int(path.rsplit("/", 1)[1])
            if n == self.drop_once:
                self.drop_once = None
                raise httpx.ConnectError("connection reset", request=request)
            assert n == self.parts + 1, f"part {n} sent, {self.parts + 1} expected"
            self.received[n] = json.loads(request.content)["leaves"]
            self.parts = n
            return httpx.Response(200, json=self._state())
        assert path.endswith("/complete")
        return httpx.Response(200, json=self._state("listed"))


def _with_service(monkeypatch: pytest.MonkeyPatch, service: _FakeService) -> None:
    real = httpx.Client
    monkeypatch.setattr(httpx, "Client", lambda **kw: real(transport=httpx.MockTransport(service), **kw))
    monkeypatch.setattr(batch_cmds.time, "sleep", lambda _: None)


def test_a_large_upload_goes_on_from_the_first_part_not_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaves = [f"0x{n:064X}" for n in range(1, 2_501)]
    path = _summary(tmp_path, leaves)
    summary = read_summary(path)
    signed, count = batch_cmds.sign_streamed_upload(
        summary, lambda: iter_summary_leaves(path, summary), Account.from_key(ANVIL_TEST_KEYS[2])
    )
    service = _FakeService(count, per=1_000, acknowledged=1, drop_once=2)
    _with_service(monkeypatch, service)
    said: list[str] = []
    answer = batch_cmds.send_in_parts(
        "http://127.0.0.1:9", signed, lambda: iter_summary_leaves(path, summary), count, say=said.append
    )
    assert answer == {
        "agency_id": 3,
        "root": "0x" + "ef" * 32,
        "leaves": 2_500,
        "added": 2_500,
        "upload": "u-1",
    }
    assert "resuming upload u-1 from part 2" in said[0]
    assert sorted(service.received) == [2, 3]  # part 1 was kept already; part 2 sent again after a reset
    assert service.received[2] == [leaf.lower() for leaf in leaves[1_000:2_000]]
    assert service.received[3] == [leaf.lower() for leaf in leaves[2_000:]]


def test_a_part_the_service_refuses_stops_the_upload_saying_how_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _summary(tmp_path, [f"0x{n:064x}" for n in range(1, 1_501)])
    summary = read_summary(path)
    signed, count = batch_cmds.sign_streamed_upload(
        summary, lambda: iter_summary_leaves(path, summary), Account.from_key(ANVIL_TEST_KEYS[2])
    )
    service = _FakeService(count, per=1_000, acknowledged=0)
    refusing = lambda request: (  # noqa: E731
        httpx.Response(
            409, json={"type": "https://credreg.dev/problems/upload-part-conflict", "detail": "no"}
        )
        if request.method == "PUT"
        else service(request)
    )
    _with_service(monkeypatch, refusing)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="run the same command again to resume"):
        batch_cmds.send_in_parts(
            "http://127.0.0.1:9", signed, lambda: iter_summary_leaves(path, summary), count
        )


def test_a_batch_too_large_to_relay_with_its_leaves_is_relayed_by_its_root(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from credreg.cli import service_client

    sent: list[tuple[str, Any]] = []

    def request(method: str, url: str, *, json: Any = None, **_: object) -> httpx.Response:
        sent.append((method, json))
        if method == "POST":
            return httpx.Response(202, json={"id": "r-1", "location": "/v1/issuances/r-1"})
        return httpx.Response(
            200, json={"status": "confirmed", "tx_hash": "0x" + "aa" * 32, "block_number": 7}
        )

    monkeypatch.setattr(httpx, "request", request)
    signed = SignedIssue.model_validate(issuance_example())
    for count, listed in (
        (service_client.LEAVES_IN_ONE_REQUEST, True),
        (service_client.LEAVES_IN_ONE_REQUEST + 1, False),
    ):
        sent.clear()
        leaves = [f"0x{n:064x}" for n in range(1, count + 1)]
        assert service_client.relay_issue("http://127.0.0.1:9", signed, leaves) == ("0x" + "aa" * 32, 7)
        assert ("leaves" in sent[0][1]) is listed
