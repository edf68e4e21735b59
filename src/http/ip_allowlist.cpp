#include "http/ip_allowlist.h"

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>

#include "base/limits.h"
#include "base/text.h"

namespace paygate::http {
namespace {

namespace ip = boost::asio::ip;

struct Range {
  ip::address address;  // IPv4, or IPv6 that is not IPv4-mapped
  int prefix = 0;       // 0..32 or 0..128
};

Error invalid(std::string_view entry, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument,
                    "IP allowlist entry '" + std::string(entry) + "': " + std::string(why));
}

// Parses an address (no prefix). IPv4-mapped IPv6 addresses become IPv4.
std::optional<ip::address> parse_address(std::string_view text) {
  if (text.empty() || text.size() > 64 || text.find('%') != std::string_view::npos) return std::nullopt;
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::address(ip::make_address_v4(ip::v4_mapped, a.to_v6()));
  return a;
}

std::array<unsigned char, 16> bytes_of(const ip::address& a) {
  std::array<unsigned char, 16> out{};
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.begin());
  } else {
    auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), out.begin());
  }
  return out;
}

// Whether the first `prefix` bits of a and b agree (both of one family, `width` bytes long).
bool same_prefix(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& b, int prefix) {
  int full = prefix / 8;
  for (int i = 0; i < full; ++i) {
    if (a[i] != b[i]) return false;
  }
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

// Whether any bit past `prefix` is set.
bool host_bits_set(const std::array<unsigned char, 16>& a, int prefix, int width_bits) {
  for (int bit = prefix; bit < width_bits; ++bit) {
    if (a[bit / 8] & (0x80 >> (bit % 8))) return true;
  }
  return false;
}

ip::address masked(const ip::address& a, int prefix) {
  auto b = bytes_of(a);
  const int width = a.is_v4() ? 32 : 128;
  for (int bit = prefix; bit < width; ++bit) b[bit / 8] &= static_cast<unsigned char>(~(0x80 >> (bit % 8)));
  if (a.is_v4()) return ip::address(ip::address_v4(ip::address_v4::bytes_type{b[0], b[1], b[2], b[3]}));
  ip::address_v6::bytes_type v6{};
  std::copy(b.begin(), b.end(), v6.begin());
  return ip::address(ip::address_v6(v6));
}

Result<Range> parse_range(std::string_view entry) {
  std::string_view addr_text = entry;
  std::optional<int> prefix;
  if (auto slash = entry.find('/'); slash != std::string_view::npos) {
    addr_text = entry.substr(0, slash);
    std::string_view len = entry.substr(slash + 1);
    if (len.empty() || len.size() > 3 || !all_ascii_digits(len)) {
      return invalid(entry, "the prefix length after '/' must be a number");
    }
    prefix = std::stoi(std::string(len));
  }
  if (entry.find('%') != std::string_view::npos) return invalid(entry, "zone ids ('%...') are not allowed");
  auto a = parse_address(addr_text);
  if (!a) return invalid(entry, "not an IPv4 or IPv6 address or CIDR range");
  const int width = a->is_v4() ? 32 : 128;
  if (prefix && addr_text.find(':') != std::string_view::npos && a->is_v4()) {
    // An IPv4-mapped IPv6 range ("::ffff:10.0.0.0/104") counts its prefix over 128 bits.
    if (*prefix < 96) return invalid(entry, "an IPv4-mapped range needs a prefix of at least 96");
    *prefix -= 96;
  }
  if (prefix && *prefix > width) {
    return invalid(entry, "the prefix length must be 0 to " + std::to_string(width) + " for an " +
                              (a->is_v4() ? "IPv4" : "IPv6") + " address");
  }
  Range r{*a, prefix.value_or(width)};
  if (host_bits_set(bytes_of(r.address), r.prefix, width)) {
    return invalid(entry, "the address has bits set past the /" + std::to_string(r.prefix) + " prefix (did you mean " +
                              masked(r.address, r.prefix).to_string() + "/" + std::to_string(r.prefix) + "?)");
  }
  return r;
}

}  // namespace

Result<std::string> normalize_ip_entry(std::string_view entry) {
  if (entry.empty()) return make_error(ErrorCode::kInvalidArgument, "IP allowlist entries must not be empty");
  if (entry.size() > 64) return invalid(entry.substr(0, 64), "longer than 64 characters");
  auto r = parse_range(entry);
  if (!r.ok()) return r.error();
  const int width = r->address.is_v4() ? 32 : 128;
  std::string out = r->address.to_string();
  if (r->prefix < width) out += "/" + std::to_string(r->prefix);
  return out;
}

Result<std::vector<std::string>> normalize_ip_allowlist(const std::vector<std::string>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    auto n = normalize_ip_entry(trim_blanks(e));
    if (!n.ok()) return n.error();
    if (std::find(out.begin(), out.end(), *n) != out.end()) continue;
    out.push_back(std::move(n).value());
    if (out.size() > limits::kConsoleIpAllowlistMax) {
      return make_error(ErrorCode::kInvalidArgument,
                        "an IP allowlist holds at most " + std::to_string(limits::kConsoleIpAllowlistMax) + " entries");
    }
  }
  return out;
}

Result<std::vector<std::string>> parse_ip_allowlist(std::string_view comma_separated) {
  std::vector<std::string> entries;
  if (trim_blanks(comma_separated).empty()) return entries;
  size_t start = 0;
  // Bounded: at most one entry per character.
  while (start <= comma_separated.size()) {
    auto comma = comma_separated.find(',', start);
    auto piece =
        comma_separated.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    entries.emplace_back(trim_blanks(piece));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return normalize_ip_allowlist(entries);
}

std::string join_ip_allowlist(const std::vector<std::string>& entries) {
  std::string out;
  for (const auto& e : entries) {
    if (!out.empty()) out += ',';
    out += e;
  }
  return out;
}

bool ip_allowed(const std::vector<std::string>& allowlist, std::string_view remote_ip) {
  if (allowlist.empty()) return true;
  auto remote = parse_address(remote_ip);
  if (!remote) return false;
  const auto remote_bytes = bytes_of(*remote);
  for (const auto& entry : allowlist) {
    auto r = parse_range(entry);
    if (!r.ok() || r->address.is_v4() != remote->is_v4()) continue;
    if (same_prefix(bytes_of(r->address), remote_bytes, r->prefix)) return true;
  }
  return false;
}

std::string ip_not_allowed_message(std::string_view remote_ip) {
  std::string shown = remote_ip.size() <= 64 && is_printable_ascii_no_space(remote_ip) ? std::string(remote_ip) : "?";
  return "IP not allowed: " + shown + " is not in this merchant's API IP allowlist";
}

}  // namespace paygate::http
