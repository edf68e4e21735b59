// A read-through cache of the catalogue every request needs (merchants with their keys, products, and which
// products each merchant may use), so the hot path does not open a read transaction for them.
//
// Entries live for `ttl_ms`: a change made by another process (the CLI, another node) is seen within that
// time; changes made through invalidate() are seen at once. The cache holds at most kEntriesMax entries of
// each kind and starts over when full, so memory stays bounded whatever ids the network sends.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "base/clock.h"
#include "storage/store.h"

namespace paygate::storage {

class CatalogCache {
 public:
  static constexpr size_t kEntriesMax = 100'000;

  CatalogCache(Store& store, const Clock& clock, int64_t ttl_ms) : store_(store), clock_(clock), ttl_ms_(ttl_ms) {}

  // Unknown merchants and products are not cached (null and nullopt are always read again).
  MerchantRef merchant(MerchantId id);
  std::optional<Product> product(const std::string& code);
  bool merchant_product_enabled(MerchantId merchant, const std::string& code);
  // The gateway identifies merchants by appKey. Keys are cached with the merchant they belong to: a rotated key
  // stops working within the TTL.
  MerchantRef merchant_by_app_key(const std::string& app_key);
  // A merchant's gateway channel; "not enabled" (nullopt) is read again each time.
  std::optional<MerchantChannel> merchant_channel(MerchantId merchant, int channel_id);
  void invalidate();

 private:
  template <typename V>
  struct Entry {
    V value;
    int64_t expires_at_ms;
  };
  template <typename K, typename V, typename Load>
  std::optional<V> get(std::unordered_map<K, Entry<V>>& map, const K& key, Load load);

  Store& store_;
  const Clock& clock_;
  int64_t ttl_ms_;
  std::shared_mutex mu_;
  std::unordered_map<int64_t, Entry<MerchantRef>> merchants_;
  std::unordered_map<std::string, Entry<Product>> products_;
  std::unordered_map<std::string, Entry<bool>> enablement_;  // "<merchant>\x1f<code>"
  std::unordered_map<std::string, Entry<MerchantRef>> by_app_key_;
  std::unordered_map<int64_t, Entry<MerchantChannel>> channels_;  // merchant id * 100 + channel id
};

}  // namespace paygate::storage
