"""The service's pure parts: problem field names, audit cursors, request identity, relayer key choice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from hypothesis import example, given
from hypothesis import strategies as st

from credreg.api.problems import ProblemError, _message, field_name
from credreg.api.routes.events import decode_cursor, encode_cursor
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.eip712 import HEX32, Domain, IssueRequest, sign
from credreg.chain.keystore import create_keystore
from credreg.chain.manifest import DeployedContract, Manifest
from credreg.config import Settings
from credreg.errors import ConfigError
from credreg.registry import SignedIssue
from credreg.service.db import LedgerEventRow
from credreg.service.intake import json_args, normalise_issue
from credreg.service.runtime import relayer_account
from credreg.service.store import ISSUE, id_of, request_key

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


@pytest.mark.parametrize(
    ("loc", "name"),
    [
        (("body", "request", "root"), "request.root"),
        (("body", "leaves", 3), "leaves[3]"),
        (("body",), "body"),
        (("path", "agency_id"), "agency_id"),
        (("query", "limit"), "limit"),
        (("body", "dict[str,any]"), "body"),
        (("body", "list[dict[str,any]]", 2), "[2]"),
    ],
)
def test_field_names_read_like_the_request(loc: tuple[str | int, ...], name: str) -> None:
    assert field_name(loc) == name


def test_hash_pattern_errors_say_what_a_hash_looks_like() -> None:
    assert "64 hex digits" in _message({"msg": "String should match pattern", "ctx": {"pattern": HEX32}})
    assert _message({"msg": "Field required"}) == "Field required"


@given(st.integers(0, 2**63 - 1), st.integers(0, 2**32 - 1))
@example(0, 0)
def test_cursors_round_trip(block: int, log_index: int) -> None:
    row = LedgerEventRow(block_number=block, log_index=log_index)
    assert decode_cursor(encode_cursor(row)) == (block, log_index)


@pytest.mark.parametrize("cursor", ["", "%%%", "OTk5", "LTE6MA", "YTpi", "MTox Ojo"])
def test_foreign_cursors_are_refused_naming_the_cursor(cursor: str) -> None:
    with pytest.raises(ProblemError) as caught:
        decode_cursor(cursor)
    assert caught.value.field == "cursor"
    assert caught.value.status == 422


def _signed(key: str, root: str) -> SignedIssue:
    account = Account.from_key(key)
    request = IssueRequest(root=root, scope_id="0x" + "22" * 32, valid_until=0, deadline=2_000_000_000)
    domain = Domain(chain_id=31337, registry=REGISTRY)
    return SignedIssue(
        chain_id=31337, registry=REGISTRY, request=request, signature=sign(account, domain, request)
    )


def test_a_request_is_the_same_whatever_its_hex_case() -> None:
    signed = _signed(ANVIL_TEST_KEYS[2], "0x" + "ab" * 32)
    shouting = signed.model_copy(
        update={
            "registry": REGISTRY.lower(),
            "request": signed.request.model_copy(update={"root": "0x" + "AB" * 32}),
        }
    )
    signer = signed.signer()
    key = request_key(ISSUE, normalise_issue(signed), signer)
    assert key == request_key(ISSUE, normalise_issue(shouting), signer.lower())
    assert id_of(key) == id_of(key)
    other = _signed(ANVIL_TEST_KEYS[3], "0x" + "ab" * 32)
    assert request_key(ISSUE, normalise_issue(other), other.signer()) != key


def test_contract_error_arguments_become_json() -> None:
    shown = json_args({"root": b"\x01" * 32, "signer": "0x" + "ab" * 20, "agencyId": 3})
    assert shown == {"root": "0x" + "01" * 32, "signer": to_checksum_address("0x" + "ab" * 20), "agencyId": 3}


def _manifest(chain_id: int) -> Manifest:
    return Manifest(
        chain_id=chain_id,
        registry=DeployedContract(
            address=REGISTRY, deployment_block=1, transaction_hash="0x" + "00" * 32,
            bytecode_hash="0x", deployed_bytecode_hash="0x",
        ),
        governor=REGISTRY, contract_version="2.0.0", compiler_version="0.8.37", evm_version="london",
        optimizer_runs=10_000, credreg_version="0.1.0", deployed_at=datetime.now(UTC),
    )  # fmt: skip


def test_the_relayer_is_a_test_account_only_on_the_dev_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert relayer_account(settings, _manifest(31337)).address == Account.from_key(ANVIL_TEST_KEYS[9]).address
    with pytest.raises(ConfigError, match="CREDREG_RELAYER_KEYSTORE"):
        relayer_account(settings, _manifest(1337))

    keystore = tmp_path / "relayer.json"
    created = create_keystore(keystore, "correct horse")
    with_key = Settings(_env_file=None, data_dir=tmp_path, relayer_keystore=keystore)  # type: ignore[call-arg]
    monkeypatch.delenv("CREDREG_RELAYER_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="CREDREG_RELAYER_PASSWORD"):
        relayer_account(with_key, _manifest(1337))
    monkeypatch.setenv("CREDREG_RELAYER_PASSWORD", "correct horse")
    assert relayer_account(with_key, _manifest(1337)).address == created.address
