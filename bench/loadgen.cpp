// paygate_loadgen: an HTTP/1.1 keep-alive load generator for paygate's consign submit and gateway pay-in and
// payout creation and, with the same code path, for any server that answers `GET /` (nginx in bench/run.sh).
//
// - consign mode pre-builds every request before the clock starts: unique orderId, card number and password,
//   the encrypted cardPassword and the MD5 signature, so the timed loop only writes bytes and parses answers.
// - payin and payout modes (gateway, JSON bodies) pre-build the same way: unique mrn, signed with the merchant's key.
// - Each connection has one request in flight at a time (no pipelining).
// - Closed loop (--rate 0): every connection sends its next request as soon as the previous answer arrives.
//   Open loop (--rate R): request i is due at t0 + i/R whatever happened before; its latency is measured from that
//   due time, so a stalled server shows up in the percentiles (no coordinated omission).
// - One event loop (one thread) by default; --threads N splits connections, rate and requests over N loops.
// - Latencies of successful requests go to a log-linear histogram (< 0.1 % relative error, constant memory).
//
// This is a program, not a test: it reports numbers and judges nothing.
#include <sys/resource.h>
#include <unistd.h>

#include <utility>  // before Boost.Asio 1.74: its awaitable.hpp uses std::exchange without including it

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/assert.h"
#include "crypto/card_password.h"
#include "crypto/crypto.h"

namespace pgbench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A limit on everything.
namespace limits {
inline constexpr size_t kConnectionsMax = 10'000;
inline constexpr size_t kThreadsMax = 64;
inline constexpr uint64_t kPrebuiltRequestsMax = 2'000'000;
inline constexpr uint64_t kRequestsMax = 1'000'000'000;  // --requests in get mode (nothing is pre-built there)
inline constexpr double kRateMax_rps = 5'000'000;
inline constexpr double kDurationMax_s = 3'600;
inline constexpr double kWarmupMax_s = 600;
inline constexpr double kDrainMax_s = 60;
inline constexpr size_t kResponseHeaderBytesMax = 64 * 1024;
inline constexpr size_t kResponseBodyBytesMax = 1024 * 1024;
inline constexpr size_t kReadChunkBytes = 16 * 1024;
inline constexpr size_t kErrorSamplesMax = 8;
inline constexpr size_t kErrorSampleBytesMax = 400;
inline constexpr uint64_t kCardsPerBatch = 1'000;  // a consign batch holds at most 2000 cards
inline constexpr size_t kRunIdMax = 24;            // consign orderId <= 50, gateway mrn <= 64 characters
inline constexpr int64_t kReconnectDelay_ms = 100;
inline constexpr double kStallMax_s = 600;
inline constexpr int64_t kConnectPhaseMax_ms = 5'000;
}  // namespace limits

using SteadyClock = std::chrono::steady_clock;
inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}
inline SteadyClock::time_point to_time_point(int64_t t_ns) {
  return SteadyClock::time_point(std::chrono::duration_cast<SteadyClock::duration>(std::chrono::nanoseconds(t_ns)));
}

// ---------------------------------------------------------------------------------------------------------------
// Log-linear latency histogram (HdrHistogram-like): exact below 2048 ns, then 1024 sub-buckets per power of two.

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 10;
  static constexpr uint64_t kSubCount = uint64_t{1} << kSubBits;
  static constexpr size_t kBucketCount = 2 * kSubCount + (63 - kSubBits) * kSubCount;

  LatencyHistogram() : counts_(kBucketCount, 0) {}

  void record(int64_t value_ns) {
    const uint64_t v = value_ns < 0 ? 0 : static_cast<uint64_t>(value_ns);
    const size_t index = index_of(v);
    counts_[index] += 1;
    count_ += 1;
    sum_ns_ += static_cast<double>(v);
    max_ns_ = std::max(max_ns_, v);
  }

  void merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ns_ += other.sum_ns_;
    max_ns_ = std::max(max_ns_, other.max_ns_);
  }

  uint64_t count() const { return count_; }
  uint64_t max_ns() const { return max_ns_; }
  double mean_ns() const { return count_ == 0 ? 0.0 : sum_ns_ / static_cast<double>(count_); }

  // The value at or below which `percent` % of the samples lie (the bucket's middle, capped at the maximum).
  uint64_t percentile_ns(double percent) const {
    if (count_ == 0) return 0;
    const double exact_rank = std::ceil(percent / 100.0 * static_cast<double>(count_));
    const uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(exact_rank), 1, count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < kBucketCount; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(value_of(i), max_ns_);
    }
    return max_ns_;
  }

  static size_t index_of(uint64_t v) {
    if (v < 2 * kSubCount) return static_cast<size_t>(v);
    const int exponent = 63 - __builtin_clzll(v);  // >= kSubBits + 1
    const int shift = exponent - kSubBits;         // >= 1
    const uint64_t top = v >> shift;               // in [kSubCount, 2 * kSubCount)
    const size_t index = 2 * kSubCount + static_cast<size_t>(shift - 1) * kSubCount + (top - kSubCount);
    return index;
  }
  static uint64_t value_of(size_t index) {
    if (index < 2 * kSubCount) return index;
    const size_t k = index - 2 * kSubCount;
    const int shift = static_cast<int>(k / kSubCount) + 1;
    const uint64_t top = kSubCount + k % kSubCount;
    return (top << shift) + ((uint64_t{1} << shift) >> 1);
  }

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ns_ = 0;
  uint64_t max_ns_ = 0;
};

// ---------------------------------------------------------------------------------------------------------------
// Configuration

enum class Mode { kGet, kConsign, kPayIn, kPayout };

// The modes that send pre-built, unique, signed requests (everything but get).
inline bool prebuilt_mode(Mode m) { return m != Mode::kGet; }

struct Config {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  size_t connections = 64;
  size_t threads = 1;
  double duration_s = 0;  // 0: run --requests instead
  uint64_t requests = 0;  // 0: run for --duration-s
  double rate_rps = 0;    // 0: closed loop
  double warmup_s = 1;
  double drain_s = 5;
  double stall_s = 10;  // give up when nothing is answered (and nothing connects) for this long
  bool print_request = false;
  Mode mode = Mode::kGet;
  std::string mode_name = "get";
  std::string path;  // default by mode
  std::string merchant_id;
  std::string key;
  std::string aes_key;
  std::string product = "BENCH100";
  std::string face_money = "100";
  std::string app_key;        // gateway appKey
  std::string amount;         // gateway amount; default by mode: pay-in 10.00 (yuan), payout 1 (whole yuan)
  std::string channel = "1";  // gateway pay-in channelId
  std::string callback_url = "http://127.0.0.1:9/cb";  // gateway: a refused loopback port, no DNS
  std::string run_id;     // prefix of orderId / batchno / card numbers / mrn; random by default
  bool scattered_cards = false;  // consign: card numbers in no order instead of the submissions' order
  uint64_t prebuild = 0;  // pre-built modes, closed loop with a duration: how many requests to pre-build
  std::string label;
  std::string json_out;
};

// ---------------------------------------------------------------------------------------------------------------
// Pre-built requests: contiguous arenas of bytes, one per build thread, with start offsets.

class RequestSet {
 public:
  // Cycles over a single request (get mode): every index maps to it.
  static RequestSet single(std::string request) {
    RequestSet set;
    set.chunks_.push_back(Chunk{std::move(request), {0}});
    set.chunks_[0].offsets.push_back(set.chunks_[0].arena.size());
    set.chunk_size_ = 1;
    set.size_ = 1;
    set.cycle_ = true;
    return set;
  }

  struct Chunk {
    std::string arena;
    std::vector<uint64_t> offsets;  // size = requests + 1
  };
  static RequestSet from_chunks(std::vector<Chunk> chunks, uint64_t chunk_size, uint64_t total) {
    RequestSet set;
    set.chunks_ = std::move(chunks);
    set.chunk_size_ = chunk_size;
    set.size_ = total;
    uint64_t counted = 0;
    for (const Chunk& c : set.chunks_) counted += c.offsets.size() - 1;
    PG_ASSERT(counted == total, "request chunks do not add up");
    return set;
  }

  // Number of distinct requests, or "unlimited" when cycling.
  uint64_t capacity() const { return cycle_ ? std::numeric_limits<uint64_t>::max() : size_; }
  uint64_t bytes() const {
    uint64_t b = 0;
    for (const Chunk& c : chunks_) b += c.arena.size();
    return b;
  }
  std::string_view at(uint64_t index) const {
    if (cycle_) index = 0;
    PG_ASSERT(index < size_, "request index out of range");
    const Chunk& c = chunks_[index / chunk_size_];
    const uint64_t i = index % chunk_size_;
    return std::string_view(c.arena).substr(c.offsets[i], c.offsets[i + 1] - c.offsets[i]);
  }

 private:
  std::vector<Chunk> chunks_;
  uint64_t chunk_size_ = 1;
  uint64_t size_ = 0;
  bool cycle_ = false;
};

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The consign cardPassword field, whichever of std::string or Result<std::string> the library returns.
template <typename T>
std::string card_password_string(T&& encoded) {
  if constexpr (std::is_convertible_v<T, std::string>) {
    return std::string(std::forward<T>(encoded));
  } else {
    if (!encoded.ok()) {
      std::fprintf(stderr, "loadgen: encode_card_password failed: %s\n", encoded.error().message.c_str());
      std::exit(2);
    }
    return std::string(encoded.value());
  }
}

// One consign submission, signed as the document says (see docs/protocols and DECISIONS.md, consign).
void append_consign_request(const Config& cfg, const std::string& host_header, const std::string& timestamp,
                            uint64_t index, std::string& out) {
  const std::string n = std::to_string(index);
  const std::string order_id = cfg.run_id + "-" + n;
  const std::string batchno = cfg.run_id + "-b" + std::to_string(index / limits::kCardsPerBatch);
  // By default in submission order, as a merchant's batch of gift cards usually comes; scattered, each number is a
  // bijective mix of the index (splitmix64's finaliser), so unique and in no order.
  std::string card_number = cfg.run_id + "N" + n;
  if (cfg.scattered_cards) {
    uint64_t z = index + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    card_number = cfg.run_id + "N" + std::to_string(z ^ (z >> 31));
  }
  const std::string card_plain = cfg.run_id + "P" + n + "x" + std::to_string((index * 2654435761u) % 1000003);
  const std::string card_password =
      card_password_string(paygate::crypto::encode_card_password(card_plain, cfg.aes_key));

  std::string to_sign;
  to_sign.reserve(256 + card_password.size());
  to_sign.append("customerId=").append(cfg.merchant_id);
  to_sign.append("&timestamp=").append(timestamp);
  to_sign.append("&orderId=").append(order_id);
  to_sign.append("&batchno=").append(batchno);
  to_sign.append("&productCode=").append(cfg.product);
  to_sign.append("&cardNumber=").append(card_number);
  to_sign.append("&cardPassword=").append(card_password);
  to_sign.append("&faceMoney=").append(cfg.face_money);
  to_sign.append("&notifyUrl=");
  to_sign.append("&key=").append(cfg.key);
  const std::string sign = paygate::crypto::md5_hex_upper(to_sign);

  std::string body;
  body.reserve(320 + card_password.size());
  body.append("customerId=").append(url_encode(cfg.merchant_id));
  body.append("&timestamp=").append(timestamp);
  body.append("&orderId=").append(url_encode(order_id));
  body.append("&productType=0");
  body.append("&batchno=").append(url_encode(batchno));
  body.append("&productCode=").append(url_encode(cfg.product));
  body.append("&cardNumber=").append(url_encode(card_number));
  body.append("&cardPassword=").append(url_encode(card_password));
  body.append("&faceMoney=").append(url_encode(cfg.face_money));
  body.append("&sign=").append(sign);

  out.append("POST ").append(cfg.path).append(" HTTP/1.1\r\n");
  out.append("Host: ").append(host_header).append("\r\n");
  out.append("Content-Type: application/x-www-form-urlencoded\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("Connection: keep-alive\r\n\r\n");
  out.append(body);
}

// A JSON string literal, quotes included. The generator's values are ASCII or UTF-8 without control characters;
// `"` and `\` are escaped all the same.
void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

void append_json_request(const Config& cfg, const std::string& host_header, std::string_view body, std::string& out) {
  out.append("POST ").append(cfg.path).append(" HTTP/1.1\r\n");
  out.append("Host: ").append(host_header).append("\r\n");
  out.append("Content-Type: application/json\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("Connection: keep-alive\r\n\r\n");
  out.append(body);
}

// One gateway WebAPI pay-in (POST /api/Pay/Create), signed as docs/protocols/gateway.md says: MD5 lower hex of
// amount, appKey, callbackUrl, channelId, mrn, returnUrl, then &key=.
void append_pay_in_request(const Config& cfg, const std::string& host_header, uint64_t index, std::string& out) {
  static constexpr std::string_view kReturnUrl = "https://merchant.example.com/return";  // never fetched
  const std::string mrn = cfg.run_id + "-" + std::to_string(index);
  std::string to_sign;
  to_sign.reserve(192);
  to_sign.append("amount=").append(cfg.amount);
  to_sign.append("&appKey=").append(cfg.app_key);
  to_sign.append("&callbackUrl=").append(cfg.callback_url);
  to_sign.append("&channelId=").append(cfg.channel);
  to_sign.append("&mrn=").append(mrn);
  to_sign.append("&returnUrl=").append(kReturnUrl);
  to_sign.append("&key=").append(cfg.key);
  const std::string sign = paygate::crypto::md5_hex_lower(to_sign);

  std::string body;
  body.reserve(256);
  body.append("{\"amount\":");
  append_json_string(body, cfg.amount);
  body.append(",\"appKey\":");
  append_json_string(body, cfg.app_key);
  body.append(",\"callbackUrl\":");
  append_json_string(body, cfg.callback_url);
  body.append(",\"channelId\":");
  append_json_string(body, cfg.channel);
  body.append(",\"mrn\":");
  append_json_string(body, mrn);
  body.append(",\"returnUrl\":");
  append_json_string(body, kReturnUrl);
  body.append(",\"sign\":");
  append_json_string(body, sign);
  body.append("}");
  append_json_request(cfg, host_header, body, out);
}

// One gateway payout (POST /api/Payouts/Create): MD5 lower hex of accountName, accountNumber, amount, appKey,
// bankName, callbackUrl, mrn, then &key=. A unique 16-digit account number per request, never ending in 0000
// (the sandbox bank fails those; it does not answer during a run anyway).
void append_payout_request(const Config& cfg, const std::string& host_header, uint64_t index, std::string& out) {
  static constexpr std::string_view kBankName = "中国工商银行";
  static constexpr std::string_view kAccountName = "张三";
  const std::string mrn = cfg.run_id + "-" + std::to_string(index);
  char account_number[24];
  std::snprintf(account_number, sizeof account_number, "6222%08llu1234",
                static_cast<unsigned long long>(index % 100'000'000));
  std::string to_sign;
  to_sign.reserve(192);
  to_sign.append("accountName=").append(kAccountName);
  to_sign.append("&accountNumber=").append(account_number);
  to_sign.append("&amount=").append(cfg.amount);
  to_sign.append("&appKey=").append(cfg.app_key);
  to_sign.append("&bankName=").append(kBankName);
  to_sign.append("&callbackUrl=").append(cfg.callback_url);
  to_sign.append("&mrn=").append(mrn);
  to_sign.append("&key=").append(cfg.key);
  const std::string sign = paygate::crypto::md5_hex_lower(to_sign);

  std::string body;
  body.reserve(256);
  body.append("{\"amount\":");
  append_json_string(body, cfg.amount);
  body.append(",\"appKey\":");
  append_json_string(body, cfg.app_key);
  body.append(",\"bankName\":");
  append_json_string(body, kBankName);
  body.append(",\"accountName\":");
  append_json_string(body, kAccountName);
  body.append(",\"accountNumber\":");
  append_json_string(body, account_number);
  body.append(",\"mrn\":");
  append_json_string(body, mrn);
  body.append(",\"callbackUrl\":");
  append_json_string(body, cfg.callback_url);
  body.append(",\"sign\":");
  append_json_string(body, sign);
  body.append("}");
  append_json_request(cfg, host_header, body, out);
}

// Every request of a pre-built mode, built on every core before the clock starts.
RequestSet build_requests(const Config& cfg, uint64_t count) {
  const std::string host_header = cfg.host + ":" + std::to_string(cfg.port);
  const std::string timestamp =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count());
  // The clock has not started: use every core to build.
  const uint64_t builders = std::clamp<uint64_t>(std::thread::hardware_concurrency(), 1, 16);
  const uint64_t chunk_size = std::max<uint64_t>(1, (count + builders - 1) / builders);
  const uint64_t chunk_count = count == 0 ? 0 : (count + chunk_size - 1) / chunk_size;
  std::vector<RequestSet::Chunk> chunks(chunk_count);
  std::vector<std::thread> threads;
  for (uint64_t c = 0; c < chunk_count; ++c) {
    threads.emplace_back([&, c] {
      const uint64_t begin = c * chunk_size;
      const uint64_t end = std::min(count, begin + chunk_size);
      RequestSet::Chunk& chunk = chunks[c];
      chunk.arena.reserve((end - begin) * (cfg.mode == Mode::kConsign ? 640 : 520));
      chunk.offsets.reserve(end - begin + 1);
      for (uint64_t i = begin; i < end; ++i) {
        chunk.offsets.push_back(chunk.arena.size());
        switch (cfg.mode) {
          case Mode::kConsign: append_consign_request(cfg, host_header, timestamp, i, chunk.arena); break;
          case Mode::kPayIn: append_pay_in_request(cfg, host_header, i, chunk.arena); break;
          case Mode::kPayout: append_payout_request(cfg, host_header, i, chunk.arena); break;
          case Mode::kGet: PG_ASSERT(false, "get mode pre-builds nothing"); break;
        }
      }
      chunk.offsets.push_back(chunk.arena.size());
    });
  }
  for (std::thread& t : threads) t.join();
  return RequestSet::from_chunks(std::move(chunks), chunk_size, count);
}

// ---------------------------------------------------------------------------------------------------------------
// Incremental HTTP/1.1 response parser over a connection's receive buffer (Content-Length or chunked).

class ResponseParser {
 public:
  enum class Progress { kNeedMore, kDone, kError };

  void reset() {
    state_ = State::kHeaders;
    scanned_ = 0;
    status_ = 0;
    content_length_ = -1;
    chunked_ = false;
    close_ = false;
    body_.clear();
    pos_ = 0;
    chunk_remaining_ = 0;
    error_.clear();
  }

  // Parses what `rx` holds; on kDone, `consumed()` bytes of rx belong to this response.
  Progress parse(std::string_view rx) {
    for (;;) {
      switch (state_) {
        case State::kHeaders: {
          const size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
          const size_t end = rx.find("\r\n\r\n", from);
          if (end == std::string_view::npos) {
            scanned_ = rx.size();
            if (rx.size() > limits::kResponseHeaderBytesMax) return fail("response headers too large");
            return Progress::kNeedMore;
          }
          if (!parse_head(rx.substr(0, end + 2))) return Progress::kError;
          pos_ = end + 4;
          if (chunked_) {
            state_ = State::kChunkSize;
          } else if (content_length_ >= 0) {
            if (static_cast<size_t>(content_length_) > limits::kResponseBodyBytesMax) return fail("body too large");
            state_ = State::kBody;
          } else if (status_ == 204 || status_ == 304 || (status_ >= 100 && status_ < 200)) {
            content_length_ = 0;
            state_ = State::kBody;
          } else {
            return fail("response without Content-Length or chunked encoding");
          }
          break;
        }
        case State::kBody: {
          const size_t need = static_cast<size_t>(content_length_);
          if (rx.size() - pos_ < need) return Progress::kNeedMore;
          body_.assign(rx.substr(pos_, need));
          pos_ += need;
          state_ = State::kDone;
          return Progress::kDone;
        }
        case State::kChunkSize: {
          const size_t eol = rx.find("\r\n", pos_);
          if (eol == std::string_view::npos) {
            if (rx.size() - pos_ > 1024) return fail("chunk size line too long");
            return Progress::kNeedMore;
          }
          uint64_t size = 0;
          size_t digits = 0;
          for (size_t i = pos_; i < eol; ++i) {
            const char c = rx[i];
            int d;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
            else if (c == ';' || c == ' ' || c == '\t') break;  // chunk extension
            else return fail("bad chunk size");
            if (++digits > 8) return fail("chunk too large");
            size = size * 16 + static_cast<uint64_t>(d);
          }
          if (digits == 0) return fail("empty chunk size");
          pos_ = eol + 2;
          if (size == 0) {
            state_ = State::kTrailers;
          } else {
            if (body_.size() + size > limits::kResponseBodyBytesMax) return fail("body too large");
            chunk_remaining_ = size;
            state_ = State::kChunkData;
          }
          break;
        }
        case State::kChunkData: {
          if (rx.size() - pos_ < chunk_remaining_ + 2) return Progress::kNeedMore;
          body_.append(rx.substr(pos_, chunk_remaining_));
          if (rx.substr(pos_ + chunk_remaining_, 2) != "\r\n") return fail("chunk not followed by CRLF");
          pos_ += chunk_remaining_ + 2;
          chunk_remaining_ = 0;
          state_ = State::kChunkSize;
          break;
        }
        case State::kTrailers: {
          // Trailer lines end with an empty line.
          const size_t eol = rx.find("\r\n", pos_);
          if (eol == std::string_view::npos) {
            if (rx.size() - pos_ > limits::kResponseHeaderBytesMax) return fail("trailers too large");
            return Progress::kNeedMore;
          }
          const bool empty = eol == pos_;
          pos_ = eol + 2;
          if (empty) {
            state_ = State::kDone;
            return Progress::kDone;
          }
          break;
        }
        case State::kDone:
          return Progress::kDone;
      }
    }
  }

  size_t consumed() const { return pos_; }
  int status() const { return status_; }
  bool close() const { return close_; }
  const std::string& body() const { return body_; }
  const std::string& error() const { return error_; }

 private:
  enum class State { kHeaders, kBody, kChunkSize, kChunkData, kTrailers, kDone };

  Progress fail(std::string message) {
    error_ = std::move(message);
    return Progress::kError;
  }

  static bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
        return false;
    }
    return true;
  }
  static bool icontains(std::string_view haystack, std::string_view needle) {
    if (needle.size() > haystack.size()) return false;
    for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
      if (iequals(haystack.substr(i, needle.size()), needle)) return true;
    }
    return false;
  }
  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }

  // head: status line and header lines, each ending in CRLF.
  bool parse_head(std::string_view head) {
    size_t eol = head.find("\r\n");
    const std::string_view status_line = head.substr(0, eol);
    // "HTTP/1.1 200 OK"
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/" || status_line[8] != ' ') {
      fail("bad status line");
      return false;
    }
    int status = 0;
    for (size_t i = 9; i < 12; ++i) {
      const char c = status_line[i];
      if (c < '0' || c > '9') {
        fail("bad status code");
        return false;
      }
      status = status * 10 + (c - '0');
    }
    status_ = status;
    const bool http10 = status_line.substr(0, 8) == "HTTP/1.0";
    bool keep_alive_header = false;
    size_t line_start = eol + 2;
    while (line_start < head.size()) {
      eol = head.find("\r\n", line_start);
      const std::string_view line = head.substr(line_start, eol - line_start);
      line_start = eol + 2;
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view name = trim(line.substr(0, colon));
      const std::string_view value = trim(line.substr(colon + 1));
      if (iequals(name, "content-length")) {
        int64_t length = 0;
        if (value.empty() || value.size() > 12) {
          fail("bad Content-Length");
          return false;
        }
        for (char c : value) {
          if (c < '0' || c > '9') {
            fail("bad Content-Length");
            return false;
          }
          length = length * 10 + (c - '0');
        }
        content_length_ = length;
      } else if (iequals(name, "transfer-encoding")) {
        if (icontains(value, "chunked")) chunked_ = true;
      } else if (iequals(name, "connection")) {
        if (icontains(value, "close")) close_ = true;
        if (icontains(value, "keep-alive")) keep_alive_header = true;
      }
    }
    if (http10 && !keep_alive_header) close_ = true;
    return true;
  }

  State state_ = State::kHeaders;
  size_t scanned_ = 0;
  int status_ = 0;
  int64_t content_length_ = -1;
  bool chunked_ = false;
  bool close_ = false;
  std::string body_;
  size_t pos_ = 0;
  uint64_t chunk_remaining_ = 0;
  std::string error_;
};

// consign success: the JSON body has "code":1 (an integer 1, or the string "1").
bool consign_body_ok(std::string_view body) {
  size_t at = 0;
  while ((at = body.find("\"code\"", at)) != std::string_view::npos) {
    size_t i = at + 6;
    auto skip_ws = [&] {
      while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) ++i;
    };
    skip_ws();
    if (i < body.size() && body[i] == ':') {
      ++i;
      skip_ws();
      const bool quoted = i < body.size() && body[i] == '"';
      if (quoted) ++i;
      if (i < body.size() && body[i] == '1') {
        ++i;
        if (i >= body.size()) return !quoted;
        const char next = body[i];
        if (quoted) return next == '"';
        if (next < '0' || next > '9') return next != '.';
      }
    }
    at += 6;
  }
  return false;
}

// Gateway success answers (docs/protocols/gateway.md): a pay-in's JSON starts with {"success":true, a payout's is
// exactly the document's success object.
bool pay_in_body_ok(std::string_view body) { return body.starts_with(R"({"success":true)"); }
bool payout_body_ok(std::string_view body) { return body == R"({"error":"success","errorMessage":""})"; }

// Whether a 2xx answer's body is a success for the mode.
bool body_ok(Mode mode, std::string_view body) {
  switch (mode) {
    case Mode::kConsign: return consign_body_ok(body);
    case Mode::kPayIn: return pay_in_body_ok(body);
    case Mode::kPayout: return payout_body_ok(body);
    case Mode::kGet: return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics of one worker (merged at the end).

struct Stats {
  LatencyHistogram latency;          // successful measured requests: from due time (open loop) or send time
  LatencyHistogram service_latency;  // successful measured requests: from the actual send
  uint64_t measured = 0;             // requests whose start fell in the measurement window and that finished
  uint64_t successes = 0;
  uint64_t errors = 0;
  uint64_t warmup_requests = 0;
  uint64_t errors_transport = 0;
  uint64_t errors_status = 0;
  uint64_t errors_body = 0;         // 2xx, but the body is not the mode's success answer
  uint64_t errors_parse = 0;
  uint64_t errors_unfinished = 0;  // still in flight or not yet sent when the drain time ran out
  uint64_t connect_failures = 0;
  uint64_t reconnects = 0;
  uint64_t server_closes = 0;
  uint64_t backlog_max = 0;  // open loop: due requests waiting for a free connection
  std::map<int, uint64_t> status_counts;
  std::vector<std::string> error_samples;
  int64_t last_completion_ns = 0;
  bool exhausted = false;  // ran out of pre-built requests before the deadline
  bool stalled = false;    // gave up: no answer and no connection for --stall-s

  void sample_error(std::string text) {
    if (error_samples.size() >= limits::kErrorSamplesMax) return;
    if (text.size() > limits::kErrorSampleBytesMax) text.resize(limits::kErrorSampleBytesMax);
    error_samples.push_back(std::move(text));
  }
  void merge(const Stats& o) {
    latency.merge(o.latency);
    service_latency.merge(o.service_latency);
    measured += o.measured;
    successes += o.successes;
    errors += o.errors;
    warmup_requests += o.warmup_requests;
    errors_transport += o.errors_transport;
    errors_status += o.errors_status;
    errors_body += o.errors_body;
    errors_parse += o.errors_parse;
    errors_unfinished += o.errors_unfinished;
    connect_failures += o.connect_failures;
    reconnects += o.reconnects;
    server_closes += o.server_closes;
    backlog_max = std::max(backlog_max, o.backlog_max);
    for (const auto& [status, n] : o.status_counts) status_counts[status] += n;
    for (const std::string& s : o.error_samples) sample_error(s);
    last_completion_ns = std::max(last_completion_ns, o.last_completion_ns);
    exhausted = exhausted || o.exhausted;
    stalled = stalled || o.stalled;
  }
};

// ---------------------------------------------------------------------------------------------------------------
// A worker: one event loop, its share of the connections, requests and rate.

struct Timing {
  int64_t t0_ns = 0;          // clock start (warm-up begins)
  int64_t warm_end_ns = 0;    // measurement window start
  int64_t deadline_ns = 0;    // measurement window end (duration mode); max() in requests mode
};

class Worker {
 public:
  Worker(const Config& cfg, const RequestSet& requests, tcp::endpoint endpoint, size_t connections,
         uint64_t index_begin, uint64_t index_end, double rate_rps)
      : cfg_(cfg),
        requests_(requests),
        endpoint_(endpoint),
        index_begin_(index_begin),
        index_end_(index_end),
        next_index_(index_begin),
        released_end_(index_begin),
        rate_rps_(rate_rps),
        io_(1),
        release_timer_(io_),
        deadline_timer_(io_),
        drain_timer_(io_),
        stall_timer_(io_) {
    for (size_t i = 0; i < connections; ++i) conns_.push_back(std::make_unique<Conn>(io_));
  }

  // Blocking connect of every connection, before the clock starts. Returns how many connected.
  size_t connect_all() {
    size_t ok = 0;
    for (auto& c : conns_) {
      boost::system::error_code ec;
      c->socket.connect(endpoint_, ec);
      if (!ec) {
        c->socket.set_option(tcp::no_delay(true), ec);
        c->connected = true;
        ++ok;
      } else {
        stats_.connect_failures += 1;
      }
    }
    return ok;
  }

  void run(const Timing& timing) {
    timing_ = timing;
    if (rate_rps_ > 0) {
      period_ns_ = 1e9 / rate_rps_;
      // Open loop: nothing is due after the deadline.
      if (timing_.deadline_ns != std::numeric_limits<int64_t>::max()) {
        const double due_before_deadline =
            std::ceil(static_cast<double>(timing_.deadline_ns - timing_.t0_ns) / period_ns_);
        const uint64_t last = index_begin_ + static_cast<uint64_t>(std::max(0.0, due_before_deadline));
        if (last < index_end_) {
          index_end_ = last;
        } else if (last > index_end_) {
          stats_.exhausted = true;
        }
      }
    }
    asio::post(io_, [this] { start(); });
    io_.run();
  }

  const Stats& stats() const { return stats_; }

 private:
  struct Conn {
    explicit Conn(asio::io_context& io) : socket(io), reconnect_timer(io) { rx.reserve(limits::kReadChunkBytes); }
    tcp::socket socket;
    asio::steady_timer reconnect_timer;
    std::array<char, limits::kReadChunkBytes> read_buf{};
    std::string rx;
    ResponseParser parser;
    bool connected = false;
    bool busy = false;
    bool idle_listed = false;
    uint64_t index = 0;
    int64_t due_ns = 0;   // open loop: the scheduled time; closed loop: the send time
    int64_t sent_ns = 0;
    bool measured = false;
  };

  void start() {
    last_progress_ns_ = now_ns();
    arm_stall_check();
    if (timing_.deadline_ns != std::numeric_limits<int64_t>::max()) {
      deadline_timer_.expires_at(to_time_point(timing_.deadline_ns));
      deadline_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) on_deadline();
      });
    } else {
      // --requests: give up after the longest run allowed, counting what is left as unfinished.
      const int64_t give_up_ns = timing_.warm_end_ns + static_cast<int64_t>(limits::kDurationMax_s * 1e9);
      drain_timer_.expires_at(to_time_point(give_up_ns));
      drain_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) finish(true);
      });
    }
    for (auto& c : conns_) {
      if (c->connected) {
        become_idle(*c);
      } else {
        schedule_reconnect(*c);
      }
    }
    if (rate_rps_ > 0) {
      release_due();
    } else {
      dispatch();
    }
  }

  bool sending_allowed() const { return !stopping_; }

  // A dead or hung server must not keep the generator (and the script around it) waiting: give up when requests
  // are outstanding, or no connection is up, and nothing has been answered or connected for --stall-s.
  void arm_stall_check() {
    stall_timer_.expires_after(std::chrono::milliseconds(250));
    stall_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || finished_) return;
      size_t connected = 0;
      for (const auto& c : conns_) connected += c->connected ? 1 : 0;
      const bool waiting = in_flight_ > 0 || connected == 0;
      const int64_t quiet_ns = now_ns() - last_progress_ns_;
      if (waiting && static_cast<double>(quiet_ns) > cfg_.stall_s * 1e9) {
        stats_.stalled = true;
        stats_.sample_error("gave up: no answer and no new connection for " + std::to_string(cfg_.stall_s) +
                            " s (" + std::to_string(connected) + " connections up, " + std::to_string(in_flight_) +
                            " requests in flight)");
        finish(true);
        return;
      }
      arm_stall_check();
    });
  }

  // Open loop: every request whose due time has passed becomes sendable.
  void release_due() {
    if (stopping_) return;
    const int64_t now = now_ns();
    const double elapsed = static_cast<double>(now - timing_.t0_ns);
    const uint64_t due_count = static_cast<uint64_t>(std::floor(elapsed / period_ns_)) + 1;
    released_end_ = std::min(index_end_, std::max(released_end_, index_begin_ + due_count));
    stats_.backlog_max = std::max(stats_.backlog_max, released_end_ - next_index_);
    dispatch();
    if (released_end_ < index_end_) {
      release_timer_.expires_at(to_time_point(due_time(released_end_)));
      release_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) release_due();
      });
    } else {
      maybe_finish();
    }
  }

  int64_t due_time(uint64_t index) const {
    return timing_.t0_ns + static_cast<int64_t>(static_cast<double>(index - index_begin_) * period_ns_);
  }

  uint64_t sendable_end() const { return rate_rps_ > 0 ? released_end_ : index_end_; }

  void become_idle(Conn& c) {
    if (!c.idle_listed) {
      c.idle_listed = true;
      idle_.push_back(&c);
    }
  }

  void dispatch() {
    while (!idle_.empty() && sending_allowed() && next_index_ < sendable_end()) {
      Conn* c = idle_.back();
      idle_.pop_back();
      c->idle_listed = false;
      if (!c->connected) continue;
      send(*c, next_index_++);
    }
    if (rate_rps_ <= 0 && next_index_ >= index_end_ && timing_.deadline_ns != std::numeric_limits<int64_t>::max() &&
        !stopping_) {
      // Closed loop ran out of pre-built requests before the deadline.
      if (!stats_.exhausted && requests_.capacity() != std::numeric_limits<uint64_t>::max()) stats_.exhausted = true;
    }
    maybe_finish();
  }

  void send(Conn& c, uint64_t index) {
    const int64_t now = now_ns();
    c.busy = true;
    c.index = index;
    c.sent_ns = now;
    c.due_ns = rate_rps_ > 0 ? due_time(index) : now;
    c.measured = c.due_ns >= timing_.warm_end_ns && c.due_ns < timing_.deadline_ns;
    c.parser.reset();
    in_flight_ += 1;
    const std::string_view bytes = requests_.at(index);
    asio::async_write(c.socket, asio::buffer(bytes.data(), bytes.size()),
                      [this, &c](const boost::system::error_code& ec, size_t) {
                        if (ec) {
                          on_transport_error(c, ec.message());
                          return;
                        }
                        if (c.rx.empty()) {
                          read_more(c);
                        } else {
                          on_readable(c);
                        }
                      });
  }

  void read_more(Conn& c) {
    c.socket.async_read_some(asio::buffer(c.read_buf), [this, &c](const boost::system::error_code& ec, size_t n) {
      if (ec) {
        on_transport_error(c, ec == asio::error::eof ? "server closed the connection mid-response" : ec.message());
        return;
      }
      c.rx.append(c.read_buf.data(), n);
      on_readable(c);
    });
  }

  void on_readable(Conn& c) {
    const ResponseParser::Progress p = c.parser.parse(c.rx);
    if (p == ResponseParser::Progress::kNeedMore) {
      read_more(c);
      return;
    }
    if (p == ResponseParser::Progress::kError) {
      if (c.measured) {
        stats_.errors_parse += 1;
        stats_.sample_error("parse error: " + c.parser.error());
      }
      finish_request(c, false);
      reconnect(c);
      return;
    }
    // A complete response.
    const int status = c.parser.status();
    bool ok = status >= 200 && status < 300;
    if (c.measured) {
      stats_.status_counts[status] += 1;
      if (!ok) {
        stats_.errors_status += 1;
        stats_.sample_error("HTTP " + std::to_string(status) + ": " + c.parser.body());
      } else if (prebuilt_mode(cfg_.mode)) {
        ok = status == 200 && body_ok(cfg_.mode, c.parser.body());
        if (!ok) {
          stats_.errors_body += 1;
          stats_.sample_error("HTTP " + std::to_string(status) + ": " + c.parser.body());
        }
      }
    }
    const bool server_close = c.parser.close();
    c.rx.erase(0, c.parser.consumed());
    finish_request(c, ok);
    if (server_close) {
      stats_.server_closes += 1;
      reconnect(c);
      return;
    }
    become_idle(c);
    dispatch();
  }

  void finish_request(Conn& c, bool ok) {
    const int64_t now = now_ns();
    last_progress_ns_ = now;
    c.busy = false;
    in_flight_ -= 1;
    if (!c.measured) {
      stats_.warmup_requests += 1;
      return;
    }
    stats_.measured += 1;
    stats_.last_completion_ns = std::max(stats_.last_completion_ns, now);
    if (ok) {
      stats_.successes += 1;
      stats_.latency.record(now - c.due_ns);
      stats_.service_latency.record(now - c.sent_ns);
    } else {
      stats_.errors += 1;
    }
  }

  void on_transport_error(Conn& c, const std::string& what) {
    if (finished_) return;
    if (c.busy) {
      if (c.measured) {
        stats_.errors_transport += 1;
        stats_.sample_error("transport: " + what);
      }
      finish_request(c, false);
    }
    reconnect(c);
  }

  void reconnect(Conn& c) {
    boost::system::error_code ignored;
    c.socket.close(ignored);
    c.connected = false;
    c.rx.clear();
    if (stopping_) {
      maybe_finish();
      return;
    }
    stats_.reconnects += 1;
    c.socket.async_connect(endpoint_, [this, &c](const boost::system::error_code& ec) {
      if (finished_) return;
      if (ec) {
        stats_.connect_failures += 1;
        boost::system::error_code ignored2;
        c.socket.close(ignored2);
        schedule_reconnect(c);
        return;
      }
      boost::system::error_code ignored2;
      c.socket.set_option(tcp::no_delay(true), ignored2);
      c.connected = true;
      last_progress_ns_ = now_ns();
      become_idle(c);
      dispatch();
    });
  }

  void schedule_reconnect(Conn& c) {
    if (stopping_ || finished_) {
      maybe_finish();
      return;
    }
    c.reconnect_timer.expires_after(std::chrono::milliseconds(limits::kReconnectDelay_ms));
    c.reconnect_timer.async_wait([this, &c](const boost::system::error_code& ec) {
      if (ec || finished_) return;
      reconnect(c);
    });
  }

  void on_deadline() {
    // The measurement window is over. Closed loop: send nothing more. Open loop: whatever was due before the
    // deadline is still sent (it is part of the measurement), nothing after.
    if (rate_rps_ <= 0) stopping_ = true;
    const int64_t drain_ns = static_cast<int64_t>(cfg_.drain_s * 1e9);
    drain_timer_.expires_at(to_time_point(timing_.deadline_ns + drain_ns));
    drain_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) finish(true);
    });
    maybe_finish();
  }

  void maybe_finish() {
    if (finished_) return;
    const bool nothing_left_to_send = stopping_ || next_index_ >= index_end_;
    if (nothing_left_to_send && in_flight_ == 0) finish(false);
  }

  void finish(bool drain_expired) {
    if (finished_) return;
    finished_ = true;
    stopping_ = true;
    if (drain_expired) {
      // Everything still owed to the measurement is an error: it did not finish in time.
      for (auto& c : conns_) {
        if (c->busy && c->measured) {
          stats_.errors_unfinished += 1;
          stats_.errors += 1;
          stats_.measured += 1;
        }
      }
      if (rate_rps_ > 0 && next_index_ < sendable_end()) {
        const uint64_t unsent = sendable_end() - next_index_;
        stats_.errors_unfinished += unsent;
        stats_.errors += unsent;
        stats_.measured += unsent;
      }
      if (stats_.errors_unfinished > 0) {
        stats_.sample_error(std::to_string(stats_.errors_unfinished) + " requests unfinished when the drain time ran out");
      }
    }
    boost::system::error_code ignored;
    release_timer_.cancel();
    deadline_timer_.cancel();
    drain_timer_.cancel();
    stall_timer_.cancel();
    for (auto& c : conns_) {
      c->reconnect_timer.cancel();
      c->socket.close(ignored);
    }
    io_.stop();
  }

  const Config& cfg_;
  const RequestSet& requests_;
  tcp::endpoint endpoint_;
  uint64_t index_begin_;
  uint64_t index_end_;
  uint64_t next_index_;
  uint64_t released_end_;
  double rate_rps_;
  double period_ns_ = 0;
  Timing timing_;
  asio::io_context io_;
  asio::steady_timer release_timer_;
  asio::steady_timer deadline_timer_;
  asio::steady_timer drain_timer_;
  asio::steady_timer stall_timer_;
  int64_t last_progress_ns_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> idle_;
  uint64_t in_flight_ = 0;
  bool stopping_ = false;
  bool finished_ = false;
  Stats stats_;
};

// ---------------------------------------------------------------------------------------------------------------

void raise_fd_limit(size_t needed) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t want = static_cast<rlim_t>(needed + 64);
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = std::min(rl.rlim_max, std::max(want, rl.rlim_cur));
  setrlimit(RLIMIT_NOFILE, &rl);
}

std::string default_run_id() {
  // Unique enough across runs against the same data directory: time and pid, base 36.
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  uint64_t v = static_cast<uint64_t>(
                   std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count()) * 1000003u ^
               static_cast<uint64_t>(::getpid()) * 0x9E3779B97F4A7C15ull;
  std::string id = "bn";
  for (int i = 0; i < 9; ++i) {
    id.push_back(kDigits[v % 36]);
    v /= 36;
  }
  return id;
}

double ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

int run_main(int argc, char** argv) {
  Config cfg;
  CLI::App app{"paygate_loadgen: keep-alive HTTP load generator (consign submit, gateway pay-in or payout, GET /)"};
  app.add_option("--host", cfg.host, "server address (IPv4 or IPv6 literal)");
  app.add_option("--port", cfg.port, "server port")->required();
  app.add_option("--connections", cfg.connections, "keep-alive connections")
      ->check(CLI::Range(size_t{1}, limits::kConnectionsMax));
  app.add_option("--threads", cfg.threads, "event-loop threads (connections and rate are split over them)")
      ->check(CLI::Range(size_t{1}, limits::kThreadsMax));
  auto* duration_opt = app.add_option("--duration-s", cfg.duration_s, "measurement time after warm-up")
                           ->check(CLI::Range(0.0, limits::kDurationMax_s));
  auto* requests_opt = app.add_option("--requests", cfg.requests, "number of requests (instead of --duration-s)");
  duration_opt->excludes(requests_opt);
  app.add_option("--rate", cfg.rate_rps, "open-loop rate, requests/s in total; 0 = closed loop at full speed")
      ->check(CLI::Range(0.0, limits::kRateMax_rps));
  app.add_option("--warmup-s", cfg.warmup_s, "warm-up time, not measured")->check(CLI::Range(0.0, limits::kWarmupMax_s));
  app.add_option("--drain-s", cfg.drain_s, "time allowed after the window for measured requests to finish")
      ->check(CLI::Range(0.0, limits::kDrainMax_s));
  app.add_option("--stall-s", cfg.stall_s, "give up when nothing is answered for this long (exit status 3)")
      ->check(CLI::Range(0.1, limits::kStallMax_s));
  app.add_flag("--print-request", cfg.print_request, "print the first request to stderr (to debug a server)");
  app.add_option("--mode", cfg.mode_name, "consign | payin | payout | get")
      ->check(CLI::IsMember({"consign", "payin", "payout", "get"}));
  app.add_option("--path", cfg.path,
                 "request target (default /api/consignmentOrders, /api/Pay/Create, /api/Payouts/Create or /)");
  app.add_option("--merchant-id", cfg.merchant_id, "consign customerId");
  app.add_option("--key", cfg.key, "the merchant's signing secret (consign, payin, payout)");
  app.add_option("--aes-key", cfg.aes_key, "consign 16-character AES key");
  app.add_option("--product", cfg.product, "consign productCode");
  app.add_option("--face-money", cfg.face_money, "consign faceMoney");
  app.add_option("--app-key", cfg.app_key, "gateway appKey (payin, payout)");
  app.add_option("--amount", cfg.amount, "gateway amount: payin yuan (default 10.00), payout whole yuan (default 1)");
  app.add_option("--channel", cfg.channel, "payin channelId (default 1)");
  app.add_option("--callback-url", cfg.callback_url, "gateway callbackUrl (default http://127.0.0.1:9/cb)");
  app.add_option("--run-id", cfg.run_id, "prefix of orderId, batchno, card numbers and mrn (default: random)");
  app.add_flag("--scattered-card-numbers", cfg.scattered_cards,
               "consign: card numbers in no order (default: in submission order, as a batch of gift cards comes)");
  app.add_option("--prebuild", cfg.prebuild,
                 "consign, payin, payout, closed loop with --duration-s: requests to pre-build (default 400000; the "
                 "run stops early if they run out)");
  app.add_option("--label", cfg.label, "free text copied into the JSON result");
  app.add_option("--json-out", cfg.json_out, "write the result as a JSON object to this file");
  CLI11_PARSE(app, argc, argv);

  const std::map<std::string, Mode> modes{
      {"consign", Mode::kConsign}, {"payin", Mode::kPayIn}, {"payout", Mode::kPayout}, {"get", Mode::kGet}};
  cfg.mode = modes.at(cfg.mode_name);
  if (cfg.path.empty()) {
    switch (cfg.mode) {
      case Mode::kConsign: cfg.path = "/api/consignmentOrders"; break;
      case Mode::kPayIn: cfg.path = "/api/Pay/Create"; break;
      case Mode::kPayout: cfg.path = "/api/Payouts/Create"; break;
      case Mode::kGet: cfg.path = "/"; break;
    }
  }
  if (cfg.amount.empty()) cfg.amount = cfg.mode == Mode::kPayout ? "1" : "10.00";
  if (cfg.duration_s <= 0 && cfg.requests == 0) cfg.duration_s = 10;
  if (cfg.threads > cfg.connections) cfg.threads = cfg.connections;
  if (cfg.run_id.empty()) cfg.run_id = default_run_id();
  if (cfg.mode == Mode::kConsign) {
    if (cfg.merchant_id.empty() || cfg.key.empty() || cfg.aes_key.size() != 16) {
      std::fprintf(stderr, "loadgen: consign mode needs --merchant-id, --key and a 16-character --aes-key\n");
      return 2;
    }
  }
  if (cfg.mode == Mode::kPayIn || cfg.mode == Mode::kPayout) {
    if (cfg.app_key.empty() || cfg.key.empty()) {
      std::fprintf(stderr, "loadgen: %s mode needs --app-key and --key\n", cfg.mode_name.c_str());
      return 2;
    }
  }
  if (prebuilt_mode(cfg.mode) && cfg.run_id.size() > limits::kRunIdMax) {
    std::fprintf(stderr, "loadgen: --run-id is at most %zu characters (orderId is at most 50, mrn 64)\n",
                 limits::kRunIdMax);
    return 2;
  }

  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(cfg.host, ec);
  if (ec) {
    std::fprintf(stderr, "loadgen: --host must be an IP address: %s\n", ec.message().c_str());
    return 2;
  }
  const tcp::endpoint endpoint(address, cfg.port);
  raise_fd_limit(cfg.connections);

  // How many requests each run needs, and the pre-built set.
  const bool duration_mode = cfg.requests == 0;
  uint64_t total_requests = 0;  // upper bound on requests sent (max() = unlimited, get mode with a duration)
  if (!duration_mode) {
    total_requests = cfg.requests;
  } else if (cfg.rate_rps > 0) {
    total_requests =
        static_cast<uint64_t>(std::ceil(cfg.rate_rps * (cfg.warmup_s + cfg.duration_s))) + cfg.threads;
  } else {
    total_requests = prebuilt_mode(cfg.mode) ? (cfg.prebuild > 0 ? cfg.prebuild : 400'000)
                                             : std::numeric_limits<uint64_t>::max();
  }
  if (prebuilt_mode(cfg.mode) && total_requests > limits::kPrebuiltRequestsMax) {
    std::fprintf(stderr, "loadgen: %llu requests to pre-build is over the limit of %llu; lower --rate, "
                 "--duration-s or --requests\n",
                 static_cast<unsigned long long>(total_requests),
                 static_cast<unsigned long long>(limits::kPrebuiltRequestsMax));
    return 2;
  }
  if (cfg.mode == Mode::kGet && total_requests != std::numeric_limits<uint64_t>::max() &&
      total_requests > limits::kRequestsMax) {
    std::fprintf(stderr, "loadgen: --requests is over the limit\n");
    return 2;
  }

  const int64_t build_start_ns = now_ns();
  RequestSet requests;
  if (prebuilt_mode(cfg.mode)) {
    requests = build_requests(cfg, total_requests);
  } else {
    std::string get = "GET " + cfg.path + " HTTP/1.1\r\nHost: " + cfg.host + ":" + std::to_string(cfg.port) +
                      "\r\nConnection: keep-alive\r\n\r\n";
    requests = RequestSet::single(std::move(get));
  }
  const double prebuild_s = static_cast<double>(now_ns() - build_start_ns) / 1e9;
  if (cfg.print_request && requests.capacity() > 0) {
    const std::string_view first = requests.at(0);
    std::fprintf(stderr, "loadgen: first request:\n%.*s\n", static_cast<int>(first.size()), first.data());
  }

  // Split connections, requests and rate over the workers.
  std::vector<std::unique_ptr<Worker>> workers;
  const uint64_t threads = cfg.threads;
  for (uint64_t t = 0; t < threads; ++t) {
    const size_t conns = cfg.connections / threads + (t < cfg.connections % threads ? 1 : 0);
    uint64_t begin = 0;
    uint64_t end = std::numeric_limits<uint64_t>::max();
    if (total_requests != std::numeric_limits<uint64_t>::max()) {
      begin = total_requests * t / threads;
      end = total_requests * (t + 1) / threads;
    }
    workers.push_back(std::make_unique<Worker>(cfg, requests, endpoint, conns, begin, end,
                                               cfg.rate_rps / static_cast<double>(threads)));
  }
  size_t connected = 0;
  const int64_t connect_start_ns = now_ns();
  for (auto& w : workers) connected += w->connect_all();
  if (connected == 0) {
    std::fprintf(stderr, "loadgen: could not connect to %s:%u\n", cfg.host.c_str(), cfg.port);
    return 1;
  }
  if (static_cast<double>(now_ns() - connect_start_ns) / 1e6 > limits::kConnectPhaseMax_ms) {
    std::fprintf(stderr, "loadgen: warning: connecting took over %lld ms\n",
                 static_cast<long long>(limits::kConnectPhaseMax_ms));
  }

  Timing timing;
  timing.t0_ns = now_ns();
  timing.warm_end_ns = timing.t0_ns + static_cast<int64_t>(cfg.warmup_s * 1e9);
  timing.deadline_ns = duration_mode ? timing.warm_end_ns + static_cast<int64_t>(cfg.duration_s * 1e9)
                                     : std::numeric_limits<int64_t>::max();
  if (threads == 1) {
    workers[0]->run(timing);
  } else {
    std::vector<std::thread> pool;
    for (auto& w : workers) pool.emplace_back([&w, &timing] { w->run(timing); });
    for (std::thread& t : pool) t.join();
  }
  const int64_t end_ns = now_ns();

  Stats total;
  for (auto& w : workers) total.merge(w->stats());

  // The window: warm-up end to the deadline, or to the last completion when the requests ran out first.
  int64_t window_end_ns = timing.deadline_ns;
  if (!duration_mode || (total.exhausted && cfg.rate_rps <= 0)) {
    window_end_ns = total.last_completion_ns > 0 ? total.last_completion_ns : end_ns;
  }
  const double window_s = std::max(1e-9, static_cast<double>(window_end_ns - timing.warm_end_ns) / 1e9);
  const double throughput_rps = static_cast<double>(total.successes) / window_s;
  const LatencyHistogram& h = total.latency;

  nlohmann::json out;
  out["label"] = cfg.label;
  out["mode"] = cfg.mode_name;
  out["target"] = cfg.host + ":" + std::to_string(cfg.port) + cfg.path;
  out["loop"] = cfg.rate_rps > 0 ? "open" : "closed";
  out["rate_target_rps"] = cfg.rate_rps;
  out["connections"] = cfg.connections;
  out["connected"] = connected;
  out["threads"] = cfg.threads;
  out["warmup_s"] = cfg.warmup_s;
  out["duration_s"] = round3(window_s);
  out["prebuilt_requests"] = prebuilt_mode(cfg.mode) ? total_requests : 1;
  out["prebuilt_bytes"] = requests.bytes();
  out["prebuild_s"] = round3(prebuild_s);
  out["exhausted"] = total.exhausted;
  out["stalled"] = total.stalled;
  out["run_id"] = prebuilt_mode(cfg.mode) ? cfg.run_id : "";
  out["requests"] = total.measured;
  out["successes"] = total.successes;
  out["errors"] = total.errors;
  out["warmup_requests"] = total.warmup_requests;
  out["throughput_rps"] = std::round(throughput_rps * 10) / 10;
  out["latency_from"] = cfg.rate_rps > 0 ? "scheduled send time" : "send time";
  out["p50_ms"] = round3(ms(h.percentile_ns(50)));
  out["p90_ms"] = round3(ms(h.percentile_ns(90)));
  out["p99_ms"] = round3(ms(h.percentile_ns(99)));
  out["p999_ms"] = round3(ms(h.percentile_ns(99.9)));
  out["max_ms"] = round3(ms(h.max_ns()));
  out["mean_ms"] = round3(h.mean_ns() / 1e6);
  out["service_p50_ms"] = round3(ms(total.service_latency.percentile_ns(50)));
  out["service_p99_ms"] = round3(ms(total.service_latency.percentile_ns(99)));
  out["backlog_max"] = total.backlog_max;
  nlohmann::json errors;
  errors["transport"] = total.errors_transport;
  errors["http_status"] = total.errors_status;
  errors["body_not_success"] = total.errors_body;  // consign: not "code":1; payin/payout: not the success JSON
  errors["parse"] = total.errors_parse;
  errors["unfinished"] = total.errors_unfinished;
  out["error_kinds"] = errors;
  out["connect_failures"] = total.connect_failures;
  out["reconnects"] = total.reconnects;
  out["server_closes"] = total.server_closes;
  nlohmann::json statuses = nlohmann::json::object();
  for (const auto& [status, n] : total.status_counts) statuses[std::to_string(status)] = n;
  out["status_counts"] = statuses;
  out["error_samples"] = total.error_samples;

  if (!cfg.json_out.empty()) {
    std::ofstream f(cfg.json_out);
    f << out.dump(2) << "\n";
    if (!f) {
      std::fprintf(stderr, "loadgen: cannot write %s\n", cfg.json_out.c_str());
      return 1;
    }
  }
  std::printf("%s %s-loop: %llu requests, %llu errors, %.2f s, %.1f rps, p50 %.3f ms, p90 %.3f ms, "
              "p99 %.3f ms, p99.9 %.3f ms, max %.3f ms%s\n",
              cfg.label.empty() ? cfg.mode_name.c_str() : cfg.label.c_str(),
              cfg.rate_rps > 0 ? "open" : "closed", static_cast<unsigned long long>(total.measured),
              static_cast<unsigned long long>(total.errors), window_s, throughput_rps, ms(h.percentile_ns(50)),
              ms(h.percentile_ns(90)), ms(h.percentile_ns(99)), ms(h.percentile_ns(99.9)), ms(h.max_ns()),
              total.exhausted ? " (ran out of pre-built requests)" : "");
  for (const std::string& s : total.error_samples) std::fprintf(stderr, "loadgen: error sample: %s\n", s.c_str());
  // Exit status: 0 a measurement (errors, if any, are in the result), 1 nothing succeeded, 3 gave up (stalled).
  if (total.stalled) return 3;
  if (total.successes == 0) {
    std::fprintf(stderr, "loadgen: no request succeeded\n");
    return 1;
  }
  return 0;
}

}  // namespace pgbench

int main(int argc, char** argv) { return pgbench::run_main(argc, argv); }
