// The auditor's tab: the audit report (findings first) and the ledger's events in order, a page at a time.

import { agencyName, api, loadNames, scopeOf } from "./api.js";
import { $, el, facts, setStatus, shortHash, shortNode } from "./dom.js";
import { label, labels, levelName, reasonName, t, when } from "./i18n.js";
import { errorBox, scopeText, zoneLine } from "./verdicts.js";

const PAGE = 100; // events per page

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
const TIME_ARGS = /^(validFrom|validUntil|issuedAt|since|cutoff)$/;

// What was read, kept so that a change of language redraws it without asking the service again.
const audit = { cursor: null, loaded: false, events: [], report: null, reportError: null, statusKey: null, statusValues: null };

function eventActor(event, name, args) {
  const explicit = event.actor || event.sender || event.from;
  if (explicit) return shortNode(explicit);
  if (args.actor) return el("span", {}, args.byGovernor ? `${t("governor")} ` : "", shortNode(args.actor));
  if (name === "CredentialIssued" && args.signer) return el("span", {}, `${t("signerWord")} `, shortNode(args.signer));
  if (GOVERNOR_EVENTS.has(name)) return t("governor");
  if (args.newOwner) return shortNode(args.newOwner);
  return "—";
}

function scopeLabel(scopeId) {
  const scope = scopeOf(scopeId);
  return scope ? scopeText(scope) : shortNode(scopeId);
}

function argValue(key, value) {
  if (key === "action") return label("actions", String(value), String(value));
  if (key === "reason") return reasonName(value);
  if (key === "level") return levelName(value);
  if (TIME_ARGS.test(key)) return Number(value) ? when(value) : "—";
  if (key === "scopeId") return scopeLabel(value);
  if (typeof value === "boolean") return value ? t("yes") : t("no");
  if (typeof value === "string" && /^0x[0-9a-fA-F]{40,}$/.test(value)) return shortNode(value);
  if (value === null || value === undefined || value === "") return "—";
  return String(value);
}

function eventDetails(name, args) {
  // What the other columns already show is left out here.
  const skip = new Set(["agencyId", "root", "target", "actor"]);
  if (name === "CredentialIssued") skip.add("signer");
  if (name === "OwnershipTransferred" || name === "OwnershipTransferStarted") skip.add("newOwner");
  const pairs = [];
  for (const [key, value] of Object.entries(args)) {
    if (skip.has(key)) continue;
    pairs.push([label("event_fields", key, key), argValue(key, value)]);
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
  const agencyId = event.agency_id ?? args.agencyId;
  const known = agencyId !== undefined && agencyId !== null ? agencyName(agencyId) : null;
  const root = event.root || args.root;
  const target = args.target;
  const hashes = el("div", { class: "hashes" });
  if (root) hashes.append(el("div", {}, `${t("root")} `, el("code", { class: "hash", title: root }, shortHash(root))));
  if (target && target !== root) hashes.append(el("div", {}, `${t("target")} `, el("code", { class: "hash", title: target }, shortHash(target))));
  const time = event.block_time ?? event.timestamp ?? event.time;
  const tx = event.transaction_hash;
  return el(
    "tr",
    { "data-event": name },
    el("td", { class: "time" }, timeCell(time)),
    el("td", { class: "num" }, String(event.block_number ?? "—"), event.log_index !== undefined ? el("span", { class: "sub" }, ` #${event.log_index}`) : null),
    el(
      "td",
      {},
      el("span", { class: `event event-${name}`, title: name }, label("events", name, name)),
      tx ? el("div", { class: "sub" }, "tx ", el("code", { class: "hash", title: tx }, shortHash(tx))) : null,
    ),
    el("td", { class: "agency" }, agencyId !== undefined && agencyId !== null ? `${agencyId}${known ? ` · ${known}` : ""}` : "—"),
    el("td", {}, hashes.childNodes.length ? hashes : "—"),
    el("td", {}, eventActor(event, name, args)),
    el("td", { class: "details" }, eventDetails(name, args)),
  );
}

function eventsOf(answer) {
  if (Array.isArray(answer)) return { events: answer, next: null };
  return { events: answer.events || [], next: answer.next_cursor ?? null };
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

function showCount() {
  const total = audit.events.length;
  if (audit.statusKey) setStatus($("audit-status"), t(audit.statusKey, audit.statusValues));
  else setStatus($("audit-status"), total ? t("eventsShown", { total }) + (audit.cursor ? t("eventsMore") : "") : t("noEvents"));
}

export async function loadEvents(reset) {
  const status = $("audit-status");
  if (reset) {
    audit.cursor = null;
    audit.events = [];
    $("audit-rows").replaceChildren();
  }
  audit.statusKey = "readingEvents";
  showCount();
  const more = $("audit-more");
  try {
    const { events, next } = eventsOf(await api(`v1/audit/events?${auditQuery()}`));
    audit.events.push(...events);
    $("audit-rows").append(...events.map(eventRow));
    audit.cursor = next;
    more.hidden = !next;
    audit.statusKey = null;
    showCount();
  } catch (err) {
    audit.statusKey = null;
    setStatus(status, "");
    status.append(errorBox(err, t("readEventsFailed")));
    more.hidden = true;
  }
}

// GET /v1/audit/report (credreg-audit-report/1): findings first, then the one line two auditors compare,
// then counts. The full history stays in the events table below.
function findingItem(f) {
  const where = f.event
    ? el("span", { class: "sub" }, ` — ${label("events", f.event.name, f.event.name)}, ${t("block")} ${f.event.block_number} #${f.event.log_index}, `, shortNode(f.event.transaction_hash))
    : null;
  return el(
    "li",
    { "data-code": f.code },
    el("strong", {}, `${f.kind} · ${f.code}`),
    ": ",
    el("span", { lang: "en" }, f.message),
    where,
    f.rule ? el("div", { class: "sub", lang: "en" }, `${t("rule")}: ${f.rule}`) : null,
  );
}

// The report's count keys: ledger verdicts, states, or "<action> by agency N" / "<action> by governor".
function countKey(key) {
  const by = /^(revoke|suspend|reinstate) by (?:agency (\d+)|(governor))$/.exec(key);
  if (by) {
    const action = label("actions", { revoke: "1", suspend: "2", reinstate: "3" }[by[1]], by[1]);
    return by[3] ? `${t("governor")} ${action}` : `${t("agency")} ${by[2]} ${action}`;
  }
  if (key === "revoked") return t("revokedWord");
  if (key === "suspended") return t("suspendedWord");
  return label("ledger_verdicts", key, label("agency_states", key, key));
}

function counts(map) {
  const entries = Object.entries(map || {}).filter(([, n]) => n);
  return entries.length ? entries.map(([k, n]) => `${countKey(k)} ${n}`).join(" · ") : "—";
}

function reportSummary(report) {
  const box = el("section", { class: "card audit-summary", "aria-label": t("auditReport") }, el("h2", {}, t("auditReport")));
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
        el("p", { class: "verdict-word" }, clean ? t("noFindings") : t("findings", { total })),
        el("p", { class: "verdict-summary" }, t("replayedThrough", { block: report.through_block, time: when(report.through_time) })),
      ),
    ),
    zoneLine(report.through_time),
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
        el("h3", {}, t("digestHeading")),
        facts([
          [t("digest"), digest.digest ? el("code", { class: "hash digest" }, digest.digest) : null],
          [t("scheme"), digest.scheme],
          [t("events"), digest.event_count],
        ]),
      ),
      el(
        "section",
        { class: "block" },
        el("h3", {}, t("checks")),
        facts([
          [t("provenance"), provenance ? `${provenance.ok ? "✓ " : "✗ "}${provenance.verdict}` : "—"],
          [t("viewsCheck"), views ? `${views.complete ? `✓ ${t("complete")}` : t("partial")}; ${t("mismatched")} ${counts(views.mismatched)}` : "—"],
          [t("byRule"), counts(report.findings_by_code)],
        ]),
      ),
      el(
        "section",
        { class: "block" },
        el("h3", {}, t("totals")),
        facts([
          [t("agencies"), totals.agencies],
          [t("scopes"), totals.scopes],
          [t("signers"), totals.signers],
          [t("roots"), totals.roots],
          [t("rootVerdicts"), counts(totals.root_verdicts)],
          [t("targetsByStatus"), counts(totals.targets_by_status)],
        ]),
      ),
    ),
  );
  const agencies = Array.isArray(report.agencies) ? report.agencies : [];
  if (agencies.length) {
    const heads = [t("agency"), t("state"), t("roots"), t("rootVerdicts"), t("statusChanges")];
    box.append(
      el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          { class: "timeline agencies" },
          el("caption", {}, t("perAgency")),
          el("thead", {}, el("tr", {}, heads.map((h) => el("th", { scope: "col" }, h)))),
          el(
            "tbody",
            {},
            agencies.map((a) =>
              el(
                "tr",
                {},
                el("td", {}, `${a.agency_id} · ${a.name}`),
                el("td", {}, label("agency_states", a.state, a.state)),
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

function drawReport() {
  const target = $("audit-report");
  target.replaceChildren();
  if (audit.report) target.append(reportSummary(audit.report));
  else if (audit.reportError) target.append(errorBox(audit.reportError, t("auditReport")));
}

export async function loadReport() {
  audit.report = null;
  audit.reportError = null;
  try {
    audit.report = await api("v1/audit/report");
  } catch (err) {
    if (err.status !== 404) audit.reportError = err;
  }
  drawReport();
}

function fillTypes() {
  const select = $("audit-type");
  const chosen = select.value;
  const events = Object.keys((labels() || {}).events || {});
  select.replaceChildren(el("option", { value: "" }, t("allEvents")), ...events.map((name) => el("option", { value: name }, label("events", name, name))));
  select.value = chosen;
}

export function wireAudit() {
  fillTypes();
  $("audit-reload").addEventListener("click", () => Promise.all([loadReport(), loadEvents(true)]));
  $("audit-type").addEventListener("change", () => loadEvents(true));
  $("audit-agency").addEventListener("change", () => loadEvents(true));
  $("audit-more").addEventListener("click", () => loadEvents(false));
}

export async function openAudit() {
  if (audit.loaded) return;
  audit.loaded = true;
  await loadNames();
  await Promise.all([loadReport(), loadEvents(false)]);
}

// A change of language: the same events and report, in the other words.
export function redrawAudit() {
  fillTypes();
  if (!audit.loaded) return;
  drawReport();
  $("audit-rows").replaceChildren(...audit.events.map(eventRow));
  showCount();
}
