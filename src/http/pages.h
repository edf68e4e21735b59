// What the handlers of hosted pages share: request headers, the platform's public address for absolute links, and
// the headers every page is sent with.
#pragma once
#include <string>
#include <string_view>

#include "http/http.h"

namespace paygate::http {

// The value of a request header, "" when absent.
std::string header_value(const Request& req, bhttp::field name);

// The platform's public address for absolute links ("https://pay.example.com"): `configured` (server.public_url)
// when set, else http:// and the request's Host.
std::string public_base_url(const Request& req, std::string_view configured);

// Never cached (a page's status changes), the page's Content-Security-Policy, no MIME sniffing, no Referer to
// where the customer goes next.
void set_page_headers(Response& res, std::string_view content_security_policy);

}  // namespace paygate::http
