#include "base/clock.h"

#include <openssl/rand.h>

#include "base/assert.h"

#include <array>
#include <chrono>
#include <cstring>
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
  static_assert(sizeof(kChars) - 1 == 62);
  // Six random bits per character, 62 and 63 rejected (uniform over the 62): one 64-bit draw gives about ten
  // characters, where one draw per character cost 15-18 us per 12-character id on the writer thread.
  std::string out;
  out.reserve(length);
  uint64_t bits = 0;
  int bits_left = 0;
  while (out.size() < length) {
    if (bits_left < 6) {
      bits = next_u64();
      bits_left = 64;
    }
    unsigned v = static_cast<unsigned>(bits & 63);
    bits >>= 6;
    bits_left -= 6;
    if (v < 62) out.push_back(kChars[v]);
  }
  return out;
}

uint64_t SecureRandom::next_u64() {
  uint64_t v = 0;
  draw_random_ahead(&v, sizeof v);
  return v;
}

void draw_random_ahead(void* out, size_t n) {
  PG_ASSERT(n <= kDrawAheadBytes, "draw_random_ahead: more than one block");
  struct Block {
    std::array<unsigned char, kDrawAheadBytes> bytes{};
    size_t next = kDrawAheadBytes;
  };
  thread_local Block block;
  if (block.bytes.size() - block.next < n) {  // the few bytes left, never handed out, are overwritten
    int rc = RAND_bytes(block.bytes.data(), static_cast<int>(block.bytes.size()));
    PG_ASSERT(rc == 1, "RAND_bytes failed");
    block.next = 0;
  }
  std::memcpy(out, block.bytes.data() + block.next, n);
  std::memset(block.bytes.data() + block.next, 0, n);  // a key's bits or a nonce do not stay behind to be reused
  block.next += n;
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
