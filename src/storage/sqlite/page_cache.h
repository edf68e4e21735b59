// A thin layer over SQLite's own page cache (pcache1) that skips truncations with nothing to drop.
//
// Why: SQLite ends every write transaction by truncating the page cache to the database size. pcache1 decides
// whether there is anything to drop from the highest page number it has ever held (iMaxKey). B-tree balancing
// (balance_nonroot in SQLite 3.40) swaps two pages through a temporary page number, the locking page at 1 GiB
// (262 145 with 4 KiB pages), which raises iMaxKey far above the database size. The next commit then walks the
// whole hash table and every cached page (16 384 of them with the writer's 64 MiB cache) to drop nothing: ~11 %
// of the writer thread's CPU at the maximum consign submit rate, measured with perf and gdb on 2026-11-22.
//
// This layer keeps its own upper bound on the page numbers present (the highest number created by a fetch, plus
// the few numbers that pages were moved to above it), and forwards a truncation only when some page may be at or
// above the limit. Everything else goes to pcache1 unchanged.
#pragma once
#include <sqlite3.h>

#include <cstdint>

namespace paygate::storage::sqlite {

// Installs the layer with sqlite3_config(SQLITE_CONFIG_PCACHE2), once per process, before SQLite initializes.
// Returns false (and SQLite keeps its default cache) when SQLite was already initialized by other code.
bool install_page_cache();

struct PageCacheStats {
  uint64_t truncates_forwarded = 0;
  uint64_t truncates_skipped = 0;
  // Skipped truncations where pcache1 would have walked its whole hash table (a page had been moved above).
  uint64_t scans_avoided = 0;
};
// Process-wide counts since start; /metrics and tests read them.
PageCacheStats page_cache_stats();

// The layer's methods, for tests that drive a cache directly.
const sqlite3_pcache_methods2& page_cache_methods();

}  // namespace paygate::storage::sqlite
