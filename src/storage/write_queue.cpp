#include "storage/write_queue.h"

#include <algorithm>
#include <optional>

namespace paygate::storage {

void WriteQueue::push(WriteFn fn, DoneFn done) {
  std::optional<Error> refused;
  {
    std::lock_guard lock(mu_);
    if (closing_) {
      refused = make_error(ErrorCode::kUnavailable, "storage is shutting down");
    } else if (items_.size() >= depth_max_) {
      ++stats_.rejected_queue_full;
      refused = make_error(ErrorCode::kResourceExhausted, "server busy, retry later");
    } else {
      items_.push_back(Item{std::move(fn), std::move(done)});
    }
  }
  // `done` may call back into the store: never run it under mu_.
  if (refused) {
    done(std::move(*refused));
    return;
  }
  cv_.notify_one();
}

bool WriteQueue::take(std::vector<Item>& out, size_t max) {
  out.clear();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return closing_ || !items_.empty(); });
  if (items_.empty()) return false;  // closing and drained
  size_t n = std::min(items_.size(), std::max<size_t>(max, 1));
  for (size_t i = 0; i < n; ++i) {
    out.push_back(std::move(items_.front()));
    items_.pop_front();
  }
  return true;
}

bool WriteQueue::close() {
  {
    std::lock_guard lock(mu_);
    if (closing_) return false;
    closing_ = true;
  }
  cv_.notify_all();
  return true;
}

void WriteQueue::sleep_unless_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return closing_; });
}

StoreStats WriteQueue::stats() const {
  std::lock_guard lock(mu_);
  StoreStats s = stats_;
  s.queue_depth = items_.size();
  return s;
}

void WriteQueue::set_observer(CommitObserver observer) {
  std::lock_guard lock(mu_);
  observer_ = std::move(observer);
}

void WriteQueue::record_commit(size_t batch, int64_t commit_us) {
  CommitObserver observer;
  {
    std::lock_guard lock(mu_);
    ++stats_.commits;
    stats_.committed_requests += batch;
    observer = observer_;
  }
  if (observer) observer(batch, commit_us);
}

}  // namespace paygate::storage
