#include "app/due_worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include "storage/async_write.h"

namespace paygate::app {

namespace asio = boost::asio;

DueWorker::DueWorker(asio::io_context& io, storage::Store& store, const Clock& clock, std::vector<DueTask> tasks,
                     int64_t poll_interval_ms, std::function<void()> on_progress)
    : store_(store), clock_(clock), tasks_(std::move(tasks)), poll_interval_ms_(poll_interval_ms),
      on_progress_(std::move(on_progress)), waker_(io) {}

void DueWorker::start() { asio::co_spawn(waker_.strand(), run(), asio::detached); }

void DueWorker::work_due(int64_t due_ms) {
  if (due_ms < planned_wake_ms_.load(std::memory_order_relaxed)) waker_.wake();
}

void DueWorker::stop() {
  stopping_ = true;
  waker_.wake();
}

asio::awaitable<void> DueWorker::run() {
  while (!stopping_) {
    // While running, any new work may be due: the waker remembers a wake that arrives now.
    planned_wake_ms_.store(INT64_MAX, std::memory_order_relaxed);
    int64_t now_ms = clock_.now_unix_ms();
    std::optional<int64_t> earliest_ms;
    bool progressed = false;
    for (auto& task : tasks_) {
      if (stopping_) break;
      std::optional<int64_t> due_ms;
      try {
        due_ms = task.next_due_ms(*store_.read());
      } catch (const std::exception& e) {
        spdlog::error("event=due_worker_read_failed task={} error=\"{}\"", task.name, e.what());
        continue;
      }
      if (!due_ms) continue;
      if (*due_ms > now_ms) {
        earliest_ms = std::min(earliest_ms.value_or(INT64_MAX), *due_ms);
        continue;
      }
      auto& process = task.process;
      std::function<Result<size_t>(storage::Tx&)> step = [&process, now_ms](storage::Tx& tx) {
        return process(tx, now_ms);
      };
      auto handled = co_await storage::async_write<size_t>(store_, std::move(step));
      if (!handled.ok()) {
        spdlog::warn("event=due_worker_write_failed task={} error=\"{}\"", task.name, handled.error().message);
      } else if (*handled > 0) {
        progressed = true;
      }
    }
    if (progressed) {
      on_progress_();
      continue;  // look again: more may be due by now
    }
    int64_t sleep_ms = poll_interval_ms_;
    if (earliest_ms) sleep_ms = std::clamp(*earliest_ms - now_ms, int64_t{0}, sleep_ms);
    planned_wake_ms_.store(now_ms + sleep_ms, std::memory_order_relaxed);
    co_await waker_.sleep(std::chrono::milliseconds(sleep_ms));
  }
}

}  // namespace paygate::app
