"""The one event decoder (`ContractCodec.decode_raw` / `decode_log`) reads static words itself; every event
type of every contract must come out exactly as eth_abi decodes it, and malformed words must be refused."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import decode, encode
from hexbytes import HexBytes
from hypothesis import given, settings
from hypothesis import strategies as st

from credreg.chain.artifacts import load_artifact
from credreg.chain.codec import ContractCodec, UndecodableLog, collapse_if_tuple, normalise

ABIS = {name: load_artifact(name).abi for name in ("CredentialRegistry", "AgencyDocumentStore")}
EVENTS = [
    (contract, entry)
    for contract, abi in sorted(ABIS.items())
    for entry in abi
    if entry.get("type") == "event" and not entry.get("anonymous")
]


def _value(kind: str, draw: st.DrawFn) -> Any:
    if kind.startswith("uint"):
        return draw(st.integers(0, (1 << int(kind[4:] or 256)) - 1))
    if kind.startswith("int"):
        bits = int(kind[3:] or 256)
        return draw(st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1))
    if kind == "address":
        return "0x" + draw(st.binary(min_size=20, max_size=20)).hex()
    if kind == "bool":
        return draw(st.booleans())
    if kind == "string":
        return draw(st.text(max_size=40))
    if kind == "bytes":
        return draw(st.binary(max_size=40))
    if kind.startswith("bytes"):
        size = int(kind[5:])
        return draw(st.binary(min_size=size, max_size=size))
    raise AssertionError(f"no values drawn for {kind}")


@st.composite
def _logs(draw: st.DrawFn, entry: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A raw log of `entry` (as eth_getLogs gives it) and what eth_abi decodes from it."""
    inputs = entry["inputs"]
    values = {i["name"]: _value(i["type"], draw) for i in inputs}
    topics = [ContractCodec([entry]).topic_of(entry["name"])]
    expected: dict[str, Any] = {}
    for i in inputs:
        if i["indexed"]:
            word = encode([i["type"]], [values[i["name"]]])
            topics.append("0x" + word.hex())
            (decoded,) = decode([i["type"]], word)
            expected[i["name"]] = normalise(i, decoded)
    data = [i for i in inputs if not i["indexed"]]
    raw = encode([collapse_if_tuple(i) for i in data], [values[i["name"]] for i in data])
    for i, decoded in zip(data, decode([collapse_if_tuple(i) for i in data], raw), strict=True):
        expected[i["name"]] = normalise(i, decoded)
    block = draw(st.integers(0, 1 << 40))
    log = {
        "topics": topics, "data": "0x" + raw.hex(), "blockNumber": hex(block), "blockHash": "0x" + "ab" * 32,
        "transactionHash": "0x" + "cd" * 32, "transactionIndex": "0x2", "logIndex": "0x7",
        "blockTimestamp": hex(1_767_225_600 + block),
    }  # fmt: skip
    return log, {name: expected[name] for name in (i["name"] for i in inputs)}


@pytest.mark.parametrize(("contract", "entry"), EVENTS, ids=[f"{c}.{e['name']}" for c, e in EVENTS])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_event_decodes_as_eth_abi_decodes_it(
    contract: str, entry: dict[str, Any], data: st.DataObject
) -> None:
    codec = ContractCodec(ABIS[contract])
    log, expected = data.draw(_logs(entry))
    event = codec.decode_raw(log)
    assert event.name == entry["name"]
    assert event.args == expected
    assert list(event.args) == [i["name"] for i in entry["inputs"]]  # ABI order, which the digest needs
    assert (event.block_number, event.log_index, event.transaction_index) == (
        int(log["blockNumber"], 16),
        7,
        2,
    )
    assert event.block_time == int(log["blockTimestamp"], 16)
    # web3.py's form of the same log (bytes and ints) gives the same event.
    web3_form = {
        **log, "topics": [HexBytes(t) for t in log["topics"]], "data": HexBytes(log["data"]),
        "blockNumber": event.block_number, "transactionIndex": 2, "logIndex": 7,
        "blockHash": HexBytes(log["blockHash"]), "transactionHash": HexBytes(log["transactionHash"]),
        "blockTimestamp": event.block_time,
    }  # fmt: skip
    assert codec.decode_log(web3_form) == event


REGISTRY = ContractCodec(ABIS["CredentialRegistry"])


def _raw(name: str, topics: list[str], data: str) -> dict[str, Any]:
    return {
        "topics": [REGISTRY.topic_of(name), *topics], "data": data, "blockNumber": "0x5", "logIndex": "0x0",
        "blockHash": "0x" + "ab" * 32, "transactionHash": "0x" + "cd" * 32, "transactionIndex": "0x0",
    }  # fmt: skip


def test_words_that_do_not_fit_their_types_are_refused_with_the_logs_position() -> None:
    agency = "0x" + "00" * 31 + "01"
    with pytest.raises(UndecodableLog, match="AgencySuspended"):  # uint16 reason with bits above 16 set
        REGISTRY.decode_raw(_raw("AgencySuspended", [agency], "0x" + "00" * 29 + "010000"))
    with pytest.raises(UndecodableLog, match="data bytes"):
        REGISTRY.decode_raw(_raw("AgencySuspended", [agency], "0x1234"))
    with pytest.raises(UndecodableLog, match="needs 1 indexed topics"):
        REGISTRY.decode_raw(_raw("AgencySuspended", [], "0x" + "00" * 32))
    with pytest.raises(UndecodableLog, match="unknown event topic") as refused:
        REGISTRY.decode_raw(dict(_raw("AgencySuspended", [agency], "0x"), topics=["0x" + "ee" * 32]))
    assert (refused.value.block, refused.value.log_index) == (5, 0)
    assert (
        REGISTRY.decode_log(dict(_raw("AgencySuspended", [agency], "0x"), topics=["0x" + "ee" * 32])) is None
    )
    bad_address = "0x" + "11" * 32  # an address word with bits above 160 set
    with pytest.raises(UndecodableLog, match="malformed"):
        REGISTRY.decode_raw(_raw("OwnershipTransferred", [bad_address, bad_address], "0x"))
