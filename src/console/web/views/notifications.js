// The notification log: every notification to a merchant's server (operators: all merchants; merchants: their
// own), newest first, with its state, attempts, the last HTTP status and response, a link to its order and a
// resend button (which resends the order's latest notification).
import { api } from "../api.js";
import { t } from "../i18n.js";
import { h, clear, time, badge, table, labelled, select, pageHead, loading, pager, dateToMs, msToDate, mono,
  showNotice, showError } from "../ui.js";
import { can } from "../app.js";

const PAGE_SIZE = 50;
export const NOTIFY_STATES = ["pending", "delivered", "failed", "superseded"];
const PROTOCOLS = ["consign", "gateway", "cashier"];
const FILTERS = ["state", "protocol", "merchant_id", "order", "from_ms", "to_ms"];
const EXCERPT_CHARS = 120;

function filterForm(ctx, values) {
  const stateOptions = [["", t("common.all")], ...NOTIFY_STATES.map((s) => [s, t("notify_state." + s)])];
  const protocolOptions = [["", t("common.all")], ...PROTOCOLS.map((p) => [p, t("protocol." + p)])];
  const form = h("form", { class: "filters", id: "notification-filters", role: "search" },
    h("div", { class: "filter-grid" },
      labelled(t("notifications.state"), select("state", stateOptions, values.state)),
      labelled(t("orders.protocol"), select("protocol", protocolOptions, values.protocol)),
      can("operator") ? labelled(t("orders.merchant_id"), h("input", { name: "merchant_id", value: values.merchant_id, inputmode: "numeric" })) : null,
      labelled(t("orders.id"), h("input", { name: "order", id: "notification-order", value: values.order, placeholder: t("notifications.order_placeholder") })),
      labelled(t("common.from"), h("input", { name: "from", type: "date", value: msToDate(values.from_ms) })),
      labelled(t("common.to"), h("input", { name: "to", type: "date", value: msToDate(values.to_ms, true) })),
      h("div", { class: "filter-buttons" },
        h("button", { class: "btn secondary", type: "submit" }, t("common.apply")),
        h("button", { class: "btn ghost", type: "button", onclick: () => ctx.setQuery({}) }, t("common.reset")))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(form);
    ctx.setQuery({
      state: f.get("state"), protocol: f.get("protocol"), merchant_id: f.get("merchant_id"),
      order: String(f.get("order") || "").trim(), from_ms: dateToMs(f.get("from")), to_ms: dateToMs(f.get("to"), true),
    });
  });
  for (const name of ["state", "protocol"]) form[name].addEventListener("change", () => form.requestSubmit());
  return form;
}

function excerpt(text) {
  if (!text) return "";
  return text.length > EXCERPT_CHARS ? text.slice(0, EXCERPT_CHARS) + "…" : text;
}

// The last attempt's answer: its error (if any) and the start of the body the merchant's server answered.
function lastResponse(n) {
  const a = n.last_attempt;
  if (!a) return h("span", { class: "sub" }, t("order.no_attempts"));
  return h("div", { class: "notify-response" },
    a.error ? h("div", { class: "tone-text-bad" }, a.error) : null,
    a.body_excerpt ? h("pre", { class: "excerpt", title: a.body_excerpt }, excerpt(a.body_excerpt)) : null,
    !a.error && !a.body_excerpt ? "—" : null);
}

export async function renderNotifications(ctx) {
  const { main, query } = ctx;
  const values = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || ""]));
  const filters = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
  main.append(pageHead(t("nav.notifications")),
    h("p", { class: "page-sub" }, t(can("operator") ? "notifications.help_operator" : "notifications.help")),
    filterForm(ctx, values));
  const list = h("div", { class: "card list-card", id: "notifications-list" });
  main.append(list);

  // Pages through cursors kept in memory; reload() fetches the current page again (after a resend).
  const cursors = [null];
  let index = 0;
  async function load() {
    clear(list).append(loading());
    const page = await api.get("/notifications", { ...filters, limit: PAGE_SIZE, cursor: cursors[index] });
    if (!ctx.alive()) return;
    clear(list);
    cursors[index + 1] = page.next_cursor || null;
    list.append(table(columns(), page.items, { empty: t("notifications.none") }),
      pager(index, !!page.next_cursor,
        () => { index -= 1; load().catch(showError); },
        () => { index += 1; load().catch(showError); }));
  }

  const resend = async (n, btn) => {
    btn.disabled = true;
    try {
      await api.post("/orders/" + encodeURIComponent(n.order_id) + "/resend");
      await load();
      showNotice(t("order.resent", { id: n.order_id }));
    } catch (e) {
      showError(e);
      btn.disabled = false;
    }
  };

  function columns() {
    return [
      { label: t("notifications.id"), render: (n) => mono("#" + n.id) },
      { label: t("orders.id"), render: (n) => h("a", { href: "#/orders/" + encodeURIComponent(n.order_id), class: "mono link" }, n.order_id) },
      can("operator") ? { label: t("orders.merchant"), render: (n) => mono("#" + n.merchant_id) } : null,
      { label: t("orders.protocol"), render: (n) => t("protocol." + n.protocol) },
      { label: t("notifications.state"), render: (n) => badge(n.state, t("notify_state." + n.state)) },
      { label: t("notifications.attempts_made"), class: "num", render: (n) => n.attempts_made + " / " + n.attempts_max },
      { label: t("order.http_status"), render: (n) => (n.last_attempt && n.last_attempt.http_status ? mono(String(n.last_attempt.http_status)) : "—") },
      { label: t("order.response"), class: "wide", render: lastResponse },
      {
        label: t("notifications.last_activity"),
        render: (n) => h("div", null, time(n.last_attempt ? n.last_attempt.started_at_ms : n.created_at_ms),
          n.state === "pending" && n.next_attempt_at_ms ? h("div", { class: "sub" }, t("order.next_attempt", { at: time(n.next_attempt_at_ms) })) : null),
      },
      {
        label: t("common.actions"), render: (n) => h("div", { class: "row-actions" },
          h("a", { class: "btn ghost small", href: "#/orders/" + encodeURIComponent(n.order_id) }, t("notifications.attempts")),
          h("button", { class: "btn secondary small resend", type: "button", dataset: { order: n.order_id }, onclick: (e) => resend(n, e.currentTarget) }, t("order.action.resend"))),
      },
    ].filter(Boolean);
  }

  await load();
}
