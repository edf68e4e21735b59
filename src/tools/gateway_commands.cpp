// The gateway's CLI subcommands: channels per merchant, payout settings, pay-ins and payouts.
#include <iostream>
#include <sstream>

#include "console/actions.h"
#include "protocols/gateway/codec.h"
#include "protocols/gateway/service.h"
#include "tools/cli_support.h"
#include "tools/commands.h"

namespace paygate::tools {

using nlohmann::json;

namespace {

std::string channel_name(int id, bool english) {
  const auto* c = gateway::find_channel(id);
  if (c == nullptr) return "?";
  return std::string(english ? c->name_en : c->name_zh);
}

json channel_json(const storage::MerchantChannel& ch) {
  return {{"merchantId", ch.merchant_id.value()},
          {"channelId", ch.channel_id},
          {"name", channel_name(ch.channel_id, false)},
          {"nameEn", channel_name(ch.channel_id, true)},
          {"enabled", ch.enabled},
          {"feeRate", format_rate_percent(ch.fee_rate)},
          {"minAmount", ch.min_amount.is_positive() ? json(format_yuan(ch.min_amount)) : json(nullptr)},
          {"maxAmount", ch.max_amount.is_positive() ? json(format_yuan(ch.max_amount)) : json(nullptr)},
          {"processor", ch.processor}};
}

json payin_json(const orders::PayIn& p) {
  return {{"id", p.id.value()},
          {"merchantId", p.merchant_id.value()},
          {"mrn", p.mrn},
          {"channelId", p.channel_id},
          {"channel", channel_name(p.channel_id, true)},
          {"amount", format_yuan(p.amount)},
          {"amountFen", p.amount.fen()},
          {"originAmount", p.amount_text},
          {"status", orders::payin_state_name(p.state)},
          {"protocolStatus", orders::payin_protocol_status(p.state)},
          {"paid", format_yuan(p.paid)},
          {"paidFen", p.paid.fen()},
          {"feeRate", format_rate_percent(p.fee_rate)},
          {"fee", format_yuan(p.fee)},
          {"feeFen", p.fee.fen()},
          {"message", p.message},
          {"processor", p.processor},
          {"payer", p.payer},
          {"callbackUrl", p.callback_url},
          {"returnUrl", p.return_url},
          {"payUrl", gateway::pay_url(p.id.value(), p.channel_id)},
          {"expiresAtMs", p.expires_at_ms},
          {"finishedAtMs", p.finished_at_ms},
          {"createdAtMs", p.created_at_ms}};
}

json payout_json(const orders::Payout& p) {
  return {{"id", p.id.value()},
          {"merchantId", p.merchant_id.value()},
          {"mrn", p.mrn},
          {"amount", format_whole_yuan(p.amount)},
          {"amountFen", p.amount.fen()},
          {"fee", format_yuan(p.fee)},
          {"feeFen", p.fee.fen()},
          {"bankName", p.bank_name},
          {"accountName", p.account_name},
          {"accountNumber", orders::mask_account_number(p.account_number)},
          {"status", orders::payout_state_name(p.state)},
          {"protocolStatus", orders::payout_protocol_status(p.state)},
          {"message", p.message},
          {"callbackUrl", p.callback_url},
          {"processAfterMs", p.process_after_ms},
          {"finishedAtMs", p.finished_at_ms},
          {"createdAtMs", p.created_at_ms}};
}

Result<Money> parse_optional_yuan(const std::string& text, const char* flag) {
  if (text.empty()) return Money{};
  auto m = parse_yuan(text);
  if (!m.ok()) return make_error(ErrorCode::kInvalidArgument, std::string(flag) + ": " + m.error().message);
  return *m;
}

}  // namespace

int channel_catalogue(const app::Config&, Output out) {
  json arr = json::array();
  std::string text;
  for (const auto& ch : gateway::kChannels) {
    arr.push_back({{"channelId", ch.id}, {"name", ch.name_zh}, {"nameEn", ch.name_en}});
    text += (ch.id < 10 ? " " : "") + std::to_string(ch.id) + "  " + std::string(ch.name_zh) + "  (" +
            std::string(ch.name_en) + ")\n";
  }
  print(arr, out, text);
  return 0;
}

int channel_enable(const app::Config& c, const ChannelSpec& spec, Output out) {
  if (gateway::find_channel(spec.channel) == nullptr) return fail("--channel must be a channel id, 1 to 15");
  auto rate = parse_rate_percent(spec.fee_rate);
  if (!rate.ok()) return fail("--fee-rate must be a percentage with at most one decimal, 0 to 100, e.g. 2.5");
  auto min = parse_optional_yuan(spec.min_amount, "--min");
  if (!min.ok()) return fail(min.error().message);
  auto max = parse_optional_yuan(spec.max_amount, "--max");
  if (!max.ok()) return fail(max.error().message);
  if (max->is_positive() && *min > *max) return fail("--min must not be above --max");
  if (spec.processor != processors::SandboxPayInProcessor::kName) {
    return fail("--processor: unknown processor " + spec.processor + " (available: sandbox)");
  }
  auto ctx = open(c);
  console::ChannelChange change;
  change.enabled = true;
  change.fee_rate = *rate;
  change.min_amount = *min;
  change.max_amount = *max;
  change.processor = spec.processor;
  const auto who = console::cli_principal();
  storage::MerchantChannel ch;
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    auto r = console::set_channel(tx, who, MerchantId{spec.merchant}, spec.channel, change, ctx->clock.now_unix_ms());
    if (!r.ok()) return r.error();
    ch = *r;
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  print(channel_json(ch), out,
        "channel " + std::to_string(ch.channel_id) + " (" + channel_name(ch.channel_id, true) +
            ") enabled for merchant " + std::to_string(spec.merchant) + ", fee " + format_rate_percent(ch.fee_rate) +
            "%\n");
  return 0;
}

int channel_disable(const app::Config& c, int64_t merchant, int channel, Output out) {
  auto ctx = open(c);
  console::ChannelChange change;
  change.enabled = false;
  change.must_exist = true;
  const auto who = console::cli_principal();
  std::optional<storage::MerchantChannel> after;
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    if (!tx.merchant_channel(MerchantId{merchant}, channel)) {
      return make_error(ErrorCode::kNotFound, "channel " + std::to_string(channel) +
                                                  " was never enabled for merchant " + std::to_string(merchant));
    }
    auto r = console::set_channel(tx, who, MerchantId{merchant}, channel, change, ctx->clock.now_unix_ms());
    if (!r.ok()) return r.error();
    after = *r;
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  print(channel_json(*after), out,
        "channel " + std::to_string(channel) + " disabled for merchant " + std::to_string(merchant) + "\n");
  return 0;
}

int channel_list(const app::Config& c, int64_t merchant, Output out) {
  auto ctx = open(c);
  auto tx = ctx->store->read();
  if (!tx->merchant(MerchantId{merchant})) return fail("no merchant " + std::to_string(merchant));
  json arr = json::array();
  std::string text;
  for (const auto& ch : tx->merchant_channels(MerchantId{merchant})) {
    arr.push_back(channel_json(ch));
    text += std::to_string(ch.channel_id) + "  " + channel_name(ch.channel_id, true) + "  " +
            (ch.enabled ? "enabled " : "disabled") + "  fee " + format_rate_percent(ch.fee_rate) + "%" +
            (ch.min_amount.is_positive() ? "  min " + format_yuan(ch.min_amount) : "") +
            (ch.max_amount.is_positive() ? "  max " + format_yuan(ch.max_amount) : "") + "  " + ch.processor + "\n";
  }
  print(arr, out, text);
  return 0;
}

int merchant_set_payout(const app::Config& c, int64_t merchant, const std::string& fee,
                        const std::string& manual_approval, Output out) {
  std::optional<Money> new_fee;
  if (!fee.empty()) {
    auto parsed = parse_yuan(fee);
    if (!parsed.ok()) return fail("--fee: " + parsed.error().message);
    new_fee = *parsed;
  }
  std::optional<bool> manual;
  if (manual_approval == "on" || manual_approval == "true")
    manual = true;
  else if (manual_approval == "off" || manual_approval == "false")
    manual = false;
  else if (!manual_approval.empty())
    return fail("--manual-approval must be on or off");
  if (!new_fee && !manual) return fail("give --fee and/or --manual-approval");
  auto ctx = open(c);
  console::MerchantPatch patch;
  patch.payout_fee = new_fee;
  patch.payout_manual_approval = manual;
  auto changed = change_merchant(*ctx, merchant, patch);
  if (!changed.ok()) return fail(changed.error().message);
  const storage::Merchant& updated = *changed;
  print(json{{"merchantId", merchant},
             {"payoutFee", format_yuan(updated.payout_fee)},
             {"payoutManualApproval", updated.payout_manual_approval}},
        out,
        "merchant " + std::to_string(merchant) + ": payout fee " + format_yuan(updated.payout_fee) +
            ", manual approval " + (updated.payout_manual_approval ? "on" : "off") + "\n");
  return 0;
}

int payin_list(const app::Config& c, const GatewayListFilter& f, Output out) {
  storage::PayInFilter filter;
  if (f.merchant) filter.merchant_id = MerchantId{*f.merchant};
  if (!f.status.empty()) {
    auto s = orders::parse_payin_state(f.status);
    if (!s) return fail("--status must be waiting, paid or failed");
    filter.state = *s;
  }
  filter.limit = std::min(f.limit, limits::kListPageSizeMax);
  auto ctx = open(c);
  json arr = json::array();
  std::string text;
  for (const auto& p : ctx->store->read()->payins(filter)) {
    arr.push_back(payin_json(p));
    text += p.id.value() + "  " + std::to_string(p.merchant_id.value()) + "  " + p.mrn + "  " +
            std::string(orders::payin_state_name(p.state)) + "  amount " + format_yuan(p.amount) + "  paid " +
            format_yuan(p.paid) + "  fee " + format_yuan(p.fee) + "\n";
  }
  print(arr, out, text);
  return 0;
}

int payin_show(const app::Config& c, const std::string& id, Output out) {
  auto ctx = open(c);
  auto tx = ctx->store->read();
  auto p = tx->payin_by_id(PaymentId{id});
  if (!p) return fail("no pay-in " + id);
  json j = payin_json(*p);
  add_history(*tx, id, j);
  print(j, out, json_text(j) + "\n");
  return 0;
}

int payout_list(const app::Config& c, const GatewayListFilter& f, Output out) {
  storage::PayoutFilter filter;
  if (f.merchant) filter.merchant_id = MerchantId{*f.merchant};
  if (!f.status.empty()) {
    auto s = orders::parse_payout_state(f.status);
    if (!s) return fail("--status must be approval, processing, paid, failed or rejected");
    filter.state = *s;
  }
  filter.limit = std::min(f.limit, limits::kListPageSizeMax);
  auto ctx = open(c);
  json arr = json::array();
  std::string text;
  for (const auto& p : ctx->store->read()->payouts(filter)) {
    arr.push_back(payout_json(p));
    text += p.id.value() + "  " + std::to_string(p.merchant_id.value()) + "  " + p.mrn + "  " +
            std::string(orders::payout_state_name(p.state)) + "  amount " + format_whole_yuan(p.amount) + "  fee " +
            format_yuan(p.fee) + "  " + p.bank_name + " " + orders::mask_account_number(p.account_number) + "\n";
  }
  print(arr, out, text);
  return 0;
}

int payout_show(const app::Config& c, const std::string& id, Output out) {
  auto ctx = open(c);
  auto tx = ctx->store->read();
  auto p = tx->payout_by_id(PayoutId{id});
  if (!p) return fail("no payout " + id);
  json j = payout_json(*p);
  add_history(*tx, id, j);
  print(j, out, json_text(j) + "\n");
  return 0;
}

int payout_approve(const app::Config& c, const std::string& id, Output out) {
  auto ctx = open(c);
  const console::Principal who = console::cli_principal();
  console::ActionConfig config;
  config.payout_delay_ms = c.sandbox.payout_delay_ms;
  orders::Payout after;
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    auto p = console::approve_payout(tx, who, id, ctx->clock.now_unix_ms(), config);
    if (!p.ok()) return p.error();
    after = *p;
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  print(payout_json(after), out, "payout " + id + " approved: the bank takes it next\n");
  return 0;
}

int payout_reject(const app::Config& c, const std::string& id, const std::string& reason, Output out) {
  if (auto st = console::check_operator_text("--reason", reason); !st.ok()) return fail(st.error().message);
  auto ctx = open(c);
  const console::Principal who = console::cli_principal();
  orders::Payout after;
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    auto p = console::reject_payout(tx, who, id, reason, ctx->clock.now_unix_ms());
    if (!p.ok()) return p.error();
    after = *p;
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  print(payout_json(after), out,
        "payout " + id + " rejected: " + format_yuan(*after.amount.checked_add(after.fee)) +
            " returned to the merchant's balance\n");
  return 0;
}

}  // namespace paygate::tools
