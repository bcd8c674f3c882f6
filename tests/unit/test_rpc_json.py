"""The JSON-RPC transport writes and reads bodies with orjson, and with `json` where orjson would differ."""

from __future__ import annotations

import json

import pytest

from credreg.chain.rpc import _json_body, _json_reply


def test_a_body_is_compact_json_of_the_message() -> None:
    message = [
        {"jsonrpc": "2.0", "method": "eth_call", "params": [{"data": "0x" + "ab" * 40}, "0x10"], "id": 7}
    ]
    assert json.loads(_json_body(message)) == message
    assert b" " not in _json_body(message)


def test_an_integer_beyond_64_bits_is_written_exactly() -> None:
    assert json.loads(_json_body({"value": 2**70})) == {"value": 2**70}


def test_an_integer_beyond_64_bits_is_read_exactly() -> None:
    reply = b'[{"jsonrpc":"2.0","id":1,"error":{"code":123456789012345678901234567890,"message":"x"}}]'
    assert _json_reply(reply)[0]["error"]["code"] == 123456789012345678901234567890


def test_a_reply_is_read_as_json_reads_it() -> None:
    reply = b'[{"jsonrpc":"2.0","id":2,"result":"0x01"},{"jsonrpc":"2.0","id":1,"result":{"n":1.5}}]'
    assert _json_reply(reply) == json.loads(reply)


def test_a_reply_that_is_not_json_is_refused() -> None:
    with pytest.raises(json.JSONDecodeError):
        _json_reply(b"<html>")
