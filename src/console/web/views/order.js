// One order: its fields, timeline, ledger postings, notification attempts (with the response received), and the
// actions the API says this user may take now. After an action the detail is loaded again.
import { api, ApiError } from "../api.js";
import { t, tx } from "../i18n.js";
import { h, clear, yuan, time, badge, table, fields, card, pageHead, loading, mono, modal, confirmDialog, button,
  labelled, parseYuan, showError, showNotice } from "../ui.js";

// Fields shown first, in this order; the rest of the kind's fields follow.
const MAIN_FIELDS = ["id", "merchant_order_id", "merchant_id", "merchant_name", "protocol", "kind", "channel",
  "amount_fen", "settled_fen", "fee_fen", "status", "created_at_ms", "updated_at_ms"];

function fieldValue(key, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (key.endsWith("_fen")) return yuan(value);
  if (key.endsWith("_yuan")) return yuan(Math.round(Number(value) * 100));
  if (key.endsWith("_ms")) return time(value);
  if (key.endsWith("_s") && typeof value === "number") return value > 0 ? time(value * 1000) : "—";
  if (key === "held_from") return badge(value);
  if (key.endsWith("_permille")) return (Number(value) / 10).toFixed(1) + "%";
  if (key === "status") return badge(value);
  if (key === "protocol") return t("protocol." + value);
  if (key === "kind") return t("kind." + value);
  if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
  if (typeof value === "object") return mono(JSON.stringify(value));
  return /(_id|id|url|number|mrn|accno)$/i.test(key) ? mono(String(value)) : String(value);
}

// "merchant:10001:available" -> "商户 10001 · 可用"; "platform:revenue" -> "平台收入".
export function accountLabel(code) {
  const m = /^merchant:(\d+):(\w+)$/.exec(code || "");
  if (m) return t("ledger_account.merchant", { id: m[1], account: tx("account." + m[2], m[2]) });
  return tx("ledger_account." + code, code);
}

function fieldLabel(key) {
  return tx("field." + key, key);
}

async function act(ctx, id, action, body) {
  try {
    await api.post("/orders/" + encodeURIComponent(id) + "/" + action, body);
    showNotice(t("order.done." + action));
  } catch (e) {
    showError(e);
    return false;
  }
  await reload(ctx);
  return true;
}

async function reload(ctx) {
  const keep = document.getElementById("banner");
  const saved = keep && !keep.hidden ? Array.from(keep.childNodes) : null;
  const savedClass = keep && keep.className;
  clear(ctx.main);
  await renderOrder(ctx);
  const banner = document.getElementById("banner");
  if (saved && banner) {
    banner.className = savedClass;
    banner.hidden = false;
    clear(banner).append(...saved);
  }
}

function resolveForm(ctx, order) {
  return modal(t("order.action.resolve"), (close) => {
    const form = h("form", { class: "form", id: "resolve-form" });
    const success = h("input", { type: "radio", name: "result", value: "success", checked: true });
    const fail = h("input", { type: "radio", name: "result", value: "fail" });
    const face = order.amount_fen ? (Number(order.amount_fen) / 100).toFixed(2) : "";
    const real = h("input", { name: "real_money_yuan", id: "resolve-real", inputmode: "decimal", value: face, required: true });
    const message = h("input", { name: "message", id: "resolve-message", maxlength: 200, placeholder: t("order.resolve_message_placeholder") });
    const error = h("p", { class: "form-error", hidden: true });
    const realRow = labelled(t("order.real_value"), real, t("order.real_value_hint"));
    const msgRow = labelled(t("order.fail_message"), message);
    msgRow.hidden = true;
    const sync = () => { realRow.hidden = !success.checked; msgRow.hidden = success.checked; };
    success.addEventListener("change", sync);
    fail.addEventListener("change", sync);
    form.append(
      h("div", { class: "radio-row" },
        h("label", { class: "radio" }, success, t("order.resolve_success")),
        h("label", { class: "radio" }, fail, t("order.resolve_fail"))),
      realRow, msgRow, error,
      h("div", { class: "modal-actions" }, button(t("common.cancel"), () => close()),
        h("button", { class: "btn primary", type: "submit", id: "resolve-submit" }, t("common.submit"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      let body;
      if (success.checked) {
        const fen = parseYuan(real.value);
        if (fen === null || fen <= 0) {
          error.textContent = t("order.bad_amount");
          error.hidden = false;
          return;
        }
        body = { result: "success", real_money_yuan: fen / 100 };
      } else {
        if (!message.value.trim()) {
          error.textContent = t("order.need_message");
          error.hidden = false;
          return;
        }
        body = { result: "fail", message: message.value.trim() };
      }
      close();
      await act(ctx, order.id, "resolve", body);
    });
    return form;
  });
}

function releaseForm(ctx, order) {
  return modal(t("order.action.release"), (close) => {
    const form = h("form", { class: "form", id: "release-form" });
    const toMerchant = h("input", { type: "radio", name: "to", value: "merchant", checked: true });
    const toPayer = h("input", { type: "radio", name: "to", value: "payer" });
    form.append(h("p", { class: "modal-text" }, t("order.release_help")),
      h("div", { class: "radio-row" },
        h("label", { class: "radio" }, toMerchant, t("order.release_merchant")),
        h("label", { class: "radio" }, toPayer, t("order.release_payer"))),
      h("div", { class: "modal-actions" }, button(t("common.cancel"), () => close()),
        h("button", { class: "btn primary", type: "submit", id: "release-submit" }, t("common.submit"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      close();
      await act(ctx, order.id, "release", { to: toMerchant.checked ? "merchant" : "payer" });
    });
    return form;
  });
}

function messageForm(ctx, order, action) {
  return modal(t("order.action." + action), (close) => {
    const form = h("form", { class: "form", id: action + "-form" });
    const message = h("input", { name: "message", id: action + "-message", maxlength: 200 });
    form.append(h("p", { class: "modal-text" }, t("order.confirm_" + action, { id: order.id, amount: yuan(order.amount_fen) })),
      labelled(t("order.note_optional"), message),
      h("div", { class: "modal-actions" }, button(t("common.cancel"), () => close()),
        h("button", { class: "btn " + (action === "reject" ? "danger" : "primary"), type: "submit", id: action + "-submit" }, t("order.action." + action))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      close();
      const body = message.value.trim() ? { message: message.value.trim() } : {};
      await act(ctx, order.id, action, body);
    });
    return form;
  });
}

function actionButtons(ctx, order, actions) {
  const handlers = {
    resend: async () => {
      if (await confirmDialog(t("order.action.resend"), t("order.confirm_resend"))) await act(ctx, order.id, "resend");
    },
    resolve: () => resolveForm(ctx, order),
    hold: async () => {
      if (await confirmDialog(t("order.action.hold"), t("order.confirm_hold"))) await act(ctx, order.id, "hold");
    },
    release: () => releaseForm(ctx, order),
    approve: () => messageForm(ctx, order, "approve"),
    reject: () => messageForm(ctx, order, "reject"),
  };
  const kinds = { resend: "secondary", resolve: "primary", hold: "secondary", release: "primary", approve: "primary", reject: "danger" };
  return (actions || []).filter((a) => handlers[a]).map((a) =>
    h("button", { class: "btn " + kinds[a], type: "button", id: "action-" + a, onclick: handlers[a] }, t("order.action." + a)));
}

// The timeline's events: "created", a state name, "ledger <entry kind>", "notify.queued", "notify.attempt", or an
// operator's audited action ("order.resolve", "payout.approve", ...).
function eventLabel(event) {
  const e = String(event || "");
  if (e.startsWith("ledger ")) return t("event.ledger") + " · " + tx("entry." + e.slice(7), e.slice(7));
  return tx("event." + e, "") || tx("status." + e, "") || tx("audit_action." + e, "") || e;
}

function timeline(items) {
  if (!items || !items.length) return h("div", { class: "empty" }, t("common.empty"));
  return h("ol", { class: "timeline", id: "timeline" }, items.map((e) =>
    h("li", { class: "timeline-item" },
      h("span", { class: "timeline-dot" }),
      h("div", { class: "timeline-body" },
        h("div", { class: "timeline-head" }, h("strong", null, eventLabel(e.event)), h("time", null, time(e.at_ms))),
        e.detail ? h("div", { class: "timeline-detail" }, typeof e.detail === "string" ? e.detail : JSON.stringify(e.detail)) : null))));
}

function notifications(list) {
  if (!list || !list.length) return h("div", { class: "empty" }, t("order.no_notifications"));
  return list.map((n) => h("div", { class: "notification", dataset: { notificationId: n.id } },
    h("div", { class: "notification-head" },
      badge(n.state),
      h("span", { class: "mono url" }, n.url),
      h("span", { class: "sub" }, t("order.attempts_made", { made: n.attempts_made, max: n.attempts_max })),
      n.next_attempt_at_ms ? h("span", { class: "sub" }, t("order.next_attempt", { at: time(n.next_attempt_at_ms) })) : null),
    table([
      { label: "#", render: (a) => String(a.attempt_no) },
      { label: t("order.attempt_time"), render: (a) => time(a.started_at_ms) },
      { label: t("order.latency"), class: "num", render: (a) => (a.latency_ms == null ? "—" : a.latency_ms + " ms") },
      { label: t("order.http_status"), render: (a) => (a.http_status ? mono(String(a.http_status)) : "—") },
      { label: t("order.result"), render: (a) => badge(a.delivered ? "delivered" : "failed", a.delivered ? t("order.delivered") : t("order.not_delivered")) },
      { label: t("order.response"), class: "wide", render: (a) => h("div", null, a.error ? h("div", { class: "tone-text-bad" }, a.error) : null, a.body_excerpt ? h("pre", { class: "excerpt" }, a.body_excerpt) : null, !a.error && !a.body_excerpt ? "—" : null) },
    ], n.attempts || [], { empty: t("order.no_attempts") })));
}

export async function renderOrder(ctx) {
  const { main, parts } = ctx;
  const id = parts[1];
  main.append(h("a", { class: "back", href: "#/orders" }, "← " + t("nav.orders")));
  const body = h("div", { class: "order-detail" }, loading());
  main.append(body);
  let d;
  try {
    d = await api.get("/orders/" + encodeURIComponent(id));
  } catch (e) {
    if (!ctx.alive()) return;
    if (e instanceof ApiError && e.status === 404) {
      clear(body).append(h("div", { class: "card not-found", id: "not-found" }, h("h1", null, t("order.not_found")), h("p", null, t("order.not_found_help", { id }))));
      return;
    }
    throw e;
  }
  if (!ctx.alive()) return;
  clear(body);
  const o = d.order;
  const actions = actionButtons(ctx, o, d.actions);
  body.append(pageHead(t("order.title"), ...actions));
  body.append(h("div", { class: "order-summary card" },
    h("div", null, h("div", { class: "sub" }, t("kind." + o.kind) + " · " + t("protocol." + o.protocol)), h("div", { class: "mono big-id", id: "order-id" }, o.id)),
    h("div", { class: "summary-amount" }, yuan(o.amount_fen)),
    badge(o.status)));
  const keys = [...MAIN_FIELDS.filter((k) => k in o), ...Object.keys(o).filter((k) => !MAIN_FIELDS.includes(k))];
  body.append(h("div", { class: "grid-2" },
    card(t("order.fields"), fields(keys.map((k) => [fieldLabel(k), fieldValue(k, o[k])]))),
    card(t("order.timeline"), timeline(d.timeline))));
  body.append(card(t("order.postings"), table([
    { label: t("order.entry"), render: (p) => mono(String(p.entry_id)) },
    { label: t("order.entry_kind"), render: (p) => tx("entry." + p.kind, p.kind) },
    { label: t("order.account"), render: (p) => h("span", { title: p.account }, accountLabel(p.account)) },
    { label: t("orders.amount"), class: "num", render: (p) => h("span", { class: Number(p.amount_fen) < 0 ? "tone-text-bad" : "tone-text-ok" }, yuan(p.amount_fen, { sign: true })) },
    { label: t("order.at"), render: (p) => time(p.at_ms) },
  ], d.postings, { empty: t("order.no_postings") })));
  body.append(h("section", { class: "card", id: "notifications" }, h("h2", { class: "card-title" }, t("order.notifications")), notifications(d.notifications)));
}
