"""The Safe Transaction Builder file credreg writes for a multisig governor, and owners' signatures over
a Safe transaction hash (no chain needed; tests/integration/test_multisig_governor.py runs a real Safe)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_account import Account
from hypothesis import example, given, settings
from hypothesis import strategies as st
from web3 import Web3

from credreg.chain.artifacts import load_artifact
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.safe import (
    OwnerSignature,
    batch_checksum,
    batch_file,
    batch_transaction,
    load_batch,
    packed_signatures,
    sign_safe_tx_hash,
    signer_of,
)
from credreg.errors import SafeTxError

ABI = load_artifact("CredentialRegistry").abi
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
SAFE = "0x1f2E8803f2c89fd20E4fbA71966ED4c3e4F2cdca"
CONTRACT = Web3().eth.contract(abi=ABI)
hashes = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())


def _file(method: str, *args: object) -> dict[str, Any]:
    data = CONTRACT.encode_abi(method, args=list(args))
    tx = batch_transaction(ABI, REGISTRY, data)
    return batch_file(31337, SAFE, [tx], name="n", description="d", created_at_ms=1_700_000_000_000)


@settings(deadline=None, max_examples=40)  # a shared machine; each example encodes and decodes twice
@given(root=hashes, target=hashes, proof=st.lists(hashes, max_size=6), action=st.integers(1, 3),
       reason=st.integers(0, 65535))  # fmt: skip
@example(root="0x" + "00" * 32, target="0x" + "ff" * 32, proof=[], action=1, reason=0)
def test_the_values_shown_encode_exactly_the_data_signed(
    root: str, target: str, proof: list[str], action: int, reason: int
) -> None:
    batch = _file("governorSetStatus", 1, root, target, proof, action, reason)
    (tx,) = batch["transactions"]
    assert tx["contractInputsValues"]["proof"] == "[" + ",".join(proof) + "]"
    call = load_batch(json.dumps(batch), "f.json")
    assert (call.chain_id, call.safe, call.to, call.data) == (31337, SAFE, REGISTRY, tx["data"].lower())
    # The Transaction Builder exports a method call with "data": null; the values alone must then do.
    tx["data"] = None
    assert load_batch(json.dumps(batch), "f.json").data == call.data


def test_values_that_disagree_with_the_data_are_refused() -> None:
    batch = _file("accredit", 1, "0x" + "5c" * 32, 0, 0)
    batch["transactions"][0]["contractInputsValues"]["agencyId"] = "2"
    with pytest.raises(SafeTxError, match="altered"):
        load_batch(json.dumps(batch), "f.json")


def test_a_batch_of_several_calls_is_refused() -> None:
    batch = _file("reinstateAgency", 1)
    batch["transactions"] = batch["transactions"] * 2
    with pytest.raises(SafeTxError, match="holds 2 transactions"):
        load_batch(json.dumps(batch), "f.json")


@pytest.mark.parametrize("text", ["", "[]", '{"chainId": "x", "transactions": []}', '{"transactions": [1]}'])
def test_what_is_not_a_batch_file_is_refused_by_name(text: str) -> None:
    with pytest.raises(SafeTxError, match=r"f\.json"):
        load_batch(text, "f.json")


def test_the_checksum_covers_the_transactions_but_not_the_name() -> None:
    batch = _file("reinstateAgency", 1)
    assert batch["meta"]["checksum"] == batch_checksum(batch)
    renamed = {**batch, "meta": {**batch["meta"], "name": "another name"}}
    assert batch_checksum(renamed) == batch_checksum(batch)
    assert batch_checksum(_file("reinstateAgency", 2)) != batch_checksum(batch)


def test_owner_signatures_recover_and_pack_in_owner_order() -> None:
    owners = [Account.from_key(k) for k in ANVIL_TEST_KEYS[5:8]]  # the well-known anvil test keys
    tx_hash = "0x" + "ab" * 32
    signatures = [OwnerSignature(owner=o.address, signature=sign_safe_tx_hash(o, tx_hash)) for o in owners]
    assert [signer_of(tx_hash, s.signature) for s in signatures] == [o.address for o in owners]
    packed = packed_signatures(signatures)
    ordered = sorted(signatures, key=lambda s: int(s.owner, 16))
    assert packed == b"".join(bytes.fromhex(s.signature[2:]) for s in ordered)
    assert signer_of("0x" + "cd" * 32, signatures[0].signature) != owners[0].address
