#include "storage/sqlite/wal_vfs.h"

#include "storage/sqlite/page_cache.h"
#include "storage/sqlite/plain_switch.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <utility>

namespace paygate::storage::sqlite {
namespace {

// SQLite's WAL frame header is 24 bytes; bytes 4..7 hold the database size in pages after a commit frame, 0 in
// every other frame (https://sqlite.org/fileformat2.html#walformat).
constexpr int kWalFrameHeaderBytes = 24;
// The unix VFS writes at most 128 KiB - 1 per call (seekAndWriteFd masks the length with 0x1ffff, and a longer
// write comes out short, reported as SQLITE_FULL). Buffered bytes go out in chunks below that.
constexpr size_t kWriteChunkBytesMax = 120 * 1024;

sqlite3_vfs* g_real = nullptr;  // the default VFS this one forwards to
sqlite3_vfs g_vfs{};
sqlite3_vfs g_checkpoint_vfs{};  // the same, but its WAL files are never synced (kWalCheckpointVfsName)
std::atomic<uint64_t> g_writes_in{0};   // xWrite calls on WAL files
std::atomic<uint64_t> g_writes_out{0};  // pwrite calls they became
std::atomic<uint64_t> g_syncs{0};           // WAL syncs made (the writer's commits)
std::atomic<uint64_t> g_syncs_skipped{0};   // WAL syncs a checkpointer asked for and did not need
std::shared_ptr<const WalSyncObserver> g_sync_observer;  // read and written with std::atomic_load/store

struct WalFile {
  sqlite3_file base;     // first: what SQLite sees
  sqlite3_file* real;    // the real WAL file, in the same allocation, after this struct
  std::string* pending;  // contiguous bytes not written yet, starting at pending_offset
  sqlite3_int64 pending_offset;
  bool commit_frame_started;  // the last write was a commit frame's header: flush after its page
  bool sync_skipped;          // opened through the checkpoint VFS
};

constexpr size_t kRealOffset = (sizeof(WalFile) + 15) & ~size_t{15};

WalFile* wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }

int write_chunked(sqlite3_file* real, const char* data, size_t size, sqlite3_int64 offset) {
  for (size_t done = 0; done < size;) {
    const size_t n = std::min(size - done, kWriteChunkBytesMax);
    g_writes_out.fetch_add(1, std::memory_order_relaxed);
    int rc = real->pMethods->xWrite(real, data + done, static_cast<int>(n), offset + static_cast<sqlite3_int64>(done));
    if (rc != SQLITE_OK) return rc;
    done += n;
  }
  return SQLITE_OK;
}

int flush(WalFile* w) {
  if (w->pending->empty()) return SQLITE_OK;
  int rc = write_chunked(w->real, w->pending->data(), w->pending->size(), w->pending_offset);
  w->pending->clear();
  return rc;
}

int x_close(sqlite3_file* f) {
  WalFile* w = wal(f);
  int rc = flush(w);
  int rc_close = w->real->pMethods->xClose(w->real);
  delete w->pending;
  w->pending = nullptr;
  return rc != SQLITE_OK ? rc : rc_close;
}

int x_read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xRead(w->real, out, amount, offset);
}

int x_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* w = wal(f);
  g_writes_in.fetch_add(1, std::memory_order_relaxed);
  const auto bytes = static_cast<size_t>(amount);
  const bool contiguous = !w->pending->empty() &&
                          offset == w->pending_offset + static_cast<sqlite3_int64>(w->pending->size());
  if (!contiguous || w->pending->size() + bytes > kWalWriteBufferBytesMax) {
    if (int rc = flush(w); rc != SQLITE_OK) return rc;
    if (bytes > kWalWriteBufferBytesMax) return write_chunked(w->real, static_cast<const char*>(data), bytes, offset);
    w->pending_offset = offset;
  }
  w->pending->append(static_cast<const char*>(data), bytes);
  if (w->commit_frame_started) {
    // The commit frame is complete: it reaches the file before SQLite can publish the commit.
    w->commit_frame_started = false;
    return flush(w);
  }
  if (amount == kWalFrameHeaderBytes) {
    const auto* h = static_cast<const unsigned char*>(data);
    w->commit_frame_started = (h[4] | h[5] | h[6] | h[7]) != 0;
  }
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xTruncate(w->real, size);
}

int x_sync(sqlite3_file* f, int flags) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  if (w->sync_skipped) {
    g_syncs_skipped.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;
  }
  g_syncs.fetch_add(1, std::memory_order_relaxed);
  const auto started = std::chrono::steady_clock::now();
  const int rc = w->real->pMethods->xSync(w->real, flags);
  if (auto observer = std::atomic_load(&g_sync_observer)) {
    (*observer)(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started)
                    .count());
  }
  return rc;
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileSize(w->real, size);
}

int x_lock(sqlite3_file* f, int level) { return wal(f)->real->pMethods->xLock(wal(f)->real, level); }
int x_unlock(sqlite3_file* f, int level) { return wal(f)->real->pMethods->xUnlock(wal(f)->real, level); }
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return wal(f)->real->pMethods->xCheckReservedLock(wal(f)->real, out);
}

int x_file_control(sqlite3_file* f, int op, void* arg) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileControl(w->real, op, arg);
}

int x_sector_size(sqlite3_file* f) { return wal(f)->real->pMethods->xSectorSize(wal(f)->real); }
int x_device_characteristics(sqlite3_file* f) {
  return wal(f)->real->pMethods->xDeviceCharacteristics(wal(f)->real);
}

// Shared memory and memory mapping belong to database files; SQLite never asks them of a WAL file. Forwarded
// all the same, when the real file has them.
int x_shm_map(sqlite3_file* f, int page, int page_bytes, int extend, void volatile** out) {
  sqlite3_file* r = wal(f)->real;
  if (r->pMethods->iVersion < 2 || r->pMethods->xShmMap == nullptr) return SQLITE_IOERR;
  return r->pMethods->xShmMap(r, page, page_bytes, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  sqlite3_file* r = wal(f)->real;
  if (r->pMethods->iVersion < 2 || r->pMethods->xShmLock == nullptr) return SQLITE_IOERR;
  return r->pMethods->xShmLock(r, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
  sqlite3_file* r = wal(f)->real;
  if (r->pMethods->iVersion >= 2 && r->pMethods->xShmBarrier != nullptr) r->pMethods->xShmBarrier(r);
}
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  sqlite3_file* r = wal(f)->real;
  if (r->pMethods->iVersion < 2 || r->pMethods->xShmUnmap == nullptr) return SQLITE_OK;
  return r->pMethods->xShmUnmap(r, delete_flag);
}
int x_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  WalFile* w = wal(f);
  *out = nullptr;
  if (w->real->pMethods->iVersion < 3 || w->real->pMethods->xFetch == nullptr) return SQLITE_OK;
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFetch(w->real, offset, amount, out);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  sqlite3_file* r = wal(f)->real;
  if (r->pMethods->iVersion < 3 || r->pMethods->xUnfetch == nullptr) return SQLITE_OK;
  return r->pMethods->xUnfetch(r, offset, p);
}

const sqlite3_io_methods kWalMethods{
    3,         x_close,       x_read,    x_write,       x_truncate,    x_sync,
    x_file_size, x_lock,      x_unlock,  x_check_reserved_lock, x_file_control, x_sector_size,
    x_device_characteristics, x_shm_map, x_shm_lock,    x_shm_barrier, x_shm_unmap,   x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  // Everything but the WAL is the real VFS's own file, in the (larger) memory SQLite gave us.
  if ((flags & SQLITE_OPEN_WAL) == 0) return g_real->xOpen(g_real, name, file, flags, out_flags);
  WalFile* w = wal(file);
  std::memset(w, 0, sizeof(WalFile));
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  int rc = g_real->xOpen(g_real, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;  // base.pMethods stays null: SQLite will not call xClose
  w->pending = new (std::nothrow) std::string;
  if (w->pending == nullptr) {
    w->real->pMethods->xClose(w->real);
    return SQLITE_NOMEM;
  }
  w->sync_skipped = vfs == &g_checkpoint_vfs;
  w->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

// The rest of the VFS is the real one's.
int x_delete(sqlite3_vfs*, const char* name, int sync_dir) { return g_real->xDelete(g_real, name, sync_dir); }
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) { return g_real->xAccess(g_real, name, flags, out); }
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* x_dl_open(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void x_dl_error(sqlite3_vfs*, int n, char* out) { g_real->xDlError(g_real, n, out); }
void (*x_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) { return g_real->xDlSym(g_real, handle, symbol); }
void x_dl_close(sqlite3_vfs*, void* handle) { g_real->xDlClose(g_real, handle); }
int x_randomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int x_sleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int x_current_time(sqlite3_vfs*, double* out) { return g_real->xCurrentTime(g_real, out); }
int x_get_last_error(sqlite3_vfs*, int n, char* out) {
  return g_real->xGetLastError ? g_real->xGetLastError(g_real, n, out) : 0;
}
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) { return g_real->xCurrentTimeInt64(g_real, out); }
int x_set_system_call(sqlite3_vfs*, const char* name, sqlite3_syscall_ptr p) {
  return g_real->xSetSystemCall(g_real, name, p);
}
sqlite3_syscall_ptr x_get_system_call(sqlite3_vfs*, const char* name) { return g_real->xGetSystemCall(g_real, name); }
const char* x_next_system_call(sqlite3_vfs*, const char* name) { return g_real->xNextSystemCall(g_real, name); }

bool g_registered = false;
std::once_flag g_once;

}  // namespace

bool register_wal_vfs() {
  std::call_once(g_once, [] {
    install_page_cache();  // finding a VFS initializes SQLite, after which the page cache cannot be configured
    if (plain_switch_on("PAYGATE_SQLITE_PLAIN_WAL_WRITES")) return;
    g_real = sqlite3_vfs_find(nullptr);
    if (g_real == nullptr) return;
    g_vfs.iVersion = g_real->iVersion < 3 ? g_real->iVersion : 3;
    g_vfs.szOsFile = static_cast<int>(kRealOffset) + g_real->szOsFile;
    g_vfs.mxPathname = g_real->mxPathname;
    g_vfs.zName = kWalVfsName;
    g_vfs.xOpen = x_open;
    g_vfs.xDelete = x_delete;
    g_vfs.xAccess = x_access;
    g_vfs.xFullPathname = x_full_pathname;
    g_vfs.xDlOpen = x_dl_open;
    g_vfs.xDlError = x_dl_error;
    g_vfs.xDlSym = x_dl_sym;
    g_vfs.xDlClose = x_dl_close;
    g_vfs.xRandomness = x_randomness;
    g_vfs.xSleep = x_sleep;
    g_vfs.xCurrentTime = x_current_time;
    g_vfs.xGetLastError = x_get_last_error;
    if (g_vfs.iVersion >= 2) g_vfs.xCurrentTimeInt64 = x_current_time_int64;
    if (g_vfs.iVersion >= 3) {
      g_vfs.xSetSystemCall = x_set_system_call;
      g_vfs.xGetSystemCall = x_get_system_call;
      g_vfs.xNextSystemCall = x_next_system_call;
    }
    g_checkpoint_vfs = g_vfs;
    g_checkpoint_vfs.zName = kWalCheckpointVfsName;
    g_registered = sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK &&
                   sqlite3_vfs_register(&g_checkpoint_vfs, 0) == SQLITE_OK;
  });
  return g_registered;
}

WalVfsStats wal_vfs_stats() {
  return WalVfsStats{g_writes_in.load(std::memory_order_relaxed), g_writes_out.load(std::memory_order_relaxed),
                     g_syncs.load(std::memory_order_relaxed), g_syncs_skipped.load(std::memory_order_relaxed)};
}

void set_wal_sync_observer(WalSyncObserver observer) {
  std::atomic_store(&g_sync_observer, observer ? std::make_shared<const WalSyncObserver>(std::move(observer))
                                               : std::shared_ptr<const WalSyncObserver>());
}

}  // namespace paygate::storage::sqlite
