#include "protocols/gateway/pay_page.h"

#include "checkout/page.h"
#include "http/http.h"
#include "protocols/gateway/codec.h"

namespace paygate::gateway {

std::string render_pay_page(const PayPageInput& in) {
  const orders::PayIn& p = in.payin;
  checkout::CheckoutView v;
  v.payment_id = p.id.value();
  v.merchant_name = in.merchant_name;
  v.amount = p.amount;
  v.order_no = p.mrn;
  if (const Channel* c = find_channel(p.channel_id)) {
    v.channel_label_zh = std::string(c->name_zh);
    v.channel_label_en = std::string(c->name_en);
  }
  v.payment_link = in.payment_link;
  v.expires_at_ms = p.expires_at_ms;
  v.now_ms = in.now_ms;
  v.status = static_cast<checkout::CheckoutStatus>(orders::payin_protocol_status(p.state));
  v.message = p.message;
  v.return_url = p.return_url;
  v.sandbox = in.sandbox;
  v.lang = std::string(checkout::normalize_lang(in.lang));
  v.self_url = pay_url(p.id.value(), p.channel_id);
  v.status_url = "/api/Pay/Status?id=" + http::url_encode(p.id.value());
  v.complete_url = "/sandbox/payments/" + http::url_encode(p.id.value()) + "/complete";
  return checkout::render_checkout_page(v);
}

std::string render_pay_error_page(std::string_view message, std::string_view lang) {
  bool en = checkout::normalize_lang(lang) == "en";
  return checkout::render_message_page(en ? "The payment request was refused" : "支付请求有误", message, lang);
}

std::string render_pay_not_found_page(std::string_view lang) {
  bool en = checkout::normalize_lang(lang) == "en";
  return checkout::render_message_page(
      en ? "Payment not found" : "找不到该支付",
      en ? "This payment link is not valid. Please return to the merchant and start the payment again."
         : "该支付链接无效，请返回商户重新发起支付。",
      lang);
}

}  // namespace paygate::gateway
