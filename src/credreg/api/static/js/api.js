// Talking to the service: JSON in and out, and RFC 9457 problems turned into sentences (never raw JSON).

import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(message, status, lines, slug, detail) {
    super(message);
    this.status = status;
    this.lines = lines || [];
    this.slug = slug || null;
    this.detail = detail || "";
  }
}

const STATUS_WORDS = { 400: "http400", 404: "http404", 413: "http413", 422: "http422", 429: "http429", 503: "http503" };

// The problem's title in the chosen language where the page knows its type; the service's detail (English,
// naming the field) follows it, so a person learns what to change.
function problemOf(status, body, headers) {
  const lines = [];
  let title = "";
  let detail = "";
  let slug = null;
  if (body && typeof body === "object" && !Array.isArray(body)) {
    slug = typeof body.type === "string" ? body.type.split("/").pop() : null;
    const known = slug ? t(`problem_${slug}`) : "";
    title = known && known !== `problem_${slug}` ? known : typeof body.title === "string" ? body.title : "";
    detail = typeof body.detail === "string" ? body.detail : "";
    const errors = Array.isArray(body.errors) ? body.errors : Array.isArray(body.detail) ? body.detail : [];
    for (const e of errors) {
      if (!e || typeof e !== "object") continue;
      const where = e.field || e.pointer || (Array.isArray(e.loc) ? e.loc.join(".") : "");
      const what = e.message || e.msg || e.detail || e.reason || "";
      const line = [where, what].filter(Boolean).join(": ");
      // The detail already names the first field; list only what it does not say.
      if (line && !detail.includes(line)) lines.push(line);
    }
  }
  let message = [title, detail].filter(Boolean).join(": ");
  if (!message) message = STATUS_WORDS[status] ? t(STATUS_WORDS[status]) : t("httpOther", { status });
  const retry = headers && headers.get("Retry-After");
  if (retry) lines.push(t("retryIn", { seconds: retry }));
  return new ApiError(message, status, lines, slug, detail);
}

export async function api(path, options) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
  } catch (err) {
    throw new ApiError(t("unreachable"), 0);
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
  if (body === null) throw new ApiError(t("unreadableAnswer"), response.status);
  return body;
}

export function verifyDocuments(documents) {
  return api("v1/verify", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(documents),
  });
}

// GET /v1/credentials/{hash}; `root` and `proof` name the certificate's batch when the page knows it, and
// `agency` the agency that issued it (records live in the issuing agency's namespace).
export function lookUp(hash, root, proof, agency) {
  const params = new URLSearchParams();
  if (agency) params.set("agency", String(agency));
  if (root) params.set("root", root);
  if (proof && proof.length) params.set("proof", proof.join(","));
  const query = params.toString();
  return api(`v1/credentials/${encodeURIComponent(hash)}${query ? `?${query}` : ""}`);
}

export function qrUrl(agency, root, leaf, proof) {
  const params = new URLSearchParams({ agency: String(agency), root, leaf });
  if (proof && proof.length) params.set("proof", proof.join(","));
  return `v1/qr/verify.svg?${params}`;
}

// What this service knows by name: agencies and scopes (a convenience; without them ids and hashes show).
const names = { agencies: new Map(), scopes: new Map(), read: null };

export function loadNames() {
  names.read = names.read || readNames();
  return names.read;
}

async function readNames() {
  const [agencies, scopes] = await Promise.allSettled([api("v1/agencies?limit=200"), api("v1/scopes")]);
  if (agencies.status === "fulfilled") {
    for (const a of agencies.value.agencies || []) names.agencies.set(Number(a.agency_id), a.name);
  }
  if (scopes.status === "fulfilled") {
    for (const sc of scopes.value.scopes || []) names.scopes.set(String(sc.scope_id).toLowerCase(), sc);
  }
}

export function agencyName(agencyId) {
  return names.agencies.get(Number(agencyId)) || null;
}

export function scopeOf(scopeId) {
  return names.scopes.get(String(scopeId).toLowerCase()) || null;
}
