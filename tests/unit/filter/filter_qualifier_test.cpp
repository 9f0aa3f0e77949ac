// SPDX-License-Identifier: Apache-2.0
// Qualifier chains, inheritance, service names and masks (SPEC 1,
// "Qualifiers, as tcpdump reads them"): each form parses to the same tree
// as its explicit spelling; each refusal carries tcpdump's words and a
// column; `a or b and c` warns, and nothing else does.
#include <gtest/gtest.h>

#include <netdb.h>

#include "support/filter_canonical.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

using test::Canonical;
using test::Same;

class QualifierDesugaring : public ::testing::TestWithParam<Same> {};

TEST_P(QualifierDesugaring, SameTreeAsExplicitSpelling) {
  EXPECT_EQ(Canonical(GetParam().sugar), Canonical(GetParam().explicit_form)) << GetParam().sugar;
}

INSTANTIATE_TEST_SUITE_P(
    Chains, QualifierDesugaring,
    ::testing::Values(
        Same{"not tcp dst port 80", "not (tcp and dst port 80)"},
        Same{"! tcp dst port 80", "not (tcp and dst port 80)"},
        Same{"ip6 src host 2001:db8::1", "ip6 and src host 2001:db8::1"},
        Same{"ip6 src 2001:db8::1", "ip6 and src host 2001:db8::1"},
        Same{"ip src net 10.0.0.0/8", "ip and src net 10.0.0.0/8"},
        Same{"udp src or dst portrange 1-100", "udp and portrange 1-100"},
        Same{"udp dst or src portrange 1-100", "udp and portrange 1-100"},
        Same{"src || dst port 80", "port 80"},
        Same{"src and dst host 192.0.2.1", "src host 192.0.2.1 and dst host 192.0.2.1"},
        Same{"dst and src net 10.0.0.0/8", "src net 10.0.0.0/8 and dst net 10.0.0.0/8"},
        Same{"tcp src and dst port 53", "tcp and (src port 53 and dst port 53)"},
        Same{"src 192.0.2.1", "src host 192.0.2.1"}, Same{"dst 10.0.0.0/8", "dst net 10.0.0.0/8"},
        Same{"tcp port 443", "tcp and port 443"}, Same{"ip proto 47", "ip and proto 47"},
        Same{"ip6 proto 17", "ip6 and udp"}, Same{"net 10.0.0.0 mask 255.0.0.0", "net 10.0.0.0/8"},
        Same{"src net 192.0.2.0 mask 255.255.255.128", "src net 192.0.2.0/25"},
        Same{"net ::ffff:198.51.100.0 mask 255.255.255.0", "net 198.51.100.0/24"},
        Same{"net 10", "net 10.0.0.0/8"}, Same{"net 2560", "net 10.0.0.0/16"},
        Same{"src 10", "src host 0.0.0.10"}, Same{"host 167772162", "host 10.0.0.2"},
        Same{"portrange 200", "portrange 200-200"}, Same{"portrange 100-1", "portrange 1-100"}));

INSTANTIATE_TEST_SUITE_P(
    Inheritance, QualifierDesugaring,
    ::testing::Values(
        Same{"port 80 or 443", "port 80 or port 443"},
        Same{"port 80 || 443", "port 80 or port 443"},
        Same{"host 192.0.2.1 or 192.0.2.2", "host 192.0.2.1 or host 192.0.2.2"},
        Same{"not host 192.0.2.1 and 192.0.2.2", "(not host 192.0.2.1) and host 192.0.2.2"},
        Same{"tcp dst port 80 or 443", "(tcp and dst port 80) or (tcp and dst port 443)"},
        Same{"port 80 and not 443", "port 80 and not port 443"},
        Same{"port 80 && !443", "port 80 and not port 443"},
        Same{"host 192.0.2.1 or (192.0.2.2 or 192.0.2.3)",
             "host 192.0.2.1 or (host 192.0.2.2 or host 192.0.2.3)"},
        Same{"host 192.0.2.1 or not (192.0.2.2 or 192.0.2.3)",
             "host 192.0.2.1 or not (host 192.0.2.2 or host 192.0.2.3)"},
        Same{"net 10.0.0.0/8 or 192.168.0.0/16", "net 10.0.0.0/8 or net 192.168.0.0/16"},
        Same{"net 10.0.0.0/8 or 172.16.0.0 mask 255.240.0.0",
             "net 10.0.0.0/8 or net 172.16.0.0/12"},
        Same{"net 10.0.0.0/8 or 10.1.2.3", "net 10.0.0.0/8 or net 10.1.2.3/32"},
        Same{"src net 10.0.0.0/8 and not 10.1.0.0/16",
             "src net 10.0.0.0/8 and not src net 10.1.0.0/16"},
        Same{"ip6 src 2001:db8::1 or 2001:db8::2", "ip6 src 2001:db8::1 or ip6 src 2001:db8::2"},
        Same{"src and dst port 53 or 5353", "src and dst port 53 or src and dst port 5353"},
        Same{"portrange 1-100 or 200-300", "portrange 1-100 or portrange 200-300"},
        Same{"portrange 1-100 or 200", "portrange 1-100 or portrange 200-200"},
        Same{"proto 6 or 17", "proto 6 or proto 17"},
        Same{"ip proto 6 or 17", "ip proto 6 or ip proto 17"},
        Same{"host 192.0.2.1 or 80", "host 192.0.2.1 or host 0.0.0.80"},
        Same{"port 80 or 443 or host 192.0.2.1 or 192.0.2.2",
             "port 80 or port 443 or host 192.0.2.1 or host 192.0.2.2"},
        // A bracket (or not) right after the qualifiers: each value inside takes them.
        Same{"host (192.0.2.1 or 192.0.2.2)", "host 192.0.2.1 or host 192.0.2.2"},
        Same{"tcp dst port (80 or 443) or 22",
             "tcp dst port 80 or tcp dst port 443 or tcp dst port 22"},
        Same{"port not 22", "not port 22"},
        Same{"src (192.0.2.1 and not 192.0.2.2)", "src 192.0.2.1 and not src 192.0.2.2"},
        // After a bracketed expression, the qualifiers are again those from before it.
        Same{"port 22 or (tcp) or 80", "port 22 or tcp or port 80"},
        Same{"port 22 or (host 192.0.2.1) or 80", "port 22 or host 192.0.2.1 or port 80"}));

INSTANTIATE_TEST_SUITE_P(
    Services, QualifierDesugaring,
    ::testing::Values(Same{"port domain", "port 53"}, Same{"tcp port https", "tcp and port 443"},
                      Same{"udp port domain", "udp and port 53"},
                      Same{"port ssh", "tcp and port 22"},      // TCP only in /etc/services
                      Same{"port ntp", "udp and port 123"},     // UDP only
                      Same{"port ftp-data", "tcp and port 20"}, // a name with a dash
                      Same{"dst port ftp-data or domain", "(tcp and dst port 20) or dst port 53"},
                      Same{"portrange ftp-telnet", "tcp and portrange 21-23"},
                      Same{"portrange ftp-domain", "portrange 21-53"},
                      Same{"tcp portrange 1-ssh", "tcp and portrange 1-22"}));

struct Bad {
  const char* text;
  const char* message;
};

class QualifierErrors : public ::testing::TestWithParam<Bad> {};

TEST_P(QualifierErrors, TcpdumpWordsAndColumn) {
  auto expr = ParseFilterExpression(GetParam().text);
  ASSERT_FALSE(expr.ok()) << GetParam().text << " parsed as " << ToString(*expr);
  EXPECT_EQ(expr.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Filter, QualifierErrors,
    ::testing::Values(
        Bad{"ip host 2001:db8::1", "column 1: 'ip' modifier applied to ip6 host"},
        Bad{"ip net 2001:db8::/32", "column 1: 'ip' modifier applied to ip6 net"},
        Bad{"tcp host 192.0.2.1", "column 1: 'tcp' modifier applied to host"},
        Bad{"udp src net 10.0.0.0/8", "column 1: 'udp' modifier applied to net"},
        Bad{"tcp dst 2001:db8::1", "column 1: 'tcp' modifier applied to ip6 host"},
        Bad{"icmp6 host 192.0.2.1", "column 1: 'icmp6' modifier applied to host"},
        Bad{"icmp host 2001:db8::1", "column 1: 'icmp' modifier applied to ip6 host"},
        Bad{"ip6 net 10.0.0.0/8", "column 1: 'ip6' modifier applied to ip host"},
        Bad{"tcp and ip6 host 192.0.2.1", "column 9: 'ip6' modifier applied to ip host"},
        Bad{"ip port 80", "column 1: illegal qualifier of 'port'"},
        Bad{"ip6 src port 80", "column 1: illegal qualifier of 'port'"},
        Bad{"icmp portrange 1-2", "column 1: illegal qualifier of 'portrange'"},
        Bad{"tcp proto 6", "column 1: 'tcp proto' is bogus"},
        Bad{"icmp6 proto 6", "column 1: 'icmp6 proto' is bogus"},
        Bad{"port 192.0.2.1", "column 6: 'port' modifier applied to ip host"},
        Bad{"port 80 or 192.0.2.1", "column 12: 'port' modifier applied to ip host"},
        Bad{"portrange 192.0.2.1", "column 11: 'portrange' modifier applied to ip host"},
        Bad{"proto 192.0.2.1", "column 7: 'proto' modifier applied to ip host"},
        Bad{"port 2001:db8::1", "column 6: invalid qualifier against IPv6 address"},
        Bad{"port 10.0.0.0/8", "column 6: Mask syntax for networks only"},
        Bad{"host 10.0.0.0 mask 255.0.0.0", "column 6: Mask syntax for networks only"},
        Bad{"net 2001:db8:: mask ffff::",
            "column 21: \"mask\" applies to IPv4 networks only (write 2001:db8::/LENGTH)"},
        Bad{"net 10.0.0.0 mask 255.0.255.0",
            "column 19: invalid mask \"255.0.255.0\" (expected a contiguous IPv4 netmask such "
            "as 255.255.255.0)"},
        Bad{"net 10.0.0.0 mask", "column 18: expected a netmask after \"mask\", got end of input"},
        Bad{"udp port ssh", "column 10: port 'ssh' is tcp"},
        Bad{"tcp port ntp", "column 10: port 'ntp' is udp"},
        Bad{"tcp portrange ntp-ntp", "column 15: port in range 'ntp-ntp' is udp"},
        Bad{"port nosuchservice", "column 6: unknown port 'nosuchservice'"},
        Bad{"portrange ftp-data-ftp", "column 11: unknown port in range 'ftp-data-ftp'"},
        Bad{"port 1-2", "column 6: invalid port \"1-2\" (expected 1-65535; a range is "
                        "\"portrange 1-2\")"},
        Bad{"port 80 or 70000", "column 12: invalid port \"70000\" (expected 1-65535)"},
        // Nothing to inherit: a lone protocol, less/greater, the start, juxtaposition.
        Bad{"tcp and 80", "column 9: expected a keyword before \"80\" (for example \"port 80\"); "
                          "the term before it has no host, net, port, portrange or proto to lend"},
        Bad{"not 80", "column 5: expected a keyword before \"80\" (for example \"port 80\"); the "
                      "term before it has no host, net, port, portrange or proto to lend"},
        Bad{"less 100 or 192.0.2.1", "column 13: expected a keyword before \"192.0.2.1\" (for "
                                     "example \"host 192.0.2.1\" or \"net 192.0.2.1\")"},
        Bad{"host 192.0.2.1 192.0.2.2", "column 16: expected a keyword before \"192.0.2.2\" (for "
                                        "example \"host 192.0.2.2\" or \"net 192.0.2.2\")"},
        Bad{"(host 192.0.2.1 or 192.0.2.2) or 192.0.2.3",
            "column 34: expected a keyword before \"192.0.2.3\" (for example \"host "
            "192.0.2.3\" or \"net 192.0.2.3\")"},
        Bad{"host (192.0.2.1 or tcp)",
            "column 20: expected a value to take the qualifiers before \"(\", got \"tcp\""},
        Bad{"host 192.0.2.1 or banana",
            "column 19: \"banana\": host names are not looked up; give an address"},
        Bad{"src or dst", "column 11: expected host, net, port, portrange or an address after "
                          "\"dst\", got end of input"}));

TEST(QualifierColumns, InheritedNodesPointAtTheirId) {
  auto expr = ParseFilterExpression("tcp dst port 80 or 443");
  ASSERT_TRUE(expr.ok());
  const FilterNode& root = expr->node(expr->root);
  ASSERT_EQ(root.kind, FilterNode::Kind::Or);
  EXPECT_EQ(root.column, 17);
  const FilterNode& first = expr->node(root.left);
  EXPECT_EQ(first.column, 1);
  EXPECT_EQ(expr->node(first.left).column, 1);  // tcp
  EXPECT_EQ(expr->node(first.right).column, 1); // dst port 80
  const FilterNode& second = expr->node(root.right);
  EXPECT_EQ(second.column, 20);
  EXPECT_EQ(expr->node(second.left).column, 20);
  EXPECT_EQ(expr->node(second.right).column, 20);
}

std::vector<std::string> WarningsOf(const std::string& text) {
  auto expr = ParseFilterExpression(text);
  EXPECT_TRUE(expr.ok()) << text;
  return expr.ok() ? expr->warnings : std::vector<std::string>{"<error>"};
}

TEST(PrecedenceWarning, OrBeforeAndNamesBothReadings) {
  EXPECT_EQ(WarningsOf("tcp or udp and port 53"),
            std::vector<std::string>{
                "column 12: \"tcp or udp and port 53\" is read as \"tcp or (udp and port 53)\"; "
                "tcpdump reads \"(tcp or udp) and port 53\"; add parentheses to choose"});
  EXPECT_EQ(WarningsOf("port 80 || 443 && 22"),
            std::vector<std::string>{
                "column 16: \"port 80 || 443 && 22\" is read as \"port 80 || (443 && 22)\"; "
                "tcpdump reads \"(port 80 || 443) && 22\"; add parentheses to choose"});
  // Juxtaposition is an "and" too.
  EXPECT_EQ(WarningsOf("icmp or tcp port 80 udp"),
            std::vector<std::string>{
                "column 21: \"icmp or tcp port 80 udp\" is read as \"icmp or (tcp port 80 "
                "udp)\"; tcpdump reads \"(icmp or tcp port 80) udp\"; add parentheses to choose"});
  // One warning per "or" level, inside brackets as well.
  EXPECT_EQ(WarningsOf("(tcp or udp and icmp) and (ip or ip6 and tcp)").size(), 2u);
  EXPECT_EQ(WarningsOf("tcp or udp and icmp and ip6 or tcp and udp").size(), 1u);
}

TEST(PrecedenceWarning, NoneWhereBothReadingsAgree) {
  for (const char* text :
       {"tcp and udp or icmp", "(tcp or udp) and icmp", "tcp or (udp and icmp)",
        "tcp or udp or icmp", "not tcp or udp", "port 80 or 443", "tcp port 80 or udp port 53",
        "tcp and (udp or icmp) or ip6", "host 192.0.2.1 or not 192.0.2.2"}) {
    EXPECT_TRUE(WarningsOf(text).empty()) << text;
  }
}

TEST(PrecedenceWarning, FilterExpressionCarriesItThroughParseFilter) {
  auto matcher = ParseFilter("tcp or udp and port 53");
  ASSERT_TRUE(matcher.ok());
  EXPECT_EQ((*matcher)->expression().warnings.size(), 1u);
}

TEST(ServiceNames, ResolvedFromTheServicesDatabase) {
  // The table above assumes Debian's /etc/services; check it is what we read.
  if (getservbyname("domain", "udp") == nullptr || getservbyname("ssh", "udp") != nullptr) {
    GTEST_SKIP() << "/etc/services differs from the one these rows assume";
  }
  EXPECT_EQ(Canonical("port domain"), "port 53");
}

} // namespace
} // namespace wgcap
