// Configuration: defaults, then the TOML file, then PAYGATE_<SECTION>_<KEY> environment variables, then
// command-line flags. Every key is documented in docs/configuration.md. Errors here are exceptions: they stop
// start-up with a clear message.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace paygate::app {

struct Config {
  struct Server {
    std::string listen = "127.0.0.1:8080";
    int threads = 0;                    // I/O threads; 0: io_threads() decides
    int64_t drain_timeout_ms = 10'000;  // how long SIGTERM waits for requests in flight
    size_t body_bytes_max = 64 * 1024;
    size_t connections_max = 10'000;
    // The platform's public address for absolute links (the payment page's QR code), e.g.
    // "https://pay.example.com"; empty: taken from each request's Host header.
    std::string public_url;
  } server;
  struct Storage {
    std::string data_dir = "var";
    // Empty: SQLite at <data_dir>/paygate.db; sqlite:PATH: SQLite there; postgresql://... or postgres://...:
    // PostgreSQL, which several paygate processes may share.
    std::string database;
    bool group_commit = true;
    size_t commit_batch_max = 1'024;
    size_t queue_depth_max = 65'536;
    int64_t catalog_cache_ttl_ms = 1'000;  // merchants/products cached in memory; CLI changes apply within this
    // PostgreSQL only.
    size_t writer_connections = 4;      // writer threads, each with its own connection
    size_t reader_connections = 8;      // read snapshots open at once
    int64_t lock_timeout_ms = 5'000;    // a writer's wait for a row lock before its batch is run again
  } storage;
  struct Sandbox {
    // Sandbox mode: the sandbox processors' completion endpoint (/sandbox/payments/{id}/complete) and the payment
    // page's pay/fail panel exist. Channels bound to the sandbox processor need it.
    bool enabled = true;
    int64_t processing_delay_ms = 2'000;  // consign cards
    int64_t payout_delay_ms = 2'000;      // the sandbox bank's time to answer a payout
  } sandbox;
  struct Notify {
    bool allow_private_targets = false;
    int64_t connect_timeout_ms = 5'000;
    int64_t total_timeout_ms = 10'000;
    int64_t claim_lease_margin_ms = 30'000;
    size_t in_flight_max = 256;
    size_t in_flight_per_merchant_max = 64;
    int64_t poll_interval_ms = 1'000;
    int64_t consign_retry_step_ms = 10'000;
    // The waits between gateway callback attempts; empty: the platform default (notify/schedule.h).
    std::vector<int64_t> gateway_retry_delays_ms;
    // The cashier back notify's first wait (the document: 10 s); the later ones are 6 and 18 times it.
    int64_t cashier_retry_unit_ms = 10'000;
  } notify;
  struct Consign {
    int64_t timestamp_skew_s = 300;
  } consign;
  struct Gateway {
    int64_t payment_expiry_ms = 15 * 60'000;  // an unpaid pay-in fails after this (status 2)
  } gateway;
  struct Cashier {
    int64_t order_expiry_ms = 15 * 60'000;  // an unpaid order fails after this (1003)
    int utc_offset_minutes = 480;           // paytime's time zone (Asia/Shanghai)
  } cashier;
  struct Console {
    int64_t session_ttl_ms = 12LL * 3'600'000;  // a console session ends this long after login
    int64_t session_idle_ms = 30 * 60'000;      // ... or when unused this long
    int utc_offset_minutes = 480;               // local days of the console's reports and charts (Beijing)
  } console;
  struct Log {
    std::string level = "info";   // trace, debug, info, warn, error
    bool access_log = true;
  } log;

  // Whether storage.database names a PostgreSQL database.
  bool uses_postgres() const;
  std::string sqlite_path() const;
  // Where the data lives, for messages: the SQLite file or the PostgreSQL URL without its password.
  std::string database_display() const;
  // The I/O threads to run: server.threads, or when it is 0, one fewer than the machine's cores (at least one,
  // at most 64): the SQLite writer needs a core of its own. `cores` is std::thread::hardware_concurrency().
  int io_threads(unsigned cores) const;
};

// Loads `path` when non-empty (it must exist then), applies the environment, validates. Throws
// std::runtime_error naming the bad key.
Config load_config(const std::string& path);

// Throws std::runtime_error unless `database` is empty, sqlite:PATH or a postgresql:// / postgres:// URL.
void check_database(const std::string& database);

}  // namespace paygate::app
