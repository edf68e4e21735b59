// The admin API client (docs/console.md): JSON in and out, the session cookie sent by the browser, the CSRF token
// on every change, and a 401 anywhere but the login sending the user back to the login page.
import { qs } from "./ui.js";

const BASE = "/admin/api";
let csrfToken = null;
let onUnauthenticated = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

export async function request(method, path, { query, body } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (method !== "GET" && method !== "HEAD") {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body ?? {});
    if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  }
  let res;
  try {
    res = await fetch(BASE + path + qs(query), init);
  } catch (e) {
    throw new ApiError(0, "network", String(e && e.message ? e.message : e));
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || "http_" + res.status, e.message || res.statusText);
    // The login and the session probe answer 401 as part of their job; elsewhere it means the session ended.
    if (res.status === 401 && path !== "/login" && path !== "/me" && onUnauthenticated) onUnauthenticated();
    throw err;
  }
  return data;
}

export const api = {
  get: (path, query) => request("GET", path, { query }),
  post: (path, body) => request("POST", path, { body }),
  put: (path, body) => request("PUT", path, { body }),
  patch: (path, body) => request("PATCH", path, { body }),
};

// A CSV download link's address (the browser sends the cookie; GET needs no CSRF token).
export function csvUrl(path, query) {
  return BASE + path + qs(query);
}

export const enc = encodeURIComponent;
