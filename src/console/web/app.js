// The console's shell: the session, the navigation (a side bar on desktops, a top bar with a menu on phones), and
// a router on location.hash ("#/orders/P123?x=1") that renders one view at a time.
import { api, setCsrfToken, setUnauthenticatedHandler } from "./api.js";
import { t, lang, setLang, applyDocumentLang } from "./i18n.js";
import { h, clear, hideBanner, showError } from "./ui.js";
import { renderLogin } from "./views/login.js";
import { renderDashboard } from "./views/dashboard.js";
import { renderOrders } from "./views/orders.js";
import { renderNotifications } from "./views/notifications.js";
import { renderOrder } from "./views/order.js";
import { renderMerchants } from "./views/merchants.js";
import { renderMerchant } from "./views/merchant.js";
import { renderMoney } from "./views/money.js";
import { renderUsers } from "./views/users.js";
import { renderAudit } from "./views/audit.js";
import { renderAccount } from "./views/account.js";

const state = { user: null, renderToken: 0 };

// Who may open what: the menu shows only these; the server checks again.
const ROUTES = [
  { path: "dashboard", nav: "nav.dashboard", icon: "chart", roles: ["admin", "support", "merchant"], render: renderDashboard },
  { path: "orders", nav: "nav.orders", icon: "list", roles: ["admin", "support", "merchant"], render: renderOrders },
  { path: "notifications", nav: "nav.notifications", icon: "bell", roles: ["admin", "support", "merchant"], render: renderNotifications },
  { path: "merchants", nav: "nav.merchants", icon: "store", roles: ["admin", "support"], render: renderMerchants },
  { path: "money", nav: "nav.money", icon: "wallet", roles: ["admin", "support", "merchant"], render: renderMoney },
  { path: "users", nav: "nav.users", icon: "users", roles: ["admin"], render: renderUsers },
  { path: "audit", nav: "nav.audit", icon: "shield", roles: ["admin"], render: renderAudit },
  { path: "account", nav: "nav.account", icon: "key", roles: ["admin", "support", "merchant"], render: renderAccount },
];
const DETAIL_ROUTES = { orders: renderOrder, merchants: renderMerchant };

const ICONS = {
  chart: "M3 3v18h18M7 15l4-4 3 3 5-6",
  list: "M8 6h13M8 12h13M8 18h13M3 6h.01M3 12h.01M3 18h.01",
  bell: "M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9M13.7 21a2 2 0 0 1-3.4 0",
  store: "M3 9l1.5-5h15L21 9M3 9v11h18V9M3 9h18M9 20v-6h6v6",
  wallet: "M3 7h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h12v4M16 14h.01",
  users: "M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8M23 21v-2a4 4 0 0 0-3-3.9M16 3.1a4 4 0 0 1 0 7.8",
  shield: "M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10",
  key: "M21 2l-2 2m-7.6 7.6a5.5 5.5 0 1 1-7.8 7.8 5.5 5.5 0 0 1 7.8-7.8zm0 0L15.5 7.5m0 0l3 3L22 7l-3-3m-3.5 3.5L19 4",
  menu: "M3 6h18M3 12h18M3 18h18",
  logo: "M12 2l8 4v6c0 5-3.5 8.5-8 10-4.5-1.5-8-5-8-10V6l8-4zm-3 10l2 2 4-4",
};

export function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICONS[name] || "");
  svg.append(path);
  return svg;
}

// "#/orders/P1?q=x" -> {parts: ["orders", "P1"], query: URLSearchParams}
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

export function currentUser() {
  return state.user;
}

export function can(what) {
  const role = state.user && state.user.role;
  switch (what) {
    case "manage_merchants":
    case "manage_users":
    case "audit":
    case "approve_payout":
      return role === "admin";
    case "operator":
      return role === "admin" || role === "support";
    default:
      return false;
  }
}

function langSwitch() {
  const other = lang() === "zh-CN" ? "en" : "zh-CN";
  return h("button", {
    class: "lang-switch", type: "button", id: "lang-switch", lang: other === "en" ? "en" : "zh-CN",
    onclick: () => { setLang(other); render(); },
  }, other === "en" ? "English" : "中文");
}

async function logout() {
  try {
    await api.post("/logout");
  } catch {
    // The session is gone either way.
  }
  state.user = null;
  setCsrfToken(null);
  navigate("#/login");
}

function shell(active) {
  const user = state.user;
  const routes = ROUTES.filter((r) => r.roles.includes(user.role));
  const nav = h("nav", { class: "nav", id: "nav", "aria-label": t("nav.menu") },
    routes.map((r) => h("a", { href: "#/" + r.path, class: "nav-link" + (r.path === active ? " active" : ""), dataset: { route: r.path } },
      icon(r.icon), h("span", null, t(r.nav)))));
  const menuButton = h("button", {
    class: "menu-button", type: "button", id: "menu-button", "aria-label": t("nav.menu"), "aria-expanded": "false",
    onclick: () => {
      const open = document.body.classList.toggle("nav-open");
      menuButton.setAttribute("aria-expanded", String(open));
    },
  }, icon("menu"));
  nav.addEventListener("click", (e) => { if (e.target.closest("a")) document.body.classList.remove("nav-open"); });
  const who = user.role === "merchant"
    ? t("role.merchant_of", { id: user.merchant_id })
    : t("role." + user.role);
  const main = h("main", { class: "main", id: "main" });
  const root = h("div", { class: "shell" },
    h("aside", { class: "sidebar" },
      h("div", { class: "brand" }, icon("logo"), h("span", null, t("app.name"))),
      nav,
      h("div", { class: "sidebar-foot" }, t("app.footer"))),
    h("div", { class: "content" },
      h("header", { class: "topbar" },
        menuButton,
        h("div", { class: "brand brand-top" }, icon("logo"), h("span", null, t("app.name"))),
        h("div", { class: "topbar-spacer" }),
        langSwitch(),
        h("div", { class: "user-chip", id: "user-chip" },
          h("span", { class: "avatar" }, (user.name || "?").slice(0, 1).toUpperCase()),
          h("span", { class: "user-text" }, h("span", { class: "user-name" }, user.name), h("span", { class: "user-role" }, who))),
        h("button", { class: "btn secondary small", type: "button", id: "logout", onclick: logout }, t("nav.logout"))),
      h("div", { id: "banner", class: "banner", hidden: true, role: "alert" }),
      main));
  return { root, main };
}

async function loadSession() {
  try {
    const me = await api.get("/me");
    state.user = me.user;
    setCsrfToken(me.csrf_token);
    return true;
  } catch (e) {
    if (e.status !== 401) throw e;
    state.user = null;
    return false;
  }
}

export function loggedIn(user, csrf) {
  state.user = user;
  setCsrfToken(csrf);
}

async function render() {
  const token = ++state.renderToken;
  applyDocumentLang();
  const app = document.getElementById("app");
  const { parts, query } = parseHash();
  document.body.classList.remove("nav-open");
  if (parts[0] === "login" || !state.user) {
    if (!state.user) {
      let ok = false;
      try {
        ok = await loadSession();
      } catch (e) {
        clear(app).append(h("div", { id: "banner", class: "banner", hidden: true }));
        showError(e);
        return;
      }
      if (token !== state.renderToken) return;
      if (!ok) {
        clear(app);
        renderLogin(app, { langSwitch, next: parts[0] === "login" ? query.get("next") : location.hash });
        document.title = t("login.title") + " · " + t("app.name");
        return;
      }
    }
    if (parts[0] === "login") {
      navigate(query.get("next") || "#/dashboard");
      return;
    }
  }
  const allowed = ROUTES.filter((r) => r.roles.includes(state.user.role));
  let route = allowed.find((r) => r.path === parts[0]);
  if (!route) {
    navigate("#/" + allowed[0].path);
    return;
  }
  const { root, main } = shell(route.path);
  clear(app).append(root);
  hideBanner();
  let view = route.render;
  if (parts.length > 1 && DETAIL_ROUTES[parts[0]]) view = DETAIL_ROUTES[parts[0]];
  document.title = t(route.nav) + " · " + t("app.name");
  const ctx = {
    main, parts, query, user: state.user,
    alive: () => token === state.renderToken,
    // Changes the query of the current view without a new history entry per keystroke.
    setQuery(obj) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== "") p.set(k, v);
      const s = p.toString();
      navigate("#/" + parts.join("/") + (s ? "?" + s : ""));
    },
    rerender: render,
  };
  try {
    await view(ctx);
  } catch (e) {
    if (ctx.alive()) showError(e);
  }
}

setUnauthenticatedHandler(() => {
  state.user = null;
  setCsrfToken(null);
  if (!location.hash.startsWith("#/login")) {
    const next = location.hash || "#/dashboard";
    location.hash = "#/login?next=" + encodeURIComponent(next);
  }
});

window.addEventListener("hashchange", render);
window.addEventListener("DOMContentLoaded", render);
