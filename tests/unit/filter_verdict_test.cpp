// SPDX-License-Identifier: Apache-2.0
// Expression × packet → verdict tables covering every term, every operator,
// precedence, implicit "and" and each absent-field rule of SPEC section 1.
// Each row lists the packets that must match; every other packet must not.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "support/packet_builder.hpp"
#include "support/verdict_packets.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

struct Row {
  const char* expression;
  const char* matches; // space-separated packet names, or "*" for all
};

std::set<std::string> Names(const std::string& list) {
  std::set<std::string> out;
  if (list == "*") {
    for (const auto& p : test::VerdictPackets()) {
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

const char* const kIpv4 = "t4 u4 i4 o4 f4a f4b g4 sc4 trunc4";
const char* const kIpv6 = "t6 u6 c6 x6 x6f x6long x6trunc v6mapped";

std::string Union(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) {
    out += p + " ";
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Rows() {
  return {
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
      {"proto 60", "x6long"},
      {"proto 0", "x6trunc"},
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
  };
}

TEST(FilterVerdicts, EveryRowAgainstEveryPacket) {
  int checked = 0;
  for (const auto& [expression, matches] : Rows()) {
    auto matcher = ParseFilter(expression);
    ASSERT_TRUE(matcher.ok()) << expression << ": " << matcher.error().message;
    const std::set<std::string> want = Names(matches);
    for (const auto& p : test::VerdictPackets()) {
      const bool got = (*matcher)->Match(p.captured(), p.original_length());
      EXPECT_EQ(got, want.count(p.name) == 1)
          << "expression: " << expression << "\npacket: " << p.name;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(FilterVerdicts, RowsNameOnlyKnownPackets) {
  std::set<std::string> known = Names("*");
  for (const auto& [expression, matches] : Rows()) {
    for (const auto& name : Names(matches)) {
      EXPECT_EQ(known.count(name), 1u) << expression << " names unknown packet " << name;
    }
  }
}

} // namespace
} // namespace wgcap
