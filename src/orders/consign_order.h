// The consign order and its state machine, shared by the protocol handlers, the processor, the CLI and storage.
//
//   processing --(processor: success)--> success      (final; ledger credited, notify)
//   processing --(processor: fail)-----> failed       (final; notify)
//   processing --(processor: hold)-----> review
//   review     --(operator resolve)----> success | failed
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/ids.h"
#include "base/money.h"
#include "base/result.h"

namespace paygate::orders {

enum class ConsignState { kProcessing, kReview, kSuccess, kFailed };

std::string_view state_name(ConsignState s);  // "processing", "review", "success", "failed"
std::optional<ConsignState> parse_state(std::string_view name);
// The protocol's status: "1" processing (and review), "2" success, "3" failed.
std::string_view protocol_status(ConsignState s);
inline bool is_final(ConsignState s) { return s == ConsignState::kSuccess || s == ConsignState::kFailed; }
// A card is "live" while its order may still succeed or has succeeded.
inline bool card_is_live(ConsignState s) { return s != ConsignState::kFailed; }

struct ConsignOrder {
  MerchantId merchant_id;
  SysOrderId sys_order_id;
  std::string merchant_order_id;
  std::string batchno;
  std::string product_code;
  int product_type = 0;          // 0 number+password, 1 image, 2 redemption link
  std::string card_number;
  std::string card_password;     // plaintext in memory only; sealed at rest
  std::string card_fingerprint;  // keyed hash of (product, number, password)
  std::string se_code;           // sealed at rest
  int64_t face_money_yuan = 0;
  RatePermille rate;
  std::string notify_url;
  std::string custom;
  std::string request_fingerprint;  // hash of the business fields, for identical-retry detection
  ConsignState state = ConsignState::kProcessing;
  std::string message;
  int64_t real_money_yuan = 0;
  Money amount;                  // what the merchant is credited
  int64_t success_time_s = 0;    // Unix seconds of the final state, 0 before
  int64_t process_after_ms = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// What a processor (or an operator) decided for an order.
struct ConsignOutcome {
  enum class Kind { kSuccess, kFail, kReview } kind;
  int64_t real_money_yuan = 0;  // for kSuccess
  std::string message;
};

// Applies an outcome to an order in `processing` (or `review`, for operator decisions), at `now`.
// Returns the new order; errors when the transition is not allowed or the real value is out of range.
// Success computes amount = real x rate, half-up to the fen.
Result<ConsignOrder> apply_outcome(const ConsignOrder& order, const ConsignOutcome& outcome, int64_t now_ms);

// Masks a card password for display: first 2 and last 2 characters, the rest '*'. Short ones fully masked.
std::string mask_secret(std::string_view secret);

}  // namespace paygate::orders
