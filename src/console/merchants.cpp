#include "console/merchants.h"

#include <algorithm>
#include <limits>

#include "base/limits.h"
#include "base/text.h"
#include "console/auth.h"
#include "crypto/crypto.h"
#include "http/ip_allowlist.h"
#include "ledger/ledger.h"
#include "processors/sandbox/gateway_processors.h"
#include "protocols/gateway/codec.h"

namespace paygate::console {

using nlohmann::json;

namespace {

constexpr int kSettlementDelayDaysMax = 365;

Error invalid(std::string msg) { return make_error(ErrorCode::kInvalidArgument, std::move(msg)); }
Error no_merchant(MerchantId id) {
  return make_error(ErrorCode::kNotFound, "no merchant " + std::to_string(id.value()));
}

Status require(const Principal& who, Permission p, std::string_view what) {
  if (who.allowed(p)) return ok_status();
  return make_error(ErrorCode::kUnauthenticated,
                    "forbidden: a " + std::string(role_name(who.role)) + " user may not " + std::string(what));
}

// The merchant `id` as `who` may see it, or kNotFound (also for another merchant's id asked by a merchant).
Result<storage::Merchant> visible_merchant(storage::Tx& tx, const Principal& who, MerchantId id) {
  if (!who.can_see_merchant(id)) return no_merchant(id);
  auto m = tx.merchant(id);
  if (!m) return no_merchant(id);
  return *m;
}

Result<storage::Merchant> changeable_merchant(storage::Tx& tx, const Principal& who, MerchantId id,
                                              std::string_view what) {
  PG_TRY(require(who, Permission::kManageMerchants, what));
  auto m = tx.merchant(id);
  if (!m) return no_merchant(id);
  return *m;
}

std::string_view channel_name(int id, bool english) {
  const auto* c = gateway::find_channel(id);
  if (c == nullptr) return "?";
  return english ? c->name_en : c->name_zh;
}

json stored_channel_json(const storage::MerchantChannel& ch) {
  return {{"merchant_id", ch.merchant_id.value()},
          {"channel_id", ch.channel_id},
          {"enabled", ch.enabled},
          {"fee_rate_permille", ch.fee_rate.value},
          {"min_amount_fen", ch.min_amount.fen()},
          {"max_amount_fen", ch.max_amount.fen()},
          {"processor", ch.processor}};
}

// The merchant's console logins, oldest first.
json users_of(storage::Tx& tx, MerchantId id) {
  UserFilter filter;
  filter.role = Role::kMerchant;
  filter.merchant_id = id;
  filter.limit = limits::kConsolePageSizeMax;
  auto users = list_users(tx, filter);
  json out = json::array();
  for (auto it = users.rbegin(); it != users.rend(); ++it) out.push_back(user_json(*it));
  return out;
}

// A LIKE pattern matching `text` anywhere, with LIKE's own characters escaped by '!'.
std::string contains_pattern(std::string_view text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '!') out += '!';
    out += c;
  }
  return out + "%";
}

template <typename T>
Result<T> get_field(const json& body, const char* name);

template <>
Result<bool> get_field<bool>(const json& body, const char* name) {
  const auto& v = body.at(name);
  if (!v.is_boolean()) return invalid(std::string(name) + " must be true or false");
  return v.get<bool>();
}

template <>
Result<int64_t> get_field<int64_t>(const json& body, const char* name) {
  const auto& v = body.at(name);
  if (!v.is_number_integer()) return invalid(std::string(name) + " must be a whole number");
  return v.get<int64_t>();
}

template <>
Result<std::string> get_field<std::string>(const json& body, const char* name) {
  const auto& v = body.at(name);
  if (!v.is_string()) return invalid(std::string(name) + " must be a string");
  return v.get<std::string>();
}

Result<Money> money_field(const json& body, const char* name) {
  auto v = get_field<int64_t>(body, name);
  if (!v.ok()) return v.error();
  if (*v < 0 || *v > kMoneyFenMax) {
    return invalid(std::string(name) + " must be 0 to " + std::to_string(kMoneyFenMax) + " fen");
  }
  return Money::from_fen(*v);
}

json audit_view(const storage::Merchant& m) { return merchant_json(m); }

}  // namespace

MerchantKeys generate_keys(Random& random) {
  MerchantKeys k;
  k.app_key = random.alnum(32);
  k.sign_key = random.alnum(32);
  k.aes_key = random.alnum(16);
  return k;
}

json keys_json(const MerchantKeys& keys) {
  return {{"appKey", keys.app_key}, {"key", keys.sign_key}, {"aesKey", keys.aes_key}};
}

json merchant_json(const storage::Merchant& m) {
  return {{"id", m.id.value()},
          {"name", m.name},
          {"enabled", m.enabled},
          {"app_key", m.app_key},
          {"keys_version", m.keys_version},
          {"key_fingerprint", crypto::SecretBox::display_fingerprint(m.sign_key)},
          {"aes_key_fingerprint", crypto::SecretBox::display_fingerprint(m.aes_key)},
          {"payout_fee_fen", m.payout_fee.fen()},
          {"payout_manual_approval", m.payout_manual_approval},
          {"settlement_delay_days", m.settlement_delay_days},
          {"bound_card_allowed", m.bound_card_allowed},
          {"ip_allowlist", m.api_ip_allowlist},
          {"created_at_ms", m.created_at_ms},
          {"updated_at_ms", m.updated_at_ms}};
}

Balances merchant_balances(storage::Tx& tx, MerchantId id) {
  return Balances{tx.balance(ledger::merchant_available(id).code), tx.balance(ledger::merchant_pending(id).code),
                  tx.balance(ledger::merchant_frozen(id).code), tx.balance(ledger::merchant_payout_reserved(id).code)};
}

json balances_json(const Balances& b) {
  return {{"available_fen", b.available.fen()},
          {"pending_fen", b.pending.fen()},
          {"frozen_fen", b.frozen.fen()},
          {"payout_reserved_fen", b.payout_reserved.fen()}};
}

bool is_forbidden(const Error& e) {
  return e.code == ErrorCode::kUnauthenticated && e.message.rfind("forbidden: ", 0) == 0;
}

// ---- reads ----

Result<MerchantPage> list_merchants(storage::Tx& tx, const Principal& who, std::string_view q, size_t limit,
                                    std::string_view cursor) {
  PG_TRY(require(who, Permission::kView, "look at merchants"));
  limit = std::clamp<size_t>(limit, 1, limits::kConsolePageSizeMax);
  MerchantPage page;
  if (who.merchant_id) {
    auto m = tx.merchant(*who.merchant_id);
    if (m) page.items.push_back(*m);
    return page;
  }
  int64_t before = std::numeric_limits<int64_t>::max();
  if (!cursor.empty()) {
    auto c = parse_int64_strict(cursor);
    if (!c || *c <= 0) return invalid("cursor is not one this list gave");
    before = *c;
  }
  std::vector<storage::SqlValue> params{before, static_cast<int64_t>(limit + 1)};
  std::string sql = "SELECT merchant_id FROM merchants WHERE merchant_id < $1";
  if (!q.empty()) {
    if (q.size() > 128) return invalid("q is longer than 128 characters");
    auto as_id = parse_int64_strict(q);
    params.emplace_back(as_id ? *as_id : int64_t{-1});
    params.emplace_back(std::string(q));
    params.emplace_back(contains_pattern(ascii_lower(q)));
    sql += " AND (merchant_id = $3 OR app_key = $4 OR LOWER(name) LIKE $5 ESCAPE '!')";
  }
  sql += " ORDER BY merchant_id DESC LIMIT $2";
  auto rows = tx.query_sql(sql, params);
  for (const auto& r : rows) {
    if (page.items.size() == limit) {
      page.next_cursor = std::to_string(page.items.back().id.value());
      break;
    }
    auto m = tx.merchant(MerchantId{storage::sql_int(r[0])});
    if (m) page.items.push_back(std::move(*m));
  }
  return page;
}

json channel_json(int channel_id, const std::optional<storage::MerchantChannel>& ch) {
  return {{"channel_id", channel_id},
          {"name", channel_name(channel_id, false)},
          {"name_en", channel_name(channel_id, true)},
          {"enabled", ch ? ch->enabled : false},
          {"fee_rate_permille", ch ? json(ch->fee_rate.value) : json(nullptr)},
          {"min_amount_fen", ch ? ch->min_amount.fen() : 0},
          {"max_amount_fen", ch ? ch->max_amount.fen() : 0},
          {"processor", ch ? json(ch->processor) : json(nullptr)}};
}

json product_row_json(const storage::Product& p, bool enabled) {
  return {{"code", p.code},
          {"name", p.name},
          {"enabled", enabled},
          {"catalogue_enabled", p.enabled},
          {"default_rate_permille", p.default_rate.value}};
}

Result<json> merchant_detail(storage::Tx& tx, const Principal& who, MerchantId id) {
  PG_TRY(require(who, Permission::kView, "look at merchants"));
  auto m = visible_merchant(tx, who, id);
  if (!m.ok()) return m.error();
  json channels = json::array();
  auto stored = tx.merchant_channels(id);
  for (const auto& c : gateway::kChannels) {
    std::optional<storage::MerchantChannel> ch;
    for (const auto& s : stored) {
      if (s.channel_id == c.id) ch = s;
    }
    channels.push_back(channel_json(c.id, ch));
  }
  json products = json::array();
  auto enabled = tx.merchant_products(id);
  for (const auto& p : tx.products()) {
    products.push_back(product_row_json(p, std::find(enabled.begin(), enabled.end(), p.code) != enabled.end()));
  }
  return json{{"merchant", merchant_json(*m)},
              {"balances", balances_json(merchant_balances(tx, id))},
              {"channels", channels},
              {"products", products},
              {"users", users_of(tx, id)}};
}

json catalogue_json(storage::Tx& tx) {
  json channels = json::array();
  for (const auto& c : gateway::kChannels) {
    channels.push_back({{"channel_id", c.id}, {"name", c.name_zh}, {"name_en", c.name_en}});
  }
  json products = json::array();
  for (const auto& p : tx.products()) {
    products.push_back({{"code", p.code},
                        {"name", p.name},
                        {"face_values_yuan", p.face_values_yuan},
                        {"default_rate_permille", p.default_rate.value},
                        {"custom_rate_allowed", p.custom_rate_allowed},
                        {"custom_rate_min_permille", p.custom_rate_min.value},
                        {"custom_rate_max_permille", p.custom_rate_max.value},
                        {"enabled", p.enabled},
                        {"created_at_ms", p.created_at_ms}});
  }
  return {{"channels", channels}, {"products", products}};
}

// ---- changes ----

Status check_merchant_name(std::string_view name) {
  if (!is_utf8(name) || has_control_chars(name)) return invalid("name must be UTF-8 text without control characters");
  // Characters (code points), not bytes: a Chinese name of 64 characters is allowed.
  size_t characters = 0;
  for (char c : name) characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  if (characters == 0 || characters > limits::kConsoleNameLengthMax) {
    return invalid("name must be 1 to " + std::to_string(limits::kConsoleNameLengthMax) + " characters");
  }
  return ok_status();
}

Result<storage::Merchant> create_merchant(storage::Tx& tx, const Principal& who, std::string_view name,
                                          const MerchantKeys& keys, int64_t now_ms) {
  PG_TRY(require(who, Permission::kManageMerchants, "create merchants"));
  PG_TRY(check_merchant_name(name));
  storage::Merchant m;
  m.name = std::string(name);
  m.app_key = keys.app_key;
  m.sign_key = keys.sign_key;
  m.aes_key = keys.aes_key;
  m.created_at_ms = m.updated_at_ms = now_ms;
  m.id = tx.insert_merchant(m);
  write_audit(tx, who, AuditEntry{"merchant.create", "merchant", std::to_string(m.id.value()), "{}", audit_view(m).dump()},
              now_ms);
  return m;
}

Result<MerchantPatch> parse_merchant_patch(const json& body) {
  if (!body.is_object()) return invalid("the body must be a JSON object");
  MerchantPatch p;
  for (const auto& [key, value] : body.items()) {
    if (key == "name") {
      auto v = get_field<std::string>(body, "name");
      if (!v.ok()) return v.error();
      PG_TRY(check_merchant_name(*v));
      p.name = *v;
    } else if (key == "enabled") {
      auto v = get_field<bool>(body, "enabled");
      if (!v.ok()) return v.error();
      p.enabled = *v;
    } else if (key == "payout_fee_fen") {
      auto v = money_field(body, "payout_fee_fen");
      if (!v.ok()) return v.error();
      p.payout_fee = *v;
    } else if (key == "payout_manual_approval") {
      auto v = get_field<bool>(body, "payout_manual_approval");
      if (!v.ok()) return v.error();
      p.payout_manual_approval = *v;
    } else if (key == "settlement_delay_days") {
      auto v = get_field<int64_t>(body, "settlement_delay_days");
      if (!v.ok()) return v.error();
      if (*v < 0 || *v > kSettlementDelayDaysMax) {
        return invalid("settlement_delay_days must be 0 to " + std::to_string(kSettlementDelayDaysMax));
      }
      p.settlement_delay_days = static_cast<int>(*v);
    } else if (key == "bound_card_allowed") {
      auto v = get_field<bool>(body, "bound_card_allowed");
      if (!v.ok()) return v.error();
      p.bound_card_allowed = *v;
    } else if (key == "ip_allowlist") {
      if (!value.is_array()) return invalid("ip_allowlist must be an array of addresses or CIDR ranges");
      if (value.size() > limits::kConsoleIpAllowlistMax * 2) {
        return invalid("an IP allowlist holds at most " + std::to_string(limits::kConsoleIpAllowlistMax) + " entries");
      }
      std::vector<std::string> entries;
      for (const auto& e : value) {
        if (!e.is_string()) return invalid("ip_allowlist must be an array of addresses or CIDR ranges");
        entries.push_back(e.get<std::string>());
      }
      auto normalized = http::normalize_ip_allowlist(entries);
      if (!normalized.ok()) return normalized.error();
      p.ip_allowlist = std::move(normalized).value();
    } else {
      return invalid("unknown field " + (key.size() <= 64 && is_printable_ascii_no_space(key) ? key : "?") +
                     " (a merchant's name, enabled, payout_fee_fen, payout_manual_approval, settlement_delay_days, "
                     "bound_card_allowed and ip_allowlist can be changed)");
    }
  }
  if (p.empty()) return invalid("nothing to change");
  return p;
}

Result<storage::Merchant> update_merchant(storage::Tx& tx, const Principal& who, MerchantId id,
                                          const MerchantPatch& patch, int64_t now_ms) {
  auto before = changeable_merchant(tx, who, id, "change merchants");
  if (!before.ok()) return before.error();
  if (patch.name) PG_TRY(check_merchant_name(*patch.name));
  if (patch.settlement_delay_days && (*patch.settlement_delay_days < 0 || *patch.settlement_delay_days > kSettlementDelayDaysMax)) {
    return invalid("settlement_delay_days must be 0 to " + std::to_string(kSettlementDelayDaysMax));
  }
  if (patch.payout_fee && (patch.payout_fee->is_negative() || patch.payout_fee->fen() > kMoneyFenMax)) {
    return invalid("payout_fee_fen must be 0 to " + std::to_string(kMoneyFenMax) + " fen");
  }
  storage::Merchant after = *before;
  if (patch.name) after.name = *patch.name;
  if (patch.enabled) after.enabled = *patch.enabled;
  if (patch.payout_fee) after.payout_fee = *patch.payout_fee;
  if (patch.payout_manual_approval) after.payout_manual_approval = *patch.payout_manual_approval;
  if (patch.settlement_delay_days) after.settlement_delay_days = *patch.settlement_delay_days;
  if (patch.bound_card_allowed) after.bound_card_allowed = *patch.bound_card_allowed;
  if (patch.ip_allowlist) {
    auto normalized = http::normalize_ip_allowlist(*patch.ip_allowlist);
    if (!normalized.ok()) return normalized.error();
    after.api_ip_allowlist = std::move(normalized).value();
  }
  after.updated_at_ms = now_ms;
  tx.update_merchant(after);
  write_audit(tx, who,
              AuditEntry{"merchant.update", "merchant", std::to_string(id.value()), audit_view(*before).dump(),
                         audit_view(after).dump()},
              now_ms);
  return after;
}

Result<storage::Merchant> rotate_keys(storage::Tx& tx, const Principal& who, MerchantId id, const MerchantKeys& keys,
                                      int64_t now_ms) {
  auto before = changeable_merchant(tx, who, id, "rotate merchants' keys");
  if (!before.ok()) return before.error();
  storage::Merchant after = *before;
  after.app_key = keys.app_key;
  after.sign_key = keys.sign_key;
  after.aes_key = keys.aes_key;
  ++after.keys_version;
  after.updated_at_ms = now_ms;
  tx.update_merchant(after);
  write_audit(tx, who,
              AuditEntry{"merchant.rotate_keys", "merchant", std::to_string(id.value()), audit_view(*before).dump(),
                         audit_view(after).dump()},
              now_ms);
  return after;
}

Result<ChannelChange> parse_channel_change(const json& body) {
  if (!body.is_object()) return invalid("the body must be a JSON object");
  ChannelChange c;
  bool has_enabled = false;
  for (const auto& [key, value] : body.items()) {
    if (key == "enabled") {
      auto v = get_field<bool>(body, "enabled");
      if (!v.ok()) return v.error();
      c.enabled = *v;
      has_enabled = true;
    } else if (key == "fee_rate_permille") {
      auto v = get_field<int64_t>(body, "fee_rate_permille");
      if (!v.ok()) return v.error();
      if (*v < 0 || *v > 1000) return invalid("fee_rate_permille must be 0 to 1000 (per mille: 25 = 2.5%)");
      c.fee_rate = RatePermille{static_cast<int32_t>(*v)};
    } else if (key == "min_amount_fen") {
      auto v = money_field(body, "min_amount_fen");
      if (!v.ok()) return v.error();
      c.min_amount = *v;
    } else if (key == "max_amount_fen") {
      auto v = money_field(body, "max_amount_fen");
      if (!v.ok()) return v.error();
      c.max_amount = *v;
    } else {
      return invalid("unknown field " + (key.size() <= 64 && is_printable_ascii_no_space(key) ? key : "?") +
                     " (a channel takes enabled, fee_rate_permille, min_amount_fen and max_amount_fen)");
    }
  }
  if (!has_enabled) return invalid("enabled is required");
  return c;
}

Result<storage::MerchantChannel> set_channel(storage::Tx& tx, const Principal& who, MerchantId id, int channel_id,
                                             const ChannelChange& change, int64_t now_ms) {
  auto m = changeable_merchant(tx, who, id, "change merchants' channels");
  if (!m.ok()) return m.error();
  if (gateway::find_channel(channel_id) == nullptr) {
    return make_error(ErrorCode::kNotFound, "no channel " + std::to_string(channel_id) + " (channels are 1 to " +
                                                std::to_string(gateway::kChannels.size()) + ")");
  }
  auto before = tx.merchant_channel(id, channel_id);
  if (!before && change.must_exist) {
    return make_error(ErrorCode::kNotFound, "channel " + std::to_string(channel_id) +
                                                " was never enabled for merchant " + std::to_string(id.value()));
  }
  if (!before && change.enabled && !change.fee_rate) {
    return invalid("fee_rate_permille is required to enable a channel for the first time");
  }
  storage::MerchantChannel after;
  if (before) after = *before;
  after.merchant_id = id;
  after.channel_id = channel_id;
  after.enabled = change.enabled;
  if (change.fee_rate) after.fee_rate = *change.fee_rate;
  if (change.min_amount) after.min_amount = *change.min_amount;
  if (change.max_amount) after.max_amount = *change.max_amount;
  if (change.processor) after.processor = *change.processor;
  if (after.fee_rate.value < 0 || after.fee_rate.value > 1000) {
    return invalid("fee_rate_permille must be 0 to 1000 (per mille: 25 = 2.5%)");
  }
  if (after.min_amount.is_negative() || after.max_amount.is_negative()) return invalid("amount limits must not be negative");
  if (after.max_amount.is_positive() && after.min_amount > after.max_amount) {
    return invalid("min_amount_fen must not be above max_amount_fen");
  }
  if (after.processor != processors::SandboxPayInProcessor::kName) {
    return invalid("unknown processor " + after.processor + " (available: sandbox)");
  }
  after.updated_at_ms = now_ms;
  tx.set_merchant_channel(after);
  write_audit(tx, who,
              AuditEntry{"channel.set", "channel", std::to_string(id.value()) + ":" + std::to_string(channel_id),
                         before ? stored_channel_json(*before).dump()
                                : json{{"merchant_id", id.value()}, {"channel_id", channel_id}, {"enabled", false}}.dump(),
                         stored_channel_json(after).dump()},
              now_ms);
  return after;
}

Result<json> set_product(storage::Tx& tx, const Principal& who, MerchantId id, const std::string& code, bool enabled,
                         int64_t now_ms) {
  auto m = changeable_merchant(tx, who, id, "change merchants' products");
  if (!m.ok()) return m.error();
  auto p = code.size() <= limits::kProductCodeLengthMax ? tx.product(code) : std::nullopt;
  if (!p) return make_error(ErrorCode::kNotFound, "no product " + code.substr(0, 64));
  const bool was = tx.merchant_product_enabled(id, code);
  tx.set_merchant_product(id, code, enabled);
  auto state = [&](bool on) {
    return json{{"merchant_id", id.value()}, {"code", code}, {"enabled", on}}.dump();
  };
  write_audit(tx, who,
              AuditEntry{"product.set", "product", std::to_string(id.value()) + ":" + code, state(was), state(enabled)},
              now_ms);
  return product_row_json(*p, enabled);
}

}  // namespace paygate::console
