#include "console/audit.h"

#include <algorithm>

#include "base/limits.h"

namespace paygate::console {

using storage::SqlValue;
using storage::sql_int;
using storage::sql_is_null;
using storage::sql_text;

std::vector<AuditRow> list_audit(storage::Tx& tx, const AuditFilter& filter) {
  std::string sql =
      "SELECT audit_id, at_ms, actor_user_id, actor_name, actor_role, action, target_type, target_id, before_json, "
      "after_json, remote_ip, request_id FROM audit_log WHERE 1 = 1";
  std::vector<SqlValue> params;
  auto add = [&](std::string_view condition, SqlValue value) {
    params.push_back(std::move(value));
    sql += " AND ";
    sql += condition;
    sql += " $" + std::to_string(params.size());
  };
  if (filter.actor) add("actor_name =", *filter.actor);
  if (filter.action) add("action =", *filter.action);
  if (filter.target_type) add("target_type =", *filter.target_type);
  if (filter.target_id) add("target_id =", *filter.target_id);
  if (filter.from_ms) add("at_ms >=", *filter.from_ms);
  if (filter.to_ms) add("at_ms <", *filter.to_ms);
  if (filter.before_id) add("audit_id <", *filter.before_id);
  size_t limit = std::clamp<size_t>(filter.limit, 1, limits::kConsolePageSizeMax);
  sql += " ORDER BY audit_id DESC LIMIT " + std::to_string(limit);
  std::vector<AuditRow> out;
  for (const auto& r : tx.query_sql(sql, params)) {
    AuditRow a;
    a.id = sql_int(r[0]);
    a.at_ms = sql_int(r[1]);
    if (!sql_is_null(r[2])) a.actor_user_id = sql_int(r[2]);
    a.actor_name = sql_text(r[3]);
    a.actor_role = sql_text(r[4]);
    a.action = sql_text(r[5]);
    a.target_type = sql_text(r[6]);
    a.target_id = sql_text(r[7]);
    a.before_json = sql_text(r[8]);
    a.after_json = sql_text(r[9]);
    a.remote_ip = sql_text(r[10]);
    a.request_id = sql_text(r[11]);
    out.push_back(std::move(a));
  }
  return out;
}

nlohmann::json audit_row_json(const AuditRow& row) {
  // Stored as JSON objects by write_audit; anything else is shown as it is rather than dropped.
  auto object = [](const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    return j.is_discarded() ? nlohmann::json(text) : j;
  };
  return {{"id", row.id},
          {"at_ms", row.at_ms},
          {"actor_name", row.actor_name},
          {"actor_role", row.actor_role},
          {"action", row.action},
          {"target_type", row.target_type},
          {"target_id", row.target_id},
          {"before", object(row.before_json)},
          {"after", object(row.after_json)},
          {"remote_ip", row.remote_ip},
          {"request_id", row.request_id}};
}

}  // namespace paygate::console
