// Stmt's binds: bind() copies, bind_ref() reads the caller's bytes in place until the statement's next prepare().
#include "storage/sqlite/sqlite_db.h"

#include <gtest/gtest.h>

#include <string>

namespace paygate::storage::sqlite {
namespace {

TEST(SqliteStmt, BindRefReadsTheStringInPlaceAndTheNextPrepareClearsIt) {
  Connection c(":memory:", /*read_only=*/false, /*busy_timeout_ms=*/100);
  const char* sql = "SELECT ?1, typeof(?2), ?2";
  {
    const std::string text = "a text longer than any small-string buffer, bound by reference";
    const std::string blob("\x00\x01\xFF blob", 8);
    auto st = c.prepare(sql);
    st.bind_ref(1, text).bind_blob_ref(2, blob);
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.text(0), text);
    EXPECT_EQ(st.text(1), "blob");
    EXPECT_EQ(st.blob(2), blob);
  }
  // The strings are gone; the cached statement still points at them until prepare() clears its bindings.
  auto again = c.prepare(sql);
  ASSERT_TRUE(again.step());
  EXPECT_TRUE(again.is_null(0));
  EXPECT_TRUE(again.is_null(2));
}

TEST(SqliteStmt, BindCopiesSoTheValueMayBeATemporary) {
  Connection c(":memory:", /*read_only=*/false, /*busy_timeout_ms=*/100);
  const std::string value(41, 'x');
  auto st = c.prepare("SELECT ?1");
  st.bind(1, std::string(value));  // the temporary copy is destroyed at the end of this statement
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.text(0), value);
}

}  // namespace
}  // namespace paygate::storage::sqlite
