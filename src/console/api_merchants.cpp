// The admin API's Merchants endpoints (docs/console.md): thin handlers over console/merchants.h.
#include "base/limits.h"
#include "console/api.h"
#include "console/api_support.h"
#include "console/merchants.h"
#include "storage/async_write.h"

namespace paygate::console {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

using Authorized = std::variant<Principal, http::Response>;

// A layer error as the API answers it: a refused permission is 403 forbidden, the rest by error_response.
http::Response fail(const http::Request& req, const Error& e) {
  if (is_forbidden(e)) return json_error(req, bhttp::status::forbidden, "forbidden", e.message);
  return error_response(req, e);
}

std::optional<MerchantId> merchant_param(const http::Request& req) {
  auto id = parse_int64_strict(req.path_param("id"));
  if (!id || *id <= 0) return std::nullopt;
  return MerchantId{*id};
}

http::Response no_such_merchant(const http::Request& req) {
  return json_error(req, bhttp::status::not_found, "not_found",
                    "no merchant " + std::string(req.path_param("id").substr(0, 32)));
}

Result<size_t> limit_param(const http::FormFields& q) {
  const auto* v = q.find("limit");
  if (v == nullptr || v->empty()) return size_t{50};
  auto n = parse_int64_strict(*v);
  if (!n || *n < 1 || static_cast<size_t>(*n) > limits::kConsolePageSizeMax) {
    return make_error(ErrorCode::kInvalidArgument,
                      "limit must be 1 to " + std::to_string(limits::kConsolePageSizeMax));
  }
  return static_cast<size_t>(*n);
}

std::string field_or_empty(const http::FormFields& q, std::string_view name) {
  const auto* v = q.find(name);
  return v == nullptr ? std::string() : *v;
}

}  // namespace

void register_merchant_routes(http::Router& router, ApiDeps& deps) {
  router.add(bhttp::verb::get, "/admin/api/merchants", "admin.merchants.list",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kView);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               const auto& who = std::get<Principal>(auth);
               auto q = query_fields(req);
               auto limit = limit_param(q);
               if (!limit.ok()) co_return fail(req, limit.error());
               auto tx = deps.store.read();
               auto page = list_merchants(*tx, who, field_or_empty(q, "q"), *limit, field_or_empty(q, "cursor"));
               if (!page.ok()) co_return fail(req, page.error());
               json items = json::array();
               for (const auto& m : page->items) {
                 json j = merchant_json(m);
                 j["balances"] = balances_json(merchant_balances(*tx, m.id));
                 items.push_back(std::move(j));
               }
               co_return page_response(req, std::move(items), page->next_cursor);
             });

  router.add(bhttp::verb::post, "/admin/api/merchants", "admin.merchants.create",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kManageMerchants);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               const Principal who = std::get<Principal>(auth);
               auto body = json_body(req);
               if (auto* res = std::get_if<http::Response>(&body)) co_return std::move(*res);
               const auto& b = std::get<json>(body);
               if (!b.contains("name") || !b["name"].is_string()) {
                 co_return json_error(req, bhttp::status::bad_request, "bad_request", "name is required (a string)");
               }
               const std::string name = b["name"].get<std::string>();
               if (auto st = check_merchant_name(name); !st.ok()) co_return fail(req, st.error());
               const MerchantKeys keys = generate_keys(deps.random);
               const int64_t now_ms = deps.clock.now_unix_ms();
               std::function<Result<storage::Merchant>(storage::Tx&)> write = [who, name, keys,
                                                                                now_ms](storage::Tx& tx) {
                 return create_merchant(tx, who, name, keys, now_ms);
               };
               auto m = co_await storage::async_write<storage::Merchant>(deps.store, std::move(write));
               if (!m.ok()) co_return fail(req, m.error());
               co_return json_response(req, {{"merchant", merchant_json(*m)}, {"keys", keys_json(keys)}},
                                       bhttp::status::created);
             });

  router.add(bhttp::verb::get, "/admin/api/merchants/{id}", "admin.merchants.get",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kView);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               auto id = merchant_param(req);
               if (!id) co_return no_such_merchant(req);
               auto detail = merchant_detail(*deps.store.read(), std::get<Principal>(auth), *id);
               if (!detail.ok()) co_return fail(req, detail.error());
               co_return json_response(req, *detail);
             });

  router.add(bhttp::verb::patch, "/admin/api/merchants/{id}", "admin.merchants.update",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kManageMerchants);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               const Principal who = std::get<Principal>(auth);
               auto id = merchant_param(req);
               if (!id) co_return no_such_merchant(req);
               auto body = json_body(req);
               if (auto* res = std::get_if<http::Response>(&body)) co_return std::move(*res);
               auto patch = parse_merchant_patch(std::get<json>(body));
               if (!patch.ok()) co_return fail(req, patch.error());
               const int64_t now_ms = deps.clock.now_unix_ms();
               std::function<Result<storage::Merchant>(storage::Tx&)> write =
                   [who, id = *id, p = *patch, now_ms](storage::Tx& tx) {
                     return update_merchant(tx, who, id, p, now_ms);
                   };
               auto m = co_await storage::async_write<storage::Merchant>(deps.store, std::move(write));
               if (!m.ok()) co_return fail(req, m.error());
               co_return json_response(req, merchant_json(*m));
             });

  router.add(bhttp::verb::put, "/admin/api/merchants/{id}/channels/{channel_id}", "admin.merchants.channel",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kManageMerchants);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               const Principal who = std::get<Principal>(auth);
               auto id = merchant_param(req);
               if (!id) co_return no_such_merchant(req);
               auto channel_id = parse_int64_strict(req.path_param("channel_id"));
               if (!channel_id || *channel_id < 1 || *channel_id > 1000) {
                 co_return json_error(req, bhttp::status::not_found, "not_found", "no such channel");
               }
               auto body = json_body(req);
               if (auto* res = std::get_if<http::Response>(&body)) co_return std::move(*res);
               auto change = parse_channel_change(std::get<json>(body));
               if (!change.ok()) co_return fail(req, change.error());
               const int64_t now_ms = deps.clock.now_unix_ms();
               std::function<Result<storage::MerchantChannel>(storage::Tx&)> write =
                   [who, id = *id, ch = static_cast<int>(*channel_id), c = *change, now_ms](storage::Tx& tx) {
                     return set_channel(tx, who, id, ch, c, now_ms);
                   };
               auto saved = co_await storage::async_write<storage::MerchantChannel>(deps.store, std::move(write));
               if (!saved.ok()) co_return fail(req, saved.error());
               co_return json_response(req, channel_json(saved->channel_id, *saved));
             });

  router.add(bhttp::verb::put, "/admin/api/merchants/{id}/products/{code}", "admin.merchants.product",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kManageMerchants);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               const Principal who = std::get<Principal>(auth);
               auto id = merchant_param(req);
               if (!id) co_return no_such_merchant(req);
               const std::string code(req.path_param("code"));
               auto body = json_body(req);
               if (auto* res = std::get_if<http::Response>(&body)) co_return std::move(*res);
               const auto& b = std::get<json>(body);
               if (!b.contains("enabled") || !b["enabled"].is_boolean() || b.size() != 1) {
                 co_return json_error(req, bhttp::status::bad_request, "bad_request",
                                      "the body must be {\"enabled\": true|false}");
               }
               const bool enabled = b["enabled"].get<bool>();
               const int64_t now_ms = deps.clock.now_unix_ms();
               std::function<Result<json>(storage::Tx&)> write = [who, id = *id, code, enabled,
                                                                  now_ms](storage::Tx& tx) {
                 return set_product(tx, who, id, code, enabled, now_ms);
               };
               auto row = co_await storage::async_write<json>(deps.store, std::move(write));
               if (!row.ok()) co_return fail(req, row.error());
               co_return json_response(req, *row);
             });

  router.add(bhttp::verb::post, "/admin/api/merchants/{id}/rotate-keys", "admin.merchants.rotate_keys",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kManageMerchants);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               const Principal who = std::get<Principal>(auth);
               auto id = merchant_param(req);
               if (!id) co_return no_such_merchant(req);
               const MerchantKeys keys = generate_keys(deps.random);
               const int64_t now_ms = deps.clock.now_unix_ms();
               std::function<Result<storage::Merchant>(storage::Tx&)> write = [who, id = *id, keys,
                                                                                now_ms](storage::Tx& tx) {
                 return rotate_keys(tx, who, id, keys, now_ms);
               };
               auto m = co_await storage::async_write<storage::Merchant>(deps.store, std::move(write));
               if (!m.ok()) co_return fail(req, m.error());
               co_return json_response(req, {{"merchant", merchant_json(*m)}, {"keys", keys_json(keys)}});
             });

  router.add(bhttp::verb::get, "/admin/api/catalogue", "admin.catalogue",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kView);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               co_return json_response(req, catalogue_json(*deps.store.read()));
             });
}

}  // namespace paygate::console
