#include "tools/cli_support.h"

#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "app/master_key.h"
#include "app/open_store.h"

namespace paygate::tools {

std::unique_ptr<Ctx> open(const app::Config& c, Open mode) {
  if (mode == Open::kExisting && !c.uses_postgres() && !std::filesystem::exists(c.sqlite_path())) {
    throw std::runtime_error("no database at " + c.sqlite_path() +
                             ": give --data (or --config) of an existing installation; `paygate demo`, `merchant "
                             "create`, `product add`, `operator create`, `migrate` and `serve` create one");
  }
  auto ctx = std::make_unique<Ctx>();
  ctx->box = app::load_master_key(
      c.storage.data_dir, c.uses_postgres() ? app::MasterKeyCreation::kForbidden : app::MasterKeyCreation::kAllowed);
  ctx->store = app::open_store(c, ctx->box);
  return ctx;
}

int fail(const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return 1;
}

void print(const nlohmann::json& j, Output out, const std::string& text) {
  if (out.json) {
    std::cout << json_text(j) << "\n";
  } else {
    std::cout << text;
  }
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

void add_history(storage::Tx& tx, const std::string& order_ref, nlohmann::json& j) {
  using nlohmann::json;
  json notes = json::array();
  for (const auto& n : tx.notifications_for_order(order_ref)) {
    json attempts = json::array();
    for (const auto& a : tx.attempts(n.id)) {
      attempts.push_back({{"attemptNo", a.attempt_no},
                          {"startedAtMs", a.started_at_ms},
                          {"latencyMs", a.latency_ms},
                          {"httpStatus", a.http_status},
                          {"error", a.error},
                          {"bodyExcerpt", a.body_excerpt},
                          {"delivered", a.delivered}});
    }
    notes.push_back({{"id", n.id.value()},
                     {"url", n.url},
                     {"state", storage::notification_state_name(n.state)},
                     {"attemptsMade", n.attempts_made},
                     {"attemptsMax", n.attempts_max},
                     {"nextAttemptAtMs", n.next_attempt_at_ms},
                     {"attempts", attempts}});
  }
  j["notifications"] = notes;
  json postings = json::array();
  for (const auto& p : tx.postings_for_reference(order_ref)) {
    postings.push_back({{"entryId", p.entry_id},
                        {"kind", p.kind},
                        {"account", p.account},
                        {"amountFen", p.amount.fen()},
                        {"amount", format_yuan(p.amount)}});
  }
  j["postings"] = postings;
}

}  // namespace paygate::tools
