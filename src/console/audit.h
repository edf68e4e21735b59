// Reading the audit log (console.h writes it): the admin API's GET /admin/api/audit and `paygate audit list`.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/store.h"

namespace paygate::console {

struct AuditFilter {
  std::optional<std::string> actor;        // actor_name, exact
  std::optional<std::string> action;       // exact, e.g. "user.create"
  std::optional<std::string> target_type;  // exact
  std::optional<std::string> target_id;    // exact
  std::optional<int64_t> from_ms;          // at_ms >= from_ms
  std::optional<int64_t> to_ms;            // at_ms < to_ms
  std::optional<int64_t> before_id;        // keyset pagination: entries with a smaller id
  size_t limit = 50;                       // 1..limits::kConsolePageSizeMax
};

struct AuditRow {
  int64_t id = 0;
  int64_t at_ms = 0;
  std::optional<int64_t> actor_user_id;
  std::string actor_name;
  std::string actor_role;
  std::string action;
  std::string target_type;
  std::string target_id;
  std::string before_json;
  std::string after_json;
  std::string remote_ip;
  std::string request_id;
};

// Newest first (by id, which grows with time).
std::vector<AuditRow> list_audit(storage::Tx& tx, const AuditFilter& filter);
// The contract's item: {"id","at_ms","actor_name","actor_role","action","target_type","target_id","before","after",
// "remote_ip","request_id"}, before/after as JSON objects.
nlohmann::json audit_row_json(const AuditRow& row);

}  // namespace paygate::console
