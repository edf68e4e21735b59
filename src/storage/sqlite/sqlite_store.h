// SQLite backend: WAL, synchronous=FULL, one writer thread with group commit, readers on their own connections.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "crypto/crypto.h"
#include "storage/store.h"

namespace paygate::storage {

struct SqliteOptions {
  std::string path;          // database file
  bool group_commit = true;  // false: one transaction (and fsync) per request, for comparison
  size_t commit_batch_max = limits::kCommitBatchSizeMax;
  size_t queue_depth_max = limits::kWriteQueueDepthMax;
  int busy_timeout_ms = 5'000;  // other processes (the CLI) may hold the write lock briefly
  size_t readers_max = 16;
  // Tests only: runs on the checkpointer's thread before each background pass (a checkpointer starved of CPU).
  std::function<void()> before_checkpoint_pass;
};

// Opens (creating if needed) and migrates the database. Throws std::runtime_error at start-up on failure.
std::unique_ptr<Store> open_sqlite_store(const SqliteOptions& options, std::shared_ptr<const crypto::SecretBox> box);

}  // namespace paygate::storage
