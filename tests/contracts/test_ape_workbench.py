"""ape drives the registry as credreg ships it (the compiled artifact), with ape's own fixtures, on the anvil
`ape test` connects ape to: it deploys, signs with its test accounts, and decodes the contract's custom errors
and events. These run under `ape test tests/contracts` only (plain pytest has no ape fixtures: conftest.py
leaves this module out there)."""

from __future__ import annotations

from typing import Any

import ape
from ape.contracts import ContractContainer, ContractInstance
from ethpm_types import ContractType

from credreg.chain.artifacts import load_artifact
from credreg.chain.devchain import DEV_CHAIN_ID
from credreg.chain.provenance import compare_runtime
from credreg.documents.model import scope_id as scope_id_of

OCCUPATION, LEVEL, TITLE = "6-31-01-01", 3, "Electrician, level 3"


def registry_container() -> ContractContainer:
    artifact = load_artifact("CredentialRegistry")
    contract_type = ContractType.model_validate(
        {
            "contractName": artifact.name,
            "abi": artifact.abi,
            "deploymentBytecode": {"bytecode": artifact.bytecode},
            "runtimeBytecode": {"bytecode": artifact.deployed_bytecode},
        }
    )
    return ContractContainer(contract_type)


def deploy(accounts: Any) -> ContractInstance:
    governor = accounts[0]
    return registry_container().deploy(governor.address, sender=governor)


def test_ape_deploys_the_shipped_registry_on_anvil(accounts: Any, networks: Any) -> None:
    # (ape's `chain` fixture is shadowed by credreg's own, an anvil per test: `networks` reaches ape's.)
    provider = networks.provider
    assert provider.chain_id == DEV_CHAIN_ID
    assert provider.client_version.lower().startswith("anvil")
    # ape's test accounts are anvil's funded ones (the same mnemonic).
    assert accounts[0].balance > 0

    registry = deploy(accounts)

    assert registry.VERSION() == "2.0.0"
    assert registry.owner() == accounts[0].address
    code = bytes(provider.web3.eth.get_code(registry.address))
    assert compare_runtime(code, load_artifact("CredentialRegistry")).ok


def test_ape_decodes_the_registrys_custom_errors_and_events(accounts: Any) -> None:
    registry = deploy(accounts)
    stranger = accounts[3]

    with ape.reverts(registry.OwnableUnauthorizedAccount, account=stranger.address):
        registry.defineScope(OCCUPATION, LEVEL, TITLE, sender=stranger)
    receipt = registry.defineScope(OCCUPATION, LEVEL, TITLE, sender=accounts[0])

    [event] = receipt.events
    assert event.event_name == "ScopeDefined"
    assert "0x" + bytes(event.scopeId).hex() == str(scope_id_of(OCCUPATION, LEVEL)).lower()
    assert (event.occupationCode, event.level, event.title) == (OCCUPATION, LEVEL, TITLE)
    with ape.reverts(registry.AccreditationRegistryScopeAlreadyDefined):
        registry.defineScope(OCCUPATION, LEVEL, TITLE, sender=accounts[0])
