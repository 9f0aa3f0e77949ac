// SPDX-License-Identifier: Apache-2.0
#include "support/verdict_packets.hpp"

#include <sstream>

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

const char* const kIpv4 = "t4 u4 i4 o4 f4a f4b g4 sc4 trunc4";
const char* const kIpv6 = "t6 u6 c6 x6 x6f x6long x6trunc v6mapped";

std::string Union(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) {
    out += p + " ";
  }
  return out;
}

} // namespace

std::set<std::string> MatchingNames(const std::string& list) {
  std::set<std::string> out;
  if (list == "*") {
    for (const auto& p : VerdictPackets()) {
      out.insert(p.name);
    }
    return out;
  }
  std::istringstream in(list);
  for (std::string name; in >> name;) {
    out.insert(name);
  }
  return out;
}

const std::vector<std::pair<std::string, std::string>>& VerdictRows() {
  static const std::vector<std::pair<std::string, std::string>> rows = {
      {"", "*"},
      // protocols and families
      {"tcp", "t4 o4 t6 x6 trunc4"},
      {"udp", "u4 f4a f4b u6 x6f v6mapped"},
      {"icmp", "i4"},
      {"icmp6", "c6"},
      {"ip", kIpv4},
      {"ip6", kIpv6},
      {"proto 47", "g4"},
      {"proto 132", "sc4"},
      {"proto 60", "x6 x6long"}, // an extension header met in the walk, or the protocol
      {"proto 0", "x6 x6trunc"},
      {"proto 17", "u4 f4a f4b u6 x6f v6mapped"},
      // hosts and nets, never across families, mapped addresses as IPv4
      {"host 192.0.2.1", "t4 u4 i4 o4 f4a f4b g4 trunc4"},
      {"host ::ffff:192.0.2.1", "t4 u4 i4 o4 f4a f4b g4 trunc4"},
      {"src host 192.0.2.1", "t4 u4 g4 trunc4"},
      {"dst 192.0.2.1", "i4 o4 f4a f4b"},
      {"host 2001:db8::1", "t6 u6 c6 x6f v6mapped"},
      {"net 198.51.100.0/24", "t4 i4 g4 trunc4"},
      {"net 198.51.100.77/24", "t4 i4 g4 trunc4"},
      {"src net 192.0.2.0/28", "t4 u4 o4 g4 trunc4"},
      {"net 2001:db8::/32", kIpv6},
      {"net 2001:db8:1::/48", "t6"},
      {"net 0.0.0.0/0", kIpv4},
      {"net ::/0", kIpv6},
      // ports: only TCP/UDP/SCTP, first fragments, 4 bytes captured
      {"port 443", "t4 t6"},
      {"port 53", "u4 u6"},
      {"src port 5353", "f4a u6"},
      {"dst port 53", "u4 u6"},
      {"port 22", "o4"},
      {"not port 22",
       "t4 u4 i4 f4a f4b g4 sc4 trunc4 t6 u6 c6 x6 x6f x6long x6trunc v6mapped arp empty"},
      {"port 80", "x6 sc4"},
      {"portrange 8000-9000", "x6"},
      {"portrange 1-1024", "t4 u4 o4 sc4 t6 u6 x6 v6mapped"},
      {"src portrange 1000-2000", "t4 v6mapped"},
      {"dst portrange 1000-2000", "v6mapped"},
      // lengths are the original (wire) length
      {"less 48", "u4 i4 o4 f4a f4b g4 sc4 u6 c6 v6mapped arp"},
      {"greater 100", "t4 x6long trunc4"},
      {"greater 48 and less 48", "u4 o4 u6 c6 v6mapped"},
      // operators, precedence, implicit and
      {"tcp port 443", "t4 t6"},
      {"tcp or udp and port 53", "t4 o4 t6 x6 trunc4 u4 u6"},
      {"(tcp or udp) and port 53", "u4 u6"},
      {"not tcp and not udp", "i4 g4 sc4 c6 x6long x6trunc arp empty"},
      {"not (tcp or udp)", "i4 g4 sc4 c6 x6long x6trunc arp empty"},
      {"ip and not icmp", "t4 u4 o4 f4a f4b g4 sc4 trunc4"},
      {"ip6 && icmp6 || ip && icmp", "c6 i4"},
      {"!ip && !ip6", "arp empty"},
      {"host 192.0.2.1 and host 198.51.100.2", "t4 i4 g4 trunc4"},
      {"src 192.0.2.1 dst 198.51.100.2", "t4 g4 trunc4"},
      {"not src net 192.0.2.0/24",
       "i4 f4a f4b sc4 t6 u6 c6 x6 x6f x6long x6trunc v6mapped arp empty"},
      {"host 2001:db8::1 or host 192.0.2.1",
       Union({"t6 u6 c6 x6f v6mapped", "t4 u4 i4 o4 f4a f4b g4 trunc4"})},
      {"icmp or icmp6", "i4 c6"},
      {"proto 6 and not port 443", "o4 x6 trunc4"},
      {"not not tcp", "t4 o4 t6 x6 trunc4"},
      {"udp and (port 53 or port 5353) and not ip6", "u4 f4a"},
      // qualifier chains, inheritance, service names, masks (SPEC 1
      // "Qualifiers, as tcpdump reads them"): desugared, so every evaluator
      // must agree on them too
      {"not tcp dst port 443",
       "u4 i4 o4 f4a f4b g4 sc4 trunc4 t6 u6 c6 x6 x6f x6long x6trunc v6mapped arp empty"},
      {"ip6 src host 2001:db8::1", "t6 c6"},
      {"udp src or dst portrange 50-60", "u4 u6"},
      {"src and dst net 192.0.2.0/24", "o4"},
      {"src and dst port 5353", "f4a"},
      {"ip6 src or dst net 2001:db8::/126", "t6 u6 c6 x6 x6f v6mapped"},
      {"port 443 or 53", "t4 u4 t6 u6"},
      {"host 192.0.2.9 or 2001:db8::3", "o4 x6"},
      {"not host 192.0.2.9 and 192.0.2.1", "t4 u4 i4 f4a f4b g4 trunc4"},
      {"tcp dst port 443 or 40000", "t4 o4"},
      {"port 443 and not 1234", "t6"},
      {"host 192.0.2.9 or (203.0.113.7 or 2001:db8::3)", "o4 sc4 x6"},
      {"portrange 1-100 or 443", "t4 u4 o4 sc4 t6 u6 x6"},
      {"udp port 53 or tcp port 22", "u4 u6 o4"},
      {"net 198.51.100.0 mask 255.255.255.0", "t4 i4 g4 trunc4"},
      {"port domain", "u4 u6"},
      {"port https", "t4 t6"},
      {"port ssh", "o4"},
      {"port http", "x6"},
      {"ip proto 47", "g4"},
      {"ip6 proto 6", "t6 x6"},
  };
  return rows;
}

const std::vector<NamedPacket>& VerdictPackets() {
  static const std::vector<NamedPacket> packets = Build();
  return packets;
}

} // namespace wgcap::test
