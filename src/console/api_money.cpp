// The admin API's Money endpoints (docs/console.md): balances, statements, the daily reconciliation, and their CSV
// exports. Thin handlers over console/money.h.
#include "base/limits.h"
#include "console/api.h"
#include "console/api_support.h"
#include "console/merchants.h"
#include "console/money.h"

namespace paygate::console {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr std::string_view kCsv = "text/csv; charset=utf-8";

http::Response fail(const http::Request& req, const Error& e) {
  if (is_forbidden(e)) return json_error(req, bhttp::status::forbidden, "forbidden", e.message);
  return error_response(req, e);
}

Error invalid(std::string msg) { return make_error(ErrorCode::kInvalidArgument, std::move(msg)); }

// An optional positive integer query field.
Result<std::optional<int64_t>> int_field(const http::FormFields& q, std::string_view name) {
  const auto* v = q.find(name);
  if (v == nullptr || v->empty()) return std::optional<int64_t>{};
  auto n = parse_int64_strict(*v);
  if (!n || *n < 0) return invalid(std::string(name) + " must be a whole number, 0 or more");
  return std::optional<int64_t>{*n};
}

Result<std::optional<MerchantId>> merchant_field(const http::FormFields& q) {
  auto id = int_field(q, "merchant_id");
  if (!id.ok()) return id.error();
  if (!*id) return std::optional<MerchantId>{};
  return std::optional<MerchantId>{MerchantId{**id}};
}

http::Response csv_response(const http::Request& req, std::string body, const std::string& filename) {
  auto res = http::make_response(req, bhttp::status::ok, kCsv, std::move(body));
  res.set(bhttp::field::content_disposition, "attachment; filename=\"" + filename + "\"");
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

// The statement's query: merchant_id (a merchant user: its own), account, from_ms, to_ms, limit, cursor.
Result<StatementQuery> statement_query(const http::FormFields& q, const Principal& who) {
  StatementQuery sq;
  auto merchant = merchant_field(q);
  if (!merchant.ok()) return merchant.error();
  if (*merchant) {
    sq.merchant = **merchant;
  } else if (who.merchant_id) {
    sq.merchant = *who.merchant_id;
  } else {
    return invalid("merchant_id is required");
  }
  if (const auto* a = q.find("account"); a != nullptr && !a->empty()) {
    auto account = parse_merchant_account(*a);
    if (!account) return invalid("account must be available, pending, frozen or payout_reserved");
    sq.account = *account;
  }
  auto from = int_field(q, "from_ms");
  if (!from.ok()) return from.error();
  if (*from) sq.from_ms = **from;
  auto to = int_field(q, "to_ms");
  if (!to.ok()) return to.error();
  if (*to) sq.to_ms = **to;
  auto limit = int_field(q, "limit");
  if (!limit.ok()) return limit.error();
  if (*limit) {
    if (**limit < 1 || static_cast<size_t>(**limit) > limits::kConsolePageSizeMax) {
      return invalid("limit must be 1 to " + std::to_string(limits::kConsolePageSizeMax));
    }
    sq.limit = static_cast<size_t>(**limit);
  }
  if (const auto* c = q.find("cursor"); c != nullptr) sq.cursor = *c;
  return sq;
}

Result<Reconciliation> reconciliation_of(ApiDeps& deps, const http::Request& req, const Principal& who) {
  auto q = query_fields(req);
  const auto* date = q.find("date");
  if (date == nullptr || date->empty()) return invalid("date is required (YYYY-MM-DD)");
  auto merchant = merchant_field(q);
  if (!merchant.ok()) return merchant.error();
  return reconcile(*deps.store.read(), who, *date, *merchant, deps.config.utc_offset_minutes);
}

}  // namespace

void register_money_routes(http::Router& router, ApiDeps& deps) {
  router.add(bhttp::verb::get, "/admin/api/balances", "admin.balances",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kView);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               auto merchant = merchant_field(query_fields(req));
               if (!merchant.ok()) co_return fail(req, merchant.error());
               auto b = balances(*deps.store.read(), std::get<Principal>(auth), *merchant);
               if (!b.ok()) co_return fail(req, b.error());
               co_return json_response(req, *b);
             });

  router.add(bhttp::verb::get, "/admin/api/statement", "admin.statement",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kView);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               const auto& who = std::get<Principal>(auth);
               auto sq = statement_query(query_fields(req), who);
               if (!sq.ok()) co_return fail(req, sq.error());
               auto s = statement(*deps.store.read(), who, *sq);
               if (!s.ok()) co_return fail(req, s.error());
               co_return json_response(req, statement_json(*s));
             });

  router.add(bhttp::verb::get, "/admin/api/statement.csv", "admin.statement_csv",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kView);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               const auto& who = std::get<Principal>(auth);
               auto sq = statement_query(query_fields(req), who);
               if (!sq.ok()) co_return fail(req, sq.error());
               sq->cursor.clear();
               auto csv = statement_csv(*deps.store.read(), who, *sq);
               if (!csv.ok()) co_return fail(req, csv.error());
               co_return csv_response(req, std::move(csv).value(),
                                      "statement-" + std::to_string(sq->merchant.value()) + ".csv");
             });

  router.add(bhttp::verb::get, "/admin/api/reconciliation", "admin.reconciliation",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kView);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               auto r = reconciliation_of(deps, req, std::get<Principal>(auth));
               if (!r.ok()) co_return fail(req, r.error());
               co_return json_response(req, reconciliation_json(*r));
             });

  router.add(bhttp::verb::get, "/admin/api/reconciliation.csv", "admin.reconciliation_csv",
             [&deps](http::Request& req) -> asio::awaitable<http::Response> {
               auto auth = authorize(deps, req, Permission::kView);
               if (auto* res = std::get_if<http::Response>(&auth)) co_return std::move(*res);
               auto r = reconciliation_of(deps, req, std::get<Principal>(auth));
               if (!r.ok()) co_return fail(req, r.error());
               co_return csv_response(req, reconciliation_csv(*r), "reconciliation-" + r->date + ".csv");
             });
}

}  // namespace paygate::console
