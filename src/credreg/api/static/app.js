// The employer's and auditor's page. Plain DOM, no framework and no build step, so the service can serve it
// offline as it is. Everything from the API or from a dropped file is inserted as text, never as HTML.
"use strict";

(() => {
  const MAX_FILE_BYTES = 2 * 1024 * 1024;
  const BATCH = 50; // documents per POST, below the service's default batch limit
  const PAGE = 100; // audit events per page

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // A Chinese label with its English twin; the English half is marked so screen readers switch voice.
  function bi(zh, en) {
    return el("span", { class: "bi" }, zh, " ", el("span", { lang: "en" }, en));
  }

  // --- words ---------------------------------------------------------------------------------------------

  const VERDICTS = {
    valid: ["有效", "Valid"],
    invalid: ["无效", "Not valid"],
    error: ["无法核验", "Could not verify"],
  };

  const CODES = {
    valid: ["证书有效", "Valid"],
    malformed: ["不是证书文件", "Not a certificate file"],
    tampered: ["内容被篡改", "Tampered"],
    "invalid-proof": ["不属于所称批次", "Not part of its batch"],
    "wrong-registry": ["属于其他登记簿", "Another registry"],
    "not-issued": ["未在链上登记", "Not issued"],
    "record-mismatch": ["与链上记录不符", "Differs from the ledger"],
    revoked: ["已撤销", "Revoked"],
    suspended: ["已暂停", "Suspended"],
    expired: ["已过期", "Expired"],
    "agency-revoked": ["发证机构已被撤销", "Agency revoked"],
    "signer-compromised": ["签名密钥已泄露", "Signing key compromised"],
    "chain-unreachable": ["账本暂不可用", "Ledger unreachable"],
    offline: ["未查询账本", "Ledger not consulted"],
    "not-json": ["不是 JSON 文件", "Not a JSON file"],
    "too-large": ["文件过大", "File too large"],
    "request-failed": ["请求失败", "Request failed"],
  };

  const STEP_NAMES = {
    format: "文件格式",
    integrity: "内容完整",
    "merkle-proof": "批次证明",
    registry: "登记簿",
    issued: "已上链登记",
    "record-match": "与链上记录一致",
    accredited: "机构具备资质",
    signer: "签名密钥有效",
    "agency-standing": "机构状态",
    "not-revoked": "未撤销或暂停",
    "not-expired": "未过期",
  };

  const STEP_STATUS = {
    valid: ["✓", "通过", "passed"],
    invalid: ["✗", "未通过", "failed"],
    error: ["!", "出错", "error"],
    skipped: ["–", "跳过", "skipped"],
  };

  const AGENCY_STATES = {
    active: ["正常", "active"],
    suspended: ["暂停", "suspended"],
    revoked: ["已撤销", "revoked"],
    none: ["未登记", "unknown"],
  };

  const EVENTS = {
    ScopeDefined: ["定义职业范围", "Scope defined"],
    AgencyRegistered: ["登记评价机构", "Agency registered"],
    AgencyAdminTransferred: ["机构管理员变更", "Agency admin transferred"],
    AgencySuspended: ["机构暂停", "Agency suspended"],
    AgencyReinstated: ["机构恢复", "Agency reinstated"],
    AgencyRevoked: ["机构撤销", "Agency revoked"],
    AgencyAccredited: ["授予资质", "Agency accredited"],
    AccreditationWithdrawn: ["撤回资质", "Accreditation withdrawn"],
    SignerAdded: ["添加签名密钥", "Signer added"],
    SignerRetired: ["停用签名密钥", "Signer retired"],
    SignerCompromised: ["签名密钥泄露", "Signer compromised"],
    CredentialIssued: ["发证", "Credentials issued"],
    CredentialStatusChanged: ["证书状态变更", "Credential status changed"],
    OwnershipTransferStarted: ["管理部门移交发起", "Governor transfer started"],
    OwnershipTransferred: ["管理部门移交", "Governor transferred"],
  };

  const ACTIONS = { 1: ["撤销", "revoke"], 2: ["暂停", "suspend"], 3: ["恢复", "reinstate"] };

  // Events only the governor can cause carry no actor argument: the governor is the actor.
  const GOVERNOR_EVENTS = new Set([
    "ScopeDefined",
    "AgencyRegistered",
    "AgencySuspended",
    "AgencyReinstated",
    "AgencyRevoked",
    "AgencyAccredited",
    "AccreditationWithdrawn",
  ]);

  const TIME_KEYS = /(^|_)(at|since|until|from|cutoff|time)$|At$|Since$|Until$|From$|^cutoff$|^since$/;

  // --- formatting ----------------------------------------------------------------------------------------

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // Times show in China Standard Time, the zone certificates' dates are written in (see expiry_timestamp).
  const ZONE_SECONDS = 8 * 3600;
  const ZONE = "UTC+8";

  function zoned(seconds) {
    return new Date((seconds + ZONE_SECONDS) * 1000);
  }

  function day(d) {
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  }

  function when(seconds) {
    if (seconds === null || seconds === undefined || seconds === "") return null;
    const n = Number(seconds);
    if (!Number.isFinite(n) || n <= 0) return "—";
    const d = zoned(n);
    return `${day(d)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${ZONE}`;
  }

  // Ends of validity are exclusive; one at midnight means "through the day before", as printed on paper.
  function through(seconds) {
    const n = Number(seconds);
    if (!Number.isFinite(n) || n <= 0) return null;
    const d = zoned(n);
    if (d.getUTCHours() || d.getUTCMinutes() || d.getUTCSeconds()) return `至 until ${when(n)}`;
    return `${day(zoned(n - 1))} (含当日 through that day, ${ZONE})`;
  }

  function shortHash(value) {
    const text = String(value);
    return text.length > 18 ? `${text.slice(0, 10)}…${text.slice(-6)}` : text;
  }

  function hashNode(value) {
    if (!value) return "—";
    return el("code", { class: "hash", title: String(value) }, String(value));
  }

  function shortNode(value) {
    return el("code", { class: "hash", title: String(value) }, shortHash(value));
  }

  function humanKey(key) {
    return String(key)
      .replace(/([a-z])([A-Z])/g, "$1 $2")
      .replace(/_/g, " ")
      .replace(/^./, (c) => c.toUpperCase());
  }

  function valueNode(key, value) {
    if (value === null || value === undefined || value === "") return "—";
    if (typeof value === "boolean") return value ? "是 yes" : "否 no";
    if (typeof value === "number" && TIME_KEYS.test(key)) return when(value);
    if (typeof value === "string" && /^0x[0-9a-fA-F]{40,}$/.test(value)) return hashNode(value);
    if (Array.isArray(value)) {
      if (value.length === 0) return "—";
      return el("ul", { class: "plain" }, value.map((v) => el("li", {}, valueNode(key, v))));
    }
    if (typeof value === "object") return facts(Object.entries(value));
    return String(value);
  }

  // A definition list of [label, value] pairs; empty values are left out.
  function facts(pairs) {
    const dl = el("dl", { class: "facts" });
    for (const [label, value] of pairs) {
      if (value === null || value === undefined) continue;
      dl.append(
        el("dt", {}, typeof label === "string" ? humanKey(label) : label),
        el("dd", {}, value instanceof Node ? value : valueNode(typeof label === "string" ? label : "", value)),
      );
    }
    return dl;
  }

  // --- talking to the service ----------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(message, status, lines) {
      super(message);
      this.status = status;
      this.lines = lines || [];
    }
  }

  // Turns an RFC 9457 problem (or any failed answer) into sentences; the raw body is never shown.
  function problemOf(status, body, headers) {
    const lines = [];
    let message;
    if (body && typeof body === "object" && !Array.isArray(body)) {
      const title = typeof body.title === "string" ? body.title : "";
      const detail = typeof body.detail === "string" ? body.detail : "";
      message = [title, detail].filter(Boolean).join(": ");
      const errors = Array.isArray(body.errors) ? body.errors : Array.isArray(body.detail) ? body.detail : [];
      for (const e of errors) {
        if (!e || typeof e !== "object") continue;
        const where = e.field || e.pointer || (Array.isArray(e.loc) ? e.loc.join(".") : "");
        const what = e.message || e.msg || e.detail || e.reason || "";
        const line = [where, what].filter(Boolean).join(": ");
        // The detail already names the first field; list only what it does not say.
        if (line && !message.includes(line)) lines.push(line);
      }
    }
    if (!message) {
      message =
        {
          400: "请求无效 The request was refused",
          404: "未找到 Not found",
          413: "文件过大 The upload is too large for the service",
          422: "内容无效 The service could not accept this input",
          429: "请求过多 Too many requests; try again shortly",
          503: "账本暂不可用 The ledger is unavailable",
        }[status] || `服务出错 The service answered with HTTP ${status}`;
    }
    const retry = headers && headers.get("Retry-After");
    if (retry) lines.push(`请稍后重试 Try again in ${retry} s`);
    return new ApiError(message, status, lines);
  }

  async function api(path, options) {
    let response;
    try {
      response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
    } catch (err) {
      throw new ApiError("无法连接服务 The service could not be reached; check the connection", 0);
    }
    const type = response.headers.get("Content-Type") || "";
    let body = null;
    if (type.includes("json")) {
      try {
        body = await response.json();
      } catch (err) {
        body = null;
      }
    }
    if (!response.ok) throw problemOf(response.status, body, response.headers);
    if (body === null) throw new ApiError("服务的回答无法读取 The service's answer could not be read", response.status);
    return body;
  }

  function errorBox(err, context) {
    const box = el(
      "div",
      { class: "problem", role: "alert" },
      el("p", { class: "problem-title" }, context ? `${context}: ` : "", err.message || String(err)),
    );
    if (err.lines && err.lines.length) box.append(el("ul", {}, err.lines.map((l) => el("li", {}, l))));
    return box;
  }

  // --- verifying files -----------------------------------------------------------------------------------

  function verdictBanner(verdict, code, summary) {
    const [zh, en] = VERDICTS[verdict] || VERDICTS.error;
    const [czh, cen] = CODES[code] || [code, code];
    const icon = verdict === "valid" ? "✓" : verdict === "invalid" ? "✗" : "!";
    return el(
      "div",
      { class: `verdict verdict-${verdict in VERDICTS ? verdict : "error"}`, "data-verdict": verdict, "data-code": code },
      el("span", { class: "verdict-icon", "aria-hidden": "true" }, icon),
      el(
        "div",
        {},
        el("p", { class: "verdict-word" }, zh, " ", el("span", { lang: "en" }, en)),
        code && code !== "valid" ? el("p", { class: "verdict-code" }, czh, " · ", el("span", { lang: "en" }, cen)) : null,
        summary ? el("p", { class: "verdict-summary", lang: "en" }, summary) : null,
      ),
    );
  }

  function stepList(steps) {
    const list = el("ol", { class: "steps" });
    for (const step of steps || []) {
      const [mark, zh, en] = STEP_STATUS[step.status] || STEP_STATUS.error;
      list.append(
        el(
          "li",
          { class: `step step-${step.status}`, "data-step": step.name, "data-status": step.status },
          el("span", { class: "step-mark", "aria-hidden": "true" }, mark),
          el(
            "div",
            { class: "step-body" },
            el(
              "p",
              { class: "step-title" },
              STEP_NAMES[step.name] ? `${STEP_NAMES[step.name]} · ` : "",
              el("span", { lang: "en" }, step.title || step.name),
              el("span", { class: "step-status" }, ` — ${zh} `, el("span", { lang: "en" }, en)),
            ),
            step.reason ? el("p", { class: "step-reason", lang: "en" }, step.reason) : null,
          ),
        ),
      );
    }
    return list;
  }

  function agencyFacts(agency) {
    if (!agency) return null;
    const [szh, sen] = AGENCY_STATES[agency.state] || [agency.state, agency.state];
    return el(
      "section",
      { class: "block", "aria-label": "Agency" },
      el("h3", {}, bi("评价机构", "Evaluation agency")),
      facts([
        [bi("名称", "Name"), agency.name],
        [bi("登记代码", "Registration code"), agency.registration_code],
        [bi("机构编号", "Agency id"), agency.agency_id],
        [bi("状态", "Standing"), el("span", { class: `state state-${agency.state}` }, `${szh} ${sen}`)],
        [bi("资质起始", "Accredited from"), when(agency.accredited_from) || "—"],
        [bi("资质截止", "Accredited until"), agency.accredited_until ? through(agency.accredited_until) : "无期限 open-ended"],
        agency.revocation_cutoff ? [bi("撤销截止时间", "Revocation cut-off"), when(agency.revocation_cutoff)] : [null, null],
      ]),
    );
  }

  function scopeFacts(scope) {
    if (!scope) return null;
    return el(
      "section",
      { class: "block", "aria-label": "Scope" },
      el("h3", {}, bi("职业与等级", "Occupation and level")),
      facts([
        [bi("职业", "Occupation"), scope.title],
        [bi("职业编码", "Occupation code"), scope.occupation_code],
        [bi("等级", "Level"), scope.level],
      ]),
    );
  }

  function certificateFacts(report) {
    const hidden = report.hidden_fields || [];
    return el(
      "section",
      { class: "block", "aria-label": "Certificate" },
      el("h3", {}, bi("证书", "Certificate")),
      report.verdict === "valid"
        ? null
        : el("p", { class: "unconfirmed" }, "文件中所写，未经证实 ", el("span", { lang: "en" }, "As written in the file; not confirmed")),
      facts([
        [bi("证书编号", "Certificate number"), report.certificate_number || bi("未公开", "not shown")],
        [bi("持证人", "Holder"), report.holder_name || bi("未公开", "not shown")],
        [
          bi("持证人隐藏的字段", "Fields the holder hid"),
          hidden.length
            ? el("ul", { class: "hidden-fields plain" }, hidden.map((f) => el("li", {}, el("code", {}, f))))
            : bi("无", "none"),
        ],
        [bi("签发时间", "Issued"), when(report.issued_at)],
        [bi("有效期至", "Valid until"), report.issued_at ? (report.valid_until ? through(report.valid_until) : "无期限 no expiry") : null],
      ]),
    );
  }

  function ledgerFacts(report) {
    return el(
      "details",
      { class: "block ledger" },
      el("summary", {}, bi("链上标识", "Ledger identifiers")),
      facts([
        [bi("目标哈希", "Target hash"), report.target_hash ? hashNode(report.target_hash) : null],
        [bi("默克尔根", "Merkle root"), report.merkle_root ? hashNode(report.merkle_root) : null],
        [bi("签名密钥", "Signer"), report.signer ? hashNode(report.signer) : null],
        [bi("登记簿", "Registry"), report.registry ? hashNode(report.registry) : null],
        [bi("链编号", "Chain id"), report.chain_id],
        [bi("核验时间", "Checked at"), when(report.checked_at)],
      ]),
    );
  }

  // The step that decided a negative verdict, repeated under the verdict so nobody has to hunt for it.
  function decidingStep(steps) {
    const failed = (steps || []).find((st) => st.status === "invalid" || st.status === "error");
    if (!failed) return null;
    return el(
      "p",
      { class: "failed-step", "data-step": failed.name },
      el("strong", {}, "未通过的检查 ", el("span", { lang: "en" }, "Failed check"), ": "),
      STEP_NAMES[failed.name] ? `${STEP_NAMES[failed.name]} · ` : "",
      el("span", { lang: "en" }, `${failed.title || failed.name}${failed.reason ? ` — ${failed.reason}` : ""}`),
    );
  }

  function reportCard(fileName, report) {
    const card = el(
      "article",
      { class: "card", "data-file": fileName, "aria-label": fileName },
      el("h2", { class: "file-name" }, fileName),
      verdictBanner(report.verdict, report.code, report.summary),
      decidingStep(report.steps),
    );
    const blocks = [certificateFacts(report), agencyFacts(report.agency), scopeFacts(report.scope)].filter(Boolean);
    card.append(el("div", { class: "blocks" }, blocks));
    card.append(
      el("section", { class: "block steps-block", "aria-label": "Steps" }, el("h3", {}, bi("核验步骤", "Checks, in order")), stepList(report.steps)),
    );
    if (report.target_hash || report.merkle_root) card.append(ledgerFacts(report));
    return card;
  }

  function localCard(fileName, code, detail) {
    const [zh, en] = CODES[code];
    return el(
      "article",
      { class: "card", "data-file": fileName, "aria-label": fileName },
      el("h2", { class: "file-name" }, fileName),
      verdictBanner("error", code, null),
      el("p", { class: "local-detail" }, `${zh} · `, el("span", { lang: "en" }, `${en}: ${detail}`)),
    );
  }

  function setStatus(target, text) {
    target.textContent = text || "";
  }

  async function readFile(file) {
    if (file.size > MAX_FILE_BYTES) return { file, local: ["too-large", `${file.size} bytes; at most ${MAX_FILE_BYTES}`] };
    let text;
    try {
      text = await file.text();
    } catch (err) {
      return { file, local: ["not-json", "the file could not be read"] };
    }
    try {
      return { file, document: JSON.parse(text) };
    } catch (err) {
      return { file, local: ["not-json", err.message] };
    }
  }

  async function verifyFiles(fileList) {
    const files = Array.from(fileList || []);
    if (!files.length) return;
    const results = $("results");
    const status = $("status");
    results.replaceChildren();
    setStatus(status, `正在核验 ${files.length} 个文件… Verifying ${files.length} file(s)…`);
    const read = await Promise.all(files.map(readFile));
    const cards = new Map();
    for (const item of read) {
      if (item.local) cards.set(item, localCard(item.file.name, ...item.local));
    }
    const toSend = read.filter((item) => !item.local);
    for (let i = 0; i < toSend.length; i += BATCH) {
      const chunk = toSend.slice(i, i + BATCH);
      try {
        const answer = await api("v1/verify", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(chunk.map((item) => item.document)),
        });
        const reports = Array.isArray(answer) ? answer : Array.isArray(answer.reports) ? answer.reports : [answer];
        chunk.forEach((item, k) => {
          const report = reports[k];
          cards.set(item, report ? reportCard(item.file.name, report) : localCard(item.file.name, "request-failed", "no report returned"));
        });
      } catch (err) {
        for (const item of chunk) {
          const card = el("article", { class: "card", "data-file": item.file.name, "aria-label": item.file.name }, el("h2", { class: "file-name" }, item.file.name));
          card.append(verdictBanner("error", "request-failed", null), errorBox(err));
          cards.set(item, card);
        }
      }
    }
    results.replaceChildren(...read.map((item) => cards.get(item)));
    const counts = { valid: 0, other: 0 };
    for (const card of results.querySelectorAll(".verdict")) counts[card.dataset.verdict === "valid" ? "valid" : "other"] += 1;
    setStatus(
      status,
      files.length === 1
        ? "核验完成 Verification finished."
        : `核验完成：${counts.valid} 个有效，${counts.other} 个无效或无法核验。 Finished: ${counts.valid} valid, ${counts.other} not valid or not checked.`,
    );
    const first = results.querySelector(".card h2");
    if (first) first.setAttribute("tabindex", "-1");
  }

  // --- looking up a hash ---------------------------------------------------------------------------------

  // GET /v1/credentials/{hash} answers with the contract's verdict label (valid, not-issued, root-revoked,
  // leaf-suspended, expired, agency-revoked, ...); the page maps it onto the same codes as a file's report.
  function credentialCode(verdict) {
    const v = String(verdict || "");
    if (v === "valid") return "valid";
    if (v.endsWith("-revoked") && v !== "agency-revoked") return "revoked";
    if (v.endsWith("-suspended")) return "suspended";
    return v;
  }

  const CREDENTIAL_VERDICTS = {
    valid: ["已登记，状态正常", "On the ledger, in good standing"],
    "not-issued": ["链上无此记录", "Not on the ledger"],
    "invalid-proof": ["证明无效", "The proof does not lead to the root"],
    "root-revoked": ["整批已撤销", "Revoked: the whole batch"],
    "node-revoked": ["部分批次已撤销", "Revoked: part of the batch"],
    "leaf-revoked": ["已撤销", "Revoked: this document"],
    "root-suspended": ["整批已暂停", "Suspended: the whole batch"],
    "node-suspended": ["部分批次已暂停", "Suspended: part of the batch"],
    "leaf-suspended": ["已暂停", "Suspended: this document"],
    "agency-revoked": ["发证机构已被撤销", "The issuing agency was revoked before issuing"],
    "signer-compromised": ["签名密钥已泄露", "The signing key was compromised before issuing"],
    expired: ["已过期", "Expired"],
  };

  function hashCard(hash, data) {
    const valid = data.valid === true;
    const verdict = valid ? "valid" : "invalid";
    const code = credentialCode(data.verdict);
    const [zh, en] = CREDENTIAL_VERDICTS[data.verdict] || CODES[code] || [data.verdict, data.verdict];
    const banner = el(
      "div",
      { class: `verdict verdict-${verdict}`, "data-verdict": verdict, "data-code": code },
      el("span", { class: "verdict-icon", "aria-hidden": "true" }, valid ? "✓" : "✗"),
      el("div", {}, el("p", { class: "verdict-word" }, `${zh} `, el("span", { lang: "en" }, en))),
    );
    const record = data.record || {};
    const issued = Number(record.issued_at) > 0;
    const agencyName = audit.agencies.get(Number(record.agency_id));
    const changed = Number(data.since) > 0;
    const pairs = [
      [bi("哈希类型", "Kind"), data.kind === "root" ? bi("批次默克尔根", "batch merkle root") : bi("单份证书目标哈希", "document target hash")],
      [bi("所属批次根", "Batch root"), data.root && data.root !== data.hash ? hashNode(data.root) : null],
      [bi("评价机构", "Agency"), issued ? `${record.agency_id}${agencyName ? ` · ${agencyName}` : ""}` : null],
      [bi("职业与等级", "Scope"), issued ? scopeLabel(record.scope_id) : null],
      [bi("签名密钥", "Signer"), issued ? hashNode(record.signer) : null],
      [bi("签发时间", "Issued"), issued ? when(record.issued_at) : null],
      [bi("有效期至", "Valid until"), issued ? (Number(record.valid_until) ? through(record.valid_until) : "无期限 no expiry") : null],
      [bi("状态变更时间", "Status since"), changed ? when(data.since) : null],
      [bi("原因代码", "Reason code"), changed ? data.reason : null],
      [bi("决定结论的哈希", "Decided by"), data.decided_by && data.decided_by !== data.hash ? hashNode(data.decided_by) : null],
    ];
    return el(
      "article",
      { class: "card hash-card", "data-hash": hash, "aria-label": `Hash ${hash}` },
      el("h2", { class: "file-name" }, bi("哈希查询", "Hash lookup"), " ", el("code", { class: "hash" }, hash)),
      banner,
      el("section", { class: "block" }, facts(pairs)),
    );
  }

  function notFoundCard(hash, err) {
    return el(
      "article",
      { class: "card hash-card", "data-hash": hash, "aria-label": `Hash ${hash}` },
      el("h2", { class: "file-name" }, bi("哈希查询", "Hash lookup"), " ", el("code", { class: "hash" }, hash)),
      el(
        "div",
        { class: "verdict verdict-invalid", "data-verdict": "invalid", "data-code": "not-issued" },
        el("span", { class: "verdict-icon", "aria-hidden": "true" }, "✗"),
        el(
          "div",
          {},
          el("p", { class: "verdict-word" }, "链上无此记录 ", el("span", { lang: "en" }, "Not on the ledger")),
          el("p", { class: "verdict-summary", lang: "en" }, err.message),
        ),
      ),
    );
  }

  async function lookUpHash(event) {
    event.preventDefault();
    const input = $("hash-input");
    let hash = input.value.trim();
    // Copied from a document's signature block, hashes come without the 0x prefix the API expects.
    if (/^[0-9a-fA-F]{64}$/.test(hash)) hash = `0x${hash}`;
    const results = $("results");
    const status = $("status");
    results.replaceChildren();
    if (!hash) {
      setStatus(status, "");
      results.append(errorBox(new ApiError("请先粘贴哈希 Paste a hash first", 0)));
      input.focus();
      return;
    }
    setStatus(status, "正在查询… Looking up…");
    try {
      const data = await api(`v1/credentials/${encodeURIComponent(hash)}`);
      await loadAgencies();
      results.append(hashCard(hash, data));
      setStatus(status, "查询完成 Lookup finished.");
    } catch (err) {
      results.append(err.status === 404 ? notFoundCard(hash, err) : errorBox(err, "查询失败 Lookup failed"));
      setStatus(status, "");
    }
  }

  // --- the audit timeline --------------------------------------------------------------------------------

  const audit = { cursor: null, loaded: false, agencies: new Map(), scopes: new Map(), agenciesRead: null };

  function eventActor(event, name, args) {
    const explicit = event.actor || event.sender || event.from;
    if (explicit) return shortNode(explicit);
    if (args.actor) return el("span", {}, args.byGovernor ? "管理部门 governor " : "", shortNode(args.actor));
    if (name === "CredentialIssued" && args.signer) return el("span", {}, "签名 signer ", shortNode(args.signer));
    if (GOVERNOR_EVENTS.has(name)) return bi("管理部门", "governor");
    if (args.newOwner) return shortNode(args.newOwner);
    return "—";
  }

  function scopeLabel(scopeId) {
    const scope = audit.scopes.get(String(scopeId).toLowerCase());
    return scope ? `${scope.occupation_code} L${scope.level} · ${scope.title}` : shortNode(scopeId);
  }

  function eventDetails(name, args) {
    // What the other columns already show is left out here.
    const skip = new Set(["agencyId", "root", "target", "actor"]);
    if (name === "CredentialIssued") skip.add("signer");
    if (name === "OwnershipTransferred" || name === "OwnershipTransferStarted") skip.add("newOwner");
    const pairs = [];
    for (const [key, value] of Object.entries(args)) {
      if (skip.has(key)) continue;
      if (key === "action" && ACTIONS[value]) pairs.push([key, `${ACTIONS[value][0]} ${ACTIONS[value][1]}`]);
      else if (/^(validFrom|validUntil|issuedAt|since|cutoff)$/.test(key)) pairs.push([key, Number(value) ? when(value) : "—"]);
      else if (key === "scopeId") pairs.push([key, scopeLabel(value)]);
      else if (typeof value === "string" && /^0x[0-9a-fA-F]{40,}$/.test(value)) pairs.push([key, shortNode(value)]);
      else pairs.push([key, value]);
    }
    return facts(pairs);
  }

  function timeCell(seconds) {
    const text = when(seconds);
    if (!text || text === "—") return "—";
    const [date, ...rest] = text.split(" ");
    return [el("span", { class: "nowrap" }, date), el("br"), el("span", { class: "sub nowrap" }, rest.join(" "))];
  }

  function eventRow(event) {
    let args = event.args || {};
    if (typeof args === "string") {
      try {
        args = JSON.parse(args);
      } catch (err) {
        args = {};
      }
    }
    const name = event.type || event.name;
    const [zh, en] = EVENTS[name] || [name, ""];
    const agencyId = event.agency_id ?? args.agencyId;
    const agencyName = agencyId !== undefined && agencyId !== null ? audit.agencies.get(Number(agencyId)) : null;
    const root = event.root || args.root;
    const target = args.target;
    const hashes = el("div", { class: "hashes" });
    if (root) hashes.append(el("div", {}, "根 root ", el("code", { class: "hash", title: root }, shortHash(root))));
    if (target && target !== root) hashes.append(el("div", {}, "目标 target ", el("code", { class: "hash", title: target }, shortHash(target))));
    const time = event.block_time ?? event.timestamp ?? event.time;
    const tx = event.transaction_hash;
    return el(
      "tr",
      { "data-event": name },
      el("td", { class: "time" }, timeCell(time)),
      el("td", { class: "num" }, String(event.block_number ?? "—"), event.log_index !== undefined ? el("span", { class: "sub" }, ` #${event.log_index}`) : null),
      el("td", {}, el("span", { class: `event event-${name}` }, zh), en ? el("span", { class: "sub", lang: "en" }, ` ${en}`) : null, tx ? el("div", { class: "sub" }, "tx ", el("code", { class: "hash", title: tx }, shortHash(tx))) : null),
      el("td", { class: "agency" }, agencyId !== undefined && agencyId !== null ? `${agencyId}${agencyName ? ` · ${agencyName}` : ""}` : "—"),
      el("td", {}, hashes.childNodes.length ? hashes : "—"),
      el("td", {}, eventActor(event, name, args)),
      el("td", { class: "details" }, eventDetails(name, args)),
    );
  }

  function eventsOf(answer) {
    if (Array.isArray(answer)) return { events: answer, next: null };
    const events = answer.events || answer.items || answer.data || [];
    const next = answer.next_cursor ?? answer.cursor ?? answer.next ?? null;
    return { events, next };
  }

  function auditQuery() {
    const params = new URLSearchParams({ limit: String(PAGE) });
    const type = $("audit-type").value;
    const agency = $("audit-agency").value.trim();
    if (type) params.set("type", type);
    if (agency) params.set("agency_id", agency);
    if (audit.cursor) params.set("cursor", audit.cursor);
    return params;
  }

  function loadAgencies() {
    audit.agenciesRead = audit.agenciesRead || readAgencies();
    return audit.agenciesRead;
  }

  // Names of agencies and scopes are a convenience: without them the page shows ids and hashes.
  async function readAgencies() {
    const [agencies, scopes] = await Promise.allSettled([api("v1/agencies?limit=200"), api("v1/scopes")]);
    if (agencies.status === "fulfilled") {
      for (const a of agencies.value.agencies || []) audit.agencies.set(Number(a.agency_id), a.name);
    }
    if (scopes.status === "fulfilled") {
      for (const sc of scopes.value.scopes || []) audit.scopes.set(String(sc.scope_id).toLowerCase(), sc);
    }
  }

  async function loadEvents(reset) {
    const status = $("audit-status");
    const rows = $("audit-rows");
    if (reset) {
      audit.cursor = null;
      rows.replaceChildren();
    }
    setStatus(status, "正在读取事件… Reading events…");
    const more = $("audit-more");
    try {
      const { events, next } = eventsOf(await api(`v1/audit/events?${auditQuery()}`));
      rows.append(...events.map(eventRow));
      audit.cursor = next;
      more.hidden = !next;
      const total = rows.children.length;
      setStatus(status, total ? `共 ${total} 个事件 ${total} event(s) shown${next ? "; more below" : ""}.` : "尚无事件 No events yet.");
    } catch (err) {
      setStatus(status, "");
      status.append(errorBox(err, "读取事件失败 Reading events failed"));
      more.hidden = true;
    }
  }

  // GET /v1/audit/report (credreg-audit-report/1): findings first, then the one line two auditors compare,
  // then counts. The full history stays in the events table below.
  function findingItem(f) {
    const where = f.event
      ? el("span", { class: "sub" }, ` — ${f.event.name}, block ${f.event.block_number} #${f.event.log_index}, `, shortNode(f.event.transaction_hash))
      : null;
    return el(
      "li",
      { "data-code": f.code },
      el("strong", {}, `${f.kind} · ${f.code}`),
      ": ",
      f.message,
      where,
      f.rule ? el("div", { class: "sub", lang: "en" }, `rule: ${f.rule}`) : null,
    );
  }

  function counts(map) {
    const entries = Object.entries(map || {}).filter(([, n]) => n);
    return entries.length ? entries.map(([k, n]) => `${k} ${n}`).join(" · ") : "—";
  }

  function reportSummary(report) {
    const box = el("section", { class: "card audit-summary", "aria-label": "Audit report" }, el("h2", {}, bi("审计报告", "Audit report")));
    const findings = Array.isArray(report.findings) ? report.findings : [];
    const total = report.findings_total ?? findings.length;
    const clean = report.clean === true || total === 0;
    box.append(
      el(
        "div",
        { class: `verdict verdict-${clean ? "valid" : "invalid"}`, "data-verdict": clean ? "valid" : "invalid" },
        el("span", { class: "verdict-icon", "aria-hidden": "true" }, clean ? "✓" : "✗"),
        el(
          "div",
          {},
          el("p", { class: "verdict-word" }, clean ? "未发现问题 " : `发现 ${total} 个问题 `, el("span", { lang: "en" }, clean ? "No findings" : `${total} finding(s)`)),
          el("p", { class: "verdict-summary", lang: "en" }, `Replayed through block ${report.through_block} (${when(report.through_time)}).`),
        ),
      ),
    );
    if (findings.length) box.append(el("ol", { class: "findings" }, findings.map(findingItem)));
    const digest = report.digest || {};
    const totals = report.totals || {};
    const provenance = report.provenance;
    const views = report.views;
    box.append(
      el(
        "div",
        { class: "blocks" },
        el(
          "section",
          { class: "block" },
          el("h3", {}, bi("摘要", "Digest to compare")),
          facts([
            [bi("摘要", "Digest"), digest.digest ? el("code", { class: "hash digest" }, digest.digest) : null],
            [bi("算法", "Scheme"), digest.scheme],
            [bi("事件数", "Events"), digest.event_count],
          ]),
        ),
        el(
          "section",
          { class: "block" },
          el("h3", {}, bi("核对", "Checks")),
          facts([
            [bi("合约代码来源", "Bytecode provenance"), provenance ? `${provenance.ok ? "✓ " : "✗ "}${provenance.verdict}` : "—"],
            [bi("与合约视图比对", "State vs contract views"), views ? `${views.complete ? "✓ complete" : "partial"}; mismatched ${counts(views.mismatched)}` : "—"],
            [bi("问题分类", "Findings by rule"), counts(report.findings_by_code)],
          ]),
        ),
        el(
          "section",
          { class: "block" },
          el("h3", {}, bi("统计", "Totals")),
          facts([
            [bi("机构", "Agencies"), totals.agencies],
            [bi("职业范围", "Scopes"), totals.scopes],
            [bi("签名密钥", "Signers"), totals.signers],
            [bi("批次根", "Roots"), totals.roots],
            [bi("批次结论", "Root verdicts"), counts(totals.root_verdicts)],
            [bi("状态变更对象", "Targets by status"), counts(totals.targets_by_status)],
          ]),
        ),
      ),
    );
    const agencies = Array.isArray(report.agencies) ? report.agencies : [];
    if (agencies.length) {
      box.append(
        el(
          "div",
          { class: "table-wrap" },
          el(
            "table",
            { class: "timeline agencies" },
            el("caption", {}, bi("按机构", "Per agency")),
            el("thead", {}, el("tr", {}, ["机构 Agency", "状态 State", "发证批次 Roots", "批次结论 Verdicts", "状态变更 Status changes"].map((h) => el("th", { scope: "col" }, h)))),
            el(
              "tbody",
              {},
              agencies.map((a) =>
                el(
                  "tr",
                  {},
                  el("td", {}, `${a.agency_id} · ${a.name}`),
                  el("td", {}, a.state),
                  el("td", { class: "num" }, String(a.roots_issued)),
                  el("td", {}, counts(a.root_verdicts)),
                  el("td", {}, counts(a.status_changes)),
                ),
              ),
            ),
          ),
        ),
      );
    }
    return box;
  }

  async function loadReport() {
    const target = $("audit-report");
    target.replaceChildren();
    try {
      target.append(reportSummary(await api("v1/audit/report")));
    } catch (err) {
      if (err.status !== 404) target.append(errorBox(err, "审计报告 Audit report"));
    }
  }

  async function openAudit() {
    if (!audit.loaded) {
      audit.loaded = true;
      await loadAgencies();
      await Promise.all([loadReport(), loadEvents(true)]);
    }
  }

  // --- tabs, drop zone, registry line --------------------------------------------------------------------

  function selectTab(tab) {
    for (const t of document.querySelectorAll('[role="tab"]')) {
      const selected = t === tab;
      t.setAttribute("aria-selected", String(selected));
      t.tabIndex = selected ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !selected;
    }
    if (tab.id === "tab-audit") openAudit();
    const hash = tab.id === "tab-audit" ? "#audit" : "#verify";
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }

  function wireTabs() {
    const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
    for (const tab of tabs) {
      tab.addEventListener("click", () => selectTab(tab));
      tab.addEventListener("keydown", (e) => {
        const i = tabs.indexOf(tab);
        const next = e.key === "ArrowRight" ? tabs[(i + 1) % tabs.length] : e.key === "ArrowLeft" ? tabs[(i - 1 + tabs.length) % tabs.length] : null;
        if (next) {
          e.preventDefault();
          next.focus();
          selectTab(next);
        }
      });
    }
    if (location.hash === "#audit") selectTab($("tab-audit"));
  }

  function wireDrop() {
    const drop = $("drop");
    const input = $("file-input");
    input.addEventListener("change", () => {
      verifyFiles(input.files);
      input.value = "";
    });
    for (const name of ["dragenter", "dragover"]) {
      drop.addEventListener(name, (e) => {
        e.preventDefault();
        drop.classList.add("over");
      });
    }
    for (const name of ["dragleave", "drop"]) {
      drop.addEventListener(name, (e) => {
        e.preventDefault();
        drop.classList.remove("over");
      });
    }
    drop.addEventListener("drop", (e) => verifyFiles(e.dataTransfer && e.dataTransfer.files));
    // A file dropped beside the zone would make the browser navigate away from the page.
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => e.preventDefault());
  }

  async function showRegistry() {
    const line = $("registry-line");
    try {
      const r = await api("v1/registry");
      const address = r.registry_address || (r.registry && (r.registry.address || r.registry)) || r.address;
      line.replaceChildren(
        bi("登记簿", "Registry"),
        " ",
        typeof address === "string" ? el("code", { class: "hash", title: address }, shortHash(address)) : "",
        r.chain_id !== undefined ? ` · ${"链"} chain ${r.chain_id}` : "",
        r.contract_version ? ` · v${r.contract_version}` : "",
      );
    } catch (err) {
      line.textContent = `登记簿信息不可用 Registry details unavailable (${err.message})`;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    wireTabs();
    wireDrop();
    $("hash-form").addEventListener("submit", lookUpHash);
    $("audit-reload").addEventListener("click", () => Promise.all([loadReport(), loadEvents(true)]));
    $("audit-type").addEventListener("change", () => loadEvents(true));
    $("audit-agency").addEventListener("change", () => loadEvents(true));
    $("audit-more").addEventListener("click", () => loadEvents(false));
    showRegistry();
    loadAgencies();
    document.body.dataset.ready = "true";
  });
})();
