// The CLI subcommands that operate on data. Each opens the store, does its work, prints text or (--json)
// one JSON document, and returns the exit code.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "app/config.h"

namespace paygate::tools {

struct Output {
  bool json = false;
};

int migrate(const app::Config& c);
int demo(const app::Config& c);

int merchant_create(const app::Config& c, const std::string& name, Output out);
int merchant_list(const app::Config& c, Output out);
int merchant_show(const app::Config& c, int64_t id, Output out);
int merchant_rotate_keys(const app::Config& c, int64_t id, Output out);
int merchant_set_enabled(const app::Config& c, int64_t id, bool enabled, Output out);
int merchant_balance(const app::Config& c, int64_t id, Output out);
// allow: comma-separated addresses and CIDR ranges; "" clears the list (any address).
int merchant_set_ips(const app::Config& c, int64_t id, const std::string& allow, Output out);

struct ProductSpec {
  std::string code;
  std::string name;
  std::string face_values;  // "50,100,200"
  std::string rate;         // "96.5"
  std::string custom_rate_min;
  std::string custom_rate_max;
};
int product_add(const app::Config& c, const ProductSpec& spec, Output out);
int product_list(const app::Config& c, Output out);
int product_enable(const app::Config& c, int64_t merchant, const std::string& code, bool enabled, Output out);

struct OrderListFilter {
  std::optional<int64_t> merchant;
  std::string status;
  std::string batchno;
  size_t limit = 100;
};
int order_list(const app::Config& c, const OrderListFilter& f, Output out);
int order_show(const app::Config& c, const std::string& sys_order_id, Output out);
int order_resolve(const app::Config& c, const std::string& sys_order_id, bool success, int64_t real_money_yuan,
                  const std::string& message, Output out);
// Sends the order's latest notification again (one more attempt, due now); audited as the CLI.
int order_resend(const app::Config& c, const std::string& id, Output out);

int ledger_check(const app::Config& c, Output out);

// Money reports (money_commands.cpp).
struct StatementSpec {
  int64_t merchant = 0;
  std::string account = "available";
  std::string from;  // YYYY-MM-DD (local day) or Unix ms; "" for the beginning
  std::string to;    // YYYY-MM-DD (through that local day) or Unix ms (exclusive); "" for now
  bool csv = false;
};
int ledger_statement(const app::Config& c, const StatementSpec& spec, Output out);
// Exit code 1 when the orders and the ledger differ.
int report_reconcile(const app::Config& c, const std::string& date, std::optional<int64_t> merchant, bool csv,
                     Output out);

// Gateway (gateway_commands.cpp).
int channel_catalogue(const app::Config& c, Output out);
struct ChannelSpec {
  int64_t merchant = 0;
  int channel = 0;
  std::string fee_rate;    // percent, one decimal: "2.5"
  std::string min_amount;  // yuan, "" for none
  std::string max_amount;
  std::string processor = "sandbox";
};
int channel_enable(const app::Config& c, const ChannelSpec& spec, Output out);
int channel_disable(const app::Config& c, int64_t merchant, int channel, Output out);
int channel_list(const app::Config& c, int64_t merchant, Output out);
// fee: yuan ("" keeps it); manual_approval: "on" / "off" ("" keeps it).
int merchant_set_payout(const app::Config& c, int64_t merchant, const std::string& fee,
                        const std::string& manual_approval, Output out);

struct GatewayListFilter {
  std::optional<int64_t> merchant;
  std::string status;
  size_t limit = 100;
};
int payin_list(const app::Config& c, const GatewayListFilter& f, Output out);
int payin_show(const app::Config& c, const std::string& id, Output out);
int payout_list(const app::Config& c, const GatewayListFilter& f, Output out);
int payout_show(const app::Config& c, const std::string& id, Output out);
int payout_approve(const app::Config& c, const std::string& id, Output out);
int payout_reject(const app::Config& c, const std::string& id, const std::string& reason, Output out);

// Cashier (cashier_commands.cpp).
// settlement_delay_days: -1 keeps it; bound_card: "on" / "off" ("" keeps it).
int merchant_set_cashier(const app::Config& c, int64_t merchant, int settlement_delay_days,
                         const std::string& bound_card, Output out);
// Settles pending cashier orders due by `as_of_ms` (0: now), as the job inside `serve` does.
int settle(const app::Config& c, int64_t as_of_ms, Output out);
int order_hold(const app::Config& c, const std::string& id, const std::string& reason, Output out);
// to: "merchant" or "payer".
int order_release(const app::Config& c, const std::string& id, const std::string& to, const std::string& reason,
                  Output out);
int cashier_list(const app::Config& c, const GatewayListFilter& f, Output out);
int cashier_show(const app::Config& c, const std::string& id, Output out);

// Console users and the audit log (console_commands.cpp). Without password_stdin a strong random password is
// generated and printed once; with it, one line of standard input is the password.
int operator_create(const app::Config& c, const std::string& name, const std::string& role, bool password_stdin,
                    Output out);
int operator_list(const app::Config& c, Output out);
int operator_set_enabled(const app::Config& c, const std::string& name, bool enabled, Output out);
int operator_password(const app::Config& c, const std::string& name, bool password_stdin, Output out);
int merchant_login_create(const app::Config& c, int64_t merchant, const std::string& name, bool password_stdin,
                          Output out);
int merchant_login_list(const app::Config& c, std::optional<int64_t> merchant, Output out);
struct AuditListFilter {
  std::string actor;
  std::string action;
  std::string target_type;
  std::string target_id;
  size_t limit = 50;
};
int audit_list(const app::Config& c, const AuditListFilter& f, Output out);
struct NotifyListFilter {
  std::optional<int64_t> merchant;
  std::string state;     // pending, delivered, failed
  std::string protocol;  // consign, gateway, cashier
  std::string order;     // the platform's order id
  size_t limit = 50;
};
// The notification log, newest first, each with its latest attempt (console/notifications.h).
int notify_list(const app::Config& c, const NotifyListFilter& f, Output out);

}  // namespace paygate::tools
