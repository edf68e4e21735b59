// Shared helpers for paygate's browser tests: Debian's chromium driven by playwright-core (no browser download).
//
//   import { launch, PHONE, DESKTOP, screenshot } from "./lib.mjs";
//   const browser = await launch({ device: PHONE });   // a fresh profile in a temp dir
//   await browser.page.goto(url);
//   await screenshot(browser.page, "build/artifacts/browser", "checkout-phone");
//   await browser.close();                             // also removes the profile
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.PAYGATE_CHROMIUM || "/usr/bin/chromium";

// No network of its own (updates, sync, QUIC probes), no GPU, no sandbox (tests run as root in CI).
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// Viewports: a phone (what most customers have) and a desktop.
export const PHONE = {
  name: "phone",
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};
export const DESKTOP = {
  name: "desktop",
  viewport: { width: 1280, height: 860 },
  deviceScaleFactor: 1,
  isMobile: false,
  hasTouch: false,
};

// Launches chromium with a fresh user-data-dir. Returns { context, page, pageErrors, consoleErrors, close }:
// pageErrors collects uncaught exceptions of the page, consoleErrors its console.error lines (CSP violations
// among them).
const LAUNCH_TIMEOUT_MS = 90000;

export async function launch({ device = PHONE, locale = "zh-CN", timeoutMs = 20000 } = {}) {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`no chromium at ${CHROMIUM_PATH} (scripts/install-deps.sh installs Debian's; PAYGATE_CHROMIUM overrides)`);
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "paygate-chromium-"));
  const { name: _name, ...contextOptions } = device;
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      locale,
      // Starting chromium is slow on a loaded 2-core machine (a fresh profile, font caches): seen over 20 s in CI
      // with the PostgreSQL suites running beside it. The page's own steps keep timeoutMs.
      timeout: Math.max(timeoutMs, LAUNCH_TIMEOUT_MS),
      ...contextOptions,
    });
  } catch (e) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw e;
  }
  context.setDefaultTimeout(timeoutMs);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  const consoleErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e && e.message ? e.message : e)));
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  return {
    context,
    page,
    pageErrors,
    consoleErrors,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// A full-page PNG at DIR/NAME.png (DIR is created); returns its path.
export async function screenshot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
