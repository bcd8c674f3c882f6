"""Words people read, in Chinese and English, in one place: the CLI, the API and the web page use these.

- `CONTRACT_ERRORS`: every custom error of the contracts, in plain words that say what to do next. The raw
  error name stays in `--json` output and in API problem details; this is what a person is shown.
- `REASON_CODES`: the reason codes recorded with a revocation or suspension (of a certificate, a batch or
  an agency). The ledger stores the number (uint16); these are its words. Codes not in the table are shown
  as "reason code N".
- `LEVEL_NAMES`: levels by kind of certificate, by their Chinese names (see `credreg.documents.scopes` for
  why every kind uses levels 1 (highest) to 5).
- `FIELD_LABELS`: certificate fields by the names people know (身份证号, not `recipient.idNumber`).
- `ISSUE_MESSAGES`: what `credreg issue` says of a batch issued before and of a dry run.
- `AGENCY_STATES`, `VERDICTS`, `NOTES`: the standing of an agency, the verification verdict codes, and
  remarks shown beside a verdict (e.g. the agency is suspended now).
- `OUTCOMES`, `CODES`, `STEPS`, `STEP_STATUS`, `STEP_REASONS`, `PHRASES`, `LEDGER_VERDICTS`: what a
  verification report and a ledger look-up say, for the web page (`CODES` adds a one-sentence summary).
- `EVENTS`, `ACTIONS`, `EVENT_FIELDS`: the ledger's events, for the audit timeline.
- `UPLOAD_PROBLEMS`: what the service says of a batch's leaves uploaded in parts (titles and details).
- `AUDIT_SENTENCES`: the sentences of an audit report (a governance event, a day's activity, one
  credential's answer), as templates `credreg.audit.render` fills in.

Every entry is a `Words(zh, en)`; `labels_document()` is what `GET /v1/labels` serves, and the web page
renders nothing about a certificate without it.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from credreg import __version__


class Words(NamedTuple):
    """One message in Chinese and English."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


# --- contract errors -------------------------------------------------------------------------------------

CONTRACT_ERRORS: Final[dict[str, Words]] = {
    "OwnableUnauthorizedAccount": Words(
        "此账户不是主管部门（governor）账户，请使用主管部门的密钥",
        "this account is not the governor; use the governor's key",
    ),
    "OwnableInvalidOwner": Words(
        "新的主管部门地址无效（不能为空地址），请核对地址后重试",
        "the new governor address is invalid (it may not be the zero address); check the address",
    ),
    "AccreditationRegistryUnauthorized": Words(
        "此账户不是该评价机构的管理员账户，请使用该机构管理员的密钥",
        "this account is not the agency's admin; use the agency admin's key",
    ),
    "AccreditationRegistryInvalidAgency": Words(
        "机构名称、登记代码或管理员地址为空或无效，请补全后重试",
        "the agency's name, registration code or admin address is empty or invalid; fill them in",
    ),
    "AccreditationRegistryInvalidAgencyState": Words(
        "评价机构当前状态不允许此操作（例如已被撤销，或并未暂停），请先用 credreg agency show 查看其状态",
        "the agency's current standing does not allow this (e.g. it is revoked, or not suspended); "
        "check it with credreg agency show",
    ),
    "AccreditationRegistryInvalidCompromiseTime": Words(
        "泄露时间不能晚于当前时间，也不能晚于已报告的泄露时间，请改用更早的 --since",
        "the compromise time may not be in the future or later than one already reported; "
        "give an earlier --since",
    ),
    "AccreditationRegistryScopeRetired": Words(
        "此职业范围已被主管部门停用，不能再认定；请改用正确的职业范围",
        "the governor retired this scope, so no agency can be accredited for it; use the right scope",
    ),
    "AccreditationRegistryIssuerKeyAlreadyRegistered": Words(
        "此电子证书签发密钥为空或已被登记（一把密钥只属于一个机构），请生成新的密钥",
        "this credential-signing key is empty or already listed (a key belongs to one agency); make a new key",
    ),
    "AccreditationRegistryUnknownIssuerKey": Words(
        "此电子证书签发密钥未在账本上登记，请核对密钥",
        "this credential-signing key is not listed on the ledger; check the key",
    ),
    "AccreditationRegistryInvalidIssuerKeyCompromiseTime": Words(
        "泄露时间无效：不能为空、不能晚于当前时间，且只能比已报告的时间更早",
        "the compromise time is invalid: it must be set, not in the future, and earlier than one reported "
        "before",
    ),
    "FailedDeployment": Words(
        "为评价机构创建电子证书存证合约失败（燃料不足），请用更高的燃料上限重试",
        "creating the agency's document store failed (not enough gas); try again with a higher gas limit",
    ),
    "InsufficientBalance": Words(
        "账户余额不足，请为发送交易的账户充值",
        "the account's balance is too low; fund the account that sends the transaction",
    ),
    "CloneArgumentsTooLong": Words(
        "内部错误：存证合约参数过长，请联系系统维护人员",
        "internal error: the document store's arguments are too long; contact the operator",
    ),
    "Create2EmptyBytecode": Words(
        "内部错误：存证合约代码为空，请联系系统维护人员",
        "internal error: the document store's code is empty; contact the operator",
    ),
    "AccreditationRegistryInvalidCutoff": Words(
        "撤销截止时间不能晚于当前时间，请改用当前或更早的 --cutoff",
        "the revocation cut-off may not be in the future; give now or an earlier --cutoff",
    ),
    "AccreditationRegistryInvalidScope": Words(
        "职业编码、等级或名称无效，职业编码格式为 D-DD-DD-DD（如 4-04-05-06），等级为 1–5",
        "the occupation code, level or title is invalid; codes are D-DD-DD-DD (e.g. 4-04-05-06), levels 1-5",
    ),
    "AccreditationRegistryInvalidWindow": Words(
        "有效期起止时间无效（结束时间须晚于开始时间），请检查 --from 和 --until",
        "the window is invalid (its end must come after its start); check --from and --until",
    ),
    "AccreditationRegistryNotAccredited": Words(
        "该评价机构未获得此职业范围的评价资格，请先由主管部门认定（credreg agency accredit）",
        "the agency is not accredited for this scope; the governor must accredit it first "
        "(credreg agency accredit)",
    ),
    "AccreditationRegistryRegistrationCodeTaken": Words(
        "该登记代码已被其他评价机构使用，请核对登记代码",
        "this registration code is already used by another agency; check the code",
    ),
    "AccreditationRegistryRenounceDisabled": Words(
        "不允许放弃主管部门身份，如需交接请使用主管部门移交",
        "the governor role cannot be renounced; transfer it to a new governor instead",
    ),
    "AccreditationRegistryScopeAlreadyDefined": Words(
        "此职业范围（职业编码和等级）已定义，无需重复定义，可直接使用 credreg scope list 查看",
        "this scope (occupation code and level) is already defined; see credreg scope list",
    ),
    "AccreditationRegistrySignerAlreadyRegistered": Words(
        "此签名密钥已登记（一把密钥只能登记一次），请为新密钥生成新的地址（credreg keys new）",
        "this signer key is already registered (a key is registered once); create a new key with "
        "credreg keys new",
    ),
    "AccreditationRegistryUnknownAgency": Words(
        "账本上没有此编号的评价机构，请用 credreg agency list 核对编号",
        "there is no agency with this number on the ledger; check with credreg agency list",
    ),
    "AccreditationRegistryUnknownScope": Words(
        "账本上没有此职业范围，请先由主管部门定义（credreg scope define），或用 credreg scope list 核对",
        "this scope is not on the ledger; the governor defines it first (credreg scope define), "
        "or check credreg scope list",
    ),
    "AccreditationRegistryUnknownSigner": Words(
        "此签名密钥未在任何评价机构登记，请核对地址，或先由机构管理员添加（credreg signer add）",
        "this signer key is not registered with any agency; check the address, or have the agency "
        "admin add it (credreg signer add)",
    ),
    "AccreditationRegistryWindowEnded": Words(
        "该有效期已经结束，无法再更改；如需继续，请重新认定或添加新的密钥",
        "this window has already ended and cannot be changed; accredit again or add a new key",
    ),
    "AccreditationRegistryZeroAddress": Words(
        "地址不能为空地址（0x000…0），请核对地址",
        "the address may not be the zero address (0x000…0); check the address",
    ),
    "CredentialRegistryAgencyNotActive": Words(
        "该评价机构已被暂停或撤销，不能颁发证书或更改证书状态，请联系主管部门",
        "the agency is suspended or revoked and cannot issue or change certificates; contact the governor",
    ),
    "CredentialRegistryAlreadyIssued": Words(
        "本机构已在账本上记录这一批证书，无需重复颁发；再次运行同一命令即可写出证书文件",
        "your agency already recorded this batch on the ledger; run the same command again to write its files",
    ),
    "CredentialRegistryExpiredSignature": Words(
        "签名请求已过期，请重新签名后再提交",
        "the signed request has expired; sign it again and resubmit",
    ),
    "CredentialRegistryInvalidAction": Words(
        "未知的状态操作，只能是撤销、暂停或恢复",
        "unknown status action; it must be revoke, suspend or reinstate",
    ),
    "CredentialRegistryInvalidProof": Words(
        "证书不属于所声明的批次（默克尔证明不成立），请使用颁发时生成的原始证书文件",
        "the certificate does not belong to the batch it names (the merkle proof fails); use the "
        "certificate file as issued",
    ),
    "CredentialRegistryInvalidSignature": Words(
        "签名无效，请用评价机构已登记的签名密钥重新签名",
        "the signature is invalid; sign again with the agency's registered signer key",
    ),
    "CredentialRegistryInvalidTransition": Words(
        "证书当前状态不允许此操作（例如已撤销的证书不能恢复，未暂停的证书无需恢复）",
        "the certificate's current status does not allow this (e.g. a revoked one cannot be "
        "reinstated, one not suspended needs no reinstating)",
    ),
    "CredentialRegistryInvalidValidUntil": Words(
        "证书的有效期截止日期已过，请在结果文件中填写未来的 valid_until 日期",
        "the certificates' valid-until date has passed; give a future valid_until in the results file",
    ),
    "CredentialRegistryNotAccredited": Words(
        "该评价机构当前没有此职业范围的评价资格（未认定、已撤回或不在有效期内），请联系主管部门",
        "the agency is not accredited for this scope now (never, withdrawn, or outside the window); "
        "contact the governor",
    ),
    "CredentialRegistryNotIssued": Words(
        "该评价机构在账本上没有这一批证书的记录，请核对证书文件、批次根哈希和机构编号",
        "the ledger has no record of this batch by that agency; check the certificate file, root hash and "
        "agency number",
    ),
    "CredentialRegistrySignerCompromised": Words(
        "此签名密钥已报告泄露，不能再使用；请由机构管理员添加新的签名密钥（credreg signer add）",
        "this signer key was reported compromised and can no longer be used; the agency admin adds a "
        "new one (credreg signer add)",
    ),
    "CredentialRegistrySignerNotValid": Words(
        "此签名密钥当前不在有效期内（尚未生效、已到期或已停用），请使用有效的签名密钥",
        "this signer key is not valid now (not yet valid, expired or retired); use a valid signer key",
    ),
    "CredentialRegistryStatusHeldByGovernor": Words(
        "该证书由主管部门暂停，只有主管部门可以恢复；请联系主管部门",
        "the governor suspended this certificate; only the governor can reinstate it, so contact the governor",
    ),
    "CredentialRegistryUnknownSigner": Words(
        "此签名密钥不属于任何评价机构，请核对所用密钥，或先由机构管理员添加（credreg signer add）",
        "this key is not a signer of any agency; check which key you used, or have the agency admin "
        "add it (credreg signer add)",
    ),
    "CredentialRegistryZeroRoot": Words(
        "批次根哈希不能为空，请使用颁发生成的证书文件",
        "the batch root may not be empty; use the certificate files issuance wrote",
    ),
    # What credreg's decoder names when the contract gave no custom error (credreg.chain.reverts).
    "Error": Words("合约拒绝了此操作", "the contract refused"),
    "Panic": Words(
        "合约内部错误，请把完整输出报告给系统维护人员",
        "the contract failed internally; report the full output to the system's maintainers",
    ),
    "Reverted": Words(
        "合约拒绝了此操作但未说明原因，请检查所用密钥和参数",
        "the contract refused without a reason; check the key and the values you gave",
    ),
    "Unknown": Words(
        "合约返回了未知错误，credreg 版本可能与合约不匹配，请更新 credreg",
        "the contract returned an unknown error; credreg may not match the contract, update it",
    ),
}


def contract_error_words(name: str) -> Words:
    """Plain words for a contract error name; a generic sentence naming it if it is not in the table."""
    return CONTRACT_ERRORS.get(name) or Words(f"合约拒绝了此操作（{name}）", f"the contract refused ({name})")


# --- reason codes ----------------------------------------------------------------------------------------

REASON_CODES: Final[dict[int, Words]] = {
    0: Words("未说明原因", "no reason given"),
    1: Words("证书信息有误", "the certificate's details were wrong"),
    2: Words("重复颁发", "issued twice"),
    3: Words("考核舞弊", "cheating in the assessment"),
    4: Words("身份不符或冒名顶替", "issued to the wrong person"),
    5: Words("持证人申请", "at the holder's request"),
    6: Words("评价机构违规颁发", "the agency issued it against the rules"),
    7: Words("待核查", "under investigation"),
    8: Words("司法或行政决定", "a court or administrative decision"),
    9: Words("签名密钥泄露", "the signing key was compromised"),
    10: Words("评价资格被撤回", "the agency's accreditation was withdrawn"),
    11: Words("批次颁发错误", "the batch was issued in error"),
    12: Words("评价机构整改", "the agency is under rectification"),
}


def reason_words(code: int) -> Words:
    return REASON_CODES.get(code) or Words(f"原因代码 {code}", f"reason code {code}")


# --- levels, fields, standings ---------------------------------------------------------------------------

_SKILL_LEVELS: Final = {
    1: Words("一级/高级技师", "level 1, senior technician"),
    2: Words("二级/技师", "level 2, technician"),
    3: Words("三级/高级工", "level 3, senior worker"),
    4: Words("四级/中级工", "level 4, intermediate worker"),
    5: Words("五级/初级工", "level 5, junior worker"),
}
LEVEL_NAMES: Final[dict[str, dict[int, Words]]] = {
    "skill_level": _SKILL_LEVELS,
    "technical_grade": {
        1: Words("高级（正高级）", "senior (full senior)"),
        2: Words("高级（副高级）", "senior (associate senior)"),
        3: Words("中级", "intermediate"),
        4: Words("初级（助理级）", "junior (assistant)"),
        5: Words("初级（员级）", "junior (entry)"),
    },
    "competition_award": _SKILL_LEVELS,
}


def level_words(level: int, kind: str = "skill_level") -> Words:
    return LEVEL_NAMES.get(kind, _SKILL_LEVELS).get(level) or Words(f"{level} 级", f"level {level}")


FIELD_LABELS: Final[dict[str, Words]] = {
    "id": Words("证书编号", "certificate number"),
    "recipient.name": Words("姓名", "name"),
    "recipient.idType": Words("证件类型", "ID type"),
    "recipient.idNumber": Words("身份证号", "ID number"),
    "credreg.kind": Words("证书类别", "kind of certificate"),
    "credreg.chainId": Words("账本链编号", "chain id"),
    "credreg.registry": Words("登记合约地址", "registry address"),
    "credreg.agencyId": Words("评价机构编号", "agency number"),
    "credreg.scopeId": Words("职业范围编号", "scope id"),
    "credreg.occupation.code": Words("职业编码", "occupation code"),
    "credreg.occupation.title": Words("职业名称", "occupation"),
    "credreg.level": Words("等级", "level"),
    "credreg.gradeTitle": Words("职称", "grade title"),
    "credreg.issuedOn": Words("发证日期", "date of issue"),
    "credreg.validUntil": Words("有效期至", "valid until"),
    "credreg.assessment.date": Words("考核日期", "assessment date"),
    "credreg.assessment.sessionId": Words("考核批次", "assessment session"),
    "credreg.assessment.location": Words("考核地点", "assessment location"),
    "credreg.assessment.score": Words("成绩", "score"),
    "credreg.competition.name": Words("竞赛名称", "competition"),
    "credreg.competition.date": Words("竞赛日期", "competition date"),
    "credreg.competition.award": Words("奖项", "award"),
    "credreg.competition.rank": Words("名次", "rank"),
    # the groups a holder can hide whole
    "recipient": Words("持证人信息", "holder's details"),
    "credreg.assessment": Words("考核信息", "assessment"),
    "credreg.competition": Words("竞赛信息", "competition"),
}


def field_words(path: str) -> Words:
    return FIELD_LABELS.get(path) or Words(path, path)


KIND_NAMES: Final[dict[str, Words]] = {
    "skill_level": Words("职业技能等级证书", "vocational skill level certificate"),
    "technical_grade": Words("专业技术职称证书", "professional technical grade certificate"),
    "competition_award": Words("职业技能竞赛获奖证书", "skills competition award"),
}

AGENCY_STATES: Final[dict[str, Words]] = {
    "active": Words("正常", "active"),
    "suspended": Words("暂停", "suspended"),
    "revoked": Words("已撤销", "revoked"),
    "none": Words("未登记", "unknown"),
}

VERDICTS: Final[dict[str, Words]] = {
    "valid": Words("有效", "valid"),
    "not-accredited": Words("机构当时未获认定", "the agency was not accredited when it issued"),
    "issuer-key-unbound": Words("签发密钥未登记", "the signing key was not the agency's registered key"),
    "issuer-key-compromised": Words("签发密钥已泄露", "the signing key was reported compromised"),
    "status-mismatch": Words(
        "状态列表与账本不一致，请稍后重试", "the status list and the ledger disagree; try later"
    ),
    "malformed": Words("不是 credreg 证书文件", "not a credreg certificate file"),
    "tampered": Words("颁发后被改动", "changed after it was issued"),
    "invalid-proof": Words("不属于所声明的批次", "not part of the batch it names"),
    "wrong-registry": Words("属于其他登记系统或链", "belongs to another registry or chain"),
    "not-issued": Words("账本上无此记录", "not on the ledger"),
    "record-mismatch": Words("与账本记录不符", "differs from the ledger's record"),
    "revoked": Words("已撤销", "revoked"),
    "suspended": Words("已暂停", "suspended"),
    "expired": Words("已过期", "expired"),
    "agency-revoked": Words("颁发机构在颁发前已被撤销", "the agency was revoked before it issued"),
    "signer-compromised": Words("签名密钥在颁发前已泄露", "the signing key was compromised before issuance"),
    "chain-unreachable": Words("无法连接账本，请稍后重试", "the ledger could not be reached; try later"),
    "offline": Words("未查询账本，不能确认已颁发", "no ledger consulted; not known to be issued"),
    "unreadable": Words("文件无法读取", "the file could not be read"),
}

NOTES: Final[dict[str, Words]] = {
    "agency-suspended": Words(
        "颁发机构目前处于暂停状态；本证书颁发时该机构正常运营，证书仍然有效",
        "the issuing agency is suspended now; this certificate was issued while it was active and "
        "stays valid",
    ),
    "agency-not-trusted": Words(
        "颁发机构不在您的信任列表中，请向主管部门核实",
        "the issuing agency is not on your trust list; check with the governor",
    ),
}


# What `credreg issue` says of a batch issued before, and of a dry run (templates for `str.format`).
ISSUE_MESSAGES: Final[dict[str, Words]] = {
    "already-issued": Words(
        "已颁发：此文件即批次 {root}（{count} 张证书，在 {out}），无需再做",
        "already issued: this file is batch {root} ({count} certificates in {out}); nothing to do",
    ),
    "forms-added": Words(
        "此文件即已颁发的批次 {root}，未向账本再发送任何内容；已按本批证书补写：{zh}",
        "this file is batch {root}, issued before: nothing was sent to the ledger again; wrote its {en} "
        "from the batch's own documents",
    ),
    "dry-run-new": Words(
        "试运行：已读取、校验并加盐哈希 {count} 张证书，默克尔根为 {root}（正式颁发会重新加盐，根将不同）；"
        "证书正文约 {mb} MB；未写入、未发送任何内容",
        "dry run: read, checked, salted and hashed {count} certificates; their merkle tree's root is {root} "
        "(a real run salts them afresh, so its root will differ); about {mb} MB of certificate text; "
        "nothing was written, and nothing was sent",
    ),
    "dry-run-resume": Words(
        "试运行：此批次已开始，正式运行将续办并使用日志中的根 {root}（{count} 张证书）；未写入、未发送任何内容",
        "dry run: this batch was started before; a real run resumes it under the root its journal names, "
        "{root} ({count} certificates); nothing was written, and nothing was sent",
    ),
    "dry-run-done": Words(
        "试运行：此文件即已颁发的批次 {root}（{count} 张证书），未发送任何内容，正式运行也不会再发送{zh}",
        "dry run: this file is batch {root}, issued before ({count} certificates): nothing was sent, and a "
        "real run sends nothing again{en}",
    ),
    "form-archive": Words("归档", "archive"),
    "form-files": Words("逐张证书文件", "document files"),
}


# --- verification reports and look-ups, for the web page -----------------------------------------

OUTCOMES: Final[dict[str, Words]] = {
    "valid": Words("有效", "Valid"),
    "invalid": Words("无效", "Not valid"),
    "error": Words("无法核验", "Could not verify"),
}

# code -> (short name, one-sentence summary)
CODES: Final[dict[str, tuple[Words, Words]]] = {
    "valid": (
        Words("证书有效", "Valid"),
        Words(
            "有效：由具备资质的机构签发，内容未改动，未被撤销、暂停，也未过期。",
            "Valid: issued by an accredited agency, unchanged, not revoked, suspended or expired.",
        ),
    ),
    "malformed": (
        Words("不是证书文件", "Not a certificate file"),
        Words("这个文件不是 credreg 证书。", "The file is not a credreg document."),
    ),
    "tampered": (
        Words("内容被篡改", "Tampered"),
        Words("证书签发后内容被改动过。", "The document was changed after it was issued."),
    ),
    "invalid-proof": (
        Words("不属于所称批次", "Not part of its batch"),
        Words("证书不属于它所声称的批次。", "The document does not belong to the batch it claims."),
    ),
    "wrong-registry": (
        Words("属于其他登记簿", "Another registry"),
        Words(
            "证书属于其他登记簿或其他链，无法在此核验。",
            "The document belongs to another registry or chain; it cannot be checked here.",
        ),
    ),
    "not-issued": (
        Words("未在链上登记", "Not issued"),
        Words(
            "账本上没有这份证书所属批次的记录：它从未签发。",
            "The ledger has no record of this document: it was never issued.",
        ),
    ),
    "record-mismatch": (
        Words("与链上记录不符", "Differs from the ledger"),
        Words("证书内容与账本记录不一致。", "The document's details differ from what the ledger recorded."),
    ),
    "revoked": (Words("已撤销", "Revoked"), Words("证书已被撤销。", "The credential was revoked.")),
    "suspended": (Words("已暂停", "Suspended"), Words("证书已被暂停。", "The credential is suspended.")),
    "expired": (Words("已过期", "Expired"), Words("证书已过期。", "The credential has expired.")),
    "agency-revoked": (
        Words("发证机构已被撤销", "Agency revoked"),
        Words(
            "签发这份证书之前，发证机构已被撤销。",
            "The issuing agency was revoked before this credential was issued.",
        ),
    ),
    "not-accredited": (
        Words("机构当时未获认定", "Agency not accredited"),
        Words(
            "签发时，该评价机构不具备此职业范围的评价资格。",
            "The agency was not accredited for this scope when it issued.",
        ),
    ),
    "issuer-key-unbound": (
        Words("签发密钥未登记", "Signing key not registered"),
        Words(
            "签发这份电子证书的密钥，在签发时并非该机构在账本上登记的密钥。",
            "The key that signed this credential was not the agency's registered key for that time.",
        ),
    ),
    "issuer-key-compromised": (
        Words("签发密钥已泄露", "Signing key compromised"),
        Words(
            "签发这份电子证书的密钥已被报告泄露。",
            "The key that signed this credential was reported compromised.",
        ),
    ),
    "status-mismatch": (
        Words("状态列表与账本不一致", "Status list and ledger disagree"),
        Words(
            "公布的状态列表与账本记录不一致，暂无法确认状态，请稍后重试。",
            "The published status list and the ledger disagree; try again later.",
        ),
    ),
    "signer-compromised": (
        Words("签名密钥已泄露", "Signing key compromised"),
        Words(
            "签发这份证书之前，签名密钥已被报告泄露。",
            "The key that signed this credential was compromised before it was issued.",
        ),
    ),
    "chain-unreachable": (
        Words("账本暂不可用", "Ledger unreachable"),
        Words("暂时无法连接账本，请稍后再试。", "The ledger could not be reached; try again later."),
    ),
    "offline": (
        Words("未查询账本", "Ledger not consulted"),
        Words(
            "证书内容完整，但未查询账本：不能确定它已签发。",
            "The document is intact, but no ledger was consulted: it is not known to be issued.",
        ),
    ),
}

STEPS: Final[dict[str, Words]] = {
    "format": Words("文件格式正确", "The file is a credreg OpenAttestation v2 document"),
    "integrity": Words("内容未被改动", "No field was changed since the agency signed"),
    "merkle-proof": Words("属于所称批次", "The document belongs to its batch's merkle root"),
    "registry": Words("属于本登记簿", "The document names this registry and chain"),
    "issued": Words("批次已上链登记", "The root is recorded on the ledger"),
    "record-match": Words(
        "与链上记录一致", "The document's agency, scope and validity match the ledger record"
    ),
    "accredited": Words("机构具备资质", "The agency was accredited for the scope when it issued"),
    "signer": Words("签名密钥有效", "The signing key was valid and not compromised at issuance"),
    "agency-standing": Words("机构未在签发前被撤销", "The agency was not revoked before issuing"),
    "not-revoked": Words("未撤销或暂停", "Neither the document nor its batch is revoked or suspended"),
    "not-expired": Words("未过期", "The credential has not expired"),
}

STEP_STATUS: Final[dict[str, Words]] = {
    "valid": Words("通过", "passed"),
    "invalid": Words("未通过", "failed"),
    "error": Words("出错", "error"),
    "skipped": Words("跳过", "skipped"),
}

_T = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC|never)"  # verify.py's times, which the page shows in its zone
_H = r"(0x[0-9a-fA-F]+)"
STEP_REASONS: Final[tuple[tuple[str, Words], ...]] = (
    (
        r"^(.+) certificate, OpenAttestation v2$",
        Words("{kind1}，OpenAttestation v2 格式", "{kind1}, OpenAttestation v2"),
    ),
    (
        r"^all fields match the target hash$",
        Words("所有字段与目标哈希一致", "all fields match the target hash"),
    ),
    (
        r"^all fields match the target hash; (\d+) hidden by the holder$",
        Words(
            "所有字段与目标哈希一致；持证人隐藏了 {1} 个字段",
            "all fields match the target hash; {1} hidden by the holder",
        ),
    ),
    (
        r"^the fields do not add up to the signed target hash$",
        Words("字段与签发时的目标哈希不一致", "the fields do not add up to the signed target hash"),
    ),
    (r"^single document$", Words("单份证书（批次只有这一份）", "single document")),
    (
        r"^proof of (\d+) steps leads to the root$",
        Words("{1} 步证明通向批次根", "proof of {1} steps leads to the root"),
    ),
    (
        r"^the proof does not lead from the target hash to the merkle root$",
        Words(
            "证明不能从目标哈希通向默克尔根",
            "the proof does not lead from the target hash to the merkle root",
        ),
    ),
    (
        r"^the ledger rejects the proof for this root$",
        Words("账本拒绝了该批次的证明", "the ledger rejects the proof for this root"),
    ),
    (
        r"^registry " + _H + r" on chain (\d+), agency (\d+)'s document store " + _H + "$",
        Words(
            "登记簿 {1}，链 {2}，机构 {3} 的存证合约 {4}",
            "registry {1} on chain {2}, agency {3}'s document store {4}",
        ),
    ),
    (
        r"^the document names registry "
        + _H
        + r" on chain (\d+); this verifier reads "
        + _H
        + r" on chain (\d+)$",
        Words(
            "证书指向链 {2} 上的登记簿 {1}；本服务读取的是链 {4} 上的 {3}",
            "the document names registry {1} on chain {2}; this verifier reads {3} on chain {4}",
        ),
    ),
    (
        r"^root " + _H + r" is not on the ledger$",
        Words("批次根 {1} 不在账本上", "root {1} is not on the ledger"),
    ),
    (
        r"^recorded at " + _T + r" by agency (\d+)$",
        Words("{1} 由机构 {2} 登记", "recorded at {1} by agency {2}"),
    ),
    (
        r"^agency (.+), scope ([0-9-]+) level (\d+)$",
        Words("机构 {1}，职业 {2}，{level3}", "agency {1}, occupation {2}, {level3}"),
    ),
    (
        r"^the registry checked accreditation for (.+) when it recorded the root at " + _T + "$",
        Words(
            "登记簿在 {2} 登记时核对了“{1}”的资质",
            "the registry checked accreditation for {1} when it recorded the root at {2}",
        ),
    ),
    (
        r"^key " + _H + r" was valid when it signed$",
        Words("签名时密钥 {1} 有效", "key {1} was valid when it signed"),
    ),
    (
        r"^key " + _H + r" was reported compromised since " + _T + r", before this credential was issued$",
        Words(
            "密钥 {1} 已被报告自 {2} 起泄露，早于本证书签发",
            "key {1} was reported compromised since {2}, before this credential was issued",
        ),
    ),
    (
        r"^agency (.+) was revoked with cut-off " + _T + r", at or before issuance$",
        Words(
            "机构 {1} 已被撤销，截止时间 {2} 不晚于签发时间",
            "agency {1} was revoked with cut-off {2}, at or before issuance",
        ),
    ),
    (r"^agency is (active|suspended|revoked)$", Words("机构状态：{state1}", "agency is {state1}")),
    (
        r"^agency is suspended now; it was active when it issued this credential$",
        Words(
            "机构目前已暂停；签发本证书时机构处于正常状态",
            "agency is suspended now; it was active when it issued this credential",
        ),
    ),
    # A record that does not match names each difference, joined by "; " (the page words each part).
    (
        r"^agency (\d+) in the document, (\d+) on the ledger$",
        Words("证书上为机构 {1}，账本上为机构 {2}", "agency {1} in the document, {2} on the ledger"),
    ),
    (
        r"^scope " + _H + r" in the document, " + _H + r" on the ledger$",
        Words("证书上的职业范围为 {1}，账本上为 {2}", "scope {1} in the document, {2} on the ledger"),
    ),
    (
        r"^valid until " + _T + r" in the document, " + _T + r" on the ledger$",
        Words(
            "证书上的有效期至 {1}，账本上为 {2}",
            "valid until {1} in the document, {2} on the ledger",
        ),
    ),
    (
        r"^agency is (revoked); its cut-off " + _T + r" falls after this credential$",
        Words(
            "机构已被撤销；其截止时间 {2} 晚于本证书签发",
            "agency is revoked; its cut-off {2} falls after this credential",
        ),
    ),
    (
        r"^(this document|part of its batch|its whole batch) was revoked at "
        + _T
        + r" \(reason code (\d+)\)$",
        Words("{which1}于 {2} 被撤销（原因：{reason3}）", "{which1} was revoked at {2} ({reason3})"),
    ),
    (
        r"^(this document|part of its batch|its whole batch) is suspended since "
        + _T
        + r" \(reason code (\d+)\)$",
        Words("{which1}自 {2} 起暂停（原因：{reason3}）", "{which1} is suspended since {2} ({reason3})"),
    ),
    (
        r"^not revoked; the ledger reports a suspension only when nothing weightier applies$",
        Words(
            "未被撤销；账本只在没有更重要的原因时才报告暂停",
            "not revoked; the ledger reports a suspension only when nothing weightier applies",
        ),
    ),
    (r"^neither revoked nor suspended$", Words("既未撤销也未暂停", "neither revoked nor suspended")),
    (r"^expired at " + _T + "$", Words("已于 {1} 过期", "expired at {1}")),
    (r"^no expiry$", Words("长期有效", "no expiry")),
    (r"^valid until " + _T + "$", Words("有效期至 {through1}", "valid until {through1}")),
    (
        r"^not needed: an earlier step decided$",
        Words("无需检查：前面的步骤已得出结论", "not needed: an earlier step decided"),
    ),
    (r"^the document is not intact$", Words("证书内容不完整", "the document is not intact")),
    (r"^the file could not be read$", Words("文件无法读取", "the file could not be read")),
    (
        r"^the document is not part of its batch$",
        Words("证书不属于其批次", "the document is not part of its batch"),
    ),
    (
        r"^nothing on the ledger to compare with$",
        Words("账本上没有可比对的记录", "nothing on the ledger to compare with"),
    ),
    (
        r"^the document does not match its record$",
        Words("证书与链上记录不一致", "the document does not match its record"),
    ),
    (r"^checked against another registry$", Words("针对的是其他登记簿", "checked against another registry")),
    (r"^the ledger could not be reached$", Words("无法连接账本", "the ledger could not be reached")),
    (r"^no ledger consulted$", Words("未查询账本", "no ledger consulted")),
)
"""verify.py's step reasons as patterns: ``{n}`` is the n-th group; ``{kindN}``, ``{levelN}``, ``{stateN}``,
``{whichN}``, ``{reasonN}`` are the group read through the tables below, ``{throughN}`` an exclusive end of
validity as the last day it covers; times are shown in the view's zone.
A reason no pattern matches is shown as the service wrote it, in English."""

PHRASES: Final[dict[str, dict[str, Words]]] = {
    "kind": {
        "skill level": Words("职业技能等级证书", "skill level certificate"),
        "technical grade": Words("专业技术等级证书", "technical grade certificate"),
        "competition award": Words("职业技能竞赛获奖证书", "competition award certificate"),
    },
    "which": {
        "this document": Words("本证书", "this document"),
        "part of its batch": Words("其批次的一部分", "part of its batch"),
        "its whole batch": Words("其整个批次", "its whole batch"),
    },
}

# --- ledger look-ups ---------------------------------------------------------------------------------------

LEDGER_VERDICTS: Final[dict[str, Words]] = {
    "valid": Words("已登记，状态正常", "On the ledger, in good standing"),
    "not-issued": Words("批次未在链上登记", "The batch is not on the ledger"),
    "invalid-proof": Words("证明无效", "The proof does not lead to the root"),
    "root-revoked": Words("整批已撤销", "Revoked: the whole batch"),
    "node-revoked": Words("所在批次的一部分已撤销", "Revoked: part of the batch"),
    "leaf-revoked": Words("已撤销", "Revoked: this certificate"),
    "root-suspended": Words("整批已暂停", "Suspended: the whole batch"),
    "node-suspended": Words("所在批次的一部分已暂停", "Suspended: part of the batch"),
    "leaf-suspended": Words("已暂停", "Suspended: this certificate"),
    "agency-revoked": Words("发证机构在签发前已被撤销", "The issuing agency was revoked before issuing"),
    "signer-compromised": Words("签名密钥在签发前已泄露", "The signing key was compromised before issuing"),
    "expired": Words("已过期", "Expired"),
}


# --- the audit timeline ---------------------------------------------------------------------------

EVENTS: Final[dict[str, Words]] = {
    "ScopeDefined": Words("定义职业范围", "Scope defined"),
    "AgencyRegistered": Words("登记评价机构", "Agency registered"),
    "AgencyAdminTransferred": Words("机构管理员变更", "Agency admin transferred"),
    "AgencySuspended": Words("机构暂停", "Agency suspended"),
    "AgencyReinstated": Words("机构恢复", "Agency reinstated"),
    "AgencyRevoked": Words("机构撤销", "Agency revoked"),
    "AgencyAccredited": Words("授予资质", "Agency accredited"),
    "AccreditationWithdrawn": Words("撤回资质", "Accreditation withdrawn"),
    "SignerAdded": Words("添加签名密钥", "Signer added"),
    "SignerRetired": Words("停用签名密钥", "Signer retired"),
    "SignerCompromised": Words("签名密钥泄露", "Signer compromised"),
    "CredentialIssued": Words("发证", "Credentials issued"),
    "CredentialStatusChanged": Words("证书状态变更", "Credential status changed"),
    "OwnershipTransferStarted": Words("管理部门移交发起", "Governor transfer started"),
    "OwnershipTransferred": Words("管理部门移交", "Governor transferred"),
    "ScopeRetired": Words("停用职业范围", "Scope retired"),
    "IssuerKeyAdded": Words("添加电子证书签发密钥", "VC issuer key added"),
    "IssuerKeyRetired": Words("停用电子证书签发密钥", "VC issuer key retired"),
    "IssuerKeyCompromised": Words("电子证书签发密钥泄露", "VC issuer key compromised"),
}

ACTIONS: Final[dict[int, Words]] = {
    1: Words("撤销", "revoke"),
    2: Words("暂停", "suspend"),
    3: Words("恢复", "reinstate"),
}

EVENT_FIELDS: Final[dict[str, Words]] = {
    "scopeId": Words("职业范围", "Scope"),
    "occupationCode": Words("职业编码", "Occupation code"),
    "level": Words("等级", "Level"),
    "title": Words("名称", "Title"),
    "name": Words("名称", "Name"),
    "registrationCode": Words("登记代码", "Registration code"),
    "admin": Words("管理员", "Admin"),
    "previousAdmin": Words("原管理员", "Previous admin"),
    "newAdmin": Words("新管理员", "New admin"),
    "signer": Words("签名密钥", "Signer"),
    "validFrom": Words("起始", "From"),
    "validUntil": Words("截止", "Until"),
    "issuedAt": Words("签发时间", "Issued"),
    "since": Words("起始时间", "Since"),
    "cutoff": Words("截止时间", "Cut-off"),
    "action": Words("操作", "Action"),
    "reason": Words("原因", "Reason"),
    "nonce": Words("序号", "Nonce"),
    "byGovernor": Words("由管理部门", "By the governor"),
    "previousOwner": Words("原管理部门", "Previous governor"),
    "newOwner": Words("新管理部门", "New governor"),
    "index": Words("序号", "Index"),
    "scopeIndex": Words("职业范围序号", "Scope number"),
    "signerIndex": Words("密钥序号", "Key number"),
    "agencyId": Words("机构编号", "Agency id"),
}


# --- the audit report's sentences ------------------------------------------------------------------
# Templates for `str.format`; `credreg.audit.render` fills them in. Both languages take the same fields.

AUDIT_SENTENCES: Final[dict[str, Words]] = {
    # One governance event of the timeline and of an agency's history.
    "OwnershipTransferStarted": Words(
        "主管部门 {previous} 提议 {new} 为下一任主管部门",
        "governor {previous} proposed {new} as the next governor",
    ),
    "registry-deployed": Words("登记合约已部署；主管部门 {new}", "registry deployed; governor {new}"),
    "OwnershipTransferred": Words(
        "主管部门由 {previous} 移交给 {new}", "governance passed from {previous} to {new}"
    ),
    "ScopeDefined": Words(
        "定义职业范围 {code} {level} 级：{title}", "scope {code} level {level} defined: {title}"
    ),
    "AgencyRegistered": Words(
        "{agency} 登记：{name}（{code}），管理员 {admin}",
        "{agency} registered: {name} ({code}), admin {admin}",
    ),
    "AgencyAdminTransferred": Words(
        "{agency} 管理员由 {previous} 变更为 {new}", "{agency} admin changed from {previous} to {new}"
    ),
    "AgencySuspended": Words("{agency} 暂停（原因 {reason}）", "{agency} suspended (reason {reason})"),
    "AgencyReinstated": Words("{agency} 恢复", "{agency} reinstated"),
    "AgencyRevoked": Words(
        "{agency} 撤销（原因 {reason}）；其自 {cutoff} 起签发的证书无效",
        "{agency} revoked (reason {reason}); its credentials issued from {cutoff} are invalid",
    ),
    "AgencyAccredited": Words(
        "{agency} 获得 {scope} 资质，{window}", "{agency} accredited for {scope}, {window}"
    ),
    "AccreditationWithdrawn": Words(
        "{agency} 的 {scope} 资质被撤回，有效期现为 {window}",
        "{agency} accreditation for {scope} withdrawn, window now {window}",
    ),
    "SignerAdded": Words(
        "{agency} 添加签名密钥 {signer}，{window}", "{agency} signer {signer} added, {window}"
    ),
    "SignerRetired": Words(
        "{agency} 停用签名密钥 {signer}，有效期现为 {window}",
        "{agency} signer {signer} retired, window now {window}",
    ),
    "SignerCompromised": Words(
        "{agency} 签名密钥 {signer} 报告自 {since} 起泄露",
        "{agency} signer {signer} reported compromised since {since}",
    ),
    # The names those sentences use.
    "agency": Words("机构 {id}", "agency {id}"),
    "scope": Words("{code} {level} 级", "{code} level {level}"),
    "unknown-scope": Words("职业范围 {id}", "scope {id}"),
    # An agency's activity on one day of the timeline.
    "activity": Words("{day}：机构 {agency} {parts}", "{day}: agency {agency} {parts}"),
    "activity-separator": Words("，", ", "),
    "activity-issued": Words("签发 {n} 批", "issued {n} root(s)"),
    "activity-revoke": Words("撤销 {n} 项", "revoked {n}"),
    "activity-suspend": Words("暂停 {n} 项", "suspended {n}"),
    "activity-reinstate": Words("恢复 {n} 项", "reinstated {n}"),
    "activity-other": Words("{what} {n}", "{what} {n}"),
    # One credential's events.
    "CredentialIssued": Words(
        "机构 {agency} 签发批次根 {root}（签名密钥 {signer}）{expiry}",
        "root {root} issued by agency {agency} (signer {signer}){expiry}",
    ),
    "credential-expiry": Words("，有效期至 {until}", ", valid until {until}"),
    "CredentialStatusChanged": Words(
        "{target} 由{who}{action}，原因 {reason}", "{target} {action} by {who}, reason {reason}"
    ),
    "status-revoked": Words("撤销", "revoked"),
    "status-suspended": Words("暂停", "suspended"),
    "status-reinstated": Words("恢复", "reinstated"),
    "status-other": Words("操作 {action}", "action {action}"),
    "by-governor": Words("主管部门", "the governor"),
    "by-agency": Words("机构 {agency}（签名密钥 {actor}）", "agency {agency} (signer {actor})"),
    # Whether one credential was valid at a moment, and why not.
    "answer-valid": Words("于 {at} 有效", "valid at {at}"),
    "answer-not-issued": Words("截至 {at} 未签发", "not issued as of {at}"),
    "answer-invalid-proof": Words(
        "证明不能从此哈希通向批次根", "the proof does not lead from this hash to the root"
    ),
    "answer-expired": Words("已于 {since} 过期", "expired at {since}"),
    "answer-agency-revoked": Words(
        "发证机构已被撤销，截止时间 {since} 不晚于签发时间",
        "the issuing agency was revoked with cut-off {since}, at or before issuance",
    ),
    "answer-signer-compromised": Words(
        "签名密钥报告自 {since} 起泄露，不晚于签发时间",
        "the signer key was reported compromised since {since}, at or before issuance",
    ),
    "answer-other": Words(
        "{verdict}（{target}），自 {since} 起，原因 {reason}",
        "{verdict} ({target}) since {since}, reason {reason}",
    ),
    "retroactive-agency": Words("其机构被撤销，截止时间为", "its agency was revoked with cut-off"),
    "retroactive-signer": Words("其签名密钥报告泄露，自", "its signer key was reported compromised since"),
    "retroactive": Words(
        "账本显示其于 {then} 有效，但后来{what} {when}，不晚于其签发时间 {issued}：自签发起即视为无效",
        "the ledger showed it valid at {then}, but later {what} {when}, at or before its issuance at {issued}: "
        "it counts as invalid from issuance on",
    ),
}


# --- uploads of a batch's leaves in parts -----------------------------------------------------------------
#: The problems of `POST /v1/batches/uploads` and its parts: titles, then details as templates (`{name}`).
UPLOAD_PROBLEMS: Final[dict[str, Words]] = {
    "upload-not-found": Words("没有这个上传（已放弃或已过期）", "No such upload (discarded or expired)"),
    "upload-too-large": Words("上传的叶子过多", "The upload has too many leaves"),
    "upload-part-out-of-order": Words("上传部分的顺序不对", "The upload's part is out of order"),
    "upload-part-conflict": Words(
        "此部分已收到，内容不同", "This part was received already, with other leaves"
    ),
    "upload-incomplete": Words("上传尚未完成", "The upload is not complete"),
    "upload-limit": Words("该机构未完成的上传过多", "The agency has too many open uploads"),
    "invalid-leaf": Words("叶子不是 32 字节的哈希", "A leaf is not a 32-byte hash"),
    "duplicate-leaf": Words("同一个叶子出现两次", "The same leaf is sent twice"),
    "upload.not_found": Words(
        "上传 {id} 不存在（已放弃，或超过 {hours} 小时未续传而过期）",
        "there is no upload {id} (discarded, or expired after {hours} h idle)",
    ),
    "upload.too_many": Words(
        "上传声明 {count} 个叶子，本服务一次最多接收 {limit} 个",
        "the upload declares {count} leaves; this service takes at most {limit} in one upload",
    ),
    "upload.open_limit": Words(
        "机构 {agency} 已有 {open} 个未完成的上传，先完成或放弃其中之一",
        "agency {agency} has {open} open uploads already; finish or discard one first",
    ),
    "upload.out_of_order": Words(
        "收到第 {part} 部分，下一个应为第 {next} 部分（已确认 {parts} 部分）",
        "part {part} arrived; the next part is {next} ({parts} part(s) acknowledged)",
    ),
    "upload.no_part": Words(
        "上传共 {total} 部分，没有第 {part} 部分", "the upload has {total} part(s), no part {part}"
    ),
    "upload.part_size": Words(
        "第 {part} 部分应有 {want} 个叶子，收到 {got} 个", "part {part} must hold {want} leaves, not {got}"
    ),
    "upload.part_conflict": Words(
        "第 {part} 部分已确认，但这次的叶子不同（第 {index} 个）",
        "part {part} was acknowledged with other leaves (they differ at leaf {index})",
    ),
    "upload.bad_leaf": Words(
        "第 {part} 部分的第 {index} 个叶子 {leaf} 不是 0x 加 64 个十六进制数字",
        "leaf {index} of part {part}, {leaf}, is not 0x followed by 64 hex digits",
    ),
    "upload.duplicate": Words(
        "叶子 {leaf}（第 {part} 部分第 {index} 个）已在本上传中出现过",
        "leaf {leaf} (leaf {index} of part {part}) was sent before in this upload",
    ),
    "upload.incomplete": Words(
        "已收到 {received} / {count} 个叶子；从第 {next} 部分继续上传",
        "{received} of {count} leaves received; go on from part {next}",
    ),
    "upload.hash": Words(
        "收到的叶子的哈希为 {got}，与签名的 leaves_hash {want} 不符；上传已放弃",
        "the leaves received hash to {got}, not the signed leaves_hash {want}; the upload is discarded",
    ),
    "upload.root": Words(
        "收到的叶子构成的默克尔根为 {got}，不是批次的根 {want}；上传已放弃",
        "the leaves received build merkle root {got}, not the batch's root {want}; the upload is discarded",
    ),
}


def labels_document(time_zone: str | None = None) -> dict[str, Any]:
    """Every table as JSON (`{table: {key: {"zh": …, "en": …}}}`), with the version and the time zone views
    show times in (default: credreg's): what `GET /v1/labels` serves."""
    # Not at the top: the CLI reads these tables on every start, and the settings module costs 0.1 s to load.
    from credreg.config import DEFAULT_TIME_ZONE

    def table(entries: dict[Any, Words]) -> dict[str, dict[str, str]]:
        return {str(key): words._asdict() for key, words in entries.items()}

    reasons = table(REASON_CODES)
    return {
        "version": __version__,
        "time_zone": time_zone or DEFAULT_TIME_ZONE,
        "languages": ["zh", "en"],
        "contract_errors": table(CONTRACT_ERRORS),
        "reason_codes": reasons,
        "reasons": reasons,
        "levels": {kind: table(levels) for kind, levels in LEVEL_NAMES.items()},
        "fields": table(FIELD_LABELS),
        "kinds": table(KIND_NAMES),
        "agency_states": table(AGENCY_STATES),
        "verdict_codes": table(VERDICTS),
        "notes": table(NOTES),
        "verdicts": table(OUTCOMES),
        "codes": {
            k: {"name": name._asdict(), "summary": summary._asdict()} for k, (name, summary) in CODES.items()
        },
        "steps": table(STEPS),
        "step_status": table(STEP_STATUS),
        "step_reasons": [{"pattern": pattern, **label._asdict()} for pattern, label in STEP_REASONS],
        "phrases": {group: table(entries) for group, entries in PHRASES.items()},
        "ledger_verdicts": table(LEDGER_VERDICTS),
        "events": table(EVENTS),
        "event_fields": table(EVENT_FIELDS),
        "actions": table(ACTIONS),
    }


__all__ = [
    "ACTIONS",
    "AGENCY_STATES",
    "AUDIT_SENTENCES",
    "CODES",
    "CONTRACT_ERRORS",
    "EVENTS",
    "EVENT_FIELDS",
    "FIELD_LABELS",
    "ISSUE_MESSAGES",
    "KIND_NAMES",
    "LEDGER_VERDICTS",
    "LEVEL_NAMES",
    "NOTES",
    "OUTCOMES",
    "PHRASES",
    "REASON_CODES",
    "STEPS",
    "STEP_REASONS",
    "STEP_STATUS",
    "UPLOAD_PROBLEMS",
    "VERDICTS",
    "Words",
    "contract_error_words",
    "field_words",
    "labels_document",
    "level_words",
    "reason_words",
]
