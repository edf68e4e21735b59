// Money: balances per merchant, a ledger statement with running balance (CSV), and the daily reconciliation
// against the ledger (CSV) with a clear matched/unmatched badge.
import { api, csvUrl } from "../api.js";
import { t, tx } from "../i18n.js";
import { h, clear, yuan, time, day, table, card, pageHead, labelled, select, mono, dateToMs, msToDate, fields } from "../ui.js";
import { can, currentUser } from "../app.js";
import { pagedList } from "./orders.js";

const TABS = ["balances", "statement", "reconciliation"];
// A reconciliation field's label: "gross_fen" -> recon.gross; the payouts' amount apart from their count.
function reconLabel(k) {
  return tx(k === "payouts_fen" ? "recon.payouts_amount" : "recon." + k.replace(/_fen$/, ""), k);
}
const ACCOUNTS = ["available", "pending", "frozen", "payout_reserved"];

function tabs(ctx, active) {
  return h("div", { class: "tabs", role: "tablist" }, TABS.map((tab) =>
    h("a", { class: "tab" + (tab === active ? " active" : ""), role: "tab", "aria-selected": String(tab === active), href: "#/money?tab=" + tab, id: "tab-" + tab }, t("money.tab." + tab))));
}

async function balances(ctx, body) {
  const r = await api.get("/balances", {});
  if (!ctx.alive()) return;
  if (r.platform && can("operator")) {
    body.append(card(t("money.platform"), h("div", { class: "balances" },
      Object.entries(r.platform).map(([k, v]) => h("div", { class: "balance" }, h("span", null, tx("money.platform_" + k.replace(/_fen$/, ""), k)), h("strong", null, yuan(v)))))));
  }
  body.append(h("div", { class: "card list-card", id: "balances-list" }, table([
    can("operator") ? { label: t("orders.merchant"), render: (b) => h("a", { class: "link", href: "#/merchants/" + b.merchant_id }, b.merchant_name || "#" + b.merchant_id, h("span", { class: "sub" }, " #" + b.merchant_id)) } : null,
    ...ACCOUNTS.map((a) => ({ label: t("account." + a), class: "num", render: (b) => yuan(b[a + "_fen"]) })),
    {
      label: t("common.actions"), render: (b) => h("a", { class: "btn ghost small", href: `#/money?tab=statement&merchant_id=${b.merchant_id}` }, t("money.statement_link")),
    },
  ].filter(Boolean), r.items, { empty: t("money.no_balances") })));
}

async function statement(ctx, body) {
  const { query } = ctx;
  const user = currentUser();
  const values = {
    merchant_id: user.role === "merchant" ? String(user.merchant_id) : query.get("merchant_id") || "",
    account: query.get("account") || "available",
    from_ms: query.get("from_ms") || "",
    to_ms: query.get("to_ms") || "",
  };
  const form = h("form", { class: "filters", id: "statement-filters" },
    h("div", { class: "filter-grid" },
      user.role === "merchant" ? null : labelled(t("orders.merchant_id"), h("input", { name: "merchant_id", value: values.merchant_id, inputmode: "numeric", required: true })),
      labelled(t("money.account"), select("account", ACCOUNTS.map((a) => [a, t("account." + a)]), values.account)),
      labelled(t("common.from"), h("input", { name: "from", type: "date", value: msToDate(values.from_ms) })),
      labelled(t("common.to"), h("input", { name: "to", type: "date", value: msToDate(values.to_ms, true) })),
      h("div", { class: "filter-buttons" }, h("button", { class: "btn primary", type: "submit" }, t("common.apply")))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(form);
    ctx.setQuery({ tab: "statement", merchant_id: f.get("merchant_id") || values.merchant_id, account: f.get("account"), from_ms: dateToMs(f.get("from")), to_ms: dateToMs(f.get("to"), true) });
  });
  body.append(form);
  if (!values.merchant_id) {
    body.append(h("div", { class: "card empty" }, t("money.pick_merchant")));
    return;
  }
  const filters = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
  const summary = h("div", { class: "statement-summary" });
  const list = h("div", { class: "list-card" });
  body.append(h("section", { class: "card", id: "statement" },
    h("div", { class: "card-head" }, h("h2", { class: "card-title" }, t("money.tab.statement") + " · #" + values.merchant_id + " · " + t("account." + values.account)),
      h("a", { class: "btn secondary small", id: "statement-csv", href: csvUrl("/statement.csv", filters), download: "statement.csv" }, t("common.export_csv"))),
    summary, list));
  await pagedList(list, async (cursor) => {
    const page = await api.get("/statement", { ...filters, limit: 50, cursor });
    clear(summary).append(fields([[t("money.opening"), yuan(page.opening_fen)], [t("money.closing"), yuan(page.closing_fen)]]));
    return page;
  }, (page) => table([
    { label: t("order.at"), render: (e) => time(e.at_ms) },
    { label: t("order.entry_kind"), render: (e) => tx("entry." + e.kind, e.kind) },
    { label: t("money.reference"), render: (e) => (e.reference ? h("a", { class: "link mono", href: "#/orders/" + encodeURIComponent(e.reference) }, e.reference) : "—") },
    { label: t("orders.amount"), class: "num", render: (e) => h("span", { class: Number(e.amount_fen) < 0 ? "tone-text-bad" : "tone-text-ok" }, yuan(e.amount_fen, { sign: true })) },
    { label: t("money.balance"), class: "num", render: (e) => h("strong", null, yuan(e.balance_fen)) },
  ], page.items, { empty: t("money.no_entries") }));
}

async function reconciliation(ctx, body) {
  const { query } = ctx;
  const user = currentUser();
  const date = query.get("date") || day(Date.now());
  const merchantId = user.role === "merchant" ? "" : query.get("merchant_id") || "";
  const form = h("form", { class: "filters inline", id: "recon-filters" },
    labelled(t("money.date"), h("input", { name: "date", type: "date", value: date, required: true })),
    user.role === "merchant" ? null : labelled(t("orders.merchant_id"), h("input", { name: "merchant_id", value: merchantId, inputmode: "numeric", placeholder: t("dashboard.all_merchants") })),
    h("button", { class: "btn primary", type: "submit" }, t("common.apply")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(form);
    ctx.setQuery({ tab: "reconciliation", date: f.get("date"), merchant_id: f.get("merchant_id") });
  });
  body.append(form);
  const filters = { date, merchant_id: merchantId };
  const r = await api.get("/reconciliation", filters);
  if (!ctx.alive()) return;
  const matched = !!r.matches;
  const money = (k) => ({ label: reconLabel(k), class: "num", render: (row) => (k.endsWith("_fen") ? yuan(row[k]) : String(row[k] ?? 0)) });
  const columns = [
    can("operator") ? { label: t("orders.merchant"), render: (row) => (row.merchant_id ? h("span", null, row.merchant_name || "", h("span", { class: "sub" }, " #" + row.merchant_id)) : h("strong", null, t("recon.total"))) } : null,
    { label: t("orders.protocol"), render: (row) => (row.protocol ? tx("protocol." + row.protocol, row.protocol) : "—") },
    { label: t("orders.channel"), render: (row) => row.channel || "—" },
    money("orders"), money("gross_fen"), money("fee_fen"), money("net_fen"), money("payouts"), money("payouts_fen"), money("payout_fees_fen"),
  ].filter(Boolean);
  const rows = [...(r.rows || [])];
  body.append(h("section", { class: "card", id: "reconciliation" },
    h("div", { class: "card-head" },
      h("h2", { class: "card-title" }, t("money.tab.reconciliation") + " · " + (r.date || date)),
      h("div", { class: "row-actions" },
        h("span", { class: "recon-badge " + (matched ? "ok" : "bad"), id: "recon-badge" }, matched ? "✓ " + t("recon.matched") : "✕ " + t("recon.unmatched")),
        h("a", { class: "btn secondary small", id: "recon-csv", href: csvUrl("/reconciliation.csv", filters), download: "reconciliation-" + date + ".csv" }, t("common.export_csv")))),
    r.from_ms ? h("p", { class: "hint" }, t("recon.window", { from: time(r.from_ms), to: time(r.to_ms) })) : null,
    table(columns, rows, { empty: t("recon.no_rows") }),
    r.totals ? h("div", { class: "recon-totals" }, h("h3", null, t("recon.total")), fields(Object.entries(r.totals).map(([k, v]) => [reconLabel(k), k.endsWith("_fen") ? yuan(v) : String(v)]))) : null,
    r.ledger ? h("div", { class: "recon-totals" }, h("h3", null, t("recon.ledger")), fields(Object.entries(r.ledger).map(([k, v]) => [tx("recon.ledger_" + k.replace(/_fen$/, ""), k), yuan(v)]))) : null,
    (r.differences || []).length ? h("div", { class: "warning-box" }, h("strong", null, t("recon.differences")), h("ul", null, r.differences.map((d) => h("li", null, mono(d))))) : null));
}

export async function renderMoney(ctx) {
  const { main, query } = ctx;
  const tab = TABS.includes(query.get("tab")) ? query.get("tab") : "balances";
  main.append(pageHead(t("nav.money")), tabs(ctx, tab));
  const body = h("div", { class: "tab-body" });
  main.append(body);
  if (tab === "balances") await balances(ctx, body);
  else if (tab === "statement") await statement(ctx, body);
  else await reconciliation(ctx, body);
}
