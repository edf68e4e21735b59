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
