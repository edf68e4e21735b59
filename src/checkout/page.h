// The hosted checkout page: one page for every protocol that hands the customer to the platform (the gateway's
// payUrl, the cashier's 收银台). A protocol's handler fills a CheckoutView; this renders it. Pure: no I/O, no
// storage, no clock (the caller passes now_ms).
//
// The page is self-contained HTML5 (inline CSS and JS, no external assets, UTF-8), Chinese by default with an
// English switch. It shows the payee, the amount, the order number, the channel, a QR code of payment_link and a
// countdown to expiry, and keeps its status live by polling status_url about once a second (the body is
// render_status_json's). Paid: it sends the browser to the return URL after about a second. Failed: it shows why and
// stops. In the sandbox it adds a banner and a panel that POSTs the customer's outcome to complete_url.
//
// Stable element ids (browser tests rely on them): amount, order-no, merchant, channel, qr (holds the <svg>),
// countdown, status (data-status = the numeric status), status-text, lang-switch, payment-id, return-link,
// sandbox-banner, sandbox-panel, sandbox-amount, sandbox-pay, sandbox-fail, sandbox-error, method-<key>.
// <body data-state> is waiting, paid, failed or expired.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/money.h"

namespace paygate::checkout {

// As the gateway's query and the status endpoint number them.
enum class CheckoutStatus : int { kWaiting = 0, kPaid = 1, kFailed = 2 };

// A payment method the customer may choose on the page (the cashier's `Arbi`). The chooser is shown only when
// there is more than one; the chosen key is posted as `method` with the sandbox completion.
struct CheckoutMethod {
  std::string key;  // letters, digits, '-' and '_': it is part of an element id (method-<key>)
  std::string label_zh;
  std::string label_en;
};

struct SandboxOutcome {
  std::string result;  // posted as result=; letters and digits (part of an element id)
  std::string label;   // the button's text (both languages, e.g. "1002 待结算 / Pending")
};

struct CheckoutView {
  std::string payment_id;     // the platform's id, shown for support
  std::string merchant_name;  // the payee
  Money amount;               // what the customer is asked to pay
  std::string order_no;       // the merchant's order number (gateway mrn, cashier orderid)
  std::string channel_label_zh;
  std::string channel_label_en;
  std::string payment_link;   // what the QR code encodes; no QR when empty or too long to encode
  int64_t expires_at_ms = 0;  // server time; the countdown runs from expires_at_ms - now_ms, so the client's
  int64_t now_ms = 0;         // clock never matters
  CheckoutStatus status = CheckoutStatus::kWaiting;
  std::string message;     // why it failed (shown for kFailed)
  std::string return_url;  // where a paid customer goes; only http(s) URLs are ever followed
  bool sandbox = false;
  std::string lang = "zh";   // "zh" or "en"; anything else reads as "zh"
  std::string self_url;      // this page's path and query without `lang`, for the language switch
  std::string status_url;    // GET, answers render_status_json
  std::string complete_url;  // sandbox only: POST result=success|fail [amount=] [method=]
  std::vector<CheckoutMethod> methods;
  std::string selected_method;  // a key of `methods`; the first when empty or unknown
  // The sandbox panel's amount box (a payment of another amount); off where a protocol pays the order's amount only.
  bool sandbox_amount_input = true;
  // More outcomes for the sandbox panel, beside pay (result=success) and fail (result=fail): each a button
  // #sandbox-result-<result> that posts result=<result> (the cashier's 0000, 1002, 1004).
  std::vector<SandboxOutcome> sandbox_outcomes;
};

std::string render_checkout_page(const CheckoutView& view);

// A small page in the same style for what stops a customer before the checkout page: a pay-in rejected in page
// mode, an unknown payment id, an expired link. Title and message are escaped.
std::string render_message_page(std::string_view title, std::string_view message, std::string_view lang);

// The body status_url answers and the page polls: {"status":0|1|2,"expiresInMs":N,"message":"..."} plus
// "returnUrl" when paid and one is known. expires_in_ms below zero is sent as 0.
std::string render_status_json(CheckoutStatus status, int64_t expires_in_ms, std::string_view message,
                               std::string_view return_url);

// "en" for "en" (any case), "zh" for everything else: the `lang` query parameter as the page reads it.
std::string_view normalize_lang(std::string_view lang);

// The Content-Security-Policy the pages are written for; send it as a header with them. (The pages also carry it,
// less frame-ancestors, in a <meta>.) Inline script and style only, requests to the page's own origin only.
inline constexpr std::string_view kPageContentSecurityPolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

}  // namespace paygate::checkout
