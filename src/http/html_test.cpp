#include "http/html.h"

#include <gtest/gtest.h>

namespace paygate::http {
namespace {

TEST(Html, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(html_escape(R"(<script>alert("x" & 'y')</script>)"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;");
  EXPECT_EQ(html_escape("商户 ¥12.34\tok\n"), "商户 ¥12.34\tok\n");
}

TEST(Html, ReplacesNonUtf8AndControlCharacters) {
  EXPECT_EQ(html_escape("a\xff"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(html_escape("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(html_escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(html_escape(std::string("x\0y\x7f", 4)), "x\xEF\xBF\xBDy\xEF\xBF\xBD");
  EXPECT_EQ(html_escape("\xE4\xB8"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated
  EXPECT_EQ(html_escape("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");  // U+1F600 passes
}

TEST(Html, ScriptSafeJsonCannotCloseTheScript) {
  EXPECT_EQ(script_safe_json(R"({"a":"</script><!--&"})"), R"({"a":"\u003c/script\u003e\u003c!--\u0026"})");
  EXPECT_EQ(script_safe_json("\"\xE2\x80\xA8\xE2\x80\xA9\xE2\x80\xA7\""), "\"\\u2028\\u2029\xE2\x80\xA7\"");
}

TEST(Html, JsStringQuotesAndEscapes) {
  EXPECT_EQ(js_string(R"(a"b\c</script>)"), R"("a\"b\\c\u003c/script\u003e")");
  EXPECT_EQ(js_string("支付"), "\"支付\"");
  EXPECT_EQ(js_string("\n"), R"("\n")");
}

}  // namespace
}  // namespace paygate::http
