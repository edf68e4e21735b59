// A merchant's API IP allowlist: addresses and CIDR ranges, IPv4 and IPv6. Entries are kept in one normalized form
// (what normalize_ip_entry returns), so the same range is written the same way everywhere it is shown or stored.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace paygate::http {

// One entry: "203.0.113.7", "10.0.0.0/8", "2001:db8::/32", "::1". Returns the normalized text (IPv4 dotted quad;
// IPv6 lower-case, compressed; "/n" only when n is shorter than the address; an IPv4-mapped IPv6 address as its
// IPv4 form). Refused (kInvalidArgument, the message names the entry and says why): anything that is not an
// address, a prefix length outside 0..32 (IPv4) or 0..128 (IPv6), a zone ("%eth0"), and a range whose address has
// bits set past its prefix ("10.1.2.3/8": did you mean 10.0.0.0/8?).
Result<std::string> normalize_ip_entry(std::string_view entry);

// A whole list: each entry normalized, duplicates dropped (first kept), at most limits::kConsoleIpAllowlistMax.
// Empty entries are refused; an empty list is allowed (any address).
Result<std::vector<std::string>> normalize_ip_allowlist(const std::vector<std::string>& entries);
// The comma-separated form (the CLI's --allow, the database column): spaces around entries are ignored; "" is the
// empty list.
Result<std::vector<std::string>> parse_ip_allowlist(std::string_view comma_separated);
std::string join_ip_allowlist(const std::vector<std::string>& entries);

// Whether `remote_ip` may call the API: true when the list is empty, else when it is inside one of the entries.
// An empty or unparsable remote address is inside no entry. Entries that do not parse (never the case for a list
// that went through normalize_ip_allowlist) match nothing.
bool ip_allowed(const std::vector<std::string>& allowlist, std::string_view remote_ip);

// The message every protocol answers with when ip_allowed is false.
std::string ip_not_allowed_message(std::string_view remote_ip);

}  // namespace paygate::http
