// On paper: a printable certificate view and a verification slip, each with a QR code that opens this
// registry's page on the certificate's verification. The page's print CSS shows only #print-area then.

import { agencyName, qrUrl, scopeOf } from "./api.js";
import { $, el, facts } from "./dom.js";
import { codeName, kindName, label, levelName, t, through, when, zoneName } from "./i18n.js";
import { scopeText } from "./verdicts.js";

function hex0x(value) {
  const text = String(value || "");
  return text.startsWith("0x") ? text.toLowerCase() : `0x${text.toLowerCase()}`;
}

// Agency, root, leaf and proof of the certificate an item is about; the proof only where the page has the file.
function reference(item) {
  if (item.type === "report") {
    const proof = (((item.document || {}).signature || {}).proof || []).map(hex0x);
    const agency = item.report.agency_id;
    return { agency, root: hex0x(item.report.merkle_root), leaf: hex0x(item.report.target_hash), proof };
  }
  const agency = (item.data.record || {}).agency_id;
  return { agency, root: item.data.root, leaf: item.data.hash, proof: item.data.proof || [] };
}

function qrBlock(item) {
  const { agency, root, leaf, proof } = reference(item);
  return el(
    "figure",
    { class: "qr" },
    el("img", { src: qrUrl(agency, root, leaf, proof), alt: t("scanToVerify"), width: 160, height: 160 }),
    el("figcaption", {}, t("scanToVerify")),
  );
}

function day(seconds) {
  const text = when(seconds);
  return text && text !== "—" ? text.split(" ")[0] : "—";
}

function certificateView(item) {
  const report = item.report;
  const scope = report.scope || {};
  const agency = report.agency || {};
  return el(
    "article",
    { class: "paper certificate-paper", "data-paper": "certificate" },
    el("h1", { class: "paper-title" }, kindName(report.kind || "skill_level")),
    el("p", { class: "paper-holder" }, report.holder_name || t("notShown")),
    facts([
      [t("certificateNumber"), report.certificate_number || t("notShown")],
      [t("occupation"), `${scope.title || ""} (${scope.occupation_code || ""})`],
      [t("level"), levelName(scope.level, report.kind)],
      [t("agency"), agency.name || "—"],
      [t("issued"), day(report.issued_at)],
      [t("validUntil"), report.valid_until ? through(report.valid_until) : t("noExpiry")],
    ]),
    qrBlock(item),
    el("p", { class: "paper-foot" }, t("footer")),
  );
}

function slipFacts(item) {
  if (item.type === "report") {
    const r = item.report;
    return {
      verdict: `${label("verdicts", r.verdict)}${r.code !== "valid" ? ` · ${codeName(r.code)}` : ""}`,
      verdictKind: r.verdict,
      pairs: [
        [t("certificateNumber"), r.certificate_number || t("notShown")],
        [t("holder"), r.holder_name || t("notShown")],
        [t("agency"), r.agency ? `${r.agency.name} (${r.agency.registration_code})` : "—"],
        [t("scope"), scopeText(r.scope, r.kind) || "—"],
        [t("validUntil"), r.issued_at ? (r.valid_until ? through(r.valid_until) : t("noExpiry")) : null],
        [t("targetHash"), r.target_hash],
      ],
      checkedAt: r.checked_at,
      block: r.checked_block,
      registry: r.registry,
      chain: r.chain_id,
    };
  }
  const d = item.data;
  const record = d.record || {};
  const scope = scopeOf(record.scope_id);
  return {
    verdict: `${label("verdicts", d.valid ? "valid" : "invalid")} · ${label("ledger_verdicts", d.verdict)}`,
    verdictKind: d.valid ? "valid" : "invalid",
    pairs: [
      [t("agency"), `${record.agency_id}${agencyName(record.agency_id) ? ` · ${agencyName(record.agency_id)}` : ""}`],
      [t("scope"), scope ? scopeText(scope) : record.scope_id],
      [t("validUntil"), Number(record.valid_until) ? through(record.valid_until) : t("noExpiry")],
      [t("targetHash"), d.hash],
    ],
    checkedAt: d.checked_at,
    block: d.checked_block,
    registry: null,
    chain: null,
  };
}

function slipView(item) {
  const s = slipFacts(item);
  return el(
    "article",
    { class: "paper slip-paper", "data-paper": "slip" },
    el("h1", { class: "paper-title" }, t("slipTitle")),
    el("p", { class: `paper-verdict paper-verdict-${s.verdictKind}`, "data-verdict": s.verdictKind }, s.verdict),
    facts([
      ...s.pairs,
      [t("checkedAt"), `${when(s.checkedAt)} (${zoneName()})`],
      [t("checkedBlock"), s.block],
      [t("registryAddress"), s.registry ? `${s.registry}${s.chain ? ` · ${t("chain")} ${s.chain}` : ""}` : null],
    ]),
    qrBlock(item),
    el("p", { class: "paper-foot" }, t("footer")),
  );
}

// Fills #print-area and opens the browser's print dialog once the QR code has loaded.
export async function printItem(kind, item) {
  const area = $("print-area");
  area.replaceChildren(kind === "certificate" ? certificateView(item) : slipView(item));
  await Promise.all(
    Array.from(area.querySelectorAll("img")).map((img) => (img.decode ? img.decode().catch(() => null) : null)),
  );
  document.body.dataset.print = kind;
  area.dataset.ready = "true";
  window.print();
}

window.addEventListener("afterprint", () => {
  delete document.body.dataset.print;
});
