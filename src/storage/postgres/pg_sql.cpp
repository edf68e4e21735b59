// Portable SQL on PostgreSQL (Tx::query_sql, Tx::exec_sql; the rules are in store.h). The text goes as the unnamed
// statement with untyped parameters (OID 0), so the server types each placeholder from where it stands, as SQLite
// applies a value to whatever it meets (Conn::query_sql: integers as text, so they fit BIGINT, INTEGER, SMALLINT,
// and BOOLEAN for 0 and 1; strings in binary where text or bytes are expected). Results come back binary and are
// read here: integers and booleans as int64, text and bytes as strings, anything else refused.
#include "storage/portable_sql.h"
#include "storage/postgres/pg_tx.h"

namespace paygate::storage::pg {
namespace {

// Type OIDs from the server's catalog (pg_type.dat); stable across versions.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kCharOid = 18;
constexpr Oid kNameOid = 19;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kJsonOid = 114;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kUnknownOid = 705;
constexpr Oid kBpcharOid = 1042;
constexpr Oid kVarcharOid = 1043;
constexpr Oid kNumericOid = 1700;

[[noreturn]] void fail(std::string_view sql, const std::string& why) {
  throw StorageFailure("portable SQL (" + sql_excerpt(sql) + "): " + why);
}

// Checks every column's type once, before reading any row: a type portable SQL does not read fails even when
// there are no rows, so a query is wrong on an empty database too.
void check_columns(const Rows& rows, std::string_view sql) {
  for (int col = 0; col < rows.columns(); ++col) {
    switch (rows.type(col)) {
      case kBoolOid:
      case kInt2Oid:
      case kInt4Oid:
      case kInt8Oid:
      case kByteaOid:
      case kCharOid:
      case kNameOid:
      case kTextOid:
      case kJsonOid:
      case kUnknownOid:
      case kBpcharOid:
      case kVarcharOid:
        break;
      case kNumericOid:
        fail(sql, "column " + rows.column_name(col) +
                      " is NUMERIC (PostgreSQL's SUM of BIGINT, AVG, a division by a NUMERIC): "
                      "cast it to BIGINT, e.g. CAST(SUM(x) AS BIGINT)");
      case kFloat4Oid:
      case kFloat8Oid:
        fail(sql, "column " + rows.column_name(col) +
                      " is floating-point; portable SQL reads integers and text only (cast to BIGINT)");
      default:
        fail(sql, "column " + rows.column_name(col) + " has type oid " + std::to_string(rows.type(col)) +
                      ", which portable SQL does not read (cast it to BIGINT or TEXT)");
    }
  }
}

SqlValue column(const Rows& rows, int row, int col) {
  if (rows.is_null(row, col)) return std::monostate{};
  switch (rows.type(col)) {
    case kBoolOid:
      return static_cast<int64_t>(rows.boolean(row, col) ? 1 : 0);
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
      return rows.i64(row, col);
    default:
      return rows.text(row, col);  // binary text, varchar, name and bytea: the bytes themselves
  }
}

}  // namespace

std::vector<SqlRow> PgTx::query_sql(std::string_view sql, const std::vector<SqlValue>& params) {
  check_portable_sql(sql);
  Rows rows = c_.query_sql(sql, params, true);
  if (!rows.has_rows()) return {};
  if (static_cast<size_t>(rows.size()) > limits::kSqlRowsMax) {
    fail(sql, "more than " + std::to_string(limits::kSqlRowsMax) + " rows; the query needs a LIMIT");
  }
  check_columns(rows, sql);
  std::vector<SqlRow> out;
  out.reserve(static_cast<size_t>(rows.size()));
  const int columns = rows.columns();
  for (int row = 0; row < rows.size(); ++row) {
    SqlRow r;
    r.reserve(static_cast<size_t>(columns));
    for (int col = 0; col < columns; ++col) r.push_back(column(rows, row, col));
    out.push_back(std::move(r));
  }
  return out;
}

int64_t PgTx::exec_sql(std::string_view sql, const std::vector<SqlValue>& params) {
  if (mode_ != Mode::kWrite) fail(sql, "exec_sql in a read-only snapshot");
  check_portable_sql(sql);
  return c_.query_sql(sql, params, false).affected();
}

}  // namespace paygate::storage::pg
