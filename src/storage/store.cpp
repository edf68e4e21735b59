#include "storage/store.h"

#include <future>
#include <sstream>

namespace paygate::storage {

std::string_view notification_state_name(NotificationState s) {
  switch (s) {
    case NotificationState::kPending: return "pending";
    case NotificationState::kDelivered: return "delivered";
    case NotificationState::kFailed: return "failed";
  }
  return "pending";
}

NotificationState parse_notification_state(std::string_view s) {
  if (s == "delivered") return NotificationState::kDelivered;
  if (s == "failed") return NotificationState::kFailed;
  return NotificationState::kPending;
}

std::string join_face_values(const std::vector<int64_t>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  return out;
}

std::vector<int64_t> split_face_values(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(std::stoll(item));
  }
  return out;
}

std::string join_ip_allowlist(const std::vector<std::string>& entries) {
  std::string out;
  for (const auto& e : entries) {
    PG_ASSERT(!e.empty() && e.find(',') == std::string::npos, "IP allowlist entry not normalized");
    if (!out.empty()) out += ',';
    out += e;
  }
  return out;
}

std::vector<std::string> split_ip_allowlist(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string merchant_aad(MerchantId id, const char* field) {
  return "merchant:" + std::to_string(id.value()) + ":" + field;
}

std::string order_aad(const SysOrderId& id, const char* field) { return "consign:" + id.value() + ":" + field; }

std::string payout_aad(const PayoutId& id, const char* field) { return "payout:" + id.value() + ":" + field; }

std::string cashier_aad(const CashierId& id, const char* field) { return "cashier:" + id.value() + ":" + field; }

Status Store::write_sync(WriteFn fn) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  submit(std::move(fn), [&promise](Status st) { promise.set_value(std::move(st)); });
  return future.get();
}

}  // namespace paygate::storage
