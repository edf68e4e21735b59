// Every queue, batch, body, connection count and retry has a named upper bound, here or in config
// (where an operator may tune it within these hard caps).
#pragma once
#include <cstddef>
#include <cstdint>

namespace paygate::limits {

// HTTP server
inline constexpr size_t kRequestBodyBytesMax = 64 * 1024;
inline constexpr size_t kRequestHeaderBytesMax = 16 * 1024;
inline constexpr size_t kConnectionsMax = 10'000;
inline constexpr int64_t kRequestReadTimeoutMs = 30'000;
inline constexpr int64_t kKeepAliveIdleTimeoutMs = 60'000;

// Storage writer
inline constexpr size_t kWriteQueueDepthMax = 65'536;  // requests waiting for the writer
inline constexpr size_t kCommitBatchSizeMax = 1'024;   // requests per transaction
// PostgreSQL: connections per process, and how often a batch is run again after a deadlock, a serialization
// failure, a lock timeout or a lost connection before its requests are answered "unavailable".
inline constexpr size_t kPgWriterConnectionsMax = 64;
inline constexpr size_t kPgReaderConnectionsMax = 256;
inline constexpr int kPgBatchAttemptsMax = 5;
// Requests per PostgreSQL transaction: each request's savepoint that writes takes a subtransaction id, and a
// backend keeps at most 64 of them in shared memory (PGPROC_MAX_CACHED_SUBXIDS); beyond that every snapshot taken
// anywhere in the cluster has to look subtransactions up in pg_subtrans, slowing all sessions down.
inline constexpr size_t kPgCommitBatchSizeMax = 64;

// Consign protocol
inline constexpr size_t kConsignBatchCardsMax = 2'000;
inline constexpr size_t kMerchantOrderIdLengthMax = 50;
inline constexpr size_t kBatchNoLengthMax = 64;
inline constexpr size_t kCardNumberLengthMax = 128;
inline constexpr size_t kCardPasswordHexLengthMax = 8'192;  // hex of base64 of AES: room for an image URL
inline constexpr size_t kCardPasswordPlainLengthMax = 2'048;
inline constexpr size_t kNotifyUrlLengthMax = 1'024;
inline constexpr size_t kCustomLengthMax = 1'024;
inline constexpr size_t kProductCodeLengthMax = 64;

// Gateway protocol (docs/protocols/gateway.md)
inline constexpr size_t kGatewayMrnLengthMax = 64;  // the document: 最长可接纳64个字符
inline constexpr size_t kGatewayAppKeyLengthMax = 64;
inline constexpr size_t kGatewayUrlBytesMax = 1'024;     // callbackUrl, returnUrl
inline constexpr size_t kGatewayPayerBytesMax = 128;     // UTF-8 bytes, not characters
inline constexpr size_t kGatewayBankTextBytesMax = 128;  // bankName, accountName; UTF-8 bytes
inline constexpr size_t kGatewayAccountNumberDigitsMin = 8;
inline constexpr size_t kGatewayAccountNumberDigitsMax = 32;
inline constexpr size_t kGatewayFieldsMax = 64;  // members of a JSON body or fields of a form

// Cashier protocol (docs/protocols/cashier.md)
inline constexpr size_t kCashierOrderIdLengthMin = 8;  // the document: 长度 8-32 位, 由字母和数字组成
inline constexpr size_t kCashierOrderIdLengthMax = 32;
inline constexpr size_t kCashierQueryIdLengthMax = 64;  // the platform's transaction number
inline constexpr size_t kCashierUrlBytesMax = 1'024;    // backurl, fronturl
inline constexpr size_t kCashierAccNameBytesMax = 64;   // UTF-8 bytes, not characters
// `req` as received: the base64 of up to 6 KiB of JSON, about twice the largest valid request.
inline constexpr size_t kCashierEnvelopeBytesMax = 8'192;
inline constexpr size_t kCashierFieldsMax = 64;  // fields of the form, members of the JSON

// Notify dispatcher
inline constexpr size_t kNotifyInFlightMax = 256;
inline constexpr size_t kNotifyClaimBatchMax = 256;
inline constexpr size_t kNotifyResponseBytesMax = 64 * 1024;
inline constexpr size_t kNotifyBodyExcerptBytesMax = 256;
inline constexpr int kNotifyAttemptsMax = 10;  // across all protocols' schedules

// Processor
inline constexpr size_t kProcessorBatchMax = 256;

// Listing
inline constexpr size_t kListPageSizeMax = 1'000;

// Portable SQL (storage::Tx::query_sql): rows one query may return.
inline constexpr size_t kSqlRowsMax = 100'000;

// Console and admin API
inline constexpr size_t kConsolePageSizeMax = 200;       // rows per page of any list
inline constexpr size_t kConsoleCsvRowsMax = 50'000;     // rows in one CSV export (the file says when cut)
inline constexpr size_t kConsoleBodyBytesMax = 16 * 1024;
inline constexpr size_t kConsoleNameLengthMax = 64;      // user and merchant names
inline constexpr size_t kConsolePasswordLengthMin = 10;
inline constexpr size_t kConsolePasswordLengthMax = 128;
inline constexpr int kConsoleLoginFailuresMax = 5;        // per name (and per address) within the window
inline constexpr int64_t kConsoleLoginWindowMs = 15 * 60 * 1000;
inline constexpr size_t kConsoleIpAllowlistMax = 32;      // entries (addresses or CIDR ranges) per merchant
inline constexpr int kConsoleDashboardDaysMax = 90;
inline constexpr int kConsoleReconciliationDaysMax = 31;

}  // namespace paygate::limits
