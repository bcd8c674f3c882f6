// Rendering answers: a file's verification report, a hash look-up, and the problems in between. Every word
// about a verdict comes from the labels table (i18n.js), in the chosen language, times in the view's zone.

import { agencyName, scopeOf } from "./api.js";
import { el, facts, hashNode, shortNode } from "./dom.js";
import {
  codeName,
  codeSummary,
  fieldName,
  kindName,
  label,
  levelName,
  offset,
  reasonName,
  stepReason,
  t,
  through,
  when,
  zoneName,
} from "./i18n.js";

const ICONS = { valid: "✓", invalid: "✗", error: "!", batch: "▦", unknown: "?" };
const STEP_MARKS = { valid: "✓", invalid: "✗", error: "!", skipped: "–" };

// One line under each view's first heading: the zone every time in it is shown in.
export function zoneLine(seconds) {
  return el("p", { class: "zone-note" }, t("zoneNote", { zone: zoneName(), offset: offset(seconds) }));
}

export function banner(kind, attrs, word, code, summary) {
  return el(
    "div",
    { class: `verdict verdict-${kind}`, "data-verdict": kind, ...attrs },
    el("span", { class: "verdict-icon", "aria-hidden": "true" }, ICONS[kind] || "!"),
    el(
      "div",
      {},
      el("p", { class: "verdict-word" }, word),
      code ? el("p", { class: "verdict-code" }, code) : null,
      summary ? el("p", { class: "verdict-summary" }, summary) : null,
    ),
  );
}

export function reportBanner(report) {
  const verdict = ["valid", "invalid", "error"].includes(report.verdict) ? report.verdict : "error";
  const code = report.code;
  return banner(
    verdict,
    { "data-code": code },
    label("verdicts", verdict),
    code && code !== "valid" ? codeName(code) : null,
    codeSummary(code, report.summary),
  );
}

export function errorBox(err, context) {
  const box = el(
    "div",
    { class: "problem", role: "alert" },
    el("p", { class: "problem-title" }, context ? `${context}: ` : "", err.message || String(err)),
  );
  if (err.lines && err.lines.length) box.append(el("ul", {}, err.lines.map((l) => el("li", {}, l))));
  return box;
}

function stepTitle(step) {
  return label("steps", step.name, step.title || step.name);
}

function reasonNode(reason) {
  const { text, translated } = stepReason(reason);
  // Untranslated reasons are the service's English: marked so a screen reader switches voice.
  return el("p", { class: "step-reason", lang: translated ? null : "en" }, text);
}

function stepList(steps) {
  const list = el("ol", { class: "steps" });
  for (const step of steps || []) {
    list.append(
      el(
        "li",
        { class: `step step-${step.status}`, "data-step": step.name, "data-status": step.status },
        el("span", { class: "step-mark", "aria-hidden": "true" }, STEP_MARKS[step.status] || "!"),
        el(
          "div",
          { class: "step-body" },
          el(
            "p",
            { class: "step-title" },
            stepTitle(step),
            el("span", { class: "step-status" }, ` — ${label("step_status", step.status)}`),
          ),
          step.reason ? reasonNode(step.reason) : null,
        ),
      ),
    );
  }
  return list;
}

// The step that decided a negative verdict, repeated under the verdict so nobody has to hunt for it.
function decidingStep(steps) {
  const failed = (steps || []).find((st) => st.status === "invalid" || st.status === "error");
  if (!failed) return null;
  return el(
    "p",
    { class: "failed-step", "data-step": failed.name },
    el("strong", {}, `${t("failedCheck")}: `),
    stepTitle(failed),
    failed.reason ? ` — ${stepReason(failed.reason).text}` : "",
  );
}

export function scopeText(scope, kind) {
  if (!scope) return null;
  return `${scope.occupation_code} ${scope.title} · ${levelName(scope.level, kind)}`;
}

function agencyFacts(agency) {
  if (!agency) return null;
  return el(
    "section",
    { class: "block", "aria-label": t("agencyHeading") },
    el("h3", {}, t("agencyHeading")),
    facts([
      [t("name"), agency.name],
      [t("registrationCode"), agency.registration_code],
      [t("agencyId"), agency.agency_id],
      [t("standing"), el("span", { class: `state state-${agency.state}` }, label("agency_states", agency.state))],
      [t("accreditedFrom"), when(agency.accredited_from) || "—"],
      [t("accreditedUntil"), agency.accredited_until ? through(agency.accredited_until) : t("openEnded")],
      [t("revocationCutoff"), agency.revocation_cutoff ? when(agency.revocation_cutoff) : null],
    ]),
  );
}

function scopeFacts(scope, kind) {
  if (!scope) return null;
  return el(
    "section",
    { class: "block", "aria-label": t("scopeHeading") },
    el("h3", {}, t("scopeHeading")),
    facts([
      [t("occupation"), scope.title],
      [t("occupationCode"), scope.occupation_code],
      [t("level"), el("span", { class: "level", "data-level": scope.level }, levelName(scope.level, kind))],
      [t("certificateKind"), kind ? kindName(kind) : null],
    ]),
  );
}

function certificateFacts(report) {
  const hidden = report.hidden_fields || [];
  return el(
    "section",
    { class: "block", "aria-label": t("certificateHeading") },
    el("h3", {}, t("certificateHeading")),
    report.verdict === "valid" ? null : el("p", { class: "unconfirmed" }, t("unconfirmed")),
    facts([
      [t("certificateNumber"), report.certificate_number || t("notShown")],
      [t("holder"), report.holder_name || t("notShown")],
      [
        t("hiddenFields"),
        hidden.length
          ? el(
              "ul",
              { class: "hidden-fields plain" },
              hidden.map((f) => el("li", { "data-field": f, title: f }, fieldName(f))),
            )
          : t("none"),
      ],
      [t("issued"), when(report.issued_at)],
      [t("validUntil"), report.issued_at ? (report.valid_until ? through(report.valid_until) : t("noExpiry")) : null],
    ]),
  );
}

function ledgerFacts(report) {
  return el(
    "details",
    { class: "block ledger" },
    el("summary", {}, t("ledgerHeading")),
    facts([
      [t("targetHash"), report.target_hash ? hashNode(report.target_hash) : null],
      [t("merkleRoot"), report.merkle_root ? hashNode(report.merkle_root) : null],
      [t("signer"), report.signer ? hashNode(report.signer) : null],
      [t("registry"), report.registry ? hashNode(report.registry) : null],
      [t("chainId"), report.chain_id ?? null],
      [t("checkedAt"), when(report.checked_at)],
      [t("checkedBlock"), report.checked_block ?? null],
    ]),
  );
}

function printButtons(index, certificate) {
  return el(
    "div",
    { class: "card-actions no-print" },
    certificate ? el("button", { type: "button", "data-print": "certificate", "data-index": index }, t("printCertificate")) : null,
    el("button", { type: "button", "data-print": "slip", "data-index": index }, t("printSlip")),
  );
}

function fileCard(fileName, ...children) {
  return el(
    "article",
    { class: "card", "data-file": fileName, "aria-label": fileName },
    el("h2", { class: "file-name" }, fileName),
    ...children,
  );
}

export function reportCard(item, index) {
  const { fileName, report } = item;
  const onLedger = report.checked_block !== null && report.checked_block !== undefined;
  const card = fileCard(
    fileName,
    reportBanner(report),
    decidingStep(report.steps),
    onLedger ? printButtons(index, report.verdict === "valid") : null,
    zoneLine(report.checked_at),
  );
  const blocks = [certificateFacts(report), agencyFacts(report.agency), scopeFacts(report.scope, report.kind)].filter(Boolean);
  card.append(el("div", { class: "blocks" }, blocks));
  card.append(el("section", { class: "block steps-block", "aria-label": t("stepsHeading") }, el("h3", {}, t("stepsHeading")), stepList(report.steps)));
  if (report.target_hash || report.merkle_root) card.append(ledgerFacts(report));
  return card;
}

const LOCAL_WORDS = { "not-json": "notJson", "too-large": "tooLarge", "request-failed": "requestFailed" };

export function localCard(item) {
  const { fileName, code, detail } = item;
  const word = t(LOCAL_WORDS[code] || "requestFailed");
  return fileCard(
    fileName,
    banner("error", { "data-code": code }, label("verdicts", "error"), word, null),
    el("p", { class: "local-detail" }, `${word}: `, detail),
  );
}

export function failedCard(item) {
  return fileCard(
    item.fileName,
    banner("error", { "data-code": "request-failed" }, label("verdicts", "error"), t("requestFailed"), null),
    errorBox(item.error),
  );
}

// --- hash look-ups -------------------------------------------------------------------------------------

function recordPairs(data) {
  const record = data.record || {};
  const issued = Number(record.issued_at) > 0;
  if (!issued) return [];
  const name = agencyName(record.agency_id);
  const scope = scopeOf(record.scope_id);
  return [
    [t("agency"), `${record.agency_id}${name ? ` · ${name}` : ""}`],
    [t("scope"), scope ? scopeText(scope) : shortNode(record.scope_id)],
    [t("signer"), hashNode(record.signer)],
    [t("issued"), when(record.issued_at)],
    [t("validUntil"), Number(record.valid_until) ? through(record.valid_until) : t("noExpiry")],
  ];
}

function hashHeading(item) {
  return el(
    "h2",
    { class: "file-name" },
    item.source === "qr" ? t("qrLookup") : t("hashLookup"),
    " ",
    el("code", { class: "hash" }, item.hash),
  );
}

function statusWord(state) {
  return state === "revoked" ? t("revokedWord") : t("suspendedWord");
}

function batchSection(data) {
  const batch = data.batch || { leaves_known: null, status_changes: [] };
  const changes = batch.status_changes || [];
  const section = el("section", { class: "block batch" });
  section.append(
    el("p", { class: "batch-known" }, batch.leaves_known ? t("batchKnown", { count: batch.leaves_known }) : t("batchUnknown")),
  );
  if (!changes.length) {
    section.append(el("p", { class: "batch-no-changes" }, t("batchNoChanges")));
    return section;
  }
  section.append(el("p", {}, t("batchChanges")));
  section.append(
    el(
      "ul",
      { class: "batch-changes" },
      changes.map((c) =>
        el(
          "li",
          { "data-target": c.target, "data-state": c.state },
          el("strong", { class: `state state-${c.state}` }, statusWord(c.state)),
          " · ",
          c.target === data.root ? t("rootItself") : c.known_leaf ? t("knownLeaf") : t("partOfBatch"),
          " ",
          shortNode(c.target),
          " · ",
          reasonName(c.reason),
          " · ",
          when(c.since),
        ),
      ),
    ),
  );
  return section;
}

function rootCard(item) {
  const data = item.data;
  const batchWide = data.verdict !== "valid";
  // A batch is never "valid" or "in good standing": only what applies to all of it is a verdict.
  const top = batchWide
    ? banner("invalid", { "data-code": data.verdict, "data-kind": "root" }, `${t("batchWide")}: ${label("ledger_verdicts", data.verdict)}`, t("isBatch"), t("batchNotCertificate"))
    : banner("batch", { "data-code": "batch-root", "data-kind": "root" }, t("isBatch"), null, t("batchNotCertificate"));
  return el(
    "article",
    { class: "card hash-card", "data-hash": item.hash, "aria-label": `${t("hashLookup")} ${item.hash}` },
    hashHeading(item),
    top,
    zoneLine(data.checked_at),
    batchSection(data),
    el(
      "section",
      { class: "block" },
      facts([
        [t("kind"), t("kindRoot")],
        ...recordPairs(data),
        [t("statusSince"), batchWide && Number(data.since) > 0 ? when(data.since) : null],
        [t("reason"), batchWide && Number(data.since) > 0 ? reasonName(data.reason) : null],
        [t("checkedAt"), when(data.checked_at)],
        [t("checkedBlock"), data.checked_block],
      ]),
    ),
  );
}

function leafCode(verdict) {
  if (verdict === "valid") return "valid";
  if (verdict.endsWith("-revoked") && verdict !== "agency-revoked") return "revoked";
  if (verdict.endsWith("-suspended")) return "suspended";
  return verdict;
}

function leafCard(item, index) {
  const data = item.data;
  const valid = data.valid === true;
  const changed = Number(data.since) > 0;
  return el(
    "article",
    { class: "card hash-card", "data-hash": item.hash, "aria-label": `${t("hashLookup")} ${item.hash}` },
    hashHeading(item),
    banner(valid ? "valid" : "invalid", { "data-code": leafCode(data.verdict), "data-kind": "leaf" }, label("verdicts", valid ? "valid" : "invalid"), label("ledger_verdicts", data.verdict), null),
    printButtons(index, false),
    zoneLine(data.checked_at),
    el("p", { class: "ledger-note" }, t("ledgerOnlyNote"), data.proof_known ? "" : ` ${t("proofUnknownNote")}`),
    el(
      "section",
      { class: "block" },
      facts([
        [t("kind"), t("kindLeaf")],
        [t("batchRoot"), hashNode(data.root)],
        ...recordPairs(data),
        [t("statusSince"), changed ? when(data.since) : null],
        [t("reason"), changed ? reasonName(data.reason) : null],
        [t("decidedBy"), data.decided_by && data.decided_by !== data.hash ? hashNode(data.decided_by) : null],
        [t("checkedAt"), when(data.checked_at)],
        [t("checkedBlock"), data.checked_block],
      ]),
    ),
  );
}

export function hashCard(item, index) {
  return item.data.kind === "root" ? rootCard(item) : leafCard(item, index);
}

// Neither a root nor in a batch known here: say what cannot be told, and ask for the file.
export function unknownCard(item) {
  return el(
    "article",
    { class: "card hash-card", "data-hash": item.hash, "aria-label": `${t("hashLookup")} ${item.hash}` },
    hashHeading(item),
    banner("unknown", { "data-code": "unknown-hash" }, t("cannotSearch"), null, t("cannotSearchWhy")),
    el("p", { class: "ask-file" }, el("button", { type: "button", "data-action": "choose-file" }, t("choose")), " ", t("askForFile")),
  );
}

export function errorCard(item) {
  return errorBox(item.error, item.context ? t(item.context) : null);
}

export function renderItem(item, index) {
  switch (item.type) {
    case "report":
      return reportCard(item, index);
    case "local":
      return localCard(item);
    case "failed":
      return failedCard(item);
    case "hash":
      return hashCard(item, index);
    case "unknown":
      return unknownCard(item);
    default:
      return errorCard(item);
  }
}
