// Orders across the three protocols: a search box matching any id, filters, pages of 50 through the API's cursor,
// and a CSV export with the same filters.
import { api, csvUrl } from "../api.js";
import { t } from "../i18n.js";
import { h, clear, yuan, time, badge, table, labelled, select, pageHead, loading, pager, dateToMs, msToDate, mono,
  showError } from "../ui.js";
import { can, navigate } from "../app.js";

const PAGE_SIZE = 50;
export const KINDS = ["card", "payin", "payout", "cashier"];
export const STATUSES = ["processing", "review", "success", "failed", "waiting", "paid", "approval", "rejected",
  "unpaid", "pending", "held"];
const FILTERS = ["q", "kind", "merchant_id", "status", "channel", "from_ms", "to_ms"];

export function orderLink(o) {
  return h("a", { href: "#/orders/" + encodeURIComponent(o.id), class: "mono link" }, o.id);
}

export function orderColumns() {
  return [
    { label: t("orders.id"), render: orderLink },
    { label: t("orders.merchant_order_id"), render: (o) => mono(o.merchant_order_id) },
    can("operator") ? { label: t("orders.merchant"), render: (o) => h("span", null, o.merchant_name || "", h("span", { class: "sub" }, " #" + o.merchant_id)) } : null,
    { label: t("orders.kind"), render: (o) => t("kind." + o.kind) },
    { label: t("orders.channel"), render: (o) => o.channel || "—" },
    { label: t("orders.amount"), class: "num", render: (o) => yuan(o.amount_fen) },
    { label: t("orders.settled"), class: "num", render: (o) => yuan(o.settled_fen) },
    { label: t("orders.status"), render: (o) => badge(o.status) },
    { label: t("orders.created"), render: (o) => time(o.created_at_ms) },
  ].filter(Boolean);
}

function filterForm(ctx, values) {
  const kindOptions = [["", t("common.all")], ...KINDS.map((k) => [k, t("kind." + k)])];
  const statusOptions = [["", t("common.all")], ...STATUSES.map((s) => [s, t("status." + s)])];
  const form = h("form", { class: "filters", id: "order-filters", role: "search" },
    h("div", { class: "search-row" },
      h("input", { name: "q", id: "order-search", type: "search", value: values.q, placeholder: t("orders.search_placeholder"), "aria-label": t("orders.search"), enterkeyhint: "search" }),
      h("button", { class: "btn primary", type: "submit", id: "order-search-submit" }, t("orders.search"))),
    h("details", { class: "more-filters", id: "more-filters", open: window.innerWidth > 860 || FILTERS.some((k) => k !== "q" && values[k]) },
      h("summary", null, t("orders.more_filters")),
      h("div", { class: "filter-grid" },
      labelled(t("orders.kind"), select("kind", kindOptions, values.kind)),
      labelled(t("orders.status"), select("status", statusOptions, values.status)),
      can("operator") ? labelled(t("orders.merchant_id"), h("input", { name: "merchant_id", value: values.merchant_id, inputmode: "numeric" })) : null,
      labelled(t("orders.channel"), h("input", { name: "channel", value: values.channel, placeholder: t("orders.channel_placeholder") })),
      labelled(t("common.from"), h("input", { name: "from", type: "date", value: msToDate(values.from_ms) })),
      labelled(t("common.to"), h("input", { name: "to", type: "date", value: msToDate(values.to_ms, true) })),
      h("div", { class: "filter-buttons" },
        h("button", { class: "btn secondary", type: "submit" }, t("common.apply")),
        h("button", { class: "btn ghost", type: "button", onclick: () => ctx.setQuery({}) }, t("common.reset"))))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(form);
    ctx.setQuery({
      q: String(f.get("q") || "").trim(), kind: f.get("kind"), status: f.get("status"), merchant_id: f.get("merchant_id"),
      channel: f.get("channel"), from_ms: dateToMs(f.get("from")), to_ms: dateToMs(f.get("to"), true),
    });
  });
  for (const name of ["kind", "status"]) form[name].addEventListener("change", () => form.requestSubmit());
  return form;
}

// A paged list: fetches pages through cursors kept in memory (previous pages are not fetched again).
export function pagedList(container, fetchPage, render) {
  const cursors = [null];
  let index = 0;
  async function load() {
    clear(container).append(loading());
    const page = await fetchPage(cursors[index]);
    clear(container);
    cursors[index + 1] = page.next_cursor || null;
    container.append(render(page), pager(index, !!page.next_cursor,
      () => { index -= 1; load().catch(showError); },
      () => { index += 1; load().catch(showError); }));
  }
  return load();
}

export async function renderOrders(ctx) {
  const { main, query } = ctx;
  const values = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || ""]));
  const filters = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
  const csv = h("a", { class: "btn secondary", id: "orders-csv", href: csvUrl("/orders.csv", filters), download: "orders.csv" }, t("common.export_csv"));
  main.append(pageHead(t("nav.orders"), csv), filterForm(ctx, values));
  const list = h("div", { class: "card list-card", id: "orders-list" });
  main.append(list);
  await pagedList(list, (cursor) => api.get("/orders", { ...filters, limit: PAGE_SIZE, cursor }), (page) => {
    const empty = values.q ? t("orders.none_for", { q: values.q }) : t("orders.none");
    return table(orderColumns(), page.items, { empty, onRow: (o) => navigate("#/orders/" + encodeURIComponent(o.id)) });
  });
}
