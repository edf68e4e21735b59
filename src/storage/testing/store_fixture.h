// Test support for storage: a temporary directory, a fixed master key, and one "harness" per storage engine that
// creates an isolated, empty database and can reopen it. Test-only; not used by production code.
//
// The conformance suite (storage/store_conformance_test.cpp) runs against every entry of conformance_backends():
// SQLite, and PostgreSQL on the test cluster named by PAYGATE_TEST_POSTGRES_URL (see docs/testing.md). Without a
// cluster the PostgreSQL cases are listed but skipped, with a message saying why.
#pragma once
#include <libpq-fe.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "base/limits.h"
#include "crypto/crypto.h"
#include "storage/postgres/pg_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"

namespace paygate::storage::testing {

// A single-use count-down latch. std::latch in GCC 12's libstdc++ can lose the wake-up of a thread already
// blocked in wait() (seen here: a writer closure never woke after count_down), so tests use this instead.
class Latch {
 public:
  explicit Latch(int count) : count_(count) {}
  void count_down() {
    std::lock_guard lock(mu_);
    if (count_ > 0 && --count_ == 0) cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return count_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_;
};

// A fixed 32-byte master key, so a reopened store can read what an earlier one sealed.
inline std::string test_master_key() { return "paygate-test-master-key-32-bytes"; }

inline std::shared_ptr<const crypto::SecretBox> test_secret_box() {
  static_assert(crypto::SecretBox::kMasterKeyBytes == 32);
  return std::make_shared<const crypto::SecretBox>(test_master_key());
}

// A fresh directory under the system temp directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "paygate-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Engine-neutral knobs a test may turn; each harness maps them onto its engine's options.
struct StoreOptions {
  bool group_commit = true;  // false: one transaction per request
  size_t queue_depth_max = limits::kWriteQueueDepthMax;
  // Writer threads; 0: the engine's default (SQLite always has one). A test that fills the queue by holding "the
  // writer" busy asks for 1, or the other writers would empty the queue.
  size_t writers = 0;
};

// One isolated database of one engine.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  // Opens the database (created empty and migrated the first time). May be called again once the previous Store
  // has been destroyed: it reopens the same data with the same master key.
  virtual std::unique_ptr<Store> open(const StoreOptions& options = {}) = 0;
  // Every byte the engine keeps at rest for this database. Call only after the Store is destroyed.
  virtual std::string bytes_at_rest() = 0;
  // The master key's box the stores are opened with (for fingerprints and for services under test).
  virtual std::shared_ptr<const crypto::SecretBox> box() const = 0;
};

class SqliteHarness final : public StoreHarness {
 public:
  SqliteHarness() : box_(test_secret_box()) {}

  std::unique_ptr<Store> open(const StoreOptions& options = {}) override {
    SqliteOptions o;
    o.path = db_path().string();
    o.group_commit = options.group_commit;
    o.queue_depth_max = options.queue_depth_max;
    // options.writers: SQLite always has exactly one.
    return open_sqlite_store(o, box_);
  }

  // The database file, its WAL and shared-memory index: whatever SQLite left in the directory.
  std::string bytes_at_rest() override {
    std::string all;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }

  std::shared_ptr<const crypto::SecretBox> box() const override { return box_; }
  std::filesystem::path db_path() const { return dir_.path() / "paygate.db"; }

 private:
  TempDir dir_;
  std::shared_ptr<const crypto::SecretBox> box_;
};

// ---- PostgreSQL ----

// The admin URL of the PostgreSQL test cluster: PAYGATE_TEST_POSTGRES_URL, else the first line of the file named by
// PAYGATE_TEST_POSTGRES_URL_FILE (what CTest sets: its pg.start fixture writes that file). Empty when neither is
// set. Throws when the file is named but unreadable: under CTest the cluster must be there.
inline std::string postgres_test_url() {
  if (const char* url = std::getenv("PAYGATE_TEST_POSTGRES_URL"); url && *url) return url;
  const char* file = std::getenv("PAYGATE_TEST_POSTGRES_URL_FILE");
  if (!file || !*file) return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  if (url.empty()) {
    throw std::runtime_error(std::string("PAYGATE_TEST_POSTGRES_URL_FILE names ") + file +
                             ", which holds no URL: did the pg.start test fixture run?");
  }
  return url;
}

inline std::string postgres_skip_reason() {
  if (!postgres_test_url().empty()) return "";
  return "PostgreSQL cases SKIPPED: PAYGATE_TEST_POSTGRES_URL is not set (ctest sets it; by hand: "
         "python3 tests/pg/pg_cluster.py start /tmp/pg && PAYGATE_TEST_POSTGRES_URL=$(cat /tmp/pg/url) ...)";
}

// Runs one statement on its own connection (test set-up). Throws on failure.
inline void postgres_admin_exec(const std::string& url, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) throw std::runtime_error(std::string("test admin connection: ") + PQerrorMessage(c.get()));
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
  auto st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    throw std::runtime_error(sql + ": " + PQresultErrorMessage(r.get()));
  }
}

// One value of a one-row query (test set-up).
inline std::string postgres_admin_value(const std::string& url, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) throw std::runtime_error(std::string("test admin connection: ") + PQerrorMessage(c.get()));
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) < 1) {
    throw std::runtime_error(sql + ": " + PQresultErrorMessage(r.get()));
  }
  return PQgetvalue(r.get(), 0, 0);
}

// `url` (postgresql://...[/db][?params]) with its database replaced by `database`.
inline std::string postgres_url_with_database(const std::string& url, const std::string& database) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) throw std::runtime_error("not a URL: " + url);
  auto path = url.find('/', scheme_end + 3);
  auto query = url.find('?', scheme_end + 3);
  std::string authority = url.substr(0, std::min(path, query));
  std::string params = query == std::string::npos ? "" : url.substr(query);
  return authority + "/" + database + params;
}

// A fresh database on the test cluster per harness (CREATE DATABASE t_<random>), dropped in the destructor.
class PostgresHarness final : public StoreHarness {
 public:
  PostgresHarness() : box_(test_secret_box()), admin_url_(postgres_test_url()) {
    if (admin_url_.empty()) throw std::runtime_error(postgres_skip_reason());
    std::random_device rd;
    std::uniform_int_distribution<uint64_t> dist;
    char name[32];
    std::snprintf(name, sizeof name, "t_%016llx", static_cast<unsigned long long>(dist(rd)));
    name_ = name;
    postgres_admin_exec(admin_url_, "CREATE DATABASE " + name_);
    url_ = postgres_url_with_database(admin_url_, name_);
  }
  ~PostgresHarness() override {
    try {
      postgres_admin_exec(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception&) {
      // A leftover database dies with the test cluster.
    }
  }
  PostgresHarness(const PostgresHarness&) = delete;
  PostgresHarness& operator=(const PostgresHarness&) = delete;

  PostgresOptions options(const StoreOptions& options = {}) const {
    PostgresOptions o;
    o.url = url_;
    o.group_commit = options.group_commit;
    o.queue_depth_max = options.queue_depth_max;
    if (options.writers) o.writer_connections = options.writers;
    return o;
  }

  std::unique_ptr<Store> open(const StoreOptions& options = {}) override { return open_postgres_store(this->options(options), box_); }

  // Every file of the cluster's data directory (all databases, the WAL) after a CHECKPOINT wrote the pages out.
  // The server runs as the postgres user; reading its files needs root or that user.
  std::string bytes_at_rest() override {
    postgres_admin_exec(admin_url_, "CHECKPOINT");
    std::string dir = postgres_admin_value(admin_url_, "SHOW data_directory");
    std::string all;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(
             dir, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::ifstream in(it->path(), std::ios::binary);  // files may vanish meanwhile (temporary ones): skip them
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }

  std::shared_ptr<const crypto::SecretBox> box() const override { return box_; }
  const std::string& url() const { return url_; }
  const std::string& admin_url() const { return admin_url_; }
  const std::string& database() const { return name_; }

 private:
  std::shared_ptr<const crypto::SecretBox> box_;
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

// A named engine for value-parameterized suites. `name` becomes part of the test name: letters, digits, '_'.
struct StoreBackend {
  std::string name;
  std::function<std::unique_ptr<StoreHarness>()> make;
  // Non-empty: why this engine cannot run here; the cases are skipped with this message.
  std::function<std::string()> skip_reason = [] { return std::string(); };
};

inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

inline StoreBackend sqlite_backend() {
  return StoreBackend{"sqlite", [] { return std::unique_ptr<StoreHarness>(std::make_unique<SqliteHarness>()); }};
}

inline StoreBackend postgres_backend() {
  return StoreBackend{"postgresql",
                      [] { return std::unique_ptr<StoreHarness>(std::make_unique<PostgresHarness>()); },
                      postgres_skip_reason};
}

// Every engine the conformance suite runs against. PostgreSQL is always listed, so that test discovery (which runs
// without a cluster) registers its cases; they skip, loudly, when no cluster is configured.
inline std::vector<StoreBackend> conformance_backends() { return {sqlite_backend(), postgres_backend()}; }

}  // namespace paygate::storage::testing
