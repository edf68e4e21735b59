#include "checkout/page.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "http/qr_svg.h"

namespace paygate::checkout {
namespace {

CheckoutView sample() {
  CheckoutView v;
  v.payment_id = "PAY2411220001";
  v.merchant_name = "星河数码旗舰店";
  v.amount = Money::from_fen(1234);
  v.order_no = "M20241122-000123";
  v.channel_label_zh = "支付宝";
  v.channel_label_en = "Alipay";
  v.payment_link = "https://pay.example/p/PAY2411220001";
  v.now_ms = 1'700'000'000'000;
  v.expires_at_ms = v.now_ms + 15 * 60 * 1000;
  v.return_url = "https://shop.example/return?order=M20241122-000123";
  v.lang = "zh";
  v.self_url = "/api/Pay?id=PAY2411220001&channel=2";
  v.status_url = "/api/Pay/Status?id=PAY2411220001";
  v.complete_url = "/sandbox/payments/PAY2411220001/complete";
  return v;
}

bool contains(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}

int count_of(const std::string& s, std::string_view needle) {
  int n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

bool has_id(const std::string& html, std::string_view id) {
  return contains(html, "id=\"" + std::string(id) + "\"");
}

// The text of the element with `id` (up to the end tag of its own name; nested tags dropped).
std::string text_of(const std::string& html, std::string_view id) {
  size_t at = html.find("id=\"" + std::string(id) + "\"");
  if (at == std::string::npos) return "<missing>";
  size_t tag = html.rfind('<', at);
  std::string name = html.substr(tag + 1, html.find(' ', tag) - tag - 1);
  size_t open = html.find('>', at);
  size_t close = html.find("</" + name + ">", open);
  std::string inner = html.substr(open + 1, close - open - 1);
  // Drop nested tags (the amount's currency <span>).
  std::string out;
  bool in_tag = false;
  for (char c : inner) {
    if (c == '<') in_tag = true;
    if (!in_tag) out += c;
    if (c == '>') in_tag = false;
  }
  return out;
}

// window.CHECKOUT, the data the script reads, parsed back.
nlohmann::json script_data(const std::string& html) {
  const std::string start = "<script>window.CHECKOUT = ";
  size_t at = html.find(start);
  EXPECT_NE(at, std::string::npos);
  size_t end = html.find(";</script>", at);
  return nlohmann::json::parse(html.substr(at + start.size(), end - at - start.size()));
}

TEST(CheckoutPage, IsACompleteSelfContainedPage) {
  std::string html = render_checkout_page(sample());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"zh-CN\">", 0), 0u);
  EXPECT_TRUE(contains(html, "<meta charset=\"utf-8\">"));
  EXPECT_TRUE(contains(html, "<meta name=\"viewport\" content=\"width=device-width"));
  EXPECT_TRUE(html.ends_with("</html>\n"));
  // No external assets: nothing loads from elsewhere.
  EXPECT_FALSE(contains(html, "<link rel=\"stylesheet\""));
  EXPECT_FALSE(contains(html, "<script src"));
  EXPECT_FALSE(contains(html, "<img"));
  EXPECT_FALSE(contains(html, "url("));
  for (std::string_view id : {"amount", "order-no", "merchant", "channel", "qr", "countdown", "status", "status-text",
                              "lang-switch", "payment-id", "return-link"}) {
    EXPECT_TRUE(has_id(html, id)) << id;
  }
}

TEST(CheckoutPage, ShowsTheOrder) {
  std::string html = render_checkout_page(sample());
  EXPECT_EQ(text_of(html, "amount"), "¥12.34");
  EXPECT_TRUE(contains(html, "data-fen=\"1234\""));
  EXPECT_EQ(text_of(html, "merchant"), "星河数码旗舰店");
  EXPECT_EQ(text_of(html, "order-no"), "M20241122-000123");
  EXPECT_EQ(text_of(html, "channel"), "支付宝");
  EXPECT_EQ(text_of(html, "payment-id"), "PAY2411220001");
  EXPECT_EQ(text_of(html, "countdown"), "15:00");
  EXPECT_EQ(text_of(html, "status-text"), "等待支付");
  EXPECT_TRUE(contains(html, "data-status=\"0\""));
  EXPECT_TRUE(contains(html, "<body class=\"wide\" data-state=\"waiting\">"));
  auto c = script_data(html);
  EXPECT_EQ(c["status"], 0);
  EXPECT_EQ(c["expiresInMs"], 900000);
  EXPECT_EQ(c["statusUrl"], "/api/Pay/Status?id=PAY2411220001");
  EXPECT_EQ(c["completeUrl"], "/sandbox/payments/PAY2411220001/complete");
  EXPECT_EQ(c["returnUrl"], "https://shop.example/return?order=M20241122-000123");
  EXPECT_EQ(c["amountFen"], 1234);
}

TEST(CheckoutPage, FormatsAmountsAsYuanWithTwoDecimals) {
  CheckoutView v = sample();
  v.sandbox = true;
  for (auto [fen, text] : {std::pair<int64_t, std::string>{5, "0.05"},
                           {1230, "12.30"},
                           {100000, "1000.00"},
                           {kMoneyFenMax, "100000000.00"}}) {
    v.amount = Money::from_fen(fen);
    std::string html = render_checkout_page(v);
    EXPECT_EQ(text_of(html, "amount"), "¥" + text);
    EXPECT_TRUE(contains(html,
                         "id=\"sandbox-amount\" name=\"amount\" inputmode=\"decimal\" autocomplete=\"off\" "
                         "spellcheck=\"false\" value=\"" +
                             text + "\""));
    EXPECT_TRUE(contains(html, "<title>支付 ¥" + text + " · 星河数码旗舰店</title>"));
  }
}

TEST(CheckoutPage, CountdownComesFromTheServersClock) {
  CheckoutView v = sample();
  v.expires_at_ms = v.now_ms + 90'000;
  EXPECT_EQ(text_of(render_checkout_page(v), "countdown"), "01:30");
  v.expires_at_ms = v.now_ms + 1;  // a started second counts
  EXPECT_EQ(text_of(render_checkout_page(v), "countdown"), "00:01");
  v.expires_at_ms = v.now_ms + 2 * 3600 * 1000;
  EXPECT_EQ(text_of(render_checkout_page(v), "countdown"), "120:00");
  v.expires_at_ms = v.now_ms - 5000;
  std::string html = render_checkout_page(v);
  EXPECT_EQ(text_of(html, "countdown"), "00:00");
  EXPECT_TRUE(contains(html, "<body class=\"wide\" data-state=\"expired\">"));
  EXPECT_EQ(text_of(html, "status-text"), "订单已过期");
  EXPECT_EQ(script_data(html)["expiresInMs"], 0);
}

TEST(CheckoutPage, EscapesEveryInterpolatedValue) {
  CheckoutView v = sample();
  v.merchant_name = "<script>alert(1)</script>";
  v.order_no = "\"><img src=x onerror=alert(1)>";
  v.payment_id = "P&1";
  v.channel_label_zh = "<b>支付宝</b>";
  v.self_url = "/api/Pay?id=\"><script>x</script>&channel=2";
  std::string html = render_checkout_page(v);
  EXPECT_FALSE(contains(html, "<script>alert"));
  EXPECT_FALSE(contains(html, "<img"));
  EXPECT_FALSE(contains(html, "<b>支付宝"));
  EXPECT_EQ(count_of(html, "<script"), 2);  // the data and the code, nothing injected
  EXPECT_TRUE(contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_TRUE(contains(html, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_TRUE(contains(html, "P&amp;1"));
  EXPECT_TRUE(
      contains(html, "href=\"/api/Pay?id=&quot;&gt;&lt;script&gt;x&lt;/script&gt;&amp;channel=2&amp;lang=en\""));
  EXPECT_TRUE(contains(html, "<title>支付 ¥12.34 · &lt;script&gt;alert(1)&lt;/script&gt;</title>"));
}

TEST(CheckoutPage, ValuesInTheScriptCannotBreakOut) {
  CheckoutView v = sample();
  v.return_url = "https://shop.example/r?q=\";alert(1);//</script><script>alert(2)</script>&x='\xE2\x80\xA8";
  v.status = CheckoutStatus::kFailed;
  v.message = "</script><!-- \xE2\x80\xA9 & \"";
  v.status_url = "/s?id=</script>";
  std::string html = render_checkout_page(v);
  EXPECT_EQ(count_of(html, "<script"), 2);
  EXPECT_EQ(count_of(html, "</script>"), 2);
  EXPECT_FALSE(contains(html, "<!--"));
  // Whatever was in the values comes back exactly from the JSON the script reads.
  auto c = script_data(html);
  EXPECT_EQ(c["returnUrl"], v.return_url);
  EXPECT_EQ(c["message"], v.message);
  EXPECT_EQ(c["statusUrl"], v.status_url);
  // No raw U+2028/U+2029 inside the script.
  size_t script = html.find("<script>window.CHECKOUT");
  EXPECT_EQ(html.find("\xE2\x80\xA8", script), std::string::npos);
  EXPECT_EQ(html.find("\xE2\x80\xA9", script), std::string::npos);
}

TEST(CheckoutPage, ReturnUrlMustBeHttp) {
  CheckoutView v = sample();
  v.status = CheckoutStatus::kPaid;
  for (std::string bad : {"javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>", "//evil.example/",
                          "/relative", "https://shop.example/a b", "vbscript:x"}) {
    v.return_url = bad;
    std::string html = render_checkout_page(v);
    EXPECT_EQ(script_data(html)["returnUrl"], "") << bad;
    EXPECT_FALSE(contains(html, "alert(1)")) << bad;
    EXPECT_EQ(text_of(html, "status-text"), "支付成功") << bad;
    EXPECT_TRUE(contains(html, "id=\"return-link\" class=\"btn secondary\" href=\"\" hidden")) << bad;
  }
  v.return_url = "HTTPS://shop.example/ok";
  std::string html = render_checkout_page(v);
  EXPECT_EQ(script_data(html)["returnUrl"], "HTTPS://shop.example/ok");
  EXPECT_EQ(text_of(html, "status-text"), "支付成功，正在返回商户…");
  EXPECT_TRUE(contains(html, "id=\"return-link\" class=\"btn secondary\" href=\"HTTPS://shop.example/ok\">"));
}

TEST(CheckoutPage, FinalStates) {
  CheckoutView v = sample();
  v.status = CheckoutStatus::kPaid;
  std::string paid = render_checkout_page(v);
  EXPECT_TRUE(contains(paid, "data-status=\"1\""));
  EXPECT_TRUE(contains(paid, "<body class=\"wide\" data-state=\"paid\">"));
  EXPECT_EQ(script_data(paid)["status"], 1);

  v.status = CheckoutStatus::kFailed;
  v.message = "余额不足 <card declined>";
  std::string failed = render_checkout_page(v);
  EXPECT_TRUE(contains(failed, "data-status=\"2\""));
  EXPECT_TRUE(contains(failed, "<body class=\"wide\" data-state=\"failed\">"));
  EXPECT_EQ(text_of(failed, "status-text"), "余额不足 &lt;card declined&gt;");
  v.message.clear();
  EXPECT_EQ(text_of(render_checkout_page(v), "status-text"), "支付失败");
}

TEST(CheckoutPage, ChineseByDefaultEnglishOnRequest) {
  CheckoutView v = sample();
  std::string zh = render_checkout_page(v);
  EXPECT_TRUE(contains(zh, "<html lang=\"zh-CN\">"));
  EXPECT_TRUE(contains(zh, "支付金额"));
  EXPECT_TRUE(
      contains(zh, "id=\"lang-switch\" class=\"lang\" href=\"/api/Pay?id=PAY2411220001&amp;channel=2&amp;lang=en\""));
  EXPECT_EQ(text_of(zh, "lang-switch"), "English");

  v.lang = "en";
  std::string en = render_checkout_page(v);
  EXPECT_TRUE(contains(en, "<html lang=\"en\">"));
  EXPECT_TRUE(contains(en, "Amount"));
  EXPECT_FALSE(contains(en, "支付金额"));
  EXPECT_EQ(text_of(en, "channel"), "Alipay");
  EXPECT_EQ(text_of(en, "status-text"), "Waiting for payment");
  EXPECT_TRUE(contains(en, "href=\"/api/Pay?id=PAY2411220001&amp;channel=2&amp;lang=zh\""));
  EXPECT_EQ(text_of(en, "lang-switch"), "中文");
  EXPECT_EQ(script_data(en)["t"]["paid"], "Payment successful");

  v.lang = "fr";
  EXPECT_TRUE(contains(render_checkout_page(v), "<html lang=\"zh-CN\">"));
  v.self_url = "/pay";  // no query yet
  v.lang = "EN";
  EXPECT_TRUE(contains(render_checkout_page(v), "href=\"/pay?lang=zh\""));
}

TEST(CheckoutPage, SandboxPanelOnlyInTheSandbox) {
  CheckoutView v = sample();
  std::string live = render_checkout_page(v);
  for (std::string_view id : {"sandbox-banner", "sandbox-panel", "sandbox-amount", "sandbox-pay", "sandbox-fail"}) {
    EXPECT_FALSE(has_id(live, id)) << id;
  }
  EXPECT_FALSE(contains(live, "SANDBOX"));
  v.sandbox = true;
  std::string sandbox = render_checkout_page(v);
  for (std::string_view id :
       {"sandbox-banner", "sandbox-panel", "sandbox-amount", "sandbox-pay", "sandbox-fail", "sandbox-error"}) {
    EXPECT_TRUE(has_id(sandbox, id)) << id;
  }
  EXPECT_EQ(text_of(sandbox, "sandbox-banner"), "沙箱 SANDBOX — no real money");
  EXPECT_EQ(text_of(sandbox, "sandbox-pay"), "支付 / Pay");
  EXPECT_EQ(text_of(sandbox, "sandbox-fail"), "失败 / Fail");
}

TEST(CheckoutPage, ChooserOnlyWithMoreThanOneMethod) {
  CheckoutView v = sample();
  EXPECT_FALSE(contains(render_checkout_page(v), "id=\"method-"));

  v.methods = {{"alipay", "支付宝", "Alipay"}};
  std::string one = render_checkout_page(v);
  EXPECT_FALSE(contains(one, "id=\"method-"));
  EXPECT_FALSE(contains(one, "radiogroup"));
  EXPECT_EQ(script_data(one)["chooser"], false);

  v.methods = {{"alipay", "支付宝", "Alipay"}, {"wechat", "微信支付", "WeChat Pay"}, {"bank", "银联", "UnionPay"}};
  std::string three = render_checkout_page(v);
  EXPECT_EQ(count_of(three, "role=\"radio\""), 3);
  EXPECT_TRUE(
      contains(three, "id=\"method-alipay\" data-method=\"alipay\" data-label=\"支付宝\" aria-checked=\"true\""));
  EXPECT_TRUE(
      contains(three, "id=\"method-wechat\" data-method=\"wechat\" data-label=\"微信支付\" aria-checked=\"false\""));
  EXPECT_EQ(text_of(three, "channel"), "支付宝");
  EXPECT_EQ(script_data(three)["chooser"], true);
  EXPECT_EQ(script_data(three)["method"], "alipay");

  v.selected_method = "wechat";
  v.lang = "en";
  std::string chosen = render_checkout_page(v);
  EXPECT_TRUE(
      contains(chosen, "id=\"method-wechat\" data-method=\"wechat\" data-label=\"WeChat Pay\" aria-checked=\"true\""));
  EXPECT_EQ(text_of(chosen, "channel"), "WeChat Pay");
  EXPECT_EQ(script_data(chosen)["method"], "wechat");
}

TEST(CheckoutPage, EmbedsTheQrCodeOfThePaymentLink) {
  CheckoutView v = sample();
  std::string html = render_checkout_page(v);
  auto svg = http::qr_svg(v.payment_link, "支付二维码");
  ASSERT_TRUE(svg.ok());
  EXPECT_TRUE(contains(html, "<div id=\"qr\" class=\"qr\">" + *svg + "</div>"));

  v.payment_link.clear();
  html = render_checkout_page(v);
  EXPECT_FALSE(contains(html, "<path fill=\"#000\""));
  EXPECT_TRUE(contains(html, "二维码暂不可用"));
  v.payment_link = std::string(http::kQrTextMax + 1, 'x');
  EXPECT_TRUE(contains(render_checkout_page(v), "二维码暂不可用"));
}

TEST(CheckoutPage, MessagePageIsEscapedAndStyled) {
  std::string zh = render_message_page("支付链接已失效 <x>", "请返回商户重新下单。\n\"&'", "zh");
  EXPECT_TRUE(contains(zh, "<html lang=\"zh-CN\">"));
  EXPECT_TRUE(contains(zh, "<title>支付链接已失效 &lt;x&gt;</title>"));
  EXPECT_EQ(text_of(zh, "message-title"), "支付链接已失效 &lt;x&gt;");
  EXPECT_EQ(text_of(zh, "message-text"), "请返回商户重新下单。\n&quot;&amp;&#39;");
  EXPECT_FALSE(contains(zh, "<script"));
  EXPECT_TRUE(contains(zh, "<meta name=\"viewport\""));
  std::string en = render_message_page("Payment not found", "No payment has this id.", "en");
  EXPECT_TRUE(contains(en, "<html lang=\"en\">"));
  EXPECT_TRUE(contains(en, "Payments secured by paygate"));
}

TEST(CheckoutStatusJson, IsWhatThePagePolls) {
  EXPECT_EQ(nlohmann::json::parse(render_status_json(CheckoutStatus::kWaiting, 4200, "", "https://shop.example/r")),
            nlohmann::json::parse(R"({"status":0,"expiresInMs":4200,"message":""})"));
  EXPECT_EQ(nlohmann::json::parse(render_status_json(CheckoutStatus::kPaid, -3, "", "https://shop.example/r")),
            nlohmann::json::parse(R"({"status":1,"expiresInMs":0,"message":"","returnUrl":"https://shop.example/r"})"));
  EXPECT_EQ(nlohmann::json::parse(render_status_json(CheckoutStatus::kPaid, 0, "", "")),
            nlohmann::json::parse(R"({"status":1,"expiresInMs":0,"message":""})"));
  EXPECT_EQ(nlohmann::json::parse(render_status_json(CheckoutStatus::kFailed, 0, "支付超时", "https://x")),
            nlohmann::json::parse(R"({"status":2,"expiresInMs":0,"message":"支付超时"})"));
}

TEST(CheckoutPage, NormalizesLang) {
  EXPECT_EQ(normalize_lang("en"), "en");
  EXPECT_EQ(normalize_lang("EN"), "en");
  EXPECT_EQ(normalize_lang("zh"), "zh");
  EXPECT_EQ(normalize_lang(""), "zh");
  EXPECT_EQ(normalize_lang("en-US"), "zh");
}

}  // namespace
}  // namespace paygate::checkout
