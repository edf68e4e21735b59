// Time and randomness are injected so tests and simulations are deterministic.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace paygate {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock Unix time in milliseconds.
  virtual int64_t now_unix_ms() const = 0;
  int64_t now_unix_s() const { return now_unix_ms() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t now_unix_ms() const override;
};

// A clock that only moves when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_unix_ms) : now_ms_(start_unix_ms) {}
  int64_t now_unix_ms() const override { return now_ms_.load(); }
  void advance_ms(int64_t delta_ms) { now_ms_ += delta_ms; }
  void set_unix_ms(int64_t t_ms) { now_ms_ = t_ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t next_u64() = 0;
  // Uniform in [0, bound).
  uint64_t uniform(uint64_t bound);
  // Alphanumeric string [A-Za-z0-9] of the given length.
  std::string alnum(size_t length);
};

// Cryptographically secure (OpenSSL DRBG); for keys and ids in production. Draws through draw_random_ahead.
class SecureRandom final : public Random {
 public:
  uint64_t next_u64() override;
};

// Bytes from OpenSSL's DRBG, drawn ahead per thread (no lock), kDrawAheadBytes per RAND_bytes call, and cleared in
// the buffer as they are handed out: each RAND_bytes call costs about a microsecond of provider machinery, which
// at one call per id or per GCM nonce was 4 % of the I/O thread's samples and 6 % of the SQLite writer's under the
// consign benchmark. paygate never forks; a forked child would repeat its parent's next bytes. The master key
// comes from crypto::random_bytes instead, one call of its own.
inline constexpr size_t kDrawAheadBytes = 256;
void draw_random_ahead(void* out, size_t n);  // n <= kDrawAheadBytes

// Deterministic from a seed; for tests and simulations.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  uint64_t next_u64() override {
    std::lock_guard lock(mu_);
    return engine_();
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

// "2026-11-22 03:06:15" in the given fixed UTC offset (minutes). Asia/Shanghai is +480.
std::string format_local_datetime(int64_t unix_s, int utc_offset_minutes);

}  // namespace paygate
