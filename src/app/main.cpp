// paygate: one binary, subcommands. `paygate --help` lists them; every subcommand has its own --help.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <memory>

#include "app/config.h"
#include "app/log_sink.h"
#include "app/server_app.h"
#include "base/assert.h"
#include "tools/commands.h"

using namespace paygate;

namespace {

// `serving`: the server's lines go out in large writes when stderr is not a terminal (app/log_sink.h); the other
// subcommands log warnings and worse only, line by line.
void setup_logging(const std::string& level, bool serving) {
  std::shared_ptr<spdlog::logger> logger;
  if (serving && isatty(STDERR_FILENO) == 0) {
    logger = std::make_shared<spdlog::logger>("paygate", std::make_shared<app::BufferedFdSink>(STDERR_FILENO));
    spdlog::register_logger(logger);
    spdlog::flush_every(std::chrono::seconds(1));
    set_assertion_hook([] { spdlog::default_logger_raw()->flush(); });
  } else {
    logger = spdlog::stderr_color_mt("paygate");
  }
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  spdlog::set_default_logger(logger);
  auto lvl = spdlog::level::from_str(level);
  if (!serving && lvl < spdlog::level::warn) lvl = spdlog::level::warn;
  spdlog::set_level(lvl);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"paygate: a self-hosted payment and card-consignment platform"};
  app.require_subcommand(1);
  app.fallthrough();
  std::string config_path, data_dir, database;
  app.add_option("--config", config_path, "TOML config file (docs/configuration.md)");
  app.add_option("--data", data_dir, "data directory (overrides storage.data_dir)");
  // Global like --config and --data, so every subcommand that touches data takes it (after the subcommand too).
  app.add_option("--database", database,
                 "database (overrides storage.database): postgresql://USER:PASSWORD@HOST:PORT/DB (or postgres://) "
                 "for PostgreSQL, sqlite:PATH, or empty for SQLite at <data>/paygate.db");

  tools::Output out;
  auto add_json = [&](CLI::App* cmd) { cmd->add_flag("--json", out.json, "print JSON"); };
  // Also on each subcommand that touches data, so that its --help shows it.
  auto add_database = [&](CLI::App* cmd) {
    cmd->add_option("--database", database, "database URL (postgresql://..., sqlite:PATH; empty: SQLite in --data)");
    cmd->add_option("--config", config_path, "TOML config file (docs/configuration.md)");
    cmd->add_option("--data", data_dir, "data directory (overrides storage.data_dir)");
  };

  // serve
  auto* serve = app.add_subcommand("serve", "run the HTTP server");
  std::string listen, port_file;
  serve->add_option("--listen", listen, "HOST:PORT to listen on (port 0 picks a free one)");
  serve->add_option("--port-file", port_file, "write the bound port to this file once listening");

  auto* migrate = app.add_subcommand("migrate", "create or upgrade the database schema");
  auto* demo =
      app.add_subcommand("demo", "seed a demo merchant and product catalogue, print credentials and an example");

  // merchant
  auto* merchant = app.add_subcommand("merchant", "manage merchants");
  merchant->require_subcommand(1);
  std::string name;
  int64_t id = 0;
  auto* m_create = merchant->add_subcommand("create", "create a merchant and print its keys (shown once)");
  m_create->add_option("--name", name, "merchant name")->required();
  add_json(m_create);
  auto* m_list = merchant->add_subcommand("list", "list merchants");
  add_json(m_list);
  auto* m_show = merchant->add_subcommand("show", "show one merchant");
  m_show->add_option("id", id, "merchant id")->required();
  add_json(m_show);
  auto* m_rotate = merchant->add_subcommand("rotate-keys", "replace appKey, key and aesKey (new keys shown once)");
  m_rotate->add_option("id", id, "merchant id")->required();
  add_json(m_rotate);
  auto* m_disable = merchant->add_subcommand("disable", "refuse the merchant's requests");
  m_disable->add_option("id", id, "merchant id")->required();
  add_json(m_disable);
  auto* m_enable = merchant->add_subcommand("enable", "accept the merchant's requests again");
  m_enable->add_option("id", id, "merchant id")->required();
  add_json(m_enable);
  auto* m_balance = merchant->add_subcommand("balance", "show the merchant's balance");
  m_balance->add_option("id", id, "merchant id")->required();
  add_json(m_balance);

  // product
  auto* product = app.add_subcommand("product", "manage the consign product catalogue");
  product->require_subcommand(1);
  tools::ProductSpec spec;
  auto* p_add = product->add_subcommand("add", "add or update a product");
  p_add->add_option("--code", spec.code, "product code merchants send as productCode")->required();
  p_add->add_option("--name", spec.name, "display name");
  p_add->add_option("--face-values", spec.face_values, "accepted face values in whole yuan, e.g. 50,100,200")
      ->required();
  p_add->add_option("--rate", spec.rate, "default settlement rate in percent, one decimal, e.g. 96.5")->required();
  p_add->add_option("--custom-rate-min", spec.custom_rate_min, "lowest customizeRate allowed (enables custom rates)");
  p_add->add_option("--custom-rate-max", spec.custom_rate_max, "highest customizeRate allowed");
  add_json(p_add);
  auto* p_list = product->add_subcommand("list", "list products");
  add_json(p_list);
  auto* p_enable = product->add_subcommand("enable", "enable (or with --disable, disable) a product for a merchant");
  std::string code;
  bool disable = false;
  p_enable->add_option("--merchant", id, "merchant id")->required();
  p_enable->add_option("--code", code, "product code")->required();
  p_enable->add_flag("--disable", disable, "disable instead");
  add_json(p_enable);

  // order
  auto* order = app.add_subcommand("order", "inspect and resolve orders");
  order->require_subcommand(1);
  tools::OrderListFilter filter;
  auto* o_list = order->add_subcommand("list", "list orders, newest first");
  int64_t filter_merchant = 0;
  o_list->add_option("--merchant", filter_merchant, "only this merchant's orders");
  o_list->add_option("--status", filter.status, "processing, review, success or failed");
  o_list->add_option("--batchno", filter.batchno, "only this batch");
  o_list->add_option("--limit", filter.limit, "at most this many (max 1000)")->check(CLI::Range(1, 1000));
  add_json(o_list);
  std::string sys_order_id;
  auto* o_show = order->add_subcommand("show", "show an order with its notifications and ledger postings");
  o_show->add_option("sysOrderId", sys_order_id, "the platform's order id")->required();
  add_json(o_show);
  auto* o_resolve = order->add_subcommand("resolve", "finish an order waiting for manual review");
  bool success = false, failure = false;
  int64_t real_money = 0;
  std::string message;
  o_resolve->add_option("sysOrderId", sys_order_id, "the platform's order id")->required();
  auto* f_success = o_resolve->add_flag("--success", success, "the card was redeemed");
  auto* f_fail = o_resolve->add_flag("--fail", failure, "the card was rejected");
  f_success->excludes(f_fail);
  auto* o_real_money =
      o_resolve->add_option("--real-money", real_money, "the card's true value in whole yuan (with --success)");
  o_resolve->add_option("--message", message, "message for the merchant");
  add_json(o_resolve);
  std::string resend_id;
  auto* o_resend = order->add_subcommand("resend", "send an order's latest notification again (one more attempt, now)");
  o_resend->add_option("id", resend_id, "the order's platform id (C..., P..., W..., Q...)")->required();
  add_json(o_resend);

  // merchant set-payout
  std::string payout_fee, manual_approval;
  auto* m_set_payout = merchant->add_subcommand("set-payout", "set the gateway payout fee and manual approval");
  m_set_payout->add_option("id", id, "merchant id")->required();
  m_set_payout->add_option("--fee", payout_fee, "fee taken with each payout, yuan (e.g. 2.00; 0 for none)");
  m_set_payout->add_option("--manual-approval", manual_approval, "on: payouts wait for an operator; off: they don't")
      ->check(CLI::IsMember({"on", "off"}));
  add_json(m_set_payout);

  // channel
  auto* channel = app.add_subcommand("channel", "gateway pay-in channels and their fees per merchant");
  channel->require_subcommand(1);
  tools::ChannelSpec chspec;
  auto* c_catalogue = channel->add_subcommand("catalogue", "list the channel table (ids 1-15)");
  add_json(c_catalogue);
  auto* c_enable = channel->add_subcommand("enable", "enable a channel for a merchant, or change its fee and limits");
  c_enable->add_option("--merchant", chspec.merchant, "merchant id")->required();
  c_enable->add_option("--channel", chspec.channel, "channel id, 1-15 (paygate channel catalogue)")->required();
  c_enable->add_option("--fee-rate", chspec.fee_rate, "fee in percent of the paid amount, one decimal, e.g. 2.5")
      ->required();
  c_enable->add_option("--min", chspec.min_amount, "smallest amount per order, yuan (default: none)");
  c_enable->add_option("--max", chspec.max_amount, "largest amount per order, yuan (default: none)");
  c_enable->add_option("--processor", chspec.processor, "processor the channel is bound to (default: sandbox)");
  add_json(c_enable);
  auto* c_disable = channel->add_subcommand("disable", "disable a channel for a merchant");
  int channel_id = 0;
  c_disable->add_option("--merchant", id, "merchant id")->required();
  c_disable->add_option("--channel", channel_id, "channel id")->required();
  add_json(c_disable);
  auto* c_list = channel->add_subcommand("list", "a merchant's channels");
  c_list->add_option("--merchant", id, "merchant id")->required();
  add_json(c_list);

  // payin / payout
  tools::GatewayListFilter gfilter;
  int64_t gfilter_merchant = 0;
  std::string gid, reason;
  auto* payin = app.add_subcommand("payin", "inspect gateway pay-ins");
  payin->require_subcommand(1);
  auto* pi_list = payin->add_subcommand("list", "list pay-ins, newest first");
  pi_list->add_option("--merchant", gfilter_merchant, "only this merchant's");
  pi_list->add_option("--status", gfilter.status, "waiting, paid or failed");
  pi_list->add_option("--limit", gfilter.limit, "at most this many (max 1000)")->check(CLI::Range(1, 1000));
  add_json(pi_list);
  auto* pi_show = payin->add_subcommand("show", "show a pay-in with its callbacks and ledger postings");
  pi_show->add_option("id", gid, "the payment id (the payUrl's id)")->required();
  add_json(pi_show);
  auto* payout = app.add_subcommand("payout", "inspect, approve and reject gateway payouts");
  payout->require_subcommand(1);
  auto* po_list = payout->add_subcommand("list", "list payouts, newest first");
  po_list->add_option("--merchant", gfilter_merchant, "only this merchant's");
  po_list->add_option("--status", gfilter.status, "approval, processing, paid, failed or rejected");
  po_list->add_option("--limit", gfilter.limit, "at most this many (max 1000)")->check(CLI::Range(1, 1000));
  add_json(po_list);
  auto* po_show = payout->add_subcommand("show", "show a payout with its callbacks and ledger postings");
  po_show->add_option("id", gid, "the payout id")->required();
  add_json(po_show);
  auto* po_approve = payout->add_subcommand("approve", "approve a payout waiting for approval");
  po_approve->add_option("id", gid, "the payout id")->required();
  add_json(po_approve);
  auto* po_reject = payout->add_subcommand("reject", "reject a payout waiting for approval (its money returns)");
  po_reject->add_option("id", gid, "the payout id")->required();
  po_reject->add_option("--reason", reason, "why, for the records");
  add_json(po_reject);

  // cashier
  int settlement_days = -1;
  std::string bound_card, release_to;
  int64_t as_of_ms = 0;
  auto* m_set_cashier =
      merchant->add_subcommand("set-cashier", "set the cashier settlement delay and bound-card permission");
  m_set_cashier->add_option("id", id, "merchant id")->required();
  m_set_cashier
      ->add_option("--settlement-delay-days", settlement_days,
                   "days paid money stays pending (1002) before it settles to available; 0: at once (0000)")
      ->check(CLI::Range(0, 365));
  m_set_cashier->add_option("--bound-card", bound_card, "on: bound-card payment (accname + accno) allowed")
      ->check(CLI::IsMember({"on", "off"}));
  add_json(m_set_cashier);
  auto* settle_cmd =
      app.add_subcommand("settle", "settle pending cashier orders that are due (as the job in serve does)");
  settle_cmd->add_option("--as-of", as_of_ms, "settle as of this Unix time in ms instead of now");
  add_json(settle_cmd);
  auto* o_hold = order->add_subcommand("hold", "hold a paid cashier order for investigation (1004, funds frozen)");
  o_hold->add_option("queryid", gid, "the cashier order's queryid")->required();
  o_hold->add_option("--reason", reason, "resultmsg for the merchant");
  add_json(o_hold);
  auto* o_release = order->add_subcommand("release", "release a held cashier order to the merchant or the payer");
  o_release->add_option("queryid", gid, "the cashier order's queryid")->required();
  o_release->add_option("--to", release_to, "merchant (0000, funds to available) or payer (1003, funds returned)")
      ->required()
      ->check(CLI::IsMember({"merchant", "payer"}));
  o_release->add_option("--reason", reason, "resultmsg for the merchant");
  add_json(o_release);
  auto* cashier_cmd = app.add_subcommand("cashier", "inspect cashier orders");
  cashier_cmd->require_subcommand(1);
  auto* ca_list = cashier_cmd->add_subcommand("list", "list cashier orders, newest first");
  ca_list->add_option("--merchant", gfilter_merchant, "only this merchant's");
  ca_list->add_option("--status", gfilter.status, "unpaid, paid, pending, failed or held");
  ca_list->add_option("--limit", gfilter.limit, "at most this many (max 1000)")->check(CLI::Range(1, 1000));
  add_json(ca_list);
  auto* ca_show = cashier_cmd->add_subcommand("show", "show a cashier order with its notifications and postings");
  ca_show->add_option("queryid", gid, "the queryid")->required();
  add_json(ca_show);

  auto* ledger = app.add_subcommand("ledger", "ledger tools");
  ledger->require_subcommand(1);
  auto* l_check = ledger->add_subcommand("check", "verify the ledger invariants; exit 1 when broken");
  add_json(l_check);

  // console users and the audit log
  auto* op = app.add_subcommand("operator", "console operators (admin, support)");
  op->require_subcommand(1);
  std::string user_name, user_role;
  bool password_stdin = false;
  auto* op_create = op->add_subcommand("create", "create an operator; prints a generated password once");
  op_create->add_option("--name", user_name, "login name (A-Z a-z 0-9 . _ @ -, at most 64)")->required();
  op_create->add_option("--role", user_role, "admin or support")
      ->required()
      ->check(CLI::IsMember({"admin", "support"}));
  op_create->add_flag("--password-stdin", password_stdin, "read the password from standard input (one line)");
  add_json(op_create);
  auto* op_list = op->add_subcommand("list", "list operators");
  add_json(op_list);
  auto* op_disable = op->add_subcommand("disable", "disable a console user (ends its sessions)");
  op_disable->add_option("name", user_name, "login name")->required();
  add_json(op_disable);
  auto* op_enable = op->add_subcommand("enable", "enable a console user again");
  op_enable->add_option("name", user_name, "login name")->required();
  add_json(op_enable);
  auto* op_password = op->add_subcommand("password", "set a console user's password (ends its sessions)");
  op_password->add_option("name", user_name, "login name")->required();
  op_password->add_flag("--password-stdin", password_stdin, "read the password from standard input (one line)");
  add_json(op_password);
  auto* m_login = merchant->add_subcommand("login", "merchants' console logins");
  m_login->require_subcommand(1);
  int64_t login_merchant = 0;
  auto* ml_create =
      m_login->add_subcommand("create", "create a console login for a merchant; prints a generated password once");
  ml_create->add_option("merchant_id", login_merchant, "merchant id")->required();
  ml_create->add_option("--name", user_name, "login name (A-Z a-z 0-9 . _ @ -, at most 64)")->required();
  ml_create->add_flag("--password-stdin", password_stdin, "read the password from standard input (one line)");
  add_json(ml_create);
  auto* ml_list = m_login->add_subcommand("list", "list merchants' console logins");
  ml_list->add_option("merchant_id", login_merchant, "only this merchant's");
  add_json(ml_list);
  auto* audit = app.add_subcommand("audit", "the audit log of changes made from the console and the CLI");
  audit->require_subcommand(1);
  tools::AuditListFilter afilter;
  auto* a_list = audit->add_subcommand("list", "list audit entries, newest first");
  a_list->add_option("--actor", afilter.actor, "only this actor (a user name, or cli:USER)");
  a_list->add_option("--action", afilter.action, "only this action, e.g. user.create");
  a_list->add_option("--target-type", afilter.target_type, "only this target type, e.g. user, merchant, order");
  a_list->add_option("--target-id", afilter.target_id, "only this target id");
  a_list->add_option("--limit", afilter.limit, "at most this many (max 200)")->check(CLI::Range(1, 200));
  add_json(a_list);
  auto* notify_cmd = app.add_subcommand("notify", "notifications to merchants' servers");
  notify_cmd->require_subcommand(1);
  tools::NotifyListFilter nfilter;
  int64_t nfilter_merchant = 0;
  auto* n_list = notify_cmd->add_subcommand("list", "the notification log, newest first, with each one's last attempt");
  n_list->add_option("--merchant", nfilter_merchant, "only this merchant's");
  n_list->add_option("--state", nfilter.state, "pending, delivered, failed or superseded")
      ->check(CLI::IsMember({"pending", "delivered", "failed", "superseded"}));
  n_list->add_option("--protocol", nfilter.protocol, "consign, gateway or cashier")
      ->check(CLI::IsMember({"consign", "gateway", "cashier"}));
  n_list->add_option("--order", nfilter.order, "only this order's (the platform's id)");
  n_list->add_option("--limit", nfilter.limit, "at most this many (max 200)")->check(CLI::Range(1, 200));
  add_json(n_list);
  // Merchants' IP allowlists and the money reports (console/merchants.h, console/money.h).
  std::string allow_ips;
  auto* m_set_ips = merchant->add_subcommand("set-ips", "accept the merchant's API calls only from these addresses");
  m_set_ips->add_option("id", id, "merchant id")->required();
  m_set_ips->add_option("--allow", allow_ips, "comma-separated addresses and CIDR ranges (IPv4, IPv6); \"\" allows any")
      ->required();
  add_json(m_set_ips);
  tools::StatementSpec statement_spec;
  auto* l_statement = ledger->add_subcommand("statement", "a merchant account's postings with the running balance");
  l_statement->add_option("--merchant", statement_spec.merchant, "merchant id")->required();
  l_statement
      ->add_option("--account", statement_spec.account, "available (default), pending, frozen or payout_reserved")
      ->check(CLI::IsMember({"available", "pending", "frozen", "payout_reserved"}));
  l_statement->add_option("--from", statement_spec.from, "from this local day (YYYY-MM-DD) or Unix ms");
  l_statement->add_option("--to", statement_spec.to, "through this local day (YYYY-MM-DD) or before this Unix ms");
  l_statement->add_flag("--csv", statement_spec.csv, "CSV (UTF-8 with BOM, yuan) instead of text");
  add_json(l_statement);
  auto* report = app.add_subcommand("report", "reports");
  report->require_subcommand(1);
  std::string reconcile_date;
  int64_t reconcile_merchant = 0;
  bool reconcile_csv = false;
  auto* r_reconcile = report->add_subcommand(
      "reconcile",
      "one local day's orders per merchant and channel, checked against the ledger; exit 1 when they differ");
  r_reconcile->add_option("--date", reconcile_date, "the local day, YYYY-MM-DD")->required();
  r_reconcile->add_option("--merchant", reconcile_merchant, "only this merchant");
  r_reconcile->add_flag("--csv", reconcile_csv, "CSV (UTF-8 with BOM, yuan) instead of text");
  add_json(r_reconcile);
  for (auto* cmd : {m_set_ips, l_statement, r_reconcile}) add_database(cmd);
  // One output format at a time.
  for (auto* cmd : {l_statement, r_reconcile}) cmd->get_option("--csv")->excludes(cmd->get_option("--json"));

  for (auto* cmd :
       {serve,       migrate,       demo,        m_create,  m_list,    m_show,  m_rotate,  m_disable, m_enable,
        m_balance,   p_add,         p_list,      p_enable,  o_list,    o_show,  o_resolve, l_check,   m_set_payout,
        c_catalogue, c_enable,      c_disable,   c_list,    pi_list,   pi_show, po_list,   po_show,   po_approve,
        po_reject,   m_set_cashier, settle_cmd,  o_hold,    o_release, ca_list, ca_show,   op_create, op_list,
        op_disable,  op_enable,     op_password, ml_create, ml_list,   a_list,  o_resend,  n_list}) {
    add_database(cmd);
  }

  CLI11_PARSE(app, argc, argv);

  try {
    app::Config config = app::load_config(config_path);
    if (!data_dir.empty()) config.storage.data_dir = data_dir;
    if (!database.empty()) {
      app::check_database(database);
      config.storage.database = database;
    }
    setup_logging(config.log.level, serve->parsed());
    if (serve->parsed()) {
      if (!listen.empty()) config.server.listen = listen;
      return app::serve(config, app::ServeOptions{port_file});
    }
    if (migrate->parsed()) return tools::migrate(config);
    if (demo->parsed()) return tools::demo(config);
    if (m_create->parsed()) return tools::merchant_create(config, name, out);
    if (m_list->parsed()) return tools::merchant_list(config, out);
    if (m_show->parsed()) return tools::merchant_show(config, id, out);
    if (m_rotate->parsed()) return tools::merchant_rotate_keys(config, id, out);
    if (m_disable->parsed()) return tools::merchant_set_enabled(config, id, false, out);
    if (m_enable->parsed()) return tools::merchant_set_enabled(config, id, true, out);
    if (m_balance->parsed()) return tools::merchant_balance(config, id, out);
    if (p_add->parsed()) return tools::product_add(config, spec, out);
    if (p_list->parsed()) return tools::product_list(config, out);
    if (p_enable->parsed()) return tools::product_enable(config, id, code, !disable, out);
    if (o_list->parsed()) {
      if (filter_merchant != 0) filter.merchant = filter_merchant;
      return tools::order_list(config, filter, out);
    }
    if (o_show->parsed()) return tools::order_show(config, sys_order_id, out);
    if (o_resolve->parsed()) {
      if (success == failure) {
        std::cerr << "error: give exactly one of --success or --fail\n";
        return 2;
      }
      if (failure && o_real_money->count() > 0) {
        std::cerr << "error: --real-money goes with --success only; a failed card has no value\n";
        return 2;
      }
      if (success && real_money <= 0) {
        std::cerr << "error: --success needs --real-money N (whole yuan, > 0)\n";
        return 2;
      }
      return tools::order_resolve(config, sys_order_id, success, real_money, message, out);
    }
    if (o_resend->parsed()) return tools::order_resend(config, resend_id, out);
    if (l_check->parsed()) return tools::ledger_check(config, out);
    if (m_set_ips->parsed()) return tools::merchant_set_ips(config, id, allow_ips, out);
    if (l_statement->parsed()) return tools::ledger_statement(config, statement_spec, out);
    if (r_reconcile->parsed()) {
      return tools::report_reconcile(
          config, reconcile_date, reconcile_merchant != 0 ? std::optional<int64_t>(reconcile_merchant) : std::nullopt,
          reconcile_csv, out);
    }
    if (m_set_payout->parsed()) return tools::merchant_set_payout(config, id, payout_fee, manual_approval, out);
    if (c_catalogue->parsed()) return tools::channel_catalogue(config, out);
    if (c_enable->parsed()) return tools::channel_enable(config, chspec, out);
    if (c_disable->parsed()) return tools::channel_disable(config, id, channel_id, out);
    if (c_list->parsed()) return tools::channel_list(config, id, out);
    if (gfilter_merchant != 0) gfilter.merchant = gfilter_merchant;
    if (pi_list->parsed()) return tools::payin_list(config, gfilter, out);
    if (pi_show->parsed()) return tools::payin_show(config, gid, out);
    if (po_list->parsed()) return tools::payout_list(config, gfilter, out);
    if (po_show->parsed()) return tools::payout_show(config, gid, out);
    if (po_approve->parsed()) return tools::payout_approve(config, gid, out);
    if (po_reject->parsed()) return tools::payout_reject(config, gid, reason, out);
    if (m_set_cashier->parsed()) return tools::merchant_set_cashier(config, id, settlement_days, bound_card, out);
    if (settle_cmd->parsed()) return tools::settle(config, as_of_ms, out);
    if (o_hold->parsed()) return tools::order_hold(config, gid, reason, out);
    if (o_release->parsed()) return tools::order_release(config, gid, release_to, reason, out);
    if (ca_list->parsed()) return tools::cashier_list(config, gfilter, out);
    if (ca_show->parsed()) return tools::cashier_show(config, gid, out);
    if (op_create->parsed()) return tools::operator_create(config, user_name, user_role, password_stdin, out);
    if (op_list->parsed()) return tools::operator_list(config, out);
    if (op_disable->parsed()) return tools::operator_set_enabled(config, user_name, false, out);
    if (op_enable->parsed()) return tools::operator_set_enabled(config, user_name, true, out);
    if (op_password->parsed()) return tools::operator_password(config, user_name, password_stdin, out);
    if (ml_create->parsed()) {
      return tools::merchant_login_create(config, login_merchant, user_name, password_stdin, out);
    }
    if (ml_list->parsed()) {
      return tools::merchant_login_list(
          config, login_merchant != 0 ? std::optional<int64_t>(login_merchant) : std::nullopt, out);
    }
    if (a_list->parsed()) return tools::audit_list(config, afilter, out);
    if (n_list->parsed()) {
      if (nfilter_merchant > 0) nfilter.merchant = nfilter_merchant;
      return tools::notify_list(config, nfilter, out);
    }
  } catch (const std::exception& e) {
    std::cerr << "paygate: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
