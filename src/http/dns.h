// Name resolution for outbound requests (notifications). Lookups run on a small pool of threads of their own, so a
// slow or dead name server for one merchant's host delays that host only; a bounded cache keeps answers for a
// minute (failures for a few seconds), so a burst of notifications to one host costs one lookup.
//
// (Asio's own resolver runs every lookup of a process on one hidden thread: one lookup that hangs for its full
// timeout stalls every other delivery behind it.)
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"

namespace paygate::http {

using Endpoints = std::vector<boost::asio::ip::tcp::endpoint>;

class DnsResolver {
 public:
  static constexpr size_t kThreads = 4;                  // lookups in progress at once
  static constexpr size_t kCacheEntriesMax = 4'096;      // then the cache starts over
  static constexpr int64_t kPositiveTtlMs = 60'000;
  static constexpr int64_t kNegativeTtlMs = 5'000;

  // The blocking lookup (getaddrinfo); replaceable for tests. Errors are kUnavailable with a message.
  using LookupFn = std::function<Result<Endpoints>(const std::string& host, uint16_t port)>;

  DnsResolver();
  explicit DnsResolver(LookupFn lookup);
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  // Resolves host:port (an IP literal answers at once), resuming on `executor` with the addresses, or kUnavailable
  // when the lookup fails or does not finish within `timeout` (the lookup itself goes on and fills the cache).
  boost::asio::awaitable<Result<Endpoints>> resolve(boost::asio::any_io_executor executor, const std::string& host,
                                                    uint16_t port, std::chrono::milliseconds timeout);

  // The process's resolver, used by fetch().
  static DnsResolver& shared();

 private:
  struct Entry {
    Result<Endpoints> answer;
    std::chrono::steady_clock::time_point expires_at;
  };
  std::optional<Result<Endpoints>> cached(const std::string& key);
  void remember(const std::string& key, const Result<Endpoints>& answer);

  LookupFn lookup_;
  boost::asio::thread_pool pool_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;
};

// getaddrinfo through Asio's synchronous resolver (runs on the calling thread).
Result<Endpoints> system_lookup(const std::string& host, uint16_t port);

}  // namespace paygate::http
