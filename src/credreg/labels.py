"""Words for people, in Chinese and English: the one table of labels the CLI, the API and the web page share.

Everything a person reads about a certificate is named here once, as a ``Label(zh, en)``:

- `LEVELS`: certificate levels by their Chinese names (the national five-level skill system, professional
  technical grades, competition awards);
- `REASONS`: the reason codes recorded with a revocation or suspension (the ``reason`` argument of
  ``setStatus``/``governorSetStatus``, ``suspendAgency``, ``revokeAgency``), as words;
- `FIELDS`: a document's fields as people know them (身份证号, not ``recipient.idNumber``);
- `CODES`, `STEPS`, `STEP_REASONS`, `LEDGER_VERDICTS`: what a verification report and a ledger look-up say;
- `EVENTS`, `ACTIONS`, `AGENCY_STATES`: the ledger's events for the audit timeline.

`GET /v1/labels` serves `labels_document()`; the web page renders nothing about a certificate without it.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from credreg import __version__
from credreg.config import DEFAULT_TIME_ZONE

__all__ = [
    "ACTIONS",
    "AGENCY_STATES",
    "CODES",
    "DEFAULT_TIME_ZONE",
    "EVENTS",
    "FIELDS",
    "LEDGER_VERDICTS",
    "LEVELS",
    "REASONS",
    "STEPS",
    "STEP_REASONS",
    "STEP_STATUS",
    "VERDICTS",
    "Label",
    "labels_document",
    "level_label",
    "reason_label",
]


class Label(NamedTuple):
    zh: str
    en: str


# --- levels ------------------------------------------------------------------------------------------------

LEVELS: Final[dict[str, dict[int, Label]]] = {
    # The national vocational skill levels (国家职业技能等级), 5 lowest to 1 highest.
    "skill_level": {
        5: Label("五级/初级工", "Level 5 / junior worker"),
        4: Label("四级/中级工", "Level 4 / intermediate worker"),
        3: Label("三级/高级工", "Level 3 / senior worker"),
        2: Label("二级/技师", "Level 2 / technician"),
        1: Label("一级/高级技师", "Level 1 / senior technician"),
    },
    # Professional technical grades (专业技术职称): 初级 (员级, 助理级), 中级, 高级 (副高级, 正高级).
    "technical_grade": {
        5: Label("初级（员级）", "Junior (assistant)"),
        4: Label("初级（助理级）", "Junior"),
        3: Label("中级", "Intermediate"),
        2: Label("高级（副高级）", "Senior (associate)"),
        1: Label("高级（正高级）", "Senior (full)"),
    },
}
# A competition award confers a skill level; a scope on the ledger names the level in the same five-level
# system, so both read their level from the skill table.
LEVELS["competition_award"] = LEVELS["skill_level"]


def level_label(level: int, kind: str | None = None) -> Label:
    """The level's name for a certificate kind (skill levels when the kind is not known)."""
    table = LEVELS.get(kind or "skill_level", LEVELS["skill_level"])
    return table.get(level) or Label(f"{level} 级", f"Level {level}")


# --- reason codes ------------------------------------------------------------------------------------------

REASONS: Final[dict[int, Label]] = {
    0: Label("未说明原因", "No reason given"),
    1: Label("签发有误", "Issued in error"),
    2: Label("考核舞弊", "Misconduct in the assessment"),
    3: Label("材料不实", "False application documents"),
    4: Label("持证人申请", "At the holder's request"),
    5: Label("已换发新证", "Replaced by a new certificate"),
    6: Label("核查期间暂停", "Under investigation"),
    7: Label("待补交材料", "Awaiting documents from the holder"),
    8: Label("评价机构违规", "Agency misconduct"),
    9: Label("评价机构资质被撤销", "Agency's accreditation withdrawn"),
    10: Label("签名密钥泄露", "Signing key compromised"),
    11: Label("法院或主管部门决定", "Order of a court or the authority"),
}
"""The reason codes agencies and the governor record; codes not listed here read as 'reason code N'."""


def reason_label(code: int) -> Label:
    return REASONS.get(code) or Label(f"原因代码 {code}", f"reason code {code}")


# --- fields ------------------------------------------------------------------------------------------------

FIELDS: Final[dict[str, Label]] = {
    "id": Label("证书编号", "Certificate number"),
    "recipient": Label("持证人信息", "Holder's details"),
    "recipient.name": Label("姓名", "Name"),
    "recipient.idType": Label("证件类型", "ID type"),
    "recipient.idNumber": Label("身份证号", "ID card number"),
    "credreg.occupation.title": Label("职业名称", "Occupation"),
    "credreg.occupation.code": Label("职业编码", "Occupation code"),
    "credreg.level": Label("等级", "Level"),
    "credreg.gradeTitle": Label("职称名称", "Grade title"),
    "credreg.issuedOn": Label("发证日期", "Date of issue"),
    "credreg.validUntil": Label("有效期至", "Valid until"),
    "credreg.assessment": Label("考核信息", "Assessment"),
    "credreg.assessment.date": Label("考核日期", "Assessment date"),
    "credreg.assessment.sessionId": Label("考核批次号", "Assessment session"),
    "credreg.assessment.location": Label("考核地点", "Assessment location"),
    "credreg.assessment.score": Label("成绩", "Score"),
    "credreg.competition": Label("竞赛信息", "Competition"),
    "credreg.competition.name": Label("竞赛名称", "Competition"),
    "credreg.competition.date": Label("竞赛日期", "Competition date"),
    "credreg.competition.award": Label("奖项", "Award"),
    "credreg.competition.rank": Label("名次", "Rank"),
}

# --- verification reports ----------------------------------------------------------------------------------

VERDICTS: Final[dict[str, Label]] = {
    "valid": Label("有效", "Valid"),
    "invalid": Label("无效", "Not valid"),
    "error": Label("无法核验", "Could not verify"),
}

# code -> (short name, one-sentence summary)
CODES: Final[dict[str, tuple[Label, Label]]] = {
    "valid": (
        Label("证书有效", "Valid"),
        Label(
            "有效：由具备资质的机构签发，内容未改动，未被撤销、暂停，也未过期。",
            "Valid: issued by an accredited agency, unchanged, not revoked, suspended or expired.",
        ),
    ),
    "malformed": (
        Label("不是证书文件", "Not a certificate file"),
        Label("这个文件不是 credreg 证书。", "The file is not a credreg document."),
    ),
    "tampered": (
        Label("内容被篡改", "Tampered"),
        Label("证书签发后内容被改动过。", "The document was changed after it was issued."),
    ),
    "invalid-proof": (
        Label("不属于所称批次", "Not part of its batch"),
        Label("证书不属于它所声称的批次。", "The document does not belong to the batch it claims."),
    ),
    "wrong-registry": (
        Label("属于其他登记簿", "Another registry"),
        Label(
            "证书属于其他登记簿或其他链，无法在此核验。",
            "The document belongs to another registry or chain; it cannot be checked here.",
        ),
    ),
    "not-issued": (
        Label("未在链上登记", "Not issued"),
        Label(
            "账本上没有这份证书所属批次的记录：它从未签发。",
            "The ledger has no record of this document: it was never issued.",
        ),
    ),
    "record-mismatch": (
        Label("与链上记录不符", "Differs from the ledger"),
        Label("证书内容与账本记录不一致。", "The document's details differ from what the ledger recorded."),
    ),
    "revoked": (Label("已撤销", "Revoked"), Label("证书已被撤销。", "The credential was revoked.")),
    "suspended": (Label("已暂停", "Suspended"), Label("证书已被暂停。", "The credential is suspended.")),
    "expired": (Label("已过期", "Expired"), Label("证书已过期。", "The credential has expired.")),
    "agency-revoked": (
        Label("发证机构已被撤销", "Agency revoked"),
        Label(
            "签发这份证书之前，发证机构已被撤销。",
            "The issuing agency was revoked before this credential was issued.",
        ),
    ),
    "signer-compromised": (
        Label("签名密钥已泄露", "Signing key compromised"),
        Label(
            "签发这份证书之前，签名密钥已被报告泄露。",
            "The key that signed this credential was compromised before it was issued.",
        ),
    ),
    "chain-unreachable": (
        Label("账本暂不可用", "Ledger unreachable"),
        Label("暂时无法连接账本，请稍后再试。", "The ledger could not be reached; try again later."),
    ),
    "offline": (
        Label("未查询账本", "Ledger not consulted"),
        Label(
            "证书内容完整，但未查询账本：不能确定它已签发。",
            "The document is intact, but no ledger was consulted: it is not known to be issued.",
        ),
    ),
}

STEPS: Final[dict[str, Label]] = {
    "format": Label("文件格式正确", "The file is a credreg OpenAttestation v2 document"),
    "integrity": Label("内容未被改动", "No field was changed since the agency signed"),
    "merkle-proof": Label("属于所称批次", "The document belongs to its batch's merkle root"),
    "registry": Label("属于本登记簿", "The document names this registry and chain"),
    "issued": Label("批次已上链登记", "The root is recorded on the ledger"),
    "record-match": Label(
        "与链上记录一致", "The document's agency, scope and validity match the ledger record"
    ),
    "accredited": Label("机构具备资质", "The agency was accredited for the scope when it issued"),
    "signer": Label("签名密钥有效", "The signing key was valid and not compromised at issuance"),
    "agency-standing": Label("机构未在签发前被撤销", "The agency was not revoked before issuing"),
    "not-revoked": Label("未撤销或暂停", "Neither the document nor its batch is revoked or suspended"),
    "not-expired": Label("未过期", "The credential has not expired"),
}

STEP_STATUS: Final[dict[str, Label]] = {
    "valid": Label("通过", "passed"),
    "invalid": Label("未通过", "failed"),
    "error": Label("出错", "error"),
    "skipped": Label("跳过", "skipped"),
}

_T = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC|never)"  # verify.py's times, which the page shows in its zone
_H = r"(0x[0-9a-fA-F]+)"
STEP_REASONS: Final[tuple[tuple[str, Label], ...]] = (
    (
        r"^(.+) certificate, OpenAttestation v2$",
        Label("{kind1}，OpenAttestation v2 格式", "{kind1}, OpenAttestation v2"),
    ),
    (
        r"^all fields match the target hash$",
        Label("所有字段与目标哈希一致", "all fields match the target hash"),
    ),
    (
        r"^all fields match the target hash; (\d+) hidden by the holder$",
        Label(
            "所有字段与目标哈希一致；持证人隐藏了 {1} 个字段",
            "all fields match the target hash; {1} hidden by the holder",
        ),
    ),
    (
        r"^the fields do not add up to the signed target hash$",
        Label("字段与签发时的目标哈希不一致", "the fields do not add up to the signed target hash"),
    ),
    (r"^single document$", Label("单份证书（批次只有这一份）", "single document")),
    (
        r"^proof of (\d+) steps leads to the root$",
        Label("{1} 步证明通向批次根", "proof of {1} steps leads to the root"),
    ),
    (
        r"^the proof does not lead from the target hash to the merkle root$",
        Label(
            "证明不能从目标哈希通向默克尔根",
            "the proof does not lead from the target hash to the merkle root",
        ),
    ),
    (
        r"^the ledger rejects the proof for this root$",
        Label("账本拒绝了该批次的证明", "the ledger rejects the proof for this root"),
    ),
    (r"^registry " + _H + r" on chain (\d+)$", Label("登记簿 {1}，链 {2}", "registry {1} on chain {2}")),
    (
        r"^the document names registry "
        + _H
        + r" on chain (\d+); this verifier reads "
        + _H
        + r" on chain (\d+)$",
        Label(
            "证书指向链 {2} 上的登记簿 {1}；本服务读取的是链 {4} 上的 {3}",
            "the document names registry {1} on chain {2}; this verifier reads {3} on chain {4}",
        ),
    ),
    (
        r"^root " + _H + r" is not on the ledger$",
        Label("批次根 {1} 不在账本上", "root {1} is not on the ledger"),
    ),
    (
        r"^recorded at " + _T + r" by agency (\d+)$",
        Label("{1} 由机构 {2} 登记", "recorded at {1} by agency {2}"),
    ),
    (
        r"^agency (.+), scope ([0-9-]+) level (\d+)$",
        Label("机构 {1}，职业 {2}，{level3}", "agency {1}, occupation {2}, {level3}"),
    ),
    (
        r"^the registry checked accreditation for (.+) when it recorded the root at " + _T + "$",
        Label(
            "登记簿在 {2} 登记时核对了“{1}”的资质",
            "the registry checked accreditation for {1} when it recorded the root at {2}",
        ),
    ),
    (
        r"^key " + _H + r" was valid when it signed$",
        Label("签名时密钥 {1} 有效", "key {1} was valid when it signed"),
    ),
    (
        r"^key " + _H + r" was reported compromised since " + _T + r", before this credential was issued$",
        Label(
            "密钥 {1} 已被报告自 {2} 起泄露，早于本证书签发",
            "key {1} was reported compromised since {2}, before this credential was issued",
        ),
    ),
    (
        r"^agency (.+) was revoked with cut-off " + _T + r", at or before issuance$",
        Label(
            "机构 {1} 已被撤销，截止时间 {2} 不晚于签发时间",
            "agency {1} was revoked with cut-off {2}, at or before issuance",
        ),
    ),
    (r"^agency is (active|suspended|revoked)$", Label("机构状态：{state1}", "agency is {state1}")),
    (
        r"^agency is (revoked); its cut-off " + _T + r" falls after this credential$",
        Label(
            "机构已被撤销；其截止时间 {2} 晚于本证书签发",
            "agency is revoked; its cut-off {2} falls after this credential",
        ),
    ),
    (
        r"^(this document|part of its batch|its whole batch) was revoked at "
        + _T
        + r" \(reason code (\d+)\)$",
        Label("{which1}于 {2} 被撤销（原因：{reason3}）", "{which1} was revoked at {2} ({reason3})"),
    ),
    (
        r"^(this document|part of its batch|its whole batch) is suspended since "
        + _T
        + r" \(reason code (\d+)\)$",
        Label("{which1}自 {2} 起暂停（原因：{reason3}）", "{which1} is suspended since {2} ({reason3})"),
    ),
    (
        r"^not revoked; the ledger reports a suspension only when nothing weightier applies$",
        Label(
            "未被撤销；账本只在没有更重要的原因时才报告暂停",
            "not revoked; the ledger reports a suspension only when nothing weightier applies",
        ),
    ),
    (r"^neither revoked nor suspended$", Label("既未撤销也未暂停", "neither revoked nor suspended")),
    (r"^expired at " + _T + "$", Label("已于 {1} 过期", "expired at {1}")),
    (r"^no expiry$", Label("长期有效", "no expiry")),
    (r"^valid until " + _T + "$", Label("有效期至 {through1}", "valid until {through1}")),
    (
        r"^not needed: an earlier step decided$",
        Label("无需检查：前面的步骤已得出结论", "not needed: an earlier step decided"),
    ),
    (r"^the document is not intact$", Label("证书内容不完整", "the document is not intact")),
    (r"^the file could not be read$", Label("文件无法读取", "the file could not be read")),
    (
        r"^the document is not part of its batch$",
        Label("证书不属于其批次", "the document is not part of its batch"),
    ),
    (
        r"^nothing on the ledger to compare with$",
        Label("账本上没有可比对的记录", "nothing on the ledger to compare with"),
    ),
    (
        r"^the document does not match its record$",
        Label("证书与链上记录不一致", "the document does not match its record"),
    ),
    (r"^checked against another registry$", Label("针对的是其他登记簿", "checked against another registry")),
    (r"^the ledger could not be reached$", Label("无法连接账本", "the ledger could not be reached")),
    (r"^no ledger consulted$", Label("未查询账本", "no ledger consulted")),
)
"""verify.py's step reasons as patterns: ``{n}`` is the n-th group; ``{kindN}``, ``{levelN}``, ``{stateN}``,
``{whichN}``, ``{reasonN}`` are the group read through the tables below, ``{throughN}`` an exclusive end of
validity as the last day it covers; times are shown in the view's zone.
A reason no pattern matches is shown as the service wrote it, in English."""

PHRASES: Final[dict[str, dict[str, Label]]] = {
    "kind": {
        "skill level": Label("职业技能等级证书", "skill level certificate"),
        "technical grade": Label("专业技术等级证书", "technical grade certificate"),
        "competition award": Label("职业技能竞赛获奖证书", "competition award certificate"),
    },
    "which": {
        "this document": Label("本证书", "this document"),
        "part of its batch": Label("其批次的一部分", "part of its batch"),
        "its whole batch": Label("其整个批次", "its whole batch"),
    },
}

# --- ledger look-ups ---------------------------------------------------------------------------------------

LEDGER_VERDICTS: Final[dict[str, Label]] = {
    "valid": Label("已登记，状态正常", "On the ledger, in good standing"),
    "not-issued": Label("批次未在链上登记", "The batch is not on the ledger"),
    "invalid-proof": Label("证明无效", "The proof does not lead to the root"),
    "root-revoked": Label("整批已撤销", "Revoked: the whole batch"),
    "node-revoked": Label("所在批次的一部分已撤销", "Revoked: part of the batch"),
    "leaf-revoked": Label("已撤销", "Revoked: this certificate"),
    "root-suspended": Label("整批已暂停", "Suspended: the whole batch"),
    "node-suspended": Label("所在批次的一部分已暂停", "Suspended: part of the batch"),
    "leaf-suspended": Label("已暂停", "Suspended: this certificate"),
    "agency-revoked": Label("发证机构在签发前已被撤销", "The issuing agency was revoked before issuing"),
    "signer-compromised": Label("签名密钥在签发前已泄露", "The signing key was compromised before issuing"),
    "expired": Label("已过期", "Expired"),
}

# --- the audit timeline ------------------------------------------------------------------------------------

AGENCY_STATES: Final[dict[str, Label]] = {
    "active": Label("正常", "active"),
    "suspended": Label("暂停", "suspended"),
    "revoked": Label("已撤销", "revoked"),
    "none": Label("未登记", "unknown"),
}

EVENTS: Final[dict[str, Label]] = {
    "ScopeDefined": Label("定义职业范围", "Scope defined"),
    "AgencyRegistered": Label("登记评价机构", "Agency registered"),
    "AgencyAdminTransferred": Label("机构管理员变更", "Agency admin transferred"),
    "AgencySuspended": Label("机构暂停", "Agency suspended"),
    "AgencyReinstated": Label("机构恢复", "Agency reinstated"),
    "AgencyRevoked": Label("机构撤销", "Agency revoked"),
    "AgencyAccredited": Label("授予资质", "Agency accredited"),
    "AccreditationWithdrawn": Label("撤回资质", "Accreditation withdrawn"),
    "SignerAdded": Label("添加签名密钥", "Signer added"),
    "SignerRetired": Label("停用签名密钥", "Signer retired"),
    "SignerCompromised": Label("签名密钥泄露", "Signer compromised"),
    "CredentialIssued": Label("发证", "Credentials issued"),
    "CredentialStatusChanged": Label("证书状态变更", "Credential status changed"),
    "OwnershipTransferStarted": Label("管理部门移交发起", "Governor transfer started"),
    "OwnershipTransferred": Label("管理部门移交", "Governor transferred"),
}

ACTIONS: Final[dict[int, Label]] = {
    1: Label("撤销", "revoke"),
    2: Label("暂停", "suspend"),
    3: Label("恢复", "reinstate"),
}

EVENT_FIELDS: Final[dict[str, Label]] = {
    "scopeId": Label("职业范围", "Scope"),
    "occupationCode": Label("职业编码", "Occupation code"),
    "level": Label("等级", "Level"),
    "title": Label("名称", "Title"),
    "name": Label("名称", "Name"),
    "registrationCode": Label("登记代码", "Registration code"),
    "admin": Label("管理员", "Admin"),
    "previousAdmin": Label("原管理员", "Previous admin"),
    "newAdmin": Label("新管理员", "New admin"),
    "signer": Label("签名密钥", "Signer"),
    "validFrom": Label("起始", "From"),
    "validUntil": Label("截止", "Until"),
    "issuedAt": Label("签发时间", "Issued"),
    "since": Label("起始时间", "Since"),
    "cutoff": Label("截止时间", "Cut-off"),
    "action": Label("操作", "Action"),
    "reason": Label("原因", "Reason"),
    "nonce": Label("序号", "Nonce"),
    "byGovernor": Label("由管理部门", "By the governor"),
    "previousOwner": Label("原管理部门", "Previous governor"),
    "newOwner": Label("新管理部门", "New governor"),
    "index": Label("序号", "Index"),
    "scopeIndex": Label("职业范围序号", "Scope number"),
    "signerIndex": Label("密钥序号", "Key number"),
    "agencyId": Label("机构编号", "Agency id"),
}


def _pair(label: Label) -> dict[str, str]:
    return {"zh": label.zh, "en": label.en}


def labels_document(time_zone: str = DEFAULT_TIME_ZONE) -> dict[str, Any]:
    """Every table above as JSON, with the version and the time zone views show times in."""
    return {
        "version": __version__,
        "time_zone": time_zone,
        "languages": ["zh", "en"],
        "levels": {kind: {str(n): _pair(v) for n, v in table.items()} for kind, table in LEVELS.items()},
        "reasons": {str(code): _pair(v) for code, v in REASONS.items()},
        "fields": {path: _pair(v) for path, v in FIELDS.items()},
        "verdicts": {k: _pair(v) for k, v in VERDICTS.items()},
        "codes": {
            k: {"name": _pair(name), "summary": _pair(summary)} for k, (name, summary) in CODES.items()
        },
        "steps": {k: _pair(v) for k, v in STEPS.items()},
        "step_status": {k: _pair(v) for k, v in STEP_STATUS.items()},
        "step_reasons": [{"pattern": pattern, **_pair(label)} for pattern, label in STEP_REASONS],
        "phrases": {group: {k: _pair(v) for k, v in table.items()} for group, table in PHRASES.items()},
        "ledger_verdicts": {k: _pair(v) for k, v in LEDGER_VERDICTS.items()},
        "agency_states": {k: _pair(v) for k, v in AGENCY_STATES.items()},
        "events": {k: _pair(v) for k, v in EVENTS.items()},
        "event_fields": {k: _pair(v) for k, v in EVENT_FIELDS.items()},
        "actions": {str(k): _pair(v) for k, v in ACTIONS.items()},
    }
