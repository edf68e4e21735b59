#include "http/ip_allowlist.h"

#include <gtest/gtest.h>

#include "base/limits.h"

namespace paygate::http {
namespace {

std::string normalized(std::string_view entry) {
  auto r = normalize_ip_entry(entry);
  return r.ok() ? *r : "error: " + r.error().message;
}

TEST(IpAllowlist, NormalizesAddressesAndRanges) {
  EXPECT_EQ(normalized("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(normalized("203.0.113.7/32"), "203.0.113.7");
  EXPECT_EQ(normalized("10.0.0.0/8"), "10.0.0.0/8");
  EXPECT_EQ(normalized("0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(normalized("2001:DB8:0:0::/32"), "2001:db8::/32");
  EXPECT_EQ(normalized("0:0:0:0:0:0:0:1"), "::1");
  EXPECT_EQ(normalized("::1/128"), "::1");
  EXPECT_EQ(normalized("::/0"), "::/0");
  EXPECT_EQ(normalized("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(normalized("::ffff:10.0.0.0/104"), "10.0.0.0/8");
}

TEST(IpAllowlist, RefusesInvalidEntriesWithASpecificMessage) {
  EXPECT_EQ(normalized("10.1.2.3/8"),
            "error: IP allowlist entry '10.1.2.3/8': the address has bits set past the /8 prefix (did you mean "
            "10.0.0.0/8?)");
  EXPECT_EQ(normalized("10.0.0.0/33"),
            "error: IP allowlist entry '10.0.0.0/33': the prefix length must be 0 to 32 for an IPv4 address");
  EXPECT_EQ(normalized("::/129"),
            "error: IP allowlist entry '::/129': the prefix length must be 0 to 128 for an IPv6 address");
  EXPECT_EQ(normalized("example.com"), "error: IP allowlist entry 'example.com': not an IPv4 or IPv6 address or CIDR range");
  EXPECT_EQ(normalized("1.2.3"), "error: IP allowlist entry '1.2.3': not an IPv4 or IPv6 address or CIDR range");
  EXPECT_EQ(normalized("256.1.1.1"), "error: IP allowlist entry '256.1.1.1': not an IPv4 or IPv6 address or CIDR range");
  EXPECT_EQ(normalized("10.0.0.0/"), "error: IP allowlist entry '10.0.0.0/': the prefix length after '/' must be a number");
  EXPECT_EQ(normalized("10.0.0.0/-1"), "error: IP allowlist entry '10.0.0.0/-1': the prefix length after '/' must be a number");
  EXPECT_EQ(normalized("fe80::1%eth0"), "error: IP allowlist entry 'fe80::1%eth0': zone ids ('%...') are not allowed");
  EXPECT_EQ(normalized(""), "error: IP allowlist entries must not be empty");
  EXPECT_EQ(normalized("2001:db8::1/32"),
            "error: IP allowlist entry '2001:db8::1/32': the address has bits set past the /32 prefix (did you mean "
            "2001:db8::/32?)");
}

TEST(IpAllowlist, ParsesCommaSeparatedListsDroppingDuplicates) {
  auto r = parse_ip_allowlist(" 1.2.3.4 , 10.0.0.0/8,1.2.3.4/32,::1 ");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"1.2.3.4", "10.0.0.0/8", "::1"}));
  EXPECT_EQ(join_ip_allowlist(*r), "1.2.3.4,10.0.0.0/8,::1");
  auto empty = parse_ip_allowlist("  ");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto bad = parse_ip_allowlist("1.2.3.4,,5.6.7.8");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "IP allowlist entries must not be empty");
}

TEST(IpAllowlist, HoldsAtMostTheLimit) {
  std::vector<std::string> entries;
  for (size_t i = 0; i < limits::kConsoleIpAllowlistMax; ++i) entries.push_back("10.0.0." + std::to_string(i));
  EXPECT_TRUE(normalize_ip_allowlist(entries).ok());
  entries.push_back("10.0.1.0/24");
  auto r = normalize_ip_allowlist(entries);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "an IP allowlist holds at most 32 entries");
}

TEST(IpAllowlist, MatchesAddressesAndRanges) {
  EXPECT_TRUE(ip_allowed({}, "198.51.100.1"));
  EXPECT_TRUE(ip_allowed({}, ""));
  const std::vector<std::string> list = {"10.0.0.0/8", "203.0.113.7", "2001:db8::/32"};
  EXPECT_TRUE(ip_allowed(list, "10.255.0.1"));
  EXPECT_TRUE(ip_allowed(list, "203.0.113.7"));
  EXPECT_TRUE(ip_allowed(list, "2001:db8:1::5"));
  EXPECT_TRUE(ip_allowed(list, "::ffff:10.1.1.1"));  // an IPv4 peer seen through a dual-stack socket
  EXPECT_FALSE(ip_allowed(list, "11.0.0.1"));
  EXPECT_FALSE(ip_allowed(list, "203.0.113.8"));
  EXPECT_FALSE(ip_allowed(list, "2001:db9::1"));
  EXPECT_FALSE(ip_allowed(list, "127.0.0.1"));
  EXPECT_FALSE(ip_allowed(list, ""));
  EXPECT_FALSE(ip_allowed(list, "unknown"));
  EXPECT_TRUE(ip_allowed({"0.0.0.0/0"}, "127.0.0.1"));
  EXPECT_FALSE(ip_allowed({"0.0.0.0/0"}, "::1"));
  EXPECT_TRUE(ip_allowed({"10.128.0.0/9"}, "10.200.0.1"));
  EXPECT_FALSE(ip_allowed({"10.128.0.0/9"}, "10.127.0.1"));
}

TEST(IpAllowlist, MessageSaysTheIpIsNotAllowed) {
  EXPECT_EQ(ip_not_allowed_message("127.0.0.1"), "IP not allowed: 127.0.0.1 is not in this merchant's API IP allowlist");
}

}  // namespace
}  // namespace paygate::http
