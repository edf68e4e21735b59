// Merchants: a searchable, paged list with balances; admins create merchants (their keys are shown once).
import { api } from "../api.js";
import { t } from "../i18n.js";
import { h, yuan, time, badge, table, pageHead, modal, button, labelled, mono, copyButton } from "../ui.js";
import { can, navigate } from "../app.js";
import { pagedList } from "./orders.js";

// The keys of a new or rotated merchant: shown once, with a warning and copy buttons.
export function showKeys(title, merchant, keys) {
  return modal(title, (close) => [
    h("div", { class: "warning-box", id: "keys-warning" }, h("strong", null, t("keys.once_title")), h("p", null, t("keys.once_text"))),
    h("dl", { class: "fields keys", id: "new-keys" },
      [["merchant_id", String(merchant.id)], ["appKey", keys.appKey], ["key", keys.key], ["aesKey", keys.aesKey]]
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => h("div", { class: "field-row" }, h("dt", null, t("keys." + k)),
          h("dd", null, h("code", { class: "secret", dataset: { key: k } }, v), k === "merchant_id" ? null : copyButton(v))))),
    h("div", { class: "modal-actions" }, button(t("keys.saved"), () => close(true), { kind: "primary", id: "keys-done" })),
  ], { wide: true });
}

async function createMerchant() {
  const created = await modal(t("merchants.create"), (close) => {
    const name = h("input", { name: "name", id: "merchant-name", required: true, maxlength: 64 });
    const error = h("p", { class: "form-error", hidden: true });
    const form = h("form", { class: "form", id: "merchant-create-form" },
      labelled(t("merchants.name"), name), error,
      h("div", { class: "modal-actions" }, button(t("common.cancel"), () => close()),
        h("button", { class: "btn primary", type: "submit", id: "merchant-create-submit" }, t("common.create"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!name.value.trim()) return;
      try {
        close(await api.post("/merchants", { name: name.value.trim() }));
      } catch (err) {
        error.textContent = err.message || String(err);
        error.hidden = false;
      }
    });
    return form;
  });
  if (!created) return;
  await showKeys(t("merchants.created"), created.merchant, created.keys);
  navigate("#/merchants/" + created.merchant.id);
}

export async function renderMerchants(ctx) {
  const { main, query } = ctx;
  const q = query.get("q") || "";
  const search = h("form", { class: "filters", role: "search" },
    h("div", { class: "search-row" },
      h("input", { name: "q", type: "search", value: q, placeholder: t("merchants.search_placeholder"), "aria-label": t("orders.search") }),
      h("button", { class: "btn primary", type: "submit" }, t("orders.search"))));
  search.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.setQuery({ q: search.q.value.trim() });
  });
  main.append(pageHead(t("nav.merchants"),
    can("manage_merchants") ? h("button", { class: "btn primary", type: "button", id: "merchant-create", onclick: createMerchant }, "+ " + t("merchants.create")) : null),
    search);
  const list = h("div", { class: "card list-card", id: "merchants-list" });
  main.append(list);
  await pagedList(list, (cursor) => api.get("/merchants", { q, limit: 50, cursor }), (page) => table([
    { label: t("merchants.id"), render: (m) => h("a", { href: "#/merchants/" + m.id, class: "link mono" }, String(m.id)) },
    { label: t("merchants.name"), render: (m) => h("strong", null, m.name) },
    { label: t("merchants.state"), render: (m) => badge(m.enabled ? "enabled" : "disabled") },
    { label: t("account.available"), class: "num", render: (m) => yuan(m.balances && m.balances.available_fen) },
    { label: t("account.pending"), class: "num", render: (m) => yuan(m.balances && m.balances.pending_fen) },
    { label: t("merchants.app_key"), render: (m) => mono(m.app_key) },
    { label: t("orders.created"), render: (m) => time(m.created_at_ms) },
  ], page.items, { empty: t("merchants.none"), onRow: (m) => navigate("#/merchants/" + m.id) }));
}
