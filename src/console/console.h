// The operator and merchant console: who is asking (Principal), what they may do (Permission), and the audit
// log every change writes. Shared by the admin API (api_*.cpp) and the CLI (src/tools/), so an action taken from
// either is checked and audited the same way.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/ids.h"
#include "base/result.h"
#include "storage/store.h"

namespace paygate::console {

enum class Role { kAdmin, kSupport, kMerchant, kCli };
std::string_view role_name(Role role);  // "admin", "support", "merchant", "cli"
std::optional<Role> parse_role(std::string_view name);  // admin, support, merchant (never cli)

// What a request may do. Merchants may only look at and resend their own data (checked per object, see
// Principal::can_see_merchant).
enum class Permission {
  kView,             // read (merchants: only their own)
  kResend,           // resend a notification (merchants: their own orders)
  kResolveReview,    // resolve a consign review, hold or release a cashier order
  kApprovePayout,    // approve or reject a payout
  kManageMerchants,  // create, change, disable merchants; channels, products, rates, keys, IP allowlists
  kManageUsers,      // create and disable console users
  kReadAudit,        // read the audit log
};

// The user behind a request (or the CLI).
struct Principal {
  int64_t user_id = 0;  // 0 for the CLI
  std::string name;
  Role role = Role::kSupport;
  std::optional<MerchantId> merchant_id;  // merchants only
  std::string remote_ip;
  std::string request_id;

  bool allowed(Permission p) const;
  // Operators see every merchant; a merchant sees only itself.
  bool can_see_merchant(MerchantId id) const;
  bool is_operator() const { return role == Role::kAdmin || role == Role::kSupport || role == Role::kCli; }
};

// The CLI's principal: role cli (allowed everything), named cli:<unix user>.
Principal cli_principal();

// One audit entry, written in the same transaction as the change it records.
struct AuditEntry {
  std::string action;       // e.g. "merchant.update", "order.resolve", "payout.approve", "user.create"
  std::string target_type;  // "merchant", "order", "user", "product", "channel", "notification", "session"
  std::string target_id;
  std::string before_json = "{}";  // the target before the change (JSON object; secrets masked, never plain)
  std::string after_json = "{}";
};
void write_audit(storage::Tx& tx, const Principal& who, const AuditEntry& entry, int64_t now_ms);

}  // namespace paygate::console
