// Delivers notifications from the durable outbox. Claims due rows with a lease (so a second node, or this node
// after a crash, retries only once the lease runs out), sends them through the HTTP client with a cap on
// requests in flight, and records every attempt with the next retry per the protocol's schedule.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "base/clock.h"
#include "metrics/metrics.h"
#include "notify/schedule.h"
#include "runtime/waker.h"
#include "storage/store.h"

namespace paygate::notify {

struct DispatcherConfig {
  bool allow_private_targets = false;
  int64_t connect_timeout_ms = 5'000;
  int64_t total_timeout_ms = 10'000;
  // A claim lasts total_timeout_ms plus this margin, which covers clock differences between nodes and a slow
  // commit of the attempt's record: another node retries a claimed notification only after that.
  int64_t claim_lease_margin_ms = 30'000;
  size_t in_flight_max = limits::kNotifyInFlightMax;
  // One merchant's attempts in flight at most (on this node): a merchant whose endpoint hangs holds this many slots
  // for the total timeout, not all of them, so other merchants' notifications still go out.
  size_t in_flight_per_merchant_max = 64;
  int64_t poll_interval_ms = 1'000;
  ScheduleConfig schedule;
};

// Whether a response acknowledges delivery, per protocol.
using AckPredicate = std::function<bool(std::string_view protocol, unsigned http_status, std::string_view body)>;

class Dispatcher {
 public:
  Dispatcher(boost::asio::io_context& io, storage::Store& store, const Clock& clock, DispatcherConfig config,
             AckPredicate ack, metrics::Registry& metrics);
  ~Dispatcher();
  void start();
  void wake() { waker_.wake(); }
  // Stops claiming new work; deliveries in flight finish and are recorded.
  void stop();
  size_t in_flight() const { return in_flight_.load(); }

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> deliver(storage::Notification n);

  boost::asio::io_context& io_;
  storage::Store& store_;
  const Clock& clock_;
  DispatcherConfig config_;
  AckPredicate ack_;
  metrics::Registry& metrics_;
  runtime::Waker waker_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::atomic<size_t> in_flight_{0};
  // Attempts in flight per merchant id, merchants with none left out: at most in_flight_max entries.
  std::mutex by_merchant_mutex_;
  std::unordered_map<int64_t, size_t> in_flight_by_merchant_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> running_{false};
};

}  // namespace paygate::notify
