// PostgreSQL backend: several writer threads, each with its own connection, run group-commit batches from one
// shared queue over libpq pipeline mode; read snapshots come from a small pool of reader connections. Several
// paygate processes (nodes) may share one database. See docs/ARCHITECTURE.md, "PostgreSQL".
#pragma once
#include <memory>
#include <string>

#include "base/limits.h"
#include "crypto/crypto.h"
#include "storage/store.h"

namespace paygate::storage {

struct PostgresOptions {
  std::string url;                // postgresql://user:password@host:port/database?... (logged without password)
  size_t writer_connections = 4;  // writer threads, one connection each (1..kPgWriterConnectionsMax)
  size_t reader_connections = 8;  // read snapshots open at once (1..kPgReaderConnectionsMax)
  bool group_commit = true;       // false: one transaction per request, for comparison
  size_t commit_batch_max = limits::kPgCommitBatchSizeMax;  // larger values are cut to kPgCommitBatchSizeMax
  size_t queue_depth_max = limits::kWriteQueueDepthMax;
  bool pipeline = true;             // false: every statement waits for its answer, to count what pipelining saves
  int64_t lock_timeout_ms = 5'000;  // a writer waits this long for a lock, then the batch is retried
  int64_t reader_wait_ms = 5'000;   // read() waits this long for a free reader connection, then throws
  int connect_timeout_s = 10;
};

// Connects, applies the migrations (under an advisory lock, so nodes starting together do not race) and starts
// the writers. Throws StorageFailure (std::runtime_error) at start-up when the database cannot be used.
std::unique_ptr<Store> open_postgres_store(const PostgresOptions& options,
                                           std::shared_ptr<const crypto::SecretBox> box);

// Only applies the migrations (what `paygate migrate` does; open_postgres_store does it too).
void migrate_postgres(const std::string& url, int connect_timeout_s = 10);

// Whether `url` names a PostgreSQL database (postgresql:// or postgres://).
bool is_postgres_url(std::string_view url);

}  // namespace paygate::storage
