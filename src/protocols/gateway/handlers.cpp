#include "protocols/gateway/handlers.h"

#include <spdlog/spdlog.h>

#include "checkout/page.h"
#include "http/pages.h"
#include "protocols/gateway/pay_page.h"
#include "storage/async_write.h"

namespace paygate::gateway {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kJson = "application/json; charset=utf-8";
constexpr std::string_view kHtml = "text/html; charset=utf-8";

// A query string's fields; a field given twice is refused (gateway::parse_form).
Result<Fields> query_fields(const http::Request& req) { return parse_form(req.query); }

struct Counters {
  metrics::Counter* accepted;
  metrics::Counter* retried;
  metrics::Counter* rejected;
};

Counters counters(metrics::Registry& m, const char* route) {
  auto c = [&m, route](const char* result) {
    return &m.counter("paygate_gateway_results_total", "Gateway protocol answers by route and result.",
                      std::string("{route=\"") + route + "\",result=\"" + result + "\"}");
  };
  return Counters{c("accepted"), c("identical_retry"), c("rejected")};
}

void log_rejected(const http::Request& req, const char* what, const Error& e) {
  spdlog::info("event=gateway_rejected request_id={} what={} code={} reason=\"{}\"", req.request_id, what,
               wire_error_name(wire_error_of(e)), e.message);
}

// Creates a pay-in from a form or JSON body (page mode and WebAPI alike): the stored pay-in, or why not.
asio::awaitable<Result<PayInAnswer>> create_pay_in(const HandlerDeps& deps, http::Request& req) {
  auto fields = parse_body(http::header_value(req, bhttp::field::content_type), req.raw.body());
  if (!fields.ok()) co_return fields.error();
  auto prepared = deps.service.prepare_pay_in(*fields, req.remote_ip);
  if (!prepared.ok()) co_return prepared.error();
  Random& random = deps.random;
  std::function<Result<PayInAnswer>(storage::Tx&)> commit = [p = std::move(prepared).value(),
                                                             &random](storage::Tx& tx) {
    return Service::commit_pay_in(tx, p, random);
  };
  co_return co_await storage::async_write<PayInAnswer>(deps.store, std::move(commit));
}

std::string status_json(const orders::PayIn& p, int64_t now_ms) {
  int64_t left_ms = p.state == orders::PayInState::kWaiting ? p.expires_at_ms - now_ms : 0;
  return checkout::render_status_json(static_cast<checkout::CheckoutStatus>(orders::payin_protocol_status(p.state)),
                                      left_ms, p.message,
                                      p.state == orders::PayInState::kPaid ? p.return_url : std::string());
}

// A query's order as both queries answer it; `requeue` set when callback=true asks for a fresh callback of a paid one.
struct FoundOrder {
  std::string mrn;
  QueryStatus status = QueryStatus::kWaiting;
  std::function<bool(storage::Tx&, int64_t now_ms, const notify::ScheduleConfig&)> requeue;
};

// GET /api/Payments/Query and GET /api/Payouts/Query: the same steps around their own look-up.
asio::awaitable<http::Response> answer_query(const HandlerDeps& deps, http::Request& req,
                                             const std::function<Result<FoundOrder>(const Fields&)>& find) {
  auto fields = parse_form(req.query);
  if (!fields.ok()) {
    co_return http::make_response(req, bhttp::status::ok, kJson,
                                  query_error_json(WireError::kInvalidData, fields.error().message));
  }
  auto found = find(*fields);
  if (!found.ok()) {
    log_rejected(req, "query", found.error());
    co_return http::make_response(req, bhttp::status::ok, kJson,
                                  query_error_json(wire_error_of(found.error()), client_message(found.error())));
  }
  if (found->requeue) {
    const auto schedule = deps.service.config().schedule;
    const int64_t now_ms = deps.clock.now_unix_ms();
    std::function<Result<bool>(storage::Tx&)> requeue = [r = found->requeue, now_ms,
                                                         schedule](storage::Tx& tx) -> Result<bool> {
      return r(tx, now_ms, schedule);
    };
    auto queued = co_await storage::async_write<bool>(deps.store, std::move(requeue));
    if (!queued.ok()) {
      co_return http::make_response(
          req, bhttp::status::ok, kJson,
          query_error_json(WireError::kInvalidData, "the platform is busy: the callback was not queued, query again"));
    }
    if (deps.on_callback_queued) deps.on_callback_queued();
  }
  co_return http::make_response(req, bhttp::status::ok, kJson, query_ok_json(found->mrn, found->status));
}

std::string sandbox_error(std::string_view msg) {
  return "{\"ok\":false,\"error\":" + protocols::json_string(msg) + "}";
}

}  // namespace

void register_routes(http::Router& router, HandlerDeps deps) {
  auto page_counters = counters(deps.metrics, "pay_page_mode");
  auto api_counters = counters(deps.metrics, "pay_webapi");
  auto payout_counters = counters(deps.metrics, "payout");

  // WebAPI mode.
  router.add(bhttp::verb::post, "/api/Pay/Create", "gateway.pay_create",
             [deps, c = api_counters](http::Request& req) -> asio::awaitable<http::Response> {
               auto answer = co_await create_pay_in(deps, req);
               if (!answer.ok()) {
                 c.rejected->inc();
                 log_rejected(req, "pay_in", answer.error());
                 co_return http::make_response(req, bhttp::status::ok, kJson,
                                               pay_in_error_json(client_message(answer.error())));
               }
               if (answer->identical_retry) {
                 c.retried->inc();
               } else {
                 c.accepted->inc();
                 if (deps.on_work_due) deps.on_work_due(answer->payin.expires_at_ms);
               }
               co_return http::make_response(req, bhttp::status::ok, kJson,
                                             pay_in_ok_json(pay_url(answer->payin.id.value(), answer->payin.channel_id)));
             });

  // Page mode: the browser posts the merchant's form; success sends it on to the hosted page.
  router.add(bhttp::verb::post, "/api/Pay", "gateway.pay_page_mode",
             [deps, c = page_counters](http::Request& req) -> asio::awaitable<http::Response> {
               auto answer = co_await create_pay_in(deps, req);
               if (!answer.ok()) {
                 c.rejected->inc();
                 log_rejected(req, "pay_in", answer.error());
                 auto res = http::make_response(req, bhttp::status::ok, kHtml,
                                                render_pay_error_page(client_message(answer.error()), "zh"));
                 http::set_page_headers(res, checkout::kPageContentSecurityPolicy);
                 co_return res;
               }
               if (answer->identical_retry) {
                 c.retried->inc();
               } else {
                 c.accepted->inc();
                 if (deps.on_work_due) deps.on_work_due(answer->payin.expires_at_ms);
               }
               auto res = http::make_response(req, bhttp::status::found, kHtml, "");
               res.set(bhttp::field::location, pay_url(answer->payin.id.value(), answer->payin.channel_id));
               res.set(bhttp::field::cache_control, "no-store");
               co_return res;
             });

  // The hosted payment page.
  router.add(bhttp::verb::get, "/api/Pay", "gateway.pay_page",
             [deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto fields = query_fields(req);
               std::string lang(checkout::normalize_lang(fields.ok() ? field(*fields, "lang") : std::string_view()));
               std::string_view id = fields.ok() ? field(*fields, "id") : std::string_view();
               std::optional<orders::PayIn> payin;
               storage::MerchantRef merchant;
               if (!id.empty() && id.size() <= 64) {
                 auto tx = deps.store.read();
                 payin = tx->payin_by_id(PaymentId{std::string(id)});
                 if (payin) merchant = deps.service.catalog().merchant(payin->merchant_id);
               }
               if (!payin || !merchant) {
                 auto res = http::make_response(req, bhttp::status::not_found, kHtml, render_pay_not_found_page(lang));
                 http::set_page_headers(res, checkout::kPageContentSecurityPolicy);
                 co_return res;
               }
               const auto* processor = deps.service.processors().find(payin->processor);
               const std::string base = http::public_base_url(req, deps.public_url);
               std::string link = processor ? processor->payment_link(*payin, base)
                                            : base + pay_url(payin->id.value(), payin->channel_id);
               PayPageInput in{*payin, merchant->name, link, deps.clock.now_unix_ms(),
                               deps.sandbox && processor != nullptr && processor->is_sandbox(), lang};
               auto res = http::make_response(req, bhttp::status::ok, kHtml, render_pay_page(in));
               http::set_page_headers(res, checkout::kPageContentSecurityPolicy);
               co_return res;
             });

  // The page's live status.
  router.add(bhttp::verb::get, "/api/Pay/Status", "gateway.pay_status",
             [deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto fields = query_fields(req);
               std::string_view id = fields.ok() ? field(*fields, "id") : std::string_view();
               std::optional<orders::PayIn> payin;
               if (!id.empty() && id.size() <= 64) payin = deps.store.read()->payin_by_id(PaymentId{std::string(id)});
               if (!payin) {
                 co_return http::make_response(
                     req, bhttp::status::not_found, kJson,
                     checkout::render_status_json(checkout::CheckoutStatus::kFailed, 0, "no such payment", ""));
               }
               auto res = http::make_response(req, bhttp::status::ok, kJson, status_json(*payin, deps.clock.now_unix_ms()));
               res.set(bhttp::field::cache_control, "no-store");
               co_return res;
             });

  router.add(bhttp::verb::get, "/api/Payments/Query", "gateway.pay_query",
             [deps](http::Request& req) -> asio::awaitable<http::Response> {
               // Named, not a temporary in the co_await (GCC 12, see storage/async_write.h).
               std::function<Result<FoundOrder>(const Fields&)> find = [&deps, ip = req.remote_ip](
                                                                               const Fields& f) -> Result<FoundOrder> {
                 auto found = deps.service.find_pay_in(f, ip);
                 if (!found.ok()) return found.error();
                 FoundOrder out{found->payin.mrn,
                                static_cast<QueryStatus>(orders::payin_protocol_status(found->payin.state)), {}};
                 if (found->callback && found->payin.state == orders::PayInState::kPaid) {
                   out.requeue = [id = found->payin.id](storage::Tx& tx, int64_t now_ms,
                                                        const notify::ScheduleConfig& schedule) {
                     return requeue_pay_in_callback(tx, id, now_ms, schedule);
                   };
                 }
                 return out;
               };
               co_return co_await answer_query(deps, req, find);
             });

  router.add(bhttp::verb::post, "/api/Payouts/Create", "gateway.payout_create",
             [deps, c = payout_counters](http::Request& req) -> asio::awaitable<http::Response> {
               auto fields = parse_body(http::header_value(req, bhttp::field::content_type), req.raw.body());
               if (!fields.ok()) {
                 c.rejected->inc();
                 co_return http::make_response(req, bhttp::status::ok, kJson,
                                               payout_error_json(WireError::kInvalidData, fields.error().message));
               }
               auto prepared = deps.service.prepare_payout(*fields, req.remote_ip);
               if (!prepared.ok()) {
                 c.rejected->inc();
                 log_rejected(req, "payout", prepared.error());
                 co_return http::make_response(
                     req, bhttp::status::ok, kJson,
                     payout_error_json(wire_error_of(prepared.error()), client_message(prepared.error())));
               }
               Random& random = deps.random;
               deps.service.seal_ahead(*prepared, random);
               std::function<Result<PayoutAnswer>(storage::Tx&)> commit = [p = std::move(prepared).value(),
                                                                           &random](storage::Tx& tx) {
                 return Service::commit_payout(tx, p, random);
               };
               auto answer = co_await storage::async_write<PayoutAnswer>(deps.store, std::move(commit));
               if (!answer.ok()) {
                 c.rejected->inc();
                 log_rejected(req, "payout", answer.error());
                 co_return http::make_response(
                     req, bhttp::status::ok, kJson,
                     payout_error_json(wire_error_of(answer.error()), client_message(answer.error())));
               }
               if (answer->identical_retry) {
                 c.retried->inc();
               } else {
                 c.accepted->inc();
                 if (deps.on_work_due && answer->payout.state == orders::PayoutState::kProcessing) {
                   deps.on_work_due(answer->payout.process_after_ms);
                 }
               }
               co_return http::make_response(req, bhttp::status::ok, kJson, payout_ok_json());
             });

  router.add(bhttp::verb::get, "/api/Payouts/Query", "gateway.payout_query",
             [deps](http::Request& req) -> asio::awaitable<http::Response> {
               std::function<Result<FoundOrder>(const Fields&)> find = [&deps, ip = req.remote_ip](
                                                                               const Fields& f) -> Result<FoundOrder> {
                 auto found = deps.service.find_payout(f, ip);
                 if (!found.ok()) return found.error();
                 FoundOrder out{found->payout.mrn,
                                static_cast<QueryStatus>(orders::payout_protocol_status(found->payout.state)), {}};
                 if (found->callback && found->payout.state == orders::PayoutState::kPaid) {
                   out.requeue = [id = found->payout.id](storage::Tx& tx, int64_t now_ms,
                                                         const notify::ScheduleConfig& schedule) {
                     return requeue_payout_callback(tx, id, now_ms, schedule);
                   };
                 }
                 return out;
               };
               co_return co_await answer_query(deps, req, find);
             });
}

asio::awaitable<http::Response> sandbox_complete(const HandlerDeps& deps, http::Request& req) {
  std::string id(req.path_param("id"));
  auto fields = parse_body(http::header_value(req, bhttp::field::content_type), req.raw.body());
  if (!fields.ok()) {
    co_return http::make_response(req, bhttp::status::bad_request, kJson,
                                  sandbox_error(fields.error().message));
  }
  std::string_view result = field(*fields, "result");
  orders::PayInOutcome outcome{orders::PayInOutcome::Kind::kFailed, {}, {}};
  if (result == "fail") {
    outcome.message = "payment failed (sandbox)";
  } else if (result != "success") {
    co_return http::make_response(req, bhttp::status::bad_request, kJson,
                                  sandbox_error("result must be success or fail"));
  }
  std::optional<orders::PayIn> payin;
  if (id.size() <= 64) payin = deps.store.read()->payin_by_id(PaymentId{id});
  const auto* processor = payin ? deps.service.processors().find(payin->processor) : nullptr;
  if (!payin || processor == nullptr || !processor->is_sandbox()) {
    co_return http::make_response(req, bhttp::status::not_found, kJson,
                                  sandbox_error("no sandbox payment " + id));
  }
  if (result == "success") {
    outcome.kind = orders::PayInOutcome::Kind::kPaid;
    outcome.paid = payin->amount;
    outcome.message = "paid (sandbox)";
    if (std::string_view amount = field(*fields, "amount"); !amount.empty()) {
      auto paid = parse_pay_in_amount(amount);
      if (!paid.ok()) {
        co_return http::make_response(req, bhttp::status::bad_request, kJson,
                                      sandbox_error(paid.error().message));
      }
      outcome.paid = *paid;
    }
  }
  const auto schedule = deps.service.config().schedule;
  const int64_t now_ms = deps.clock.now_unix_ms();
  std::function<Result<orders::PayIn>(storage::Tx&)> complete =
      [pid = payin->id, outcome, now_ms, schedule](storage::Tx& tx) {
        return complete_pay_in(tx, pid, outcome, now_ms, schedule);
      };
  auto done = co_await storage::async_write<orders::PayIn>(deps.store, std::move(complete));
  if (!done.ok()) {
    auto status = done.error().code == ErrorCode::kFailedPrecondition ? bhttp::status::conflict
                  : done.error().code == ErrorCode::kNotFound          ? bhttp::status::not_found
                  : done.error().code == ErrorCode::kInvalidArgument   ? bhttp::status::bad_request
                                                                       : bhttp::status::service_unavailable;
    co_return http::make_response(req, status, kJson, sandbox_error(client_message(done.error())));
  }
  spdlog::info("event=sandbox_completed request_id={} payment={} state={} paid_fen={}", req.request_id,
               done->id.value(), orders::payin_state_name(done->state), done->paid.fen());
  if (done->state == orders::PayInState::kPaid && deps.on_callback_queued) deps.on_callback_queued();
  std::string body = "{\"ok\":true,\"status\":" +
                     std::to_string(orders::payin_protocol_status(done->state)) +
                     ",\"paid\":" + protocols::json_string(format_yuan(done->paid)) +
                     ",\"message\":" + protocols::json_string(done->message) + "}";
  co_return http::make_response(req, bhttp::status::ok, kJson, body);
}

}  // namespace paygate::gateway
