"""A creation call's data (code, then the constructor's arguments) is what eth_abi encodes, quick path or not."""

from __future__ import annotations

import os

import pytest
from eth_abi.abi import encode
from hypothesis import given
from hypothesis import strategies as st

from credreg.chain.artifacts import load_artifact
from credreg.chain.codec import ContractCodec
from credreg.errors import ChainError

READER = load_artifact("StatusReader")
TYPES = ["address", "uint32[]", "bytes32[]", "bytes32[]", "uint256[]", "bytes32[]"]
words = st.binary(min_size=32, max_size=32)


@given(
    agency_ids=st.lists(st.integers(0, 2**32 - 1), max_size=5),
    hashes=st.lists(words, max_size=5),
    proof=st.lists(words, max_size=8),
)
def test_reader_arguments_are_encoded_as_eth_abi_encodes_them(
    agency_ids: list[int], hashes: list[bytes], proof: list[bytes]
) -> None:
    codec = ContractCodec(READER.abi)
    address = "0x" + os.urandom(20).hex()
    ends = list(range(len(agency_ids)))
    mine = codec.creation_data(
        READER.bytecode, address, agency_ids, ["0x" + x.hex() for x in hashes], hashes, ends, proof
    )
    values = [address, agency_ids, hashes, hashes, ends, proof]
    assert mine == READER.bytecode + encode(TYPES, values).hex()


def test_values_the_quick_encoder_does_not_take_go_through_eth_abi() -> None:
    codec = ContractCodec(READER.abi)
    with pytest.raises(Exception, match="Cannot be encoded in 32 bits"):
        codec.creation_data(READER.bytecode, "0x" + "11" * 20, [2**32], [], [], [], [])


def test_a_contract_without_a_constructor_takes_no_arguments() -> None:
    codec = ContractCodec([])
    assert codec.creation_data("0x6000") == "0x6000"
    with pytest.raises(ChainError, match="no arguments"):
        codec.creation_data("0x6000", 1)
