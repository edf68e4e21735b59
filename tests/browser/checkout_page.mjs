#!/usr/bin/env node
// Drives the hosted checkout page through a sandbox payment, as a customer on a phone would.
//
//   node tests/browser/checkout_page.mjs --url URL --return-url-prefix PREFIX --expect-amount 12.34 \
//        --screenshots DIR [--pay-amount 10.00] [--lang en] [--method KEY] [--device phone|desktop] [--name NAME]
//
// Opens URL, checks #amount shows ¥<expect-amount>, #qr holds an <svg> with a non-empty path and #countdown reads
// mm:ss; with --lang it switches to that language through #lang-switch and back; with --method it picks that method
// in the chooser; with --pay-amount it types that amount into #sandbox-amount. Then it clicks #sandbox-pay, waits
// for the page to show paid and for the browser to land on a URL starting with PREFIX (20 s at most), and prints
// one JSON line: {"ok":true,"landed":"...","screenshots":[...]} (exit 0), or {"ok":false,"error":"...",...}
// (exit 1). Screenshots (before, after the click, the landing page) go to DIR as NAME-NN-step.png.
import { parseArgs } from "node:util";

import { DESKTOP, PHONE, launch, screenshot } from "./lib.mjs";

const USAGE =
  "usage: checkout_page.mjs --url URL --return-url-prefix PREFIX --expect-amount 12.34 --screenshots DIR " +
  "[--pay-amount 10.00] [--lang en|zh] [--method KEY] [--fail] [--device phone|desktop] [--name NAME] [--timeout-ms 20000]";

function fail(message, extra = {}) {
  process.stdout.write(JSON.stringify({ ok: false, error: message, ...extra }) + "\n");
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: {
      url: { type: "string" },
      "return-url-prefix": { type: "string" },
      "expect-amount": { type: "string" },
      screenshots: { type: "string" },
      "pay-amount": { type: "string" },
      lang: { type: "string" },
      method: { type: "string" },
      fail: { type: "boolean", default: false },
      device: { type: "string", default: "phone" },
      name: { type: "string", default: "checkout" },
      "timeout-ms": { type: "string", default: "20000" },
    },
    strict: true,
  }).values;
} catch (e) {
  fail(`${e.message}; ${USAGE}`);
}
for (const required of ["url", "expect-amount", "screenshots", ...(args.fail ? [] : ["return-url-prefix"])]) {
  if (!args[required]) fail(`--${required} is required; ${USAGE}`);
}
if (args.lang && !["en", "zh"].includes(args.lang)) fail(`--lang must be en or zh; ${USAGE}`);
if (!["phone", "desktop"].includes(args.device)) fail(`--device must be phone or desktop; ${USAGE}`);
const timeoutMs = Number(args["timeout-ms"]);
const prefix = args["return-url-prefix"];

const shots = [];
let step = 0;
let browser;

async function shot(label) {
  step += 1;
  const name = `${args.name}-${String(step).padStart(2, "0")}-${label}`;
  shots.push(await screenshot(browser.page, args.screenshots, name));
}

async function text(selector) {
  return ((await browser.page.locator(selector).textContent()) ?? "").trim();
}

async function htmlLang() {
  return browser.page.evaluate(() => document.documentElement.lang);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function switchLanguage(expected) {
  const page = browser.page;
  const before = await htmlLang();
  await Promise.all([page.waitForURL((u) => u.searchParams.get("lang") !== null), page.click("#lang-switch")]);
  await page.waitForLoadState("domcontentloaded");
  const after = await htmlLang();
  check(after !== before, `#lang-switch did not change the language (still ${after})`);
  if (expected) check(after.startsWith(expected), `#lang-switch gave lang=${after}, expected ${expected}`);
  return after;
}

async function checkPage(label) {
  const page = browser.page;
  const amount = (await text("#amount")).replace(/\s+/g, "");
  check(amount === `¥${args["expect-amount"]}`, `#amount shows ${JSON.stringify(amount)}, expected ¥${args["expect-amount"]}`);
  const d = await page.locator("#qr svg path").first().getAttribute("d", { timeout: 2000 }).catch(() => null);
  check(d && d.length > 0, "#qr has no <svg> with a non-empty <path>");
  const countdown = await text("#countdown");
  check(/^\d{2,}:\d{2}$/.test(countdown), `#countdown reads ${JSON.stringify(countdown)}, not mm:ss`);
  for (const id of ["#merchant", "#order-no", "#channel", "#status"]) {
    check((await page.locator(id).count()) === 1, `${id} is missing`);
  }
  await shot(label);
}

try {
  browser = await launch({ device: args.device === "desktop" ? DESKTOP : PHONE, timeoutMs });
  const page = browser.page;
  await page.goto(args.url, { waitUntil: "domcontentloaded" });
  await checkPage("page");

  if (args.lang) {
    const original = await htmlLang();
    await switchLanguage(args.lang);
    await checkPage(`lang-${args.lang}`);
    const back = await switchLanguage(null);
    check(back === original, `switching back gave lang=${back}, expected ${original}`);
    await checkPage("lang-back");
  }

  if (args.method) {
    const option = page.locator(`#method-${args.method}`);
    check((await option.count()) === 1, `no #method-${args.method} in the chooser`);
    await option.click();
    check((await option.getAttribute("aria-checked")) === "true", `#method-${args.method} is not checked after a click`);
  }
  if (args["pay-amount"] !== undefined) await page.fill("#sandbox-amount", args["pay-amount"]);
  await shot("before-pay");

  if (args.fail) {
    // --fail: the customer's payment fails; the page must say so and stay.
    await page.click("#sandbox-fail");
    await page.waitForSelector('#status[data-status="2"]', { timeout: timeoutMs });
    await shot("failed");
    if (browser.pageErrors.length) throw new Error(`uncaught errors in the page: ${browser.pageErrors.join(" | ")}`);
    process.stdout.write(JSON.stringify({ ok: true, landed: page.url(), screenshots: shots }) + "\n");
    await browser.close();
    process.exit(0);
  }

  const landed = page.waitForURL((u) => u.href.startsWith(prefix), { timeout: timeoutMs, waitUntil: "load" });
  landed.catch(() => {});  // awaited below; never an unhandled rejection
  await page.click("#sandbox-pay");
  // Paid, or the sandbox said no: whichever comes first.
  const outcome = await Promise.race([
    page.waitForSelector('#status[data-status="1"]', { timeout: timeoutMs }).then(() => "paid"),
    page.waitForSelector("#sandbox-error:not([hidden])", { timeout: timeoutMs }).then(() => "error"),
    landed.then(() => "landed"),
  ]);
  if (outcome === "error") {
    throw new Error(`the sandbox refused: ${await text("#sandbox-error")}`);
  }
  // The checkout page's own console errors (CSP violations among them); the landing page's are not ours.
  const consoleErrors = [...browser.consoleErrors];
  if (outcome === "paid") await shot("paid");
  await landed;
  await shot("landing");
  if (browser.pageErrors.length) throw new Error(`uncaught errors in the page: ${browser.pageErrors.join(" | ")}`);
  process.stdout.write(
    JSON.stringify({ ok: true, landed: page.url(), screenshots: shots, consoleErrors }) + "\n",
  );
  await browser.close();
} catch (e) {
  if (browser) {
    await shot("failure").catch(() => {});
    await browser.close();
  }
  fail(String(e && e.message ? e.message : e), {
    url: browser ? browser.page.url() : null,
    screenshots: shots,
    pageErrors: browser ? browser.pageErrors : [],
    consoleErrors: browser ? browser.consoleErrors : [],
  });
}
