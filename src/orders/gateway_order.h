// Gateway pay-ins and payouts and their state machines, shared by the protocol handlers, the processors, the CLI
// and storage. Pure: no I/O.
//
// Pay-in:
//   waiting --(processor: paid, amount P)--> paid     (final; ledger: P less the channel fee; callback)
//   waiting --(processor: failed)----------> failed   (final; no callback: the document calls back on success only)
//   waiting --(expiry passed)--------------> failed   (final, message "expired")
//
// Payout (the amount plus the payout fee leave the available balance at acceptance):
//   approval   --(operator approves)--> processing
//   approval   --(operator rejects)---> rejected    (final; money back to available)
//   processing --(bank: paid)---------> paid        (final; callback)
//   processing --(bank: failed)-------> failed      (final; money back to available)
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/ids.h"
#include "base/money.h"
#include "base/result.h"

namespace paygate::orders {

enum class PayInState { kWaiting, kPaid, kFailed };
std::string_view payin_state_name(PayInState s);  // "waiting", "paid", "failed"
std::optional<PayInState> parse_payin_state(std::string_view name);
// The query's status: 0 waiting, 1 paid, 2 failed.
int payin_protocol_status(PayInState s);

struct PayIn {
  MerchantId merchant_id;
  PaymentId id;
  std::string mrn;
  int channel_id = 0;
  Money amount;              // requested
  std::string amount_text;   // exactly as submitted; the callback's originAmount
  std::string callback_url;
  std::string return_url;
  std::string payer;         // optional, unsigned
  std::string request_fingerprint;  // hash of the signed fields, for identical-retry detection
  std::string processor;     // the processor the channel was bound to at creation ("sandbox")
  RatePermille fee_rate;     // the channel's fee rate at creation
  PayInState state = PayInState::kWaiting;
  Money paid;                // what the customer paid (0 until paid)
  Money fee;                 // paid x fee_rate, half-up (0 until paid)
  std::string message;
  int64_t expires_at_ms = 0;
  int64_t finished_at_ms = 0;  // when it became paid or failed, 0 before
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// What the processor (the sandbox page, or a real upstream) reported for a pay-in.
struct PayInOutcome {
  enum class Kind { kPaid, kFailed, kExpired } kind;
  Money paid;  // for kPaid: > 0
  std::string message;
};
// Applies an outcome to a waiting pay-in at `now`; errors when it is not waiting or the amount is not positive.
// kPaid computes the fee from the pay-in's fee rate on the paid amount, half-up to the fen.
Result<PayIn> apply_payin_outcome(const PayIn& p, const PayInOutcome& outcome, int64_t now_ms);

enum class PayoutState { kApproval, kProcessing, kPaid, kFailed, kRejected };
std::string_view payout_state_name(PayoutState s);  // "approval", "processing", "paid", "failed", "rejected"
std::optional<PayoutState> parse_payout_state(std::string_view name);
// The query's status: 0 waiting (approval, processing), 1 paid, 2 failed or rejected.
int payout_protocol_status(PayoutState s);
inline bool is_final(PayoutState s) {
  return s == PayoutState::kPaid || s == PayoutState::kFailed || s == PayoutState::kRejected;
}

struct Payout {
  MerchantId merchant_id;
  PayoutId id;
  std::string mrn;
  Money amount;             // whole yuan
  std::string amount_text;  // exactly as submitted
  Money fee;                // the merchant's payout fee at acceptance (may be 0)
  std::string bank_name;
  std::string account_name;
  std::string account_number;  // plaintext in memory only; sealed at rest
  std::string callback_url;
  std::string request_fingerprint;
  PayoutState state = PayoutState::kProcessing;
  std::string message;
  int64_t process_after_ms = 0;  // when the payout processor may take it (processing only)
  int64_t finished_at_ms = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// Masks a bank account number for display: the last 4 digits, the rest '*'.
std::string mask_account_number(std::string_view number);

}  // namespace paygate::orders
