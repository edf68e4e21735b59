#include "notify/dispatcher.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <optional>

#include "http/client.h"
#include "notify/outbox.h"
#include "storage/async_write.h"

namespace paygate::notify {

namespace asio = boost::asio;
using storage::Notification;
using storage::NotificationState;

namespace {

// A readable, single-line excerpt of what the merchant answered, for the attempt log.
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, limits::kNotifyBodyExcerptBytesMax)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  return out;
}

}  // namespace

Dispatcher::Dispatcher(asio::io_context& io, storage::Store& store, const Clock& clock, DispatcherConfig config,
                       AckPredicate ack, metrics::Registry& metrics)
    : io_(io),
      store_(store),
      clock_(clock),
      config_(config),
      ack_(std::move(ack)),
      metrics_(metrics),
      waker_(io),
      tls_(std::make_unique<asio::ssl::context>(http::make_client_tls_context())) {
  PG_ASSERT(config_.in_flight_max > 0 && config_.in_flight_max <= limits::kNotifyInFlightMax,
            "notify in_flight_max out of range");
  PG_ASSERT(config_.in_flight_per_merchant_max > 0, "notify in_flight_per_merchant_max out of range");
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::start() {
  running_ = true;
  asio::co_spawn(waker_.strand(), run(), asio::detached);
}

void Dispatcher::stop() {
  stopping_ = true;
  waker_.wake();
}

asio::awaitable<void> Dispatcher::run() {
  auto& depth = metrics_.gauge("paygate_outbox_pending", "Notifications waiting for delivery.");
  // Long enough that an attempt in flight (bounded by the total timeout) finishes before anyone else retries it.
  const int64_t lease_ms = config_.total_timeout_ms + config_.claim_lease_margin_ms;
  while (!stopping_) {
    int64_t now_ms = clock_.now_unix_ms();
    std::optional<int64_t> next_due_ms;
    try {
      auto tx = store_.read();
      next_due_ms = tx->next_notification_due_ms();
      depth.set(tx->pending_notifications());
    } catch (const std::exception& e) {
      spdlog::error("event=outbox_read_failed error=\"{}\"", e.what());
    }
    size_t room = config_.in_flight_max - std::min(config_.in_flight_max, in_flight_.load());
    if (next_due_ms && *next_due_ms <= now_ms && room > 0) {
      size_t want = std::min(room, limits::kNotifyClaimBatchMax);
      std::vector<MerchantId> skip;  // at their share: their due notifications wait for one of theirs to finish
      std::unordered_map<int64_t, size_t> counts;
      {
        std::lock_guard lock(by_merchant_mutex_);
        counts = in_flight_by_merchant_;
        for (const auto& [merchant, count] : in_flight_by_merchant_) {
          if (count >= config_.in_flight_per_merchant_max) skip.push_back(MerchantId{merchant});
        }
      }
      const size_t share = config_.in_flight_per_merchant_max;
      std::function<Result<std::vector<Notification>>(storage::Tx&)> claim =
          [now_ms, lease_ms, want, share, skip = std::move(skip),
           counts = std::move(counts)](storage::Tx& tx) -> Result<std::vector<Notification>> {
        auto claimed = tx.claim_due_notifications(now_ms, lease_ms, want, skip);
        // One claim may take more of a merchant's than its share left: those go back unclaimed, in the same
        // transaction, and wait for one of its attempts to finish. A local count: a retried closure starts over.
        std::unordered_map<int64_t, size_t> taken = counts;
        std::vector<Notification> kept;
        kept.reserve(claimed.size());
        for (auto& n : claimed) {
          if (++taken[n.merchant_id.value()] <= share) {
            kept.push_back(std::move(n));
          } else {
            n.claimed_until_ms = 0;
            tx.update_notification(n);
          }
        }
        return kept;
      };
      auto claimed = co_await storage::async_write<std::vector<Notification>>(store_, std::move(claim));
      if (claimed.ok()) {
        for (auto& n : *claimed) {
          ++in_flight_;
          {
            std::lock_guard lock(by_merchant_mutex_);
            ++in_flight_by_merchant_[n.merchant_id.value()];
          }
          asio::co_spawn(io_, deliver(std::move(n)), asio::detached);
        }
        if (claimed->size() == want) continue;  // more may be due right now (fewer: some went back, or none)
      } else {
        spdlog::warn("event=outbox_claim_failed error=\"{}\"", claimed.error().message);
      }
    }
    int64_t sleep_ms = config_.poll_interval_ms;
    if (next_due_ms && *next_due_ms > now_ms) sleep_ms = std::min(sleep_ms, *next_due_ms - now_ms);
    co_await waker_.sleep(std::chrono::milliseconds(std::max<int64_t>(sleep_ms, 1)));
  }
  running_ = false;
}

asio::awaitable<void> Dispatcher::deliver(Notification n) {
  int64_t started_ms = clock_.now_unix_ms();
  http::ClientRequest req;
  req.url = n.url;
  req.method = "POST";
  req.content_type = n.content_type;
  req.body = n.body;
  req.connect_timeout_ms = config_.connect_timeout_ms;
  req.total_timeout_ms = config_.total_timeout_ms;
  req.allow_private_targets = config_.allow_private_targets;
  auto response = co_await http::fetch(co_await asio::this_coro::executor, *tls_, std::move(req));

  storage::NotificationAttempt attempt;
  attempt.notification_id = n.id;
  attempt.started_at_ms = started_ms;
  if (response.ok()) {
    attempt.http_status = response->status;
    attempt.latency_ms = response->latency_ms;
    attempt.body_excerpt = excerpt(response->body);
    attempt.delivered = ack_(n.protocol, response->status, response->body);
    if (!attempt.delivered) attempt.error = "not acknowledged";
  } else {
    attempt.latency_ms = clock_.now_unix_ms() - started_ms;
    attempt.error = response.error().message;
  }
  metrics_.histogram("paygate_notify_latency_seconds", "Notification attempt latency.", metrics::latency_buckets_s())
      .observe(static_cast<double>(attempt.latency_ms) / 1000.0);

  const ScheduleConfig schedule = config_.schedule;
  std::function<Result<std::string>(storage::Tx&)> record = [n, attempt, schedule,
                                                             this](storage::Tx& tx) mutable -> Result<std::string> {
    // The order's notifications first, in id order as enqueue_newest reads them: on PostgreSQL this locks
    // them, so a newer state enqueued on another writer either sees this attempt recorded or is seen here
    // (and released below); one row alone, then the rest, could deadlock with it.
    std::optional<storage::Notification> current;
    for (storage::Notification& same_order : tx.notifications_for_order(n.order_ref)) {
      if (same_order.id == n.id) current = std::move(same_order);
    }
    // Someone else finished it (its lease ran out and another node delivered it): record nothing twice.
    const bool superseded = current && current->state == NotificationState::kSuperseded;
    if (!current || (current->state != NotificationState::kPending && !superseded)) return std::string("stale");
    attempt.attempt_no = current->attempts_made + 1;
    tx.record_attempt(attempt);
    current->attempts_made = attempt.attempt_no;
    current->claimed_until_ms = 0;
    int64_t now_ms = clock_.now_unix_ms();
    current->updated_at_ms = now_ms;
    if (superseded) {
      // A newer state was enqueued while this attempt ran: it stays superseded, and the newer one, which
      // waited for this attempt so as not to overtake it, is due now.
      tx.update_notification(*current);
      release_newer_after(tx, *current, now_ms);
      return std::string("superseded");
    }
    std::string result;
    if (attempt.delivered) {
      current->state = NotificationState::kDelivered;
      result = "delivered";
    } else if (current->attempts_made >= current->attempts_max) {
      current->state = NotificationState::kFailed;
      result = "failed";
    } else {
      // Spacing is measured between attempt starts, as a merchant watching its logs would.
      current->next_attempt_at_ms =
          std::max(now_ms, attempt.started_at_ms + retry_delay_ms(current->schedule, current->attempts_made, schedule));
      result = "retry";
    }
    tx.update_notification(*current);
    return result;
  };
  auto outcome = co_await storage::async_write<std::string>(store_, std::move(record));
  std::string label = outcome.ok() ? *outcome : "record_failed";
  metrics_
      .counter("paygate_notify_attempts_total", "Notification attempts by protocol and outcome.",
               "{protocol=\"" + n.protocol + "\",outcome=\"" + label + "\"}")
      .inc();
  spdlog::info(
      "event=notify_attempt protocol={} order={} notification={} http_status={} outcome={} latency_ms={} error=\"{}\"",
      n.protocol, n.order_ref, n.id.value(), attempt.http_status, label, attempt.latency_ms, attempt.error);
  {
    std::lock_guard lock(by_merchant_mutex_);
    auto it = in_flight_by_merchant_.find(n.merchant_id.value());
    PG_ASSERT(it != in_flight_by_merchant_.end() && it->second > 0, "notify: merchant in-flight count underflow");
    if (--it->second == 0) in_flight_by_merchant_.erase(it);
  }
  --in_flight_;
  waker_.wake();
}

}  // namespace paygate::notify
