// Console users and the audit log from the CLI: `paygate operator ...`, `paygate merchant login ...`,
// `paygate audit list`, and the demo's console logins. Changes are audited as cli:<unix user>.
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/clock.h"
#include "base/limits.h"
#include "console/audit.h"
#include "console/auth.h"
#include "console/console.h"
#include "console/notifications.h"
#include "tools/cli_support.h"
#include "tools/commands.h"

namespace paygate::tools {

using nlohmann::json;

namespace {

// Every user the filter selects (all pages), newest first.
std::vector<console::User> all_users(storage::Tx& tx, console::UserFilter filter) {
  std::vector<console::User> out;
  filter.limit = limits::kConsolePageSizeMax;
  for (size_t page = 0; page < limits::kSqlRowsMax / limits::kConsolePageSizeMax; ++page) {
    auto batch = console::list_users(tx, filter);
    out.insert(out.end(), batch.begin(), batch.end());
    if (batch.size() < filter.limit) break;
    filter.before_id = batch.back().id;
  }
  return out;
}

std::string user_line(const console::User& u) {
  std::ostringstream os;
  os << u.id << "  " << (u.enabled ? "enabled " : "disabled") << "  " << console::role_name(u.role);
  if (u.merchant_id) os << " of " << u.merchant_id->value();
  os << "  " << u.name;
  if (u.last_login_at_ms > 0) os << "  (last login " << format_local_datetime(u.last_login_at_ms / 1000, 0) << " UTC)";
  os << "\n";
  return os.str();
}

// The password to set: one line from standard input (--password-stdin, checked against the rules), or a new random
// one. `generated` says which.
Result<std::string> password_to_set(bool from_stdin, Random& random, bool& generated) {
  generated = false;
  if (!from_stdin) {
    generated = true;
    return console::generate_password(random);
  }
  std::string line;
  if (!std::getline(std::cin, line)) {
    return make_error(ErrorCode::kInvalidArgument, "--password-stdin: no password on standard input");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  PG_TRY(console::check_password_rules(line));
  return line;
}

// Creates a console user with the CLI as the actor.
Result<console::User> create_console_user(Ctx& ctx, const std::string& name, console::Role role,
                                          std::optional<MerchantId> merchant, const std::string& password) {
  PG_TRY(console::check_user_name(name));
  PG_TRY(console::check_password_rules(password));
  auto hash = console::hash_password(password);
  if (!hash.ok()) return hash.error();
  console::NewUser nu{name, role, merchant, *hash};
  const console::Principal who = console::cli_principal();
  std::optional<console::User> created;
  auto st = ctx.store->write_sync([&](storage::Tx& tx) -> Status {
    auto u = console::create_user(tx, nu, who, ctx.clock.now_unix_ms());
    if (!u.ok()) return u.error();
    created = *u;
    return ok_status();
  });
  if (!st.ok()) return st.error();
  return *created;
}

int print_created(const console::User& u, const std::string& password, bool generated, Output out) {
  json j = console::user_json(u);  // the User object, plus "password" when generated
  std::string text =
      "created " + std::string(console::role_name(u.role)) + " user " + u.name + " (id " + std::to_string(u.id) + ")\n";
  if (generated) {
    j["password"] = password;
    text += "password: " + password + "   (shown once: store it safely)\n";
  }
  print(j, out, text);
  return 0;
}

int user_create(const app::Config& c, const std::string& name, console::Role role, std::optional<MerchantId> merchant,
                bool password_stdin, Output out) {
  if (auto st = console::check_user_name(name); !st.ok()) return fail(st.error().message);
  auto ctx = open(c, Open::kMayCreate);
  bool generated = false;
  auto password = password_to_set(password_stdin, ctx->random, generated);
  if (!password.ok()) return fail(password.error().message);
  auto user = create_console_user(*ctx, name, role, merchant, *password);
  if (!user.ok()) return fail(user.error().message);
  return print_created(*user, *password, generated, out);
}

}  // namespace

int operator_create(const app::Config& c, const std::string& name, const std::string& role, bool password_stdin,
                    Output out) {
  auto r = console::parse_role(role);
  if (!r || *r == console::Role::kMerchant) return fail("--role must be admin or support");
  return user_create(c, name, *r, std::nullopt, password_stdin, out);
}

int merchant_login_create(const app::Config& c, int64_t merchant, const std::string& name, bool password_stdin,
                          Output out) {
  return user_create(c, name, console::Role::kMerchant, MerchantId{merchant}, password_stdin, out);
}

int operator_list(const app::Config& c, Output out) {
  auto ctx = open(c);
  auto tx = ctx->store->read();
  json arr = json::array();
  std::string text;
  for (const auto& u : all_users(*tx, {})) {
    if (u.role == console::Role::kMerchant) continue;
    arr.push_back(console::user_json(u));
    text += user_line(u);
  }
  if (text.empty()) text = "no operators (create one: paygate operator create --name NAME --role admin)\n";
  print(arr, out, text);
  return 0;
}

int merchant_login_list(const app::Config& c, std::optional<int64_t> merchant, Output out) {
  auto ctx = open(c);
  auto tx = ctx->store->read();
  console::UserFilter f;
  f.role = console::Role::kMerchant;
  if (merchant) f.merchant_id = MerchantId{*merchant};
  json arr = json::array();
  std::string text;
  for (const auto& u : all_users(*tx, f)) {
    arr.push_back(console::user_json(u));
    text += user_line(u);
  }
  if (text.empty()) text = "no merchant logins\n";
  print(arr, out, text);
  return 0;
}

int operator_set_enabled(const app::Config& c, const std::string& name, bool enabled, Output out) {
  auto ctx = open(c);
  const console::Principal who = console::cli_principal();
  std::optional<console::User> changed;
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    auto u = console::user_by_name(tx, name);
    if (!u) return make_error(ErrorCode::kNotFound, "no console user named " + name);
    auto r = console::set_user_enabled(tx, u->id, enabled, who, ctx->clock.now_unix_ms());
    if (!r.ok()) return r.error();
    changed = *r;
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  print(console::user_json(*changed), out,
        "user " + changed->name + (enabled ? " enabled\n" : " disabled (its sessions ended)\n"));
  return 0;
}

int operator_password(const app::Config& c, const std::string& name, bool password_stdin, Output out) {
  auto ctx = open(c);
  if (!console::user_by_name(*ctx->store->read(), name)) return fail("no console user named " + name);
  bool generated = false;
  auto password = password_to_set(password_stdin, ctx->random, generated);
  if (!password.ok()) return fail(password.error().message);
  auto hash = console::hash_password(*password);
  if (!hash.ok()) return fail(hash.error().message);
  const console::Principal who = console::cli_principal();
  std::optional<console::User> changed;
  auto st = ctx->store->write_sync([&](storage::Tx& tx) -> Status {
    auto u = console::user_by_name(tx, name);
    if (!u) return make_error(ErrorCode::kNotFound, "no console user named " + name);
    auto r = console::set_user_password(tx, u->id, *hash, who, ctx->clock.now_unix_ms());
    if (!r.ok()) return r.error();
    changed = *r;
    return ok_status();
  });
  if (!st.ok()) return fail(st.error().message);
  json j = console::user_json(*changed);
  std::string text = "password of " + changed->name + " changed (its sessions ended)\n";
  if (generated) {
    j["password"] = *password;
    text += "password: " + *password + "   (shown once: store it safely)\n";
  }
  print(j, out, text);
  return 0;
}

int audit_list(const app::Config& c, const AuditListFilter& f, Output out) {
  auto ctx = open(c);
  console::AuditFilter af;
  if (!f.actor.empty()) af.actor = f.actor;
  if (!f.action.empty()) af.action = f.action;
  if (!f.target_type.empty()) af.target_type = f.target_type;
  if (!f.target_id.empty()) af.target_id = f.target_id;
  af.limit = f.limit;
  auto rows = console::list_audit(*ctx->store->read(), af);
  json arr = json::array();
  std::string text;
  for (const auto& r : rows) {
    arr.push_back(console::audit_row_json(r));
    text += format_local_datetime(r.at_ms / 1000, c.console.utc_offset_minutes) + "  " + r.actor_name + " (" +
            r.actor_role + ")  " + r.action + "  " + r.target_type + ":" + r.target_id;
    if (r.before_json != "{}") text += "  before " + r.before_json;
    if (r.after_json != "{}") text += "  after " + r.after_json;
    text += "\n";
  }
  if (text.empty()) text = "no audit entries\n";
  print(arr, out, text);
  return 0;
}

int notify_list(const app::Config& c, const NotifyListFilter& f, Output out) {
  auto ctx = open(c);
  console::NotificationQuery q;
  if (f.merchant) q.merchant_id = MerchantId{*f.merchant};
  q.state = f.state;
  q.protocol = f.protocol;
  q.order_id = f.order;
  q.limit = f.limit;
  auto page = console::search_notifications(*ctx->store->read(), console::cli_principal(), q);
  json arr = json::array();
  std::string text;
  for (const auto& r : page.items) {
    arr.push_back(console::notification_row_json(r));
    text += std::to_string(r.id) + "  " + format_local_datetime(r.created_at_ms / 1000, c.console.utc_offset_minutes) +
            "  " + std::to_string(r.merchant_id.value()) + "  " + r.protocol + "  " + r.order_id + "  " + r.state +
            "  " + std::to_string(r.attempts_made) + "/" + std::to_string(r.attempts_max);
    if (r.last_attempt) {
      text += "  last: HTTP " + std::to_string(r.last_attempt->http_status);
      if (!r.last_attempt->error.empty()) text += " (" + r.last_attempt->error + ")";
    }
    text += "\n";
  }
  if (text.empty()) text = "no notifications\n";
  print(arr, out, text);
  return 0;
}

std::string demo_console_logins(Ctx& ctx, MerchantId merchant, const std::string& console_url) {
  std::ostringstream os;
  os << "=== console ===\n" << console_url << "\n";
  struct Login {
    std::string name;
    console::Role role;
    std::optional<MerchantId> merchant;
    std::string label;
  };
  const std::vector<Login> logins = {
      {"admin", console::Role::kAdmin, std::nullopt, "operator, role admin"},
      {"demo", console::Role::kMerchant, merchant, "merchant " + std::to_string(merchant.value()) + "'s login"},
  };
  for (const auto& l : logins) {
    os << (l.role == console::Role::kAdmin ? "admin:      " : "merchant:   ");
    if (console::user_by_name(*ctx.store->read(), l.name)) {
      os << l.name << "   (exists; a new password: paygate operator password " << l.name << ")\n";
      continue;
    }
    std::string password = console::generate_password(ctx.random);
    auto created = create_console_user(ctx, l.name, l.role, l.merchant, password);
    if (!created.ok()) {
      os << l.name << "   (not created: " << created.error().message << ")\n";
      continue;
    }
    os << l.name << " / " << password << "   (" << l.label << "; password shown once)\n";
  }
  os << "\n";
  return os.str();
}

}  // namespace paygate::tools
