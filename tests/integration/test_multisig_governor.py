"""A real Safe multisig (npm `@safe-global/safe-contracts@1.4.1`) governs the registry on a real anvil chain.

The bureau's three officers own a 2-of-3 Safe. The registry is deployed with a deployer key as governor,
which hands the role to the Safe (Ownable2Step: `transferOwnership`, then `acceptOwnership` executed by the
Safe). From then on, two officers' signatures define a scope, register and accredit an agency, and revoke
one of that agency's certificates; one signature is not enough, and no officer can act alone by calling
the registry directly.

Every governor action goes through the file `credreg ... --unsigned-tx FILE` writes (a Safe Transaction
Builder batch file): the test reads the JSON, builds the Safe transaction hash with the Safe's own
`getTransactionHash` view, signs it with eth-account, and submits `execTransaction`. A last test walks the
same road with `credreg safe sign` and `credreg safe exec`.

Keys are the well-known anvil test keys: 0 deployer (first governor), 1 agency admin, 2 agency signer,
3 relayer and submitter, 4 Safe deployer, 5, 6 and 7 the Safe's owners.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lifecycle_support import ACCOUNTS, ADMIN, IDENTITY_LOCATION, RELAYER, SIGNER, Cli, sample_results
from safe_wallet import SafeDeployment, deploy_safe
from web3 import Web3

from credreg.chain.devchain import ephemeral_chain
from credreg.chain.manifest import Manifest
from credreg.chain.safe import SafeTx, batch_checksum
from credreg.chain.states import AgencyState, Verdict
from credreg.chain.transactions import TxSender
from credreg.errors import ContractRevert
from credreg.issuance import issue_results_file
from credreg.registry import AgencyAdmin, Governor, Registry, scope_id_of
from credreg.samples import BLOCKCHAIN_TECHNICIAN as SCOPE

DEPLOYER, SAFE_DEPLOYER = ACCOUNTS[0], ACCOUNTS[4]
OWNERS = ACCOUNTS[5:8]
ROOT = Path(__file__).resolve().parents[2]
DAY = 86_400


@dataclass
class Bureau:
    cli: Cli
    workdir: Path
    registry: Registry
    safe: SafeDeployment
    submitter: TxSender

    def unsigned(self, name: str, *args: str) -> Path:
        """Run a governor command with `--unsigned-tx`, and return the file it wrote."""
        path = self.workdir / f"{name}.json"
        self.cli.ok(*args, "--unsigned-tx", str(path))
        return path

    def execute_file(self, path: Path, signers: tuple[int, ...] = (0, 2)) -> None:
        """Load the batch file, have owners `signers` sign its one call, and submit it to the Safe."""
        batch = json.loads(path.read_text(encoding="utf-8"))
        assert batch["version"] == "1.0"
        assert batch["chainId"] == str(self.registry.domain.chain_id)
        assert batch["meta"]["createdFromSafeAddress"] == self.safe.address
        assert batch["meta"]["checksum"] == batch_checksum(batch)
        (call,) = batch["transactions"]
        assert call["to"] == self.registry.address
        assert call["value"] == "0"
        assert set(call["contractInputsValues"]) == {i["name"] for i in call["contractMethod"]["inputs"]}
        self.safe.execute(call["to"], call["data"], [OWNERS[i] for i in signers], self.submitter)


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bureau]:
    """A registry deployed by account 0, handed over to a 2-of-3 Safe through the CLI's unsigned file."""
    workdir = tmp_path_factory.mktemp("multisig")
    with ephemeral_chain() as chain:
        env = {
            "CREDREG_DATA_DIR": str(workdir / "data"),
            "CREDREG_RPC_URL": chain.url,
            "CREDREG_PROJECT_ROOT": str(ROOT),
        }
        cli = Cli(workdir, env)
        cli.ok("deploy", "--dev-account", "0")
        registry = Registry.connect(chain.url, Manifest.load(workdir / "data" / "deployment.json"))
        w3 = Web3(Web3.HTTPProvider(chain.url))
        safe = deploy_safe(w3, SAFE_DEPLOYER, OWNERS, threshold=2)
        assert safe.contract.functions.VERSION().call() == "1.4.1"
        assert safe.contract.functions.getThreshold().call() == 2
        assert sorted(safe.contract.functions.getOwners().call()) == sorted(o.address for o in OWNERS)
        b = Bureau(cli, workdir, registry, safe, TxSender(w3, RELAYER))

        cli.ok("governor", "transfer", safe.address, "--dev-account", "0")
        assert registry.governor() == DEPLOYER.address  # not yet: the Safe must accept
        b.execute_file(b.unsigned("accept", "governor", "accept"))
        yield b


def test_the_safe_accepted_the_governor_role(bureau: Bureau) -> None:
    assert bureau.registry.governor() == bureau.safe.address
    assert bureau.cli.json("governor", "show") == {"governor": bureau.safe.address, "pending_governor": None}


def test_two_of_three_owners_accredit_an_agency_and_revoke_its_certificate(bureau: Bureau) -> None:
    registry, cli = bureau.registry, bureau.cli
    scope_id = scope_id_of(SCOPE.occupation_code, SCOPE.level)

    bureau.execute_file(
        bureau.unsigned(
            "scope", "scope", "define", SCOPE.occupation_code, str(SCOPE.level), "Blockchain technician"
        )
    )
    scope = registry.scope(scope_id)
    assert (scope.occupation_code, scope.level, scope.title) == (
        SCOPE.occupation_code, SCOPE.level, "Blockchain technician",
    )  # fmt: skip

    bureau.execute_file(
        bureau.unsigned(
            "register", "agency", "register", "Digital Skills Centre", "BJ-0001", "--admin", ADMIN.address
        ),
        signers=(1, 2),
    )
    agency_id = registry.agency_count()
    agency = registry.agency(agency_id)
    assert (agency.registration_code, agency.admin, agency.state) == (
        "BJ-0001",
        ADMIN.address,
        AgencyState.ACTIVE,
    )

    since = registry.block_time() - DAY
    bureau.execute_file(
        bureau.unsigned(
            "accredit",
            "agency",
            "accredit",
            str(agency_id),
            scope_id,
            "--from",
            datetime.fromtimestamp(since, UTC).isoformat(),
        )
    )
    accreditation = registry.accreditation(agency_id, scope_id)
    assert (accreditation.valid_from, accreditation.valid_until) == (since, 0)
    assert accreditation.scope_index == scope.index

    # The agency issues with the library's own issuing code, exactly as `credreg issue` does.
    AgencyAdmin(registry, ADMIN).add_signer(agency_id, SIGNER.address, since)
    results = sample_results(bureau.workdir / "session.csv", 3, prefix="MS")
    outcome = issue_results_file(
        registry,
        SIGNER,
        RELAYER,
        results,
        bureau.workdir / "certificates",
        identity_location=IDENTITY_LOCATION,
    )
    assert (outcome.summary.count, outcome.summary.agency_id) == (3, agency_id)
    record = registry.record(agency_id, outcome.summary.root)
    assert (record.agency_id, record.scope_id, record.signer) == (agency_id, scope_id, SIGNER.address)
    revoked, kept = sorted((bureau.workdir / "certificates").glob("MS*.json"))[:2]
    assert cli("verify", str(revoked)).code == 0

    bureau.execute_file(bureau.unsigned("revoke", "revoke", str(revoked), "--reason", "4"), signers=(2, 0))
    signature = json.loads(revoked.read_text(encoding="utf-8"))["signature"]
    state = registry.credential_status(
        agency_id,
        "0x" + signature["merkleRoot"],
        "0x" + signature["targetHash"],
        ["0x" + p for p in signature["proof"]],
    )
    assert (state.verdict, state.reason) == (Verdict.LEAF_REVOKED, 4)
    assert cli("verify", str(revoked)).code == 1
    assert cli("verify", str(kept)).code == 0


def test_one_owner_signature_is_refused(bureau: Bureau) -> None:
    registry, safe = bureau.registry, bureau.safe
    scopes_before = registry.scope_count()
    data = str(registry.build("defineScope", "2-02-10-09", 2, "AI engineering technician")["data"])
    tx = safe.safe_tx(registry.address, data)
    with pytest.raises(ContractRevert) as refused:
        safe.exec_tx(tx, safe.signatures(tx, [OWNERS[1]]), bureau.submitter)
    assert refused.value.args_by_name == {"reason": "GS020"}
    assert registry.scope_count() == scopes_before
    assert int(safe.contract.functions.nonce().call()) == tx.nonce  # nothing was executed

    # The same call with two signatures goes through: the refusal was about the count, nothing else.
    safe.exec_tx(tx, safe.signatures(tx, OWNERS[1:]), bureau.submitter)
    assert registry.scope_count() == scopes_before + 1


@pytest.mark.parametrize("index", [5, 6, 7, 0], ids=["owner-5", "owner-6", "owner-7", "former-governor"])
def test_no_single_key_can_call_the_registry_as_governor(bureau: Bureau, index: int) -> None:
    account = ACCOUNTS[index]
    with pytest.raises(ContractRevert) as refused:
        Governor(bureau.registry, account).define_scope("2-02-10-10", 1, "Not by one person")
    assert refused.value.name == "OwnableUnauthorizedAccount"
    assert refused.value.args_by_name == {"account": account.address.lower()}


def test_owners_sign_and_execute_with_the_cli(bureau: Bureau) -> None:
    cli, registry, safe = bureau.cli, bureau.registry, bureau.safe
    path = bureau.unsigned(
        "register-cli", "agency", "register", "Xicheng Centre", "XC-0003", "--admin", ADMIN.address
    )
    signatures = path.with_name("register-cli.signatures.json")

    assert "is not an owner" in cli.fails(2, "safe", "sign", str(path), "--dev-account", "3").text
    assert not signatures.exists()
    first = cli.ok("safe", "sign", str(path), "--dev-account", "5").text
    assert "1 of 2 signatures" in first
    assert f"registerAgency(name=Xicheng Centre, registrationCode=XC-0003, admin={ADMIN.address})" in first
    assert "it needs 2" in cli.fails(2, "safe", "exec", str(path), "--dev-account", "3").text
    assert "2 of 2 signatures" in cli.ok("safe", "sign", str(path), "--dev-account", "7").text
    recorded = json.loads(signatures.read_text(encoding="utf-8"))
    assert [s["owner"] for s in recorded["signatures"]] == [OWNERS[0].address, OWNERS[2].address]
    tx = SafeTx.model_validate(recorded["safeTx"])
    assert recorded["safeTxHash"] == safe.transaction_hash(tx)

    cli.ok("safe", "exec", str(path), "--dev-account", "3")
    agency = registry.agency(registry.agency_count())
    assert (agency.registration_code, agency.state) == ("XC-0003", AgencyState.ACTIVE)
    assert "already executed" in cli.fails(2, "safe", "exec", str(path), "--dev-account", "3").text


def test_a_call_the_registry_would_refuse_is_never_written(bureau: Bureau) -> None:
    path = bureau.workdir / "unknown-agency.json"
    ran = bureau.cli.fails(2, "agency", "reinstate", "99", "--unsigned-tx", str(path))
    assert "InvalidAgencyState(agencyId=99" in ran.text
    assert not path.exists()


def test_an_altered_file_is_refused_before_anyone_signs(bureau: Bureau) -> None:
    path = bureau.unsigned("altered", "scope", "define", "3-01-01-01", "1", "Draughtsperson")
    batch = json.loads(path.read_text(encoding="utf-8"))
    # What the owners are shown changes; what they would sign does not.
    batch["transactions"][0]["contractInputsValues"]["level"] = "2"
    path.write_text(json.dumps(batch), encoding="utf-8")
    assert "altered" in bureau.cli.fails(2, "safe", "sign", str(path), "--dev-account", "5").text


def test_owners_queue_a_second_action_behind_the_first(bureau: Bureau) -> None:
    cli, registry, safe = bureau.cli, bureau.registry, bureau.safe
    first = bureau.unsigned("first", "scope", "define", "2-02-10-11", "1", "First")
    second = bureau.unsigned("second", "scope", "define", "2-02-10-12", "1", "Second")
    nonce = int(safe.contract.functions.nonce().call())
    for owner in ("5", "6"):
        cli.ok("safe", "sign", str(first), "--dev-account", owner)
    for owner in ("6", "7"):
        cli.ok("safe", "sign", str(second), "--nonce", str(nonce + 1), "--dev-account", owner)

    waiting = cli.fails(2, "safe", "exec", str(second), "--dev-account", "3")
    assert f"must first execute its transaction {nonce}" in waiting.text
    cli.ok("safe", "exec", str(first), "--dev-account", "3")
    cli.ok("safe", "exec", str(second), "--dev-account", "3")
    assert registry.scope(scope_id_of("2-02-10-11", 1)).title == "First"
    assert registry.scope(scope_id_of("2-02-10-12", 1)).title == "Second"


def test_credreg_never_signs_a_call_outside_the_registry(bureau: Bureau) -> None:
    path = bureau.unsigned("outside", "scope", "define", "3-01-01-02", "1", "Surveyor")
    batch = json.loads(path.read_text(encoding="utf-8"))
    # The same file made to lower the Safe's own threshold to one signature.
    lower = bureau.safe.contract.encode_abi("changeThreshold", args=[1])
    batch["transactions"] = [{"to": bureau.safe.address, "value": "0", "data": lower}]
    path.write_text(json.dumps(batch), encoding="utf-8")
    ran = bureau.cli.fails(2, "safe", "sign", str(path), "--dev-account", "5")
    assert "not the registry" in ran.text
    assert not path.with_name("outside.signatures.json").exists()
    assert bureau.safe.contract.functions.getThreshold().call() == 2
