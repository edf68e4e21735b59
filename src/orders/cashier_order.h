// The cashier order and its state machine, shared by the protocol handlers, the processor, the settlement job, the
// CLI and storage. Pure: no I/O. The states are the protocol's result codes (DECISIONS.md), each with real money
// behind it:
//
//   unpaid (1001) --(paid, settled at once)------------> paid (0000)      available balance credited
//   unpaid (1001) --(paid, merchant settles T+N)-------> pending (1002)   pending balance credited
//   unpaid (1001) --(failed, or expired)---------------> failed (1003)
//   pending (1002) --(settlement job, after the delay)-> paid (0000)      pending -> available
//   paid | pending --(operator: hold)------------------> held (1004)      -> frozen
//   held (1004) --(operator: release to the merchant)--> paid (0000)      frozen -> available
//   held (1004) --(operator: return to the payer)------> failed (1003)    frozen -> back to the payer
//   unpaid (1001) --(sandbox: 1004)--------------------> held (1004)      paid straight into frozen
//
// Every change into 0000, 1002, 1003 or 1004 sends a back notify.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/ids.h"
#include "base/money.h"
#include "base/result.h"

namespace paygate::orders {

enum class CashierState { kUnpaid, kPaid, kPending, kFailed, kHeld };
std::string_view cashier_state_name(CashierState s);  // "unpaid", "paid", "pending", "failed", "held"
std::optional<CashierState> parse_cashier_state(std::string_view name);
// The protocol's result code: "0000" paid, "1001" unpaid, "1002" pending, "1003" failed, "1004" held.
std::string_view cashier_result_code(CashierState s);

struct CashierOrder {
  MerchantId merchant_id;
  CashierId id;                 // the protocol's queryid
  std::string orderid;          // the merchant's order id, 8-32 letters and digits
  std::string action;           // as requested: Bank, WeiXin, AliPay or Arbi
  std::string method;           // the method paid with (Bank, WeiXin, AliPay); for Arbi set when the customer chooses
  Money amount;                 // txnamt
  std::string backurl;
  std::string fronturl;         // optional
  std::string accname;          // bound-card payment; plaintext in memory only, sealed at rest
  std::string accno;            // bound-card payment; plaintext in memory only, sealed at rest
  std::string request_fingerprint;  // hash of the business fields, for identical-retry detection
  CashierState state = CashierState::kUnpaid;
  CashierState held_from = CashierState::kUnpaid;  // for held orders: paid or pending before the hold
  Money fee;                    // the method's fee, fixed when paid
  RatePermille fee_rate;        // the method's fee rate at creation
  std::string message;          // resultmsg
  int64_t paid_at_ms = 0;       // 0 while unpaid
  int64_t settle_after_ms = 0;  // pending orders: when the settlement job may move them to available
  int64_t expires_at_ms = 0;    // unpaid orders fail after this
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

}  // namespace paygate::orders
