// The employer's and auditor's page: wiring. Plain DOM in ES modules, no framework and no build step, so the
// service serves it offline as it is.

import { ApiError, api, loadNames, lookUp, verifyDocuments } from "./api.js";
import { openAudit, redrawAudit, wireAudit } from "./audit.js";
import { $, el, setStatus, shortHash } from "./dom.js";
import { initialLanguage, labels, lang, onLanguage, setLabels, setLanguage, t, zoneName } from "./i18n.js";
import { printItem } from "./print.js";
import { renderItem } from "./verdicts.js";

const MAX_FILE_BYTES = 2 * 1024 * 1024;
const BATCH = 50; // documents per POST, below the service's default batch limit

// What the verify tab shows, as data: redrawn from here when the language changes.
const view = { items: [], status: null };

function draw() {
  $("results").replaceChildren(...view.items.map((item, index) => renderItem(item, index)));
  setStatus($("status"), view.status ? t(view.status.key, view.status.values) : "");
}

function show(items, statusKey, values) {
  view.items = items;
  view.status = statusKey ? { key: statusKey, values } : null;
  draw();
}

// --- verifying files -----------------------------------------------------------------------------------

async function readFile(file) {
  if (file.size > MAX_FILE_BYTES) {
    return { type: "local", fileName: file.name, code: "too-large", detail: t("sizeLimit", { size: file.size, max: MAX_FILE_BYTES }) };
  }
  let text;
  try {
    text = await file.text();
  } catch (err) {
    return { type: "local", fileName: file.name, code: "not-json", detail: t("unreadable") };
  }
  try {
    return { type: "pending", fileName: file.name, document: JSON.parse(text) };
  } catch (err) {
    return { type: "local", fileName: file.name, code: "not-json", detail: err.message };
  }
}

async function verifyFiles(fileList) {
  const files = Array.from(fileList || []);
  if (!files.length) return;
  show([], "verifying", { count: files.length });
  const items = await Promise.all(files.map(readFile));
  const pending = items.filter((item) => item.type === "pending");
  for (let i = 0; i < pending.length; i += BATCH) {
    const chunk = pending.slice(i, i + BATCH);
    try {
      const answer = await verifyDocuments(chunk.map((item) => item.document));
      const reports = Array.isArray(answer) ? answer : [answer];
      chunk.forEach((item, k) => {
        if (reports[k]) Object.assign(item, { type: "report", report: reports[k] });
        else Object.assign(item, { type: "local", code: "request-failed", detail: t("noReport") });
      });
    } catch (err) {
      for (const item of chunk) Object.assign(item, { type: "failed", error: err });
    }
  }
  await loadNames();
  const valid = items.filter((item) => item.type === "report" && item.report.verdict === "valid").length;
  show(items, files.length === 1 ? "verified" : "verifiedMany", { valid, other: items.length - valid });
  const first = $("results").querySelector(".card h2");
  if (first) first.setAttribute("tabindex", "-1");
}

// --- looking up a hash, or a verification link from a QR code ------------------------------------------

async function lookUpHash(hash, source, root, proof, agency) {
  show([], "lookingUp");
  try {
    const data = await lookUp(hash, root, proof, agency);
    await loadNames();
    show([{ type: "hash", hash, data, source }], "lookedUp");
  } catch (err) {
    if (err.status === 404 && err.slug === "unknown-hash") show([{ type: "unknown", hash, error: err, source }], null);
    else show([{ type: "error", error: err, context: "lookupFailed" }], null);
  }
}

function submitHash(event) {
  event.preventDefault();
  const input = $("hash-input");
  let hash = input.value.trim();
  // Copied from a document's signature block, hashes come without the 0x prefix the API expects.
  if (/^[0-9a-fA-F]{64}$/.test(hash)) hash = `0x${hash}`;
  if (!hash) {
    show([{ type: "error", error: new ApiError(t("pasteFirst"), 0) }], null);
    input.focus();
    return;
  }
  lookUpHash(hash.toLowerCase(), "lookup");
}

// ?v=<base64url of agency id (4 bytes) ‖ root ‖ leaf ‖ proof…>, as the service's QR codes write it
// (GET /v1/qr/verify.svg).
function decodeReference(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  if (bytes.length < 68 || (bytes.length - 4) % 32 !== 0) throw new Error("length");
  const agency = new DataView(bytes.buffer).getUint32(0);
  const hashes = [];
  for (let i = 4; i < bytes.length; i += 32) {
    hashes.push(`0x${Array.from(bytes.slice(i, i + 32), (b) => b.toString(16).padStart(2, "0")).join("")}`);
  }
  return { agency, root: hashes[0], leaf: hashes[1], proof: hashes.slice(2) };
}

function followLink() {
  const text = new URLSearchParams(location.search).get("v");
  if (!text) return;
  let ref;
  try {
    ref = decodeReference(text);
  } catch (err) {
    show([{ type: "error", error: new ApiError(t("badLink"), 0) }], null);
    return;
  }
  lookUpHash(ref.leaf, "qr", ref.root, ref.proof, ref.agency);
}

// --- page furniture ------------------------------------------------------------------------------------

function applyStaticWords() {
  const zone = { zone: zoneName() };
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n, zone);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  document.title = `credreg · ${t("title")}`;
  for (const button of document.querySelectorAll("[data-lang]")) button.setAttribute("aria-pressed", String(button.dataset.lang === lang()));
  const version = (labels() || {}).version;
  $("version").textContent = version ? t("footerVersion", { version }) : "";
}

const registry = { info: null, error: null };

function drawRegistry() {
  const line = $("registry-line");
  if (registry.error) {
    line.textContent = t("registryUnavailable", { message: registry.error.message });
    return;
  }
  const r = registry.info;
  if (!r) return;
  line.replaceChildren(
    `${t("registry")} `,
    el("code", { class: "hash", title: r.registry }, shortHash(r.registry)),
    ` · ${t("chain")} ${r.chain_id}`,
  );
}

async function showRegistry() {
  try {
    registry.info = await api("v1/registry");
  } catch (err) {
    registry.error = err;
  }
  drawRegistry();
}

function selectTab(tab) {
  for (const other of document.querySelectorAll('[role="tab"]')) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !selected;
  }
  if (tab.id === "tab-audit") openAudit();
  const hash = tab.id === "tab-audit" ? "#audit" : "#verify";
  if (location.hash !== hash) history.replaceState(null, "", `${location.search}${hash}`);
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

function wireResults() {
  $("results").addEventListener("click", (e) => {
    const button = e.target.closest("button");
    if (!button) return;
    if (button.dataset.print) printItem(button.dataset.print, view.items[Number(button.dataset.index)]);
    if (button.dataset.action === "choose-file") {
      $("drop").scrollIntoView({ block: "center" });
      $("file-input").click();
    }
  });
}

function wireLanguages() {
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang, true));
  }
  onLanguage(() => {
    applyStaticWords();
    drawRegistry();
    draw();
    redrawAudit();
  });
}

async function start() {
  setLanguage(initialLanguage(), false);
  try {
    setLabels(await api("v1/labels"));
  } catch (err) {
    view.items = [{ type: "error", error: err }];
  }
  wireLanguages();
  applyStaticWords();
  wireTabs();
  wireDrop();
  wireResults();
  wireAudit();
  $("hash-form").addEventListener("submit", submitHash);
  draw();
  showRegistry();
  loadNames();
  followLink();
  document.body.dataset.ready = "true";
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();

