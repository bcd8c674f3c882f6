"""A history the rules forbid, forged through a permissive test double: the audit names each rule and event."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from audit_ledger import compile_double, deploy_bytecode, manifest_for
from eth_account.signers.local import LocalAccount
from web3 import Web3

from credreg.audit import build_report, invariants
from credreg.audit.replay import Replayer
from credreg.chain.client import connect
from credreg.chain.devchain import ephemeral_chain
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.transactions import TxSender
from credreg.cli import main
from credreg.documents.model import scope_id as scope_id_of
from credreg.registry import Registry

REVOKE, SUSPEND, REINSTATE = 1, 2, 3


def rand32() -> bytes:
    return os.urandom(32)


@dataclass
class Forged:
    url: str
    registry: Registry
    expected: list[tuple[str, str, str]] = field(default_factory=list)  # (rule, event name, tx hash)
    allowed: list[str] = field(default_factory=list)  # tx hashes that break nothing


class Forger:
    def __init__(self, w3: Web3, account: LocalAccount, address: str, abi: list[dict[str, Any]]) -> None:
        self.contract = w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)
        self.sender = TxSender(w3, account, abi=abi)

    def __call__(self, function: str, *args: Any) -> str:
        data = self.contract.encode_abi(function, args=list(args))
        receipt = self.sender.send({"to": self.contract.address, "data": data})
        return receipt["transactionHash"].to_0x_hex()


@pytest.fixture(scope="module")
def forged() -> Iterator[Forged]:
    from eth_account import Account

    governor, admin, k1, k2, stranger = (Account.from_key(k) for k in ANVIL_TEST_KEYS[:5])
    with ephemeral_chain() as chain:
        w3 = connect(chain.url)
        compiled = compile_double()
        address, block = deploy_bytecode(
            w3, governor, compiled["abi"], "0x" + compiled["evm"]["bytecode"]["object"]
        )
        registry = Registry(w3, manifest_for(w3, address, block, governor.address))
        out = Forged(chain.url, registry)
        f = Forger(w3, governor, address, compiled["abi"])
        ok = out.allowed.append

        def bad(rule: str, event: str, tx: str) -> None:
            out.expected.append((rule, event, tx))

        s1, s2 = scope_id_of("4-04-05-01", 3), scope_id_of("4-04-05-02", 2)
        ok(f("scopeDefined", bytes.fromhex(s1[2:]), 1, "4-04-05-01", 3, "Blockchain engineering technician"))
        ok(f("scopeDefined", bytes.fromhex(s2[2:]), 2, "4-04-05-02", 2, "Data annotator"))
        ok(f("agencyRegistered", 1, admin.address, "Agency One", "A-1", stranger.address))
        ok(f("agencyAccredited", 1, bytes.fromhex(s1[2:]), 0, 0))
        ok(f("signerAdded", 1, k1.address, 1, 0, 0, admin.address))
        ok(f("signerAdded", 1, k2.address, 2, 0, 0, governor.address))
        r1, t, u = rand32(), rand32(), rand32()
        ok(f("credentialIssued", r1, 1, k1.address, bytes.fromhex(s1[2:]), 0, 0))

        def status(
            root: bytes, target: bytes, action: int, nonce: int, actor: str = k1.address, gov: bool = False
        ) -> str:
            return f("credentialStatusChanged", root, 1, actor, target, action, 0, nonce, 0, gov)

        bad(
            "issuance-not-accredited",
            "CredentialIssued",
            f("credentialIssued", rand32(), 1, k1.address, bytes.fromhex(s2[2:]), 0, 0),
        )
        never = rand32()
        bad("status-before-issuance", "CredentialStatusChanged", status(never, never, REVOKE, 1))
        bad("agency-transition", "AgencyReinstated", f("agencyReinstated", 1))
        ok(f("agencySuspended", 1, 3))
        bad(
            "issuance-agency-not-active",
            "CredentialIssued",
            f("credentialIssued", rand32(), 1, k1.address, bytes.fromhex(s1[2:]), 0, 0),
        )
        ok(f("agencyReinstated", 1))
        ok(status(r1, t, SUSPEND, 1))
        bad("status-transition", "CredentialStatusChanged", status(r1, t, SUSPEND, 2))
        ok(status(r1, t, REVOKE, 3))
        bad("revoked-is-final", "CredentialStatusChanged", status(r1, t, REINSTATE, 4))
        bad("status-nonce", "CredentialStatusChanged", status(r1, u, SUSPEND, 5))
        bad(
            "status-actor-invalid",
            "CredentialStatusChanged",
            status(r1, rand32(), SUSPEND, 1, actor=stranger.address, gov=True),
        )
        bad(
            "root-reissued",
            "CredentialIssued",
            f("credentialIssued", r1, 1, k1.address, bytes.fromhex(s1[2:]), 0, 0),
        )
        ok(f("signerCompromised", 1, k1.address, 1, admin.address))
        bad(
            "issuance-signer-invalid",
            "CredentialIssued",
            f("credentialIssued", rand32(), 1, k1.address, bytes.fromhex(s1[2:]), 0, 0),
        )
        ok(f("agencyRevoked", 1, 1, 9))
        bad(
            "status-after-agency-revocation",
            "CredentialStatusChanged",
            status(r1, r1, SUSPEND, 1, actor=k2.address),
        )
        bad(
            "issuance-agency-not-active",
            "CredentialIssued",
            f("credentialIssued", rand32(), 1, k2.address, bytes.fromhex(s1[2:]), 0, 0),
        )
        bad("agency-revoked-acts", "AgencyAccredited", f("agencyAccredited", 1, bytes.fromhex(s1[2:]), 0, 0))
        ok(f("agencyRegistered", 2, admin.address, "Agency Two", "A-2", stranger.address))
        bad(
            "status-cross-agency",
            "CredentialStatusChanged",
            f("credentialStatusChanged", r1, 2, k2.address, r1, SUSPEND, 0, 1, 0, False),
        )
        ok(f("scopeRetired", bytes.fromhex(s2[2:]), 0))
        bad("scope-retired", "AgencyAccredited", f("agencyAccredited", 2, bytes.fromhex(s2[2:]), 0, 0))
        issuer_key = rand32()
        ok(f("issuerKeyAdded", 2, issuer_key, 0, 0, governor.address))
        bad("issuer-key-reused", "IssuerKeyAdded", f("issuerKeyAdded", 2, issuer_key, 0, 0, governor.address))
        bad("cutoff-in-future", "AgencyRevoked", f("agencyRevoked", 2, 2**40 - 1, 1))
        bad("scope-id-mismatch", "ScopeDefined", f("scopeDefined", rand32(), 3, "4-04-05-03", 1, "Forged"))
        bad(
            "governor-mismatch",
            "OwnershipTransferred",
            f("ownershipTransferred", governor.address, stranger.address),
        )
        yield out


def test_each_broken_rule_is_named_with_its_event(forged: Forged) -> None:
    report = build_report(forged.registry, recompile=False)
    assert not report.clean
    found = {(f.code, f.event.name, f.event.transaction_hash) for f in report.findings if f.event is not None}
    for rule, event, tx in forged.expected:
        assert (rule, event, tx) in found, f"{rule} not reported for {event} {tx}"
    blamed = {f.event.transaction_hash for f in report.findings if f.event is not None}
    assert not blamed & set(forged.allowed), "a permitted event was reported as breaking a rule"
    for finding in report.findings:
        assert finding.rule  # every finding explains the rule it is about


def test_records_on_disk_find_the_same_broken_rules(forged: Forged, tmp_path: Path) -> None:
    end = forged.registry.head()
    in_memory = Replayer(forged.registry)
    in_memory.run(end)
    on_disk = Replayer(forged.registry, window_blocks=2, memory_records=0, records_dir=tmp_path)
    on_disk.run(end)
    assert on_disk.state.database is not None
    assert "root-reissued" in on_disk.state.finding_counts  # a root found again in the file, not in memory
    assert [str(f) for f in on_disk.findings] == [str(f) for f in in_memory.findings]
    assert on_disk.digest() == in_memory.digest()


@pytest.mark.parametrize("memory_records", [10**6, 0], ids=["in-memory", "on-disk"])
def test_the_one_pass_for_clean_credential_events_changes_nothing_the_rules_see(
    forged: Forged, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_records: int
) -> None:
    # Issuances and status changes that break no rule are checked and applied in one pass; every other event,
    # and any that breaks a rule, goes through the rules one by one. Both ways must give the same audit.
    end = forged.registry.head()
    one_pass = Replayer(forged.registry, memory_records=memory_records, records_dir=tmp_path / "one")
    one_pass.run(end)
    monkeypatch.setattr(invariants, "CLEAN_PATHS", {})
    rule_by_rule = Replayer(forged.registry, memory_records=memory_records, records_dir=tmp_path / "each")
    rule_by_rule.run(end)
    assert one_pass.state.events_by_name["CredentialIssued"] > 0
    assert [str(f) for f in one_pass.findings] == [str(f) for f in rule_by_rule.findings]
    assert one_pass.state.finding_counts == rule_by_rule.state.finding_counts
    assert one_pass.state.dump() == rule_by_rule.state.dump()
    assert one_pass.digest() == rule_by_rule.digest()
    assert list(one_pass.state.canonical_lines()) == list(rule_by_rule.state.canonical_lines())


def test_the_double_fails_provenance_and_answers_no_views(forged: Forged) -> None:
    report = build_report(forged.registry, recompile=False)
    codes = report.findings_by_code
    assert codes["bytecode-mismatch"] == 1
    assert codes["views-unavailable"] == 1
    assert report.provenance is not None
    assert report.provenance.verdict == "code-differs"
    assert report.views is not None
    assert not report.views.complete


def test_cli_exits_1_and_prints_the_rule_and_block(
    forged: Forged, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    forged.registry.manifest.save(tmp_path / "deployment.json")
    code = main(
        [
            "--data-dir",
            str(tmp_path),
            "--rpc-url",
            forged.url,
            "audit",
            "replay",
            "--no-recompile",
            "--no-views",
        ]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert out.index("finding(s)") < out.index("Agencies")  # findings first
    assert "issuance-not-accredited" in out
    assert "CredentialIssued at block" in out
