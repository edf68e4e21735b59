#include "http/dns.h"

#include <atomic>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>

namespace paygate::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<Endpoints> system_lookup(const std::string& host, uint16_t port) {
  asio::io_context io;  // only for the resolver object; the synchronous resolve runs here, on this thread
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, ec);
  if (ec) return make_error(ErrorCode::kUnavailable, "dns: cannot resolve " + host + ": " + ec.message());
  Endpoints out;
  for (const auto& r : results) out.push_back(r.endpoint());
  if (out.empty()) return make_error(ErrorCode::kUnavailable, "dns: cannot resolve " + host + ": no addresses");
  return out;
}

DnsResolver::DnsResolver() : DnsResolver(&system_lookup) {}

DnsResolver::DnsResolver(LookupFn lookup) : lookup_(std::move(lookup)), pool_(kThreads) {}

DnsResolver::~DnsResolver() { pool_.join(); }

DnsResolver& DnsResolver::shared() {
  // Never destroyed: joining the pool at exit would wait for a lookup that hangs; the process's end stops them.
  static DnsResolver* resolver = new DnsResolver();
  return *resolver;
}

std::optional<Result<Endpoints>> DnsResolver::cached(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  if (it->second.expires_at <= std::chrono::steady_clock::now()) {
    cache_.erase(it);
    return std::nullopt;
  }
  return it->second.answer;
}

void DnsResolver::remember(const std::string& key, const Result<Endpoints>& answer) {
  auto ttl = std::chrono::milliseconds(answer.ok() ? kPositiveTtlMs : kNegativeTtlMs);
  std::lock_guard lock(mu_);
  if (cache_.size() >= kCacheEntriesMax) cache_.clear();
  cache_.insert_or_assign(key, Entry{answer, std::chrono::steady_clock::now() + ttl});
}

asio::awaitable<Result<Endpoints>> DnsResolver::resolve(asio::any_io_executor executor, const std::string& host,
                                                        uint16_t port, std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  auto literal = asio::ip::make_address(host, ec);
  if (!ec) co_return Endpoints{tcp::endpoint(literal, port)};
  const std::string key = host + ":" + std::to_string(port);
  if (auto hit = cached(key)) co_return std::move(*hit);

  // Whichever comes first, the lookup or the deadline, completes the wait; the other finds it done.
  struct Wait {
    std::atomic<bool> done{false};
    std::optional<asio::steady_timer> timer;
  };
  auto initiate = [this, executor, key, host, port, timeout](auto handler) {
    using Handler = decltype(handler);
    auto wait = std::make_shared<Wait>();
    auto shared_handler = std::make_shared<std::optional<Handler>>(std::move(handler));
    auto finish = [wait, shared_handler, executor](Result<Endpoints> r) {
      if (wait->done.exchange(true)) return;
      asio::post(executor, [wait, shared_handler, r = std::move(r)]() mutable {
        if (wait->timer) wait->timer->cancel();
        auto h = std::move(**shared_handler);
        shared_handler->reset();
        std::move(h)(std::move(r));
      });
    };
    wait->timer.emplace(executor);
    wait->timer->expires_after(timeout);
    wait->timer->async_wait([finish, host, timeout](const boost::system::error_code& timer_ec) {
      if (timer_ec) return;  // cancelled: the lookup finished first
      finish(make_error(ErrorCode::kUnavailable, "timeout: dns lookup of " + host + " did not complete within " +
                                                     std::to_string(timeout.count()) + " ms"));
    });
    asio::post(pool_, [this, finish, key, host, port] {
      auto answer = lookup_(host, port);
      remember(key, answer);
      finish(std::move(answer));
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Result<Endpoints>)>(
      std::move(initiate), asio::use_awaitable);
}

}  // namespace paygate::http
