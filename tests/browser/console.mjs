#!/usr/bin/env node
// Drives the operator and merchant console (/console) through what its users do, on a desktop and on a phone.
//
//   node tests/browser/console.mjs --spec SPEC.json --screenshots DIR
//
// SPEC (written by tests/integration/test_browser_console.py):
//   {"base": "http://127.0.0.1:PORT",
//    "admin": {"name", "password"}, "support": {...}, "merchant_a": {..., "merchant_id"},
//    "notify": {"id", "merchant_order_id"}      // merchant A's order whose notification is resent
//    "review": {"id", "merchant_order_id"}      // merchant A's consign card waiting for review
//    "payout": {"id", "merchant_order_id"}      // merchant A's payout waiting for approval
//    "other":  {"id", "merchant_order_id"}      // merchant B's order, which merchant A must not see
//    "resolve_yuan": "100.00", "new_merchant_name": "...", "downloads": DIR}
//
// As support: logs in, finds the notify order by its merchant order id, opens it, resends its notification and
// waits for the new attempt to appear; resolves the review as a success; sees no approve button on the payout and
// no admin menus. As admin: approves the payout; exports the order list as CSV (the file is read back); visits
// creates a merchant (its keys shown once); visits every page; switches to English and back. As merchant A: its own pages only (its notification log lists its own
// notifications, and a resend there shows a notice); B's order is neither found by
// search nor shown by its URL. Then the same pages on a phone-sized screen, with the menu opened, checking that no
// page scrolls sideways. Every page is saved as DIR/<device>-NN-<page>.png. Prints one JSON line:
// {"ok": true, "csv": "...", "screenshots": [...], "attempts_before": n, "attempts_after": m} (exit 0), or
// {"ok": false, "error": "...", "step": "..."} (exit 1).
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { DESKTOP, PHONE, launch, screenshot } from "./lib.mjs";

function fail(message, extra = {}) {
  process.stdout.write(JSON.stringify({ ok: false, error: message, ...extra }) + "\n");
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: { spec: { type: "string" }, screenshots: { type: "string" }, "timeout-ms": { type: "string", default: "20000" } },
    strict: true,
  }).values;
} catch (e) {
  fail(e.message);
}
if (!args.spec || !args.screenshots) fail("usage: console.mjs --spec SPEC.json --screenshots DIR");
const spec = JSON.parse(fs.readFileSync(args.spec, "utf8"));
const timeoutMs = Number(args["timeout-ms"]);
const result = { ok: false, screenshots: [], pages: {} };
let step = "start";
let browser;
let shotNo = 0;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// A full-page PNG; on a phone also what the first screen shows (a long list is many screens tall).
async function shot(device, name) {
  shotNo += 1;
  const base = `${device}-${String(shotNo).padStart(2, "0")}-${name}`;
  const file = await screenshot(browser.page, args.screenshots, base);
  result.screenshots.push(file);
  if (device === "phone") {
    const top = path.join(args.screenshots, base + "-screen.png");
    await browser.page.screenshot({ path: top });
    result.screenshots.push(top);
  }
  return file;
}

// Waits until the view has finished loading (no spinner) and fonts are in.
async function settled(page) {
  await page.waitForSelector("#main");
  await page.waitForFunction(() => !document.querySelector("#main .loading"), null, { timeout: timeoutMs });
  await page.evaluate(() => document.fonts && document.fonts.ready);
  await page.waitForTimeout(150);
}

async function go(page, hash) {
  await page.goto(spec.base + "/console/" + hash);
  await settled(page);
}

async function login(page, who) {
  step = "login " + who.name;
  await page.goto(spec.base + "/console/");
  await page.waitForSelector("#login-form");
  await page.fill("#login-name", who.name);
  await page.fill("#login-password", who.password);
  await page.click("#login-submit");
  await page.waitForSelector("#user-chip");
  await settled(page);
}

async function logout(page) {
  step = "logout";
  await page.click("#logout");
  await page.waitForSelector("#login-form");
}

async function navRoutes(page) {
  return page.$$eval("#nav a", (as) => as.map((a) => a.dataset.route));
}

async function search(page, text) {
  await go(page, "#/orders");
  await page.fill("#order-search", text);
  await Promise.all([page.waitForURL((u) => u.hash.includes("q=")), page.click("#order-search-submit")]);
  await settled(page);
  return page.$$eval("#orders-list tbody tr", (rows) => rows.map((r) => r.textContent));
}

async function attemptCount(page) {
  return page.$$eval("#notifications tbody tr", (rows) => rows.length);
}

async function badgeText(page) {
  return ((await page.textContent(".order-summary .badge")) || "").trim();
}

// Every visible text is translated: nothing looks like an untranslated key ("orders.none").
async function checkNoKeys(page, where) {
  const keys = await page.evaluate(() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const s = walker.currentNode.textContent.trim();
      const el = walker.currentNode.parentElement;
      if (el && el.closest(".mono,code,pre,.excerpt,td.wide,.timeline-detail,.diff")) continue;
      if (/^[a-z_]+\.[a-z_.]+$/.test(s)) out.push(s);
    }
    for (const el of document.querySelectorAll("[placeholder],[aria-label]")) {
      for (const a of ["placeholder", "aria-label"]) {
        const v = el.getAttribute(a);
        if (v && /^[a-z_]+\.[a-z_.]+$/.test(v)) out.push(v);
      }
    }
    return out;
  });
  check(keys.length === 0, `untranslated text on ${where}: ${keys.join(", ")}`);
}

// The page does not scroll sideways (a phone would show a cut-off layout).
async function checkNoSideScroll(page, where) {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  check(scroll <= width + 1, `${where} scrolls sideways on a phone: ${scroll}px content in a ${width}px screen`);
}

const PAGES_ADMIN = [
  ["dashboard", "#/dashboard"],
  ["orders", "#/orders"],
  ["order", () => "#/orders/" + encodeURIComponent(spec.notify.id)],
  ["merchants", "#/merchants"],
  ["merchant", () => "#/merchants/" + spec.merchant_a.merchant_id],
  ["balances", "#/money?tab=balances"],
  ["statement", () => "#/money?tab=statement&merchant_id=" + spec.merchant_a.merchant_id],
  ["reconciliation", "#/money?tab=reconciliation"],
  ["notifications", "#/notifications"],
  ["users", "#/users"],
  ["audit", "#/audit"],
  ["account", "#/account"],
];
const PAGES_MERCHANT = [
  ["merchant-dashboard", "#/dashboard"],
  ["merchant-orders", "#/orders"],
  ["merchant-notifications", "#/notifications"],
  ["merchant-order", () => "#/orders/" + encodeURIComponent(spec.notify.id)],
  ["merchant-money", "#/money?tab=balances"],
  ["merchant-statement", "#/money?tab=statement"],
  ["merchant-account", "#/account"],
];

async function visitAll(page, device, pages, { phone = false } = {}) {
  for (const [name, hash] of pages) {
    step = `${device} page ${name}`;
    await go(page, typeof hash === "function" ? hash() : hash);
    if (name.endsWith("dashboard")) {
      await page.waitForSelector("#chart-volume canvas");
      await page.waitForSelector("#chart-success canvas");
    }
    const banner = await page.$("#banner:not([hidden])");
    check(!banner, `${name}: error banner shown: ${banner && (await banner.textContent())}`);
    await checkNoKeys(page, name);
    if (phone) await checkNoSideScroll(page, name);
    await shot(device, name);
    result.pages[`${device}-${name}`] = true;
  }
}

async function desktop() {
  browser = await launch({ device: DESKTOP, timeoutMs });
  const page = browser.page;
  // Downloads (the CSV export) land in the test's directory.
  step = "login page";
  await page.goto(spec.base + "/console/");
  await page.waitForSelector("#login-form");
  check((await page.evaluate(() => document.documentElement.lang)) === "zh-CN", "Chinese by default");
  await shot("desktop", "login");
  // A wrong password shows a translated error and no session.
  await page.fill("#login-name", spec.support.name);
  await page.fill("#login-password", "not-the-password-1");
  await page.click("#login-submit");
  await page.waitForSelector("#login-error:not([hidden])");
  check((await page.textContent("#login-error")).includes("用户名或密码错误"), "the bad-credentials banner is translated");
  await shot("desktop", "login-error");

  // --- support: search, resend, resolve; no approve, no admin menus
  await login(page, spec.support);
  const supportNav = await navRoutes(page);
  check(!supportNav.includes("users") && !supportNav.includes("audit"), `support sees admin menus: ${supportNav}`);
  step = "find by merchant order id";
  const rows = await search(page, spec.notify.merchant_order_id);
  check(rows.length === 1 && rows[0].includes(spec.notify.id), `search for ${spec.notify.merchant_order_id}: ${JSON.stringify(rows)}`);
  await shot("desktop", "search");
  step = "open the order";
  await Promise.all([page.waitForURL((u) => u.hash.startsWith("#/orders/")), page.click(`#orders-list a:has-text("${spec.notify.id}")`)]);
  await settled(page);
  await page.waitForSelector("#notifications tbody tr");
  result.attempts_before = await attemptCount(page);
  step = "resend";
  await page.click("#action-resend");
  await page.click("#confirm-ok");
  await page.waitForSelector("#banner.notice:not([hidden])");
  // The new attempt is made by the dispatcher right after; the page shows it on a reload.
  const deadline = Date.now() + 15000;
  for (;;) {
    result.attempts_after = await attemptCount(page);
    if (result.attempts_after > result.attempts_before) break;
    check(Date.now() < deadline, `no new attempt after the resend (${result.attempts_before} before)`);
    await page.waitForTimeout(500);
    await page.reload();
    await settled(page);
    await page.waitForSelector("#notifications tbody tr");
  }
  await shot("desktop", "order-resent");

  step = "resolve the review";
  await go(page, "#/orders/" + encodeURIComponent(spec.review.id));
  await page.waitForSelector("#action-resolve");
  await page.click("#action-resolve");
  await page.waitForSelector("#resolve-form");
  await page.fill("#resolve-real", spec.resolve_yuan);
  await shot("desktop", "resolve-form");
  await page.click("#resolve-submit");
  await page.waitForFunction(() => !document.querySelector("#action-resolve") && document.querySelector(".order-summary"), null, { timeout: timeoutMs });
  await settled(page);
  const resolved = await badgeText(page);
  check(resolved === "成功", `the review shows ${resolved} after resolving, not 成功`);
  await shot("desktop", "review-resolved");

  step = "support sees no approve";
  await go(page, "#/orders/" + encodeURIComponent(spec.payout.id));
  check(!(await page.$("#action-approve")), "support is offered approve on a payout");
  await logout(page);

  // --- admin: approve, CSV, every page, English
  await login(page, spec.admin);
  const adminNav = await navRoutes(page);
  for (const r of ["dashboard", "orders", "merchants", "money", "users", "audit"]) check(adminNav.includes(r), `admin lacks menu ${r}: ${adminNav}`);
  step = "approve the payout";
  await go(page, "#/orders/" + encodeURIComponent(spec.payout.id));
  check((await badgeText(page)) === "待审批", "the payout waits for approval");
  await page.click("#action-approve");
  await page.waitForSelector("#approve-form");
  await shot("desktop", "approve-form");
  await page.click("#approve-submit");
  await page.waitForFunction(() => !document.querySelector("#action-approve") && document.querySelector(".order-summary"), null, { timeout: timeoutMs });
  await settled(page);
  const approved = await badgeText(page);
  check(approved !== "待审批", "the payout still waits for approval");
  await shot("desktop", "payout-approved");

  step = "CSV export";
  await search(page, spec.notify.merchant_order_id);
  const href = await page.getAttribute("#orders-csv", "href");
  check(href.startsWith("/admin/api/orders.csv?") && href.includes("q="), `CSV link ${href}`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#orders-csv")]);
  const csvPath = path.join(spec.downloads, "orders.csv");
  await download.saveAs(csvPath);
  result.csv = fs.readFileSync(csvPath, "utf8");
  check(result.csv.includes(spec.notify.merchant_order_id) && result.csv.includes(spec.notify.id), "the CSV holds the order");

  step = "create a merchant: its keys are shown once";
  await go(page, "#/merchants");
  await page.click("#merchant-create");
  await page.fill("#merchant-name", spec.new_merchant_name);
  await page.click("#merchant-create-submit");
  await page.waitForSelector("#new-keys");
  const shownKey = ((await page.textContent("#new-keys code[data-key=key]")) || "").trim();
  check(shownKey.length >= 16 && (await page.isVisible("#keys-warning")), "the new keys and the warning are shown");
  await shot("desktop", "merchant-created-keys");
  await page.click("#keys-done");
  await page.waitForURL((u) => /#\/merchants\/\d+/.test(u.hash));
  await settled(page);
  check(!(await page.textContent("#main")).includes(shownKey), "the key is not shown again");
  result.new_merchant = { id: new URL(page.url()).hash.split("/")[2], key: shownKey };

  await visitAll(page, "desktop", PAGES_ADMIN);

  step = "English";
  await go(page, "#/orders");
  await page.click("#lang-switch");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  await settled(page);
  const navText = await page.textContent("#nav");
  check(navText.includes("Orders") && navText.includes("Dashboard") && !/[\u4e00-\u9fff]/.test(navText), `English menu: ${navText}`);
  await checkNoKeys(page, "orders (en)");
  await shot("desktop", "orders-en");
  await go(page, "#/orders/" + encodeURIComponent(spec.review.id));
  check((await badgeText(page)) === "Succeeded", "English status names");
  await checkNoKeys(page, "order (en)");
  await shot("desktop", "order-en");
  await go(page, "#/dashboard");
  await page.waitForSelector("#chart-volume canvas");
  await checkNoKeys(page, "dashboard (en)");
  await shot("desktop", "dashboard-en");
  step = "the language is remembered";
  await page.reload();
  await settled(page);
  check((await page.evaluate(() => document.documentElement.lang)) === "en", "English kept after a reload");
  await page.click("#lang-switch");
  await page.waitForFunction(() => document.documentElement.lang === "zh-CN");
  await logout(page);

  // --- merchant A: own data only
  await login(page, spec.merchant_a);
  const merchantNav = await navRoutes(page);
  for (const r of ["merchants", "users", "audit"]) check(!merchantNav.includes(r), `merchant sees ${r}: ${merchantNav}`);
  check(merchantNav.includes("notifications"), "merchant has its notification log");
  step = "merchant A searches B's order";
  const other = await search(page, spec.other.merchant_order_id);
  check(other.length === 0, `merchant A finds B's order: ${JSON.stringify(other)}`);
  check(await page.$("#orders-list .empty"), "an empty result says so");
  await shot("desktop", "merchant-search-other");
  const byId = await search(page, spec.other.id);
  check(byId.length === 0, "merchant A finds B's order by its id");
  step = "merchant A opens B's order by URL";
  await go(page, "#/orders/" + encodeURIComponent(spec.other.id));
  await page.waitForSelector("#not-found");
  check(!(await page.textContent("#main")).includes(spec.other.merchant_order_id), "B's order leaks into the page");
  await shot("desktop", "merchant-other-not-found");
  step = "merchant A sees its own";
  const own = await search(page, spec.notify.merchant_order_id);
  check(own.length === 1, "merchant A finds its own order");
  step = "merchant A's notification log";
  await go(page, "#/notifications");
  await page.waitForSelector("#notifications-list tbody tr");
  const logText = await page.textContent("#notifications-list");
  check(logText.includes(spec.notify.id), `the notification log lacks ${spec.notify.id}`);
  check(!logText.includes(spec.other.id), "B's notification leaks into A's notification log");
  check((await page.$$eval("#notifications-list .badge", (b) => b.length)) > 0, "the log shows state badges");
  await page.click(`#notifications-list button.resend[data-order="${spec.notify.id}"]`);
  await page.waitForSelector("#banner.notice:not([hidden])");
  await page.waitForSelector("#notifications-list tbody tr");
  await shot("desktop", "merchant-notification-resent");
  await visitAll(page, "desktop", PAGES_MERCHANT);
  const consoleCsp = browser.consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e));
  check(consoleCsp.length === 0, `CSP violations: ${consoleCsp.join(" | ")}`);
  check(browser.pageErrors.length === 0, `page errors: ${browser.pageErrors.join(" | ")}`);
  await browser.close();
  browser = null;
}

async function phone() {
  browser = await launch({ device: PHONE, timeoutMs });
  const page = browser.page;
  step = "phone login";
  await page.goto(spec.base + "/console/");
  await page.waitForSelector("#login-form");
  await checkNoSideScroll(page, "login");
  await shot("phone", "login");
  await login(page, spec.admin);
  step = "phone menu";
  check(await page.isVisible("#menu-button"), "a menu button on phones");
  const folded = await page.evaluate(() => document.querySelector("#nav a[data-route=orders]").getBoundingClientRect().right <= 0);
  check(folded, "the side navigation is folded away on phones");
  await page.click("#menu-button");
  await page.waitForFunction(() => {
    const r = document.querySelector("#nav a[data-route=orders]").getBoundingClientRect();
    return r.left >= 0 && r.width > 0;
  });
  await page.waitForTimeout(300);
  const menuShot = path.join(args.screenshots, `phone-${String(++shotNo).padStart(2, "0")}-menu.png`);
  await page.screenshot({ path: menuShot });
  result.screenshots.push(menuShot);
  await page.click("#nav a[data-route=orders]");
  await page.waitForURL((u) => u.hash.startsWith("#/orders"));
  await settled(page);
  step = "phone search";
  const rows = await search(page, spec.notify.merchant_order_id);
  check(rows.length === 1, "found on a phone");
  await visitAll(page, "phone", PAGES_ADMIN, { phone: true });
  await logout(page);
  await login(page, spec.merchant_a);
  await visitAll(page, "phone", PAGES_MERCHANT, { phone: true });
  const consoleCsp = browser.consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e));
  check(consoleCsp.length === 0, `CSP violations: ${consoleCsp.join(" | ")}`);
  check(browser.pageErrors.length === 0, `page errors: ${browser.pageErrors.join(" | ")}`);
  await browser.close();
  browser = null;
}

try {
  fs.mkdirSync(args.screenshots, { recursive: true });
  fs.mkdirSync(spec.downloads, { recursive: true });
  await desktop();
  await phone();
  result.ok = true;
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
} catch (e) {
  let failureShot = null;
  if (browser) {
    try {
      failureShot = await screenshot(browser.page, args.screenshots, "failure");
    } catch {
      // Nothing more to show.
    }
    await browser.close();
  }
  fail(String(e && e.message ? e.message : e), { step, failure_screenshot: failureShot, pages: result.pages });
}
