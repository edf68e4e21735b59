// paygate_primitives: nanoseconds per call of the pieces a consign submission costs its I/O thread (body parse,
// signature, card password, fingerprint, seal, answer). A program, not a test: it prints what it measured.
//
//   build/bench/paygate_primitives [--iterations N]
//
// Each line is the median of 7 rounds of N calls on one thread, so one slow round (another process on a shared
// machine) does not move it. Compare two builds by running both on the same machine, alternately.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/card_password.h"
#include "crypto/crypto.h"
#include "protocols/common/wire.h"
#include "protocols/consign/codec.h"

namespace {

using paygate::crypto::SecretBox;

constexpr int kRounds = 7;

// Keeps results alive so the compiler cannot drop the calls being timed.
size_t g_sink = 0;

double median_ns_per_call(int iterations, const std::function<size_t()>& call) {
  std::vector<double> rounds;
  for (int r = 0; r < kRounds; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) g_sink += call();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    rounds.push_back(std::chrono::duration<double, std::nano>(elapsed).count() / iterations);
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[kRounds / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 20'000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--iterations N]\n", argv[0]);
      return 2;
    }
  }

  const std::string master_key(SecretBox::kMasterKeyBytes, 'k');
  const SecretBox box(master_key);
  const std::string aes_key = "1234567890abcdef";
  const std::string password_hex = paygate::crypto::encode_card_password("CARD-PASSWORD-0000000042", aes_key);
  // A body shaped like the load generator's (bench/loadgen.cpp): 12 fields, an 88-hex card password, one
  // percent-encoded value.
  const std::string body =
      "customerId=1&timestamp=1763861234&orderId=B-00000042&productType=0&batchno=BATCH-1&productCode=JD-E"
      "&cardNumber=JD0000000000000042&cardPassword=" +
      password_hex +
      "&faceMoney=100&notifyUrl=http%3A%2F%2F127.0.0.1%3A9%2Fnotify&custom=bench&sign="
      "0123456789ABCDEF0123456789ABCDEF";
  const std::string signing =
      "customerId=1&timestamp=1763861234&orderId=B-00000042&batchno=BATCH-1&productCode=JD-E"
      "&cardNumber=JD0000000000000042&cardPassword=" +
      password_hex + "&faceMoney=100&notifyUrl=http://127.0.0.1:9/notify&key=0123456789abcdef0123456789abcdef";

  const std::string fingerprinted = std::string("JD-E\x1f") + "JD0000000000000042\x1f" + "CARD-PASSWORD-0000000042";

  struct Case {
    const char* name;
    std::function<size_t()> call;
  };
  const std::vector<Case> cases = {
      {"consign parse_body (form, 12 fields)",
       [&] { return paygate::consign::parse_body("application/x-www-form-urlencoded", body)->size(); }},
      {"md5_hex_upper (submit signature)", [&] { return paygate::crypto::md5_hex_upper(signing).size(); }},
      {"decode_card_password (hex, AES-128-ECB)",
       [&] { return paygate::crypto::decode_card_password(password_hex, aes_key)->size(); }},
      {"SecretBox::fingerprint (HMAC-SHA256)", [&] { return box.fingerprint(fingerprinted).size(); }},
      {"SecretBox::seal (AES-256-GCM, 24 bytes)",
       [&] { return box.seal("CARD-PASSWORD-0000000042", "consign:C1763861234567000042:card_password").size(); }},
      {"consign submit_ok_json",
       [&] { return paygate::consign::submit_ok_json("C1763861234567000042", "submitted").size(); }},
  };
  std::printf("%-44s %10s\n", "primitive", "ns/call");
  for (const auto& c : cases) std::printf("%-44s %10.0f\n", c.name, median_ns_per_call(iterations, c.call));
  return g_sink == 0 ? 1 : 0;
}
