#include "tools/commands.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/master_key.h"
#include "app/open_store.h"
#include "base/clock.h"
#include "base/text.h"
#include "console/actions.h"
#include "console/console.h"
#include "console/merchants.h"
#include "crypto/crypto.h"
#include "http/ip_allowlist.h"
#include "protocols/consign/service.h"
#include "storage/postgres/pg_store.h"
#include "tools/cli_support.h"

namespace paygate::tools {

using nlohmann::json;
using storage::Merchant;
using storage::Product;

namespace {

json merchant_json(const Merchant& m, bool with_secrets) {
  json j = {{"id", m.id.value()},
            {"name", m.name},
            {"enabled", m.enabled},
            {"appKey", m.app_key},
            {"keyFingerprint", crypto::SecretBox::display_fingerprint(m.sign_key)},
            {"aesKeyFingerprint", crypto::SecretBox::display_fingerprint(m.aes_key)},
            {"keysVersion", m.keys_version},
            {"payoutFee", format_yuan(m.payout_fee)},
            {"payoutManualApproval", m.payout_manual_approval},
            {"ipAllowlist", m.api_ip_allowlist},
            {"createdAtMs", m.created_at_ms}};
  if (with_secrets) {
    j["key"] = m.sign_key;
    j["aesKey"] = m.aes_key;
  }
  return j;
}

// What `merchant create` and `rotate-keys` print with --json: exactly the four credentials a merchant's
// integration needs, so that a script reads them without picking through the merchant's settings
// (`merchant show` has those).
json credentials_json(const Merchant& m) {
  return {{"id", m.id.value()}, {"appKey", m.app_key}, {"key", m.sign_key}, {"aesKey", m.aes_key}};
}

std::string merchant_text(const json& j) {
  std::ostringstream os;
  os << "id:       " << j["id"] << "\nname:     " << j["name"].get<std::string>() << "\nenabled:  " << j["enabled"]
     << "\nappKey:   " << j["appKey"].get<std::string>() << "\n";
  if (j.contains("key")) {
    os << "key:      " << j["key"].get<std::string>() << "   (signing secret: shown once, store it safely)\n"
       << "aesKey:   " << j["aesKey"].get<std::string>() << "   (16-char AES key for cardPassword)\n";
  } else {
    os << "key:      fingerprint " << j["keyFingerprint"].get<std::string>() << "\n";
  }
  return os.str();
}

json product_json(const Product& p) {
  return {{"code", p.code},
          {"name", p.name},
          {"faceValues", p.face_values_yuan},
          {"rate", format_rate_percent(p.default_rate)},
          {"customRateAllowed", p.custom_rate_allowed},
          {"customRateMin", format_rate_percent(p.custom_rate_min)},
          {"customRateMax", format_rate_percent(p.custom_rate_max)},
          {"enabled", p.enabled}};
}

json order_json(const orders::ConsignOrder& o) {
  return {{"sysOrderId", o.sys_order_id.value()},
          {"orderId", o.merchant_order_id},
          {"merchantId", o.merchant_id.value()},
          {"batchno", o.batchno},
          {"productCode", o.product_code},
          {"productType", o.product_type},
          {"cardNumber", o.card_number},
          {"cardPassword", orders::mask_secret(o.card_password)},
          {"faceMoney", o.face_money_yuan},
          {"rate", format_rate_percent(o.rate)},
          {"status", orders::state_name(o.state)},
          {"protocolStatus", orders::protocol_status(o.state)},
          {"message", o.message},
          {"realMoney", o.real_money_yuan},
          {"amount", format_yuan(o.amount)},
          {"amountFen", o.amount.fen()},
          {"successTime", o.success_time_s},
          {"notifyUrl", o.notify_url},
          {"custom", o.custom},
          {"createdAtMs", o.created_at_ms},
          {"updatedAtMs", o.updated_at_ms}};
}

Result<std::vector<int64_t>> parse_face_values(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto v = parse_int64_strict(item);
    if (!v || *v <= 0 || *v > kMoneyFenMax / 100) {
      return make_error(ErrorCode::kInvalidArgument, "face values must be positive whole yuan, got '" + item + "'");
    }
    out.push_back(*v);
  }
  if (out.empty()) return make_error(ErrorCode::kInvalidArgument, "at least one face value is needed");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<MerchantId> create_merchant(Ctx& ctx, const std::string& name, Merchant* created) {
  const auto keys = console::generate_keys(ctx.random);
  const auto who = console::cli_principal();
  Merchant m;
  auto st = ctx.store->write_sync([&](storage::Tx& tx) -> Status {
    auto r = console::create_merchant(tx, who, name, keys, ctx.clock.now_unix_ms());
    if (!r.ok()) return r.error();
    m = *r;
    return ok_status();
  });
  if (!st.ok()) return st.error();
  if (created) *created = m;
  return m.id;
}

}  // namespace

int migrate(const app::Config& c) {
  if (c.uses_postgres()) {
    // Only the schema: no master key needed, no writers started.
    storage::migrate_postgres(c.storage.database);
  } else {
    auto ctx = open(c, Open::kMayCreate);  // opening applies the migrations
  }
  std::cout << "database at " << c.database_display() << " is up to date\n";
  return 0;
}

int merchant_create(const app::Config& c, const std::string& name, Output out) {
  if (auto st = console::check_merchant_name(name); !st.ok()) return fail("--name: " + st.error().message);
  auto ctx = open(c, Open::kMayCreate);
  Merchant m;
  auto id = create_merchant(*ctx, name, &m);
  if (!id.ok()) return fail(id.error().message);
  json j = merchant_json(m, true);
  print(credentials_json(m), out, merchant_text(j));
  return 0;
}

int merchant_list(const app::Config& c, Output out) {
  auto ctx = open(c);
  auto tx = ctx->store->read();
  json arr = json::array();
  std::string text;
  for (const auto& m : tx->merchants()) {
    auto j = merchant_json(m, false);
    j["products"] = tx->merchant_products(m.id);
    arr.push_back(j);
    text += std::to_string(m.id.value()) + "  " + (m.enabled ? "enabled " : "disabled") + "  " + m.name + "\n";
  }
  print(arr, out, text);
  return 0;
}

int merchant_show(const app::Config& c, int64_t id, Output out) {
  auto ctx = open(c);
  auto tx = ctx->store->read();
  auto m = tx->merchant(MerchantId{id});
  if (!m) return fail("no merchant " + std::to_string(id));
  auto j = merchant_json(*m, false);
  j["products"] = tx->merchant_products(m->id);
  Money available = tx->balance(ledger::merchant_available(m->id).code);
  Money reserved = tx->balance(ledger::merchant_payout_reserved(m->id).code);
  j["availableFen"] = available.fen();
  j["available"] = format_yuan(available);
  j["payoutReservedFen"] = reserved.fen();
  j["payoutReserved"] = format_yuan(reserved);
  print(j, out,
        merchant_text(j) + "products: " + j["products"].dump() + "\navailable: " + format_yuan(available) +
            "\npayouts in flight: " + format_yuan(reserved) + "\npayout fee: " + format_yuan(m->payout_fee) +
            (m->payout_manual_approval ? " (manual approval)" : "") + "\n");
  return 0;
}

Result<Merchant> change_merchant(Ctx& ctx, int64_t id, const console::MerchantPatch& patch) {
  const auto who = console::cli_principal();
  Merchant updated;
  auto st = ctx.store->write_sync([&](storage::Tx& tx) -> Status {
    auto m = console::update_merchant(tx, who, MerchantId{id}, patch, ctx.clock.now_unix_ms());
    if (!m.ok()) return m.error();
    updated = *m;
    return ok_status();
  });
  if (!st.ok()) return st.error();
  return updated;
}

int merchant_rotate_keys(const app::Config& c, int64_t id, Output out) {
  auto ctx = open(c);
  const auto keys = console::generate_keys(ctx->random);
  const auto who = console::cli_principal();
  Merchant updated;
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    auto m = console::rotate_keys(tx, who, MerchantId{id}, keys, ctx->clock.now_unix_ms());
    if (!m.ok()) return m.error();
    updated = *m;
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  json j = merchant_json(updated, true);
  print(credentials_json(updated), out, merchant_text(j));
  return 0;
}

int merchant_set_enabled(const app::Config& c, int64_t id, bool enabled, Output out) {
  auto ctx = open(c);
  console::MerchantPatch patch;
  patch.enabled = enabled;
  auto st = change_merchant(*ctx, id, patch);
  if (!st.ok()) return fail(st.error().message);
  print(json{{"id", id}, {"enabled", enabled}}, out,
        "merchant " + std::to_string(id) + (enabled ? " enabled\n" : " disabled\n"));
  return 0;
}

int merchant_set_ips(const app::Config& c, int64_t id, const std::string& allow, Output out) {
  auto list = http::parse_ip_allowlist(allow);
  if (!list.ok()) return fail("--allow: " + list.error().message);
  auto ctx = open(c);
  console::MerchantPatch patch;
  patch.ip_allowlist = *list;
  auto m = change_merchant(*ctx, id, patch);
  if (!m.ok()) return fail(m.error().message);
  print(json{{"merchantId", id}, {"ipAllowlist", m->api_ip_allowlist}}, out,
        "merchant " + std::to_string(id) + ": " +
            (m->api_ip_allowlist.empty()
                 ? std::string("API calls accepted from any address")
                 : "API calls accepted only from " + http::join_ip_allowlist(m->api_ip_allowlist)) +
            "\n");
  return 0;
}

int merchant_balance(const app::Config& c, int64_t id, Output out) {
  auto ctx = open(c);
  auto tx = ctx->store->read();
  if (!tx->merchant(MerchantId{id})) return fail("no merchant " + std::to_string(id));
  Money available = tx->balance(ledger::merchant_available(MerchantId{id}).code);
  Money pending = tx->balance(ledger::merchant_pending(MerchantId{id}).code);
  Money frozen = tx->balance(ledger::merchant_frozen(MerchantId{id}).code);
  Money reserved = tx->balance(ledger::merchant_payout_reserved(MerchantId{id}).code);
  print(json{{"merchantId", id},
             {"availableFen", available.fen()},
             {"available", format_yuan(available)},
             {"pendingFen", pending.fen()},
             {"pending", format_yuan(pending)},
             {"frozenFen", frozen.fen()},
             {"frozen", format_yuan(frozen)},
             {"payoutReservedFen", reserved.fen()},
             {"payoutReserved", format_yuan(reserved)}},
        out,
        "available: " + format_yuan(available) + "\npending: " + format_yuan(pending) +
            "\nfrozen: " + format_yuan(frozen) + "\npayouts in flight: " + format_yuan(reserved) + "\n");
  return 0;
}

int product_add(const app::Config& c, const ProductSpec& spec, Output out) {
  if (spec.code.empty() || spec.code.size() > limits::kProductCodeLengthMax)
    return fail("--code must be 1 to 64 characters");
  for (char ch : spec.code) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-') {
      return fail("--code may hold letters, digits, '_' and '-' only");
    }
  }
  Product p;
  p.code = spec.code;
  p.name = spec.name.empty() ? spec.code : spec.name;
  // The name is shown to operators and merchants (CLI lists, the console): one line of text.
  if (p.name.size() > limits::kProductCodeLengthMax || !is_utf8(p.name) || has_control_chars(p.name) ||
      p.name.find_first_not_of(' ') == std::string::npos) {
    return fail("--name must be 1 to 64 bytes of UTF-8 text without control characters");
  }
  auto faces = parse_face_values(spec.face_values);
  if (!faces.ok()) return fail(faces.error().message);
  p.face_values_yuan = *faces;
  auto rate = parse_rate_percent(spec.rate);
  if (!rate.ok()) return fail("--rate: " + rate.error().message);
  p.default_rate = *rate;
  if (!spec.custom_rate_min.empty() || !spec.custom_rate_max.empty()) {
    auto lo = parse_rate_percent(spec.custom_rate_min);
    auto hi = parse_rate_percent(spec.custom_rate_max);
    if (!lo.ok() || !hi.ok() || lo->value > hi->value) {
      return fail("--custom-rate-min and --custom-rate-max must both be rates with min <= max");
    }
    p.custom_rate_allowed = true;
    p.custom_rate_min = *lo;
    p.custom_rate_max = *hi;
  }
  auto ctx = open(c, Open::kMayCreate);
  p.created_at_ms = ctx->clock.now_unix_ms();
  // `add` on an existing code replaces the whole definition (name, faces, rates); the audit log keeps both.
  bool replaced = false;
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    auto before = tx.product(p.code);
    replaced = before.has_value();
    tx.upsert_product(p);
    console::write_audit(tx, console::cli_principal(),
                         {replaced ? "product.update" : "product.add", "product", p.code,
                          replaced ? product_json(*before).dump() : "{}", product_json(p).dump()},
                         p.created_at_ms);
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  print(product_json(p), out,
        "product " + p.code + (replaced ? " saved (it replaced the earlier definition)\n" : " saved\n"));
  return 0;
}

int product_list(const app::Config& c, Output out) {
  auto ctx = open(c);
  auto tx = ctx->store->read();
  json arr = json::array();
  std::string text;
  for (const auto& p : tx->products()) {
    arr.push_back(product_json(p));
    text += p.code + "  " + p.name + "  rate " + format_rate_percent(p.default_rate) + "%  faces " +
            product_json(p)["faceValues"].dump() + (p.enabled ? "" : "  (disabled)") + "\n";
  }
  print(arr, out, text);
  return 0;
}

int product_enable(const app::Config& c, int64_t merchant, const std::string& code, bool enabled, Output out) {
  auto ctx = open(c);
  const auto who = console::cli_principal();
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    auto r = console::set_product(tx, who, MerchantId{merchant}, code, enabled, ctx->clock.now_unix_ms());
    if (!r.ok()) return r.error();
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  print(json{{"merchantId", merchant}, {"code", code}, {"enabled", enabled}}, out,
        "product " + code + (enabled ? " enabled" : " disabled") + " for merchant " + std::to_string(merchant) + "\n");
  return 0;
}

int order_list(const app::Config& c, const OrderListFilter& f, Output out) {
  storage::OrderFilter filter;
  if (f.merchant) filter.merchant_id = MerchantId{*f.merchant};
  if (!f.status.empty()) {
    auto s = orders::parse_state(f.status);
    if (!s) return fail("--status must be processing, review, success or failed");
    filter.state = *s;
  }
  if (!f.batchno.empty()) filter.batchno = f.batchno;
  filter.limit = std::min(f.limit, limits::kListPageSizeMax);
  auto ctx = open(c);
  auto tx = ctx->store->read();
  json arr = json::array();
  std::string text;
  for (const auto& o : tx->consign_orders(filter)) {
    arr.push_back(order_json(o));
    text += o.sys_order_id.value() + "  " + std::to_string(o.merchant_id.value()) + "  " + o.merchant_order_id + "  " +
            std::string(orders::state_name(o.state)) + "  face " + std::to_string(o.face_money_yuan) + "  amount " +
            format_yuan(o.amount) + "\n";
  }
  print(arr, out, text);
  return 0;
}

int order_show(const app::Config& c, const std::string& sys_order_id, Output out) {
  auto ctx = open(c);
  auto tx = ctx->store->read();
  auto o = tx->consign_order_by_sys(SysOrderId{sys_order_id});
  if (!o) return fail("no order " + sys_order_id);
  json j = order_json(*o);
  add_history(*tx, sys_order_id, j);
  print(j, out, json_text(j) + "\n");
  return 0;
}

int order_resolve(const app::Config& c, const std::string& sys_order_id, bool success, int64_t real_money_yuan,
                  const std::string& message, Output out) {
  if (auto st = console::check_operator_text("--message", message); !st.ok()) return fail(st.error().message);
  auto ctx = open(c);
  const console::Principal who = console::cli_principal();
  orders::ConsignOrder after;
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    orders::ConsignOutcome outcome{
        success ? orders::ConsignOutcome::Kind::kSuccess : orders::ConsignOutcome::Kind::kFail, real_money_yuan,
        message};
    auto o = console::resolve_review(tx, who, sys_order_id, outcome, ctx->clock.now_unix_ms());
    if (!o.ok()) return o.error();
    after = *o;
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  print(order_json(after), out,
        "order " + sys_order_id + " is now " + std::string(orders::state_name(after.state)) + "\n");
  return 0;
}

int order_resend(const app::Config& c, const std::string& id, Output out) {
  auto ctx = open(c);
  const console::Principal who = console::cli_principal();
  NotificationId notification;
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    auto n = console::resend_notification(tx, who, id, ctx->clock.now_unix_ms());
    if (!n.ok()) return n.error();
    notification = *n;
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  print(json{{"orderId", id}, {"notificationId", notification.value()}}, out,
        "notification " + std::to_string(notification.value()) + " of order " + id +
            " is due again now (a running `paygate serve` sends it within its poll interval)\n");
  return 0;
}

int ledger_check(const app::Config& c, Output out) {
  auto ctx = open(c);
  auto r = ctx->store->read()->check_ledger();
  json j = {{"ok", r.ok},
            {"entries", r.entries},
            {"postings", r.postings},
            {"accounts", r.accounts},
            {"problems", r.problems}};
  std::string text = std::string(r.ok ? "ledger OK" : "ledger BROKEN") + ": " + std::to_string(r.entries) +
                     " entries, " + std::to_string(r.postings) + " postings, " + std::to_string(r.accounts) +
                     " accounts\n";
  for (const auto& p : r.problems) text += "  " + p + "\n";
  print(j, out, text);
  return r.ok ? 0 : 1;
}

int demo(const app::Config& c) {
  auto ctx = open(c, Open::kMayCreate);
  const std::vector<Product> catalogue = {
      {"JDE",
       "京东E卡 JD E-card",
       {50, 100, 200, 500, 1000},
       RatePermille{965},
       true,
       RatePermille{900},
       RatePermille{990},
       true,
       0},
      {"CTRIP", "携程任我行 Ctrip gift card", {100, 200, 500, 1000}, RatePermille{950}, false, {}, {}, true, 0},
      {"SINOPEC", "中石化加油卡 Sinopec fuel card", {100, 200, 500, 1000}, RatePermille{980}, false, {}, {}, true, 0},
  };
  Merchant demo_merchant;
  bool found = false;
  for (const auto& m : ctx->store->read()->merchants()) {
    if (m.name == "Demo Merchant") {
      demo_merchant = m;
      found = true;
      break;
    }
  }
  if (!found) {
    auto id = create_merchant(*ctx, "Demo Merchant", &demo_merchant);
    if (!id.ok()) return fail(id.error().message);
  }
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    for (auto p : catalogue) {
      if (tx.product(p.code)) continue;  // never overwrite an operator's changes
      p.created_at_ms = ctx->clock.now_unix_ms();
      tx.upsert_product(p);
    }
    for (const auto& p : catalogue) tx.set_merchant_product(demo_merchant.id, p.code, true);
    // Gateway channels: WeChat Pay and Alipay at 2.5%, bank card at 1.0%; an operator's changes are kept.
    for (auto [channel_id, fee_permille] : {std::pair{1, 25}, std::pair{2, 25}, std::pair{3, 10}}) {
      if (tx.merchant_channel(demo_merchant.id, channel_id)) continue;
      storage::MerchantChannel ch;
      ch.merchant_id = demo_merchant.id;
      ch.channel_id = channel_id;
      ch.fee_rate = RatePermille{fee_permille};
      ch.updated_at_ms = ctx->clock.now_unix_ms();
      tx.set_merchant_channel(ch);
    }
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);

  auto [host, port] = [&] {
    auto colon = c.server.listen.rfind(':');
    return std::pair{c.server.listen.substr(0, colon), c.server.listen.substr(colon + 1)};
  }();
  std::cout
      << "\n=== paygate demo merchant ===\n"
      << "customerId: " << demo_merchant.id.value() << "\n"
      << "appKey:     " << demo_merchant.app_key << "\n"
      << "key:        " << demo_merchant.sign_key << "   (signing secret)\n"
      << "aesKey:     " << demo_merchant.aes_key << "   (AES-128 key for cardPassword)\n"
      << "products:   JDE (50/100/200/500/1000, 96.5%), CTRIP (95%), SINOPEC (98%)\n\n"
      << "Submit a card (paste into bash; needs openssl and curl):\n\n"
      << "CID=" << demo_merchant.id.value() << " KEY=" << demo_merchant.sign_key << " AES=" << demo_merchant.aes_key
      << "\n"
      << "TS=$(date +%s); OID=demo-$TS; CARD=JD$TS; PLAIN=DEMO-$TS\n"
      << "PW=$(printf '%s' \"$PLAIN\" | openssl enc -aes-128-ecb -K \"$(printf '%s' \"$AES\" | od -An -tx1 | tr -d ' "
         "\\n')\" "
         "| base64 -w0 | od -An -tx1 | tr -d ' \\n')\n"
      << "SIGN=$(printf '%s' \"customerId=$CID&timestamp=$TS&orderId=$OID&batchno=demo&productCode=JDE&cardNumber=$CARD"
         "&cardPassword=$PW&faceMoney=100&notifyUrl=&key=$KEY\" | md5sum | cut -d' ' -f1 | tr a-f A-F)\n"
      << "curl -s http://" << host << ":" << port
      << "/api/consignmentOrders -d customerId=$CID -d timestamp=$TS "
         "-d orderId=$OID -d productType=0 -d batchno=demo -d productCode=JDE -d cardNumber=$CARD "
         "-d cardPassword=$PW -d faceMoney=100 -d sign=$SIGN; echo\n\n"
      << "Then query it:\n\n"
      << "QSIGN=$(printf '%s' \"customerId=$CID&timestamp=$TS&orderId=$OID&key=$KEY\" | md5sum | cut -d' ' -f1 | tr "
         "a-f A-F)\n"
      << "curl -s http://" << host << ":" << port
      << "/api/searchOrders -d customerId=$CID -d timestamp=$TS -d orderId=$OID -d sign=$QSIGN; echo\n\n"
      << "Sandbox: a password starting FAIL fails, REAL<n>-... is worth n yuan, HOLD... waits for review "
         "(docs/sandbox.md).\n\n"
      << "=== gateway (pay-in) ===\n"
      << "appKey:     " << demo_merchant.app_key
      << "\nchannels:   1 WeChat Pay 2.5%, 2 Alipay 2.5%, 3 bank card 1.0%\n\n"
      << "Create a pay-in and open its payment page (sandbox: pay or fail it there):\n\n"
      << "AK=" << demo_merchant.app_key << " KEY=" << demo_merchant.sign_key << " MRN=demo-$(date +%s)\n"
      << "GSIGN=$(printf '%s' \"amount=10.00&appKey=$AK&callbackUrl=https://example.com/cb&channelId=1&mrn=$MRN"
         "&returnUrl=https://example.com/&key=$KEY\" | md5sum | cut -d' ' -f1)\n"
      << "curl -s http://" << host << ":" << port
      << "/api/Pay/Create -H 'Content-Type: application/json' "
         "-d "
         "\"{\\\"amount\\\":\\\"10.00\\\",\\\"appKey\\\":\\\"$AK\\\",\\\"callbackUrl\\\":\\\"https://example.com/"
         "cb\\\","
         "\\\"channelId\\\":\\\"1\\\",\\\"mrn\\\":\\\"$MRN\\\",\\\"returnUrl\\\":\\\"https://example.com/"
         "\\\",\\\"sign\\\":\\\"$GSIGN\\\"}\"; echo\n"
      << "# then open http://" << host << ":" << port << "<payUrl> in a browser\n\n"
      << "=== cashier ===\n"
      << "merid " << demo_merchant.id.value() << "; methods WeiXin, AliPay, Bank (Arbi: the customer picks)\n\n"
      << "MERID=" << demo_merchant.id.value() << " KEY=" << demo_merchant.sign_key << " OID=demo$(date +%s)\n"
      << "REQ=$(printf '%s' \"{\\\"action\\\":\\\"Arbi\\\",\\\"txnamt\\\":1000,\\\"merid\\\":\\\"$MERID\\\","
         "\\\"orderid\\\":\\\"$OID\\\",\\\"backurl\\\":\\\"https://example.com/back\\\","
         "\\\"fronturl\\\":\\\"https://example.com/front\\\"}\" | base64 -w0)\n"
      << "CSIGN=$(printf '%s' \"$REQ$KEY\" | md5sum | cut -d' ' -f1)\n"
      << "curl -si http://" << host << ":" << port
      << "/api/icashier --data-urlencode req=$REQ --data-urlencode sign=$CSIGN | grep -i '^location'\n"
      << "# then open http://" << host << ":" << port << "<location> in a browser\n\n"
      << demo_console_logins(*ctx, demo_merchant.id, "http://" + host + ":" + port + "/console");
  return 0;
}

}  // namespace paygate::tools
