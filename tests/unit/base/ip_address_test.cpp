// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "wgcap/ip_address.hpp"

namespace wgcap {
namespace {

TEST(IpAddress, ParsesBothFamilies) {
  auto v4 = IpAddress::Parse("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family, 4);
  EXPECT_EQ(v4->ToString(), "192.0.2.1");
  auto v6 = IpAddress::Parse("2001:DB8::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family, 6);
  EXPECT_EQ(v6->ToString(), "2001:db8::1");
}

TEST(IpAddress, MappedIpv6IsIpv4) {
  auto a = IpAddress::Parse("::ffff:192.0.2.7");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, IpAddress::V4(192, 0, 2, 7));
}

TEST(IpAddress, RejectsGarbage) {
  for (const char* bad : {"", "300.1.1.1", "192.0.2", "192.0.2.1.5", "2001:db8:::1", "host",
                          "192.0.2.1/24", " 192.0.2.1"}) {
    EXPECT_FALSE(IpAddress::Parse(bad)) << bad;
  }
}

TEST(IpPrefix, ClearsHostBitsAndContains) {
  std::string error;
  auto p = IpPrefix::Parse("198.51.100.77/24", &error);
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(p->ToString(), "198.51.100.0/24");
  const std::uint8_t in[4] = {198, 51, 100, 200};
  const std::uint8_t out[4] = {198, 51, 101, 1};
  EXPECT_TRUE(p->Contains(4, in));
  EXPECT_FALSE(p->Contains(4, out));
  EXPECT_FALSE(p->Contains(6, in)) << "never across families";
}

TEST(IpPrefix, OddLengthsAndZero) {
  auto p = IpPrefix::Parse("2001:db8:ff00::/41");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ToString(), "2001:db8:ff00::/41");
  auto any = IpPrefix::Parse("0.0.0.0/0");
  ASSERT_TRUE(any);
  const std::uint8_t x[4] = {203, 0, 113, 9};
  EXPECT_TRUE(any->Contains(4, x));
  auto bits = IpPrefix::Parse("192.0.2.255/25");
  ASSERT_TRUE(bits);
  const std::uint8_t lo[4] = {192, 0, 2, 127};
  const std::uint8_t hi[4] = {192, 0, 2, 128};
  EXPECT_FALSE(bits->Contains(4, lo));
  EXPECT_TRUE(bits->Contains(4, hi));
}

TEST(IpPrefix, BareAddressIsFullLength) {
  auto p = IpPrefix::Parse("2001:db8::5");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 128);
}

TEST(IpPrefix, MappedPrefixBecomesIpv4) {
  auto p = IpPrefix::Parse("::ffff:192.0.2.0/120");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->address.family, 4);
  EXPECT_EQ(p->length, 24);
  std::string error;
  EXPECT_FALSE(IpPrefix::Parse("::ffff:192.0.2.0/64", &error));
  EXPECT_EQ(error, "invalid prefix length \"64\" for an IPv4-mapped address (expected 96-128)");
}

TEST(IpPrefix, BadLengthMessages) {
  std::string error;
  EXPECT_FALSE(IpPrefix::Parse("192.0.2.0/33", &error));
  EXPECT_EQ(error, "invalid prefix length \"33\" for IPv4 (expected 0-32)");
  EXPECT_FALSE(IpPrefix::Parse("2001:db8::/129", &error));
  EXPECT_EQ(error, "invalid prefix length \"129\" for IPv6 (expected 0-128)");
  EXPECT_FALSE(IpPrefix::Parse("192.0.2.0/", &error));
  EXPECT_FALSE(IpPrefix::Parse("192.0.2.0/x", &error));
  EXPECT_FALSE(IpPrefix::Parse("192.0.2.0/-1", &error));
  EXPECT_FALSE(IpPrefix::Parse("192.0.2/24", &error));
  EXPECT_EQ(error, "invalid address \"192.0.2\"");
}

} // namespace
} // namespace wgcap
