// Building the page's DOM. Everything from the API or from a dropped file is inserted as text, never as HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, ...children) {
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

export function shortHash(value) {
  const text = String(value);
  return text.length > 18 ? `${text.slice(0, 10)}…${text.slice(-6)}` : text;
}

export function hashNode(value) {
  if (!value) return "—";
  return el("code", { class: "hash", title: String(value) }, String(value));
}

export function shortNode(value) {
  return el("code", { class: "hash", title: String(value) }, shortHash(value));
}

// A definition list of [label, value] pairs; pairs whose value is null or undefined are left out.
export function facts(pairs) {
  const dl = el("dl", { class: "facts" });
  for (const [label, value] of pairs) {
    if (value === null || value === undefined) continue;
    dl.append(el("dt", {}, label), el("dd", {}, value === "" ? "—" : value));
  }
  return dl;
}

export function setStatus(target, text) {
  target.textContent = text || "";
}
