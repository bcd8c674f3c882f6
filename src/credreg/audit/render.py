"""The audit report's sentences: what an auditor reads for an event, a day's activity and one credential.

The words come from the one label table (`credreg.labels.AUDIT_SENTENCES`, Chinese and English); this
module only fills them in. The report carries the English (`lang="en"`, the default), as it always has;
`lang="zh"` gives the same sentence in Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from credreg.audit.invariants import iso, window
from credreg.chain.codec import checksum
from credreg.chain.states import Verdict
from credreg.labels import AUDIT_SENTENCES, LEDGER_VERDICTS

__all__ = ["Lang", "activity_text", "answer_text", "credential_text", "describe", "retroactive_text"]

Lang = Literal["zh", "en"]

_ACTIVITY = {"issued", "revoke", "suspend", "reinstate"}
_STATUS = {1: "status-revoked", 2: "status-suspended", 3: "status-reinstated"}


def _say(key: str, lang: Lang, **fields: Any) -> str:
    words = AUDIT_SENTENCES[key]
    return (words.zh if lang == "zh" else words.en).format(**fields)


def _scope(scopes: Mapping[str, Any], scope_id: str, lang: Lang) -> str:
    scope = scopes.get(scope_id)
    if scope is None:
        return _say("unknown-scope", lang, id=scope_id)
    return _say("scope", lang, code=scope.occupation_code, level=scope.level)


def describe(scopes: Mapping[str, Any], name: str, args: Mapping[str, Any], lang: Lang = "en") -> str:
    """One sentence for a governance event `name` with `args` (`scopes`: the replayed scopes, by id)."""
    a = args
    agency = _say("agency", lang, id=a.get("agencyId"))
    if name == "OwnershipTransferStarted":
        return _say(name, lang, previous=checksum(a["previousOwner"]), new=checksum(a["newOwner"]))
    if name == "OwnershipTransferred":
        if not int(a["previousOwner"], 16):
            return _say("registry-deployed", lang, new=checksum(a["newOwner"]))
        return _say(name, lang, previous=checksum(a["previousOwner"]), new=checksum(a["newOwner"]))
    if name == "ScopeDefined":
        return _say(name, lang, code=a["occupationCode"], level=a["level"], title=a["title"])
    if name == "AgencyRegistered":
        return _say(
            name, lang, agency=agency, name=a["name"], code=a["registrationCode"], admin=checksum(a["admin"])
        )
    if name == "AgencyAdminTransferred":
        return _say(
            name, lang, agency=agency, previous=checksum(a["previousAdmin"]), new=checksum(a["newAdmin"])
        )
    if name == "AgencySuspended":
        return _say(name, lang, agency=agency, reason=a["reason"])
    if name == "AgencyReinstated":
        return _say(name, lang, agency=agency)
    if name == "AgencyRevoked":
        return _say(name, lang, agency=agency, reason=a["reason"], cutoff=iso(a["cutoff"]))
    if name in ("AgencyAccredited", "AccreditationWithdrawn"):
        scope = _scope(scopes, a["scopeId"], lang)
        return _say(name, lang, agency=agency, scope=scope, window=window(a["validFrom"], a["validUntil"]))
    if name in ("SignerAdded", "SignerRetired"):
        signer = checksum(a["signer"])
        return _say(name, lang, agency=agency, signer=signer, window=window(a["validFrom"], a["validUntil"]))
    if name == "SignerCompromised":
        return _say(name, lang, agency=agency, signer=checksum(a["signer"]), since=iso(a["since"]))
    return name


def activity_text(day: str, agency_id: int, counts: Sequence[tuple[str, int]], lang: Lang = "en") -> str:
    """An agency's credential activity on one day: `counts` are (issued / revoke / suspend / …, how many)."""
    parts = [
        _say(f"activity-{what}", lang, n=n)
        if what in _ACTIVITY
        else _say("activity-other", lang, what=what, n=n)
        for what, n in counts
    ]
    joined = _say("activity-separator", lang).join(parts)
    return _say("activity", lang, day=day, agency=agency_id, parts=joined)


def credential_text(name: str, args: Mapping[str, Any], lang: Lang = "en") -> str:
    """One sentence for an event about a credential (its issuance, a change of its status)."""
    a = args
    if name == "CredentialIssued":
        expiry = _say("credential-expiry", lang, until=iso(a["validUntil"])) if a["validUntil"] else ""
        return _say(
            name, lang, root=a["root"], agency=a["agencyId"], signer=checksum(a["signer"]), expiry=expiry
        )
    if name == "CredentialStatusChanged":
        key = _STATUS.get(a["action"])
        action = _say(key, lang) if key else _say("status-other", lang, action=a["action"])
        who = (
            _say("by-governor", lang)
            if a["byGovernor"]
            else _say("by-agency", lang, agency=a["agencyId"], actor=checksum(a["actor"]))
        )
        return _say(name, lang, target=a["target"], action=action, who=who, reason=a["reason"])
    return name


def answer_text(
    verdict: Verdict, moment: int, *, target: str, reason: int, since: int, lang: Lang = "en"
) -> str:
    """Why a credential's verdict at `moment` is what it is."""
    if verdict is Verdict.VALID:
        return _say("answer-valid", lang, at=iso(moment))
    if verdict is Verdict.NOT_ISSUED:
        return _say("answer-not-issued", lang, at=iso(moment))
    if verdict is Verdict.INVALID_PROOF:
        return _say("answer-invalid-proof", lang)
    if verdict is Verdict.EXPIRED:
        return _say("answer-expired", lang, since=iso(since))
    if verdict is Verdict.AGENCY_REVOKED:
        return _say("answer-agency-revoked", lang, since=iso(since))
    if verdict is Verdict.SIGNER_COMPROMISED:
        return _say("answer-signer-compromised", lang, since=iso(since))
    label = verdict.label
    words = (
        LEDGER_VERDICTS[label].zh if lang == "zh" and label in LEDGER_VERDICTS else label.replace("-", " ")
    )
    return _say("answer-other", lang, verdict=words, target=target, since=iso(since), reason=reason)


def retroactive_text(then: int, cause: Verdict, when: int, issued_at: int, lang: Lang = "en") -> str:
    """A credential valid at `then` that later events (`cause` at `when`) void back to its issuance."""
    what = _say("retroactive-agency" if cause is Verdict.AGENCY_REVOKED else "retroactive-signer", lang)
    return _say("retroactive", lang, then=iso(then), what=what, when=iso(when), issued=iso(issued_at))
