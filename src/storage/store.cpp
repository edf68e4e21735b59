#include "storage/store.h"

#include <future>

namespace paygate::storage {

std::string_view notification_state_name(NotificationState s) {
  switch (s) {
    case NotificationState::kPending: return "pending";
    case NotificationState::kDelivered: return "delivered";
    case NotificationState::kFailed: return "failed";
  }
  return "pending";
}

Status Store::write_sync(WriteFn fn) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  submit(std::move(fn), [&promise](Status st) { promise.set_value(std::move(st)); });
  return future.get();
}

}  // namespace paygate::storage
