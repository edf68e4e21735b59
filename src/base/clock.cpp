#include "base/clock.h"

#include <openssl/rand.h>

#include "base/assert.h"

#include <chrono>
#include <ctime>

namespace paygate {

int64_t SystemClock::now_unix_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t Random::uniform(uint64_t bound) {
  // Rejection sampling: no modulo bias.
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    uint64_t v = next_u64();
    if (v < limit) return v % bound;
  }
}

std::string Random::alnum(size_t length) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(length, '\0');
  for (auto& c : out) c = kChars[uniform(sizeof(kChars) - 1)];
  return out;
}

uint64_t SecureRandom::next_u64() {
  uint64_t v = 0;
  // OpenSSL's user-space DRBG: no system call per id (see crypto::random_bytes).
  int rc = RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  PG_ASSERT(rc == 1, "RAND_bytes failed");
  return v;
}

std::string format_local_datetime(int64_t unix_s, int utc_offset_minutes) {
  std::time_t t = static_cast<std::time_t>(unix_s + int64_t{utc_offset_minutes} * 60);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace paygate
