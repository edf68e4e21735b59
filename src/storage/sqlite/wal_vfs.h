// A SQLite VFS that gathers the writes to a write-ahead log into one system call per commit.
//
// Why: SQLite appends a WAL frame with two write() calls (its 24-byte header, then the page), so a group commit
// of ~27 consign submits made ~126 pwrite calls on the writer thread, about 2.5 us each: ~12 us of the writer's
// ~37 us per submit (perf trace, 2026-11-22). This VFS keeps contiguous WAL writes in a buffer and hands them to
// the kernel in one pwrite.
//
// When the bytes reach the file: before any read, size query, truncation, sync or close of that WAL, when the
// buffer would pass kWalWriteBufferBytesMax or a write is not contiguous, and as soon as a commit frame (a frame
// header with a non-zero database size) is complete. The last rule means a commit is in the file before SQLite
// publishes it in the shared WAL index, whatever the connection's synchronous setting, so other connections never
// read a frame that is not there. Only the writer connection opens its database through this VFS; every other
// file it opens (the database, temporary files) is SQLite's own, untouched.
//
// A second VFS, kWalCheckpointVfsName, is the same except that it never syncs a WAL file: for the background
// checkpointer's connection. SQLite syncs the WAL at the start of every checkpoint, in case commits were not
// synced; the writer commits with synchronous=FULL, which syncs every commit's frames before SQLite publishes
// them, so every frame a checkpoint can copy is already durable and that sync only costs the disk a flush.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace paygate::storage::sqlite {

inline constexpr const char* kWalVfsName = "paygate-wal";
// Only for a connection that never writes, checkpointing a database that every writer commits to with
// synchronous=FULL (paygate's writers do; a writer with NORMAL would leave frames a checkpoint must sync first).
inline constexpr const char* kWalCheckpointVfsName = "paygate-wal-checkpoint";
// Bytes of WAL frames held at most before they are written (a batch of 1024 payouts is ~4 MiB of frames).
inline constexpr size_t kWalWriteBufferBytesMax = 8 * 1024 * 1024;

// Registers both VFSs (not as the default) over SQLite's default VFS, once per process. Returns false when SQLite
// has no default VFS to wrap; the writer then opens its database with the default VFS.
bool register_wal_vfs();

struct WalVfsStats {
  uint64_t writes_in = 0;   // write calls SQLite made on WAL files opened through this VFS
  uint64_t writes_out = 0;  // pwrite calls they became
  uint64_t syncs = 0;          // WAL syncs made through kWalVfsName (one per commit)
  uint64_t syncs_skipped = 0;  // WAL syncs the checkpoint VFS left out
};
// Process-wide counts since start, for /metrics and tests.
WalVfsStats wal_vfs_stats();

// Called after every WAL sync made through kWalVfsName, on the syncing thread, with its duration: a slow disk
// shows here before it shows anywhere else. Set it before the store opens; an empty function removes it.
using WalSyncObserver = std::function<void(int64_t sync_us)>;
void set_wal_sync_observer(WalSyncObserver observer);

}  // namespace paygate::storage::sqlite
