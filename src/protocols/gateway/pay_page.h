// The gateway's hosted payment page: adapts a pay-in to the shared checkout page (src/checkout/).
#pragma once
#include <string>
#include <string_view>

#include "orders/gateway_order.h"

namespace paygate::gateway {

struct PayPageInput {
  const orders::PayIn& payin;
  std::string merchant_name;
  std::string payment_link;  // what the QR code encodes
  int64_t now_ms = 0;
  bool sandbox = false;      // show the sandbox banner and its pay/fail panel
  std::string lang;          // "zh" or "en"
};

std::string render_pay_page(const PayPageInput& in);
// Page mode's answer to a rejected form: what is wrong, in the merchant's words.
std::string render_pay_error_page(std::string_view message, std::string_view lang);
std::string render_pay_not_found_page(std::string_view lang);

}  // namespace paygate::gateway
