#include "checkout/page.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "base/text.h"
#include "http/html.h"
#include "http/qr_svg.h"

namespace paygate::checkout {

namespace {

using http::html_escape;

// Every fixed text of the pages, in both languages.
struct Texts {
  std::string_view html_lang;
  std::string_view other_lang;       // the value of `lang` the switch sets
  std::string_view other_lang_name;  // the switch's text, in its own language
  std::string_view other_html_lang;
  std::string_view brand;
  std::string_view title_pay;  // <title>: "支付 ¥12.34 · merchant"
  std::string_view payee;
  std::string_view amount;
  std::string_view waiting;
  std::string_view paid;
  std::string_view paid_returning;
  std::string_view failed;
  std::string_view expired;
  std::string_view offline;
  std::string_view time_left;
  std::string_view scan_hint;
  std::string_view qr_label;
  std::string_view qr_unavailable;
  std::string_view choose_method;
  std::string_view order_no;
  std::string_view channel;
  std::string_view payment_id;
  std::string_view return_to_merchant;
  std::string_view noscript;
  std::string_view refresh;
  std::string_view footer;
  std::string_view steps_title;  // the how-to card beside the QR code on wide screens
  std::array<std::string_view, 3> steps;
  std::string_view sandbox_title;
  std::string_view sandbox_help;
  std::string_view sandbox_help_fixed;  // when the panel has no amount box
  std::string_view sandbox_amount;
  std::string_view request_failed;
};

constexpr Texts kZh{
    .html_lang = "zh-CN",
    .other_lang = "en",
    .other_lang_name = "English",
    .other_html_lang = "en",
    .brand = "安全收银台",
    .title_pay = "支付",
    .payee = "收款方",
    .amount = "支付金额",
    .waiting = "等待支付",
    .paid = "支付成功",
    .paid_returning = "支付成功，正在返回商户…",
    .failed = "支付失败",
    .expired = "订单已过期",
    .offline = "网络异常，正在重试…",
    .time_left = "剩余支付时间",
    .scan_hint = "请使用手机扫描二维码完成支付",
    .qr_label = "支付二维码",
    .qr_unavailable = "二维码暂不可用",
    .choose_method = "选择支付方式",
    .order_no = "订单号",
    .channel = "支付方式",
    .payment_id = "支付流水号",
    .return_to_merchant = "返回商户",
    .noscript = "请启用 JavaScript 以自动更新支付状态。",
    .refresh = "刷新",
    .footer = "paygate 提供安全支付服务",
    .steps_title = "如何支付",
    .steps = {"打开手机上的支付 App，点击“扫一扫”", "扫描左侧二维码，确认金额后完成支付",
              "支付完成后，本页将自动跳转回商户"},
    .sandbox_title = "沙箱模拟",
    .sandbox_help = "模拟顾客的支付结果。修改金额可模拟实付金额与订单金额不一致。",
    .sandbox_help_fixed = "模拟顾客的支付结果，或直接给出结果码。",
    .sandbox_amount = "实付金额（元）",
    .request_failed = "请求失败",
};

constexpr Texts kEn{
    .html_lang = "en",
    .other_lang = "zh",
    .other_lang_name = "中文",
    .other_html_lang = "zh-CN",
    .brand = "Secure checkout",
    .title_pay = "Pay",
    .payee = "Pay to",
    .amount = "Amount",
    .waiting = "Waiting for payment",
    .paid = "Payment successful",
    .paid_returning = "Paid. Returning you to the merchant…",
    .failed = "Payment failed",
    .expired = "This payment has expired",
    .offline = "Connection problem, retrying…",
    .time_left = "Time left",
    .scan_hint = "Scan the QR code with your phone to pay",
    .qr_label = "Payment QR code",
    .qr_unavailable = "QR code unavailable",
    .choose_method = "Choose a payment method",
    .order_no = "Order number",
    .channel = "Method",
    .payment_id = "Payment ID",
    .return_to_merchant = "Back to merchant",
    .noscript = "Turn on JavaScript to see the payment status update.",
    .refresh = "Refresh",
    .footer = "Payments secured by paygate",
    .steps_title = "How to pay",
    .steps = {"Open the payment app on your phone and tap Scan", "Scan the QR code, check the amount and confirm",
              "Once you have paid, this page takes you back to the merchant"},
    .sandbox_title = "Sandbox simulator",
    .sandbox_help = "Simulate the customer's payment. Change the amount to pay a different amount than ordered.",
    .sandbox_help_fixed = "Simulate the customer's payment, or give a result code directly.",
    .sandbox_amount = "Amount paid (yuan)",
    .request_failed = "Request failed",
};

const Texts& texts_for(std::string_view lang) {
  return normalize_lang(lang) == "en" ? kEn : kZh;
}

// A URL the page may send the browser to: absolute http(s) only (never javascript:, data:, or a relative path
// that could be read differently). Empty when it is not one.
std::string navigable_url(std::string_view url) {
  auto starts_with_ci = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (ascii_lower(url[i]) != prefix[i]) return false;
    }
    return true;
  };
  if (!starts_with_ci("http://") && !starts_with_ci("https://")) return {};
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return {};  // no whitespace or control characters
  }
  return std::string(url);
}

// The first character (UTF-8 sequence) of a name, for the payee's avatar; "" when the name is empty.
std::string first_character(std::string_view s) {
  if (s.empty()) return {};
  auto b = static_cast<unsigned char>(s[0]);
  size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
  std::string c(s.substr(0, std::min(n, s.size())));
  if (c.size() == 1 && c[0] >= 'a' && c[0] <= 'z') c[0] = static_cast<char>(c[0] - 'a' + 'A');
  return c;
}

std::string countdown_text(int64_t ms) {
  int64_t s = ms <= 0 ? 0 : (ms + 999) / 1000;
  int64_t m = s / 60;
  s %= 60;
  std::string out;
  if (m < 10) out += '0';
  out += std::to_string(m) + ':';
  if (s < 10) out += '0';
  out += std::to_string(s);
  return out;
}

constexpr std::string_view kCss = R"css(
:root{--bg:#f2f4f8;--card:#fff;--text:#1d2129;--sub:#4e5969;--muted:#86909c;--line:#e5e6eb;--brand:#1664ff;
--brand-soft:#eef3ff;--ok:#00a870;--ok-soft:#e8f8f1;--bad:#e34d59;--bad-soft:#fdeced;--amber:#ffb020}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;background:linear-gradient(180deg,#e6edff 0,var(--bg) 280px);color:var(--text);
font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei",
"Noto Sans CJK SC","WenQuanYi Micro Hei",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-font-smoothing:antialiased}
.sandbox-banner{background:repeating-linear-gradient(135deg,#ffc043 0 12px,#ffb020 12px 24px);color:#3d2800;
font-weight:700;font-size:13px;text-align:center;padding:7px 12px;letter-spacing:.02em}
.top,main,.foot{max-width:440px;margin:0 auto}
.top{display:flex;align-items:center;justify-content:space-between;padding:14px 16px 8px}
.brand{display:flex;align-items:center;gap:7px;color:var(--sub);font-size:14px;font-weight:600}
.brand svg{width:18px;height:18px;color:var(--brand)}
.lang{color:var(--brand);text-decoration:none;font-size:13px;line-height:1;padding:7px 12px;border-radius:999px;
background:#fff;border:1px solid #d5e1ff}
.lang:hover{background:var(--brand-soft)}
main{padding:0 12px}
.card{background:var(--card);border-radius:16px;padding:20px;margin-bottom:12px;
box-shadow:0 1px 2px rgba(29,33,41,.04),0 8px 24px rgba(29,33,41,.06)}
.payee{display:flex;align-items:center;gap:12px;padding-bottom:16px;border-bottom:1px solid #f0f1f4}
.avatar{flex:none;width:40px;height:40px;border-radius:12px;display:grid;place-items:center;color:#fff;
font-weight:700;font-size:17px;background:linear-gradient(135deg,#4d8dff,#1664ff)}
.payee-label{font-size:12px;color:var(--muted)}
.merchant{font-size:16px;font-weight:600;overflow-wrap:anywhere}
.amount-label{margin-top:16px;text-align:center;font-size:13px;color:var(--muted)}
.amount{text-align:center;font-size:40px;font-weight:700;line-height:1.2;letter-spacing:-.01em;
font-variant-numeric:tabular-nums;margin:2px 0 10px;overflow-wrap:anywhere}
.amount .cur{font-size:.55em;margin-right:3px;vertical-align:.28em}
.status{display:flex;align-items:center;justify-content:center;gap:8px;width:max-content;max-width:100%;
margin:0 auto;padding:6px 14px;border-radius:999px;font-size:14px;font-weight:600}
.status .dot{flex:none;width:8px;height:8px;border-radius:50%;background:currentColor}
.is-waiting{color:var(--brand);background:var(--brand-soft)}
.is-waiting .dot{animation:pulse 1.4s ease-in-out infinite}
.is-paid{color:var(--ok);background:var(--ok-soft)}
.is-failed,.is-expired{color:var(--bad);background:var(--bad-soft)}
@keyframes pulse{0%,100%{opacity:1;transform:scale(1)}50%{opacity:.3;transform:scale(.7)}}
.methods{display:flex;flex-wrap:wrap;justify-content:center;gap:8px;margin-top:18px}
.method{appearance:none;font:inherit;font-size:13px;color:var(--sub);background:#fff;border:1px solid var(--line);
border-radius:999px;padding:6px 14px;cursor:pointer}
.method[aria-checked=true]{color:var(--brand);border-color:var(--brand);background:var(--brand-soft);font-weight:600}
.qr-box{position:relative;width:228px;max-width:100%;margin:18px auto 10px;padding:10px;background:#fff;
border:1px solid var(--line);border-radius:14px}
.qr svg{display:block;width:100%;height:auto}
.qr-missing{display:grid;place-items:center;aspect-ratio:1;color:var(--muted);font-size:13px;text-align:center}
.qr-cover{position:absolute;inset:0;display:none;place-items:center;align-content:center;gap:8px;border-radius:14px;
background:rgba(255,255,255,.94);font-weight:600;font-size:14px;text-align:center;padding:12px}
.qr-cover svg{width:52px;height:52px}
[data-state=paid] .qr-cover.paid,[data-state=failed] .qr-cover.failed,[data-state=expired] .qr-cover.failed{display:grid}
.qr-cover.paid{color:var(--ok)}.qr-cover.failed{color:var(--bad)}
.hint{margin:0;text-align:center;font-size:13px;color:var(--sub)}
.timer{display:flex;justify-content:center;align-items:baseline;gap:8px;margin-top:6px;font-size:13px;color:var(--muted)}
.countdown{font-size:16px;font-weight:700;color:var(--text);font-variant-numeric:tabular-nums;letter-spacing:.03em}
.urgent .countdown{color:var(--bad)}
[data-state=paid] :is(.timer,.hint,.methods,.steps),[data-state=failed] :is(.timer,.hint,.methods,.steps){display:none!important}
.details{margin:0}
.details div{display:flex;justify-content:space-between;align-items:baseline;gap:16px;padding:10px 0;
border-top:1px solid #f0f1f4;font-size:13px}
.details div:first-child{border-top:0;padding-top:0}.details div:last-child{padding-bottom:0}
.details dt{flex:none;color:var(--muted)}
.details dd{margin:0;text-align:right;overflow-wrap:anywhere;font-variant-numeric:tabular-nums}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px}
.btn{appearance:none;display:flex;align-items:center;justify-content:center;height:46px;border-radius:12px;
font:inherit;font-size:15px;font-weight:600;cursor:pointer;text-decoration:none;border:1px solid transparent}
.btn:disabled{opacity:.5;cursor:default}
.btn.primary{background:var(--brand);color:#fff}.btn.primary:hover:not(:disabled){background:#0e54e0}
.btn.danger{background:#fff;color:var(--bad);border-color:#f5b9be}.btn.danger:hover:not(:disabled){background:var(--bad-soft)}
.btn.secondary{background:#fff;color:var(--brand);border-color:#c9d8ff;margin-top:16px}
.sandbox{background:#fffbf2;border:1px dashed var(--amber);box-shadow:none}
.sandbox h2{display:flex;align-items:center;gap:8px;margin:0 0 4px;font-size:15px}
.tag{font-size:11px;font-weight:700;letter-spacing:.04em;color:#3d2800;background:var(--amber);border-radius:4px;
padding:1px 6px}
.sandbox p{margin:0;font-size:12.5px;color:var(--sub)}
.sandbox label{display:block;margin-top:14px;font-size:12px;color:var(--muted)}
.field{display:flex;align-items:center;gap:6px;height:46px;margin:4px 0 12px;padding:0 14px;background:#fff;
border:1px solid #ead9b0;border-radius:12px;font-size:17px}
.field:focus-within{border-color:var(--brand);box-shadow:0 0 0 3px rgba(22,100,255,.14)}
.field input{flex:1;min-width:0;height:100%;border:0;outline:0;background:transparent;font:inherit;
font-variant-numeric:tabular-nums;color:var(--text)}
.btns{display:grid;grid-template-columns:3fr 2fr;gap:10px}
.btns.more{grid-template-columns:repeat(auto-fit,minmax(96px,1fr));margin-top:10px}
.btn.outcome{background:#fff;color:var(--sub);border-color:var(--line);font-size:13px;height:40px}
.error{margin:10px 0 0;color:var(--bad);font-size:13px;overflow-wrap:anywhere}
.notice{margin:0 0 12px;padding:12px 14px;border-radius:12px;background:#fff7e8;color:#8a5a00;font-size:13px}
.foot{padding:6px 16px 28px;text-align:center;color:#a0a7b4;font-size:12px}
.foot svg{width:12px;height:12px;vertical-align:-1px;margin-right:4px}
.message{text-align:center;padding:32px 24px}
.message .icon{width:56px;height:56px;margin:0 auto 14px;border-radius:50%;display:grid;place-items:center;
color:var(--bad);background:var(--bad-soft)}
.message .icon svg{width:28px;height:28px}
.message h1{margin:0 0 8px;font-size:19px}
.message p{margin:0;color:var(--sub);font-size:14px;overflow-wrap:anywhere;white-space:pre-line}
[hidden]{display:none!important}
.steps{display:none}
.steps h2{margin:0 0 12px;font-size:15px}
.steps ol{margin:0;padding:0;list-style:none;counter-reset:step}
.steps li{position:relative;padding:0 0 12px 34px;font-size:13.5px;color:var(--sub);counter-increment:step}
.steps li:last-child{padding-bottom:0}
.steps li::before{content:counter(step);position:absolute;left:0;top:0;width:22px;height:22px;border-radius:50%;
display:grid;place-items:center;font-size:12px;font-weight:700;color:var(--brand);background:var(--brand-soft)}
@media (min-width:720px){.top{padding-top:40px}.card{padding:24px 28px}}
@media (min-width:880px){
.wide .top,.wide .foot{max-width:880px}.top{padding:48px 16px 12px}.foot{padding-top:16px}
.wide main{max-width:880px;display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:16px;align-items:start}
.wide main>.card{margin:0;grid-column:2}.wide main>.summary{grid-column:1;grid-row:1/span 3}
.wide main>noscript{grid-column:1/-1}.steps{display:block}.qr-box{width:260px}}
@media (prefers-reduced-motion:reduce){.is-waiting .dot{animation:none}}
)css";

constexpr std::string_view kLockIcon =
    R"svg(<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><rect x="4" y="10" width="16" height="11" rx="2.5"/><path d="M8 10V7a4 4 0 0 1 8 0v3"/></svg>)svg";
constexpr std::string_view kCheckIcon =
    R"svg(<svg viewBox="0 0 52 52" fill="none" stroke="currentColor" stroke-width="3.5" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><circle cx="26" cy="26" r="23" fill="currentColor" stroke="none"/><path d="M15 27l7.5 7.5L37.5 19" stroke="#fff"/></svg>)svg";
constexpr std::string_view kCrossIcon =
    R"svg(<svg viewBox="0 0 52 52" fill="none" stroke="currentColor" stroke-width="3.5" stroke-linecap="round" aria-hidden="true"><circle cx="26" cy="26" r="23" fill="currentColor" stroke="none"/><path d="M18 18l16 16M34 18L18 34" stroke="#fff"/></svg>)svg";
constexpr std::string_view kAlertIcon =
    R"svg(<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" aria-hidden="true"><path d="M12 7v6"/><circle cx="12" cy="17" r=".6" fill="currentColor"/><circle cx="12" cy="12" r="10"/></svg>)svg";

// The page's script. It reads its data from window.CHECKOUT (set just before it, JSON made safe for <script>).
constexpr std::string_view kScript = R"js(
(function () {
  "use strict";
  var C = window.CHECKOUT, T = C.t;
  var $ = function (id) { return document.getElementById(id); };
  var statusEl = $("status"), statusText = $("status-text"), countdown = $("countdown"), timer = $("timer");
  var state = C.status, message = C.message || "", returnUrl = safeUrl(C.returnUrl), method = C.method;
  var expired = false, offline = false, failures = 0, inflight = false, again = false, finished = false;
  var pollTimer = 0, tickTimer = 0;
  // A deadline on the monotonic clock: the server says how long is left, the client's wall clock never counts.
  var deadline = performance.now() + C.expiresInMs;

  function safeUrl(u) {
    if (!u) return "";
    try {
      var x = new URL(u, location.href);
      return x.protocol === "http:" || x.protocol === "https:" ? x.href : "";
    } catch (e) { return ""; }
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function mmss(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    return pad(Math.floor(s / 60)) + ":" + pad(s % 60);
  }
  function view() {
    return state === 1 ? "paid" : state === 2 ? "failed" : expired ? "expired" : "waiting";
  }
  function render() {
    var v = view();
    document.body.setAttribute("data-state", v);
    statusEl.setAttribute("data-status", String(state));
    statusEl.className = "status is-" + v;
    statusText.textContent =
      v === "paid" ? (returnUrl ? T.paidReturning : T.paid) :
      v === "failed" ? (message || T.failed) :
      v === "expired" ? T.expired :
      offline ? T.offline : T.waiting;
    var link = $("return-link");
    if (link && returnUrl && (v === "paid" || v === "failed" || v === "expired")) {
      link.href = returnUrl;
      link.hidden = false;
    }
    if (state !== 0) setSandboxBusy(true);  // a final state: nothing left to simulate
  }
  function finish() {
    if (finished) return;
    finished = true;
    clearTimeout(pollTimer);
    clearInterval(tickTimer);
    if (state === 1 && returnUrl) setTimeout(function () { window.location.assign(returnUrl); }, 1000);
  }
  function tick() {
    if (finished) return;
    var left = deadline - performance.now();
    countdown.textContent = mmss(left);
    timer.classList.toggle("urgent", left < 60000);
    if (left <= 0 && !expired) {
      expired = true;  // show it, then ask the server once more: it has the last word
      render();
      poll();
    }
  }
  function schedule(ms) {
    clearTimeout(pollTimer);
    if (!finished && !expired) pollTimer = setTimeout(poll, ms);
  }
  function apply(j) {
    failures = 0;
    offline = false;
    if (typeof j.expiresInMs === "number") {
      deadline = performance.now() + Math.max(0, j.expiresInMs);
      if (expired && j.status === 0 && j.expiresInMs > 0) expired = false;  // our timer ran ahead
    }
    if (j.status === 1 || j.status === 2) {
      state = j.status;
      message = j.message || "";
      if (j.returnUrl) returnUrl = safeUrl(j.returnUrl);
    }
    render();
    if (state !== 0) finish();
  }
  function poll() {
    if (finished) return;
    if (inflight) { again = true; return; }
    inflight = true;
    fetch(C.statusUrl, { cache: "no-store", credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(apply, function () {
        failures += 1;
        offline = failures >= 3;
        render();
      })
      .then(function () {
        inflight = false;
        if (again) { again = false; poll(); } else { schedule(1000); }
      });
  }

  // ---- the method chooser ----
  var chooser = document.querySelectorAll("[data-method]");
  Array.prototype.forEach.call(chooser, function (b) {
    b.addEventListener("click", function () {
      method = b.getAttribute("data-method");
      Array.prototype.forEach.call(chooser, function (o) { o.setAttribute("aria-checked", String(o === b)); });
      $("channel").textContent = b.getAttribute("data-label");
    });
  });

  // ---- the sandbox ----
  function setSandboxBusy(busy) {
    ["sandbox-pay", "sandbox-fail", "sandbox-amount"].forEach(function (id) {
      var e = $(id);
      if (e) e.disabled = busy || state !== 0;
    });
    document.querySelectorAll("[data-result]").forEach(function (b) { b.disabled = busy || state !== 0; });
  }
  function toFen(s) {
    var m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(s);
    return m ? parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10) : null;
  }
  function showError(text) {
    var e = $("sandbox-error");
    e.textContent = text;
    e.hidden = !text;
  }
  function complete(result) {
    var body = new URLSearchParams();
    body.set("result", result);
    if (result === "success" && $("sandbox-amount")) {
      var v = $("sandbox-amount").value.trim();
      if (toFen(v) !== C.amountFen) body.set("amount", v);
    }
    if (C.chooser) body.set("method", method);
    setSandboxBusy(true);
    showError("");
    fetch(C.completeUrl, {
      method: "POST", credentials: "same-origin", body: body.toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" }
    })
      .then(function (r) {
        return r.text().then(function (text) {
          var j = null;
          try { j = JSON.parse(text); } catch (e) { /* not JSON */ }
          if (!r.ok || (j && j.ok === false)) {
            throw new Error((j && j.error) || text.trim().slice(0, 300) || "HTTP " + r.status);
          }
        });
      })
      .catch(function (e) { showError(T.requestFailed + ": " + ((e && e.message) || e)); })
      .then(function () {
        setSandboxBusy(false);
        poll();
      });
  }
  if ($("sandbox-pay")) {
    $("sandbox-pay").addEventListener("click", function () { complete("success"); });
    $("sandbox-fail").addEventListener("click", function () { complete("fail"); });
  }
  document.querySelectorAll("[data-result]").forEach(function (b) {
    b.addEventListener("click", function () { complete(b.getAttribute("data-result")); });
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") poll();
  });
  render();
  if (state !== 0) {
    finish();
  } else {
    tickTimer = setInterval(tick, 250);
    tick();
    if (!expired) poll();
  }
})();
)js";

void head(std::string& out, const Texts& t, std::string_view title) {
  out += "<!DOCTYPE html>\n<html lang=\"";
  out += t.html_lang;
  out += "\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1, viewport-fit=cover\">\n";
  // The policy less frame-ancestors, which a <meta> policy may not carry.
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"";
  out += kPageContentSecurityPolicy.substr(0, kPageContentSecurityPolicy.find("; frame-ancestors"));
  out += "\">\n";
  out += "<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"robots\" content=\"noindex, nofollow\">\n";
  out += "<meta name=\"format-detection\" content=\"telephone=no\">\n<meta name=\"theme-color\" content=\"#e6edff\">\n";
  out += "<link rel=\"icon\" href=\"data:,\">\n<title>";
  out += html_escape(title);
  out += "</title>\n<style>";
  out += kCss;
  out += "</style>\n</head>\n";
}

void top_bar(std::string& out, const Texts& t, std::string_view lang_switch_href) {
  out += "<header class=\"top\"><div class=\"brand\">";
  out += kLockIcon;
  out += "<span>";
  out += t.brand;
  out += "</span></div>";
  if (!lang_switch_href.empty()) {
    out += "<a id=\"lang-switch\" class=\"lang\" href=\"";
    out += html_escape(lang_switch_href);
    out += "\" hreflang=\"";
    out += t.other_html_lang;
    out += "\" lang=\"";
    out += t.other_html_lang;
    out += "\">";
    out += t.other_lang_name;
    out += "</a>";
  }
  out += "</header>\n";
}

void footer(std::string& out, const Texts& t) {
  out += "<footer class=\"foot\">";
  out += kLockIcon;
  out += t.footer;
  out += "</footer>\n";
}

}  // namespace

std::string_view normalize_lang(std::string_view lang) {
  if (lang.size() == 2 && (lang[0] == 'e' || lang[0] == 'E') && (lang[1] == 'n' || lang[1] == 'N')) return "en";
  return "zh";
}

std::string render_status_json(CheckoutStatus status, int64_t expires_in_ms, std::string_view message,
                               std::string_view return_url) {
  nlohmann::json j;
  j["status"] = static_cast<int>(status);
  j["expiresInMs"] = std::max<int64_t>(0, expires_in_ms);
  j["message"] = std::string(message);
  if (status == CheckoutStatus::kPaid && !return_url.empty()) j["returnUrl"] = std::string(return_url);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string render_checkout_page(const CheckoutView& v) {
  const Texts& t = texts_for(v.lang);
  const bool en = &t == &kEn;
  const std::string amount = format_yuan(v.amount);
  const int64_t left_ms = v.expires_at_ms - v.now_ms;
  const int status = static_cast<int>(v.status);
  const std::string return_url = navigable_url(v.return_url);

  // The method on show: the selected one when it is known, else the first; the view's channel without methods.
  const CheckoutMethod* chosen = nullptr;
  for (const auto& m : v.methods) {
    if (m.key == v.selected_method) chosen = &m;
  }
  if (!chosen && !v.methods.empty()) chosen = &v.methods.front();
  const bool chooser = v.methods.size() > 1;
  const std::string channel =
      chosen ? (en ? chosen->label_en : chosen->label_zh) : (en ? v.channel_label_en : v.channel_label_zh);

  const std::string state = v.status == CheckoutStatus::kPaid     ? "paid"
                            : v.status == CheckoutStatus::kFailed ? "failed"
                            : left_ms <= 0                        ? "expired"
                                                                  : "waiting";
  std::string status_text;
  if (state == "paid") {
    status_text = return_url.empty() ? t.paid : t.paid_returning;
  } else if (state == "failed") {
    status_text = v.message.empty() ? std::string(t.failed) : v.message;
  } else if (state == "expired") {
    status_text = t.expired;
  } else {
    status_text = t.waiting;
  }

  std::string out;
  out.reserve(24 * 1024);
  head(out, t, std::string(t.title_pay) + " ¥" + amount + (v.merchant_name.empty() ? "" : " · " + v.merchant_name));
  out += "<body class=\"wide\" data-state=\"" + state + "\">\n";
  if (v.sandbox) out += "<div id=\"sandbox-banner\" class=\"sandbox-banner\">沙箱 SANDBOX — no real money</div>\n";
  std::string lang_href;
  if (!v.self_url.empty()) {
    lang_href = v.self_url + (v.self_url.find('?') == std::string::npos ? "?" : "&") + "lang=";
    lang_href += t.other_lang;
  }
  top_bar(out, t, lang_href);
  out += "<main>\n";
  out += "<noscript><p class=\"notice\">";
  out += t.noscript;
  if (!v.self_url.empty()) {
    out += " <a href=\"" +
           html_escape(v.self_url + (v.self_url.find('?') == std::string::npos ? "?" : "&") +
                       "lang=" + std::string(normalize_lang(v.lang))) +
           "\">";
    out += t.refresh;
    out += "</a>";
  }
  out += "</p></noscript>\n";

  // ---- the summary: payee, amount, status, QR, countdown ----
  out += "<section class=\"card summary\">\n<div class=\"payee\"><div class=\"avatar\" aria-hidden=\"true\">";
  out += html_escape(first_character(v.merchant_name));
  out += "</div><div><div class=\"payee-label\">";
  out += t.payee;
  out += "</div><div id=\"merchant\" class=\"merchant\">" + html_escape(v.merchant_name) + "</div></div></div>\n";
  out += "<div class=\"amount-label\">";
  out += t.amount;
  out += "</div>\n<div id=\"amount\" class=\"amount\" data-fen=\"" + std::to_string(v.amount.fen()) +
         "\"><span class=\"cur\">¥</span>" + amount + "</div>\n";
  out += "<div id=\"status\" class=\"status is-" + state + "\" data-status=\"" + std::to_string(status) +
         "\" role=\"status\" aria-live=\"polite\"><span class=\"dot\"></span><span id=\"status-text\">" +
         html_escape(status_text) + "</span></div>\n";

  if (chooser) {
    out += "<div class=\"methods\" role=\"radiogroup\" aria-label=\"";
    out += t.choose_method;
    out += "\">";
    for (const auto& m : v.methods) {
      const std::string& label = en ? m.label_en : m.label_zh;
      out += "<button type=\"button\" class=\"method\" role=\"radio\" id=\"method-" + html_escape(m.key) +
             "\" data-method=\"" + html_escape(m.key) + "\" data-label=\"" + html_escape(label) + "\" aria-checked=\"" +
             (&m == chosen ? "true" : "false") + "\">" + html_escape(label) + "</button>";
    }
    out += "</div>\n";
  }

  out += "<div class=\"qr-box\"><div id=\"qr\" class=\"qr\">";
  auto svg = v.payment_link.empty() ? Result<std::string>(make_error(ErrorCode::kInvalidArgument, "no link"))
                                    : http::qr_svg(v.payment_link, t.qr_label);
  if (svg.ok()) {
    out += *svg;
  } else {
    out += "<div class=\"qr-missing\">";
    out += t.qr_unavailable;
    out += "</div>";
  }
  out += "</div><div class=\"qr-cover paid\">";
  out += kCheckIcon;
  out += "<span>";
  out += t.paid;
  out += "</span></div><div class=\"qr-cover failed\">";
  out += kCrossIcon;
  out += "</div></div>\n<p class=\"hint\">";
  out += t.scan_hint;
  out += "</p>\n<div id=\"timer\" class=\"timer";
  if (left_ms < 60000) out += " urgent";
  out += "\"><span>";
  out += t.time_left;
  out += "</span><span id=\"countdown\" class=\"countdown\">" + countdown_text(left_ms) + "</span></div>\n";
  out += "</section>\n";

  // ---- the order's details ----
  out += "<section class=\"card\"><dl class=\"details\">\n<div><dt>";
  out += t.order_no;
  out += "</dt><dd id=\"order-no\">" + html_escape(v.order_no) + "</dd></div>\n<div><dt>";
  out += t.channel;
  out += "</dt><dd id=\"channel\">" + html_escape(channel) + "</dd></div>\n<div><dt>";
  out += t.payment_id;
  out += "</dt><dd id=\"payment-id\" class=\"mono\">" + html_escape(v.payment_id) + "</dd></div>\n</dl>";
  out += "<a id=\"return-link\" class=\"btn secondary\" href=\"" + html_escape(return_url) + "\"";
  if (return_url.empty() || state == "waiting") out += " hidden";
  out += ">";
  out += t.return_to_merchant;
  out += "</a></section>\n";
  out += "<section class=\"card steps\"><h2>";
  out += t.steps_title;
  out += "</h2><ol>";
  for (std::string_view step : t.steps) {
    out += "<li>";
    out += step;
    out += "</li>";
  }
  out += "</ol></section>\n";

  // ---- the sandbox ----
  if (v.sandbox) {
    out += "<section id=\"sandbox-panel\" class=\"card sandbox\" aria-label=\"Sandbox\">\n<h2>";
    out += t.sandbox_title;
    out += "<span class=\"tag\">SANDBOX</span></h2>\n<p>";
    out += v.sandbox_amount_input ? t.sandbox_help : t.sandbox_help_fixed;
    out += "</p>\n";
    if (v.sandbox_amount_input) {
      out += "<label for=\"sandbox-amount\">";
      out += t.sandbox_amount;
      out +=
          "</label>\n<div class=\"field\"><span>¥</span><input id=\"sandbox-amount\" name=\"amount\" "
          "inputmode=\"decimal\" autocomplete=\"off\" spellcheck=\"false\" value=\"" +
          amount + "\"></div>\n";
    }
    out +=
        "<div class=\"btns\"><button type=\"button\" id=\"sandbox-pay\" class=\"btn primary\">支付 / Pay</button>"
        "<button type=\"button\" id=\"sandbox-fail\" class=\"btn danger\">失败 / Fail</button></div>\n";
    if (!v.sandbox_outcomes.empty()) {
      out += "<div class=\"btns more\">";
      for (const auto& o : v.sandbox_outcomes) {
        out += "<button type=\"button\" class=\"btn outcome\" id=\"sandbox-result-" + html_escape(o.result) +
               "\" data-result=\"" + html_escape(o.result) + "\">" + html_escape(o.label) + "</button>";
      }
      out += "</div>\n";
    }
    out += "<p id=\"sandbox-error\" class=\"error\" role=\"alert\" hidden></p>\n</section>\n";
  }
  out += "</main>\n";
  footer(out, t);

  // ---- the script's data, then the script ----
  nlohmann::json c;
  c["status"] = status;
  c["expiresInMs"] = std::max<int64_t>(0, left_ms);
  c["message"] = v.message;
  c["returnUrl"] = return_url;
  c["statusUrl"] = v.status_url;
  c["completeUrl"] = v.complete_url;
  c["amountFen"] = v.amount.fen();
  c["chooser"] = chooser;
  c["method"] = chosen ? chosen->key : std::string();
  c["t"] = {{"waiting", t.waiting}, {"paid", t.paid},       {"paidReturning", t.paid_returning}, {"failed", t.failed},
            {"expired", t.expired}, {"offline", t.offline}, {"requestFailed", t.request_failed}};
  out += "<script>window.CHECKOUT = ";
  out += http::script_safe_json(c.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  out += ";</script>\n<script>";
  out += kScript;
  out += "</script>\n</body>\n</html>\n";
  return out;
}

std::string render_message_page(std::string_view title, std::string_view message, std::string_view lang) {
  const Texts& t = texts_for(lang);
  std::string out;
  out.reserve(12 * 1024);
  head(out, t, title);
  out += "<body data-state=\"message\">\n";
  top_bar(out, t, {});
  out += "<main>\n<section class=\"card message\"><div class=\"icon\">";
  out += kAlertIcon;
  out += "</div><h1 id=\"message-title\">" + html_escape(title) + "</h1><p id=\"message-text\">" +
         html_escape(message) + "</p></section>\n</main>\n";
  footer(out, t);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace paygate::checkout
