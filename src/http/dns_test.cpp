#include "http/dns.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/detached.hpp>
#include <optional>
#include <thread>

namespace paygate::http {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A lookup that takes 1.5 s for "slow.test", fails for "nxdomain.test", and answers 192.0.2.1 otherwise; counts calls.
struct FakeLookup {
  std::atomic<int> calls{0};
  DnsResolver::LookupFn fn() {
    return [this](const std::string& host, uint16_t port) -> Result<Endpoints> {
      ++calls;
      if (host == "slow.test") std::this_thread::sleep_for(milliseconds(1500));
      if (host == "nxdomain.test") return make_error(ErrorCode::kUnavailable, "dns: cannot resolve nxdomain.test");
      return Endpoints{asio::ip::tcp::endpoint(asio::ip::make_address("192.0.2.1"), port)};
    };
  }
};

// Starts a resolution on `io`; `out` gets the answer and `done_at` the time it arrived.
void start(DnsResolver& r, asio::io_context& io, const std::string& host, milliseconds timeout,
           std::optional<Result<Endpoints>>& out, Clock::time_point& done_at) {
  asio::co_spawn(
      io,
      [&r, &io, host, timeout, &out, &done_at]() -> asio::awaitable<void> {
        auto answer = co_await r.resolve(io.get_executor(), host, 443, timeout);
        out.emplace(std::move(answer));
        done_at = Clock::now();
      },
      asio::detached);
}

Result<Endpoints> resolve(DnsResolver& r, asio::io_context& io, const std::string& host, milliseconds timeout) {
  std::optional<Result<Endpoints>> out;
  Clock::time_point done_at;
  start(r, io, host, timeout, out, done_at);
  io.restart();
  io.run();
  return std::move(*out);
}

TEST(DnsResolver, IpLiteralsAnswerWithoutALookup) {
  FakeLookup fake;
  DnsResolver r(fake.fn());
  asio::io_context io;
  auto v4 = resolve(r, io, "203.0.113.7", milliseconds(100));
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->at(0).address().to_string(), "203.0.113.7");
  EXPECT_EQ(v4->at(0).port(), 443);
  EXPECT_TRUE(resolve(r, io, "::1", milliseconds(100)).ok());
  EXPECT_EQ(fake.calls, 0);
}

TEST(DnsResolver, AnswersAreCachedFailuresToo) {
  FakeLookup fake;
  DnsResolver r(fake.fn());
  asio::io_context io;
  for (int i = 0; i < 3; ++i) {
    auto a = resolve(r, io, "merchant.test", milliseconds(1000));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->at(0).address().to_string(), "192.0.2.1");
  }
  EXPECT_EQ(fake.calls, 1);
  for (int i = 0; i < 2; ++i) {
    auto bad = resolve(r, io, "nxdomain.test", milliseconds(1000));
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("nxdomain.test"), std::string::npos);
  }
  EXPECT_EQ(fake.calls, 2);
}

TEST(DnsResolver, ASlowLookupTimesOutAndDoesNotHoldUpOthers) {
  FakeLookup fake;
  DnsResolver r(fake.fn());
  asio::io_context io;
  std::optional<Result<Endpoints>> slow_result, fast_result;
  Clock::time_point slow_at, fast_at;
  auto t0 = Clock::now();
  start(r, io, "slow.test", milliseconds(200), slow_result, slow_at);
  start(r, io, "fast.test", milliseconds(1000), fast_result, fast_at);
  io.run();
  auto fast_ms = std::chrono::duration_cast<milliseconds>(fast_at - t0).count();
  auto slow_ms = std::chrono::duration_cast<milliseconds>(slow_at - t0).count();
  ASSERT_TRUE(slow_result.has_value() && fast_result.has_value());
  ASSERT_TRUE(fast_result->ok());
  EXPECT_LT(fast_ms, 150) << "the slow lookup held up another host";
  ASSERT_FALSE(slow_result->ok());
  EXPECT_NE(slow_result->error().message.find("timeout: dns lookup of slow.test"), std::string::npos);
  EXPECT_LT(slow_ms, 1000) << "the deadline did not cut the wait short";
  // The lookup went on in the background and filled the cache: the next one answers at once.
  std::this_thread::sleep_for(milliseconds(1500));
  auto later = resolve(r, io, "slow.test", milliseconds(50));
  EXPECT_TRUE(later.ok());
  EXPECT_EQ(fake.calls, 2);
}

}  // namespace
}  // namespace paygate::http
