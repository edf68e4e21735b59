#include "storage/catalog_cache.h"

#include <mutex>

namespace paygate::storage {

template <typename K, typename V, typename Load>
std::optional<V> CatalogCache::get(std::unordered_map<K, Entry<V>>& map, const K& key, Load load) {
  int64_t now_ms = clock_.now_unix_ms();
  {
    std::shared_lock lock(mu_);
    auto it = map.find(key);
    if (it != map.end() && it->second.expires_at_ms > now_ms) return it->second.value;
  }
  std::optional<V> loaded = load();
  if (!loaded) return std::nullopt;
  std::unique_lock lock(mu_);
  if (map.size() >= kEntriesMax) map.clear();
  map.insert_or_assign(key, Entry<V>{*loaded, now_ms + ttl_ms_});
  return loaded;
}

namespace {
std::optional<MerchantRef> shared(std::optional<Merchant> m) {
  if (!m) return std::nullopt;
  return std::make_shared<const Merchant>(std::move(*m));
}
}  // namespace

MerchantRef CatalogCache::merchant(MerchantId id) {
  return get(merchants_, id.value(), [&] { return shared(store_.read()->merchant(id)); }).value_or(nullptr);
}

std::optional<Product> CatalogCache::product(const std::string& code) {
  return get(products_, code, [&] { return store_.read()->product(code); });
}

bool CatalogCache::merchant_product_enabled(MerchantId merchant, const std::string& code) {
  std::string key = std::to_string(merchant.value()) + '\x1f' + code;
  // "Not enabled" is a real answer here (cached too), unlike an unknown merchant.
  auto v = get(enablement_, key, [&] { return std::optional<bool>(store_.read()->merchant_product_enabled(merchant, code)); });
  return v.value_or(false);
}

MerchantRef CatalogCache::merchant_by_app_key(const std::string& app_key) {
  return get(by_app_key_, app_key, [&] { return shared(store_.read()->merchant_by_app_key(app_key)); })
      .value_or(nullptr);
}

std::optional<MerchantChannel> CatalogCache::merchant_channel(MerchantId merchant, int channel_id) {
  PG_ASSERT(channel_id >= 0 && channel_id < 100, "channel id out of the table's range");
  return get(channels_, merchant.value() * 100 + channel_id,
             [&] { return store_.read()->merchant_channel(merchant, channel_id); });
}

void CatalogCache::invalidate() {
  std::unique_lock lock(mu_);
  by_app_key_.clear();
  channels_.clear();
  merchants_.clear();
  products_.clear();
  enablement_.clear();
}

}  // namespace paygate::storage
