// SPDX-License-Identifier: Apache-2.0
// The forms libpcap reads that are desugarings into wgcap's terms (issue
// 23): IPv4 addresses in every form libpcap's lexer and gencode take,
// shortened networks, prefixes with blanks around "/", the IP-level
// protocol names with libpcap's family, `\name` escapes, `ip multicast`
// and kin. Each equals its explicit spelling; each refusal names its column
// and why (link layer, names not looked up).
#include <gtest/gtest.h>

#include <netdb.h>

#include "support/filter_canonical.hpp"
#include "support/packet_builder.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

using test::Canonical;
using test::Same;

class LibpcapForms : public ::testing::TestWithParam<Same> {};

TEST_P(LibpcapForms, SameTreeAsExplicitSpelling) {
  EXPECT_EQ(Canonical(GetParam().sugar), Canonical(GetParam().explicit_form)) << GetParam().sugar;
}

INSTANTIATE_TEST_SUITE_P(Ipv4Numbers, LibpcapForms,
                         ::testing::Values(Same{"host 0xc0a8aad3", "host 192.168.170.211"},
                                           Same{"dst 0XAC11591E", "dst host 172.17.89.30"},
                                           Same{"dst 0025404254436", "dst host 172.17.89.30"},
                                           Same{"dst 2886818078", "dst host 172.17.89.30"},
                                           Same{"src net 0xa000002", "src net 10.0.0.2/32"},
                                           Same{"ip src 01200000002", "ip and src host 10.0.0.2"},
                                           Same{"host 010.0.0.1",
                                                "host 10.0.0.1"}, // dotted parts are decimal
                                           Same{"net 0x0a", "net 10.0.0.0/8"}));

INSTANTIATE_TEST_SUITE_P(
    ShortNetworks, LibpcapForms,
    ::testing::Values(
        Same{"net 192.168", "net 192.168.0.0/16"}, Same{"src net 10.0.1", "src net 10.0.1.0/24"},
        Same{"host 10.0.1", "net 10.0.1.0/24"}, // as gencode promotes it
        Same{"dst 10.0.1", "dst net 10.0.1.0/24"}, Same{"src net 10.0.1/24", "src net 10.0.1.0/24"},
        Same{"net 172.16 mask 255.240", "net 172.16.0.0/12"},
        Same{"net 172.16/12", "net 172.16.0.0/12"},
        Same{"net 192.168.0.0 mask 255.255", "net 192.168.0.0/16"},
        Same{"net 10.0.0.2 / 32", "net 10.0.0.2/32"},
        Same{"ip src net 10.0.0.2/  32", "ip and src net 10.0.0.2/32"},
        Same{"net 192.168.170.211 /32", "net 192.168.170.211/32"},
        Same{"net ::1 / 128", "net ::1/128"}, Same{"host 192.0.2.1/32", "host 192.0.2.1"},
        Same{"host 2001:db8::1/128", "host 2001:db8::1"},
        Same{"dst and src 2001:db8::1/128", "src net 2001:db8::1/128 and "
                                            "dst net 2001:db8::1/128"}));

INSTANTIATE_TEST_SUITE_P(
    ProtocolNames, LibpcapForms,
    ::testing::Values(
        Same{"icmp", "ip and proto 1"}, Same{"icmp6", "ip6 and proto 58"},
        Same{"igmp", "ip and proto 2"}, Same{"igrp", "ip and proto 9"}, Same{"pim", "proto 103"},
        Same{"vrrp", "ip and proto 112"}, Same{"carp", "ip and proto 112"},
        Same{"sctp", "proto 132"}, Same{"ah", "proto 51"}, Same{"esp", "proto 50"},
        Same{"sctp port 5672", "proto 132 and port 5672"},
        Same{"sctp src portrange 1023-1", "proto 132 and src portrange 1-1023"},
        Same{"not icmp", "not (ip and proto 1)"}, Same{"ip proto \\tcp", "ip and proto 6"},
        Same{"proto \\udp", "proto 17"}, Same{"ip6 proto \\tcp", "ip6 and tcp"},
        Same{"ip multicast", "dst net 224.0.0.0/3"},
        Same{"ip broadcast", "dst host 0.0.0.0 or dst host 255.255.255.255"},
        Same{"ip6 multicast", "dst net ff00::/8"}, Same{"portrange 25", "portrange 25-25"},
        Same{"tcp port 0x50", "tcp port 80"}, Same{"port 010", "port 8"},
        Same{"portrange 0x10-020", "portrange 16-16"}, Same{"proto 0x11", "udp"},
        Same{"less 0x100", "less 256"},
        // protochain reads numbers and names as proto does
        Same{"protochain 010", "protochain 8"}, Same{"protochain 0x11", "protochain 17"},
        Same{"ip6 protochain \\udp", "ip6 and protochain 17"}));

struct Bad {
  const char* text;
  const char* error;
};

class LibpcapFormErrors : public ::testing::TestWithParam<Bad> {};

TEST_P(LibpcapFormErrors, SaysWhyWithTheColumn) {
  const auto expr = ParseFilterExpression(GetParam().text);
  ASSERT_FALSE(expr.ok()) << GetParam().text;
  EXPECT_EQ(expr.error().message, GetParam().error) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Filter, LibpcapFormErrors,
    ::testing::Values(
        Bad{"host 1.2.3.256", "column 6: invalid IPv4 address '1.2.3.256'"},
        Bad{"host 0x10.1.2.3", "column 6: invalid IPv4 address '0x10.1.2.3'"},
        Bad{"host 10.0.0.0/24", "column 6: Mask syntax for networks only"},
        Bad{"host ::/64", "column 6: Mask syntax for networks only"},
        Bad{"net 10.0.0.0/33", "column 5: invalid prefix length \"33\" for IPv4 (expected 0-32)"},
        Bad{"tcp and host example.com",
            "column 14: \"example.com\": host names are not looked up; give an address"},
        Bad{"net loopnet",
            "column 5: \"loopnet\": network names are not looked up; give a network"},
        Bad{"ether host 1.2.3.4", "column 1: \"ether\" needs a link layer: wgcap captures raw IP"},
        Bad{"tcp or arp", "column 8: \"arp\" needs a link layer: wgcap captures raw IP"},
        Bad{"vlan 10", "column 1: \"vlan\" needs a link layer: wgcap captures raw IP"},
        Bad{"geneve", "column 1: \"geneve\" needs a link layer: wgcap captures raw IP"},
        Bad{"link host 1", "column 1: \"link\" needs a link layer: wgcap captures raw IP"},
        Bad{"not multicast",
            "column 5: \"multicast\" needs a link layer: wgcap captures raw IP (write \"ip "
            "multicast\" or \"ip6 multicast\")"},
        Bad{"broadcast", "column 1: \"broadcast\" needs a link layer: wgcap captures raw IP "
                         "(write \"ip broadcast\")"},
        Bad{"ip6 broadcast", "column 5: only link-layer/IP broadcast filters supported"},
        Bad{"proto tcp",
            "column 7: expected a protocol number after \"proto\", got \"tcp\" (a keyword; "
            "write \\tcp for the name)"},
        Bad{"proto \\nosuchproto", "column 7: unknown ip proto 'nosuchproto'"},
        Bad{"igmp host 1.2.3.4", "column 1: 'igmp' modifier applied to host"},
        Bad{"pim port 1", "column 1: illegal qualifier of 'port'"},
        Bad{"vrrp proto 1", "column 1: 'vrrp proto' is bogus"},
        // link[] / ether[] are the raw IP packet's bytes (issue 21), a
        // link-layer primitive beside them still says why.
        Bad{"link[0:1] & 0xff == 0 and ether src 1",
            "column 27: \"ether\" needs a link layer: wgcap captures raw IP"},
        Bad{"ip net net-10-0-0-0.example",
            "column 8: \"net-10-0-0-0.example\": network names are not looked up; give a "
            "network"},
        Bad{"port 08", "column 6: invalid port \"08\" (expected 1-65535)"},
        Bad{"tcp port \\", "column 10: expected a name after \"\\\""},
        Bad{"tcp or \\gw", "column 8: \"gw\": host names are not looked up; give an address"}));

TEST(LibpcapForms, EscapedNameIsNeverAKeyword) {
  // "\host" is a name, so it is looked up as one, not read as a qualifier.
  const auto expr = ParseFilterExpression("host \\host");
  ASSERT_FALSE(expr.ok());
  EXPECT_EQ(expr.error().message,
            "column 6: \"host\": host names are not looked up; give an address");
}

TEST(LibpcapForms, ProtocolNamesComeFromTheProtocolsDatabase) {
  if (getprotobyname("tcp") == nullptr || getprotobyname("udp") == nullptr) {
    GTEST_SKIP() << "no /etc/protocols";
  }
  EXPECT_EQ(Canonical("proto \\udp or ip proto \\tcp"), Canonical("udp or (ip and tcp)"));
}

// `icmp` keeps libpcap's family: an IPv6 packet whose next header is 1 is
// not ICMP, nor is an IPv4 packet of protocol 58 ICMPv6.
TEST(LibpcapForms, IcmpIsTiedToItsFamily) {
  const auto icmp = ParseFilter("icmp").value();
  const auto icmp6 = ParseFilter("icmp6").value();
  auto match = [](const auto& m, const std::vector<std::uint8_t>& p) {
    return m->Match(p, static_cast<std::uint32_t>(p.size()));
  };
  const auto v4_icmp = test::PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Icmp(8, 0).Build();
  const auto v6_proto1 =
      test::PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2").Protocol(1, {8, 0, 0, 0}).Build();
  const auto v4_proto58 =
      test::PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Protocol(58, {128, 0, 0, 0}).Build();
  EXPECT_TRUE(match(icmp, v4_icmp));
  EXPECT_FALSE(match(icmp, v6_proto1));
  EXPECT_FALSE(match(icmp6, v4_proto58));
}

} // namespace
} // namespace wgcap
