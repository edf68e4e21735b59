#include "console/console.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace paygate::console {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kSupport: return "support";
    case Role::kMerchant: return "merchant";
    case Role::kCli: return "cli";
  }
  return "support";
}

std::optional<Role> parse_role(std::string_view name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "support") return Role::kSupport;
  if (name == "merchant") return Role::kMerchant;
  return std::nullopt;  // "cli" is never a stored or requested role
}

bool Principal::allowed(Permission p) const {
  switch (role) {
    case Role::kAdmin:
    case Role::kCli:
      return true;
    case Role::kSupport:
      return p == Permission::kView || p == Permission::kResend || p == Permission::kResolveReview;
    case Role::kMerchant:
      return p == Permission::kView || p == Permission::kResend;
  }
  return false;
}

bool Principal::can_see_merchant(MerchantId id) const {
  if (is_operator()) return true;
  return merchant_id.has_value() && *merchant_id == id;
}

Principal cli_principal() {
  std::string user;
  // getpwuid_r: the CLI is single-threaded, but a reentrant call costs nothing.
  std::vector<char> buf(16 * 1024);
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (getpwuid_r(geteuid(), &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_name) {
    user = found->pw_name;
  }
  if (user.empty()) {
    if (const char* env = std::getenv("USER"); env && *env) user = env;
  }
  if (user.empty()) user = "uid" + std::to_string(geteuid());
  Principal p;
  p.user_id = 0;
  p.name = "cli:" + user;
  p.role = Role::kCli;
  p.remote_ip = "";
  p.request_id = "";
  return p;
}

void write_audit(storage::Tx& tx, const Principal& who, const AuditEntry& entry, int64_t now_ms) {
  PG_ASSERT(!entry.action.empty(), "an audit entry needs an action");
  PG_ASSERT(!entry.before_json.empty() && !entry.after_json.empty(), "audit before/after are JSON objects");
  storage::SqlValue actor_id = who.user_id > 0 ? storage::SqlValue{who.user_id} : storage::SqlValue{};
  tx.exec_sql(
      "INSERT INTO audit_log (at_ms, actor_user_id, actor_name, actor_role, action, target_type, target_id, "
      "before_json, after_json, remote_ip, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      {now_ms, actor_id, who.name, std::string(role_name(who.role)), entry.action, entry.target_type,
       entry.target_id, entry.before_json, entry.after_json, who.remote_ip, who.request_id});
}

}  // namespace paygate::console
