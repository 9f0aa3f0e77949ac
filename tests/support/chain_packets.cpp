// SPDX-License-Identifier: Apache-2.0
// The header-chain verdict table (issue 23): `proto N` finding IPv6
// extension headers, `protochain N` over the IPv6 walk and IPv4 AH, chains
// of 8 and 9 headers, cut chains. Its own packets, so the main table's rows
// keep their lists; every evaluator's test runs both tables.
#include <vector>

#include "support/packet_builder.hpp"
#include "support/verdict_packets.hpp"

namespace wgcap::test {
namespace {

using B = PacketBuilder;

NamedPacket Whole(std::string name, std::vector<std::uint8_t> bytes) {
  const std::size_t n = bytes.size();
  return NamedPacket{std::move(name), std::move(bytes), n};
}

NamedPacket Cut(std::string name, std::vector<std::uint8_t> bytes, std::size_t captured) {
  return NamedPacket{std::move(name), std::move(bytes), captured};
}

// An AH header (RFC 4302, 12-byte ICV: payload len 4, 24 bytes) announcing `next`.
std::vector<std::uint8_t> Ah(std::uint8_t next) {
  std::vector<std::uint8_t> h(24, 0);
  h[0] = next;
  h[1] = 4;
  h[7] = 0x42; // SPI
  h[11] = 1;   // sequence number
  return h;
}

// The transport header and payload of a packet built by PacketBuilder.
std::vector<std::uint8_t> TransportOf(const std::vector<std::uint8_t>& ipv4) {
  return {ipv4.begin() + 20, ipv4.end()};
}

std::vector<std::uint8_t> Cat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<NamedPacket> Build() {
  const std::string s6 = "2001:db8:c::1", d6 = "2001:db8:c::2";
  std::vector<NamedPacket> v;
  v.push_back(Whole("ch6tcp", B::Ipv6(s6, d6).Tcp(1000, 80).Build()));
  v.push_back(Whole("ch6hop", B::Ipv6(s6, d6).Ipv6Extension(0).Tcp(80, 8080).Build()));
  v.push_back(Whole("ch6rt", B::Ipv6(s6, d6).Ipv6Extension(43, 1).Udp(53, 53).Build()));
  v.push_back(Whole("ch6frag", B::Ipv6(s6, d6).Ipv6Fragment(0, true).Udp(5353, 5353).Build()));
  v.push_back(Whole("ch6fragb", B::Ipv6(s6, d6).Ipv6Fragment(100, false).Udp(53, 53).Build()));
  v.push_back(Whole("ch6dst", B::Ipv6(s6, d6).Ipv6Extension(60).Icmp6(128, 0, 1, 1).Build()));
  v.push_back(Whole("ch6ah", B::Ipv6(s6, d6).Ipv6Extension(51, 4).Tcp(1234, 443).Build()));
  v.push_back(Whole("ch6mix", B::Ipv6(s6, d6)
                                  .Ipv6Extension(0)
                                  .Ipv6Extension(43)
                                  .Ipv6Fragment(0, false)
                                  .Ipv6Extension(51, 4)
                                  .Ipv6Extension(60)
                                  .Tcp(22, 22)
                                  .Build()));
  // Exactly 8 extension headers: the walk ends, UDP with ports.
  auto eight = B::Ipv6(s6, d6);
  for (std::uint8_t type : {0, 43, 60, 60, 51, 60, 43, 60}) {
    eight.Ipv6Extension(type, type == 51 ? 4 : 0);
  }
  v.push_back(Whole("ch6eight", eight.Udp(7, 7).Build()));
  // Nine: the walk stops at the ninth; the protocol is 60 and TCP is not
  // in the chain as walked.
  auto nine = B::Ipv6(s6, d6).Ipv6Extension(0);
  for (int i = 0; i < 8; ++i) {
    nine.Ipv6Extension(60);
  }
  v.push_back(Whole("ch6nine", nine.Tcp(80, 80).Build()));
  // Hop-by-hop, then a routing header cut after its first byte: protocol 43.
  v.push_back(
      Cut("ch6trunc", B::Ipv6(s6, d6).Ipv6Extension(0).Ipv6Extension(43).Tcp(80, 80).Build(), 49));

  const auto tcp = TransportOf(B::Ipv4("192.0.2.1", "198.51.100.2").Tcp(1234, 443).Build());
  const auto udp = TransportOf(B::Ipv4("192.0.2.1", "198.51.100.2").Udp(500, 500).Build());
  v.push_back(Whole("ch4tcp", B::Ipv4("192.0.2.1", "198.51.100.2").Tcp(1234, 443).Build()));
  v.push_back(
      Whole("ch4ah", B::Ipv4("192.0.2.1", "198.51.100.2").Protocol(51, Cat(Ah(6), tcp)).Build()));
  v.push_back(Whole(
      "ch4ahah",
      B::Ipv4("192.0.2.1", "198.51.100.2").Protocol(51, Cat(Cat(Ah(51), Ah(17)), udp)).Build()));
  v.push_back(Cut("ch4ahtrunc",
                  B::Ipv4("192.0.2.1", "198.51.100.2").Protocol(51, Cat(Ah(6), tcp)).Build(), 21));
  // A later fragment: its payload is not a header, whatever it looks like.
  v.push_back(Whole("ch4ahfrag", B::Ipv4("192.0.2.1", "198.51.100.2")
                                     .Ipv4Fragment(100, false)
                                     .Protocol(51, Cat(Ah(6), tcp))
                                     .Build()));
  return v;
}

} // namespace

const std::vector<NamedPacket>& ChainVerdictPackets() {
  static const std::vector<NamedPacket> packets = Build();
  return packets;
}

const std::vector<std::pair<std::string, std::string>>& ChainVerdictRows() {
  static const std::vector<std::pair<std::string, std::string>> rows = {
      // proto N: the upper-layer protocol, or a header the IPv6 walk met
      {"proto 6", "ch6tcp ch6hop ch6ah ch6mix ch4tcp"},
      {"tcp", "ch6tcp ch6hop ch6ah ch6mix ch4tcp"},
      {"proto 17", "ch6rt ch6frag ch6fragb ch6eight"},
      {"proto 51", "ch6ah ch6mix ch6eight ch4ah ch4ahah ch4ahtrunc ch4ahfrag"},
      {"ip6 proto 51", "ch6ah ch6mix ch6eight"},
      {"ip proto 51", "ch4ah ch4ahah ch4ahtrunc ch4ahfrag"},
      {"proto 44", "ch6frag ch6fragb ch6mix"},
      {"proto 0", "ch6hop ch6mix ch6eight ch6nine ch6trunc"},
      {"proto 43", "ch6rt ch6mix ch6eight ch6trunc"},
      {"proto 60", "ch6dst ch6mix ch6eight ch6nine"},
      {"not proto 44", "ch6tcp ch6hop ch6rt ch6dst ch6ah ch6eight ch6nine ch6trunc ch4tcp ch4ah "
                       "ch4ahah ch4ahtrunc ch4ahfrag"},
      // protochain N: anywhere in the walked chain, the last Next Header too
      {"protochain 6", "ch6tcp ch6hop ch6ah ch6mix ch4tcp ch4ah"},
      {"protochain \\tcp", "ch6tcp ch6hop ch6ah ch6mix ch4tcp ch4ah"},
      {"protochain 17", "ch6rt ch6frag ch6fragb ch6eight ch4ahah"},
      {"protochain 51", "ch6ah ch6mix ch6eight ch4ah ch4ahah ch4ahtrunc ch4ahfrag"},
      {"protochain \\ah", "ch6ah ch6mix ch6eight ch4ah ch4ahah ch4ahtrunc ch4ahfrag"},
      {"protochain 44", "ch6frag ch6fragb ch6mix"},
      {"protochain 0", "ch6hop ch6mix ch6eight ch6nine ch6trunc"},
      {"protochain 43", "ch6rt ch6mix ch6eight ch6trunc"},
      {"protochain 60", "ch6dst ch6mix ch6eight ch6nine"},
      {"protochain ipv6-icmp", "ch6dst"},
      {"ip protochain 6", "ch4tcp ch4ah"},
      {"ip6 protochain 6", "ch6tcp ch6hop ch6ah ch6mix"},
      {"ip6 protochain 51", "ch6ah ch6mix ch6eight"},
      {"not protochain 6", "ch6rt ch6frag ch6fragb ch6dst ch6eight ch6nine ch6trunc ch4ahah "
                           "ch4ahtrunc ch4ahfrag"},
      {"protochain 6 or 17", "ch6tcp ch6hop ch6ah ch6mix ch4tcp ch4ah ch6rt ch6frag ch6fragb "
                             "ch6eight ch4ahah"},
      {"protochain 51 and port 443", "ch6ah"},
      {"protochain 51 and protochain 60 and not proto 44", "ch6eight"},
      {"protochain 58 or proto 43", "ch6dst ch6rt ch6mix ch6eight ch6trunc"},
  };
  return rows;
}

const std::vector<VerdictTable>& VerdictTables() {
  static const std::vector<VerdictTable> tables = {
      {"main", &VerdictRows(), &VerdictPackets()},
      {"chain", &ChainVerdictRows(), &ChainVerdictPackets()},
  };
  return tables;
}

} // namespace wgcap::test
