// The signed-in user's own page: who they are, a password change, and for merchants their merchant's settings
// and keys' fingerprints (the keys themselves are never shown again after creation or rotation).
import { api } from "../api.js";
import { t } from "../i18n.js";
import { h, time, card, fields, pageHead, labelled, mono, badge, yuan, showError, showNotice } from "../ui.js";

function passwordCard() {
  const current = h("input", { name: "current_password", type: "password", autocomplete: "current-password", required: true, id: "current-password" });
  const next = h("input", { name: "new_password", type: "password", autocomplete: "new-password", minlength: 10, maxlength: 128, required: true, id: "new-password" });
  const again = h("input", { name: "again", type: "password", autocomplete: "new-password", required: true, id: "new-password-again" });
  const error = h("p", { class: "form-error", hidden: true });
  const form = h("form", { class: "form narrow", id: "password-form" },
    labelled(t("account.current_password"), current),
    labelled(t("account.new_password"), next, t("users.password_hint")),
    labelled(t("account.new_password_again"), again),
    error,
    h("div", { class: "form-actions" }, h("button", { class: "btn primary", type: "submit" }, t("account.change_password"))));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    if (next.value.length < 10 || next.value !== again.value) {
      error.textContent = next.value !== again.value ? t("account.mismatch") : t("users.password_hint");
      error.hidden = false;
      return;
    }
    try {
      await api.post("/me/password", { current_password: current.value, new_password: next.value });
      form.reset();
      showNotice(t("account.password_changed"));
    } catch (err) {
      showError(err);
    }
  });
  return card(t("account.change_password"), form);
}

export async function renderAccount(ctx) {
  const { main, user } = ctx;
  main.append(pageHead(t("nav.account")));
  const grid = h("div", { class: "grid-2" });
  main.append(grid);
  grid.append(card(t("account.me"), fields([
    [t("users.name"), h("strong", null, user.name)],
    [t("users.role"), t("role." + user.role)],
    user.merchant_id ? [t("orders.merchant_id"), mono(String(user.merchant_id))] : null,
    [t("users.last_login"), time(user.last_login_at_ms)],
    [t("orders.created"), time(user.created_at_ms)],
  ])), passwordCard());
  if (user.role !== "merchant") return;
  try {
    const d = await api.get("/merchants/" + user.merchant_id);
    if (!ctx.alive()) return;
    const m = d.merchant;
    main.append(card(t("merchant.keys"), fields([
      [t("merchants.name"), h("span", null, m.name, " ", badge(m.enabled ? "enabled" : "disabled"))],
      [t("merchants.app_key"), mono(m.app_key)],
      [t("merchant.keys_version"), String(m.keys_version ?? "—")],
      [t("merchant.key_fingerprint"), mono(m.key_fingerprint)],
      [t("merchant.aes_fingerprint"), mono(m.aes_key_fingerprint)],
      [t("merchants.payout_fee"), yuan(m.payout_fee_fen)],
      [t("merchants.settlement_delay"), t("account.days", { n: m.settlement_delay_days })],
      [t("merchants.manual_approval"), m.payout_manual_approval ? t("common.yes") : t("common.no")],
      [t("merchants.ip_allowlist"), (m.ip_allowlist || []).length ? mono(m.ip_allowlist.join(", ")) : t("account.any_ip")],
    ]), h("p", { class: "hint" }, t("account.keys_hint"))));
  } catch (e) {
    showError(e);
  }
}
