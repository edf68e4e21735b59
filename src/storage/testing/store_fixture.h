// Test support for storage: a temporary directory, a fixed master key, and one "harness" per storage engine that
// creates an isolated, empty database and can reopen it. Test-only; not used by production code.
//
// The conformance suite (storage/store_conformance_test.cpp) runs against every entry of conformance_backends().
// To add an engine (PostgreSQL), write a StoreHarness for it (a fresh database or schema per harness, dropped
// in the destructor) and append a StoreBackend to conformance_backends().
#pragma once
#include <condition_variable>
#include <mutex>
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

// A named engine for value-parameterized suites. `name` becomes part of the test name: letters, digits, '_'.
struct StoreBackend {
  std::string name;
  std::function<std::unique_ptr<StoreHarness>()> make;
};

inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

inline StoreBackend sqlite_backend() {
  return StoreBackend{"sqlite", [] { return std::unique_ptr<StoreHarness>(std::make_unique<SqliteHarness>()); }};
}

// Every engine the conformance suite runs against.
inline std::vector<StoreBackend> conformance_backends() { return {sqlite_backend()}; }

}  // namespace paygate::storage::testing
