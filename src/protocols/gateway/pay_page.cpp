// TEMPORARY until the checkout page lands.
#include "protocols/gateway/pay_page.h"
namespace paygate::gateway {
std::string render_pay_page(const PayPageInput&) { return "<html>page</html>"; }
std::string render_pay_error_page(std::string_view message, std::string_view) { return std::string(message); }
std::string render_pay_not_found_page(std::string_view) { return "not found"; }
}  // namespace paygate::gateway
