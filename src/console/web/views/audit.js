// The audit log (admins): filters, pages of 50, and each entry's before/after as a diff of the fields it changed.
import { api } from "../api.js";
import { t, tx } from "../i18n.js";
import { h, time, table, pageHead, labelled, mono, dateToMs, msToDate } from "../ui.js";
import { pagedList } from "./orders.js";

const FILTERS = ["actor", "action", "target_type", "target_id", "from_ms", "to_ms"];

function show(v) {
  if (v === undefined) return "∅";
  return typeof v === "string" ? v : JSON.stringify(v);
}

// The keys whose values differ between before and after, each as before -> after.
export function diff(before, after) {
  const b = before && typeof before === "object" ? before : {};
  const a = after && typeof after === "object" ? after : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  const changed = keys.filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]));
  if (!changed.length) return h("span", { class: "sub" }, t("audit.no_changes"));
  return h("table", { class: "diff" }, h("tbody", null, changed.map((k) => h("tr", null,
    h("th", null, k),
    h("td", { class: "diff-before" }, k in b ? show(b[k]) : "∅"),
    h("td", { class: "diff-arrow" }, "→"),
    h("td", { class: "diff-after" }, k in a ? show(a[k]) : "∅")))));
}

export async function renderAudit(ctx) {
  const { main, query } = ctx;
  const values = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || ""]));
  const form = h("form", { class: "filters", id: "audit-filters" },
    h("div", { class: "filter-grid" },
      labelled(t("audit.actor"), h("input", { name: "actor", value: values.actor })),
      labelled(t("audit.action"), h("input", { name: "action", value: values.action, placeholder: t("audit.action_placeholder") })),
      labelled(t("audit.target_type"), h("input", { name: "target_type", value: values.target_type, placeholder: t("audit.target_type_placeholder") })),
      labelled(t("audit.target_id"), h("input", { name: "target_id", value: values.target_id })),
      labelled(t("common.from"), h("input", { name: "from", type: "date", value: msToDate(values.from_ms) })),
      labelled(t("common.to"), h("input", { name: "to", type: "date", value: msToDate(values.to_ms, true) })),
      h("div", { class: "filter-buttons" },
        h("button", { class: "btn primary", type: "submit" }, t("common.apply")),
        h("button", { class: "btn ghost", type: "button", onclick: () => ctx.setQuery({}) }, t("common.reset")))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(form);
    ctx.setQuery({
      actor: f.get("actor"), action: f.get("action"), target_type: f.get("target_type"), target_id: f.get("target_id"),
      from_ms: dateToMs(f.get("from")), to_ms: dateToMs(f.get("to"), true),
    });
  });
  main.append(pageHead(t("nav.audit")), form);
  const list = h("div", { class: "card list-card", id: "audit-list" });
  main.append(list);
  const filters = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
  await pagedList(list, (cursor) => api.get("/audit", { ...filters, limit: 50, cursor }), (page) => table([
    { label: t("audit.at"), render: (e) => time(e.at_ms) },
    { label: t("audit.actor"), render: (e) => h("span", null, h("strong", null, e.actor_name), h("span", { class: "sub" }, " " + tx("role." + e.actor_role, e.actor_role))) },
    { label: t("audit.action"), render: (e) => h("span", null, tx("audit_action." + e.action, e.action), h("div", { class: "sub mono" }, e.action)) },
    { label: t("audit.target"), render: (e) => h("span", null, tx("target." + e.target_type, e.target_type), " ", mono(e.target_id)) },
    { label: t("audit.changes"), class: "wide", render: (e) => diff(e.before, e.after) },
    { label: t("audit.address"), render: (e) => h("span", null, mono(e.remote_ip || "—"), e.request_id ? h("div", { class: "sub mono" }, e.request_id) : null) },
  ], page.items, { empty: t("audit.none") }));
}
