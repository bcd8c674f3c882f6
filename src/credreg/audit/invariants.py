"""The registry's rules, checked on every event against the state just before it.

The contract enforces these when it runs; checking them again from the events alone is what lets an
auditor trust nothing: a node serving a doctored history, a contract deployed from other source, or a rule
the contract failed to enforce all show up here, each finding naming the rule (`findings.RULES`) and the
event that broke it.

Not checkable from events: who sent a governor-only transaction (the governance events carry no sender;
the contract's `onlyOwner` is what enforces it, and provenance checks that contract), and whether a status
target really lies under its root (the proof is calldata, not part of the event).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from credreg.audit.findings import Finding
from credreg.audit.source import time_of
from credreg.audit.state import (
    ZERO_ADDRESS,
    ZERO_HASH,
    KeyEntry,
    LedgerState,
    in_window,
    key_kind,
)
from credreg.chain.codec import LedgerEvent
from credreg.chain.states import AgencyState, Status
from credreg.documents.model import scope_id as scope_id_of

Problem = tuple[str, str]  # (rule code, what happened)
# (from, until, scope id, signer key): see `_issuing_window`.
IssuingWindow = tuple[int, int, str, str]


def iso(moment: int) -> str:
    if moment == 0:
        return "never"
    try:
        return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        return f"{moment} (Unix seconds)"  # a uint40 reaches past the calendar Python knows


def window(valid_from: int, valid_until: int) -> str:
    return f"[{iso(valid_from)}, {'open' if valid_until == 0 else iso(valid_until)})"


def check(state: LedgerState, event: LedgerEvent) -> list[Finding]:
    """The rules `event` breaks, given the state before it."""
    name = event.name
    # Issuances and status changes are nearly every event of a large ledger: a plain test that every rule
    # holds comes first, and the rules are walked one by one (to say which broke) only when it fails.
    if name == "CredentialIssued" and _issuance_holds(state, event):
        return []
    if name == "CredentialStatusChanged" and _status_change_holds(state, event):
        return []
    rule = _RULES.get(name)
    if rule is None:
        return []
    return [Finding.make("invariant", code, message, event) for code, message in rule(state, event)]


def _ownership_transfer_started(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    if ev.args["previousOwner"] != state.governor:
        yield (
            "governor-mismatch",
            f"a governor transfer was proposed by {ev.args['previousOwner']}, but the governor is {state.governor}",
        )


def _ownership_transferred(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    previous, new = ev.args["previousOwner"], ev.args["newOwner"]
    if state.governor == ZERO_ADDRESS:
        if previous != ZERO_ADDRESS:
            yield ("governor-mismatch", f"the first governor event names {previous} as the previous governor")
        return
    if previous != state.governor:
        yield (
            "governor-mismatch",
            f"governance passed from {previous}, but the governor was {state.governor}",
        )
    if new != state.pending_governor:
        yield (
            "governor-mismatch",
            f"governance passed to {new}, who was not the proposed governor ({state.pending_governor})",
        )


def _scope_defined(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    a = ev.args
    expected = scope_id_of(a["occupationCode"], a["level"])
    if a["scopeId"] != expected:
        yield (
            "scope-id-mismatch",
            f"scope {a['scopeId']} was defined for {a['occupationCode']!r} level {a['level']}, whose id is {expected}",
        )
    if a["scopeId"] in state.scopes:
        yield ("scope-redefined", f"scope {a['scopeId']} was defined again")
    if a["scopeIndex"] != len(state.scope_by_index) + 1:
        yield (
            "scope-index-out-of-order",
            f"scope {a['scopeId']} got index {a['scopeIndex']}, expected {len(state.scope_by_index) + 1}",
        )


def _agency_registered(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    a = ev.args
    if a["agencyId"] != state.agency_count + 1:
        yield ("agency-id-out-of-order", f"agency got id {a['agencyId']}, expected {state.agency_count + 1}")
    if not a["name"] or not a["registrationCode"] or a["admin"] == ZERO_ADDRESS:
        yield ("agency-invalid", f"agency {a['agencyId']} was registered without a name, code or admin")
    holder = state.agency_by_code.get(a["registrationCode"])
    if holder is not None:
        yield (
            "agency-invalid",
            f"agency {a['agencyId']} was registered with code {a['registrationCode']!r}, held by agency {holder}",
        )


def _known_agency(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    if (
        ev.args["agencyId"] not in state.agencies
        or state.agencies[ev.args["agencyId"]].state is AgencyState.NONE
    ):
        yield ("agency-unknown", f"{ev.name} names agency {ev.args['agencyId']}, which was never registered")


def _authorised(state: LedgerState, ev: LedgerEvent, agency_id: int) -> Iterator[Problem]:
    actor = ev.args["actor"]
    agency = state.agencies.get(agency_id)
    if actor != state.governor and (agency is None or actor != agency.admin):
        admin = agency.admin if agency else "none"
        yield (
            "actor-not-authorised",
            f"{ev.name} for agency {agency_id} was made by {actor}, neither its admin ({admin}) nor the governor",
        )


def _agency_admin_transferred(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    yield from _known_agency(state, ev)
    agency = state.agencies.get(ev.args["agencyId"])
    if agency is None:
        return
    if ev.args["previousAdmin"] != agency.admin or ev.args["newAdmin"] == ZERO_ADDRESS:
        yield (
            "admin-mismatch",
            f"agency {agency.agency_id}'s admin passed from {ev.args['previousAdmin']} to {ev.args['newAdmin']}, "
            f"but its admin was {agency.admin}",
        )
    yield from _authorised(state, ev, agency.agency_id)


def _agency_suspended(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    yield from _known_agency(state, ev)
    agency = state.agencies.get(ev.args["agencyId"])
    if agency is not None and agency.state is not AgencyState.ACTIVE:
        yield (
            "agency-transition",
            f"agency {agency.agency_id} was suspended while {agency.state.name.lower()}",
        )


def _agency_reinstated(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    yield from _known_agency(state, ev)
    agency = state.agencies.get(ev.args["agencyId"])
    if agency is not None and agency.state is not AgencyState.SUSPENDED:
        yield (
            "agency-transition",
            f"agency {agency.agency_id} was reinstated while {agency.state.name.lower()}",
        )


def _agency_revoked(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    yield from _known_agency(state, ev)
    agency = state.agencies.get(ev.args["agencyId"])
    if agency is not None and agency.state not in (AgencyState.ACTIVE, AgencyState.SUSPENDED):
        yield (
            "agency-transition",
            f"agency {agency.agency_id} was revoked while {agency.state.name.lower()}",
        )
    if ev.args["cutoff"] > time_of(ev):
        yield (
            "cutoff-in-future",
            f"agency {ev.args['agencyId']} was revoked at {iso(time_of(ev))} with a later cut-off "
            f"{iso(ev.args['cutoff'])}",
        )


def _not_revoked(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    agency = state.agencies.get(ev.args["agencyId"])
    if agency is not None and agency.state is AgencyState.REVOKED:
        yield ("agency-revoked-acts", f"{ev.name} for agency {agency.agency_id} after its revocation")


def _window_valid(ev: LedgerEvent) -> Iterator[Problem]:
    valid_from, valid_until = ev.args["validFrom"], ev.args["validUntil"]
    if valid_until != 0 and valid_until <= valid_from:
        yield ("window-invalid", f"{ev.name} set the empty window {window(valid_from, valid_until)}")


def _agency_accredited(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    yield from _known_agency(state, ev)
    yield from _not_revoked(state, ev)
    scope = state.scopes.get(ev.args["scopeId"])
    if scope is None:
        yield (
            "scope-unknown",
            f"agency {ev.args['agencyId']} was accredited for undefined scope {ev.args['scopeId']}",
        )
    elif scope.retired_at != 0 and ev.name == "AgencyAccredited":
        yield (
            "scope-retired",
            f"agency {ev.args['agencyId']} was accredited for scope {scope.scope_id}, retired at "
            f"{iso(scope.retired_at)}",
        )
    yield from _window_valid(ev)


def _ended_now(ev: LedgerEvent, old_from: int, old_until: int, what: str) -> Iterator[Problem]:
    t = time_of(ev)
    if old_until != 0 and old_until <= t:
        yield (
            "withdrawal-invalid",
            f"{what} was ended at {iso(t)} but its window had ended at {iso(old_until)}",
        )
        return
    expected_from = min(old_from, t)
    if ev.args["validUntil"] != t or ev.args["validFrom"] != expected_from:
        yield (
            "withdrawal-invalid",
            f"{what} was ended at {iso(t)} with window {window(ev.args['validFrom'], ev.args['validUntil'])}, "
            f"expected {window(expected_from, t)}",
        )


def _accreditation_withdrawn(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    key = (ev.args["agencyId"], ev.args["scopeId"])
    entry = state.accreditations.get(key)
    what = f"the accreditation of agency {key[0]} for scope {key[1]}"
    if entry is None or entry.scope_index == 0:
        yield ("withdrawal-invalid", f"{what} was withdrawn but never granted")
        return
    yield from _ended_now(ev, entry.valid_from, entry.valid_until, what)


def _key_added(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    a = ev.args
    kind = key_kind(ev.name)
    key = a[kind.arg]
    yield from _known_agency(state, ev)
    yield from _not_revoked(state, ev)
    existing = state.keys_of(kind).get(key)
    if kind.arg == "signer":
        if existing is not None:
            yield (
                "signer-reused",
                f"signer {key} of agency {existing.agency_id} was added to agency {a['agencyId']}",
            )
        if key == ZERO_ADDRESS:
            yield ("signer-unknown", "the zero address was added as a signer")
        if a["signerIndex"] != len(state.signer_by_index) + 1:
            yield (
                "signer-index-out-of-order",
                f"signer {key} got index {a['signerIndex']}, expected {len(state.signer_by_index) + 1}",
            )
    elif existing is not None or key == ZERO_HASH:
        owner = f"agency {existing.agency_id}" if existing else "nobody (the zero key)"
        yield ("issuer-key-reused", f"issuer key {key} of {owner} was added to agency {a['agencyId']}")
    yield from _window_valid(ev)
    yield from _authorised(state, ev, a["agencyId"])


def _agency_key(state: LedgerState, ev: LedgerEvent) -> tuple[Problem | None, KeyEntry | None]:
    """The key a retirement or compromise names, if it is a key of the agency the event says."""
    kind = key_kind(ev.name)
    key, agency_id = ev.args[kind.arg], ev.args["agencyId"]
    entry = state.keys_of(kind).get(key)
    if entry is None or entry.agency_id != agency_id:
        owner = f"agency {entry.agency_id}" if entry else "no agency"
        problem = (
            kind.unknown,
            f"{ev.name} names {kind.noun} {key} of agency {agency_id}, but it belongs to {owner}",
        )
        return problem, None
    return None, entry


def _key_retired(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    problem, entry = _agency_key(state, ev)
    if problem is not None:
        yield problem
    if entry is not None:
        noun = key_kind(ev.name).noun
        yield from _ended_now(ev, entry.valid_from, entry.valid_until, f"{noun} {entry.key}")
    yield from _authorised(state, ev, ev.args["agencyId"])


def _key_compromised(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    problem, entry = _agency_key(state, ev)
    if problem is not None:
        yield problem
    if entry is not None:
        since, current, t = ev.args["since"], entry.compromised_since, time_of(ev)
        if since == 0 or since > t or (current != 0 and since >= current):
            yield (
                "compromise-time-invalid",
                f"{key_kind(ev.name).noun} {entry.key} was reported compromised since {iso(since)} at {iso(t)}"
                + (f", after an earlier report of {iso(current)}" if current else ""),
            )
    yield from _authorised(state, ev, ev.args["agencyId"])


def _scope_retired(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    scope = state.scopes.get(ev.args["scopeId"])
    if scope is None:
        yield ("scope-unknown", f"undefined scope {ev.args['scopeId']} was retired")
    elif scope.retired_at != 0:
        yield (
            "scope-retired",
            f"scope {scope.scope_id} was retired again (first at {iso(scope.retired_at)})",
        )
    if ev.args["retiredAt"] != time_of(ev):
        yield (
            "scope-retired",
            f"a scope retirement at {iso(time_of(ev))} says {iso(ev.args['retiredAt'])}",
        )


def _signer_problem(signer: KeyEntry | None, address: str, agency_id: int, moment: int) -> str | None:
    if signer is None or signer.agency_id != agency_id:
        owner = f"agency {signer.agency_id}" if signer else "no agency"
        return f"signer {address} is not a key of agency {agency_id} (it belongs to {owner})"
    if signer.compromised_since != 0:
        return f"signer {address} was reported compromised since {iso(signer.compromised_since)}"
    if not signer.valid_at(moment):
        return f"signer {address} was outside its window {window(signer.valid_from, signer.valid_until)}"
    return None


def _issuance_holds(state: LedgerState, ev: LedgerEvent) -> bool:
    """Whether `_credential_issued` would find nothing (a shortcut for the common case; same rules)."""
    a = ev.args
    agency_id, scope_id, t = a["agencyId"], a["scopeId"], time_of(ev)
    agency = state.agencies.get(agency_id)
    accreditation = state.accreditations.get((agency_id, scope_id))
    signer = state.signers.get(a["signer"])
    valid_until = a["validUntil"]
    return (
        a["issuedAt"] == t
        and (valid_until == 0 or valid_until > t)
        and agency is not None
        and agency.state is AgencyState.ACTIVE
        and accreditation is not None
        and accreditation.scope_index != 0
        and in_window(accreditation.valid_from, accreditation.valid_until, t)
        and signer is not None
        and signer.agency_id == agency_id
        and signer.compromised_since == 0
        and in_window(signer.valid_from, signer.valid_until, t)
        and scope_id in state.scopes
        and a["root"] != ZERO_HASH
        and (agency_id, a["root"]) not in state.roots
    )


def _credential_issued(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    # The common case (every rule holds) must stay cheap: messages are built only for a broken rule.
    a = ev.args
    root, agency_id, scope_id, t = a["root"], a["agencyId"], a["scopeId"], time_of(ev)

    def what() -> str:
        return f"root {root} issued by agency {agency_id} at {iso(t)}"

    if (agency_id, root) in state.roots or root == ZERO_HASH:
        first = state.roots.get((agency_id, root))
        yield ("root-reissued", f"{what()} was already issued at block {first.block if first else 0}")
    if a["issuedAt"] != t:
        yield ("issued-at-mismatch", f"{what()} says issuedAt {iso(a['issuedAt'])}")
    if a["validUntil"] != 0 and a["validUntil"] <= a["issuedAt"]:
        yield ("expiry-invalid", f"{what()} expires at {iso(a['validUntil'])}, not after its issuance")
    agency = state.agencies.get(agency_id)
    if agency is None or agency.state is not AgencyState.ACTIVE:
        never = agency is None or agency.state is AgencyState.NONE
        detail = "never registered" if never or agency is None else agency.state.name.lower()
        if agency is not None and agency.state is AgencyState.REVOKED:
            detail += f" (cut-off {iso(agency.cutoff)})"
        yield ("issuance-agency-not-active", f"{what()}: the agency was {detail}")
    if scope_id not in state.scopes:
        yield ("scope-unknown", f"{what()} names undefined scope {scope_id}")
    accreditation = state.accreditations.get((agency_id, scope_id))
    if accreditation is None or accreditation.scope_index == 0:
        yield ("issuance-not-accredited", f"{what()}: the agency was never accredited for scope {scope_id}")
    elif not in_window(accreditation.valid_from, accreditation.valid_until, t):
        yield (
            "issuance-not-accredited",
            f"{what()}: its accreditation for scope {scope_id} was "
            f"{window(accreditation.valid_from, accreditation.valid_until)}",
        )
    problem = _signer_problem(state.signers.get(a["signer"]), a["signer"], agency_id, t)
    if problem is not None:
        yield ("issuance-signer-invalid", f"{what()}: {problem}")


_ACTION_WORDS = {1: "revoked", 2: "suspended", 3: "reinstated"}


def _status_change_holds(state: LedgerState, ev: LedgerEvent) -> bool:
    """Whether `_credential_status_changed` would find nothing (the common case's shortcut; same rules)."""
    a = ev.args
    action, agency_id, t = a["action"], a["agencyId"], time_of(ev)
    if action not in _ACTION_WORDS or ("since" in a and a["since"] != t):
        return False
    current = state.targets.get((agency_id, a["target"]))
    status = current.status if current is not None else Status.NONE
    if a["nonce"] != (current.nonce if current is not None else 0) + 1 or status is Status.REVOKED:
        return False
    if (action == 2 and status is not Status.NONE) or (action == 3 and status is not Status.SUSPENDED):
        return False
    if (agency_id, a["root"]) not in state.roots:
        return False
    if a["byGovernor"]:
        return bool(a["actor"] == state.governor)
    actor = state.signers.get(a["actor"])
    agency = state.agencies.get(agency_id)
    return (
        actor is not None
        and actor.agency_id == agency_id
        and actor.compromised_since == 0
        and in_window(actor.valid_from, actor.valid_until, t)
        and (agency is None or agency.state is not AgencyState.REVOKED)
        and not (agency is not None and agency.state is AgencyState.SUSPENDED and action == 3)
        and not (current is not None and action == 3 and current.by_governor)
    )


def _issuing_window(
    state: LedgerState, agency_id: int, scope_id: str, signer_key: str
) -> IssuingWindow | None:
    """When `signer_key` may issue roots of `scope_id` for `agency_id` as governance stands (the conditions of
    `_issuance_holds` that depend on governance alone): None if never."""
    agency = state.agencies.get(agency_id)
    accreditation = state.accreditations.get((agency_id, scope_id))
    signer = state.signers.get(signer_key)
    if (
        agency is None
        or agency.state is not AgencyState.ACTIVE
        or accreditation is None
        or accreditation.scope_index == 0
        or signer is None
        or signer.agency_id != agency_id
        or signer.compromised_since != 0
        or scope_id not in state.scopes
    ):
        return None
    ends = [end for end in (accreditation.valid_until, signer.valid_until) if end != 0]
    start = max(accreditation.valid_from, signer.valid_from)
    # The scope id and signer strings the state holds, shared by every root (as `sys.intern` would).
    return (start, min(ends) if ends else _OPEN, accreditation.scope_id, signer.key)


_OPEN = 1 << 64  # past any uint40 time: a window without an end
_UNKNOWN = (0, 0, "", "")


def _apply_clean_issuance(state: LedgerState, ev: LedgerEvent) -> bool:
    """Apply an issuance at once if every rule holds for it (`_issuance_holds`, the same checks in the same
    terms) and its root is new; else change nothing and answer False, for `check` and `LedgerState.apply`."""
    a = ev.args
    t = ev.block_time
    valid_until = a["validUntil"]
    if t is None or a["issuedAt"] != t or not (valid_until == 0 or valid_until > t) or a["root"] == ZERO_HASH:
        return False
    agency_id, scope_id = a["agencyId"], a["scopeId"]
    # Governance changes seldom: whether an agency's signer may issue a scope is worked out once, until the
    # next governance event (`LedgerState.issuing`).
    wanted = (agency_id, scope_id, a["signer"])
    window = state.issuing.get(wanted, _UNKNOWN)
    if window is _UNKNOWN:
        window = state.issuing[wanted] = _issuing_window(state, agency_id, scope_id, a["signer"])
    if window is None or not window[0] <= t < window[1]:
        return False
    if not state.roots.add_root(
        (agency_id, a["root"]), window[2], window[3], t, valid_until, ev.block_number
    ):
        return False  # a root issued again: the rules name it
    state.events_by_name["CredentialIssued"] += 1
    state.count_issuance(agency_id, scope_id, t)
    return True


def _apply_clean_status_change(state: LedgerState, ev: LedgerEvent) -> bool:
    """Apply a status change at once if every rule holds for it (`_status_change_holds`, the same checks in
    the same terms), reading its target and root once; else change nothing and answer False."""
    a = ev.args
    t = ev.block_time
    action = a["action"]
    if t is None or action not in _ACTION_WORDS or ("since" in a and a["since"] != t):
        return False
    agency_id = a["agencyId"]
    key = (agency_id, a["target"])
    current = state.targets.get(key)
    if current is None:
        if a["nonce"] != 1 or action == 3:  # status none: only a revocation or a suspension
            return False
    else:
        status = current.status
        if a["nonce"] != current.nonce + 1 or status is Status.REVOKED:
            return False
        if (action == 2 and status is not Status.NONE) or (action == 3 and status is not Status.SUSPENDED):
            return False
    if (agency_id, a["root"]) not in state.roots:  # its record is not needed: not read from its row
        return False
    if a["byGovernor"]:
        if a["actor"] != state.governor:
            return False
    else:
        actor = state.signers.get(a["actor"])
        agency = state.agencies.get(agency_id)
        if (
            actor is None
            or actor.agency_id != agency_id
            or actor.compromised_since != 0
            or not in_window(actor.valid_from, actor.valid_until, t)
            or (agency is not None and agency.state is AgencyState.REVOKED)
            or (agency is not None and agency.state is AgencyState.SUSPENDED and action == 3)
            or (current is not None and action == 3 and current.by_governor)
        ):
            return False
    state.events_by_name["CredentialStatusChanged"] += 1
    state.record_status_change(ev, key, current, t)
    return True


CLEAN_PATHS: dict[str, Callable[[LedgerState, LedgerEvent], bool]] = {
    "CredentialIssued": _apply_clean_issuance,
    "CredentialStatusChanged": _apply_clean_status_change,
}
"""Nearly every event of a large ledger is an issuance or a status change breaking no rule: these check and
apply one in a single pass (the replay's `apply`), one record look-up each. Measured on the million-event
benchmark with the records in memory: 6.4 CPU-seconds for the replay instead of 7.3 (medians of 3 runs)."""


def _credential_status_changed(state: LedgerState, ev: LedgerEvent) -> Iterator[Problem]:
    a = ev.args
    action, target, t = a["action"], a["target"], time_of(ev)
    if action not in _ACTION_WORDS:
        yield ("status-action-invalid", f"target {target} got action {action}")
        return

    def what() -> str:
        return f"target {target} of root {a['root']} {_ACTION_WORDS[action]} at {iso(t)}"

    if "since" in a and a["since"] != t:
        yield ("status-since-mismatch", f"{what()} says since {iso(a['since'])}")
    agency_id = a["agencyId"]
    record = state.roots.get((agency_id, a["root"]))
    if record is None:
        yield ("status-before-issuance", f"{what()}, before agency {agency_id} issued the root")
    current = state.targets.get((agency_id, target))
    status = current.status if current is not None else Status.NONE
    nonce = current.nonce if current is not None else 0
    if a["nonce"] != nonce + 1:
        yield ("status-nonce", f"{what()} with nonce {a['nonce']}, expected {nonce + 1}")
    if status is Status.REVOKED:
        yield ("revoked-is-final", f"{what()}, after its revocation")
    elif (action == 2 and status is not Status.NONE) or (action == 3 and status is not Status.SUSPENDED):
        yield ("status-transition", f"{what()} while {status.name.lower() if status else 'unrestricted'}")
    if a["byGovernor"]:
        if a["actor"] != state.governor:
            yield (
                "status-actor-invalid",
                f"{what()} in the governor's name by {a['actor']}, not the governor",
            )
        return
    actor = state.signers.get(a["actor"])
    if actor is not None and actor.agency_id != agency_id:
        yield (
            "status-cross-agency",
            f"{what()} in agency {agency_id}'s namespace by signer {a['actor']} of agency {actor.agency_id}",
        )
    else:
        problem = _signer_problem(actor, a["actor"], agency_id, t)
        if problem is not None:
            yield ("status-actor-invalid", f"{what()}: {problem}")
    agency = state.agencies.get(agency_id)
    if agency is not None and agency.state is AgencyState.REVOKED:
        yield (
            "status-after-agency-revocation",
            f"{what()} by agency {agency_id}, revoked (cut-off {iso(agency.cutoff)})",
        )
    elif agency is not None and agency.state is AgencyState.SUSPENDED and action == 3:
        yield ("status-after-agency-revocation", f"{what()} by agency {agency_id} while it was suspended")
    if current is not None and action == 3 and current.by_governor:
        yield ("status-held-by-governor", f"{what()} by agency {agency_id}, but the governor suspended it")


_RULES: dict[str, Callable[[LedgerState, LedgerEvent], Iterator[Problem]]] = {
    "OwnershipTransferStarted": _ownership_transfer_started,
    "OwnershipTransferred": _ownership_transferred,
    "ScopeDefined": _scope_defined,
    "AgencyRegistered": _agency_registered,
    "AgencyAdminTransferred": _agency_admin_transferred,
    "AgencySuspended": _agency_suspended,
    "AgencyReinstated": _agency_reinstated,
    "AgencyRevoked": _agency_revoked,
    "AgencyAccredited": _agency_accredited,
    "AccreditationWithdrawn": _accreditation_withdrawn,
    "SignerAdded": _key_added,
    "SignerRetired": _key_retired,
    "SignerCompromised": _key_compromised,
    "ScopeRetired": _scope_retired,
    "IssuerKeyAdded": _key_added,
    "IssuerKeyRetired": _key_retired,
    "IssuerKeyCompromised": _key_compromised,
    "CredentialIssued": _credential_issued,
    "CredentialStatusChanged": _credential_status_changed,
}
