#include "app/open_store.h"

#include "storage/postgres/pg_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace paygate::app {

std::unique_ptr<storage::Store> open_store(const Config& config, std::shared_ptr<const crypto::SecretBox> box) {
  if (config.uses_postgres()) {
    storage::PostgresOptions o;
    o.url = config.storage.database;
    o.group_commit = config.storage.group_commit;
    o.commit_batch_max = config.storage.commit_batch_max;
    o.queue_depth_max = config.storage.queue_depth_max;
    o.writer_connections = config.storage.writer_connections;
    o.reader_connections = config.storage.reader_connections;
    o.lock_timeout_ms = config.storage.lock_timeout_ms;
    return storage::open_postgres_store(o, std::move(box));
  }
  storage::SqliteOptions o;
  o.path = config.sqlite_path();
  o.group_commit = config.storage.group_commit;
  o.commit_batch_max = config.storage.commit_batch_max;
  o.queue_depth_max = config.storage.queue_depth_max;
  return storage::open_sqlite_store(o, std::move(box));
}

}  // namespace paygate::app
