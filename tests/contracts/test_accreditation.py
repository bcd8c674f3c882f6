"""Scopes, agencies, signer keys and accreditations: who may change them, and how."""

from __future__ import annotations

import pytest
from registry_harness import SCOPE_CODE, SCOPE_LEVEL, SCOPE_TITLE, TX_GAS, Harness, Reverted, h, scope_id_of
from web3 import Web3

from credreg.chain.artifacts import load_artifact
from credreg.chain.states import Verdict
from credreg.documents.store import document_store_address

ZERO = "0x0000000000000000000000000000000000000000"
ACTIVE, SUSPENDED, REVOKED = 1, 2, 3


# Scopes -------------------------------------------------------------------------------------------------------


def test_define_scope_derives_the_id_from_code_and_level(reg: Harness) -> None:
    receipt = reg.send("defineScope", "4-07-02-03", 2, "Welder, level 2", sender=reg.governor)
    scope_id = scope_id_of("4-07-02-03", 2)
    assert reg.events(receipt, "ScopeDefined") == [
        {
            "scopeId": scope_id,
            "scopeIndex": 2,
            "occupationCode": "4-07-02-03",
            "level": 2,
            "title": "Welder, level 2",
        }
    ]
    assert reg.call("scope", scope_id) == ("4-07-02-03", 2, 2, "Welder, level 2", 0)
    assert reg.call("scopeIdAt", 2) == scope_id
    assert reg.call("scopeCount") == 2
    assert reg.call("scopeIdOf", "4-07-02-03", 2) == scope_id
    assert reg.scope_id == scope_id_of(SCOPE_CODE, SCOPE_LEVEL)


def test_define_scope_distinguishes_levels_of_one_occupation(reg: Harness) -> None:
    reg.send("defineScope", SCOPE_CODE, SCOPE_LEVEL + 1, "Electrician, level 4", sender=reg.governor)
    assert reg.call("scope", scope_id_of(SCOPE_CODE, SCOPE_LEVEL + 1))[2] == 2


def test_define_scope_reverts_when_already_defined(reg: Harness) -> None:
    with pytest.raises(Reverted) as err:
        reg.send("defineScope", SCOPE_CODE, SCOPE_LEVEL, "another title", sender=reg.governor)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryScopeAlreadyDefined", (reg.scope_id,))
    assert reg.call("scope", reg.scope_id)[3] == SCOPE_TITLE


@pytest.mark.parametrize(("code", "title"), [("", "Electrician"), ("6-31-01-01", "")])
def test_define_scope_reverts_for_an_empty_code_or_title(reg: Harness, code: str, title: str) -> None:
    with pytest.raises(Reverted) as err:
        reg.send("defineScope", code, 5, title, sender=reg.governor)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryInvalidScope", (code, 5, title))


def test_scope_views_answer_zero_for_unknown_scopes(reg: Harness) -> None:
    assert reg.call("scope", h("none")) == ("", 0, 0, "", 0)
    assert reg.call("scopeIdAt", 0) == bytes(32)
    assert reg.call("scopeIdAt", 99) == bytes(32)


# Agencies -----------------------------------------------------------------------------------------------------


def test_register_agency_assigns_sequential_ids_and_stores_its_details(reg: Harness) -> None:
    receipt = reg.send("registerAgency", "Agency B", "REG-B", reg.other_admin.address, sender=reg.governor)
    store = document_store_address(reg.address, 2)
    assert reg.events(receipt, "AgencyRegistered") == [
        {
            "agencyId": 2,
            "admin": reg.other_admin.address,
            "name": "Agency B",
            "registrationCode": "REG-B",
            "documentStore": store,
        }
    ]
    assert reg.call("agency", 2) == ("Agency B", "REG-B", reg.other_admin.address, ACTIVE, 0, 0, store)
    assert reg.call("agencyCount") == 2
    assert reg.call("agencyIdByRegistrationCode", "REG-B") == 2
    assert reg.call("agencyIdByRegistrationCode", "REG-Z") == 0


def test_register_agency_reverts_whole_when_the_agency_store_cannot_be_created(reg: Harness) -> None:
    # No agency may exist without its document store. The only way to make the store's CREATE2 fail is to give
    # the transaction too little gas for it (63/64 of what is left goes to the creation, which needs about
    # 9,800 for the clone's code): measure that on a registration that succeeds, then starve it.
    store = document_store_address(reg.address, 2)
    args = ("Agency B", "REG-B", reg.other_admin.address)
    snapshot = reg.rpc("evm_snapshot", [])
    receipt = reg.send("registerAgency", *args, sender=reg.governor)
    trace = reg.rpc(
        "debug_traceTransaction", [receipt["transactionHash"].to_0x_hex(), {"tracer": "callTracer"}]
    )
    assert reg.rpc("evm_revert", [snapshot]) is True
    (creation,) = trace["calls"]
    assert (creation["type"], Web3.to_checksum_address(creation["to"])) == ("CREATE2", store)
    creation_gas = int(creation["gas"], 16)

    starved = TX_GAS - (creation_gas - 8_000) * 64 // 63  # leaves the creation 8,000 gas, the caller ~127
    tx = reg.contract.functions.registerAgency(*args).build_transaction(
        {"from": reg.governor.address, "gas": starved}
    )
    failed = reg.w3.eth.wait_for_transaction_receipt(reg.w3.eth.send_transaction(tx), timeout=30)
    assert failed["status"] == 0
    error = reg.reverted(failed["transactionHash"].to_0x_hex())
    assert (error.name, error.args_) == ("FailedDeployment", ())
    assert reg.call("agencyCount") == 1
    assert reg.call("agencyIdByRegistrationCode", "REG-B") == 0
    assert reg.w3.eth.get_code(store) == b""

    reg.send("registerAgency", *args, sender=reg.governor)
    assert reg.call("agency", 2)[6] == store
    assert len(reg.w3.eth.get_code(store)) > 0


def test_register_agency_reverts_when_registration_code_is_taken(reg: Harness) -> None:
    with pytest.raises(Reverted) as err:
        reg.send("registerAgency", "Agency B", "REG-A", reg.other_admin.address, sender=reg.governor)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryRegistrationCodeTaken", ("REG-A", 1))


@pytest.mark.parametrize(
    ("name", "code", "admin"),
    [("", "REG-B", "other"), ("Agency B", "", "other"), ("Agency B", "REG-B", ZERO)],
)
def test_register_agency_reverts_for_missing_details(reg: Harness, name: str, code: str, admin: str) -> None:
    admin = reg.other_admin.address if admin == "other" else admin
    with pytest.raises(Reverted) as err:
        reg.send("registerAgency", name, code, admin, sender=reg.governor)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryInvalidAgency", (name, code, admin))


def test_suspend_and_reinstate_agency_move_between_active_and_suspended(reg: Harness) -> None:
    receipt = reg.send("suspendAgency", reg.agency_id, 12, sender=reg.governor)
    assert reg.events(receipt, "AgencySuspended") == [{"agencyId": reg.agency_id, "reason": 12}]
    assert reg.call("agency", reg.agency_id)[3:5] == (SUSPENDED, 12)
    assert reg.call("isAccredited", reg.agency_id, reg.scope_id) is False
    receipt = reg.send("reinstateAgency", reg.agency_id, sender=reg.governor)
    assert reg.events(receipt, "AgencyReinstated") == [{"agencyId": reg.agency_id}]
    assert reg.call("agency", reg.agency_id)[3] == ACTIVE
    assert reg.call("isAccredited", reg.agency_id, reg.scope_id) is True


def test_suspend_agency_reverts_unless_active(reg: Harness) -> None:
    reg.send("suspendAgency", reg.agency_id, 1, sender=reg.governor)
    with pytest.raises(Reverted) as err:
        reg.send("suspendAgency", reg.agency_id, 1, sender=reg.governor)
    assert (err.value.name, err.value.args_) == (
        "AccreditationRegistryInvalidAgencyState",
        (reg.agency_id, SUSPENDED),
    )


def test_reinstate_agency_reverts_unless_suspended(reg: Harness) -> None:
    with pytest.raises(Reverted) as err:
        reg.send("reinstateAgency", reg.agency_id, sender=reg.governor)
    assert (err.value.name, err.value.args_) == (
        "AccreditationRegistryInvalidAgencyState",
        (reg.agency_id, ACTIVE),
    )


def test_revoke_agency_is_permanent_and_records_cutoff_and_reason(reg: Harness) -> None:
    t = reg.now() + 10
    receipt = reg.send("revokeAgency", reg.agency_id, t - 5, 44, sender=reg.governor, at=t)
    assert reg.events(receipt, "AgencyRevoked") == [
        {"agencyId": reg.agency_id, "cutoff": t - 5, "reason": 44}
    ]
    assert reg.call("agency", reg.agency_id)[3:6] == (REVOKED, 44, t - 5)
    for function, args in [
        ("reinstateAgency", (reg.agency_id,)),
        ("suspendAgency", (reg.agency_id, 1)),
        ("revokeAgency", (reg.agency_id, t, 1)),
        ("accredit", (reg.agency_id, reg.scope_id, 0, 0)),
    ]:
        with pytest.raises(Reverted) as err:
            reg.send(function, *args, sender=reg.governor)
        assert (err.value.name, err.value.args_) == (
            "AccreditationRegistryInvalidAgencyState",
            (reg.agency_id, REVOKED),
        ), function
    with pytest.raises(Reverted) as err:
        reg.send("addSigner", reg.agency_id, reg.spare_signer.address, 0, 0, sender=reg.admin)
    assert err.value.name == "AccreditationRegistryInvalidAgencyState"


def test_revoke_agency_works_from_suspended(reg: Harness) -> None:
    reg.send("suspendAgency", reg.agency_id, 1, sender=reg.governor)
    reg.send("revokeAgency", reg.agency_id, reg.now(), 2, sender=reg.governor)
    assert reg.call("agency", reg.agency_id)[3] == REVOKED


def test_revoke_agency_accepts_a_cutoff_at_block_time_but_not_after(reg: Harness) -> None:
    t = reg.now() + 10
    with pytest.raises(Reverted) as err:
        reg.send("revokeAgency", reg.agency_id, t + 1, 0, sender=reg.governor, at=t)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryInvalidCutoff", (t + 1, t))
    reg.send("revokeAgency", reg.agency_id, t + 1, 0, sender=reg.governor, at=t + 1)
    assert reg.call("agency", reg.agency_id)[5] == t + 1


@pytest.mark.parametrize(
    ("function", "args"),
    [
        ("suspendAgency", (9, 1)),
        ("reinstateAgency", (9,)),
        ("revokeAgency", (9, 0, 1)),
        ("accredit", (9, None, 0, 0)),
    ],
)
def test_governor_actions_on_an_unknown_agency_revert(reg: Harness, function: str, args: tuple) -> None:
    args = tuple(reg.scope_id if a is None else a for a in args)
    with pytest.raises(Reverted) as err:
        reg.send(function, *args, sender=reg.governor)
    assert err.value.name in ("AccreditationRegistryInvalidAgencyState", "AccreditationRegistryUnknownAgency")
    assert err.value.args_[0] == 9


def test_agency_admin_actions_on_an_unknown_agency_revert(reg: Harness) -> None:
    for function, args in [
        ("addSigner", (9, reg.spare_signer.address, 0, 0)),
        ("transferAgencyAdmin", (9, reg.spare.address)),
    ]:
        with pytest.raises(Reverted) as err:
            reg.send(function, *args, sender=reg.governor)
        assert (err.value.name, err.value.args_) == ("AccreditationRegistryUnknownAgency", (9,)), function


# Accreditation ------------------------------------------------------------------------------------------------


def test_accredit_replaces_the_window_and_reports_it(reg: Harness) -> None:
    t = reg.now()
    receipt = reg.send("accredit", reg.agency_id, reg.scope_id, t + 10, t + 20, sender=reg.governor)
    assert reg.events(receipt, "AgencyAccredited") == [
        {"agencyId": reg.agency_id, "scopeId": reg.scope_id, "validFrom": t + 10, "validUntil": t + 20}
    ]
    assert reg.call("accreditation", reg.agency_id, reg.scope_id) == (1, t + 10, t + 20)


def test_accredit_reverts_for_an_undefined_scope(reg: Harness) -> None:
    with pytest.raises(Reverted) as err:
        reg.send("accredit", reg.agency_id, h("nope"), 0, 0, sender=reg.governor)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryUnknownScope", (h("nope"),))


@pytest.mark.parametrize(("valid_from", "valid_until"), [(100, 100), (100, 99)])
def test_accredit_reverts_for_an_empty_window(reg: Harness, valid_from: int, valid_until: int) -> None:
    with pytest.raises(Reverted) as err:
        reg.send("accredit", reg.agency_id, reg.scope_id, valid_from, valid_until, sender=reg.governor)
    assert (err.value.name, err.value.args_) == (
        "AccreditationRegistryInvalidWindow",
        (valid_from, valid_until),
    )


def test_is_accredited_follows_the_window_exactly_at_its_edges(reg: Harness) -> None:
    t = reg.now() + 100
    reg.send("accredit", reg.agency_id, reg.scope_id, t, t + 10, sender=reg.governor)
    reg.mine_at(t - 1)
    assert reg.call("isAccredited", reg.agency_id, reg.scope_id) is False
    reg.mine_at(t)
    assert reg.call("isAccredited", reg.agency_id, reg.scope_id) is True
    reg.mine_at(t + 9)
    assert reg.call("isAccredited", reg.agency_id, reg.scope_id) is True
    reg.mine_at(t + 10)
    assert reg.call("isAccredited", reg.agency_id, reg.scope_id) is False


def test_withdraw_accreditation_ends_the_window_now(reg: Harness) -> None:
    t = reg.now() + 10
    receipt = reg.send("withdrawAccreditation", reg.agency_id, reg.scope_id, sender=reg.governor, at=t)
    assert reg.events(receipt, "AccreditationWithdrawn") == [
        {"agencyId": reg.agency_id, "scopeId": reg.scope_id, "validFrom": 0, "validUntil": t}
    ]
    assert reg.call("accreditation", reg.agency_id, reg.scope_id) == (1, 0, t)
    with pytest.raises(Reverted) as err:
        reg.send("withdrawAccreditation", reg.agency_id, reg.scope_id, sender=reg.governor, at=t + 1)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryWindowEnded", (t, t + 1))


def test_withdraw_accreditation_empties_a_window_not_yet_started(reg: Harness) -> None:
    t = reg.now() + 10
    reg.send("accredit", reg.agency_id, reg.scope_id, t + 100, 0, sender=reg.governor)
    reg.send("withdrawAccreditation", reg.agency_id, reg.scope_id, sender=reg.governor, at=t)
    assert reg.call("accreditation", reg.agency_id, reg.scope_id) == (1, t, t)
    reg.mine_at(t + 100)
    assert reg.call("isAccredited", reg.agency_id, reg.scope_id) is False


def test_withdraw_accreditation_reverts_when_never_accredited(reg: Harness) -> None:
    receipt = reg.send("defineScope", "4-07-02-03", 2, "Welder", sender=reg.governor)
    other = bytes(reg.events(receipt, "ScopeDefined")[0]["scopeId"])
    with pytest.raises(Reverted) as err:
        reg.send("withdrawAccreditation", reg.agency_id, other, sender=reg.governor)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryNotAccredited", (reg.agency_id, other))


# Signer keys --------------------------------------------------------------------------------------------------


def test_add_signer_records_its_window_agency_and_index(reg: Harness) -> None:
    t = reg.now()
    receipt = reg.send("addSigner", reg.agency_id, reg.spare_signer.address, t, t + 99, sender=reg.admin)
    assert reg.events(receipt, "SignerAdded") == [
        {
            "agencyId": reg.agency_id,
            "signer": reg.spare_signer.address,
            "signerIndex": 2,
            "validFrom": t,
            "validUntil": t + 99,
            "actor": reg.admin.address,
        }
    ]
    assert reg.call("signerRecord", reg.spare_signer.address) == (reg.agency_id, 2, t, t + 99, 0)
    assert reg.call("signerAt", 2) == reg.spare_signer.address
    assert reg.call("signerAt", 3) == ZERO
    assert reg.call("signerCount") == 2


def test_add_signer_reverts_when_the_key_belongs_to_any_agency_already(reg: Harness) -> None:
    reg.add_agency("Agency B", "REG-B", reg.other_admin, None)
    with pytest.raises(Reverted) as err:
        reg.send("addSigner", 2, reg.signer.address, 0, 0, sender=reg.other_admin)
    assert (err.value.name, err.value.args_) == (
        "AccreditationRegistrySignerAlreadyRegistered",
        (reg.signer.address, reg.agency_id),
    )
    reg.send("retireSigner", reg.signer.address, sender=reg.admin)
    with pytest.raises(Reverted):  # even once retired: a key belongs to one agency forever
        reg.send("addSigner", reg.agency_id, reg.signer.address, 0, 0, sender=reg.admin)


def test_add_signer_reverts_for_the_zero_address_and_empty_windows(reg: Harness) -> None:
    with pytest.raises(Reverted) as err:
        reg.send("addSigner", reg.agency_id, ZERO, 0, 0, sender=reg.admin)
    assert err.value.name == "AccreditationRegistryZeroAddress"
    with pytest.raises(Reverted) as err:
        reg.send("addSigner", reg.agency_id, reg.spare_signer.address, 50, 50, sender=reg.admin)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryInvalidWindow", (50, 50))


def test_retire_signer_ends_its_window_now_and_only_once(reg: Harness) -> None:
    t = reg.now() + 10
    receipt = reg.send("retireSigner", reg.signer.address, sender=reg.admin, at=t)
    assert reg.events(receipt, "SignerRetired") == [
        {
            "agencyId": reg.agency_id,
            "signer": reg.signer.address,
            "validFrom": 0,
            "validUntil": t,
            "actor": reg.admin.address,
        }
    ]
    with pytest.raises(Reverted) as err:
        reg.send("retireSigner", reg.signer.address, sender=reg.admin, at=t + 1)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryWindowEnded", (t, t + 1))


def test_retire_and_report_revert_for_an_unknown_signer(reg: Harness) -> None:
    for function, args in [
        ("retireSigner", (reg.stranger.address,)),
        ("reportCompromised", (reg.stranger.address, 1)),
    ]:
        with pytest.raises(Reverted) as err:
            reg.send(function, *args, sender=reg.governor)
        assert (err.value.name, err.value.args_) == (
            "AccreditationRegistryUnknownSigner",
            (reg.stranger.address,),
        )


def test_report_compromised_accepts_block_time_and_then_only_earlier_times(reg: Harness) -> None:
    t = reg.now() + 100
    receipt = reg.send("reportCompromised", reg.signer.address, t, sender=reg.admin, at=t)
    assert reg.events(receipt, "SignerCompromised") == [
        {"agencyId": reg.agency_id, "signer": reg.signer.address, "since": t, "actor": reg.admin.address}
    ]
    with pytest.raises(Reverted) as err:
        reg.send("reportCompromised", reg.signer.address, t, sender=reg.admin, at=t + 1)
    assert (err.value.name, err.value.args_) == (
        "AccreditationRegistryInvalidCompromiseTime",
        (reg.signer.address, t, t, t + 1),
    )
    reg.send("reportCompromised", reg.signer.address, t - 50, sender=reg.governor, at=t + 2)
    assert reg.call("signerRecord", reg.signer.address)[4] == t - 50


@pytest.mark.parametrize("offset", [None, 1])
def test_report_compromised_reverts_for_zero_or_a_future_time(reg: Harness, offset: int | None) -> None:
    t = reg.now() + 10
    since = 0 if offset is None else t + offset
    with pytest.raises(Reverted) as err:
        reg.send("reportCompromised", reg.signer.address, since, sender=reg.admin, at=t)
    assert (err.value.name, err.value.args_) == (
        "AccreditationRegistryInvalidCompromiseTime",
        (reg.signer.address, since, 0, t),
    )


def test_signer_rotation_leaves_issued_credentials_untouched(reg: Harness) -> None:
    reg.issue(h(1))
    reg.send("addSigner", reg.agency_id, reg.spare_signer.address, 0, 0, sender=reg.admin)
    reg.send("retireSigner", reg.signer.address, sender=reg.admin)
    assert reg.verdict(h(1)) == Verdict.VALID
    assert reg.record(h(1))[2] == reg.signer.address
    with pytest.raises(Reverted) as err:
        reg.issue(h(2))
    assert err.value.name == "CredentialRegistrySignerNotValid"
    reg.issue(h(2), key=reg.spare_signer)
    assert reg.record(h(2))[2] == reg.spare_signer.address


# Retiring scopes ---------------------------------------------------------------------------------------------


def test_retire_scope_records_the_time_and_reports_it(reg: Harness) -> None:
    t = reg.now() + 10
    receipt = reg.send("retireScope", reg.scope_id, sender=reg.governor, at=t)
    assert reg.events(receipt, "ScopeRetired") == [{"scopeId": reg.scope_id, "retiredAt": t}]
    assert reg.call("scope", reg.scope_id) == (SCOPE_CODE, SCOPE_LEVEL, 1, SCOPE_TITLE, t)


def test_accredit_reverts_for_a_retired_scope(reg: Harness) -> None:
    t = reg.now() + 10
    reg.send("retireScope", reg.scope_id, sender=reg.governor, at=t)
    receipt = reg.send("registerAgency", "Agency B", "REG-B", reg.other_admin.address, sender=reg.governor)
    b = reg.events(receipt, "AgencyRegistered")[0]["agencyId"]
    for agency_id in (b, reg.agency_id):  # neither a new accreditation nor a new window for an existing one
        with pytest.raises(Reverted) as err:
            reg.send("accredit", agency_id, reg.scope_id, 0, 0, sender=reg.governor)
        assert (err.value.name, err.value.args_) == ("AccreditationRegistryScopeRetired", (reg.scope_id, t))
    assert reg.call("accreditation", b, reg.scope_id) == (0, 0, 0)


def test_retire_scope_reverts_when_already_retired(reg: Harness) -> None:
    t = reg.now() + 10
    reg.send("retireScope", reg.scope_id, sender=reg.governor, at=t)
    with pytest.raises(Reverted) as err:
        reg.send("retireScope", reg.scope_id, sender=reg.governor, at=t + 1)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryScopeRetired", (reg.scope_id, t))
    assert reg.call("scope", reg.scope_id)[4] == t


def test_retire_scope_reverts_for_an_unknown_scope(reg: Harness) -> None:
    with pytest.raises(Reverted) as err:
        reg.send("retireScope", h("no such scope"), sender=reg.governor)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryUnknownScope", (h("no such scope"),))


def test_retiring_a_scope_leaves_existing_accreditations_and_credentials_alone(reg: Harness) -> None:
    # Retirement only stops new accreditations; the governor withdraws existing ones separately.
    reg.issue(h("before"))
    reg.send("retireScope", reg.scope_id, sender=reg.governor)
    assert reg.verdict(h("before")) == Verdict.VALID
    assert reg.call("isAccredited", reg.agency_id, reg.scope_id) is True
    reg.issue(h("after"))
    assert reg.record(h("after"))[1] == reg.scope_id
    reg.send("withdrawAccreditation", reg.agency_id, reg.scope_id, sender=reg.governor)
    assert reg.call("isAccredited", reg.agency_id, reg.scope_id) is False


# Issuer keys (Ed25519 keys for W3C verifiable credentials) ------------------------------------------------------

ISSUER_KEY = h("an agency's ed25519 public key")


@pytest.mark.parametrize("who", ["admin", "governor"])
def test_add_issuer_key_records_its_window_and_reports_it(reg: Harness, who: str) -> None:
    t = reg.now()
    caller = getattr(reg, who)
    receipt = reg.send("addIssuerKey", reg.agency_id, ISSUER_KEY, t, t + 99, sender=caller)
    assert reg.events(receipt, "IssuerKeyAdded") == [
        {
            "agencyId": reg.agency_id,
            "publicKey": ISSUER_KEY,
            "validFrom": t,
            "validUntil": t + 99,
            "actor": caller.address,
        }
    ]
    assert reg.call("issuerKey", ISSUER_KEY) == (reg.agency_id, t, t + 99, 0)


def test_issuer_key_view_answers_zero_for_an_unknown_key(reg: Harness) -> None:
    assert reg.call("issuerKey", ISSUER_KEY) == (0, 0, 0, 0)


@pytest.mark.parametrize("who", ["stranger", "signer", "other_admin"])
def test_add_issuer_key_reverts_for_anyone_but_the_admin_and_the_governor(reg: Harness, who: str) -> None:
    reg.add_agency("Agency B", "REG-B", reg.other_admin, None)
    caller = getattr(reg, who)
    with pytest.raises(Reverted) as err:
        reg.send("addIssuerKey", reg.agency_id, ISSUER_KEY, 0, 0, sender=caller)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryUnauthorized", (caller.address, 1))
    assert reg.call("issuerKey", ISSUER_KEY) == (0, 0, 0, 0)


def test_add_issuer_key_reverts_when_the_key_belongs_to_any_agency_already(reg: Harness) -> None:
    b = reg.add_agency("Agency B", "REG-B", reg.other_admin, None)
    reg.send("addIssuerKey", reg.agency_id, ISSUER_KEY, 0, 0, sender=reg.admin)
    for agency_id, sender in ((reg.agency_id, reg.admin), (b, reg.other_admin)):
        with pytest.raises(Reverted) as err:
            reg.send("addIssuerKey", agency_id, ISSUER_KEY, 0, 0, sender=sender)
        assert (err.value.name, err.value.args_) == (
            "AccreditationRegistryIssuerKeyAlreadyRegistered",
            (ISSUER_KEY, reg.agency_id),
        )
    reg.send("retireIssuerKey", ISSUER_KEY, sender=reg.admin)
    with pytest.raises(Reverted) as err:  # even once retired: a key belongs to one agency forever
        reg.send("addIssuerKey", b, ISSUER_KEY, 0, 0, sender=reg.other_admin)
    assert err.value.name == "AccreditationRegistryIssuerKeyAlreadyRegistered"
    assert reg.call("issuerKey", ISSUER_KEY)[0] == reg.agency_id


def test_add_issuer_key_reverts_for_the_zero_key_and_empty_windows(reg: Harness) -> None:
    with pytest.raises(Reverted) as err:
        reg.send("addIssuerKey", reg.agency_id, bytes(32), 0, 0, sender=reg.admin)
    assert (err.value.name, err.value.args_) == (
        "AccreditationRegistryIssuerKeyAlreadyRegistered",
        (bytes(32), 0),
    )
    with pytest.raises(Reverted) as err:
        reg.send("addIssuerKey", reg.agency_id, ISSUER_KEY, 50, 50, sender=reg.admin)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryInvalidWindow", (50, 50))


def test_add_issuer_key_reverts_for_a_revoked_or_unknown_agency(reg: Harness) -> None:
    reg.send("revokeAgency", reg.agency_id, reg.now(), 1, sender=reg.governor)
    with pytest.raises(Reverted) as err:
        reg.send("addIssuerKey", reg.agency_id, ISSUER_KEY, 0, 0, sender=reg.admin)
    assert (err.value.name, err.value.args_) == (
        "AccreditationRegistryInvalidAgencyState",
        (reg.agency_id, REVOKED),
    )
    with pytest.raises(Reverted) as err:
        reg.send("addIssuerKey", 9, ISSUER_KEY, 0, 0, sender=reg.governor)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryUnknownAgency", (9,))


def test_add_issuer_key_works_while_the_agency_is_suspended(reg: Harness) -> None:
    reg.send("suspendAgency", reg.agency_id, 1, sender=reg.governor)
    reg.send("addIssuerKey", reg.agency_id, ISSUER_KEY, 0, 0, sender=reg.admin)
    assert reg.call("issuerKey", ISSUER_KEY)[0] == reg.agency_id


@pytest.mark.parametrize("who", ["admin", "governor"])
def test_retire_issuer_key_ends_its_window_now_and_only_once(reg: Harness, who: str) -> None:
    t = reg.now() + 10
    reg.send("addIssuerKey", reg.agency_id, ISSUER_KEY, 0, 0, sender=reg.admin)
    caller = getattr(reg, who)
    receipt = reg.send("retireIssuerKey", ISSUER_KEY, sender=caller, at=t)
    assert reg.events(receipt, "IssuerKeyRetired") == [
        {
            "agencyId": reg.agency_id,
            "publicKey": ISSUER_KEY,
            "validFrom": 0,
            "validUntil": t,
            "actor": caller.address,
        }
    ]
    assert reg.call("issuerKey", ISSUER_KEY) == (reg.agency_id, 0, t, 0)
    with pytest.raises(Reverted) as err:
        reg.send("retireIssuerKey", ISSUER_KEY, sender=caller, at=t + 1)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryWindowEnded", (t, t + 1))


def test_retire_issuer_key_empties_a_window_not_yet_started(reg: Harness) -> None:
    t = reg.now() + 10
    reg.send("addIssuerKey", reg.agency_id, ISSUER_KEY, t + 100, 0, sender=reg.admin)
    reg.send("retireIssuerKey", ISSUER_KEY, sender=reg.admin, at=t)
    assert reg.call("issuerKey", ISSUER_KEY) == (reg.agency_id, t, t, 0)


def test_retire_and_report_revert_for_an_unknown_issuer_key(reg: Harness) -> None:
    for function, args in [
        ("retireIssuerKey", (ISSUER_KEY,)),
        ("reportIssuerKeyCompromised", (ISSUER_KEY, 1)),
    ]:
        with pytest.raises(Reverted) as err:
            reg.send(function, *args, sender=reg.governor)
        assert (err.value.name, err.value.args_) == ("AccreditationRegistryUnknownIssuerKey", (ISSUER_KEY,))


@pytest.mark.parametrize("function", ["retireIssuerKey", "reportIssuerKeyCompromised"])
@pytest.mark.parametrize("who", ["stranger", "signer", "other_admin"])
def test_retire_and_report_issuer_key_revert_for_anyone_but_the_admin_and_the_governor(
    reg: Harness, function: str, who: str
) -> None:
    reg.add_agency("Agency B", "REG-B", reg.other_admin, None)
    reg.send("addIssuerKey", reg.agency_id, ISSUER_KEY, 0, 0, sender=reg.admin)
    args = (ISSUER_KEY,) if function == "retireIssuerKey" else (ISSUER_KEY, 1)
    caller = getattr(reg, who)
    with pytest.raises(Reverted) as err:
        reg.send(function, *args, sender=caller)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryUnauthorized", (caller.address, 1))
    assert reg.call("issuerKey", ISSUER_KEY) == (reg.agency_id, 0, 0, 0)


def test_report_issuer_key_compromised_accepts_block_time_and_then_only_earlier_times(reg: Harness) -> None:
    t = reg.now() + 100
    reg.send("addIssuerKey", reg.agency_id, ISSUER_KEY, 0, 0, sender=reg.admin)
    receipt = reg.send("reportIssuerKeyCompromised", ISSUER_KEY, t, sender=reg.admin, at=t)
    assert reg.events(receipt, "IssuerKeyCompromised") == [
        {"agencyId": reg.agency_id, "publicKey": ISSUER_KEY, "since": t, "actor": reg.admin.address}
    ]
    assert reg.call("issuerKey", ISSUER_KEY) == (reg.agency_id, 0, 0, t)
    with pytest.raises(Reverted) as err:
        reg.send("reportIssuerKeyCompromised", ISSUER_KEY, t, sender=reg.admin, at=t + 1)
    assert (err.value.name, err.value.args_) == (
        "AccreditationRegistryInvalidIssuerKeyCompromiseTime",
        (ISSUER_KEY, t, t, t + 1),
    )
    receipt = reg.send("reportIssuerKeyCompromised", ISSUER_KEY, t - 50, sender=reg.governor, at=t + 2)
    assert reg.events(receipt, "IssuerKeyCompromised")[0]["actor"] == reg.governor.address
    assert reg.call("issuerKey", ISSUER_KEY)[3] == t - 50


@pytest.mark.parametrize("offset", [None, 1])
def test_report_issuer_key_compromised_reverts_for_zero_or_a_future_time(
    reg: Harness, offset: int | None
) -> None:
    t = reg.now() + 10
    reg.send("addIssuerKey", reg.agency_id, ISSUER_KEY, 0, 0, sender=reg.admin)
    since = 0 if offset is None else t + offset
    with pytest.raises(Reverted) as err:
        reg.send("reportIssuerKeyCompromised", ISSUER_KEY, since, sender=reg.admin, at=t)
    assert (err.value.name, err.value.args_) == (
        "AccreditationRegistryInvalidIssuerKeyCompromiseTime",
        (ISSUER_KEY, since, 0, t),
    )
    assert reg.call("issuerKey", ISSUER_KEY)[3] == 0


# Roles --------------------------------------------------------------------------------------------------------


GOVERNOR_ONLY = [
    ("defineScope", ("1-01-01-01", 1, "Title")),
    ("registerAgency", ("Agency X", "REG-X", "admin")),
    ("accredit", (1, "scope", 0, 0)),
    ("withdrawAccreditation", (1, "scope")),
    ("suspendAgency", (1, 1)),
    ("reinstateAgency", (1,)),
    ("revokeAgency", (1, 0, 1)),
    ("governorSetStatus", (1, "root", "root", [], 1, 1)),
    ("retireScope", ("scope",)),
    ("transferOwnership", ("admin",)),
    ("renounceOwnership", ()),
]


@pytest.mark.parametrize(("function", "args"), GOVERNOR_ONLY, ids=[f for f, _ in GOVERNOR_ONLY])
@pytest.mark.parametrize("who", ["stranger", "admin", "signer"])
def test_governor_functions_revert_for_everyone_else(
    reg: Harness, function: str, args: tuple, who: str
) -> None:
    reg.issue(h("root"))
    values = {"admin": reg.admin.address, "scope": reg.scope_id, "root": h("root")}
    args = tuple(values.get(a, a) if isinstance(a, str) else a for a in args)
    caller = getattr(reg, who)
    with pytest.raises(Reverted) as err:
        reg.send(function, *args, sender=caller)
    assert (err.value.name, err.value.args_) == ("OwnableUnauthorizedAccount", (caller.address,))


AGENCY_ADMIN = [
    ("addSigner", (1, "spare_signer", 0, 0)),
    ("retireSigner", ("signer",)),
    ("reportCompromised", ("signer", 1)),
    ("transferAgencyAdmin", (1, "spare")),
]


@pytest.mark.parametrize(("function", "args"), AGENCY_ADMIN, ids=[f for f, _ in AGENCY_ADMIN])
@pytest.mark.parametrize("who", ["stranger", "signer", "other_admin"])
def test_agency_admin_functions_revert_for_strangers_signers_and_other_admins(
    reg: Harness, function: str, args: tuple, who: str
) -> None:
    reg.add_agency("Agency B", "REG-B", reg.other_admin, None)
    args = tuple(getattr(reg, a).address if isinstance(a, str) else a for a in args)
    caller = getattr(reg, who)
    with pytest.raises(Reverted) as err:
        reg.send(function, *args, sender=caller)
    assert (err.value.name, err.value.args_) == ("AccreditationRegistryUnauthorized", (caller.address, 1))


@pytest.mark.parametrize(("function", "args"), AGENCY_ADMIN, ids=[f for f, _ in AGENCY_ADMIN])
@pytest.mark.parametrize("who", ["admin", "governor"])
def test_agency_admin_functions_work_for_the_admin_and_the_governor(
    reg: Harness, function: str, args: tuple, who: str
) -> None:
    args = tuple(getattr(reg, a).address if isinstance(a, str) else a for a in args)
    caller = getattr(reg, who)
    receipt = reg.send(function, *args, sender=caller)
    now = reg.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    event_name, view, expected = {
        "addSigner": ("SignerAdded", ("signerRecord", reg.spare_signer.address), (1, 2, 0, 0, 0)),
        "retireSigner": ("SignerRetired", ("signerRecord", reg.signer.address), (1, 1, 0, now, 0)),
        "reportCompromised": ("SignerCompromised", ("signerRecord", reg.signer.address), (1, 1, 0, 0, 1)),
        "transferAgencyAdmin": ("AgencyAdminTransferred", ("agency", 1), reg.spare.address),
    }[function]
    (event,) = reg.events(receipt, event_name)
    assert (event["agencyId"], event["actor"]) == (1, caller.address)
    answer = reg.call(*view)
    assert (answer[2] if function == "transferAgencyAdmin" else answer) == expected


def test_transfer_agency_admin_hands_over_signer_management(reg: Harness) -> None:
    receipt = reg.send("transferAgencyAdmin", reg.agency_id, reg.spare.address, sender=reg.admin)
    assert reg.events(receipt, "AgencyAdminTransferred") == [
        {
            "agencyId": reg.agency_id,
            "previousAdmin": reg.admin.address,
            "newAdmin": reg.spare.address,
            "actor": reg.admin.address,
        }
    ]
    assert reg.call("agency", reg.agency_id)[2] == reg.spare.address
    with pytest.raises(Reverted) as err:
        reg.send("addSigner", reg.agency_id, reg.spare_signer.address, 0, 0, sender=reg.admin)
    assert err.value.name == "AccreditationRegistryUnauthorized"
    reg.send("addSigner", reg.agency_id, reg.spare_signer.address, 0, 0, sender=reg.spare)
    with pytest.raises(Reverted) as err:
        reg.send("transferAgencyAdmin", reg.agency_id, ZERO, sender=reg.spare)
    assert err.value.name == "AccreditationRegistryZeroAddress"


def test_governor_role_moves_only_when_the_new_governor_accepts(reg: Harness) -> None:
    receipt = reg.send("transferOwnership", reg.spare.address, sender=reg.governor)
    assert reg.events(receipt, "OwnershipTransferStarted") == [
        {"previousOwner": reg.governor.address, "newOwner": reg.spare.address}
    ]
    assert reg.call("owner") == reg.governor.address
    assert reg.call("pendingOwner") == reg.spare.address
    with pytest.raises(Reverted) as err:
        reg.send("suspendAgency", reg.agency_id, 1, sender=reg.spare)
    assert err.value.name == "OwnableUnauthorizedAccount"
    with pytest.raises(Reverted) as err:
        reg.send("acceptOwnership", sender=reg.stranger)
    assert (err.value.name, err.value.args_) == ("OwnableUnauthorizedAccount", (reg.stranger.address,))
    reg.send("acceptOwnership", sender=reg.spare)
    assert reg.call("owner") == reg.spare.address
    assert reg.call("pendingOwner") == ZERO
    reg.send("suspendAgency", reg.agency_id, 1, sender=reg.spare)
    with pytest.raises(Reverted) as err:
        reg.send("reinstateAgency", reg.agency_id, sender=reg.governor)
    assert (err.value.name, err.value.args_) == ("OwnableUnauthorizedAccount", (reg.governor.address,))
    assert reg.governor.address != reg.spare.address


def test_governor_cannot_renounce(reg: Harness) -> None:
    with pytest.raises(Reverted) as err:
        reg.send("renounceOwnership", sender=reg.governor)
    assert err.value.name == "AccreditationRegistryRenounceDisabled"
    assert reg.call("owner") == reg.governor.address


def test_deployment_reverts_for_a_zero_governor(reg: Harness) -> None:
    artifact = load_artifact("CredentialRegistry")
    factory = reg.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(ZERO).build_transaction({"from": reg.governor.address, "gas": 6_000_000})
    receipt = reg.w3.eth.wait_for_transaction_receipt(reg.w3.eth.send_transaction(tx))
    assert receipt["status"] == 0
    error = reg.reverted(receipt["transactionHash"].to_0x_hex())
    assert (error.name, error.args_) == ("OwnableInvalidOwner", (ZERO,))


def test_version_is_semantic(reg: Harness) -> None:
    major, minor, patch = reg.call("VERSION").split(".")
    assert all(part.isdigit() for part in (major, minor, patch))
