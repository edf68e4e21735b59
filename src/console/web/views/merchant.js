// One merchant: settings, keys (rotation shows the new keys once), channels with rates, products, balances and
// its console logins. Only admins change anything; support staff see the same page read-only.
import { api, enc } from "../api.js";
import { t, lang } from "../i18n.js";
import { h, clear, yuan, time, badge, table, fields, card, pageHead, loading, mono, button, labelled,
  confirmDialog, parseYuan, showError, showNotice, modal } from "../ui.js";
import { can } from "../app.js";
import { showKeys } from "./merchants.js";
import { createUserForm } from "./users.js";

function checkbox(name, checked, disabled) {
  return h("input", { type: "checkbox", name, checked, disabled, class: "switch" });
}

function settingsForm(ctx, m) {
  const editable = can("manage_merchants");
  const form = h("form", { class: "form settings", id: "merchant-settings" },
    h("div", { class: "form-grid" },
      labelled(t("merchants.name"), h("input", { name: "name", value: m.name, maxlength: 64, disabled: !editable })),
      labelled(t("merchants.payout_fee"), h("input", { name: "payout_fee", value: (Number(m.payout_fee_fen) / 100).toFixed(2), inputmode: "decimal", disabled: !editable }), t("merchants.payout_fee_hint")),
      labelled(t("merchants.settlement_delay"), h("input", { name: "settlement_delay_days", type: "number", min: 0, max: 30, value: m.settlement_delay_days, disabled: !editable }), t("merchants.settlement_delay_hint"))),
    h("div", { class: "switches" },
      h("label", { class: "switch-row" }, checkbox("enabled", m.enabled, !editable), h("span", null, t("merchants.enabled"))),
      h("label", { class: "switch-row" }, checkbox("payout_manual_approval", m.payout_manual_approval, !editable), h("span", null, t("merchants.manual_approval"))),
      h("label", { class: "switch-row" }, checkbox("bound_card_allowed", m.bound_card_allowed, !editable), h("span", null, t("merchants.bound_card")))),
    labelled(t("merchants.ip_allowlist"), h("textarea", { name: "ip_allowlist", rows: 3, disabled: !editable, placeholder: "203.0.113.7\n198.51.100.0/24" }), t("merchants.ip_allowlist_hint")),
    editable ? h("div", { class: "form-actions" }, h("button", { class: "btn primary", type: "submit", id: "settings-save" }, t("common.save"))) : null);
  form.ip_allowlist.value = (m.ip_allowlist || []).join("\n");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const fee = parseYuan(form.payout_fee.value);
    if (fee === null) {
      showError({ code: "bad_request", message: t("merchants.payout_fee") });
      return;
    }
    const body = {
      name: form.name.value.trim(),
      enabled: form.enabled.checked,
      payout_fee_fen: fee,
      payout_manual_approval: form.payout_manual_approval.checked,
      settlement_delay_days: Number(form.settlement_delay_days.value || 0),
      bound_card_allowed: form.bound_card_allowed.checked,
      ip_allowlist: form.ip_allowlist.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean),
    };
    try {
      await api.patch("/merchants/" + m.id, body);
      showNotice(t("common.saved"));
      ctx.rerender();
    } catch (err) {
      showError(err);
    }
  });
  return form;
}

function channelsTable(ctx, m, channels) {
  const editable = can("manage_merchants");
  return table([
    { label: t("merchant.channel"), render: (c) => h("span", null, h("strong", null, lang() === "en" && c.name_en ? c.name_en : c.name), h("span", { class: "sub" }, " #" + c.channel_id)) },
    { label: t("merchant.processor"), render: (c) => c.processor || "—" },
    { label: t("merchant.limits"), render: (c) => (c.min_amount_fen || c.max_amount_fen ? `${yuan(c.min_amount_fen)} – ${yuan(c.max_amount_fen)}` : "—") },
    {
      label: t("merchant.fee_rate"), render: (c) => {
        const input = h("input", { class: "rate", name: "rate", value: c.fee_rate_permille == null ? "" : (Number(c.fee_rate_permille) / 10).toFixed(1), placeholder: "0.0", inputmode: "decimal", disabled: !editable, "aria-label": t("merchant.fee_rate") });
        return h("span", { class: "rate-cell" }, input, "%");
      },
    },
    { label: t("merchants.state"), render: (c) => h("label", { class: "switch-row" }, checkbox("enabled", c.enabled, !editable), h("span", null, c.enabled ? t("common.on") : t("common.off"))) },
    editable ? {
      label: t("common.actions"), render: (c) => button(t("common.save"), async (e) => {
        const row = e.target.closest("tr");
        const text = row.querySelector("input.rate").value.trim();
        const rate = Number(text);
        if (text === "" || !Number.isFinite(rate) || rate < 0 || rate > 100) {
          showError({ code: "bad_request", message: t("merchant.fee_rate") });
          return;
        }
        try {
          await api.put(`/merchants/${m.id}/channels/${enc(c.channel_id)}`, {
            enabled: row.querySelector("input[name=enabled]").checked,
            fee_rate_permille: Math.round(rate * 10),
          });
          showNotice(t("merchant.channel_saved", { name: lang() === "en" && c.name_en ? c.name_en : c.name }));
          ctx.rerender();
        } catch (err) {
          showError(err);
        }
      }, { kind: "secondary small" }),
    } : null,
  ].filter(Boolean), channels, { empty: t("merchant.no_channels") });
}

function productsTable(ctx, m, products) {
  const editable = can("manage_merchants");
  return table([
    { label: t("merchant.product_code"), render: (p) => mono(p.code) },
    { label: t("merchant.product_name"), render: (p) => h("span", null, p.name, p.catalogue_enabled === false ? h("span", { class: "sub" }, " · " + t("merchant.product_off")) : null) },
    { label: t("merchant.default_rate"), render: (p) => (p.default_rate_permille == null ? "—" : (Number(p.default_rate_permille) / 10).toFixed(1) + "%") },
    {
      label: t("merchants.state"), render: (p) => {
        const box = checkbox("enabled", p.enabled, !editable);
        box.addEventListener("change", async () => {
          try {
            await api.put(`/merchants/${m.id}/products/${enc(p.code)}`, { enabled: box.checked });
            showNotice(t("merchant.product_saved", { code: p.code }));
          } catch (err) {
            box.checked = !box.checked;
            showError(err);
          }
        });
        return h("label", { class: "switch-row" }, box, h("span", null, p.enabled ? t("common.on") : t("common.off")));
      },
    },
  ], products, { empty: t("merchant.no_products") });
}

export async function renderMerchant(ctx) {
  const { main, parts } = ctx;
  const id = parts[1];
  main.append(h("a", { class: "back", href: "#/merchants" }, "← " + t("nav.merchants")));
  const body = h("div", null, loading());
  main.append(body);
  const d = await api.get("/merchants/" + enc(id));
  if (!ctx.alive()) return;
  clear(body);
  const m = d.merchant;
  const rotate = async () => {
    if (!(await confirmDialog(t("merchant.rotate"), t("merchant.rotate_confirm"), { danger: true, okLabel: t("merchant.rotate") }))) return;
    try {
      const r = await api.post(`/merchants/${m.id}/rotate-keys`);
      await showKeys(t("merchant.rotated"), r.merchant, r.keys);
      ctx.rerender();
    } catch (err) {
      showError(err);
    }
  };
  body.append(pageHead(m.name, badge(m.enabled ? "enabled" : "disabled"),
    h("a", { class: "btn secondary", href: "#/orders?merchant_id=" + m.id }, t("merchant.view_orders"))));
  const b = d.balances || {};
  body.append(h("div", { class: "balances", id: "merchant-balances" },
    [["available", b.available_fen], ["pending", b.pending_fen], ["frozen", b.frozen_fen], ["payout_reserved", b.payout_reserved_fen]]
      .map(([k, v]) => h("div", { class: "balance balance-" + k }, h("span", null, t("account." + k)), h("strong", null, yuan(v))))));
  body.append(h("div", { class: "grid-2" },
    card(t("merchant.settings"), settingsForm(ctx, m)),
    card(t("merchant.keys"),
      fields([
        [t("merchants.id"), mono(String(m.id))],
        [t("merchants.app_key"), mono(m.app_key)],
        [t("merchant.keys_version"), String(m.keys_version ?? "—")],
        [t("merchant.key_fingerprint"), mono(m.key_fingerprint)],
        [t("merchant.aes_fingerprint"), mono(m.aes_key_fingerprint)],
        [t("orders.created"), time(m.created_at_ms)],
        [t("orders.updated"), time(m.updated_at_ms)],
      ]),
      h("p", { class: "hint" }, t("merchant.keys_hint")),
      can("manage_merchants") ? h("div", { class: "form-actions" }, button(t("merchant.rotate"), rotate, { kind: "danger", id: "rotate-keys" })) : null)));
  body.append(card(t("merchant.channels"), channelsTable(ctx, m, d.channels || [])));
  body.append(card(t("merchant.products"), productsTable(ctx, m, d.products || [])));
  const addLogin = can("manage_users") ? button("+ " + t("users.create_login"), async () => {
    const created = await modal(t("users.create_login"), (close) => createUserForm(close, { role: "merchant", merchantId: m.id }));
    if (created) {
      showNotice(t("users.created", { name: created.name }));
      ctx.rerender();
    }
  }, { kind: "secondary small", id: "merchant-login-create" }) : null;
  body.append(h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", { class: "card-title" }, t("merchant.users")), addLogin),
    table([
      { label: t("users.name"), render: (u) => h("strong", null, u.name) },
      { label: t("merchants.state"), render: (u) => badge(u.enabled ? "enabled" : "disabled") },
      { label: t("users.last_login"), render: (u) => time(u.last_login_at_ms) },
      { label: t("orders.created"), render: (u) => time(u.created_at_ms) },
    ], d.users || [], { empty: t("merchant.no_users") })));
}
