#include "fuzz_targets.h"

#include <cstdlib>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "base/money.h"
#include "crypto/card_password.h"
#include "crypto/crypto.h"
#include "http/client.h"
#include "http/http.h"
#include "protocols/cashier/codec.h"
#include "protocols/consign/codec.h"
#include "protocols/gateway/codec.h"

namespace paygate::fuzz {
namespace {

// A property violation: print it and abort, so both the smoke driver and libFuzzer report the input.
[[noreturn]] void violated(const char* what, std::string_view input) {
  std::fprintf(stderr, "fuzz property violated: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void form(std::string_view in) {
  auto f = http::parse_form_urlencoded(in);
  if (!f.ok()) return;
  // Re-encoding the decoded fields and decoding again gives the same fields.
  std::vector<std::pair<std::string, std::string>> pairs(f->values.begin(), f->values.end());
  auto again = http::parse_form_urlencoded(http::form_encode(pairs));
  if (!again.ok() || again->values != f->values) violated("form round trip", in);
}

void consign_body(std::string_view in) {
  (void)consign::parse_body("application/json", in);
  (void)consign::parse_body("application/x-www-form-urlencoded", in);
  auto fields = consign::parse_body("", in);
  if (fields.ok()) {
    (void)consign::submit_signing_string(*fields, "key");
    (void)consign::signature_matches(consign::field(*fields, "sign"), "x");
  }
}

// Whatever the body, the gateway codec answers with a value, its messages make valid JSON, and what it accepts is
// within the documented bounds.
void gateway_body(std::string_view in) {
  for (auto fields : {gateway::parse_json(in), gateway::parse_form(in)}) {
    if (!fields.ok()) {
      if (!nlohmann::json::accept(gateway::pay_in_error_json(fields.error().message))) {
        violated("gateway parse message is not JSON-safe", in);
      }
      continue;
    }
    if (fields->contains(gateway::kAppKeyTableSpelling) || fields->contains(gateway::kChannelIdTableSpelling)) {
      violated("gateway alias not normalized", in);
    }
    (void)gateway::pay_in_signing_string(*fields, "key");
    (void)gateway::payout_signing_string(*fields, "key");
    if (auto r = gateway::validate_pay_in(*fields); r.ok()) {
      if (!r->amount.is_positive() || r->amount.fen() > kMoneyFenMax) violated("gateway pay-in amount range", in);
      if (!gateway::find_channel(r->channel_id)) violated("gateway channel not in the table", in);
    } else if (!nlohmann::json::accept(gateway::pay_in_error_json(r.error().message))) {
      violated("gateway pay-in message is not JSON-safe", in);
    }
    if (auto r = gateway::validate_payout(*fields); r.ok()) {
      if (!r->amount.is_positive() || r->amount.fen() % 100 != 0) violated("gateway payout amount", in);
    }
    (void)gateway::validate_query(*fields);
  }
}

void gateway_amount(std::string_view in) {
  if (auto m = gateway::parse_pay_in_amount(in); m.ok()) {
    if (!m->is_positive() || m->fen() > kMoneyFenMax) violated("gateway pay-in amount out of range", in);
    auto again = gateway::parse_pay_in_amount(format_yuan(*m));
    if (!again.ok() || *again != *m) violated("gateway pay-in amount round trip", in);
  }
  if (auto m = gateway::parse_payout_amount(in); m.ok()) {
    // The accepted text is canonical: what the callback sends back is the very text the merchant signed.
    if (m->fen() % 100 != 0 || format_whole_yuan(*m) != in) violated("gateway payout amount not canonical", in);
  }
}

// Whatever the form, the cashier codec answers with a value, its messages make valid JSON, what it accepts is within
// the documented bounds, and whatever the payload, a sealed envelope opens to the very same bytes and signature.
void cashier_envelope(std::string_view in) {
  auto json_safe = [&](std::string_view message) {
    if (!nlohmann::json::accept(cashier::query_error_json(cashier::RespCode::kBadRequest, message)) ||
        !nlohmann::json::accept(cashier::pay_result_json(cashier::refused_pay_view(message, {})))) {
      violated("cashier message is not JSON-safe", in);
    }
  };
  auto check_fields = [&](const cashier::Fields& fields) {
    if (auto r = cashier::validate_pay(fields); r.ok()) {
      if (!r->amount.is_positive() || r->amount.fen() > kMoneyFenMax) violated("cashier txnamt range", in);
      if (r->merchant_id.value() <= 0) violated("cashier merid", in);
      if (r->order_id.size() < limits::kCashierOrderIdLengthMin ||
          r->order_id.size() > limits::kCashierOrderIdLengthMax) {
        violated("cashier orderid length", in);
      }
      if (r->acc_name.empty() != r->acc_no.empty()) violated("cashier accname without accno", in);
      if (r->bound_card() && (r->acc_no.size() != 18 || r->acc_no.find('x') != std::string::npos)) {
        violated("cashier accno not normalized", in);
      }
      if (!nlohmann::json::accept(cashier::pay_result_json(cashier::refused_pay_view("refused", fields)))) {
        violated("cashier refused view is not JSON", in);
      }
    } else {
      json_safe(r.error().message);
    }
    if (auto q = cashier::validate_query(fields); q.ok()) {
      if (q->query_id.empty() == q->order_id.empty()) violated("cashier query needs exactly one id", in);
    } else {
      json_safe(q.error().message);
    }
  };
  if (auto form = cashier::parse_form(in); form.ok()) {
    if (auto env = cashier::open_envelope(*form); env.ok()) {
      if (env->text.find(' ') != std::string::npos) violated("cashier envelope text kept a space", in);
      (void)cashier::check_signature(*env, "key");
      check_fields(env->fields);
    } else {
      json_safe(env.error().message);
    }
  } else {
    json_safe(form.error().message);
  }
  if (auto fields = cashier::parse_payload("req", in); fields.ok()) check_fields(*fields);
  const cashier::SealedEnvelope sealed = cashier::seal(in, "key");
  auto form = cashier::parse_form(cashier::envelope_form(sealed));
  if (!form.ok() || cashier::field(*form, "resp") != sealed.text) violated("cashier sealed form round trip", in);
  if (!in.empty()) {
    auto bytes = cashier::decode_base64_text("resp", cashier::restore_plus_signs(cashier::field(*form, "resp")));
    if (!bytes.ok() || *bytes != in) violated("cashier sealed base64 round trip", in);
  }
  if (!cashier::signature_matches(cashier::field(*form, "sign"), sealed.text, "key")) {
    violated("cashier sealed signature", in);
  }
}

// What the lenient base64 reader accepts is the canonical encoding of what it returns, line breaks and padding aside.
void cashier_base64(std::string_view in) {
  const std::string text = cashier::restore_plus_signs(in);
  auto bytes = cashier::decode_base64_text("req", text);
  if (!bytes.ok()) return;
  auto strip = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c != '\r' && c != '\n' && c != '=') out.push_back(c);
    }
    return out;
  };
  if (strip(crypto::base64_encode(*bytes)) != strip(text)) violated("cashier base64 is not canonical", in);
}

void card_password(std::string_view in) {
  auto plain = crypto::decode_card_password(in, "1234567890abcdef");
  if (plain.ok() && crypto::decode_card_password(crypto::encode_card_password(*plain, "1234567890abcdef"),
                                                 "1234567890abcdef").value() != *plain) {
    violated("card password round trip", in);
  }
}

void base64_and_hex(std::string_view in) {
  if (auto b = crypto::base64_decode(in); b && crypto::base64_encode(*b) != in) violated("base64 is not canonical", in);
  if (auto h = crypto::hex_decode(in); h && crypto::hex_encode_lower(*h) != lower(in)) violated("hex round trip", in);
}

void url(std::string_view in) {
  auto u = http::parse_url(in);
  if (u.ok() && (u->host.empty() || u->port == 0 || u->target.empty() || u->target[0] != '/')) {
    violated("parse_url accepted a URL without host, port or target", in);
  }
}

void money(std::string_view in) {
  if (auto m = parse_yuan(in); m.ok()) {
    if (m->is_negative() || m->fen() > kMoneyFenMax) violated("parse_yuan out of range", in);
    auto again = parse_yuan(format_yuan(*m));
    if (!again.ok() || *again != *m) violated("yuan round trip", in);
  }
  if (auto r = parse_rate_percent(in); r.ok()) {
    if (r->value < 0 || r->value > 1000) violated("rate out of range", in);
    if (parse_rate_percent(format_rate_percent(*r)).value() != *r) violated("rate round trip", in);
  }
}

const char* const kFormSeeds[] = {"customerId=10001&timestamp=1795318465&orderId=o-1&sign=ABC",
                                  "a=%E4%BD%A0%E5%A5%BD&b=+x+&c=&d", "k=%zz", nullptr};
const char* const kBodySeeds[] = {R"({"customerId":"10001","faceMoney":100.00,"customizeRate":96.5})",
                                  R"({"a":{"b":1}})", "[1,2]", "customerId=1&orderId=2", nullptr};
const char* const kGatewaySeeds[] = {
    R"({"amount":10.50,"appKey":"ak","callbackUrl":"https://m.example.com/n","channelId":1,"mrn":"M1",)"
    R"("returnUrl":"https://m.example.com/r","sign":"x"})",
    R"({"amount":100,"аррКеу":"ak","bankName":"中国银行","accountName":"张三","accountNumber":"6222000011112222",)"
    R"("mrn":"P1","callbackUrl":"http://m.example.com/p","sign":"x"})",
    "amount=10.5&appKey=ak&channelld=3&mrn=M1&callbackUrl=http%3A%2F%2Fa%2F&returnUrl=http%3A%2F%2Fa%2F&sign=x",
    "appKey=ak&mrn=M1&sign=x&callback=true", nullptr};
const char* const kGatewayAmountSeeds[] = {"10", "10.50", "0.01", "100000000", "010", "1e2", nullptr};
const char* const kCashierSeeds[] = {
    // A bound-card payment, URL-encoded; the same raw (its '+' becomes a space); an ordinary payment; a query.
    "req=eyJhY3Rpb24iOiJCYW5rIiwidHhuYW10IjoxMDUwLCJtZXJpZCI6IjEwMDAxIiwib3JkZXJpZCI6Ik0yMDI0MDEwMTAwMDAwMSIsImJhY2t1"
    "cmwiOiJodHRwczovL21lcmNoYW50LmV4YW1wbGUuY29tL25vdGlmeSIsImZyb250dXJsIjoiaHR0cHM6Ly9tZXJjaGFudC5leGFtcGxlLmNvbS9y"
    "ZXR1cm4%2FeD0xIiwiYWNjbmFtZSI6IuW8oOW%2BkCIsImFjY25vIjoiMTEwMTA1MTk0OTEyMzEwMDJYIn0%3D"
    "&sign=c95929139ed5aedfebeb235c7aa92eae",
    "req=eyJhY3Rpb24iOiJCYW5rIiwidHhuYW10IjoxMDUwLCJtZXJpZCI6IjEwMDAxIiwib3JkZXJpZCI6Ik0yMDI0MDEwMTAwMDAwMSIsImJhY2t1"
    "cmwiOiJodHRwczovL21lcmNoYW50LmV4YW1wbGUuY29tL25vdGlmeSIsImZyb250dXJsIjoiaHR0cHM6Ly9tZXJjaGFudC5leGFtcGxlLmNvbS9y"
    "ZXR1cm4/eD0xIiwiYWNjbmFtZSI6IuW8oOW+kCIsImFjY25vIjoiMTEwMTA1MTk0OTEyMzEwMDJYIn0=&sign=x",
    "req=eyJhY3Rpb24iOiJXZWlYaW4iLCJ0eG5hbXQiOiIxMDUwIiwibWVyaWQiOiIxMDAwMSIsIm9yZGVyaWQiOiIyMDI0MDEwMUEwMDAwMDAxIiwi"
    "YmFja3VybCI6Imh0dHBzOi8vbWVyY2hhbnQuZXhhbXBsZS5jb20vbm90aWZ5In0%3D&sign=74706c96b6795d6e5409591c714394f3",
    "req=eyJtZXJpZCI6IjEwMDAxIiwib3JkZXJpZCI6Ik0yMDI0MDEwMTAwMDAwMSJ9&sign=x",
    R"({"action":"arbi","txnamt":1,"merid":10001,"orderid":"ABCDEFGH","backurl":"http://m/n","accname":"张三",)"
    R"("accno":"11010519491231002x"})",
    R"({"merid":"1","queryid":"Q1","orderid":"-"})",
    nullptr};
const char* const kCashierBase64Seeds[] = {
    "eyJhIjoxfQ==", "eyJhIjoxfQ", "eyJh\r\nIjox\nfQ==", "eyJh IjoxfQ==", "eyJh-Ijo_fQ", "QUI=", "QQ", "====", nullptr};
const char* const kCardSeeds[] = {"41496f77", "3d3d", "zz", "5a6d4673", nullptr};
const char* const kB64Seeds[] = {"Zm9vYmFy", "Zm9vYg==", "AB==", "deadBEEF", nullptr};
const char* const kUrlSeeds[] = {"http://example.com/notify?x=1", "https://[::1]:8443/", "http://user@h/",
                                 "ftp://x/", nullptr};
const char* const kMoneySeeds[] = {"96.50", "0.01", "100", "96.5", "1e3", nullptr};

const Target kTargets[] = {
    {"form", form, kFormSeeds},
    {"consign_body", consign_body, kBodySeeds},
    {"gateway_body", gateway_body, kGatewaySeeds},
    {"gateway_amount", gateway_amount, kGatewayAmountSeeds},
    {"cashier_envelope", cashier_envelope, kCashierSeeds},
    {"cashier_base64", cashier_base64, kCashierBase64Seeds},
    {"card_password", card_password, kCardSeeds},
    {"base64_and_hex", base64_and_hex, kB64Seeds},
    {"url", url, kUrlSeeds},
    {"money", money, kMoneySeeds},
    {nullptr, nullptr, nullptr},
};

}  // namespace

const Target* targets() { return kTargets; }

}  // namespace paygate::fuzz

#ifdef PAYGATE_LIBFUZZER
// clang -fsanitize=fuzzer builds: PAYGATE_FUZZ_TARGET picks the target by name.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const paygate::fuzz::Target* target = [] {
    const char* want = std::getenv("PAYGATE_FUZZ_TARGET");
    for (const auto* t = paygate::fuzz::targets(); t->name; ++t) {
      if (want && std::string_view(want) == t->name) return t;
    }
    return paygate::fuzz::targets();
  }();
  target->run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
