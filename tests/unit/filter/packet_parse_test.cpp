// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "support/packet_builder.hpp"
#include "wgcap/packet_parse.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;

ParsedPacket Parse(const std::vector<std::uint8_t>& bytes, std::size_t keep = SIZE_MAX) {
  const std::size_t n = std::min(keep, bytes.size());
  return ParsePacket(std::span(bytes.data(), n), static_cast<std::uint32_t>(bytes.size()));
}

TEST(PacketParse, Ipv4Tcp) {
  const auto p =
      Parse(PacketBuilder::Ipv4("192.0.2.1", "198.51.100.2").Tcp(1234, 443).Ttl(9).Id(77).Build());
  EXPECT_EQ(p.family, 4);
  EXPECT_TRUE(p.has_protocol);
  EXPECT_EQ(p.protocol, kProtoTcp);
  ASSERT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 1234);
  EXPECT_EQ(p.dst_port, 443);
  EXPECT_EQ(p.src[0], 192);
  EXPECT_EQ(p.dst[3], 2);
  EXPECT_EQ(p.transport_offset, 20u);
  EXPECT_EQ(p.ttl, 9);
  EXPECT_EQ(p.ip_id, 77);
  EXPECT_EQ(p.ip_length, 40u);
  EXPECT_FALSE(p.is_fragment);
}

TEST(PacketParse, Ipv4OptionsMoveTheTransportHeader) {
  const auto p =
      Parse(PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Ipv4Options(12).Udp(53, 5353).Build());
  EXPECT_EQ(p.transport_offset, 32u);
  ASSERT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 53);
  EXPECT_EQ(p.dst_port, 5353);
}

TEST(PacketParse, Ipv4FirstFragmentHasPortsLaterOnesDoNot) {
  const auto first =
      Parse(PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Ipv4Fragment(0, true).Udp(1, 2).Build());
  EXPECT_TRUE(first.is_fragment);
  EXPECT_TRUE(first.has_ports);
  const auto later = Parse(
      PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Ipv4Fragment(185, false).Udp(1, 2).Build());
  EXPECT_TRUE(later.is_fragment);
  EXPECT_EQ(later.fragment_offset, 185);
  EXPECT_EQ(later.protocol, kProtoUdp);
  EXPECT_FALSE(later.has_ports);
}

TEST(PacketParse, Ipv4BadOrTruncatedHeaderIsNotIp) {
  const auto pkt = PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Ipv4Options(8).Tcp(1, 2).Build();
  EXPECT_EQ(Parse(pkt, 19).family, 0) << "fixed header cut";
  EXPECT_EQ(Parse(pkt, 27).family, 0) << "options cut";
  EXPECT_EQ(Parse(pkt, 28).family, 4) << "header complete";
  EXPECT_FALSE(Parse(pkt, 28).has_ports) << "no transport bytes";
  EXPECT_FALSE(Parse(pkt, 31).has_ports) << "3 of 4 port bytes";
  EXPECT_TRUE(Parse(pkt, 32).has_ports) << "exactly 4 port bytes";
  const auto bad_ihl = PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Ipv4Ihl(4).Tcp(1, 2).Build();
  EXPECT_EQ(Parse(bad_ihl).family, 0) << "IHL < 5";
}

TEST(PacketParse, PortsOnlyForTcpUdpSctp) {
  const auto sctp = Parse(PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2")
                              .Protocol(132, {0x0f, 0xa0, 0x00, 0x50})
                              .Build());
  EXPECT_TRUE(sctp.has_ports);
  EXPECT_EQ(sctp.src_port, 4000);
  EXPECT_EQ(sctp.dst_port, 80);
  const auto gre =
      Parse(PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Protocol(47, {0, 0, 8, 0}).Build());
  EXPECT_FALSE(gre.has_ports);
  EXPECT_EQ(gre.protocol, 47);
  const auto icmp = Parse(PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Icmp(8, 0, 1, 1).Build());
  EXPECT_FALSE(icmp.has_ports);
}

TEST(PacketParse, Ipv6Plain) {
  const auto p =
      Parse(PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2").Udp(5000, 53).Ttl(3).Build());
  EXPECT_EQ(p.family, 6);
  EXPECT_EQ(p.protocol, kProtoUdp);
  EXPECT_EQ(p.src_port, 5000);
  EXPECT_EQ(p.dst[15], 2);
  EXPECT_EQ(p.ttl, 3);
  EXPECT_EQ(p.ip_id, 0);
  EXPECT_EQ(p.ip_length, 48u);
  EXPECT_EQ(Parse(PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2").Udp(1, 2).Build(), 39).family,
            0);
}

TEST(PacketParse, Ipv6ExtensionChainIsWalked) {
  const auto p = Parse(PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2")
                           .Ipv6Extension(0, 1)   // hop-by-hop, 16 bytes
                           .Ipv6Extension(43, 0)  // routing, 8
                           .Ipv6Extension(60, 2)  // destination options, 24
                           .Ipv6Extension(51, 4)  // AH, 24
                           .Ipv6Fragment(0, true) // first fragment, 8
                           .Tcp(22, 40000)
                           .Build());
  EXPECT_EQ(p.protocol, kProtoTcp);
  EXPECT_EQ(p.transport_offset, 40u + 16 + 8 + 24 + 24 + 8);
  EXPECT_TRUE(p.walk_complete);
  EXPECT_TRUE(p.is_fragment);
  ASSERT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 22);
}

TEST(PacketParse, Ipv6LaterFragmentHasNoPorts) {
  const auto p = Parse(PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2")
                           .Ipv6Fragment(100, false)
                           .Udp(53, 53)
                           .Build());
  EXPECT_EQ(p.protocol, kProtoUdp);
  EXPECT_EQ(p.fragment_offset, 100);
  EXPECT_FALSE(p.has_ports);
}

TEST(PacketParse, Ipv6WalkLimitIsEightHeaders) {
  auto eight = PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2");
  for (int i = 0; i < 8; ++i) {
    eight.Ipv6Extension(60, 0);
  }
  const auto ok = Parse(eight.Tcp(1, 2).Build());
  EXPECT_EQ(ok.protocol, kProtoTcp);
  EXPECT_TRUE(ok.has_ports);
  auto nine = PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2");
  for (int i = 0; i < 9; ++i) {
    nine.Ipv6Extension(60, 0);
  }
  const auto over = Parse(nine.Tcp(1, 2).Build());
  EXPECT_EQ(over.family, 6);
  EXPECT_EQ(over.protocol, 60) << "the last Next Header read";
  EXPECT_FALSE(over.has_ports);
  EXPECT_FALSE(over.walk_complete);
}

TEST(PacketParse, Ipv6TruncatedWalk) {
  const auto pkt = PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2")
                       .Ipv6Extension(0, 1)
                       .Ipv6Extension(43, 0)
                       .Udp(7, 9)
                       .Build();
  const auto cut_in_first = Parse(pkt, 41);
  EXPECT_EQ(cut_in_first.family, 6);
  EXPECT_EQ(cut_in_first.protocol, 0) << "hop-by-hop's Next Header was not captured";
  EXPECT_FALSE(cut_in_first.has_ports);
  const auto cut_in_second = Parse(pkt, 57);
  EXPECT_EQ(cut_in_second.protocol, 43);
  EXPECT_FALSE(cut_in_second.has_ports);
  const auto cut_in_ports = Parse(pkt, 40 + 16 + 8 + 3);
  EXPECT_EQ(cut_in_ports.protocol, kProtoUdp);
  EXPECT_FALSE(cut_in_ports.has_ports);
  EXPECT_TRUE(Parse(pkt, 40 + 16 + 8 + 4).has_ports);
}

TEST(PacketParse, NotIp) {
  const std::vector<std::uint8_t> arp = {0x00, 0x01, 0x08, 0x00, 0x06, 0x04};
  EXPECT_EQ(Parse(arp).family, 0);
  EXPECT_EQ(ParsePacket({}, 60).original_length, 60u);
  EXPECT_EQ(ParsePacket({}).family, 0);
}

TEST(PacketParse, OriginalLengthDefaultsToCaptured) {
  const auto pkt = PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Udp(1, 2).PayloadSize(100).Build();
  EXPECT_EQ(ParsePacket(pkt).original_length, pkt.size());
  EXPECT_EQ(ParsePacket(std::span(pkt.data(), 40), 1500).original_length, 1500u);
  EXPECT_EQ(ParsePacket(std::span(pkt.data(), 40), 1500).captured_length, 40u);
}

} // namespace
} // namespace wgcap
