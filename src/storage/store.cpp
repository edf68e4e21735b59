#include "storage/store.h"

#include <future>
#include <sstream>

#include "crypto/crypto.h"
#include "storage/portable_sql.h"

namespace paygate::storage {

std::string_view notification_state_name(NotificationState s) {
  switch (s) {
    case NotificationState::kPending: return "pending";
    case NotificationState::kDelivered: return "delivered";
    case NotificationState::kFailed: return "failed";
    case NotificationState::kSuperseded: return "superseded";
  }
  return "pending";
}

NotificationState parse_notification_state(std::string_view s) {
  if (s == "delivered") return NotificationState::kDelivered;
  if (s == "failed") return NotificationState::kFailed;
  if (s == "superseded") return NotificationState::kSuperseded;
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

SealedCard seal_card(const crypto::SecretBox& box, const SysOrderId& id, std::string_view password,
                     std::string_view se_code) {
  SealedCard out{id, box.seal(password, order_aad(id, "card_password")), {}};
  if (!se_code.empty()) out.se_code = box.seal(se_code, order_aad(id, "se_code"));
  return out;
}

SealedAccount seal_account(const crypto::SecretBox& box, const PayoutId& id, std::string_view account_number) {
  return SealedAccount{id, box.seal(account_number, payout_aad(id, "account_number"))};
}

SealedCard sealed_for(const crypto::SecretBox& box, const orders::ConsignOrder& order, const SealedCard& ahead) {
  if (!ahead.sys_order_id.value().empty() && ahead.sys_order_id == order.sys_order_id) return ahead;
  return seal_card(box, order.sys_order_id, order.card_password, order.se_code);
}

SealedAccount sealed_for(const crypto::SecretBox& box, const orders::Payout& payout, const SealedAccount& ahead) {
  if (!ahead.payout_id.value().empty() && ahead.payout_id == payout.id) return ahead;
  return seal_account(box, payout.id, payout.account_number);
}

std::string payout_aad(const PayoutId& id, const char* field) { return "payout:" + id.value() + ":" + field; }

std::string cashier_aad(const CashierId& id, const char* field) { return "cashier:" + id.value() + ":" + field; }

int64_t sql_int(const SqlValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return 0;
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  throw StorageFailure("portable SQL: expected an integer column, got text");
}

std::string sql_text(const SqlValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return {};
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  throw StorageFailure("portable SQL: expected a text column, got an integer");
}

bool sql_is_null(const SqlValue& v) { return std::holds_alternative<std::monostate>(v); }

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

}  // namespace

void check_portable_sql(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size() && is_space(sql[i])) ++i;
  size_t start = i;
  while (i < sql.size() && ((sql[i] >= 'a' && sql[i] <= 'z') || (sql[i] >= 'A' && sql[i] <= 'Z'))) ++i;
  std::string word;
  for (size_t k = start; k < i; ++k) word += ascii_upper(sql[k]);
  static constexpr std::string_view kAllowed[] = {"SELECT", "WITH", "VALUES", "INSERT", "UPDATE", "DELETE"};
  for (auto allowed : kAllowed) {
    if (word == allowed) return;
  }
  throw StorageFailure("portable SQL must be one SELECT, WITH, VALUES, INSERT, UPDATE or DELETE statement: " +
                       sql_excerpt(sql));
}

std::string sql_excerpt(std::string_view sql) {
  constexpr size_t kExcerptBytesMax = 80;
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (out.size() >= kExcerptBytesMax) {
      out += "...";
      break;
    }
    if (is_space(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

Status Store::write_sync(WriteFn fn) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  submit(std::move(fn), [&promise](Status st) { promise.set_value(std::move(st)); });
  return future.get();
}

}  // namespace paygate::storage
