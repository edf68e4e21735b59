#include "app/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <utility>

#include "base/limits.h"
#include "base/money.h"
#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_store.h"

namespace paygate::app {
namespace {

std::string env_name(const char* section, const char* key) {
  std::string name = std::string("PAYGATE_") + section + "_" + key;
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

[[noreturn]] void bad(const char* section, const char* key, const std::string& why) {
  throw std::runtime_error(std::string("config ") + section + "." + key + ": " + why);
}

// Each setter reads the file value, then the environment, for one key.
class Loader {
 public:
  explicit Loader(const toml::table* t) : t_(t) {}

  void str(const char* section, const char* key, std::string& out) {
    known_.emplace(section, key);
    if (t_) {
      if (auto v = (*t_)[section][key]; v) {
        if (!v.is_string()) bad(section, key, "must be a string");
        out = *v.value<std::string>();
      }
    }
    if (const char* e = std::getenv(env_name(section, key).c_str())) out = e;
  }

  void boolean(const char* section, const char* key, bool& out) {
    known_.emplace(section, key);
    if (t_) {
      if (auto v = (*t_)[section][key]; v) {
        if (!v.is_boolean()) bad(section, key, "must be true or false");
        out = *v.value<bool>();
      }
    }
    if (const char* e = std::getenv(env_name(section, key).c_str())) {
      std::string s = e;
      if (s == "true" || s == "1" || s == "yes")
        out = true;
      else if (s == "false" || s == "0" || s == "no")
        out = false;
      else
        bad(section, key, "environment value must be true or false");
    }
  }

  template <typename Int>
  void integer(const char* section, const char* key, Int& out, int64_t min, int64_t max) {
    known_.emplace(section, key);
    int64_t v = static_cast<int64_t>(out);
    if (t_) {
      if (auto node = (*t_)[section][key]; node) {
        if (!node.is_integer()) bad(section, key, "must be an integer");
        v = *node.value<int64_t>();
      }
    }
    if (const char* e = std::getenv(env_name(section, key).c_str())) {
      auto parsed = parse_int64_strict(e);
      if (!parsed) bad(section, key, "environment value must be a non-negative integer");
      v = *parsed;
    }
    if (v < min || v > max) {
      bad(section, key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    out = static_cast<Int>(v);
  }

  // An array of integers in the file; comma-separated in the environment. Each element within [min, max].
  void integer_list(const char* section, const char* key, std::vector<int64_t>& out, size_t count_max, int64_t min,
                    int64_t max) {
    known_.emplace(section, key);
    std::vector<int64_t> values = out;
    bool given = false;
    if (t_) {
      if (auto node = (*t_)[section][key]; node) {
        const auto* arr = node.as_array();
        if (arr == nullptr) bad(section, key, "must be an array of integers");
        values.clear();
        for (const auto& el : *arr) {
          if (!el.is_integer()) bad(section, key, "must be an array of integers");
          values.push_back(*el.value<int64_t>());
        }
        given = true;
      }
    }
    if (const char* e = std::getenv(env_name(section, key).c_str())) {
      values.clear();
      std::string_view rest = e;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        auto parsed = parse_int64_strict(rest.substr(0, comma));
        if (!parsed) bad(section, key, "environment value must be comma-separated non-negative integers");
        values.push_back(*parsed);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      given = true;
    }
    if (!given) return;
    if (values.size() > count_max) bad(section, key, "has more than " + std::to_string(count_max) + " elements");
    for (auto v : values) {
      if (v < min || v > max) {
        bad(section, key, "elements must be between " + std::to_string(min) + " and " + std::to_string(max));
      }
    }
    out = std::move(values);
  }

  // A misspelt key would otherwise be ignored silently and its default used: refuse it.
  void reject_unknown() const {
    if (!t_) return;
    for (const auto& [section, node] : *t_) {
      const auto* keys = node.as_table();
      if (keys == nullptr) {
        throw std::runtime_error("config: " + std::string(section.str()) + " must be a [section]");
      }
      for (const auto& [key, value] : *keys) {
        if (!known_.contains({std::string(section.str()), std::string(key.str())})) {
          throw std::runtime_error("config: unknown key " + std::string(section.str()) + "." + std::string(key.str()) +
                                   " (see docs/configuration.md)");
        }
      }
    }
  }

 private:
  const toml::table* t_;
  std::set<std::pair<std::string, std::string>> known_;
};

}  // namespace

void check_database(const std::string& database) {
  if (database.empty() || storage::is_postgres_url(database)) return;
  if (database.starts_with("sqlite:") && database.size() > 7) return;
  // Never fall back to SQLite silently on a typo: the data would go somewhere nobody looks.
  bad("storage", "database",
      "must be empty (SQLite in the data directory), sqlite:PATH, or a postgresql:// or postgres:// URL");
}

bool Config::uses_postgres() const {
  return storage::is_postgres_url(storage.database);
}

std::string Config::sqlite_path() const {
  if (storage.database.starts_with("sqlite:")) return storage.database.substr(7);
  return (std::filesystem::path(storage.data_dir) / "paygate.db").string();
}

std::string Config::database_display() const {
  return uses_postgres() ? storage::pg::redact_url(storage.database) : sqlite_path();
}

int Config::io_threads(unsigned cores) const {
  if (server.threads > 0) return server.threads;
  // On 2 cores, one I/O thread beside the writer served the consign benchmark 15 % faster than two (three
  // alternating pairs, 2026-11-22): two I/O threads, the writer and the checkpointer queued for the cores.
  return static_cast<int>(std::clamp<unsigned>(cores > 1 ? cores - 1 : 1, 1, 64));
}

Config load_config(const std::string& path) {
  Config c;
  toml::table table;
  const toml::table* t = nullptr;
  if (!path.empty()) {
    if (!std::filesystem::exists(path)) throw std::runtime_error("config file not found: " + path);
    try {
      table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      throw std::runtime_error("config file " + path + ": " + std::string(e.description()));
    }
    t = &table;
  }
  Loader l(t);
  l.str("server", "listen", c.server.listen);
  l.integer("server", "threads", c.server.threads, 0, 64);
  l.integer("server", "drain_timeout_ms", c.server.drain_timeout_ms, 0, 600'000);
  l.integer("server", "body_bytes_max", c.server.body_bytes_max, 1024, 16 * 1024 * 1024);
  l.integer("server", "connections_max", c.server.connections_max, 1, int64_t{limits::kConnectionsMax});
  l.str("server", "public_url", c.server.public_url);
  l.str("storage", "data_dir", c.storage.data_dir);
  l.str("storage", "database", c.storage.database);
  l.boolean("storage", "group_commit", c.storage.group_commit);
  l.integer("storage", "commit_batch_max", c.storage.commit_batch_max, 1, int64_t{limits::kCommitBatchSizeMax});
  l.integer("storage", "queue_depth_max", c.storage.queue_depth_max, 1, int64_t{limits::kWriteQueueDepthMax});
  l.integer("storage", "catalog_cache_ttl_ms", c.storage.catalog_cache_ttl_ms, 0, 60'000);
  l.integer("storage", "writer_connections", c.storage.writer_connections, 1, int64_t{limits::kPgWriterConnectionsMax});
  l.integer("storage", "reader_connections", c.storage.reader_connections, 1, int64_t{limits::kPgReaderConnectionsMax});
  l.integer("storage", "lock_timeout_ms", c.storage.lock_timeout_ms, 1, 600'000);
  l.boolean("sandbox", "enabled", c.sandbox.enabled);
  l.integer("sandbox", "processing_delay_ms", c.sandbox.processing_delay_ms, 0, 86'400'000);
  l.integer("sandbox", "payout_delay_ms", c.sandbox.payout_delay_ms, 0, 86'400'000);
  l.boolean("notify", "allow_private_targets", c.notify.allow_private_targets);
  l.integer("notify", "connect_timeout_ms", c.notify.connect_timeout_ms, 1, 120'000);
  l.integer("notify", "total_timeout_ms", c.notify.total_timeout_ms, 1, 300'000);
  l.integer("notify", "claim_lease_margin_ms", c.notify.claim_lease_margin_ms, 100, 600'000);
  l.integer("notify", "in_flight_max", c.notify.in_flight_max, 1, int64_t{limits::kNotifyInFlightMax});
  l.integer("notify", "in_flight_per_merchant_max", c.notify.in_flight_per_merchant_max, 1,
            int64_t{limits::kNotifyInFlightMax});
  l.integer("notify", "poll_interval_ms", c.notify.poll_interval_ms, 10, 60'000);
  l.integer("notify", "consign_retry_step_ms", c.notify.consign_retry_step_ms, 1, 3'600'000);
  l.integer_list("notify", "gateway_retry_delays_ms", c.notify.gateway_retry_delays_ms,
                 static_cast<size_t>(limits::kNotifyAttemptsMax) - 1, 1, 86'400'000);
  l.integer("notify", "cashier_retry_unit_ms", c.notify.cashier_retry_unit_ms, 1, 3'600'000);
  l.integer("consign", "timestamp_skew_s", c.consign.timestamp_skew_s, 0, 86'400);
  l.integer("cashier", "order_expiry_ms", c.cashier.order_expiry_ms, 1'000, 7 * 86'400'000LL);
  l.integer("cashier", "utc_offset_minutes", c.cashier.utc_offset_minutes, -720, 840);
  l.integer("gateway", "payment_expiry_ms", c.gateway.payment_expiry_ms, 1'000, 7 * 86'400'000LL);
  l.integer("console", "session_ttl_ms", c.console.session_ttl_ms, 60'000, 30 * 86'400'000LL);
  l.integer("console", "session_idle_ms", c.console.session_idle_ms, 60'000, 30 * 86'400'000LL);
  l.integer("console", "utc_offset_minutes", c.console.utc_offset_minutes, -720, 840);
  l.str("log", "level", c.log.level);
  l.boolean("log", "access_log", c.log.access_log);
  l.reject_unknown();
  if (c.storage.data_dir.empty()) bad("storage", "data_dir", "must not be empty");
  // spdlog's own names; an unknown one would otherwise fall back to `off` silently.
  static constexpr std::string_view kLevels[] = {"trace",   "debug", "info",     "warn",
                                                 "warning", "error", "critical", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), c.log.level) == std::end(kLevels)) {
    bad("log", "level", "must be one of trace, debug, info, warn, error, critical, off");
  }
  if (!c.server.public_url.empty()) {
    const auto& u = c.server.public_url;
    if (!(u.starts_with("http://") || u.starts_with("https://")) || u.ends_with("/") ||
        u.find_first_of(" \t\r\n\"<>") != std::string::npos) {
      bad("server", "public_url", "must be an http:// or https:// address without a trailing slash");
    }
  }
  check_database(c.storage.database);
  return c;
}

}  // namespace paygate::app
