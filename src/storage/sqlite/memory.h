// SQLite's memory allocator: the C library's malloc, with a small per-thread cache of 1 KiB blocks.
//
// Why: every write request runs in its own savepoint, and with temp_store=MEMORY SQLite keeps the savepoint's
// journal in 1 KiB chunks (memjournal.c), one malloc per chunk: a consign submit copies ~4-8 pages into ~16-32
// chunks and frees them all at RELEASE. Debian's SQLite is built without its lookaside allocator, and glibc keeps
// only 7 freed blocks of a size per thread, so most of these went through its bins (unlink_chunk,
// malloc_consolidate): ~15 % of the writer thread's CPU in perf on 2026-11-22. The cache keeps up to
// kCachedBlocksPerThread freed 1 KiB blocks per thread for the next allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace paygate::storage::sqlite {

inline constexpr size_t kCachedBlockBytes = 1024;
inline constexpr size_t kCachedBlocksPerThread = 256;  // 256 KiB per thread at most

// Installs the allocator with sqlite3_config(SQLITE_CONFIG_MALLOC), and turns SQLite's memory statistics off (a
// global mutex around every allocation), once per process, before SQLite initializes (install_page_cache calls
// it). Returns false when SQLite was already initialized.
bool install_memory();

struct MemoryStats {
  uint64_t cached_allocations = 0;  // 1 KiB allocations served from a thread's cache
};
MemoryStats memory_stats();

}  // namespace paygate::storage::sqlite
