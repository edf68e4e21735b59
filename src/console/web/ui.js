// Small DOM helpers shared by the views. Text always goes in as text nodes (never innerHTML), so nothing the API
// returns can become markup.
import { t, tx, lang } from "./i18n.js";

// h("div", {class: "x", onclick: fn, dataset: {...}}, child, "text", [more children])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "value") el.value = v;
      else if (k === "checked") el.checked = !!v;
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Money: integer fen -> "¥1,234.56" (negative "-¥1.00").
export function yuan(fen, { sign = false } = {}) {
  if (fen === null || fen === undefined || fen === "") return "—";
  const n = Number(fen);
  const neg = n < 0;
  const abs = Math.abs(n);
  const whole = Math.floor(abs / 100).toLocaleString("en-US");
  const cents = String(abs % 100).padStart(2, "0");
  return (neg ? "-" : sign && n > 0 ? "+" : "") + "¥" + whole + "." + cents;
}

// Yuan text ("12.5", "12.50") -> integer fen, or null when not an amount.
export function parseYuan(text) {
  const s = String(text).trim();
  if (!/^\d{1,12}(\.\d{1,2})?$/.test(s)) return null;
  const [w, f = ""] = s.split(".");
  return Number(w) * 100 + Number((f + "00").slice(0, 2));
}

const pad = (n) => String(n).padStart(2, "0");

// Local time "2026-11-22 10:31:05"; "—" for null/0.
export function time(ms) {
  if (!ms) return "—";
  const d = new Date(Number(ms));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function day(ms) {
  const d = new Date(Number(ms));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// <input type=date> value -> local midnight in ms (end: the next midnight), or "" when empty.
export function dateToMs(value, end = false) {
  if (!value) return "";
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d + (end ? 1 : 0)).getTime();
}

export function msToDate(ms, end = false) {
  if (!ms) return "";
  return day(Number(ms) - (end ? 1 : 0));
}

export function percent(part, whole) {
  if (!whole) return "—";
  return ((100 * part) / whole).toFixed(1) + "%";
}

// Status badge: tone from the state name.
const TONES = {
  success: "ok", paid: "ok", delivered: "ok", enabled: "ok", matched: "ok",
  failed: "bad", rejected: "bad", expired: "bad", disabled: "bad", unmatched: "bad", dead: "bad",
  review: "warn", approval: "warn", held: "warn", pending: "warn", retrying: "warn",
  processing: "info", waiting: "info", unpaid: "info", scheduled: "info",
};
export function badge(state, label) {
  return h("span", { class: "badge tone-" + (TONES[state] || "muted") }, label ?? tx("status." + state, state));
}

export function mono(text) {
  return h("span", { class: "mono" }, text ?? "—");
}

// A table that becomes stacked cards on phones (each cell labelled through data-label).
// columns: [{label, render(row) -> node|string, class?}]
export function table(columns, rows, { empty = t("common.empty"), onRow } = {}) {
  if (!rows || rows.length === 0) return h("div", { class: "empty" }, empty);
  return h("div", { class: "table-wrap" },
    h("table", { class: "data" },
      h("thead", null, h("tr", null, columns.map((c) => h("th", { class: c.class }, c.label)))),
      h("tbody", null, rows.map((row) => {
        const tr = h("tr", { class: onRow ? "clickable" : null },
          columns.map((c) => h("td", { class: c.class, "data-label": c.label }, c.render(row))));
        if (onRow) tr.addEventListener("click", (e) => {
          if (e.target.closest("a,button,input,select")) return;
          onRow(row);
        });
        return tr;
      }))));
}

// A labelled value list: [[label, value], ...]
export function fields(pairs) {
  return h("dl", { class: "fields" },
    pairs.filter(Boolean).map(([k, v]) => h("div", { class: "field-row" }, h("dt", null, k), h("dd", null, v ?? "—"))));
}

export function card(title, ...body) {
  return h("section", { class: "card" }, title ? h("h2", { class: "card-title" }, title) : null, ...body);
}

export function button(label, onclick, { kind = "secondary", type = "button", id, disabled } = {}) {
  return h("button", { class: "btn " + kind, type, onclick, id, disabled }, label);
}

// Form controls with a label.
export function labelled(label, control, hint) {
  return h("label", { class: "control" }, h("span", { class: "control-label" }, label), control,
    hint ? h("span", { class: "hint" }, hint) : null);
}

export function select(name, options, value) {
  return h("select", { name }, options.map(([v, label]) => h("option", { value: v, selected: String(v) === String(value ?? "") }, label)));
}

// The page's error banner (translated from the API's error code).
export function errorText(err) {
  if (!err) return "";
  const code = err.code || "internal";
  const known = tx("error." + code, "");
  const base = known || t("error.generic");
  // Details help for input errors and conflicts; other codes speak for themselves.
  if (err.message && ["bad_request", "conflict", "not_found", "http"].includes(code.replace(/_\d+$/, "")))
    return `${base} (${err.message})`;
  return base;
}

export function showError(err) {
  const el = document.getElementById("banner");
  if (!el) return;
  clear(el);
  el.className = "banner error";
  el.hidden = false;
  el.append(h("span", { class: "banner-text" }, errorText(err)),
    h("button", { class: "banner-close", type: "button", "aria-label": t("common.close"), onclick: hideBanner }, "×"));
  if (!(err && err.code)) console.error(err);
}

export function showNotice(text) {
  const el = document.getElementById("banner");
  if (!el) return;
  clear(el);
  el.className = "banner notice";
  el.hidden = false;
  el.append(h("span", { class: "banner-text" }, text),
    h("button", { class: "banner-close", type: "button", "aria-label": t("common.close"), onclick: hideBanner }, "×"));
}

export function hideBanner() {
  const el = document.getElementById("banner");
  if (el) { el.hidden = true; clear(el); }
}

// A modal dialog. build(close) returns the body; resolves with what close() is given.
export function modal(title, build, { wide = false } = {}) {
  return new Promise((resolve) => {
    const dlg = h("dialog", { class: "modal" + (wide ? " wide" : "") });
    const close = (value) => { dlg.close(); dlg.remove(); resolve(value); };
    dlg.append(h("div", { class: "modal-head" }, h("h2", null, title),
      h("button", { class: "modal-x", type: "button", "aria-label": t("common.close"), onclick: () => close(undefined) }, "×")),
      h("div", { class: "modal-body" }, build(close)));
    dlg.addEventListener("cancel", (e) => { e.preventDefault(); close(undefined); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export function confirmDialog(title, text, { okLabel = t("common.confirm"), danger = false } = {}) {
  return modal(title, (close) => [
    h("p", { class: "modal-text" }, text),
    h("div", { class: "modal-actions" },
      button(t("common.cancel"), () => close(false)),
      button(okLabel, () => close(true), { kind: danger ? "danger" : "primary", id: "confirm-ok" })),
  ]);
}

// "Previous / next" over cursors. state: {cursors: [null, c1, ...], index}
export function pager(page, hasNext, onPrev, onNext) {
  return h("div", { class: "pager" },
    h("button", { class: "btn secondary small", type: "button", disabled: page === 0, onclick: onPrev, id: "page-prev" }, t("common.prev_page")),
    h("span", { class: "pager-no" }, t("common.page_n", { n: page + 1 })),
    h("button", { class: "btn secondary small", type: "button", disabled: !hasNext, onclick: onNext, id: "page-next" }, t("common.next_page")));
}

// A query string from an object, skipping empty values.
export function qs(obj) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(obj || {})) {
    if (v === undefined || v === null || v === "") continue;
    p.set(k, String(v));
  }
  const s = p.toString();
  return s ? "?" + s : "";
}

export function loading() {
  return h("div", { class: "loading" }, h("span", { class: "spinner" }), t("common.loading"));
}

export function pageHead(title, ...actions) {
  return h("div", { class: "page-head" }, h("h1", null, title), h("div", { class: "page-actions" }, actions));
}

export function copyButton(text) {
  return h("button", {
    class: "btn secondary small", type: "button",
    onclick: async (e) => {
      try { await navigator.clipboard.writeText(text); e.target.textContent = t("common.copied"); }
      catch { e.target.textContent = t("common.copy_failed"); }
    },
  }, t("common.copy"));
}

export function isZh() {
  return lang() === "zh-CN";
}
