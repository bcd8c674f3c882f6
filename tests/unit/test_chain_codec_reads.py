"""The codec computes selectors and topics, checksums addresses and reads view results itself (so that a
verifier need not import eth_abi and eth_utils); each must agree with those libraries exactly."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.abi import event_abi_to_log_topic, function_abi_to_4byte_selector
from eth_utils.address import to_checksum_address
from hypothesis import example, given
from hypothesis import strategies as st

from credreg.chain.artifacts import load_artifact
from credreg.chain.codec import ContractCodec, normalise
from credreg.documents._keccak import checksum_address
from credreg.errors import ChainError

ABIS = {name: load_artifact(name).abi for name in ("CredentialRegistry", "AgencyDocumentStore")}
REGISTRY = ContractCodec(ABIS["CredentialRegistry"])


@pytest.mark.parametrize("name", sorted(ABIS))
def test_selectors_and_topics_are_eth_utils_own(name: str) -> None:
    codec = ContractCodec(ABIS[name])
    checked = 0
    for entry in ABIS[name]:
        if entry.get("type") == "function":
            assert (
                codec.functions[entry["name"]].selector == "0x" + function_abi_to_4byte_selector(entry).hex()
            )
            checked += 1
        elif entry.get("type") == "event":
            assert codec.topic_of(entry["name"]) == "0x" + event_abi_to_log_topic(entry).hex()
            checked += 1
    assert checked >= 4


@given(st.binary(min_size=20, max_size=20), st.sampled_from(["lower", "upper", "bytes", "bare"]))
def test_checksums_agree_with_eth_utils(raw: bytes, form: str) -> None:
    given_as: str | bytes = {
        "lower": "0x" + raw.hex(),
        "upper": "0x" + raw.hex().upper(),
        "bytes": raw,
        "bare": raw.hex(),
    }[form]
    assert checksum_address(given_as) == to_checksum_address(given_as)


def test_checksum_refuses_what_eth_utils_refuses() -> None:
    with pytest.raises(ValueError, match="0x1234"):
        checksum_address("0x1234")


def _encoded(name: str, values: list[Any]) -> str:
    spec = REGISTRY.functions[name]
    return "0x" + encode(list(spec.output_types), values).hex()


def _expected(name: str, values: list[Any]) -> Any:
    spec = REGISTRY.functions[name]
    shaped = [normalise(o, v) for o, v in zip(spec.outputs, values, strict=True)]
    return shaped[0] if len(shaped) == 1 else shaped


_text = st.text(max_size=70)
_address = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b))


@given(
    _text, _text, _address, st.integers(0, 3), st.integers(0, 2**16 - 1), st.integers(0, 2**40 - 1), _address
)
@example("", "", "0x" + "00" * 20, 0, 0, 0, "0x" + "00" * 20)
@example("北京数字技能评价中心" * 4, "BJ-0001", "0x" + "ab" * 20, 2, 7, 2**40 - 1, "0x" + "cd" * 20)
def test_agency_results_read_as_eth_abi_reads_them(
    name: str, code: str, admin: str, state: int, reason: int, cutoff: int, store: str
) -> None:
    values = [(name, code, admin, state, reason, cutoff, store)]
    assert REGISTRY.decode_result("agency", _encoded("agency", values)) == _expected("agency", values)


@given(_text, st.integers(0, 255), st.integers(0, 2**32 - 1), _text, st.integers(0, 2**40 - 1))
def test_scope_results_read_as_eth_abi_reads_them(
    code: str, level: int, index: int, title: str, retired: int
) -> None:
    values = [(code, level, index, title, retired)]
    assert REGISTRY.decode_result("scope", _encoded("scope", values)) == _expected("scope", values)


def test_irregular_results_are_left_to_eth_abi_and_refused_in_its_words() -> None:
    good = _encoded("VERSION", ["2.0.0"])
    assert REGISTRY.decode_result("VERSION", good) == "2.0.0"
    invalid_utf8 = good[:-64] + "ff" + "00" * 31
    for broken in (good[:-64], good[:66] + f"{4096:064x}" + good[130:], invalid_utf8):
        with pytest.raises(ChainError, match="does not decode"):
            REGISTRY.decode_result("VERSION", broken)
