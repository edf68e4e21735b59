#include "protocols/cashier/handlers.h"

#include <spdlog/spdlog.h>

#include "base/text.h"
#include "checkout/page.h"
#include "http/pages.h"
#include "protocols/common/wire.h"
#include "storage/async_write.h"

namespace paygate::cashier {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

using orders::CashierOrder;
using orders::CashierState;

constexpr std::string_view kJson = "application/json; charset=utf-8";
constexpr std::string_view kHtml = "text/html; charset=utf-8";

// Media types compare without case (RFC 9110, 8.3.1).
bool wants_json(const http::Request& req) {
  return ascii_lower(http::header_value(req, bhttp::field::accept)).find("application/json") != std::string::npos;
}

std::string page_path(const CashierId& id) { return "/cashier?id=" + http::url_encode(id.value()); }
std::string return_path(const CashierId& id) { return "/cashier/return?id=" + http::url_encode(id.value()); }

// What the customer sees: paid in any of its forms (0000, 1002, 1004) is paid, 1003 failed, 1001 waiting.
checkout::CheckoutStatus checkout_status(CashierState s) {
  switch (s) {
    case CashierState::kUnpaid: return checkout::CheckoutStatus::kWaiting;
    case CashierState::kFailed: return checkout::CheckoutStatus::kFailed;
    default: return checkout::CheckoutStatus::kPaid;
  }
}

struct MethodText {
  Action action;
  const char* zh;
  const char* en;
};
constexpr MethodText kMethodTexts[] = {
    {Action::kWeiXin, "微信支付", "WeChat Pay"}, {Action::kAliPay, "支付宝", "Alipay"}, {Action::kBank, "银联", "UnionPay"}};
const MethodText& text_of(Action a) {
  for (const auto& m : kMethodTexts) {
    if (m.action == a) return m;
  }
  return kMethodTexts[2];
}

// The answer to a refused payment request: the response envelope (Accept: application/json) or a page.
http::Response refused(const http::Request& req, const Fields& form, const Refusal& r) {
  if (wants_json(req)) {
    Fields request;
    if (auto env = open_envelope(form); env.ok()) {
      request = env->fields;
      if (!r.echo_request) request = Fields{{"merid", std::string(field(env->fields, "merid"))}};
    }
    auto json = pay_result_json(refused_pay_view(r.error.message, request));
    auto sealed = r.merchant_key.empty() ? seal_unsigned(json) : seal(json, r.merchant_key);
    return http::make_response(req, bhttp::status::ok, kJson, envelope_json(sealed));
  }
  auto res = http::make_response(req, bhttp::status::ok, kHtml,
                                 checkout::render_message_page("支付请求有误 / The payment request was refused",
                                                               r.error.message, "zh"));
  http::set_page_headers(res, checkout::kPageContentSecurityPolicy);
  return res;
}

std::string client_message(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInternal:
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kUnavailable: return "the platform is busy, nothing was stored; retry later";
    default: return e.message;
  }
}

asio::awaitable<http::Response> pay(const HandlerDeps& deps, http::Request& req, std::string_view encoded,
                                    std::string_view content_type) {
  auto form = parse_form(encoded, content_type);
  if (!form.ok()) co_return refused(req, Fields{}, Refusal{form.error(), {}});
  Refusal refusal{make_error(ErrorCode::kInternal, ""), {}};
  auto prepared = deps.service.prepare_pay(*form, &refusal, req.remote_ip);
  if (!prepared.ok()) {
    spdlog::info("event=cashier_rejected request_id={} reason=\"{}\"", req.request_id, refusal.error.message);
    co_return refused(req, *form, refusal);
  }
  std::string key = prepared->merchant_key;
  Random& random = deps.random;
  std::function<Result<PayAnswer>(storage::Tx&)> commit = [p = std::move(prepared).value(),
                                                           &random](storage::Tx& tx) {
    return Service::commit_pay(tx, p, random);
  };
  auto answer = co_await storage::async_write<PayAnswer>(deps.store, std::move(commit));
  if (!answer.ok()) {
    Refusal r{make_error(answer.error().code, client_message(answer.error())), key};
    spdlog::info("event=cashier_rejected request_id={} reason=\"{}\"", req.request_id, answer.error().message);
    co_return refused(req, *form, r);
  }
  if (!answer->identical_retry && deps.on_work_due) deps.on_work_due(answer->order.expires_at_ms);
  auto res = http::make_response(req, bhttp::status::found, kHtml, "");
  res.set(bhttp::field::location, page_path(answer->order.id));
  res.set(bhttp::field::cache_control, "no-store");
  co_return res;
}

std::optional<CashierOrder> find(const HandlerDeps& deps, const http::Request& req, std::string* lang) {
  auto fields = parse_form(req.query);
  if (!fields.ok()) return std::nullopt;
  if (lang) *lang = std::string(checkout::normalize_lang(field(*fields, "lang")));
  std::string_view id = field(*fields, "id");
  if (id.empty() || id.size() > 64) return std::nullopt;
  return deps.store.read()->cashier_order_by_id(CashierId{std::string(id)});
}

std::string ok_json(const CashierOrder& o) {
  return "{\"ok\":true,\"resultcode\":" + protocols::json_string(orders::cashier_result_code(o.state)) +
         ",\"state\":" + protocols::json_string(orders::cashier_state_name(o.state)) + "}";
}

std::string error_json(std::string_view msg) { return "{\"ok\":false,\"error\":" + protocols::json_string(msg) + "}"; }

}  // namespace

asio::awaitable<http::Response> sandbox_complete(const HandlerDeps& deps, http::Request& req) {
  std::string id(req.path_param("id"));
  auto fields = parse_form(req.raw.body());
  if (!fields.ok()) co_return http::make_response(req, bhttp::status::bad_request, kJson, error_json(fields.error().message));
  auto outcome = parse_outcome(field(*fields, "result"));
  if (!outcome) {
    co_return http::make_response(req, bhttp::status::bad_request, kJson,
                                  error_json("result must be success, fail, 0000, 1002, 1003 or 1004"));
  }
  std::optional<Action> method;
  if (std::string_view m = field(*fields, "method"); !m.empty()) {
    auto parsed = parse_action(m);
    if (!parsed.ok()) co_return http::make_response(req, bhttp::status::bad_request, kJson, error_json(parsed.error().message));
    method = *parsed;
  }
  const Config config = deps.service.config();
  const int64_t now_ms = deps.clock.now_unix_ms();
  std::function<Result<CashierOrder>(storage::Tx&)> complete = [cid = CashierId{id}, o = *outcome, method, now_ms,
                                                                config](storage::Tx& tx) {
    return complete_order(tx, cid, o, method, now_ms, config);
  };
  auto done = co_await storage::async_write<CashierOrder>(deps.store, std::move(complete));
  if (!done.ok()) {
    auto status = done.error().code == ErrorCode::kFailedPrecondition ? bhttp::status::conflict
                  : done.error().code == ErrorCode::kNotFound          ? bhttp::status::not_found
                  : done.error().code == ErrorCode::kInvalidArgument   ? bhttp::status::bad_request
                                                                       : bhttp::status::service_unavailable;
    co_return http::make_response(req, status, kJson, error_json(client_message(done.error())));
  }
  spdlog::info("event=sandbox_completed request_id={} order={} resultcode={}", req.request_id, done->id.value(),
               orders::cashier_result_code(done->state));
  if (deps.on_notify_queued) deps.on_notify_queued();
  if (done->state == CashierState::kPending && deps.on_work_due) deps.on_work_due(done->settle_after_ms);
  co_return http::make_response(req, bhttp::status::ok, kJson, ok_json(*done));
}

void register_routes(http::Router& router, HandlerDeps deps) {
  router.add(bhttp::verb::post, "/api/icashier", "cashier.pay",
             [deps](http::Request& req) -> asio::awaitable<http::Response> {
               co_return co_await pay(deps, req, req.raw.body(), http::header_value(req, bhttp::field::content_type));
             });
  router.add(bhttp::verb::get, "/apis/icashier", "cashier.pay_get",
             [deps](http::Request& req) -> asio::awaitable<http::Response> {
               co_return co_await pay(deps, req, req.query, {});
             });

  // The hosted cashier: the shared checkout page.
  router.add(bhttp::verb::get, "/cashier", "cashier.page", [deps](http::Request& req) -> asio::awaitable<http::Response> {
    std::string lang = "zh";
    auto order = find(deps, req, &lang);
    storage::MerchantRef merchant;
    if (order) merchant = deps.service.catalog().merchant(order->merchant_id);
    if (!order || !merchant) {
      auto res = http::make_response(
          req, bhttp::status::not_found, kHtml,
          checkout::render_message_page(lang == "en" ? "Payment not found" : "找不到该支付",
                                        lang == "en" ? "This payment link is not valid. Please return to the merchant."
                                                     : "该支付链接无效，请返回商户重新发起支付。",
                                        lang));
      http::set_page_headers(res, checkout::kPageContentSecurityPolicy);
      co_return res;
    }
    const std::string base = http::public_base_url(req, deps.public_url);
    checkout::CheckoutView v;
    v.payment_id = order->id.value();
    v.merchant_name = merchant->name;
    v.amount = order->amount;
    v.order_no = order->orderid;
    v.payment_link = base + page_path(order->id);
    v.expires_at_ms = order->expires_at_ms;
    v.now_ms = deps.clock.now_unix_ms();
    v.status = checkout_status(order->state);
    v.message = order->message;
    if (!order->fronturl.empty()) v.return_url = base + return_path(order->id);
    v.sandbox = deps.sandbox;
    v.lang = lang;
    v.self_url = page_path(order->id);
    v.status_url = "/cashier/status?id=" + http::url_encode(order->id.value());
    v.complete_url = "/sandbox/payments/" + http::url_encode(order->id.value()) + "/complete";
    v.sandbox_amount_input = false;
    v.sandbox_outcomes = {{"0000", "0000 已结算 / Settled"}, {"1002", "1002 待结算 / Pending"},
                          {"1004", "1004 协查 / Held"}};
    if (order->action == "Arbi" && order->state == CashierState::kUnpaid) {
      for (Action a : deps.service.enabled_methods(order->merchant_id)) {
        const auto& t = text_of(a);
        v.methods.push_back(checkout::CheckoutMethod{std::string(action_name(a)), t.zh, t.en});
      }
    } else {
      auto a = parse_action(order->method.empty() ? order->action : order->method);
      const auto& t = text_of(a.ok() ? *a : Action::kBank);
      v.channel_label_zh = t.zh;
      v.channel_label_en = t.en;
    }
    if (!order->accno.empty()) {
      // Bound-card payment: the account is shown masked.
      std::string masked = mask_id_number(order->accno);
      v.channel_label_zh += " · 绑卡 " + masked;
      v.channel_label_en += " · bound card " + masked;
    }
    auto res = http::make_response(req, bhttp::status::ok, kHtml, checkout::render_checkout_page(v));
    http::set_page_headers(res, checkout::kPageContentSecurityPolicy);
    co_return res;
  });

  router.add(bhttp::verb::get, "/cashier/status", "cashier.status",
             [deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto order = find(deps, req, nullptr);
               if (!order) {
                 co_return http::make_response(
                     req, bhttp::status::not_found, kJson,
                     checkout::render_status_json(checkout::CheckoutStatus::kFailed, 0, "no such payment", ""));
               }
               auto status = checkout_status(order->state);
               std::string ret = status == checkout::CheckoutStatus::kPaid && !order->fronturl.empty()
                                     ? http::public_base_url(req, deps.public_url) + return_path(order->id)
                                     : std::string();
               int64_t left_ms = order->state == CashierState::kUnpaid
                                     ? order->expires_at_ms - deps.clock.now_unix_ms()
                                     : 0;
               auto res = http::make_response(req, bhttp::status::ok, kJson,
                                              checkout::render_status_json(status, left_ms, order->message, ret));
               res.set(bhttp::field::cache_control, "no-store");
               co_return res;
             });

  // The front notify: the customer's browser goes on to fronturl with the signed result.
  router.add(bhttp::verb::get, "/cashier/return", "cashier.front_notify",
             [deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto order = find(deps, req, nullptr);
               storage::MerchantRef merchant;
               if (order) merchant = deps.service.catalog().merchant(order->merchant_id);
               if (!order || !merchant || order->fronturl.empty()) {
                 auto res = http::make_response(
                     req, bhttp::status::not_found, kHtml,
                     checkout::render_message_page("找不到该支付 / Payment not found",
                                                   "没有可返回的商户页面 / There is no merchant page to return to.", "zh"));
                 http::set_page_headers(res, checkout::kPageContentSecurityPolicy);
                 co_return res;
               }
               auto sealed = seal(pay_result_json(view_of(*order)), merchant->sign_key);
               auto res = http::make_response(req, bhttp::status::found, kHtml, "");
               res.set(bhttp::field::location, front_notify_url(order->fronturl, sealed));
               res.set(bhttp::field::cache_control, "no-store");
               co_return res;
             });

  router.add(bhttp::verb::post, "/api/query", "cashier.query",
             [deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto form = parse_form(req.raw.body(), http::header_value(req, bhttp::field::content_type));
               std::string body = form.ok() ? deps.service.query(*form, req.remote_ip)
                                            : envelope_json(seal_unsigned(query_error_json(RespCode::kBadRequest,
                                                                                           form.error().message)));
               co_return http::make_response(req, bhttp::status::ok, kJson, body);
             });
}

}  // namespace paygate::cashier
