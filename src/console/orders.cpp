#include "console/orders.h"

#include <algorithm>
#include <map>

#include "base/limits.h"
#include "base/money.h"
#include "console/actions.h"
#include "console/list_params.h"
#include "crypto/crypto.h"
#include "orders/cashier_order.h"
#include "orders/consign_order.h"
#include "orders/gateway_order.h"

namespace paygate::console {

using nlohmann::json;
using storage::SqlRow;
using storage::SqlValue;

std::string_view kind_name(OrderKind kind) {
  switch (kind) {
    case OrderKind::kCard: return "card";
    case OrderKind::kPayIn: return "payin";
    case OrderKind::kPayout: return "payout";
    case OrderKind::kCashier: return "cashier";
  }
  return "card";
}

std::string_view protocol_name(OrderKind kind) {
  switch (kind) {
    case OrderKind::kCard: return "consign";
    case OrderKind::kPayIn:
    case OrderKind::kPayout: return "gateway";
    case OrderKind::kCashier: return "cashier";
  }
  return "consign";
}

std::optional<OrderKind> parse_kind(std::string_view name) {
  for (auto k : kOrderKinds) {
    if (kind_name(k) == name) return k;
  }
  return std::nullopt;
}

const std::vector<std::string_view>& kind_states(OrderKind kind) {
  static const std::vector<std::string_view> card{"processing", "review", "success", "failed"};
  static const std::vector<std::string_view> payin{"waiting", "paid", "failed"};
  static const std::vector<std::string_view> payout{"approval", "processing", "paid", "failed", "rejected"};
  static const std::vector<std::string_view> cashier{"unpaid", "paid", "pending", "failed", "held"};
  switch (kind) {
    case OrderKind::kCard: return card;
    case OrderKind::kPayIn: return payin;
    case OrderKind::kPayout: return payout;
    case OrderKind::kCashier: return cashier;
  }
  return card;
}

std::optional<OrderKind> kind_of_id(std::string_view id) {
  if (id.empty()) return std::nullopt;
  switch (id.front()) {
    case 'C': return OrderKind::kCard;
    case 'P': return OrderKind::kPayIn;
    case 'W': return OrderKind::kPayout;
    case 'Q': return OrderKind::kCashier;
    default: return std::nullopt;
  }
}

json order_row_json(const OrderRow& r) {
  return {{"id", r.id},
          {"protocol", protocol_name(r.kind)},
          {"kind", kind_name(r.kind)},
          {"merchant_id", r.merchant_id.value()},
          {"merchant_name", r.merchant_name},
          {"merchant_order_id", r.merchant_order_id},
          {"channel", r.channel},
          {"amount_fen", r.amount_fen},
          {"settled_fen", r.settled_fen},
          {"fee_fen", r.fee_fen},
          {"status", r.status},
          {"created_at_ms", r.created_at_ms},
          {"updated_at_ms", r.updated_at_ms}};
}

std::string mask_last4(std::string_view secret) {
  if (secret.size() <= 4) return std::string(secret.size(), '*');
  return std::string(secret.size() - 4, '*') + std::string(secret.substr(secret.size() - 4));
}

// ---- cursors ----

namespace {
constexpr size_t kCursorIdLengthMax = 128;
}

std::string encode_cursor(const OrderCursor& cursor) {
  return crypto::hex_encode_lower(std::to_string(cursor.created_at_ms) + ":" + cursor.id);
}

std::optional<OrderCursor> decode_cursor(std::string_view text) {
  if (text.size() > 2 * (kCursorIdLengthMax + 24)) return std::nullopt;
  auto raw = crypto::hex_decode(text);
  if (!raw) return std::nullopt;
  auto colon = raw->find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto ms = parse_int64_strict(std::string_view(*raw).substr(0, colon));
  std::string id = raw->substr(colon + 1);
  if (!ms || id.empty() || id.size() > kCursorIdLengthMax) return std::nullopt;
  return OrderCursor{*ms, std::move(id)};
}

// ---- the query's fields ----

namespace {

Error bad(std::string message) { return make_error(ErrorCode::kInvalidArgument, std::move(message)); }

std::string join_states(OrderKind kind) {
  std::string out;
  for (auto s : kind_states(kind)) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

}  // namespace

Result<OrderQuery> parse_order_query(const http::FormFields& f, size_t limit_default, size_t limit_max) {
  OrderQuery q;
  q.limit = limit_default;
  if (const auto* v = f.find("q")) {
    q.q = *v;
    if (q.q.size() > limits::kCardNumberLengthMax) return bad("q is too long");
  }
  if (const auto* v = f.find("kind"); v && !v->empty()) {
    q.kind = parse_kind(*v);
    if (!q.kind) return bad("unknown kind '" + *v + "': card, payin, payout or cashier");
  }
  auto merchant = non_negative_field(f, "merchant_id");
  if (!merchant.ok()) return merchant.error();
  if (*merchant) q.merchant_id = MerchantId{**merchant};
  if (const auto* v = f.find("status"); v && !v->empty()) {
    q.status = *v;
    if (q.kind) {
      const auto& states = kind_states(*q.kind);
      if (std::find(states.begin(), states.end(), q.status) == states.end()) {
        return bad("status '" + q.status + "' is not a state of kind " + std::string(kind_name(*q.kind)) + " (" +
                   join_states(*q.kind) + ")");
      }
    } else {
      bool any = false;
      for (auto k : kOrderKinds) {
        const auto& states = kind_states(k);
        any = any || std::find(states.begin(), states.end(), q.status) != states.end();
      }
      if (!any) return bad("unknown status '" + q.status + "'");
    }
  }
  if (const auto* v = f.find("channel"); v && !v->empty()) {
    q.channel = *v;
    if (q.channel.size() > limits::kProductCodeLengthMax) return bad("channel is too long");
  }
  auto range = time_range_fields(f);
  if (!range.ok()) return range.error();
  q.from_ms = range->from_ms;
  q.to_ms = range->to_ms;
  auto limit = limit_field(f, q.limit, limit_max);
  if (!limit.ok()) return limit.error();
  q.limit = *limit;
  if (const auto* v = f.find("cursor"); v && !v->empty()) {
    q.after = decode_cursor(*v);
    if (!q.after) return bad("bad cursor");
  }
  return q;
}

// ---- search ----

namespace {

// Builds SQL with numbered placeholders; values never enter the text.
class SqlBuilder {
 public:
  std::string param(SqlValue v) {
    params_.push_back(std::move(v));
    return "$" + std::to_string(params_.size());
  }
  std::vector<SqlValue>& params() { return params_; }

 private:
  std::vector<SqlValue> params_;
};

struct Branch {
  OrderKind kind;
  const char* table;
  const char* id_column;
  const char* select;  // the row's columns, in OrderRow order (merchant_name left out)
};

const Branch kBranches[] = {
    {OrderKind::kCard, "consign_orders", "sys_order_id",
     "sys_order_id AS id, 'card' AS kind, merchant_id, merchant_order_id, product_code AS channel, "
     "face_money_yuan * 100 AS amount_fen, "
     "CASE WHEN state = 'success' THEN amount_fen ELSE 0 END AS settled_fen, "
     "CASE WHEN state = 'success' THEN real_money_yuan * 100 - amount_fen ELSE 0 END AS fee_fen, "
     "state AS status, created_at_ms, updated_at_ms"},
    {OrderKind::kPayIn, "gateway_payins", "payment_id",
     "payment_id AS id, 'payin' AS kind, merchant_id, mrn AS merchant_order_id, CAST(channel_id AS TEXT) AS channel, "
     "amount_fen, CASE WHEN state = 'paid' THEN paid_fen - fee_fen ELSE 0 END AS settled_fen, fee_fen, "
     "state AS status, created_at_ms, updated_at_ms"},
    {OrderKind::kPayout, "gateway_payouts", "payout_id",
     "payout_id AS id, 'payout' AS kind, merchant_id, mrn AS merchant_order_id, '' AS channel, amount_fen, "
     "CASE WHEN state = 'paid' THEN amount_fen ELSE 0 END AS settled_fen, fee_fen, state AS status, "
     "created_at_ms, updated_at_ms"},
    {OrderKind::kCashier, "cashier_orders", "cashier_id",
     "cashier_id AS id, 'cashier' AS kind, merchant_id, orderid AS merchant_order_id, method AS channel, amount_fen, "
     "CASE WHEN state = 'paid' THEN amount_fen - fee_fen ELSE 0 END AS settled_fen, fee_fen, state AS status, "
     "created_at_ms, updated_at_ms"},
};

// The branch's WHERE conditions, or nullopt when no row of this kind can match.
std::optional<std::vector<std::string>> branch_conditions(const Branch& b, const OrderQuery& q, SqlBuilder& sql) {
  std::vector<std::string> where;
  if (q.kind && *q.kind != b.kind) return std::nullopt;
  if (!q.status.empty()) {
    const auto& states = kind_states(b.kind);
    if (std::find(states.begin(), states.end(), q.status) == states.end()) return std::nullopt;
    where.push_back("state = " + sql.param(q.status));
  }
  if (!q.channel.empty()) {
    switch (b.kind) {
      case OrderKind::kCard: where.push_back("product_code = " + sql.param(q.channel)); break;
      case OrderKind::kPayIn: {
        auto id = parse_int64_strict(q.channel);
        if (!id || *id > 1'000'000) return std::nullopt;
        where.push_back("channel_id = " + sql.param(*id));
        break;
      }
      case OrderKind::kPayout: return std::nullopt;  // payouts have no channel
      case OrderKind::kCashier: where.push_back("method = " + sql.param(q.channel)); break;
    }
  }
  if (q.merchant_id) where.push_back("merchant_id = " + sql.param(q.merchant_id->value()));
  if (q.from_ms) where.push_back("created_at_ms >= " + sql.param(*q.from_ms));
  if (q.to_ms) where.push_back("created_at_ms < " + sql.param(*q.to_ms));
  if (!q.q.empty()) {
    std::string id_col = b.id_column;
    switch (b.kind) {
      case OrderKind::kCard:
        where.push_back("(sys_order_id = " + sql.param(q.q) + " OR merchant_order_id = " + sql.param(q.q) +
                        " OR batchno = " + sql.param(q.q) + " OR card_number = " + sql.param(q.q) + ")");
        break;
      case OrderKind::kPayIn:
      case OrderKind::kPayout:
        where.push_back("(" + id_col + " = " + sql.param(q.q) + " OR mrn = " + sql.param(q.q) + ")");
        break;
      case OrderKind::kCashier:
        where.push_back("(cashier_id = " + sql.param(q.q) + " OR orderid = " + sql.param(q.q) + ")");
        break;
    }
  }
  if (q.after) {
    where.push_back("(created_at_ms < " + sql.param(q.after->created_at_ms) + " OR (created_at_ms = " +
                    sql.param(q.after->created_at_ms) + " AND " + b.id_column + " < " + sql.param(q.after->id) + "))");
  }
  return where;
}

OrderRow read_row(const SqlRow& r) {
  OrderRow o;
  o.id = storage::sql_text(r[0]);
  o.kind = parse_kind(storage::sql_text(r[1])).value_or(OrderKind::kCard);
  o.merchant_id = MerchantId{storage::sql_int(r[2])};
  o.merchant_name = storage::sql_text(r[3]);
  o.merchant_order_id = storage::sql_text(r[4]);
  o.channel = storage::sql_text(r[5]);
  o.amount_fen = storage::sql_int(r[6]);
  o.settled_fen = storage::sql_int(r[7]);
  o.fee_fen = storage::sql_int(r[8]);
  o.status = storage::sql_text(r[9]);
  o.created_at_ms = storage::sql_int(r[10]);
  o.updated_at_ms = storage::sql_int(r[11]);
  return o;
}

}  // namespace

OrderPage search_orders(storage::Tx& tx, const Principal& who, OrderQuery q) {
  PG_ASSERT(q.limit >= 1 && q.limit <= limits::kConsoleCsvRowsMax, "order search limit out of range");
  if (who.role == Role::kMerchant) {
    PG_ASSERT(who.merchant_id.has_value(), "a merchant principal without its merchant");
    q.merchant_id = who.merchant_id;
  }
  SqlBuilder sql;
  const std::string fetch = std::to_string(q.limit + 1);  // one more than asked: whether another page follows
  std::string branches;
  int n = 0;
  for (const auto& b : kBranches) {
    auto where = branch_conditions(b, q, sql);
    if (!where) continue;
    std::string text = std::string("SELECT ") + b.select + " FROM " + b.table;
    for (size_t i = 0; i < where->size(); ++i) text += (i == 0 ? " WHERE " : " AND ") + (*where)[i];
    text += std::string(" ORDER BY created_at_ms DESC, ") + b.id_column + " DESC LIMIT " + fetch;
    if (!branches.empty()) branches += " UNION ALL ";
    branches += "SELECT * FROM (" + text + ") AS b" + std::to_string(n++);
  }
  OrderPage page;
  if (branches.empty()) return page;
  std::string text =
      "SELECT u.id, u.kind, u.merchant_id, COALESCE(m.name, ''), u.merchant_order_id, u.channel, u.amount_fen, "
      "u.settled_fen, u.fee_fen, u.status, u.created_at_ms, u.updated_at_ms FROM (" +
      branches +
      ") AS u LEFT JOIN merchants m ON m.merchant_id = u.merchant_id "
      "ORDER BY u.created_at_ms DESC, u.id DESC LIMIT " +
      fetch;
  auto rows = tx.query_sql(text, sql.params());
  for (const auto& r : rows) page.items.push_back(read_row(r));
  if (page.items.size() > q.limit) {
    page.items.resize(q.limit);
    const auto& last = page.items.back();
    page.next_cursor = encode_cursor(OrderCursor{last.created_at_ms, last.id});
  }
  return page;
}

// ---- one order ----

std::optional<OrderRef> find_order(storage::Tx& tx, const std::string& id) {
  // The id's prefix says where it is; look there first, then everywhere (ids are unique per table only).
  std::vector<OrderKind> order;
  if (auto k = kind_of_id(id)) order.push_back(*k);
  for (auto k : kOrderKinds) {
    if (std::find(order.begin(), order.end(), k) == order.end()) order.push_back(k);
  }
  for (auto k : order) {
    switch (k) {
      case OrderKind::kCard:
        if (auto o = tx.consign_order_by_sys(SysOrderId{id})) return OrderRef{k, o->merchant_id};
        break;
      case OrderKind::kPayIn:
        if (auto o = tx.payin_by_id(PaymentId{id})) return OrderRef{k, o->merchant_id};
        break;
      case OrderKind::kPayout:
        if (auto o = tx.payout_by_id(PayoutId{id})) return OrderRef{k, o->merchant_id};
        break;
      case OrderKind::kCashier:
        if (auto o = tx.cashier_order_by_id(CashierId{id})) return OrderRef{k, o->merchant_id};
        break;
    }
  }
  return std::nullopt;
}

namespace {

struct Event {
  int64_t at_ms;
  std::string event;
  std::string detail;
};

// Masks a name for display: its first character (UTF-8) and stars.
std::string mask_name(std::string_view name) {
  if (name.empty()) return "";
  size_t first = 1;
  auto c = static_cast<unsigned char>(name[0]);
  if (c >= 0xF0) first = 4;
  else if (c >= 0xE0) first = 3;
  else if (c >= 0xC0) first = 2;
  first = std::min(first, name.size());
  return std::string(name.substr(0, first)) + "**";
}

struct Detail {
  OrderRow row;
  json fields;
  std::vector<Event> events;
};

void base_row(OrderRow& row, OrderKind kind, const std::string& id, MerchantId merchant, std::string merchant_order_id,
              std::string channel, std::string status, int64_t created, int64_t updated) {
  row.id = id;
  row.kind = kind;
  row.merchant_id = merchant;
  row.merchant_order_id = std::move(merchant_order_id);
  row.channel = std::move(channel);
  row.status = std::move(status);
  row.created_at_ms = created;
  row.updated_at_ms = updated;
}

std::optional<Detail> load(storage::Tx& tx, OrderKind kind, const std::string& id) {
  Detail d;
  switch (kind) {
    case OrderKind::kCard: {
      auto o = tx.consign_order_by_sys(SysOrderId{id});
      if (!o) return std::nullopt;
      const bool success = o->state == orders::ConsignState::kSuccess;
      base_row(d.row, kind, id, o->merchant_id, o->merchant_order_id, o->product_code,
               std::string(orders::state_name(o->state)), o->created_at_ms, o->updated_at_ms);
      d.row.amount_fen = o->face_money_yuan * 100;
      d.row.settled_fen = success ? o->amount.fen() : 0;
      d.row.fee_fen = success ? o->real_money_yuan * 100 - o->amount.fen() : 0;
      d.fields = {{"batchno", o->batchno},
                  {"product_code", o->product_code},
                  {"product_type", o->product_type},
                  {"card_number", o->card_number},
                  {"card_password", orders::mask_secret(o->card_password)},
                  {"face_money_yuan", o->face_money_yuan},
                  {"rate_permille", o->rate.value},
                  {"real_money_yuan", o->real_money_yuan},
                  {"protocol_status", orders::protocol_status(o->state)},
                  {"message", o->message},
                  {"notify_url", o->notify_url},
                  {"custom", o->custom},
                  {"success_time_s", o->success_time_s},
                  {"process_after_ms", o->process_after_ms}};
      d.events.push_back({o->created_at_ms, "created",
                          "card " + o->card_number + ", face value " + std::to_string(o->face_money_yuan) +
                              " yuan, product " + o->product_code});
      if (o->state == orders::ConsignState::kReview) {
        d.events.push_back({o->updated_at_ms, "review", o->message.empty() ? "waiting for manual review" : o->message});
      } else if (orders::is_final(o->state)) {
        // updated_at_ms, not success_time_s: the protocol's success time is whole seconds and would sort the
        // outcome before the creation it follows within the same second.
        d.events.push_back({o->updated_at_ms, std::string(orders::state_name(o->state)),
                            success ? "real value " + std::to_string(o->real_money_yuan) + " yuan, credited " +
                                          format_yuan(o->amount)
                                    : o->message});
      }
      return d;
    }
    case OrderKind::kPayIn: {
      auto p = tx.payin_by_id(PaymentId{id});
      if (!p) return std::nullopt;
      base_row(d.row, kind, id, p->merchant_id, p->mrn, std::to_string(p->channel_id),
               std::string(orders::payin_state_name(p->state)), p->created_at_ms, p->updated_at_ms);
      d.row.amount_fen = p->amount.fen();
      d.row.settled_fen = p->state == orders::PayInState::kPaid ? p->paid.fen() - p->fee.fen() : 0;
      d.row.fee_fen = p->fee.fen();
      d.fields = {{"channel_id", p->channel_id},
                  {"amount_text", p->amount_text},
                  {"paid_fen", p->paid.fen()},
                  {"fee_rate_permille", p->fee_rate.value},
                  {"processor", p->processor},
                  {"payer", p->payer},
                  {"message", p->message},
                  {"callback_url", p->callback_url},
                  {"return_url", p->return_url},
                  {"protocol_status", orders::payin_protocol_status(p->state)},
                  {"expires_at_ms", p->expires_at_ms},
                  {"finished_at_ms", p->finished_at_ms}};
      d.events.push_back({p->created_at_ms, "created",
                          "amount " + format_yuan(p->amount) + ", channel " + std::to_string(p->channel_id)});
      if (p->finished_at_ms > 0) {
        d.events.push_back({p->finished_at_ms, std::string(orders::payin_state_name(p->state)),
                            p->state == orders::PayInState::kPaid
                                ? "paid " + format_yuan(p->paid) + ", fee " + format_yuan(p->fee)
                                : p->message});
      }
      return d;
    }
    case OrderKind::kPayout: {
      auto p = tx.payout_by_id(PayoutId{id});
      if (!p) return std::nullopt;
      base_row(d.row, kind, id, p->merchant_id, p->mrn, "", std::string(orders::payout_state_name(p->state)),
               p->created_at_ms, p->updated_at_ms);
      d.row.amount_fen = p->amount.fen();
      d.row.settled_fen = p->state == orders::PayoutState::kPaid ? p->amount.fen() : 0;
      d.row.fee_fen = p->fee.fen();
      d.fields = {{"amount_text", p->amount_text},
                  {"bank_name", p->bank_name},
                  {"account_name", p->account_name},
                  {"account_number", mask_last4(p->account_number)},
                  {"callback_url", p->callback_url},
                  {"message", p->message},
                  {"protocol_status", orders::payout_protocol_status(p->state)},
                  {"process_after_ms", p->process_after_ms},
                  {"finished_at_ms", p->finished_at_ms}};
      d.events.push_back({p->created_at_ms, "created",
                          "amount " + format_yuan(p->amount) + ", fee " + format_yuan(p->fee) + " to " + p->bank_name +
                              " " + mask_last4(p->account_number)});
      if (p->finished_at_ms > 0) {
        d.events.push_back({p->finished_at_ms, std::string(orders::payout_state_name(p->state)), p->message});
      } else if (p->state == orders::PayoutState::kApproval) {
        d.events.push_back({p->created_at_ms, "approval", "waiting for an operator's approval"});
      }
      return d;
    }
    case OrderKind::kCashier: {
      auto o = tx.cashier_order_by_id(CashierId{id});
      if (!o) return std::nullopt;
      base_row(d.row, kind, id, o->merchant_id, o->orderid, o->method,
               std::string(orders::cashier_state_name(o->state)), o->created_at_ms, o->updated_at_ms);
      d.row.amount_fen = o->amount.fen();
      d.row.settled_fen = o->state == orders::CashierState::kPaid ? o->amount.fen() - o->fee.fen() : 0;
      d.row.fee_fen = o->fee.fen();
      d.fields = {{"action", o->action},
                  {"method", o->method},
                  {"backurl", o->backurl},
                  {"fronturl", o->fronturl},
                  {"accname", o->accname.empty() ? json(nullptr) : json(mask_name(o->accname))},
                  {"accno", o->accno.empty() ? json(nullptr) : json(mask_last4(o->accno))},
                  {"result_code", orders::cashier_result_code(o->state)},
                  {"held_from", o->state == orders::CashierState::kHeld
                                    ? json(orders::cashier_state_name(o->held_from))
                                    : json(nullptr)},
                  {"fee_rate_permille", o->fee_rate.value},
                  {"message", o->message},
                  {"paid_at_ms", o->paid_at_ms},
                  {"settle_after_ms", o->settle_after_ms},
                  {"expires_at_ms", o->expires_at_ms}};
      d.events.push_back({o->created_at_ms, "created", "amount " + format_yuan(o->amount) + ", " + o->action});
      if (o->paid_at_ms > 0) {
        d.events.push_back({o->paid_at_ms, "paid",
                            "paid with " + o->method + ", fee " + format_yuan(o->fee)});
      }
      if (o->state != orders::CashierState::kUnpaid && o->updated_at_ms != o->paid_at_ms) {
        d.events.push_back({o->updated_at_ms, std::string(orders::cashier_state_name(o->state)), o->message});
      }
      return d;
    }
  }
  return std::nullopt;
}

std::string attempt_detail(const storage::NotificationAttempt& a) {
  std::string out = "attempt " + std::to_string(a.attempt_no) + ": ";
  if (a.http_status != 0) out += "HTTP " + std::to_string(a.http_status) + ", ";
  out += a.delivered ? "delivered" : (a.error.empty() ? "not delivered" : a.error);
  out += " (" + std::to_string(a.latency_ms) + " ms)";
  return out;
}

}  // namespace

std::optional<json> order_state_json(storage::Tx& tx, const std::string& id) {
  auto ref = find_order(tx, id);
  if (!ref) return std::nullopt;
  auto d = load(tx, ref->kind, id);
  if (!d) return std::nullopt;
  return json{{"kind", kind_name(d->row.kind)},
              {"merchant_id", d->row.merchant_id.value()},
              {"status", d->row.status},
              {"amount_fen", d->row.amount_fen},
              {"settled_fen", d->row.settled_fen},
              {"fee_fen", d->row.fee_fen},
              {"message", d->fields.value("message", std::string())}};
}

Result<json> order_detail(storage::Tx& tx, const Principal& who, const std::string& id) {
  auto not_found = make_error(ErrorCode::kNotFound, "no order " + id);
  auto ref = find_order(tx, id);
  if (!ref || !who.can_see_merchant(ref->merchant_id)) return not_found;
  auto d = load(tx, ref->kind, id);
  if (!d) return not_found;
  if (auto m = tx.merchant(d->row.merchant_id)) d->row.merchant_name = m->name;

  json order = order_row_json(d->row);
  for (auto& [k, v] : d->fields.items()) order[k] = v;

  json postings = json::array();
  struct EntrySummary {
    int64_t at_ms = 0;
    std::string kind;
    std::string moves;  // "account +1.00, account -1.00"
  };
  std::map<int64_t, EntrySummary> entries;
  for (const auto& p : tx.postings_for_reference(id)) {
    postings.push_back({{"entry_id", p.entry_id},
                        {"kind", p.kind},
                        {"account", p.account},
                        {"amount_fen", p.amount.fen()},
                        {"at_ms", p.created_at_ms}});
    auto& e = entries[p.entry_id];
    e.at_ms = p.created_at_ms;
    e.kind = p.kind;
    if (!e.moves.empty()) e.moves += ", ";
    e.moves += p.account + " " + (p.amount.is_positive() ? "+" : "") + format_yuan(p.amount);
  }
  for (const auto& [entry_id, e] : entries) d->events.push_back({e.at_ms, "ledger " + e.kind, e.moves});

  json notifications = json::array();
  bool has_notification = false;
  for (const auto& n : tx.notifications_for_order(id)) {
    has_notification = true;
    d->events.push_back({n.created_at_ms, "notify.queued", n.url});
    json attempts = json::array();
    for (const auto& a : tx.attempts(n.id)) {
      attempts.push_back({{"attempt_no", a.attempt_no},
                          {"started_at_ms", a.started_at_ms},
                          {"latency_ms", a.latency_ms},
                          {"http_status", a.http_status},
                          {"error", a.error},
                          {"body_excerpt", a.body_excerpt},
                          {"delivered", a.delivered}});
      d->events.push_back({a.started_at_ms, "notify.attempt", attempt_detail(a)});
    }
    notifications.push_back({{"id", n.id.value()},
                             {"url", n.url},
                             {"state", storage::notification_state_name(n.state)},
                             {"attempts_made", n.attempts_made},
                             {"attempts_max", n.attempts_max},
                             {"next_attempt_at_ms", n.next_attempt_at_ms},
                             {"attempts", attempts}});
  }

  // Operator actions on this order, from the audit log.
  auto audit = tx.query_sql(
      "SELECT at_ms, action, actor_name, actor_role FROM audit_log WHERE target_type = 'order' AND target_id = $1 "
      "ORDER BY at_ms, audit_id LIMIT 1000",
      {SqlValue{id}});
  for (const auto& r : audit) {
    d->events.push_back({storage::sql_int(r[0]), storage::sql_text(r[1]),
                         "by " + storage::sql_text(r[2]) + " (" + storage::sql_text(r[3]) + ")"});
  }

  std::stable_sort(d->events.begin(), d->events.end(),
                   [](const Event& a, const Event& b) { return a.at_ms < b.at_ms; });
  json timeline = json::array();
  for (const auto& e : d->events) timeline.push_back({{"at_ms", e.at_ms}, {"event", e.event}, {"detail", e.detail}});

  json actions = json::array();
  for (const auto& a : available_actions(who, ref->kind, d->row.status, has_notification)) actions.push_back(a);

  return json{{"order", order},
              {"timeline", timeline},
              {"postings", postings},
              {"notifications", notifications},
              {"actions", actions}};
}

}  // namespace paygate::console
