#include "storage/sqlite/memory.h"

#include "storage/sqlite/plain_switch.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace paygate::storage::sqlite {
namespace {

// Each block starts with a header holding the size SQLite asked for (xSize needs it); 16 bytes keep the
// caller's pointer as aligned as malloc's.
constexpr size_t kHeaderBytes = 16;

struct ThreadCache {
  size_t count = 0;
  void* blocks[kCachedBlocksPerThread];  // raw blocks (header included) of kCachedBlockBytes
};

// A plain pointer, so that it stays valid while the thread's other destructors run; the pthread key frees the
// cache when the thread exits (and later frees on that thread go straight to free()).
thread_local ThreadCache* t_cache = nullptr;
pthread_key_t g_cache_key;
std::atomic<uint64_t> g_cached_allocations{0};  // in practice touched by the writer thread alone

void free_thread_cache(void* p) {
  auto* cache = static_cast<ThreadCache*>(p);
  for (size_t i = 0; i < cache->count; ++i) std::free(cache->blocks[i]);
  std::free(cache);
  t_cache = nullptr;
}

ThreadCache* thread_cache() {
  if (t_cache == nullptr) {
    auto* cache = static_cast<ThreadCache*>(std::calloc(1, sizeof(ThreadCache)));
    if (cache == nullptr) return nullptr;
    if (pthread_setspecific(g_cache_key, cache) != 0) {
      std::free(cache);
      return nullptr;
    }
    t_cache = cache;
  }
  return t_cache;
}

size_t size_of_raw(void* raw) {
  size_t n = 0;
  std::memcpy(&n, raw, sizeof(n));
  return n;
}

void* user_of(void* raw) { return static_cast<char*>(raw) + kHeaderBytes; }
void* raw_of(void* user) { return static_cast<char*>(user) - kHeaderBytes; }

void* x_malloc(int bytes) {
  if (bytes <= 0) return nullptr;
  const auto n = static_cast<size_t>(bytes);
  if (n == kCachedBlockBytes) {
    ThreadCache* cache = t_cache;
    if (cache != nullptr && cache->count > 0) {
      g_cached_allocations.fetch_add(1, std::memory_order_relaxed);
      return user_of(cache->blocks[--cache->count]);
    }
  }
  void* raw = std::malloc(n + kHeaderBytes);
  if (raw == nullptr) return nullptr;
  std::memcpy(raw, &n, sizeof(n));
  return user_of(raw);
}

void x_free(void* user) {
  if (user == nullptr) return;
  void* raw = raw_of(user);
  if (size_of_raw(raw) == kCachedBlockBytes) {
    ThreadCache* cache = thread_cache();
    if (cache != nullptr && cache->count < kCachedBlocksPerThread) {
      cache->blocks[cache->count++] = raw;
      return;
    }
  }
  std::free(raw);
}

int x_size(void* user) { return user == nullptr ? 0 : static_cast<int>(size_of_raw(raw_of(user))); }

void* x_realloc(void* user, int bytes) {
  if (bytes <= 0) return nullptr;
  const auto n = static_cast<size_t>(bytes);
  const size_t old = size_of_raw(raw_of(user));
  if (n == old) return user;
  if (n == kCachedBlockBytes || old == kCachedBlockBytes) {
    // Blocks of the cached size come and go through the cache.
    void* moved = x_malloc(bytes);
    if (moved == nullptr) return nullptr;
    std::memcpy(moved, user, n < old ? n : old);
    x_free(user);
    return moved;
  }
  void* raw = std::realloc(raw_of(user), n + kHeaderBytes);
  if (raw == nullptr) return nullptr;
  std::memcpy(raw, &n, sizeof(n));
  return user_of(raw);
}

int x_roundup(int bytes) { return (bytes + 7) & ~7; }
int x_init(void*) { return SQLITE_OK; }
void x_shutdown(void*) {}

const sqlite3_mem_methods kMethods{x_malloc, x_free, x_realloc, x_size, x_roundup, x_init, x_shutdown, nullptr};

bool g_installed = false;
std::once_flag g_once;

}  // namespace

bool install_memory() {
  std::call_once(g_once, [] {
    if (plain_switch_on("PAYGATE_SQLITE_PLAIN_MALLOC")) return;
    if (pthread_key_create(&g_cache_key, free_thread_cache) != 0) return;
    // Memory statistics would take a global mutex around every allocation; paygate reads none of them.
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK ||
        sqlite3_config(SQLITE_CONFIG_MALLOC, &kMethods) != SQLITE_OK) {
      spdlog::warn("event=sqlite_memory_default reason=\"SQLite already initialized\"");
      return;
    }
    g_installed = true;
  });
  return g_installed;
}

MemoryStats memory_stats() {
  return MemoryStats{g_cached_allocations.load(std::memory_order_relaxed)};
}

}  // namespace paygate::storage::sqlite
