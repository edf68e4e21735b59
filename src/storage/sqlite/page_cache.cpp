#include "storage/sqlite/page_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>

#include "storage/sqlite/memory.h"
#include "storage/sqlite/plain_switch.h"


namespace paygate::storage::sqlite {
namespace {

// Pages moved above every fetched page number at once. Balancing moves one page there and back within the same
// call; more than this many at once is absorbed into the fetched bound (the layer then only forwards more).
constexpr size_t kMovedKeysMax = 8;

struct Cache {
  sqlite3_pcache* inner = nullptr;
  unsigned fetched_max = 0;  // no page was created by a fetch with a higher number (since the last truncation)
  std::array<unsigned, kMovedKeysMax> moved{};  // numbers above fetched_max that pages were moved to
  size_t moved_count = 0;
  unsigned inner_max = 0;  // pcache1's own iMaxKey: the highest number ever held, lowered only by a truncation

  unsigned bound() const {
    unsigned b = fetched_max;
    for (size_t i = 0; i < moved_count; ++i) b = std::max(b, moved[i]);
    return b;
  }
  void forget_moved(unsigned key) {
    for (size_t i = 0; i < moved_count; ++i) {
      if (moved[i] == key) {
        moved[i] = moved[--moved_count];
        return;
      }
    }
  }
};

sqlite3_pcache_methods2 g_inner{};  // SQLite's default cache, as found at install time
std::atomic<uint64_t> g_forwarded{0};
std::atomic<uint64_t> g_skipped{0};
std::atomic<uint64_t> g_scans_avoided{0};

Cache* cache_of(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

int x_init(void*) { return g_inner.xInit ? g_inner.xInit(g_inner.pArg) : SQLITE_OK; }
void x_shutdown(void*) {
  if (g_inner.xShutdown) g_inner.xShutdown(g_inner.pArg);
}

sqlite3_pcache* x_create(int page_size, int extra_size, int purgeable) {
  sqlite3_pcache* inner = g_inner.xCreate(page_size, extra_size, purgeable);
  if (inner == nullptr) return nullptr;
  auto* c = new (std::nothrow) Cache;
  if (c == nullptr) {
    g_inner.xDestroy(inner);
    return nullptr;
  }
  c->inner = inner;
  return reinterpret_cast<sqlite3_pcache*>(c);
}

void x_cachesize(sqlite3_pcache* p, int pages) { g_inner.xCachesize(cache_of(p)->inner, pages); }
int x_pagecount(sqlite3_pcache* p) { return g_inner.xPagecount(cache_of(p)->inner); }

sqlite3_pcache_page* x_fetch(sqlite3_pcache* p, unsigned key, int create) {
  Cache* c = cache_of(p);
  sqlite3_pcache_page* page = g_inner.xFetch(c->inner, key, create);
  // A fetch that may create raises the bound even when the page existed: conservative, and cheap.
  if (page != nullptr && create != 0) {
    c->fetched_max = std::max(c->fetched_max, key);
    c->inner_max = std::max(c->inner_max, key);
  }
  return page;
}

void x_unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  // A discarded page may leave a stale number in the bound; the bound stays an upper bound.
  g_inner.xUnpin(cache_of(p)->inner, page, discard);
}

void x_rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  Cache* c = cache_of(p);
  g_inner.xRekey(c->inner, page, old_key, new_key);
  c->forget_moved(old_key);
  c->inner_max = std::max(c->inner_max, new_key);
  if (new_key > c->fetched_max) {
    if (c->moved_count < kMovedKeysMax) {
      c->moved[c->moved_count++] = new_key;
    } else {
      c->fetched_max = new_key;
    }
  }
}

void x_truncate(sqlite3_pcache* p, unsigned limit) {
  Cache* c = cache_of(p);
  if (c->bound() < limit) {
    // No page can be numbered limit or above: pcache1 would scan its hash table to drop nothing.
    g_skipped.fetch_add(1, std::memory_order_relaxed);
    if (c->inner_max >= limit) g_scans_avoided.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  g_forwarded.fetch_add(1, std::memory_order_relaxed);
  g_inner.xTruncate(c->inner, limit);
  c->inner_max = limit == 0 ? 0 : std::min(c->inner_max, limit - 1);
  if (limit == 0) {
    c->fetched_max = 0;
    c->moved_count = 0;
    return;
  }
  c->fetched_max = std::min(c->fetched_max, limit - 1);
  for (size_t i = 0; i < c->moved_count;) {
    if (c->moved[i] >= limit) {
      c->moved[i] = c->moved[--c->moved_count];
    } else {
      ++i;
    }
  }
}

void x_destroy(sqlite3_pcache* p) {
  Cache* c = cache_of(p);
  g_inner.xDestroy(c->inner);
  delete c;
}

void x_shrink(sqlite3_pcache* p) {
  if (g_inner.xShrink) g_inner.xShrink(cache_of(p)->inner);
}

const sqlite3_pcache_methods2 kMethods{
    1,       nullptr,     x_init,   x_shutdown, x_create, x_cachesize, x_pagecount,
    x_fetch, x_unpin,     x_rekey,  x_truncate, x_destroy, x_shrink,
};

bool g_installed = false;
std::once_flag g_once;

}  // namespace

bool install_page_cache() {
  install_memory();  // also configured before SQLite initializes
  std::call_once(g_once, [] {
    if (plain_switch_on("PAYGATE_SQLITE_PLAIN_PAGE_CACHE")) return;
    sqlite3_pcache_methods2 inner{};
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &inner) != SQLITE_OK || inner.xCreate == nullptr) {
      spdlog::warn("event=sqlite_page_cache_default reason=\"SQLite already initialized\"");
      return;
    }
    g_inner = inner;
    if (sqlite3_config(SQLITE_CONFIG_PCACHE2, &kMethods) != SQLITE_OK) {
      spdlog::warn("event=sqlite_page_cache_default reason=\"SQLite already initialized\"");
      return;
    }
    g_installed = true;
  });
  return g_installed;
}

PageCacheStats page_cache_stats() {
  return PageCacheStats{g_forwarded.load(std::memory_order_relaxed), g_skipped.load(std::memory_order_relaxed),
                        g_scans_avoided.load(std::memory_order_relaxed)};
}

const sqlite3_pcache_methods2& page_cache_methods() {
  install_page_cache();
  sqlite3_initialize();  // the methods allocate through SQLite
  return kMethods;
}

}  // namespace paygate::storage::sqlite
