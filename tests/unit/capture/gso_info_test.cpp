// SPDX-License-Identifier: Apache-2.0
// The GSO info a backend hands over: the kernel's count where it has one,
// else derived from the payload the way the stack segments it.
#include <gtest/gtest.h>

#include "capture/afpacket/vnet_header.hpp"
#include "capture/gso_info.hpp"
#include "support/packet_builder.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;

TEST(GsoInfo, OrdinaryPacketsHaveNone) {
  const auto p = PacketBuilder::Ipv4("198.51.100.1", "203.0.113.1").Udp(1, 2).Build();
  const GsoInfo g = DeriveGsoInfo(p, static_cast<std::uint32_t>(p.size()), 3, 0);
  EXPECT_EQ(g.segs, 0); // a stale count without a size is not GSO
  EXPECT_EQ(g.size, 0);
}

TEST(GsoInfo, TheKernelsCountIsKept) {
  const auto p =
      PacketBuilder::Ipv4("198.51.100.1", "203.0.113.1").Tcp(1, 2).PayloadSize(100).Build();
  const GsoInfo g = DeriveGsoInfo(p, 63900, 45, 1420);
  EXPECT_EQ(g.segs, 45);
  EXPECT_EQ(g.size, 1420);
}

TEST(GsoInfo, AMissingCountIsDerivedPastTheHeaders) {
  // 20 + 20 + 12 bytes of TCP options: 4 full segments of 1000 and one of 1.
  const auto v4 = PacketBuilder::Ipv4("198.51.100.1", "203.0.113.1")
                      .Tcp(1, 2, 0x10)
                      .TcpOptions({1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})
                      .PayloadSize(4001)
                      .Build();
  ASSERT_EQ(v4.size(), 52u + 4001u);
  EXPECT_EQ(DeriveGsoInfo(v4, static_cast<std::uint32_t>(v4.size()), 0, 1000).segs, 5);
  const auto exact = PacketBuilder::Ipv4("198.51.100.1", "203.0.113.1")
                         .Tcp(1, 2, 0x10)
                         .TcpOptions({1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})
                         .PayloadSize(4000)
                         .Build();
  EXPECT_EQ(DeriveGsoInfo(exact, static_cast<std::uint32_t>(exact.size()), 0, 1000).segs, 4);
  // UDP GSO over IPv6, captured short: the wire length counts.
  const auto v6 =
      PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2").Udp(1, 2).PayloadSize(3000).Build();
  const std::span<const std::uint8_t> head(v6.data(), 64);
  EXPECT_EQ(DeriveGsoInfo(head, static_cast<std::uint32_t>(v6.size()), 0, 1200).segs, 3);
}

// A length near 2^32 (a corrupt or hostile record) must not wrap the
// rounding up into one segment: the count saturates instead.
TEST(GsoInfo, HugeLengthsDoNotWrap) {
  const auto p = PacketBuilder::Ipv4("198.51.100.1", "203.0.113.1").Tcp(1, 2).Build();
  EXPECT_EQ(DeriveGsoInfo(p, 0xffffffffu, 0, 0x10000).segs, 0xffff);
  EXPECT_EQ(DeriveGsoInfo(p, 0xffffffffu, 0, 0x80000000u).segs, 2);
}

TEST(GsoInfo, AtLeastOneSegment) {
  const std::vector<std::uint8_t> junk = {0x00, 0x01};
  const GsoInfo g = DeriveGsoInfo(junk, 2, 0, 1420);
  EXPECT_EQ(g.segs, 1);
  EXPECT_EQ(g.size, 1420);
}

TEST(GsoInfo, KernelReleases) {
  EXPECT_TRUE(KernelAtLeast("6.2.0", 6, 2));
  EXPECT_TRUE(KernelAtLeast("6.18.1-amd64", 6, 2));
  EXPECT_TRUE(KernelAtLeast("7.0", 6, 2));
  EXPECT_FALSE(KernelAtLeast("6.1.0-57-amd64", 6, 2));
  EXPECT_FALSE(KernelAtLeast("5.10.0-46-amd64", 6, 2));
  EXPECT_FALSE(KernelAtLeast("", 6, 2));
}

TEST(GsoInfo, VnetHeaderGivesTheSize) {
  const auto p =
      PacketBuilder::Ipv4("198.51.100.1", "203.0.113.1").Tcp(1, 2).PayloadSize(2840).Build();
  // flags, gso_type TCPV4 (1), hdr_len, gso_size 1420 (little-endian), csum.
  const std::uint8_t tcp[kVnetHeaderBytes] = {1, 1, 40, 0, 0x8c, 0x05, 20, 0, 16, 0};
  GsoInfo g = ReadVnetGso(tcp, p, static_cast<std::uint32_t>(p.size()));
  EXPECT_EQ(g.segs, 2);
  EXPECT_EQ(g.size, 1420);
  const std::uint8_t none[kVnetHeaderBytes] = {};
  g = ReadVnetGso(none, p, static_cast<std::uint32_t>(p.size()));
  EXPECT_EQ(g.segs, 0);
  EXPECT_EQ(g.size, 0);
}

} // namespace
} // namespace wgcap
