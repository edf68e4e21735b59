// The cashier's CLI subcommands: merchant settings, settlement, holds and releases, listing.
#include <iostream>

#include "console/actions.h"
#include "protocols/cashier/service.h"
#include "tools/cli_support.h"
#include "tools/commands.h"

namespace paygate::tools {

using nlohmann::json;

namespace {

cashier::Config cashier_config(const app::Config& c) {
  cashier::Config cc;
  cc.order_expiry_ms = c.cashier.order_expiry_ms;
  cc.utc_offset_minutes = c.cashier.utc_offset_minutes;
  cc.allow_private_targets = c.notify.allow_private_targets;
  cc.sandbox = c.sandbox.enabled;
  return cc;
}

json order_json(const orders::CashierOrder& o, int utc_offset_minutes) {
  return {{"queryid", o.id.value()},
          {"merchantId", o.merchant_id.value()},
          {"orderid", o.orderid},
          {"action", o.action},
          {"method", o.method},
          {"amountFen", o.amount.fen()},
          {"amount", format_yuan(o.amount)},
          {"feeFen", o.fee.fen()},
          {"fee", format_yuan(o.fee)},
          {"status", orders::cashier_state_name(o.state)},
          {"resultcode", orders::cashier_result_code(o.state)},
          {"message", o.message},
          {"backurl", o.backurl},
          {"fronturl", o.fronturl},
          {"boundCard", o.accno.empty() ? json(nullptr) : json(cashier::mask_id_number(o.accno))},
          {"paytime", cashier::format_paytime(o.paid_at_ms, utc_offset_minutes)},
          {"settleAfterMs", o.settle_after_ms},
          {"expiresAtMs", o.expires_at_ms},
          {"createdAtMs", o.created_at_ms}};
}

int change(const app::Config& c, const std::string& what,
           const std::function<Result<orders::CashierOrder>(storage::Tx&, int64_t now_ms)>& fn, Output out) {
  auto ctx = open(c);
  orders::CashierOrder after;
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    auto o = fn(tx, ctx->clock.now_unix_ms());
    if (!o.ok()) return o.error();
    after = *o;
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  print(order_json(after, c.cashier.utc_offset_minutes), out,
        "order " + after.id.value() + " " + what + ": now " + std::string(orders::cashier_state_name(after.state)) +
            " (" + std::string(orders::cashier_result_code(after.state)) + "); the merchant is notified\n");
  return 0;
}

}  // namespace

int merchant_set_cashier(const app::Config& c, int64_t merchant, int settlement_delay_days,
                         const std::string& bound_card, Output out) {
  std::optional<bool> bound;
  if (bound_card == "on")
    bound = true;
  else if (bound_card == "off")
    bound = false;
  else if (!bound_card.empty())
    return fail("--bound-card must be on or off");
  if (settlement_delay_days > 365) return fail("--settlement-delay-days must be 0 to 365");
  if (settlement_delay_days < 0 && !bound) return fail("give --settlement-delay-days and/or --bound-card");
  auto ctx = open(c);
  console::MerchantPatch patch;
  if (settlement_delay_days >= 0) patch.settlement_delay_days = settlement_delay_days;
  patch.bound_card_allowed = bound;
  auto changed = change_merchant(*ctx, merchant, patch);
  if (!changed.ok()) return fail(changed.error().message);
  const storage::Merchant& updated = *changed;
  print(json{{"merchantId", merchant},
             {"settlementDelayDays", updated.settlement_delay_days},
             {"boundCardAllowed", updated.bound_card_allowed}},
        out,
        "merchant " + std::to_string(merchant) + ": settlement T+" + std::to_string(updated.settlement_delay_days) +
            ", bound-card payment " + (updated.bound_card_allowed ? "allowed" : "not allowed") + "\n");
  return 0;
}

int settle(const app::Config& c, int64_t as_of_ms, Output out) {
  // 0 (the default) is now; a time before 2001 or after 2100 is a typo or a unit mistake (seconds for ms).
  constexpr int64_t kAsOfMinMs = 978'307'200'000;    // 2001-01-01
  constexpr int64_t kAsOfMaxMs = 4'102'444'800'000;  // 2100-01-01
  if (as_of_ms != 0 && (as_of_ms < kAsOfMinMs || as_of_ms > kAsOfMaxMs)) {
    return fail("--as-of must be a Unix time in milliseconds between 2001 and 2100 (got " + std::to_string(as_of_ms) +
                ")");
  }
  auto ctx = open(c);
  const int64_t at_ms = as_of_ms > 0 ? as_of_ms : ctx->clock.now_unix_ms();
  const auto cc = cashier_config(c);
  size_t total = 0;
  for (;;) {
    size_t n = 0;
    auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
      n = cashier::settle_due(tx, at_ms, ctx->clock.now_unix_ms(), limits::kProcessorBatchMax, cc);
      return ok_status();
    });
    if (!st.ok()) return fail(st.error().message);
    total += n;
    if (n < limits::kProcessorBatchMax) break;
  }
  print(json{{"settled", total}, {"asOfMs", at_ms}}, out,
        "settled " + std::to_string(total) + " pending order(s) due by " + std::to_string(at_ms) + "\n");
  return 0;
}

int order_hold(const app::Config& c, const std::string& id, const std::string& reason, Output out) {
  if (auto st = console::check_operator_text("--reason", reason); !st.ok()) return fail(st.error().message);
  console::ActionConfig config;
  config.cashier = cashier_config(c);
  const console::Principal who = console::cli_principal();
  return change(
      c, "held",
      [&](storage::Tx& tx, int64_t now_ms) { return console::hold_cashier_order(tx, who, id, reason, now_ms, config); },
      out);
}

int order_release(const app::Config& c, const std::string& id, const std::string& to, const std::string& reason,
                  Output out) {
  if (to != "merchant" && to != "payer") return fail("--to must be merchant or payer");
  if (auto st = console::check_operator_text("--reason", reason); !st.ok()) return fail(st.error().message);
  console::ActionConfig config;
  config.cashier = cashier_config(c);
  const console::Principal who = console::cli_principal();
  return change(
      c, to == "merchant" ? "released to the merchant" : "returned to the payer",
      [&](storage::Tx& tx, int64_t now_ms) {
        return console::release_cashier_order(tx, who, id, to == "merchant", reason, now_ms, config);
      },
      out);
}

int cashier_list(const app::Config& c, const GatewayListFilter& f, Output out) {
  storage::CashierFilter filter;
  if (f.merchant) filter.merchant_id = MerchantId{*f.merchant};
  if (!f.status.empty()) {
    auto s = orders::parse_cashier_state(f.status);
    if (!s) return fail("--status must be unpaid, paid, pending, failed or held");
    filter.state = *s;
  }
  filter.limit = std::min(f.limit, limits::kListPageSizeMax);
  auto ctx = open(c);
  json arr = json::array();
  std::string text;
  for (const auto& o : ctx->store->read()->cashier_orders(filter)) {
    arr.push_back(order_json(o, c.cashier.utc_offset_minutes));
    text += o.id.value() + "  " + std::to_string(o.merchant_id.value()) + "  " + o.orderid + "  " +
            std::string(orders::cashier_result_code(o.state)) + " " + std::string(orders::cashier_state_name(o.state)) +
            "  " + format_yuan(o.amount) + "\n";
  }
  print(arr, out, text);
  return 0;
}

int cashier_show(const app::Config& c, const std::string& id, Output out) {
  auto ctx = open(c);
  auto tx = ctx->store->read();
  auto o = tx->cashier_order_by_id(CashierId{id});
  if (!o) return fail("no cashier order " + id);
  json j = order_json(*o, c.cashier.utc_offset_minutes);
  add_history(*tx, id, j);
  print(j, out, json_text(j) + "\n");
  return 0;
}

}  // namespace paygate::tools
