// Merchants as the console and the CLI change them: create (keys shown once), settings, channels and their rates,
// products, key rotation, the API IP allowlist. Each change checks the principal's permission, validates every
// field, and writes the change with its audit entry (before and after, never keys) in the caller's transaction.
//
// The protocol handlers read merchants through storage::CatalogCache, whose entries live
// storage.catalog_cache_ttl_ms (default 1 s): a change made here, from the console or the CLI, reaches the protocol
// paths of every node within that time, as the CLI's changes always have.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/money.h"
#include "base/result.h"
#include "console/console.h"
#include "storage/store.h"

namespace paygate::console {

// A merchant's three secrets, generated together (creation and rotation).
struct MerchantKeys {
  std::string app_key;  // 32 letters and digits
  std::string sign_key;  // 32 letters and digits
  std::string aes_key;   // 16 letters and digits (AES-128 key of the consign cardPassword)
};
MerchantKeys generate_keys(Random& random);
// {"appKey", "key", "aesKey"}: shown once, in the answer to a creation or rotation.
nlohmann::json keys_json(const MerchantKeys& keys);

// The API's Merchant object (docs/console.md): fingerprints of the keys, never the keys.
nlohmann::json merchant_json(const storage::Merchant& m);

struct Balances {
  Money available;
  Money pending;
  Money frozen;
  Money payout_reserved;
};
Balances merchant_balances(storage::Tx& tx, MerchantId id);
// {"available_fen", "pending_fen", "frozen_fen", "payout_reserved_fen"}
nlohmann::json balances_json(const Balances& b);

// The refusal of a change the principal may not make: kUnauthenticated with a message starting "forbidden: "
// (the admin API answers 403 forbidden).
bool is_forbidden(const Error& e);

// ---- reads ----

struct MerchantPage {
  std::vector<storage::Merchant> items;  // newest (highest id) first
  std::optional<std::string> next_cursor;
};
// Operators: merchants whose name contains q (ASCII case-insensitive), or whose id or appKey is q; `cursor` from
// the previous page. A merchant user sees only itself. kInvalidArgument for a bad cursor.
Result<MerchantPage> list_merchants(storage::Tx& tx, const Principal& who, std::string_view q, size_t limit,
                                    std::string_view cursor);
// {"merchant", "balances", "channels", "products", "users"} (docs/console.md). kNotFound for an unknown merchant
// and for another merchant's id asked by a merchant user.
Result<nlohmann::json> merchant_detail(storage::Tx& tx, const Principal& who, MerchantId id);
// {"channels": [{"channel_id", "name", "name_en"}], "products": [Product]}
nlohmann::json catalogue_json(storage::Tx& tx);
// A channel row as the detail shows it (every catalogue channel; one never set is disabled with no rate).
nlohmann::json channel_json(int channel_id, const std::optional<storage::MerchantChannel>& ch);
nlohmann::json product_row_json(const storage::Product& p, bool enabled);

// ---- changes (kManageMerchants) ----

// name: 1 to limits::kConsoleNameLengthMax characters (code points) of UTF-8 without control characters.
Status check_merchant_name(std::string_view name);

// Creates a merchant with `keys`. The returned merchant holds them (show them once).
Result<storage::Merchant> create_merchant(storage::Tx& tx, const Principal& who, std::string_view name,
                                          const MerchantKeys& keys, int64_t now_ms);

// What a PATCH changes; unset fields are kept.
struct MerchantPatch {
  std::optional<std::string> name;
  std::optional<bool> enabled;
  std::optional<Money> payout_fee;
  std::optional<bool> payout_manual_approval;
  std::optional<int> settlement_delay_days;  // 0 to 365
  std::optional<bool> bound_card_allowed;
  std::optional<std::vector<std::string>> ip_allowlist;  // normalized by update_merchant
  bool empty() const {
    return !name && !enabled && !payout_fee && !payout_manual_approval && !settlement_delay_days &&
           !bound_card_allowed && !ip_allowlist;
  }
};
// The PATCH body: every field checked for type and range; unknown fields refused (kInvalidArgument, the message
// names the field).
Result<MerchantPatch> parse_merchant_patch(const nlohmann::json& body);
// Applies the patch (validating it: the IP allowlist is normalized, see http/ip_allowlist.h), stamps
// updated_at_ms, audits merchant.update with the fields before and after.
Result<storage::Merchant> update_merchant(storage::Tx& tx, const Principal& who, MerchantId id,
                                          const MerchantPatch& patch, int64_t now_ms);

// New keys (the old ones stop working within the catalogue cache's TTL); keys_version + 1. Audit
// merchant.rotate_keys with the versions and fingerprints.
Result<storage::Merchant> rotate_keys(storage::Tx& tx, const Principal& who, MerchantId id, const MerchantKeys& keys,
                                      int64_t now_ms);

// A gateway/cashier channel's setting for one merchant. Unset fields keep the stored value (or, for a channel
// never set: no minimum, no maximum, processor sandbox; a fee rate is then required to enable it).
struct ChannelChange {
  bool enabled = true;
  std::optional<RatePermille> fee_rate;
  std::optional<Money> min_amount;  // 0: none
  std::optional<Money> max_amount;  // 0: none
  std::optional<std::string> processor;
  bool must_exist = false;  // refuse (kNotFound) a channel never set for this merchant
};
Result<ChannelChange> parse_channel_change(const nlohmann::json& body);
Result<storage::MerchantChannel> set_channel(storage::Tx& tx, const Principal& who, MerchantId id, int channel_id,
                                             const ChannelChange& change, int64_t now_ms);

// Enables or disables a catalogue product for one merchant. Audit product.set.
Result<nlohmann::json> set_product(storage::Tx& tx, const Principal& who, MerchantId id, const std::string& code,
                                   bool enabled, int64_t now_ms);

}  // namespace paygate::console
