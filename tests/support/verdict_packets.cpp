// SPDX-License-Identifier: Apache-2.0
#include "support/verdict_packets.hpp"

#include "support/packet_builder.hpp"

namespace wgcap::test {
namespace {

NamedPacket Whole(std::string name, std::vector<std::uint8_t> bytes) {
  const std::size_t n = bytes.size();
  return NamedPacket{std::move(name), std::move(bytes), n};
}

std::vector<NamedPacket> Build() {
  using B = PacketBuilder;
  std::vector<NamedPacket> v;
  v.push_back(
      Whole("t4", B::Ipv4("192.0.2.1", "198.51.100.2").Tcp(1234, 443).PayloadSize(100).Build()));
  v.push_back(
      Whole("u4", B::Ipv4("192.0.2.1", "203.0.113.5").Udp(53000, 53).PayloadSize(20).Build()));
  v.push_back(Whole("i4", B::Ipv4("198.51.100.2", "192.0.2.1").Icmp(8, 0, 7, 1).Build()));
  v.push_back(Whole("o4", B::Ipv4("192.0.2.9", "192.0.2.1").Ipv4Options(8).Tcp(22, 40000).Build()));
  v.push_back(Whole("f4a", B::Ipv4("203.0.113.5", "192.0.2.1")
                               .Ipv4Fragment(0, true)
                               .Udp(5353, 5353)
                               .PayloadSize(8)
                               .Build()));
  // A later fragment whose payload happens to look like ports 53 → 53.
  v.push_back(Whole(
      "f4b", B::Ipv4("203.0.113.5", "192.0.2.1").Ipv4Fragment(100, false).Udp(53, 53).Build()));
  v.push_back(Whole("g4", B::Ipv4("192.0.2.1", "198.51.100.2").Protocol(47, {0, 0, 8, 0}).Build()));
  v.push_back(
      Whole("sc4",
            B::Ipv4("203.0.113.7", "203.0.113.8").Protocol(132, {0x0f, 0xa0, 0x00, 0x50}).Build()));
  // TCP whose ports were not captured (22 of 140 bytes).
  auto trunc4 =
      Whole("trunc4", B::Ipv4("192.0.2.1", "198.51.100.2").Tcp(1234, 443).PayloadSize(100).Build());
  trunc4.captured_bytes = 22;
  v.push_back(trunc4);
  v.push_back(Whole("t6", B::Ipv6("2001:db8::1", "2001:db8:1::2").Tcp(443, 50000).Build()));
  v.push_back(Whole("u6", B::Ipv6("2001:db8::2", "2001:db8::1").Udp(5353, 53).Build()));
  v.push_back(Whole("c6", B::Ipv6("2001:db8::1", "2001:db8::2").Icmp6(128, 0, 1, 1).Build()));
  v.push_back(Whole("x6", B::Ipv6("2001:db8::3", "2001:db8::4")
                              .Ipv6Extension(0)
                              .Ipv6Extension(60)
                              .Tcp(80, 8080)
                              .Build()));
  v.push_back(Whole(
      "x6f", B::Ipv6("2001:db8::5", "2001:db8::1").Ipv6Fragment(100, false).Udp(53, 53).Build()));
  auto long_chain = B::Ipv6("2001:db8::6", "2001:db8::7");
  for (int i = 0; i < 9; ++i) {
    long_chain.Ipv6Extension(60);
  }
  v.push_back(Whole("x6long", long_chain.Tcp(80, 80).Build()));
  // Hop-by-hop header announced but not captured: protocol is 0, no ports.
  auto x6trunc = Whole(
      "x6trunc", B::Ipv6("2001:db8::8", "2001:db8::9").Ipv6Extension(0, 1).Tcp(80, 80).Build());
  x6trunc.captured_bytes = 41;
  v.push_back(x6trunc);
  v.push_back(
      Whole("v6mapped", B::Ipv6("::ffff:192.0.2.1", "2001:db8::1").Udp(1000, 2000).Build()));
  v.push_back(Whole("arp", {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01}));
  // A frame whose link layer said "not IP": no network bytes, 60 on the wire.
  v.push_back(NamedPacket{"empty", std::vector<std::uint8_t>(60, 0), 0});
  return v;
}

} // namespace

const std::vector<NamedPacket>& VerdictPackets() {
  static const std::vector<NamedPacket> packets = Build();
  return packets;
}

} // namespace wgcap::test
