#include "http/pages.h"

namespace paygate::http {

std::string header_value(const Request& req, bhttp::field name) {
  auto it = req.raw.find(name);
  return it == req.raw.end() ? std::string() : std::string(it->value());
}

std::string public_base_url(const Request& req, std::string_view configured) {
  if (!configured.empty()) return std::string(configured);
  std::string host = header_value(req, bhttp::field::host);
  return "http://" + (host.empty() ? std::string("localhost") : host);
}

void set_page_headers(Response& res, std::string_view content_security_policy) {
  res.set(bhttp::field::cache_control, "no-store");
  res.set("Content-Security-Policy", content_security_policy);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
}

}  // namespace paygate::http
