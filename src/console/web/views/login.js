// The login page: name and password, the language switch, errors (bad credentials, rate limited) in a banner.
import { api, ApiError } from "../api.js";
import { t } from "../i18n.js";
import { h, errorText } from "../ui.js";
import { icon, loggedIn, navigate } from "../app.js";

export function renderLogin(app, { langSwitch, next }) {
  const error = h("div", { class: "banner error", id: "login-error", role: "alert", hidden: true });
  const name = h("input", { name: "name", id: "login-name", autocomplete: "username", required: true, maxlength: 64, autofocus: true });
  const password = h("input", { name: "password", id: "login-password", type: "password", autocomplete: "current-password", required: true, maxlength: 128 });
  const submit = h("button", { class: "btn primary block", type: "submit", id: "login-submit" }, t("login.submit"));
  const form = h("form", { class: "login-form", id: "login-form", novalidate: true },
    error,
    h("label", { class: "control" }, h("span", { class: "control-label" }, t("login.name")), name),
    h("label", { class: "control" }, h("span", { class: "control-label" }, t("login.password")), password),
    submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    if (!name.value.trim() || !password.value) {
      error.textContent = t("login.missing");
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = t("login.signing_in");
    try {
      const r = await api.post("/login", { name: name.value.trim(), password: password.value });
      loggedIn(r.user, r.csrf_token);
      const target = next && next.startsWith("#/") && !next.startsWith("#/login") ? next : "#/dashboard";
      navigate(target);
    } catch (err) {
      error.textContent = err instanceof ApiError && err.code === "bad_credentials" ? t("login.bad_credentials")
        : err instanceof ApiError && err.code === "rate_limited" ? t("login.rate_limited") : errorText(err);
      error.hidden = false;
      password.value = "";
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = t("login.submit");
    }
  });
  app.append(h("div", { class: "login-page" },
    h("div", { class: "login-top" }, h("div", { class: "brand" }, icon("logo"), h("span", null, t("app.name"))), langSwitch()),
    h("div", { class: "login-card" },
      h("h1", null, t("login.title")),
      h("p", { class: "login-sub" }, t("login.subtitle")),
      form),
    h("p", { class: "login-foot" }, t("app.footer"))));
}
