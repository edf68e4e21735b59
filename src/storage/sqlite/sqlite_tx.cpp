#include "storage/sqlite/sqlite_tx.h"

#include <array>
#include <optional>
#include <set>
#include <sstream>

namespace paygate::storage::sqlite {
namespace {

constexpr const char* kMerchantColumns =
    "merchant_id, name, enabled, app_key, sign_key_sealed, aes_key_sealed, keys_version, payout_fee_fen, "
    "payout_manual_approval, settlement_delay_days, bound_card_allowed, created_at_ms, updated_at_ms, api_ip_allowlist";

constexpr const char* kOrderColumns =
    "merchant_id, sys_order_id, merchant_order_id, batchno, product_code, product_type, card_number, "
    "card_password_sealed, card_fingerprint, se_code_sealed, face_money_yuan, rate_permille, notify_url, custom, "
    "request_fingerprint, state, message, real_money_yuan, amount_fen, success_time_s, process_after_ms, "
    "created_at_ms, updated_at_ms";

constexpr const char* kChannelColumns =
    "merchant_id, channel_id, enabled, fee_rate_permille, min_amount_fen, max_amount_fen, processor, updated_at_ms";

constexpr const char* kPayInColumns =
    "merchant_id, payment_id, mrn, channel_id, amount_fen, amount_text, callback_url, return_url, payer, "
    "request_fingerprint, processor, fee_rate_permille, state, paid_fen, fee_fen, message, expires_at_ms, "
    "finished_at_ms, created_at_ms, updated_at_ms";

constexpr const char* kPayoutColumns =
    "merchant_id, payout_id, mrn, amount_fen, amount_text, fee_fen, bank_name, account_name, account_number_sealed, "
    "callback_url, request_fingerprint, state, message, process_after_ms, finished_at_ms, created_at_ms, "
    "updated_at_ms";

constexpr const char* kCashierColumns =
    "merchant_id, cashier_id, orderid, action, method, amount_fen, backurl, fronturl, accname_sealed, accno_sealed, "
    "request_fingerprint, state, held_from, fee_fen, fee_rate_permille, message, paid_at_ms, settle_after_ms, "
    "expires_at_ms, created_at_ms, updated_at_ms";

constexpr const char* kNotificationColumns =
    "notification_id, merchant_id, protocol, order_ref, url, content_type, body, schedule, attempts_made, "
    "attempts_max, state, next_attempt_at_ms, claimed_until_ms, created_at_ms, updated_at_ms";

}  // namespace

std::string SqliteTx::open_sealed(std::string_view sealed, const std::string& aad) {
  auto plain = box_.open(sealed, aad);
  // A value that does not open means the master key is wrong or the row was tampered with: an operating
  // error the operator must see, not something to hide.
  if (!plain.ok()) throw StorageFailure("cannot open sealed " + aad + ": " + plain.error().message);
  return std::move(plain).value();
}

// ---- merchants ----

Merchant SqliteTx::read_merchant(Stmt& st) {
  Merchant m;
  m.id = MerchantId{st.int64(0)};
  m.name = st.text(1);
  m.enabled = st.int64(2) != 0;
  m.app_key = st.text(3);
  m.sign_key = open_sealed(st.blob(4), merchant_aad(m.id, "sign_key"));
  m.aes_key = open_sealed(st.blob(5), merchant_aad(m.id, "aes_key"));
  m.keys_version = st.int64(6);
  m.payout_fee = Money::from_fen(st.int64(7));
  m.payout_manual_approval = st.int64(8) != 0;
  m.settlement_delay_days = static_cast<int>(st.int64(9));
  m.bound_card_allowed = st.int64(10) != 0;
  m.created_at_ms = st.int64(11);
  m.updated_at_ms = st.int64(12);
  m.api_ip_allowlist = split_ip_allowlist(st.text(13));
  return m;
}

MerchantId SqliteTx::insert_merchant(const Merchant& merchant) {
  MerchantId id = merchant.id;
  if (id.value() == 0) {
    auto st = c_.prepare("SELECT COALESCE(MAX(merchant_id), 10000) + 1 FROM merchants");
    st.step();
    id = MerchantId{st.int64(0)};
  }
  static const std::string sql = std::string("INSERT INTO merchants (") + kMerchantColumns +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, id.value())
      .bind(2, merchant.name)
      .bind(3, merchant.enabled)
      .bind(4, merchant.app_key)
      .bind_blob(5, box_.seal(merchant.sign_key, merchant_aad(id, "sign_key")))
      .bind_blob(6, box_.seal(merchant.aes_key, merchant_aad(id, "aes_key")))
      .bind(7, merchant.keys_version)
      .bind(8, merchant.payout_fee.fen())
      .bind(9, merchant.payout_manual_approval)
      .bind(10, merchant.settlement_delay_days)
      .bind(11, merchant.bound_card_allowed)
      .bind(12, merchant.created_at_ms)
      .bind(13, merchant.updated_at_ms)
      .bind(14, join_ip_allowlist(merchant.api_ip_allowlist));
  st.exec();
  if (st.last_error() == SQLITE_CONSTRAINT) {
    std::string err = sqlite3_errmsg(c_.raw());
    if (err.find("CHECK") != std::string::npos) throw StorageFailure("merchant insert violates a constraint: " + err);
    throw StorageFailure("merchant id or appKey already exists");
  }
  return id;
}

void SqliteTx::update_merchant(const Merchant& m) {
  auto st = c_.prepare(
      "UPDATE merchants SET name=?2, enabled=?3, app_key=?4, sign_key_sealed=?5, aes_key_sealed=?6, "
      "keys_version=?7, payout_fee_fen=?8, payout_manual_approval=?9, settlement_delay_days=?10, "
      "bound_card_allowed=?11, updated_at_ms=?12, api_ip_allowlist=?13 WHERE merchant_id=?1");
  st.bind(1, m.id.value())
      .bind(2, m.name)
      .bind(3, m.enabled)
      .bind(4, m.app_key)
      .bind_blob(5, box_.seal(m.sign_key, merchant_aad(m.id, "sign_key")))
      .bind_blob(6, box_.seal(m.aes_key, merchant_aad(m.id, "aes_key")))
      .bind(7, m.keys_version)
      .bind(8, m.payout_fee.fen())
      .bind(9, m.payout_manual_approval)
      .bind(10, m.settlement_delay_days)
      .bind(11, m.bound_card_allowed)
      .bind(12, m.updated_at_ms)
      .bind(13, join_ip_allowlist(m.api_ip_allowlist));
  st.exec();
  if (st.last_error() == SQLITE_CONSTRAINT) throw StorageFailure("merchant update violates a constraint");
}

std::optional<Merchant> SqliteTx::merchant(MerchantId id) {
  static const std::string sql = std::string("SELECT ") + kMerchantColumns + " FROM merchants WHERE merchant_id=?1";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, id.value());
  if (!st.step()) return std::nullopt;
  return read_merchant(st);
}

std::optional<Merchant> SqliteTx::merchant_by_app_key(const std::string& app_key) {
  static const std::string sql = std::string("SELECT ") + kMerchantColumns + " FROM merchants WHERE app_key=?1";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, app_key);
  if (!st.step()) return std::nullopt;
  return read_merchant(st);
}

std::vector<Merchant> SqliteTx::merchants() {
  static const std::string sql = std::string("SELECT ") + kMerchantColumns + " FROM merchants ORDER BY merchant_id";
  auto st = c_.prepare(sql.c_str());
  std::vector<Merchant> out;
  while (st.step()) out.push_back(read_merchant(st));
  return out;
}

// ---- products ----

void SqliteTx::upsert_product(const Product& p) {
  auto st = c_.prepare(
      "INSERT INTO products (product_code, name, face_values_yuan, default_rate_permille, custom_rate_allowed, "
      "custom_rate_min_permille, custom_rate_max_permille, enabled, created_at_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
      "ON CONFLICT(product_code) DO UPDATE SET name=excluded.name, face_values_yuan=excluded.face_values_yuan, "
      "default_rate_permille=excluded.default_rate_permille, custom_rate_allowed=excluded.custom_rate_allowed, "
      "custom_rate_min_permille=excluded.custom_rate_min_permille, "
      "custom_rate_max_permille=excluded.custom_rate_max_permille, enabled=excluded.enabled");
  st.bind(1, p.code)
      .bind(2, p.name)
      .bind(3, join_face_values(p.face_values_yuan))
      .bind(4, p.default_rate.value)
      .bind(5, p.custom_rate_allowed)
      .bind(6, p.custom_rate_min.value)
      .bind(7, p.custom_rate_max.value)
      .bind(8, p.enabled)
      .bind(9, p.created_at_ms);
  st.exec();
}

namespace {
Product read_product(Stmt& st) {
  Product p;
  p.code = st.text(0);
  p.name = st.text(1);
  p.face_values_yuan = split_face_values(st.text(2));
  p.default_rate = RatePermille{static_cast<int32_t>(st.int64(3))};
  p.custom_rate_allowed = st.int64(4) != 0;
  p.custom_rate_min = RatePermille{static_cast<int32_t>(st.int64(5))};
  p.custom_rate_max = RatePermille{static_cast<int32_t>(st.int64(6))};
  p.enabled = st.int64(7) != 0;
  p.created_at_ms = st.int64(8);
  return p;
}
constexpr const char* kProductSelect =
    "SELECT product_code, name, face_values_yuan, default_rate_permille, custom_rate_allowed, "
    "custom_rate_min_permille, custom_rate_max_permille, enabled, created_at_ms FROM products";
}  // namespace

std::optional<Product> SqliteTx::product(const std::string& code) {
  static const std::string sql = std::string(kProductSelect) + " WHERE product_code=?1";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, code);
  if (!st.step()) return std::nullopt;
  return read_product(st);
}

std::vector<Product> SqliteTx::products() {
  static const std::string sql = std::string(kProductSelect) + " ORDER BY product_code";
  auto st = c_.prepare(sql.c_str());
  std::vector<Product> out;
  while (st.step()) out.push_back(read_product(st));
  return out;
}

void SqliteTx::set_merchant_product(MerchantId merchant, const std::string& code, bool enabled) {
  auto st = c_.prepare(
      "INSERT INTO merchant_products (merchant_id, product_code, enabled) VALUES (?1, ?2, ?3) "
      "ON CONFLICT(merchant_id, product_code) DO UPDATE SET enabled=excluded.enabled");
  st.bind(1, merchant.value()).bind(2, code).bind(3, enabled);
  st.exec();
  if (st.last_error() == SQLITE_CONSTRAINT) throw StorageFailure("unknown merchant or product");
}

bool SqliteTx::merchant_product_enabled(MerchantId merchant, const std::string& code) {
  auto st = c_.prepare("SELECT enabled FROM merchant_products WHERE merchant_id=?1 AND product_code=?2");
  st.bind(1, merchant.value()).bind(2, code);
  return st.step() && st.int64(0) != 0;
}

std::vector<std::string> SqliteTx::merchant_products(MerchantId merchant) {
  auto st = c_.prepare(
      "SELECT product_code FROM merchant_products WHERE merchant_id=?1 AND enabled=1 ORDER BY product_code");
  st.bind(1, merchant.value());
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  return out;
}

// ---- consign orders ----

orders::ConsignOrder SqliteTx::read_order(Stmt& st) {
  orders::ConsignOrder o;
  o.merchant_id = MerchantId{st.int64(0)};
  o.sys_order_id = SysOrderId{st.text(1)};
  o.merchant_order_id = st.text(2);
  o.batchno = st.text(3);
  o.product_code = st.text(4);
  o.product_type = static_cast<int>(st.int64(5));
  o.card_number = st.text(6);
  o.card_password = open_sealed(st.blob(7), order_aad(o.sys_order_id, "card_password"));
  o.card_fingerprint = st.text(8);
  if (!st.is_null(9)) o.se_code = open_sealed(st.blob(9), order_aad(o.sys_order_id, "se_code"));
  o.face_money_yuan = st.int64(10);
  o.rate = RatePermille{static_cast<int32_t>(st.int64(11))};
  o.notify_url = st.text(12);
  o.custom = st.text(13);
  o.request_fingerprint = st.text(14);
  auto state = orders::parse_state(st.text(15));
  if (!state) throw StorageFailure("consign order " + o.sys_order_id.value() + " has an unknown state");
  o.state = *state;
  o.message = st.text(16);
  o.real_money_yuan = st.int64(17);
  o.amount = Money::from_fen(st.int64(18));
  o.success_time_s = st.int64(19);
  o.process_after_ms = st.int64(20);
  o.created_at_ms = st.int64(21);
  o.updated_at_ms = st.int64(22);
  return o;
}

Status SqliteTx::insert_consign_order(const orders::ConsignOrder& o, const SealedCard& sealed) {
  const SealedCard card = sealed_for(box_, o, sealed);
  static const std::string sql = std::string("INSERT INTO consign_orders (") + kOrderColumns +
                                 ", card_live) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                                 "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)";
  auto st = c_.prepare(sql.c_str());
  // The order and the sealed card outlive `st`: their strings are bound in place (bind_ref).
  st.bind(1, o.merchant_id.value())
      .bind_ref(2, o.sys_order_id.value())
      .bind_ref(3, o.merchant_order_id)
      .bind_ref(4, o.batchno)
      .bind_ref(5, o.product_code)
      .bind(6, o.product_type)
      .bind_ref(7, o.card_number)
      .bind_blob_ref(8, card.password)
      .bind_ref(9, o.card_fingerprint);
  if (o.se_code.empty()) {
    st.bind_null(10);
  } else {
    st.bind_blob_ref(10, card.se_code);
  }
  st.bind(11, o.face_money_yuan)
      .bind(12, o.rate.value)
      .bind_ref(13, o.notify_url)
      .bind_ref(14, o.custom)
      .bind_ref(15, o.request_fingerprint)
      .bind(16, orders::state_name(o.state))
      .bind_ref(17, o.message)
      .bind(18, o.real_money_yuan)
      .bind(19, o.amount.fen())
      .bind(20, o.success_time_s)
      .bind(21, o.process_after_ms)
      .bind(22, o.created_at_ms)
      .bind(23, o.updated_at_ms)
      .bind(24, orders::card_is_live(o.state));
  st.exec();
  if (st.last_error() != SQLITE_CONSTRAINT) return ok_status();
  // Which rule, by looking rather than by SQLite's message (which names only the first index it checked, the
  // live card's before the order id's): the merchant order id first, as PostgreSQL reports it, so that an
  // identical retry learns "duplicate orderId" and the consign service answers it as it did the first time.
  auto order_id = c_.prepare("SELECT 1 FROM consign_orders WHERE merchant_id=?1 AND merchant_order_id=?2");
  order_id.bind(1, o.merchant_id.value()).bind(2, o.merchant_order_id);
  if (order_id.step()) return make_error(ErrorCode::kAlreadyExists, "duplicate orderId");
  if (orders::card_is_live(o.state) && consign_card_live(o.product_code, o.card_number, o.card_fingerprint)) {
    return make_error(ErrorCode::kAlreadyExists, "card already submitted");
  }
  auto sys_id = c_.prepare("SELECT 1 FROM consign_orders WHERE sys_order_id=?1");
  sys_id.bind(1, o.sys_order_id.value());
  if (sys_id.step()) return make_error(ErrorCode::kAlreadyExists, "sys order id collision");
  throw StorageFailure("consign order insert violates a constraint that is none of the order id, card, sys id: " +
                       std::string(sqlite3_errmsg(c_.raw())));
}

void SqliteTx::update_consign_order(const orders::ConsignOrder& o) {
  auto st = c_.prepare(
      "UPDATE consign_orders SET state=?3, card_live=?4, message=?5, real_money_yuan=?6, amount_fen=?7, "
      "success_time_s=?8, process_after_ms=?9, updated_at_ms=?10 WHERE merchant_id=?1 AND sys_order_id=?2");
  st.bind(1, o.merchant_id.value())
      .bind(2, o.sys_order_id.value())
      .bind(3, orders::state_name(o.state))
      .bind(4, orders::card_is_live(o.state))
      .bind(5, o.message)
      .bind(6, o.real_money_yuan)
      .bind(7, o.amount.fen())
      .bind(8, o.success_time_s)
      .bind(9, o.process_after_ms)
      .bind(10, o.updated_at_ms);
  st.exec();
  if (st.last_error() == SQLITE_CONSTRAINT) throw StorageFailure("consign order update violates a constraint");
  if (c_.changes() != 1) throw StorageFailure("consign order " + o.sys_order_id.value() + " not found for update");
}

std::optional<orders::ConsignOrder> SqliteTx::consign_order(MerchantId merchant, const std::string& merchant_order_id) {
  static const std::string sql =
      std::string("SELECT ") + kOrderColumns + " FROM consign_orders WHERE merchant_id=?1 AND merchant_order_id=?2";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, merchant.value()).bind(2, merchant_order_id);
  if (!st.step()) return std::nullopt;
  return read_order(st);
}

std::optional<orders::ConsignOrder> SqliteTx::consign_order_by_sys(const SysOrderId& id) {
  static const std::string sql = std::string("SELECT ") + kOrderColumns + " FROM consign_orders WHERE sys_order_id=?1";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, id.value());
  if (!st.step()) return std::nullopt;
  return read_order(st);
}

std::vector<orders::ConsignOrder> SqliteTx::consign_orders(const OrderFilter& f) {
  static const std::string sql =
      std::string("SELECT ") + kOrderColumns +
      " FROM consign_orders WHERE (?1 IS NULL OR merchant_id=?1) AND (?2 IS NULL OR state=?2) "
      "AND (?3 IS NULL OR batchno=?3) AND (?4 IS NULL OR created_at_ms < ?4 OR (created_at_ms = ?4 AND sys_order_id < ?5)) "
      "ORDER BY created_at_ms DESC, sys_order_id DESC LIMIT ?6";
  auto st = c_.prepare(sql.c_str());
  if (f.merchant_id) st.bind(1, f.merchant_id->value()); else st.bind_null(1);
  if (f.state) st.bind(2, orders::state_name(*f.state)); else st.bind_null(2);
  if (f.batchno) st.bind(3, *f.batchno); else st.bind_null(3);
  if (f.before) {
    st.bind(4, f.before->first).bind(5, f.before->second);
  } else {
    st.bind_null(4).bind_null(5);
  }
  st.bind(6, static_cast<int64_t>(std::min(f.limit, limits::kListPageSizeMax)));
  std::vector<orders::ConsignOrder> out;
  while (st.step()) out.push_back(read_order(st));
  return out;
}

std::vector<orders::ConsignOrder> SqliteTx::consign_orders_due(int64_t now_ms, size_t limit) {
  static const std::string sql = std::string("SELECT ") + kOrderColumns +
                                 " FROM consign_orders WHERE state='processing' AND process_after_ms <= ?1 "
                                 "ORDER BY process_after_ms LIMIT ?2";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, now_ms).bind(2, static_cast<int64_t>(limit));
  std::vector<orders::ConsignOrder> out;
  while (st.step()) out.push_back(read_order(st));
  return out;
}

bool SqliteTx::consign_card_live(const std::string& product_code, const std::string& card_number,
                                 const std::string& fp) {
  auto st = c_.prepare(
      "SELECT 1 FROM consign_orders WHERE product_code=?1 AND card_number=?2 AND card_fingerprint=?3 AND card_live=1");
  st.bind(1, product_code).bind(2, card_number).bind(3, fp);
  return st.step();
}

std::optional<int64_t> SqliteTx::next_consign_due_ms() {
  auto st = c_.prepare("SELECT MIN(process_after_ms) FROM consign_orders WHERE state='processing'");
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return st.int64(0);
}

int64_t SqliteTx::consign_batch_add(MerchantId merchant, const std::string& batchno) {
  if (read_only_) throw StorageFailure("consign_batch_add in a read snapshot");
  PG_ASSERT(request_ >= 0, "consign_batch_add outside a request of the writer's batch");
  auto key = std::pair(merchant.value(), batchno);
  auto it = counters_.find(key);
  if (it == counters_.end()) {
    // Only this transaction writes (one writer), so the row read now stays valid until COMMIT.
    auto st = c_.prepare("SELECT cards FROM consign_batches WHERE merchant_id=?1 AND batchno=?2");
    st.bind(1, merchant.value()).bind(2, batchno);
    const int64_t stored = st.step() ? st.int64(0) : 0;
    it = counters_.emplace(std::move(key), BatchCounter{stored, 0, {}}).first;
  }
  ++it->second.added[request_];
  ++it->second.cards_added;
  return it->second.cards_stored + it->second.cards_added;
}

void SqliteTx::request_rolled_back() {
  for (auto& [key, counter] : counters_) {
    auto it = counter.added.find(request_);
    if (it == counter.added.end()) continue;
    counter.cards_added -= it->second;
    counter.added.erase(it);
  }
  for (auto it = balances_.begin(); it != balances_.end();) {
    auto& held = it->second;
    if (auto moved = held.moved.find(request_); moved != held.moved.end()) {
      held.moved_fen -= moved->second;
      held.moved.erase(moved);
    }
    // The row this request read may be one it created (rolled back now); no other request has moved it since.
    if (held.read_by_request == request_) {
      PG_ASSERT(held.moved_fen == 0, "a balance read by a rolled-back request holds another request's moves");
      it = balances_.erase(it);
    } else {
      ++it;
    }
  }
}

void SqliteTx::write_counters() {
  for (const auto& [key, counter] : counters_) {
    if (counter.cards_added == 0) continue;
    const int64_t cards = counter.cards_stored + counter.cards_added;
    auto up = c_.prepare(
        "INSERT INTO consign_batches (merchant_id, batchno, cards) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(merchant_id, batchno) DO UPDATE SET cards = excluded.cards");
    up.bind(1, key.first).bind(2, key.second).bind(3, cards);
    up.exec();
  }
  counters_.clear();
  for (const auto& [account, held] : balances_) {
    if (held.moved_fen != 0) move_balance(account, held.moved_fen);  // post() checked it against the balance held
  }
  balances_.clear();
}

void SqliteTx::require_balances_written(std::string_view what) {
  for (const auto& [account, held] : balances_) {
    if (held.moved_fen != 0) {
      throw StorageFailure(std::string(what) + " within a batch that holds balance moves in memory");
    }
  }
  balances_.clear();
}

// ---- gateway channels ----

namespace {
MerchantChannel read_channel(Stmt& st) {
  MerchantChannel ch;
  ch.merchant_id = MerchantId{st.int64(0)};
  ch.channel_id = static_cast<int>(st.int64(1));
  ch.enabled = st.int64(2) != 0;
  ch.fee_rate = RatePermille{static_cast<int32_t>(st.int64(3))};
  ch.min_amount = Money::from_fen(st.int64(4));
  ch.max_amount = Money::from_fen(st.int64(5));
  ch.processor = st.text(6);
  ch.updated_at_ms = st.int64(7);
  return ch;
}
}  // namespace

void SqliteTx::set_merchant_channel(const MerchantChannel& ch) {
  static const std::string sql =
      std::string("INSERT INTO merchant_channels (") + kChannelColumns +
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
      "ON CONFLICT(merchant_id, channel_id) DO UPDATE SET enabled=excluded.enabled, "
      "fee_rate_permille=excluded.fee_rate_permille, min_amount_fen=excluded.min_amount_fen, "
      "max_amount_fen=excluded.max_amount_fen, processor=excluded.processor, "
      "updated_at_ms=excluded.updated_at_ms";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, ch.merchant_id.value())
      .bind(2, ch.channel_id)
      .bind(3, ch.enabled)
      .bind(4, ch.fee_rate.value)
      .bind(5, ch.min_amount.fen())
      .bind(6, ch.max_amount.fen())
      .bind(7, ch.processor)
      .bind(8, ch.updated_at_ms);
  st.exec();
  if (st.last_error() == SQLITE_CONSTRAINT) {
    throw StorageFailure("unknown merchant or invalid channel: " + std::string(sqlite3_errmsg(c_.raw())));
  }
}

std::optional<MerchantChannel> SqliteTx::merchant_channel(MerchantId merchant, int channel_id) {
  static const std::string sql =
      std::string("SELECT ") + kChannelColumns + " FROM merchant_channels WHERE merchant_id=?1 AND channel_id=?2";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, merchant.value()).bind(2, channel_id);
  if (!st.step()) return std::nullopt;
  return read_channel(st);
}

std::vector<MerchantChannel> SqliteTx::merchant_channels(MerchantId merchant) {
  static const std::string sql =
      std::string("SELECT ") + kChannelColumns + " FROM merchant_channels WHERE merchant_id=?1 ORDER BY channel_id";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, merchant.value());
  std::vector<MerchantChannel> out;
  while (st.step()) out.push_back(read_channel(st));
  return out;
}

// ---- gateway pay-ins ----

namespace {
orders::PayIn read_payin(Stmt& st) {
  orders::PayIn p;
  p.merchant_id = MerchantId{st.int64(0)};
  p.id = PaymentId{st.text(1)};
  p.mrn = st.text(2);
  p.channel_id = static_cast<int>(st.int64(3));
  p.amount = Money::from_fen(st.int64(4));
  p.amount_text = st.text(5);
  p.callback_url = st.text(6);
  p.return_url = st.text(7);
  p.payer = st.text(8);
  p.request_fingerprint = st.text(9);
  p.processor = st.text(10);
  p.fee_rate = RatePermille{static_cast<int32_t>(st.int64(11))};
  auto state = orders::parse_payin_state(st.text(12));
  if (!state) throw StorageFailure("pay-in " + p.id.value() + " has an unknown state");
  p.state = *state;
  p.paid = Money::from_fen(st.int64(13));
  p.fee = Money::from_fen(st.int64(14));
  p.message = st.text(15);
  p.expires_at_ms = st.int64(16);
  p.finished_at_ms = st.int64(17);
  p.created_at_ms = st.int64(18);
  p.updated_at_ms = st.int64(19);
  return p;
}
}  // namespace

Status SqliteTx::insert_payin(const orders::PayIn& p) {
  static const std::string sql = std::string("INSERT INTO gateway_payins (") + kPayInColumns +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                                 "?17, ?18, ?19, ?20)";
  auto st = c_.prepare(sql.c_str());
  // The pay-in outlives `st`: its strings are bound in place (bind_ref).
  st.bind(1, p.merchant_id.value())
      .bind_ref(2, p.id.value())
      .bind_ref(3, p.mrn)
      .bind(4, p.channel_id)
      .bind(5, p.amount.fen())
      .bind_ref(6, p.amount_text)
      .bind_ref(7, p.callback_url)
      .bind_ref(8, p.return_url)
      .bind_ref(9, p.payer)
      .bind_ref(10, p.request_fingerprint)
      .bind_ref(11, p.processor)
      .bind(12, p.fee_rate.value)
      .bind(13, orders::payin_state_name(p.state))
      .bind(14, p.paid.fen())
      .bind(15, p.fee.fen())
      .bind_ref(16, p.message)
      .bind(17, p.expires_at_ms)
      .bind(18, p.finished_at_ms)
      .bind(19, p.created_at_ms)
      .bind(20, p.updated_at_ms);
  st.exec();
  if (st.last_error() != SQLITE_CONSTRAINT) return ok_status();
  // SQLite names one violated rule; the merchant's reference is reported first whichever it named, as on
  // PostgreSQL (the gateway service looks the first pay-in up on "duplicate mrn").
  std::string err = sqlite3_errmsg(c_.raw());
  auto mrn = c_.prepare("SELECT 1 FROM gateway_payins WHERE merchant_id=?1 AND mrn=?2");
  mrn.bind(1, p.merchant_id.value()).bind(2, p.mrn);
  if (mrn.step()) return make_error(ErrorCode::kAlreadyExists, "duplicate mrn");
  if (err.find("payment_id") != std::string::npos) return make_error(ErrorCode::kAlreadyExists, "payment id collision");
  throw StorageFailure("pay-in insert violates a constraint: " + err);
}

void SqliteTx::update_payin(const orders::PayIn& p) {
  auto st = c_.prepare(
      "UPDATE gateway_payins SET state=?3, paid_fen=?4, fee_fen=?5, message=?6, expires_at_ms=?7, finished_at_ms=?8, "
      "updated_at_ms=?9 WHERE merchant_id=?1 AND payment_id=?2");
  st.bind(1, p.merchant_id.value())
      .bind(2, p.id.value())
      .bind(3, orders::payin_state_name(p.state))
      .bind(4, p.paid.fen())
      .bind(5, p.fee.fen())
      .bind(6, p.message)
      .bind(7, p.expires_at_ms)
      .bind(8, p.finished_at_ms)
      .bind(9, p.updated_at_ms);
  st.exec();
  if (st.last_error() == SQLITE_CONSTRAINT) throw StorageFailure("pay-in update violates a constraint");
  if (c_.changes() != 1) throw StorageFailure("pay-in " + p.id.value() + " not found for update");
}

std::optional<orders::PayIn> SqliteTx::payin(MerchantId merchant, const std::string& mrn) {
  static const std::string sql =
      std::string("SELECT ") + kPayInColumns + " FROM gateway_payins WHERE merchant_id=?1 AND mrn=?2";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, merchant.value()).bind(2, mrn);
  if (!st.step()) return std::nullopt;
  return read_payin(st);
}

std::optional<orders::PayIn> SqliteTx::payin_by_id(const PaymentId& id) {
  static const std::string sql = std::string("SELECT ") + kPayInColumns + " FROM gateway_payins WHERE payment_id=?1";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, id.value());
  if (!st.step()) return std::nullopt;
  return read_payin(st);
}

std::vector<orders::PayIn> SqliteTx::payins_expired(int64_t now_ms, size_t limit) {
  // One writer: nothing else can hold these rows, so no locking is needed.
  static const std::string sql = std::string("SELECT ") + kPayInColumns +
                                 " FROM gateway_payins WHERE state='waiting' AND expires_at_ms <= ?1 "
                                 "ORDER BY expires_at_ms, payment_id LIMIT ?2";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, now_ms).bind(2, static_cast<int64_t>(limit));
  std::vector<orders::PayIn> out;
  while (st.step()) out.push_back(read_payin(st));
  return out;
}

std::optional<int64_t> SqliteTx::next_payin_expiry_ms() {
  auto st = c_.prepare("SELECT MIN(expires_at_ms) FROM gateway_payins WHERE state='waiting'");
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return st.int64(0);
}

std::vector<orders::PayIn> SqliteTx::payins(const PayInFilter& f) {
  static const std::string sql =
      std::string("SELECT ") + kPayInColumns +
      " FROM gateway_payins WHERE (?1 IS NULL OR merchant_id=?1) AND (?2 IS NULL OR state=?2) "
      "AND (?3 IS NULL OR created_at_ms < ?3 OR (created_at_ms = ?3 AND payment_id < ?4)) "
      "ORDER BY created_at_ms DESC, payment_id DESC LIMIT ?5";
  auto st = c_.prepare(sql.c_str());
  if (f.merchant_id)
    st.bind(1, f.merchant_id->value());
  else
    st.bind_null(1);
  if (f.state)
    st.bind(2, orders::payin_state_name(*f.state));
  else
    st.bind_null(2);
  if (f.before) {
    st.bind(3, f.before->first).bind(4, f.before->second);
  } else {
    st.bind_null(3).bind_null(4);
  }
  st.bind(5, static_cast<int64_t>(std::min(f.limit, limits::kListPageSizeMax)));
  std::vector<orders::PayIn> out;
  while (st.step()) out.push_back(read_payin(st));
  return out;
}

// ---- gateway payouts ----

orders::Payout SqliteTx::read_payout(Stmt& st) {
  orders::Payout p;
  p.merchant_id = MerchantId{st.int64(0)};
  p.id = PayoutId{st.text(1)};
  p.mrn = st.text(2);
  p.amount = Money::from_fen(st.int64(3));
  p.amount_text = st.text(4);
  p.fee = Money::from_fen(st.int64(5));
  p.bank_name = st.text(6);
  p.account_name = st.text(7);
  p.account_number = open_sealed(st.blob(8), payout_aad(p.id, "account_number"));
  p.callback_url = st.text(9);
  p.request_fingerprint = st.text(10);
  auto state = orders::parse_payout_state(st.text(11));
  if (!state) throw StorageFailure("payout " + p.id.value() + " has an unknown state");
  p.state = *state;
  p.message = st.text(12);
  p.process_after_ms = st.int64(13);
  p.finished_at_ms = st.int64(14);
  p.created_at_ms = st.int64(15);
  p.updated_at_ms = st.int64(16);
  return p;
}

Status SqliteTx::insert_payout(const orders::Payout& p, const SealedAccount& sealed) {
  const SealedAccount account = sealed_for(box_, p, sealed);
  static const std::string sql = std::string("INSERT INTO gateway_payouts (") + kPayoutColumns +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                                 "?17)";
  auto st = c_.prepare(sql.c_str());
  // The payout and the sealed account outlive `st`: their strings are bound in place (bind_ref).
  st.bind(1, p.merchant_id.value())
      .bind_ref(2, p.id.value())
      .bind_ref(3, p.mrn)
      .bind(4, p.amount.fen())
      .bind_ref(5, p.amount_text)
      .bind(6, p.fee.fen())
      .bind_ref(7, p.bank_name)
      .bind_ref(8, p.account_name)
      .bind_blob_ref(9, account.account_number)
      .bind_ref(10, p.callback_url)
      .bind_ref(11, p.request_fingerprint)
      .bind(12, orders::payout_state_name(p.state))
      .bind_ref(13, p.message)
      .bind(14, p.process_after_ms)
      .bind(15, p.finished_at_ms)
      .bind(16, p.created_at_ms)
      .bind(17, p.updated_at_ms);
  st.exec();
  if (st.last_error() != SQLITE_CONSTRAINT) return ok_status();
  std::string err = sqlite3_errmsg(c_.raw());
  auto mrn = c_.prepare("SELECT 1 FROM gateway_payouts WHERE merchant_id=?1 AND mrn=?2");
  mrn.bind(1, p.merchant_id.value()).bind(2, p.mrn);
  if (mrn.step()) return make_error(ErrorCode::kAlreadyExists, "duplicate mrn");
  if (err.find("payout_id") != std::string::npos) return make_error(ErrorCode::kAlreadyExists, "payout id collision");
  throw StorageFailure("payout insert violates a constraint: " + err);
}

void SqliteTx::update_payout(const orders::Payout& p) {
  auto st = c_.prepare(
      "UPDATE gateway_payouts SET state=?3, message=?4, process_after_ms=?5, finished_at_ms=?6, updated_at_ms=?7 "
      "WHERE merchant_id=?1 AND payout_id=?2");
  st.bind(1, p.merchant_id.value())
      .bind(2, p.id.value())
      .bind(3, orders::payout_state_name(p.state))
      .bind(4, p.message)
      .bind(5, p.process_after_ms)
      .bind(6, p.finished_at_ms)
      .bind(7, p.updated_at_ms);
  st.exec();
  if (st.last_error() == SQLITE_CONSTRAINT) throw StorageFailure("payout update violates a constraint");
  if (c_.changes() != 1) throw StorageFailure("payout " + p.id.value() + " not found for update");
}

std::optional<orders::Payout> SqliteTx::payout(MerchantId merchant, const std::string& mrn) {
  static const std::string sql =
      std::string("SELECT ") + kPayoutColumns + " FROM gateway_payouts WHERE merchant_id=?1 AND mrn=?2";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, merchant.value()).bind(2, mrn);
  if (!st.step()) return std::nullopt;
  return read_payout(st);
}

std::optional<orders::Payout> SqliteTx::payout_by_id(const PayoutId& id) {
  static const std::string sql = std::string("SELECT ") + kPayoutColumns + " FROM gateway_payouts WHERE payout_id=?1";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, id.value());
  if (!st.step()) return std::nullopt;
  return read_payout(st);
}

std::vector<orders::Payout> SqliteTx::payouts_due(int64_t now_ms, size_t limit) {
  static const std::string sql = std::string("SELECT ") + kPayoutColumns +
                                 " FROM gateway_payouts WHERE state='processing' AND process_after_ms <= ?1 "
                                 "ORDER BY process_after_ms, payout_id LIMIT ?2";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, now_ms).bind(2, static_cast<int64_t>(limit));
  std::vector<orders::Payout> out;
  while (st.step()) out.push_back(read_payout(st));
  return out;
}

std::optional<int64_t> SqliteTx::next_payout_due_ms() {
  auto st = c_.prepare("SELECT MIN(process_after_ms) FROM gateway_payouts WHERE state='processing'");
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return st.int64(0);
}

std::vector<orders::Payout> SqliteTx::payouts(const PayoutFilter& f) {
  static const std::string sql =
      std::string("SELECT ") + kPayoutColumns +
      " FROM gateway_payouts WHERE (?1 IS NULL OR merchant_id=?1) AND (?2 IS NULL OR state=?2) "
      "AND (?3 IS NULL OR created_at_ms < ?3 OR (created_at_ms = ?3 AND payout_id < ?4)) "
      "ORDER BY created_at_ms DESC, payout_id DESC LIMIT ?5";
  auto st = c_.prepare(sql.c_str());
  if (f.merchant_id)
    st.bind(1, f.merchant_id->value());
  else
    st.bind_null(1);
  if (f.state)
    st.bind(2, orders::payout_state_name(*f.state));
  else
    st.bind_null(2);
  if (f.before) {
    st.bind(3, f.before->first).bind(4, f.before->second);
  } else {
    st.bind_null(3).bind_null(4);
  }
  st.bind(5, static_cast<int64_t>(std::min(f.limit, limits::kListPageSizeMax)));
  std::vector<orders::Payout> out;
  while (st.step()) out.push_back(read_payout(st));
  return out;
}

// ---- cashier orders ----

orders::CashierOrder SqliteTx::read_cashier_order(Stmt& st) {
  orders::CashierOrder o;
  o.merchant_id = MerchantId{st.int64(0)};
  o.id = CashierId{st.text(1)};
  o.orderid = st.text(2);
  o.action = st.text(3);
  o.method = st.text(4);
  o.amount = Money::from_fen(st.int64(5));
  o.backurl = st.text(6);
  o.fronturl = st.text(7);
  if (!st.is_null(8)) o.accname = open_sealed(st.blob(8), cashier_aad(o.id, "accname"));
  if (!st.is_null(9)) o.accno = open_sealed(st.blob(9), cashier_aad(o.id, "accno"));
  o.request_fingerprint = st.text(10);
  auto state = orders::parse_cashier_state(st.text(11));
  auto held_from = orders::parse_cashier_state(st.text(12));
  if (!state || !held_from) throw StorageFailure("cashier order " + o.id.value() + " has an unknown state");
  o.state = *state;
  o.held_from = *held_from;
  o.fee = Money::from_fen(st.int64(13));
  o.fee_rate = RatePermille{static_cast<int32_t>(st.int64(14))};
  o.message = st.text(15);
  o.paid_at_ms = st.int64(16);
  o.settle_after_ms = st.int64(17);
  o.expires_at_ms = st.int64(18);
  o.created_at_ms = st.int64(19);
  o.updated_at_ms = st.int64(20);
  return o;
}

std::vector<orders::CashierOrder> SqliteTx::read_cashier_orders(Stmt& st) {
  std::vector<orders::CashierOrder> out;
  while (st.step()) out.push_back(read_cashier_order(st));
  return out;
}

Status SqliteTx::insert_cashier_order(const orders::CashierOrder& o) {
  static const std::string sql = std::string("INSERT INTO cashier_orders (") + kCashierColumns +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                                 "?17, ?18, ?19, ?20, ?21)";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, o.merchant_id.value())
      .bind(2, o.id.value())
      .bind(3, o.orderid)
      .bind(4, o.action)
      .bind(5, o.method)
      .bind(6, o.amount.fen())
      .bind(7, o.backurl)
      .bind(8, o.fronturl);
  // Bound-card fields are sealed to this order's id; an order without them stores NULL, not a sealed empty string.
  if (o.accname.empty()) {
    st.bind_null(9);
  } else {
    st.bind_blob(9, box_.seal(o.accname, cashier_aad(o.id, "accname")));
  }
  if (o.accno.empty()) {
    st.bind_null(10);
  } else {
    st.bind_blob(10, box_.seal(o.accno, cashier_aad(o.id, "accno")));
  }
  st.bind(11, o.request_fingerprint)
      .bind(12, orders::cashier_state_name(o.state))
      .bind(13, orders::cashier_state_name(o.held_from))
      .bind(14, o.fee.fen())
      .bind(15, o.fee_rate.value)
      .bind(16, o.message)
      .bind(17, o.paid_at_ms)
      .bind(18, o.settle_after_ms)
      .bind(19, o.expires_at_ms)
      .bind(20, o.created_at_ms)
      .bind(21, o.updated_at_ms);
  st.exec();
  if (st.last_error() != SQLITE_CONSTRAINT) return ok_status();
  // SQLite names one violated rule; the merchant's order id is reported first whichever it named, as on PostgreSQL
  // (the cashier service looks the first order up on "duplicate orderid").
  std::string err = sqlite3_errmsg(c_.raw());
  auto dup = c_.prepare("SELECT 1 FROM cashier_orders WHERE merchant_id=?1 AND orderid=?2");
  dup.bind(1, o.merchant_id.value()).bind(2, o.orderid);
  if (dup.step()) return make_error(ErrorCode::kAlreadyExists, "duplicate orderid");
  if (err.find("cashier_id") != std::string::npos) return make_error(ErrorCode::kAlreadyExists, "cashier id collision");
  throw StorageFailure("cashier order insert violates a constraint: " + err);
}

void SqliteTx::update_cashier_order(const orders::CashierOrder& o) {
  auto st = c_.prepare(
      "UPDATE cashier_orders SET method=?3, state=?4, held_from=?5, fee_fen=?6, fee_rate_permille=?7, message=?8, "
      "paid_at_ms=?9, settle_after_ms=?10, expires_at_ms=?11, updated_at_ms=?12 "
      "WHERE merchant_id=?1 AND cashier_id=?2");
  st.bind(1, o.merchant_id.value())
      .bind(2, o.id.value())
      .bind(3, o.method)
      .bind(4, orders::cashier_state_name(o.state))
      .bind(5, orders::cashier_state_name(o.held_from))
      .bind(6, o.fee.fen())
      .bind(7, o.fee_rate.value)
      .bind(8, o.message)
      .bind(9, o.paid_at_ms)
      .bind(10, o.settle_after_ms)
      .bind(11, o.expires_at_ms)
      .bind(12, o.updated_at_ms);
  st.exec();
  if (st.last_error() == SQLITE_CONSTRAINT) throw StorageFailure("cashier order update violates a constraint");
  if (c_.changes() != 1) throw StorageFailure("cashier order " + o.id.value() + " not found for update");
}

std::optional<orders::CashierOrder> SqliteTx::cashier_order(MerchantId merchant, const std::string& orderid) {
  static const std::string sql =
      std::string("SELECT ") + kCashierColumns + " FROM cashier_orders WHERE merchant_id=?1 AND orderid=?2";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, merchant.value()).bind(2, orderid);
  if (!st.step()) return std::nullopt;
  return read_cashier_order(st);
}

std::optional<orders::CashierOrder> SqliteTx::cashier_order_by_id(const CashierId& id) {
  static const std::string sql = std::string("SELECT ") + kCashierColumns + " FROM cashier_orders WHERE cashier_id=?1";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, id.value());
  if (!st.step()) return std::nullopt;
  return read_cashier_order(st);
}

std::vector<orders::CashierOrder> SqliteTx::cashier_orders_expired(int64_t now_ms, size_t limit) {
  // One writer: nothing else can hold these rows, so no locking is needed.
  static const std::string sql = std::string("SELECT ") + kCashierColumns +
                                 " FROM cashier_orders WHERE state='unpaid' AND expires_at_ms <= ?1 "
                                 "ORDER BY expires_at_ms, cashier_id LIMIT ?2";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, now_ms).bind(2, static_cast<int64_t>(limit));
  return read_cashier_orders(st);
}

std::optional<int64_t> SqliteTx::next_cashier_expiry_ms() {
  auto st = c_.prepare("SELECT MIN(expires_at_ms) FROM cashier_orders WHERE state='unpaid'");
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return st.int64(0);
}

std::vector<orders::CashierOrder> SqliteTx::cashier_orders_to_settle(int64_t now_ms, size_t limit) {
  static const std::string sql = std::string("SELECT ") + kCashierColumns +
                                 " FROM cashier_orders WHERE state='pending' AND settle_after_ms <= ?1 "
                                 "ORDER BY settle_after_ms, cashier_id LIMIT ?2";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, now_ms).bind(2, static_cast<int64_t>(limit));
  return read_cashier_orders(st);
}

std::optional<int64_t> SqliteTx::next_cashier_settlement_ms() {
  auto st = c_.prepare("SELECT MIN(settle_after_ms) FROM cashier_orders WHERE state='pending'");
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return st.int64(0);
}

std::vector<orders::CashierOrder> SqliteTx::cashier_orders(const CashierFilter& f) {
  static const std::string sql =
      std::string("SELECT ") + kCashierColumns +
      " FROM cashier_orders WHERE (?1 IS NULL OR merchant_id=?1) AND (?2 IS NULL OR state=?2) "
      "AND (?3 IS NULL OR created_at_ms < ?3 OR (created_at_ms = ?3 AND cashier_id < ?4)) "
      "ORDER BY created_at_ms DESC, cashier_id DESC LIMIT ?5";
  auto st = c_.prepare(sql.c_str());
  if (f.merchant_id)
    st.bind(1, f.merchant_id->value());
  else
    st.bind_null(1);
  if (f.state)
    st.bind(2, orders::cashier_state_name(*f.state));
  else
    st.bind_null(2);
  if (f.before) {
    st.bind(3, f.before->first).bind(4, f.before->second);
  } else {
    st.bind_null(3).bind_null(4);
  }
  st.bind(5, static_cast<int64_t>(std::min(f.limit, limits::kListPageSizeMax)));
  return read_cashier_orders(st);
}

// ---- ledger ----

Status SqliteTx::post(const ledger::Entry& entry, int64_t now_ms) {
  auto valid = ledger::validate(entry);
  PG_ASSERT(valid.ok(), "posting an invalid ledger entry");
  const bool hold = holds_balances();
  // Check every balance first so that a refusal changes nothing; an entry posts at most once to an account
  // (validate), so each new balance is the current one plus its posting.
  std::array<std::optional<int64_t>, ledger::kEntryPostingsMax> current_fen;  // nullopt: no such account yet
  for (size_t i = 0; i < entry.postings.size(); ++i) {
    const auto& p = entry.postings[i];
    current_fen[i] = current_balance_fen(p.account.code);
    auto next = Money::from_fen(current_fen[i].value_or(0)).checked_add(p.amount);
    if (!next) return make_error(ErrorCode::kFailedPrecondition, "balance overflow on " + p.account.code);
    if (next->is_negative() && !p.account.may_go_negative) {
      return make_error(ErrorCode::kFailedPrecondition, "insufficient balance on " + p.account.code);
    }
  }
  auto ins = c_.prepare("INSERT INTO ledger_entries (kind, reference, created_at_ms) VALUES (?1, ?2, ?3)");
  // The entry outlives every statement here: its strings are bound in place (bind_ref).
  ins.bind_ref(1, entry.kind).bind_ref(2, entry.reference).bind(3, now_ms);
  ins.exec();
  int64_t entry_id = c_.last_insert_rowid();
  for (size_t i = 0; i < entry.postings.size(); ++i) {
    const auto& p = entry.postings[i];
    // One statement per account at most: a new one is created with the posting as its balance, an existing one
    // moved by it, in memory within the writer's batch (the look-up above said which; nobody else writes inside
    // this write transaction).
    if (current_fen[i] && hold) {
      auto held = balances_.find(p.account.code);
      PG_ASSERT(held != balances_.end(), "a held balance vanished within the request");
      held->second.moved_fen += p.amount.fen();
      held->second.moved[request_] += p.amount.fen();
    } else if (current_fen[i]) {
      move_balance(p.account.code, p.amount.fen());
    } else {
      auto create = c_.prepare(
          "INSERT INTO ledger_accounts (account, merchant_id, may_go_negative, balance_fen) VALUES (?1, ?2, ?3, ?4)");
      create.bind_ref(1, p.account.code);
      if (p.account.merchant_id) create.bind(2, p.account.merchant_id); else create.bind_null(2);
      create.bind(3, p.account.may_go_negative).bind(4, p.amount.fen());
      create.exec();
      PG_ASSERT(create.last_error() != SQLITE_CONSTRAINT, "ledger account insert refused after pre-check");
    }
    auto post = c_.prepare("INSERT INTO ledger_postings (entry_id, account, amount_fen) VALUES (?1, ?2, ?3)");
    post.bind(1, entry_id).bind_ref(2, p.account.code).bind(3, p.amount.fen());
    post.exec();
  }
  return ok_status();
}

Money SqliteTx::balance(const std::string& account) {
  return Money::from_fen(current_balance_fen(account).value_or(0));
}

void SqliteTx::move_balance(const std::string& account, int64_t fen) {
  auto move = c_.prepare("UPDATE ledger_accounts SET balance_fen = balance_fen + ?2 WHERE account = ?1");
  move.bind_ref(1, account).bind(2, fen);
  move.exec();
  // The CHECK constraint is the last line of defence; post()'s pre-check makes it unreachable.
  PG_ASSERT(move.last_error() != SQLITE_CONSTRAINT, "ledger balance constraint violated after pre-check");
  PG_ASSERT(c_.changes() == 1, "a ledger account vanished within the transaction");
}

std::optional<int64_t> SqliteTx::stored_balance_fen(const std::string& account) {
  auto st = c_.prepare("SELECT balance_fen FROM ledger_accounts WHERE account=?1");
  st.bind_ref(1, account);
  if (!st.step()) return std::nullopt;
  return st.int64(0);
}

std::optional<int64_t> SqliteTx::current_balance_fen(const std::string& account) {
  if (!holds_balances()) return stored_balance_fen(account);
  auto it = balances_.find(account);
  if (it == balances_.end()) {
    // Only this transaction writes (one writer), so the row read now stays valid until COMMIT. An account that does
    // not exist yet is not held: post() creates its row at once, and the next look-up reads it.
    auto stored = stored_balance_fen(account);
    if (!stored) return std::nullopt;
    it = balances_.emplace(account, HeldBalance{*stored, 0, {}, request_}).first;
  }
  return it->second.stored_fen + it->second.moved_fen;
}

std::vector<PostingRow> SqliteTx::postings_for_reference(const std::string& reference) {
  auto st = c_.prepare(
      "SELECT e.entry_id, e.kind, e.reference, p.account, p.amount_fen, e.created_at_ms FROM ledger_entries e "
      "JOIN ledger_postings p ON p.entry_id = e.entry_id WHERE e.reference=?1 ORDER BY e.entry_id, p.account");
  st.bind(1, reference);
  std::vector<PostingRow> out;
  while (st.step()) {
    out.push_back(PostingRow{st.int64(0), st.text(1), st.text(2), st.text(3), Money::from_fen(st.int64(4)), st.int64(5)});
  }
  return out;
}

LedgerCheck SqliteTx::check_ledger() {
  require_balances_written("check_ledger");
  LedgerCheck r;
  {
    auto st = c_.prepare("SELECT COUNT(*) FROM ledger_entries");
    st.step();
    r.entries = st.int64(0);
  }
  {
    auto st = c_.prepare("SELECT COUNT(*) FROM ledger_postings");
    st.step();
    r.postings = st.int64(0);
  }
  {
    auto st = c_.prepare("SELECT COUNT(*) FROM ledger_accounts");
    st.step();
    r.accounts = st.int64(0);
  }
  {
    auto st = c_.prepare(
        "SELECT entry_id, SUM(amount_fen), COUNT(*) FROM ledger_postings GROUP BY entry_id "
        "HAVING SUM(amount_fen) != 0 OR COUNT(*) < 2 LIMIT 20");
    while (st.step()) {
      r.problems.push_back("entry " + std::to_string(st.int64(0)) + " sums to " + std::to_string(st.int64(1)) +
                           " over " + std::to_string(st.int64(2)) + " postings");
    }
  }
  {
    auto st = c_.prepare(
        "SELECT a.account, a.balance_fen, COALESCE((SELECT SUM(p.amount_fen) FROM ledger_postings p "
        "WHERE p.account = a.account), 0) AS s FROM ledger_accounts a WHERE a.balance_fen != s LIMIT 20");
    while (st.step()) {
      r.problems.push_back("account " + st.text(0) + " balance " + std::to_string(st.int64(1)) +
                           " differs from its postings " + std::to_string(st.int64(2)));
    }
  }
  {
    auto st = c_.prepare("SELECT account, balance_fen FROM ledger_accounts WHERE may_go_negative=0 AND balance_fen<0");
    while (st.step()) {
      r.problems.push_back("account " + st.text(0) + " is negative: " + std::to_string(st.int64(1)));
    }
  }
  {
    auto st = c_.prepare("SELECT COALESCE(SUM(balance_fen), 0) FROM ledger_accounts");
    st.step();
    if (st.int64(0) != 0) r.problems.push_back("account balances sum to " + std::to_string(st.int64(0)));
  }
  {
    // Every successful consign order is settled exactly once, for its amount.
    auto st = c_.prepare(
        "SELECT o.sys_order_id FROM consign_orders o WHERE o.state='success' AND o.amount_fen > 0 AND "
        "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference=o.sys_order_id AND e.kind='consign.settle') != 1 "
        "LIMIT 20");
    while (st.step()) r.problems.push_back("successful order " + st.text(0) + " is not settled exactly once");
  }
  {
    // A paid pay-in is credited exactly once; a waiting or failed one never.
    auto st = c_.prepare(
        "SELECT payment_id, state, n FROM (SELECT p.payment_id, p.state, (SELECT COUNT(*) FROM ledger_entries e "
        "WHERE e.reference = p.payment_id AND e.kind = 'gateway.payin') AS n FROM gateway_payins p) "
        "WHERE n != CASE WHEN state = 'paid' THEN 1 ELSE 0 END ORDER BY payment_id LIMIT 20");
    while (st.step()) {
      r.problems.push_back(st.text(1) + " pay-in " + st.text(0) + " has " + std::to_string(st.int64(2)) +
                           " gateway.payin entries");
    }
  }
  {
    // Every payout reserved its money once; a paid one paid it out once, a failed or rejected one refunded it
    // once, an open one neither.
    auto st = c_.prepare(
        "SELECT payout_id, state, r, p, f FROM (SELECT o.payout_id, o.state, "
        "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = o.payout_id AND e.kind = 'gateway.payout.reserve') "
        "AS r, "
        "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = o.payout_id AND e.kind = 'gateway.payout.paid') "
        "AS p, "
        "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = o.payout_id AND e.kind = 'gateway.payout.refund') "
        "AS f FROM gateway_payouts o) "
        "WHERE r != 1 OR p != CASE WHEN state = 'paid' THEN 1 ELSE 0 END "
        "OR f != CASE WHEN state = 'failed' OR state = 'rejected' THEN 1 ELSE 0 END ORDER BY payout_id LIMIT 20");
    while (st.step()) {
      r.problems.push_back(st.text(1) + " payout " + st.text(0) + " has " + std::to_string(st.int64(2)) + " reserve, " +
                           std::to_string(st.int64(3)) + " paid and " + std::to_string(st.int64(4)) +
                           " refund entries");
    }
  }
  {
    // What a merchant's payouts hold in reserve is exactly what its open payouts (approval, processing) need.
    auto st = c_.prepare(
        "SELECT m.merchant_id, COALESCE(a.balance_fen, 0) AS reserved, COALESCE(o.total, 0) AS open FROM merchants m "
        "LEFT JOIN ledger_accounts a ON a.account = 'merchant:' || m.merchant_id || ':payout_reserved' "
        "LEFT JOIN (SELECT merchant_id, SUM(amount_fen + fee_fen) AS total FROM gateway_payouts "
        "WHERE state = 'approval' OR state = 'processing' GROUP BY merchant_id) o ON o.merchant_id = m.merchant_id "
        "WHERE COALESCE(a.balance_fen, 0) != COALESCE(o.total, 0) ORDER BY m.merchant_id LIMIT 20");
    while (st.step()) {
      r.problems.push_back("merchant " + std::to_string(st.int64(0)) + " has " + std::to_string(st.int64(1)) +
                           " reserved for payouts, its open payouts need " + std::to_string(st.int64(2)));
    }
  }
  {
    // A cashier order is paid once when it was paid at all: paid, pending and held ones, and failed ones that were
    // returned to the payer (held, then returned); never an unpaid one or one that failed unpaid.
    auto st = c_.prepare(
        "SELECT cashier_id, state, p, r FROM (SELECT o.cashier_id, o.state, "
        "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = o.cashier_id AND e.kind = ?1) AS p, "
        "(SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = o.cashier_id AND e.kind = ?2) AS r "
        "FROM cashier_orders o) "
        "WHERE p != CASE WHEN state = 'paid' OR state = 'pending' OR state = 'held' OR (state = 'failed' AND r > 0) "
        "THEN 1 ELSE 0 END ORDER BY cashier_id LIMIT 20");
    st.bind(1, ledger::kCashierPay).bind(2, ledger::kCashierReturn);
    while (st.step()) {
      r.problems.push_back(st.text(1) + " cashier order " + st.text(0) + " has " + std::to_string(st.int64(2)) + " " +
                           std::string(ledger::kCashierPay) + " and " + std::to_string(st.int64(3)) + " " +
                           std::string(ledger::kCashierReturn) + " entries");
    }
  }
  {
    // A pending order's money is still pending: it has not been settled.
    auto st = c_.prepare(
        "SELECT cashier_id, s FROM (SELECT o.cashier_id, (SELECT COUNT(*) FROM ledger_entries e "
        "WHERE e.reference = o.cashier_id AND e.kind = ?1) AS s FROM cashier_orders o WHERE o.state = 'pending') "
        "WHERE s > 0 ORDER BY cashier_id LIMIT 20");
    st.bind(1, ledger::kCashierSettle);
    while (st.step()) {
      r.problems.push_back("pending cashier order " + st.text(0) + " has " + std::to_string(st.int64(1)) + " " +
                           std::string(ledger::kCashierSettle) + " entries");
    }
  }
  // What a merchant's pending (frozen) account holds is exactly the net (amount - fee) of its pending (held) orders.
  for (const auto& [account, state] : {std::pair{"pending", "pending"}, std::pair{"frozen", "held"}}) {
    auto st = c_.prepare(
        "SELECT m.merchant_id, COALESCE(a.balance_fen, 0) AS held, COALESCE(o.total, 0) AS owed FROM merchants m "
        "LEFT JOIN ledger_accounts a ON a.account = 'merchant:' || m.merchant_id || ':' || ?1 "
        "LEFT JOIN (SELECT merchant_id, SUM(amount_fen - fee_fen) AS total FROM cashier_orders WHERE state = ?2 "
        "GROUP BY merchant_id) o ON o.merchant_id = m.merchant_id "
        "WHERE COALESCE(a.balance_fen, 0) != COALESCE(o.total, 0) ORDER BY m.merchant_id LIMIT 20");
    st.bind(1, account).bind(2, state);
    while (st.step()) {
      r.problems.push_back("merchant " + std::to_string(st.int64(0)) + " has " + std::to_string(st.int64(1)) + " " +
                           account + ", its " + state + " cashier orders need " + std::to_string(st.int64(2)));
    }
  }
  r.ok = r.problems.empty();
  return r;
}

// ---- notifications ----

Notification SqliteTx::read_notification(Stmt& st) {
  Notification n;
  n.id = NotificationId{st.int64(0)};
  n.merchant_id = MerchantId{st.int64(1)};
  n.protocol = st.text(2);
  n.order_ref = st.text(3);
  n.url = st.text(4);
  n.content_type = st.text(5);
  n.body = st.text(6);
  n.schedule = st.text(7);
  n.attempts_made = static_cast<int>(st.int64(8));
  n.attempts_max = static_cast<int>(st.int64(9));
  n.state = parse_notification_state(st.text(10));
  n.next_attempt_at_ms = st.int64(11);
  n.claimed_until_ms = st.int64(12);
  n.created_at_ms = st.int64(13);
  n.updated_at_ms = st.int64(14);
  return n;
}

NotificationId SqliteTx::enqueue_notification(const Notification& n) {
  auto st = c_.prepare(
      "INSERT INTO notifications (merchant_id, protocol, order_ref, url, content_type, body, schedule, "
      "attempts_made, attempts_max, state, next_attempt_at_ms, claimed_until_ms, created_at_ms, updated_at_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, 'pending', ?9, 0, ?10, ?10)");
  st.bind(1, n.merchant_id.value())
      .bind(2, n.protocol)
      .bind(3, n.order_ref)
      .bind(4, n.url)
      .bind(5, n.content_type)
      .bind(6, n.body)
      .bind(7, n.schedule)
      .bind(8, n.attempts_max)
      .bind(9, n.next_attempt_at_ms)
      .bind(10, n.created_at_ms);
  st.exec();
  return NotificationId{c_.last_insert_rowid()};
}

std::vector<Notification> SqliteTx::claim_due_notifications(int64_t now_ms, int64_t lease_ms, size_t limit,
                                                            const std::vector<MerchantId>& skip_merchants) {
  // The skipped merchants as a JSON array ("[]" skips nobody): one statement for any number of them, as the
  // bigint[] parameter is on PostgreSQL.
  static const std::string sql = std::string("SELECT ") + kNotificationColumns +
                                 " FROM notifications WHERE state='pending' AND next_attempt_at_ms <= ?1 "
                                 "AND claimed_until_ms <= ?1 AND merchant_id NOT IN "
                                 "(SELECT value FROM json_each(?3)) ORDER BY next_attempt_at_ms LIMIT ?2";
  std::string ids = "[";
  for (const MerchantId& m : skip_merchants) {
    if (ids.size() > 1) ids += ',';
    ids += std::to_string(m.value());
  }
  ids += ']';
  auto st = c_.prepare(sql.c_str());
  st.bind(1, now_ms).bind(2, static_cast<int64_t>(limit)).bind(3, ids);
  std::vector<Notification> out;
  while (st.step()) out.push_back(read_notification(st));
  for (auto& n : out) {
    n.claimed_until_ms = now_ms + lease_ms;
    auto up = c_.prepare("UPDATE notifications SET claimed_until_ms=?2 WHERE notification_id=?1");
    up.bind(1, n.id.value()).bind(2, n.claimed_until_ms);
    up.exec();
  }
  return out;
}

void SqliteTx::record_attempt(const NotificationAttempt& a) {
  auto st = c_.prepare(
      "INSERT OR REPLACE INTO notification_attempts (notification_id, attempt_no, started_at_ms, latency_ms, "
      "http_status, error, body_excerpt, delivered) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  st.bind(1, a.notification_id.value())
      .bind(2, a.attempt_no)
      .bind(3, a.started_at_ms)
      .bind(4, a.latency_ms)
      .bind(5, static_cast<int64_t>(a.http_status))
      .bind(6, a.error)
      .bind(7, a.body_excerpt)
      .bind(8, a.delivered);
  st.exec();
}

void SqliteTx::update_notification(const Notification& n) {
  auto st = c_.prepare(
      "UPDATE notifications SET attempts_made=?2, state=?3, next_attempt_at_ms=?4, claimed_until_ms=?5, "
      "updated_at_ms=?6 WHERE notification_id=?1");
  st.bind(1, n.id.value())
      .bind(2, n.attempts_made)
      .bind(3, notification_state_name(n.state))
      .bind(4, n.next_attempt_at_ms)
      .bind(5, n.claimed_until_ms)
      .bind(6, n.updated_at_ms);
  st.exec();
}

std::optional<Notification> SqliteTx::notification(NotificationId id) {
  static const std::string sql =
      std::string("SELECT ") + kNotificationColumns + " FROM notifications WHERE notification_id=?1";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, id.value());
  if (!st.step()) return std::nullopt;
  return read_notification(st);
}

std::vector<Notification> SqliteTx::notifications_for_order(const std::string& order_ref) {
  static const std::string sql = std::string("SELECT ") + kNotificationColumns +
                                 " FROM notifications WHERE order_ref=?1 ORDER BY notification_id";
  auto st = c_.prepare(sql.c_str());
  st.bind(1, order_ref);
  std::vector<Notification> out;
  while (st.step()) out.push_back(read_notification(st));
  return out;
}

std::vector<NotificationAttempt> SqliteTx::attempts(NotificationId id) {
  auto st = c_.prepare(
      "SELECT notification_id, attempt_no, started_at_ms, latency_ms, http_status, error, body_excerpt, delivered "
      "FROM notification_attempts WHERE notification_id=?1 ORDER BY attempt_no");
  st.bind(1, id.value());
  std::vector<NotificationAttempt> out;
  while (st.step()) {
    out.push_back(NotificationAttempt{NotificationId{st.int64(0)}, static_cast<int>(st.int64(1)), st.int64(2),
                                      st.int64(3), static_cast<unsigned>(st.int64(4)), st.text(5), st.text(6),
                                      st.int64(7) != 0});
  }
  return out;
}

int64_t SqliteTx::pending_notifications() {
  auto st = c_.prepare("SELECT COUNT(*) FROM notifications WHERE state='pending'");
  st.step();
  return st.int64(0);
}

int64_t SqliteTx::release_notification_claims() {
  auto st = c_.prepare("UPDATE notifications SET claimed_until_ms=0 WHERE state='pending' AND claimed_until_ms > 0");
  st.exec();
  return c_.changes();
}

std::optional<int64_t> SqliteTx::next_notification_due_ms() {
  auto st = c_.prepare("SELECT MIN(MAX(next_attempt_at_ms, claimed_until_ms)) FROM notifications WHERE state='pending'");
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return st.int64(0);
}

}  // namespace paygate::storage::sqlite
