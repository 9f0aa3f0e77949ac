// SPDX-License-Identifier: Apache-2.0
// `proto N` and `protochain N` (issue 23) against libpcap, in process and end
// to end (`wgcap -r` against `tcpdump -r`), on the packets where libpcap's
// rule and ours are the same rule. Where they intentionally differ, and so
// no packet here goes:
// - `proto N` on IPv6: libpcap looks at the IPv6 Next Header and, behind a
//   leading fragment header, at the fragment's; wgcap compares the protocol
//   after the whole walk and every header the walk met. So `proto 6` is true
//   for TCP behind a hop-by-hop, routing, destination options or AH header
//   here and false in tcpdump; only packets with no extension header or one
//   leading fragment header are compared for `proto`.
// - `protochain N` past an AH header: libpcap's AH step sets the offset to
//   (len + 2) * 4 instead of adding it, so a header after the one an AH
//   names is read at the wrong place; here AH is only ever the last
//   extension header (on IPv4, at most one AH).
// - `protochain N` beyond 8 extension headers (wgcap stops, libpcap walks on),
//   through a later IPv6 fragment's payload (libpcap walks on into the
//   payload, wgcap stops at the fragment header), on IPv4 later fragments
//   (libpcap reads the payload as an AH header), and on truncated chains
//   (libpcap rejects the whole packet, wgcap makes the term false).
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "support/libpcap_reference.hpp"
#include "support/packet_builder.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::test {
namespace {

constexpr std::array<int, 11> kNumbers = {0, 1, 6, 17, 43, 44, 47, 51, 58, 59, 60};

// An IPv4 AH header (12-byte ICV) naming `next`, then 8 bytes of its payload.
Bytes AhThen(std::uint8_t next) {
  Bytes h(32, 0);
  h[0] = next;
  h[1] = 4;
  h[24] = 0x04; // ports 1234 → 443 if read as TCP/UDP
  h[25] = 0xd2;
  h[26] = 0x01;
  h[27] = 0xbb;
  return h;
}

PacketBuilder V6() {
  return PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2");
}
PacketBuilder V4() {
  return PacketBuilder::Ipv4("192.0.2.1", "198.51.100.2");
}

// No extension header, or one leading fragment header: `proto` agrees.
std::vector<Bytes> ProtoPackets() {
  return {
      V4().Tcp(1234, 443).Build(),
      V4().Udp(53, 53).Build(),
      V4().Icmp(8, 0, 1, 1).Build(),
      V4().Protocol(47, {0, 0, 8, 0}).Build(),
      V4().Protocol(51, AhThen(6)).Build(),
      V6().Tcp(1234, 443).Build(),
      V6().Udp(53, 53).Build(),
      V6().Icmp6(128, 0, 1, 1).Build(),
      V6().Ipv6Fragment(0, true).Tcp(1234, 443).Build(),
      V6().Ipv6Fragment(0, true).Udp(53, 53).Build(),
      V6().Ipv6Fragment(100, false).Udp(53, 53).Build(),
  };
}

// Chains both walk the same way: `protochain` agrees.
std::vector<Bytes> ChainPackets() {
  std::vector<Bytes> v = ProtoPackets();
  v.push_back(V6().Ipv6Extension(51, 4).Tcp(1234, 443).Build());
  v.push_back(V6().Ipv6Extension(51, 4).Icmp6(128, 0, 1, 1).Build());
  v.push_back(V6().Ipv6Extension(0).Tcp(80, 80).Build());
  v.push_back(V6().Ipv6Extension(60, 1).Udp(53, 53).Build());
  v.push_back(V6().Ipv6Extension(43).Tcp(80, 80).Build());
  v.push_back(V6().Ipv6Extension(0).Ipv6Extension(60).Udp(7, 7).Build());
  v.push_back(V6().Ipv6Extension(0).Ipv6Extension(43).Ipv6Fragment(0, true).Tcp(1, 2).Build());
  v.push_back(V6().Ipv6Extension(0).Ipv6Extension(43).Ipv6Extension(51, 4).Udp(9, 9).Build());
  v.push_back(V4().Protocol(51, AhThen(17)).Build());
  return v;
}

std::vector<std::string> Expressions(const std::string& keyword) {
  std::vector<std::string> out;
  for (const char* qualifier : {"", "ip ", "ip6 "}) {
    for (int n : kNumbers) {
      out.push_back(qualifier + keyword + " " + std::to_string(n));
    }
  }
  out.push_back("not " + keyword + " 6");
  out.push_back(keyword + " 6 or " + keyword + " 17");
  return out;
}

void CompareInProcess(const std::string& keyword, const std::vector<Bytes>& packets) {
  const PcapHandle dead(pcap_open_dead(DLT_RAW, 65535));
  int matched = 0;
  for (const std::string& expression : Expressions(keyword)) {
    const LibpcapFilter reference(dead.get(), expression);
    ASSERT_TRUE(reference.ok() || reference.rejects_all())
        << expression << ": " << reference.error();
    auto ours = ParseFilter(expression);
    ASSERT_TRUE(ours.ok()) << expression << ": " << ours.error().message;
    for (const Bytes& p : packets) {
      const bool want = !reference.rejects_all() && reference.Matches(p);
      EXPECT_EQ((*ours)->Match(p, static_cast<std::uint32_t>(p.size())), want) << expression << "\n"
                                                                               << Summary(p) << "\n"
                                                                               << Hex(p);
      matched += want ? 1 : 0;
    }
  }
  EXPECT_GT(matched, 20);
}

TEST(ProtochainDifferential, ProtoAgreesWithLibpcapWithoutExtensionsOrBehindOneFragment) {
  CompareInProcess("proto", ProtoPackets());
}

TEST(ProtochainDifferential, ProtochainAgreesWithLibpcapOnChainsBothWalk) {
  CompareInProcess("protochain", ChainPackets());
}

TEST(ProtochainDifferential, WgcapRSelectsWhatTcpdumpRSelects) {
  if (!HaveTcpdump()) {
    GTEST_SKIP() << "tcpdump is not installed";
  }
  TempDir dir;
  const std::vector<Bytes> packets = ChainPackets();
  const std::string input = dir.File("chains.pcap");
  ASSERT_NO_FATAL_FAILURE(WriteInput(input, packets));
  std::size_t selected = 0;
  for (const char* e : {"protochain 6", "ip6 protochain 51", "ip protochain 17", "protochain 44",
                        "not protochain 60"}) {
    selected += CompareBinaries(dir, input, packets, e, 23).records.size();
  }
  EXPECT_GT(selected, 0u);
}

} // namespace
} // namespace wgcap::test
