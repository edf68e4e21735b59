// Moves due work forward: consign orders the card processor can decide, pay-ins past their expiry, payouts the
// bank can take. Each task's decision and state change happen in one write transaction, so a crash did both or
// neither. One loop for all tasks: it sleeps until the earliest due time (or the poll interval, which also picks
// up work another node or the CLI created), and is woken early when a request creates work due sooner.
#pragma once
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "runtime/waker.h"
#include "storage/store.h"

namespace paygate::app {

struct DueTask {
  std::string name;  // for logs
  // When the task next has work, read from a snapshot; nullopt: none.
  std::function<std::optional<int64_t>(storage::Tx&)> next_due_ms;
  // Handles up to a batch of due work in a write transaction; returns how many it handled.
  std::function<Result<size_t>(storage::Tx&, int64_t now_ms)> process;
};

class DueWorker {
 public:
  DueWorker(boost::asio::io_context& io, storage::Store& store, const Clock& clock, std::vector<DueTask> tasks,
            int64_t poll_interval_ms, std::function<void()> on_progress);
  void start();
  // New work is due at `due_ms`: wakes the loop if that is before its planned wake-up, so a busy server does not
  // look for work on every request.
  void work_due(int64_t due_ms);
  void stop();

 private:
  boost::asio::awaitable<void> run();

  storage::Store& store_;
  const Clock& clock_;
  std::vector<DueTask> tasks_;
  int64_t poll_interval_ms_;
  std::function<void()> on_progress_;
  runtime::Waker waker_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> planned_wake_ms_{INT64_MAX};
};

}  // namespace paygate::app
