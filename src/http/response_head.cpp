#include "http/response_head.h"

namespace paygate::http {

std::string response_head(const Response& res) {
  const unsigned version = res.version();
  const unsigned status = res.result_int();
  const std::string_view reason = res.reason();  // the set reason, or the status's standard one
  size_t size = 13 + reason.size() + 2 + 2;      // "HTTP/1.1 200 " reason CRLF, then the final CRLF
  for (const auto& f : res) size += f.name_string().size() + 2 + f.value().size() + 2;
  std::string out;
  out.reserve(size);
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10 % 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
  out += ' ';
  out += static_cast<char>('0' + status / 100 % 10);
  out += static_cast<char>('0' + status / 10 % 10);
  out += static_cast<char>('0' + status % 10);
  out += ' ';
  out += reason;
  out += "\r\n";
  for (const auto& f : res) {
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace paygate::http
