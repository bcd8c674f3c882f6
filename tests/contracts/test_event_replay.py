"""An auditor rebuilds the registry's whole state from its logs alone and finds what the views report."""

from __future__ import annotations

from typing import Any

from registry_harness import REINSTATE, REVOKE, SUSPEND, Harness, h
from web3.contract.contract import ContractEvent

from credreg.documents.merkle import MerkleTree

ACTION_TO_STATUS = {REVOKE: 1, SUSPEND: 2, REINSTATE: 0}


def _run_scenario(reg: Harness) -> list[tuple[int, bytes]]:
    """Exercise every kind of state change; return the (agency, root) pairs issued."""
    t = reg.now() + 10
    receipt = reg.send("defineScope", "4-07-02-03", 2, "Welder, level 2", sender=reg.governor)
    welder = bytes(reg.events(receipt, "ScopeDefined")[0]["scopeId"])
    b = reg.add_agency("Agency B", "REG-B", reg.other_admin, reg.other_signer)
    reg.send("accredit", reg.agency_id, welder, t, t + 1000, sender=reg.governor, at=t)
    reg.send("accredit", b, welder, 0, 0, sender=reg.governor)
    reg.send("withdrawAccreditation", b, reg.scope_id, sender=reg.governor, at=t + 1)
    reg.send("addSigner", reg.agency_id, reg.spare_signer.address, t, 0, sender=reg.admin)
    batch = MerkleTree([h(f"replay {i}") for i in range(5)])
    reg.issue(batch.root, at=t + 2)
    reg.issue(h("single"), key=reg.spare_signer, scope_id=welder, valid_until=t + 500, at=t + 3)
    reg.issue(h("b doc"), key=reg.other_signer, scope_id=welder, at=t + 4)
    leaf = batch.leaves[2]
    reg.set_status(batch.root, leaf, batch.proof(leaf), SUSPEND, 4, key=reg.spare_signer, at=t + 5)
    # B records A's root under its own name, and suspends A's leaf in a tree of its own: both in B's namespace.
    reg.issue(batch.root, key=reg.other_signer, scope_id=welder)
    tree_b = MerkleTree([leaf, h("b's y")])
    reg.issue(tree_b.root, key=reg.other_signer, scope_id=welder)
    reg.set_status(tree_b.root, leaf, tree_b.proof(leaf), SUSPEND, 7, key=reg.other_signer, agency=b)
    reg.send("addIssuerKey", reg.agency_id, h("key a"), 0, 0, sender=reg.admin)
    reg.send("addIssuerKey", b, h("key b"), t, t + 900, sender=reg.governor)
    reg.send("retireIssuerKey", h("key a"), sender=reg.admin)
    reg.send("reportIssuerKeyCompromised", h("key b"), t + 1, sender=reg.other_admin)
    reg.send("retireScope", welder, sender=reg.governor)
    reg.send("retireSigner", reg.signer.address, sender=reg.governor, at=t + 6)
    reg.send("reportCompromised", reg.spare_signer.address, t + 3, sender=reg.admin, at=t + 7)
    reg.send("transferAgencyAdmin", reg.agency_id, reg.spare.address, sender=reg.admin)
    reg.send("reportCompromised", reg.spare_signer.address, t + 2, sender=reg.spare, at=t + 8)
    node = batch.path(batch.leaves[0])[1]
    reg.governor_status(batch.root, node, batch.proof(batch.leaves[0])[1:], REVOKE, 8)
    reg.governor_status(batch.root, leaf, batch.proof(leaf), REINSTATE, 9)
    reg.send("suspendAgency", b, 3, sender=reg.governor)
    reg.send("reinstateAgency", b, sender=reg.governor)
    reg.send("suspendAgency", b, 5, sender=reg.governor)
    reg.send("revokeAgency", b, t + 4, 6, sender=reg.governor, at=t + 9)
    reg.send("transferOwnership", reg.stranger.address, sender=reg.governor)
    reg.send("acceptOwnership", sender=reg.stranger)
    a = reg.agency_id
    return [(a, batch.root), (a, h("single")), (b, h("b doc")), (b, batch.root), (b, tree_b.root)]


def _decoded_logs(reg: Harness) -> list[tuple[str, dict[str, Any]]]:
    by_topic: dict[bytes, ContractEvent] = {}
    for entry in reg.contract.abi:
        if entry["type"] == "event":
            event = getattr(reg.contract.events, entry["name"])()
            by_topic[bytes.fromhex(event.topic.removeprefix("0x"))] = event
    logs = reg.w3.eth.get_logs({"address": reg.contract.address, "fromBlock": 0, "toBlock": "latest"})
    decoded = []
    for log in logs:
        event = by_topic[bytes(log["topics"][0])]
        decoded.append((event.event_name, dict(event.process_log(log)["args"])))
    return decoded


def _rebuild(logs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    scopes: dict[bytes, list[Any]] = {}
    agencies: dict[int, list[Any]] = {}
    accreditations: dict[tuple[int, bytes], tuple[int, int, int]] = {}
    signers: dict[str, list[int]] = {}
    signer_at: dict[int, str] = {}
    issuer_keys: dict[bytes, list[int]] = {}
    records: dict[tuple[int, bytes], tuple[int, bytes, str, int, int]] = {}
    statuses: dict[tuple[int, bytes], tuple[int, int, int, int, bool]] = {}
    owner = pending = None
    for name, a in logs:
        if name == "ScopeDefined":
            scopes[a["scopeId"]] = [a["occupationCode"], a["level"], a["scopeIndex"], a["title"], 0]
        elif name == "ScopeRetired":
            scopes[a["scopeId"]][4] = a["retiredAt"]
        elif name == "AgencyRegistered":
            agencies[a["agencyId"]] = [
                a["name"],
                a["registrationCode"],
                a["admin"],
                1,
                0,
                0,
                a["documentStore"],
            ]
        elif name == "AgencyAdminTransferred":
            agencies[a["agencyId"]][2] = a["newAdmin"]
        elif name == "AgencySuspended":
            agencies[a["agencyId"]][3:5] = [2, a["reason"]]
        elif name == "AgencyReinstated":
            agencies[a["agencyId"]][3] = 1
        elif name == "AgencyRevoked":
            agencies[a["agencyId"]][3:6] = [3, a["reason"], a["cutoff"]]
        elif name in ("AgencyAccredited", "AccreditationWithdrawn"):
            index = scopes[a["scopeId"]][2]
            accreditations[(a["agencyId"], a["scopeId"])] = (index, a["validFrom"], a["validUntil"])
        elif name == "SignerAdded":
            signers[a["signer"]] = [a["agencyId"], a["signerIndex"], a["validFrom"], a["validUntil"], 0]
            signer_at[a["signerIndex"]] = a["signer"]
        elif name == "SignerRetired":
            signers[a["signer"]][2:4] = [a["validFrom"], a["validUntil"]]
        elif name == "SignerCompromised":
            signers[a["signer"]][4] = a["since"]
        elif name == "IssuerKeyAdded":
            issuer_keys[a["publicKey"]] = [a["agencyId"], a["validFrom"], a["validUntil"], 0]
        elif name == "IssuerKeyRetired":
            issuer_keys[a["publicKey"]][1:3] = [a["validFrom"], a["validUntil"]]
        elif name == "IssuerKeyCompromised":
            issuer_keys[a["publicKey"]][3] = a["since"]
        elif name == "CredentialIssued":
            record = (a["agencyId"], a["scopeId"], a["signer"], a["issuedAt"], a["validUntil"])
            records[(a["agencyId"], a["root"])] = record
        elif name == "CredentialStatusChanged":
            statuses[(a["agencyId"], a["target"])] = (
                ACTION_TO_STATUS[a["action"]],
                a["reason"],
                a["nonce"],
                a["since"],
                a["byGovernor"],
            )
        elif name == "OwnershipTransferStarted":
            pending = a["newOwner"]
        elif name == "OwnershipTransferred":
            owner, pending = a["newOwner"], None
        else:
            raise AssertionError(f"the replay does not know event {name}")
    return {
        "scopes": {k: tuple(v) for k, v in scopes.items()},
        "agencies": {k: tuple(v) for k, v in agencies.items()},
        "accreditations": accreditations,
        "signers": {k: tuple(v) for k, v in signers.items()},
        "signer_at": signer_at,
        "issuer_keys": {k: tuple(v) for k, v in issuer_keys.items()},
        "records": records,
        "statuses": statuses,
        "owner": owner,
        "pending": pending,
    }


def test_state_rebuilt_from_logs_alone_matches_every_view(reg: Harness) -> None:
    roots = _run_scenario(reg)
    state = _rebuild(_decoded_logs(reg))

    assert state["owner"] == reg.call("owner") == reg.stranger.address
    assert state["pending"] is None
    assert len(state["scopes"]) == reg.call("scopeCount") == 2
    for scope_id, scope in state["scopes"].items():
        assert reg.call("scope", scope_id) == scope
        assert reg.call("scopeIdAt", scope[2]) == scope_id
    assert len(state["agencies"]) == reg.call("agencyCount") == 2
    for agency_id, agency in state["agencies"].items():
        assert reg.call("agency", agency_id) == agency
    for (agency_id, scope_id), window in state["accreditations"].items():
        assert reg.call("accreditation", agency_id, scope_id) == window
    assert len(state["signers"]) == reg.call("signerCount") == 3
    for signer, record in state["signers"].items():
        assert reg.call("signerRecord", signer) == record
    for index, signer in state["signer_at"].items():
        assert reg.call("signerAt", index) == signer
    assert len(state["issuer_keys"]) == 2
    for key, issuer_key in state["issuer_keys"].items():
        assert reg.call("issuerKey", key) == issuer_key
    assert sorted(state["records"]) == sorted(roots)
    for (agency_id, root), record in state["records"].items():
        assert reg.record(root, agency=agency_id) == record
    assert len(state["statuses"]) == 3
    for (agency_id, target), status in state["statuses"].items():
        assert reg.status_of(target, agency=agency_id) == status
