// The bounded queue of write closures in front of a store's writer thread(s), shared by every engine: refusal
// when full or closing, batches taken in arrival order, and the commit counters and observer for metrics.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "storage/store.h"

namespace paygate::storage {

class WriteQueue {
 public:
  struct Item {
    WriteFn fn;
    DoneFn done;
  };

  explicit WriteQueue(size_t depth_max) : depth_max_(depth_max) {}

  // Store::submit: queues the write, or runs `done` at once (outside the lock) with kUnavailable when closing
  // or kResourceExhausted when `depth_max` writes already wait.
  void push(WriteFn fn, DoneFn done);
  // Waits for work and moves up to `max` writes into `out` (cleared first). False once closed and drained.
  bool take(std::vector<Item>& out, size_t max);
  // Refuses new writes and wakes every waiter; the writes already queued are still taken. False when it was
  // already closed.
  bool close();
  // Sleeps up to `timeout`, or less if the queue is closed meanwhile.
  void sleep_unless_closed(std::chrono::milliseconds timeout);

  StoreStats stats() const;
  // Changes the engine's own counters under the queue's lock.
  template <typename F>
  void update_stats(F&& change) {
    std::lock_guard lock(mu_);
    change(stats_);
  }
  void set_observer(CommitObserver observer);
  // Counts a committed transaction of `batch` writes and tells the observer (outside the lock).
  void record_commit(size_t batch, int64_t commit_us);

 private:
  const size_t depth_max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> items_;
  bool closing_ = false;
  StoreStats stats_;
  CommitObserver observer_;
};

}  // namespace paygate::storage
