// What the CLI subcommands share: the opened store with its master key, and text-or-JSON output.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/config.h"
#include "base/clock.h"
#include "console/merchants.h"
#include "crypto/crypto.h"
#include "storage/store.h"
#include "tools/commands.h"

namespace paygate::tools {

struct Ctx {
  std::shared_ptr<const crypto::SecretBox> box;
  std::unique_ptr<storage::Store> store;
  SystemClock clock;
  SecureRandom random;
};

// Loads the master key (creating it on SQLite's first run) and opens the store (applying migrations).
// Whether a command may create the database (and master key) when the data directory has none. Only the commands
// that set up an installation may; every other one refuses, so that a mistyped --data is an error rather than a
// fresh empty database that reports, say, an empty ledger as balanced.
enum class Open { kExisting, kMayCreate };
// Throws (a start-up error, reported by main) when the database is missing and `mode` is kExisting.
std::unique_ptr<Ctx> open(const app::Config& c, Open mode = Open::kExisting);
// Prints "error: msg" to stderr; returns the exit code 1.
int fail(const std::string& msg);

// The JSON document with --json, the text otherwise.
void print(const nlohmann::json& j, Output out, const std::string& text);
// j as indented JSON text. Bytes that are not UTF-8 (a receiver's answer excerpt, an order stored before the
// protocols refused them) become U+FFFD: nlohmann's dump throws on them, and a command must still print the record.
std::string json_text(const nlohmann::json& j);

// Applies a merchant change through the console layer (checked and audited as the CLI's principal) in one write
// transaction; the merchant after it, or why not.
Result<storage::Merchant> change_merchant(Ctx& ctx, int64_t id, const console::MerchantPatch& patch);

// Adds an order's history to its JSON: "notifications" (each with every attempt) and "postings" (its ledger
// entries), as `order show`, `payin show`, `payout show` and `cashier show` print them.
void add_history(storage::Tx& tx, const std::string& order_ref, nlohmann::json& j);

// The demo's console logins (admin, and "demo" for the merchant), created when absent; the text to print, with
// the passwords of those just created (console_commands.cpp).
std::string demo_console_logins(Ctx& ctx, MerchantId merchant, const std::string& console_url);

}  // namespace paygate::tools
