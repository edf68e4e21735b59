// Console users (admins): operators and merchant logins; create, disable, enable, set a new password.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { h, time, badge, table, pageHead, modal, button, labelled, select, confirmDialog, showError, showNotice } from "../ui.js";
import { pagedList } from "./orders.js";
import { currentUser } from "../app.js";

// The form of a new user; close(user) when created. Fixed role/merchant when given (a merchant's page).
export function createUserForm(close, { role, merchantId } = {}) {
  const name = h("input", { name: "name", id: "user-name", required: true, maxlength: 64, autocomplete: "off" });
  const password = h("input", { name: "password", id: "user-password", type: "password", required: true, minlength: 10, maxlength: 128, autocomplete: "new-password" });
  const roleSelect = select("role", [["support", t("role.support")], ["admin", t("role.admin")], ["merchant", t("role.merchant")]], role || "support");
  roleSelect.id = "user-role";
  const merchant = h("input", { name: "merchant_id", id: "user-merchant", inputmode: "numeric", value: merchantId ?? "" });
  const merchantRow = labelled(t("orders.merchant_id"), merchant);
  const error = h("p", { class: "form-error", hidden: true });
  const sync = () => { merchantRow.hidden = roleSelect.value !== "merchant"; };
  roleSelect.addEventListener("change", sync);
  sync();
  const form = h("form", { class: "form", id: "user-create-form" },
    labelled(t("users.name"), name),
    role ? null : labelled(t("users.role"), roleSelect),
    role ? null : merchantRow,
    labelled(t("users.password"), password, t("users.password_hint")),
    error,
    h("div", { class: "modal-actions" }, button(t("common.cancel"), () => close()),
      h("button", { class: "btn primary", type: "submit", id: "user-create-submit" }, t("common.create"))));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = role || roleSelect.value;
    if (password.value.length < 10) {
      error.textContent = t("users.password_hint");
      error.hidden = false;
      return;
    }
    const body = { name: name.value.trim(), role: r, password: password.value };
    if (r === "merchant") body.merchant_id = Number(merchantId ?? merchant.value);
    try {
      close(await api.post("/users", body));
    } catch (err) {
      error.textContent = err.message || String(err);
      error.hidden = false;
    }
  });
  return form;
}

function passwordForm(user) {
  return modal(t("users.set_password"), (close) => {
    const password = h("input", { name: "password", type: "password", minlength: 10, maxlength: 128, autocomplete: "new-password", id: "reset-password" });
    const error = h("p", { class: "form-error", hidden: true });
    const form = h("form", { class: "form" },
      h("p", { class: "modal-text" }, t("users.set_password_help", { name: user.name })),
      labelled(t("users.password"), password, t("users.password_hint")), error,
      h("div", { class: "modal-actions" }, button(t("common.cancel"), () => close()),
        h("button", { class: "btn primary", type: "submit" }, t("common.save"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await api.post(`/users/${user.id}/password`, { password: password.value });
        close(true);
      } catch (err) {
        error.textContent = err.message || String(err);
        error.hidden = false;
      }
    });
    return form;
  });
}

export async function renderUsers(ctx) {
  const { main, query } = ctx;
  const role = query.get("role") || "";
  const filter = select("role", [["", t("common.all")], ["admin", t("role.admin")], ["support", t("role.support")], ["merchant", t("role.merchant")]], role);
  filter.addEventListener("change", () => ctx.setQuery({ role: filter.value }));
  const create = async () => {
    const created = await modal(t("users.create"), (close) => createUserForm(close));
    if (created) {
      showNotice(t("users.created", { name: created.name }));
      ctx.rerender();
    }
  };
  main.append(pageHead(t("nav.users"), button("+ " + t("users.create"), create, { kind: "primary", id: "user-create" })),
    h("div", { class: "filters inline" }, labelled(t("users.role"), filter)));
  const me = currentUser();
  const toggle = async (u) => {
    const action = u.enabled ? "disable" : "enable";
    if (u.enabled && !(await confirmDialog(t("users.disable"), t("users.disable_confirm", { name: u.name }), { danger: true, okLabel: t("users.disable") }))) return;
    try {
      await api.post(`/users/${u.id}/${action}`);
      showNotice(t(u.enabled ? "users.disabled" : "users.enabled", { name: u.name }));
      ctx.rerender();
    } catch (err) {
      showError(err);
    }
  };
  const list = h("div", { class: "card list-card", id: "users-list" });
  main.append(list);
  await pagedList(list, (cursor) => api.get("/users", { role, limit: 50, cursor }), (page) => table([
    { label: t("users.name"), render: (u) => h("strong", null, u.name) },
    { label: t("users.role"), render: (u) => t("role." + u.role) },
    { label: t("orders.merchant"), render: (u) => (u.merchant_id ? h("a", { class: "link mono", href: "#/merchants/" + u.merchant_id }, "#" + u.merchant_id) : "—") },
    { label: t("merchants.state"), render: (u) => badge(u.enabled ? "enabled" : "disabled") },
    { label: t("users.last_login"), render: (u) => time(u.last_login_at_ms) },
    { label: t("orders.created"), render: (u) => time(u.created_at_ms) },
    {
      label: t("common.actions"), render: (u) => h("div", { class: "row-actions" },
        u.id === me.id ? h("span", { class: "sub" }, t("users.you")) : button(u.enabled ? t("users.disable") : t("users.enable"), () => toggle(u), { kind: (u.enabled ? "danger" : "secondary") + " small" }),
        button(t("users.set_password"), async () => { if (await passwordForm(u)) showNotice(t("common.saved")); }, { kind: "ghost small" })),
    },
  ], page.items, { empty: t("users.none") }));
}
