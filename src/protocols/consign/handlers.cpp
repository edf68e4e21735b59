#include "protocols/consign/handlers.h"

#include <spdlog/spdlog.h>

#include "storage/async_write.h"

namespace paygate::consign {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kJson = "application/json; charset=utf-8";

std::string content_type_of(const http::Request& req) {
  auto it = req.raw.find(bhttp::field::content_type);
  return it == req.raw.end() ? std::string() : std::string(it->value());
}

// What the client may see of an error: the message for its own mistakes, a generic one for ours.
std::string client_message(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInternal: return "internal error, retry later";
    default: return e.message;
  }
}

}  // namespace

void register_routes(http::Router& router, HandlerDeps deps) {
  auto results = [&m = deps.metrics](const char* route, const char* result) -> metrics::Counter& {
    return m.counter("paygate_consign_results_total", "Consign protocol answers by route and result.",
                     std::string("{route=\"") + route + "\",result=\"" + result + "\"}");
  };
  auto& accepted = results("submit", "accepted");
  auto& retried = results("submit", "identical_retry");
  auto& rejected = results("submit", "rejected");
  auto& found = results("query", "found");
  auto& not_found = results("query", "not_found");
  auto& query_rejected = results("query", "rejected");

  router.add(bhttp::verb::post, "/api/consignmentOrders", "consign.submit",
             [deps, &accepted, &retried, &rejected](http::Request& req) -> asio::awaitable<http::Response> {
               auto fields = parse_body(content_type_of(req), req.raw.body());
               if (!fields.ok()) {
                 rejected.inc();
                 co_return http::make_response(req, bhttp::status::ok, kJson,
                                               submit_error_json(fields.error().message));
               }
               auto prepared = deps.service.prepare_submit(*fields, req.remote_ip);
               if (!prepared.ok()) {
                 rejected.inc();
                 spdlog::info("event=consign_rejected request_id={} reason=\"{}\"", req.request_id,
                              prepared.error().message);
                 co_return http::make_response(req, bhttp::status::ok, kJson,
                                               submit_error_json(client_message(prepared.error())));
               }
               Random& random = deps.random;
               deps.service.seal_ahead(*prepared, random);
               const int64_t due_ms = prepared->order.process_after_ms;
               std::function<Result<SubmitAnswer>(storage::Tx&)> commit =
                   [p = std::move(prepared).value(), &random](storage::Tx& tx) {
                     return Service::commit_submit(tx, p, random);
                   };
               auto answer = co_await storage::async_write<SubmitAnswer>(deps.store, std::move(commit));
               if (!answer.ok()) {
                 rejected.inc();
                 spdlog::info("event=consign_rejected request_id={} reason=\"{}\"", req.request_id,
                              answer.error().message);
                 co_return http::make_response(req, bhttp::status::ok, kJson,
                                               submit_error_json(client_message(answer.error())));
               }
               if (answer->identical_retry) {
                 retried.inc();
               } else {
                 accepted.inc();
                 if (deps.on_order_created) deps.on_order_created(due_ms);
               }
               co_return http::make_response(req, bhttp::status::ok, kJson,
                                             submit_ok_json(answer->sys_order_id.value(), "accepted"));
             });

  router.add(bhttp::verb::post, "/api/searchOrders", "consign.query",
             [deps, &found, &not_found, &query_rejected](http::Request& req) -> asio::awaitable<http::Response> {
               auto fields = parse_body(content_type_of(req), req.raw.body());
               if (!fields.ok()) {
                 query_rejected.inc();
                 co_return http::make_response(req, bhttp::status::ok, kJson,
                                               query_error_json("-1", fields.error().message));
               }
               auto view = deps.service.query(*fields, req.remote_ip);
               if (view.ok()) {
                 found.inc();
                 co_return http::make_response(req, bhttp::status::ok, kJson, query_ok_json(*view, "success"));
               }
               if (view.error().code == ErrorCode::kNotFound) {
                 not_found.inc();
                 co_return http::make_response(req, bhttp::status::ok, kJson, query_error_json("2", "order not found"));
               }
               query_rejected.inc();
               co_return http::make_response(req, bhttp::status::ok, kJson,
                                             query_error_json("-1", client_message(view.error())));
             });
}

}  // namespace paygate::consign
