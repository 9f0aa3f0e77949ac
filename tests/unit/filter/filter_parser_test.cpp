// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "support/filter_canonical.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

using test::Canonical;
using test::ErrorOf;

struct Shape {
  const char* text;
  const char* canonical;
};

class ParserShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(ParserShapes, CanonicalForm) {
  EXPECT_EQ(Canonical(GetParam().text), GetParam().canonical);
}

INSTANTIATE_TEST_SUITE_P(
    Filter, ParserShapes,
    ::testing::Values(
        Shape{"", ""}, Shape{"   ", ""}, Shape{"tcp", "tcp"}, Shape{"TCP", "tcp"},
        Shape{"host 192.0.2.1", "host 192.0.2.1"}, Shape{"HOST 2001:DB8::1", "host 2001:db8::1"},
        Shape{"src host 192.0.2.1", "src host 192.0.2.1"},
        Shape{"dst 192.0.2.1", "dst host 192.0.2.1"},
        Shape{"src 2001:db8::1", "src host 2001:db8::1"},
        Shape{"host ::ffff:192.0.2.1", "host 192.0.2.1"},
        Shape{"net 198.51.100.9/24", "net 198.51.100.0/24"},
        Shape{"dst net 2001:db8::/32", "dst net 2001:db8::/32"},
        Shape{"net 192.0.2.1", "net 192.0.2.1/32"}, Shape{"port 443", "port 443"},
        Shape{"src port 53", "src port 53"}, Shape{"dst port 65535", "dst port 65535"},
        Shape{"portrange 1000-2000", "portrange 1000-2000"},
        Shape{"portrange 1000 - 2000", "portrange 1000-2000"},
        Shape{"src portrange 2000-1000", "src portrange 1000-2000"}, Shape{"udp", "udp"},
        Shape{"icmp", "(ip and proto 1)"}, Shape{"icmp6", "(ip6 and proto 58)"}, Shape{"ip", "ip"},
        Shape{"ip6", "ip6"}, Shape{"proto 47", "proto 47"}, Shape{"proto 6", "tcp"},
        Shape{"proto 0", "proto 0"}, Shape{"less 100", "less 100"},
        Shape{"greater 1500", "greater 1500"},
        // implicit and, precedence, associativity
        Shape{"tcp port 443", "(tcp and port 443)"},
        Shape{"udp src port 53", "(udp and src port 53)"},
        Shape{"tcp or udp and port 53", "(tcp or (udp and port 53))"},
        Shape{"tcp and udp or icmp", "((tcp and udp) or (ip and proto 1))"},
        Shape{"tcp or udp or icmp", "((tcp or udp) or (ip and proto 1))"},
        Shape{"tcp and udp and icmp", "((tcp and udp) and (ip and proto 1))"},
        Shape{"not tcp and udp", "((not tcp) and udp)"}, Shape{"not not tcp", "(not (not tcp))"},
        Shape{"!tcp", "(not tcp)"}, Shape{"tcp&&udp||icmp", "((tcp and udp) or (ip and proto 1))"},
        Shape{"(tcp or udp) and port 53", "((tcp or udp) and port 53)"},
        Shape{"(host 192.0.2.1)", "host 192.0.2.1"}, Shape{"((tcp))", "tcp"},
        Shape{"not (tcp or udp)", "(not (tcp or udp))"},
        Shape{"tcp (port 80 or port 443)", "(tcp and (port 80 or port 443))"},
        Shape{"host 192.0.2.1 and not port 22", "(host 192.0.2.1 and (not port 22))"},
        Shape{"ip6 and icmp6", "(ip6 and (ip6 and proto 58))"},
        Shape{"src host 192.0.2.1 or dst port 80", "(src host 192.0.2.1 or dst port 80)"},
        Shape{"tcp\tand\nport 1", "(tcp and port 1)"}));

struct Bad {
  const char* text;
  const char* message;
};

class ParserErrors : public ::testing::TestWithParam<Bad> {};

TEST_P(ParserErrors, LocatedMessage) {
  EXPECT_EQ(ErrorOf(GetParam().text), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Filter, ParserErrors,
    ::testing::Values(
        Bad{"tcp and port 99999", "column 14: invalid port \"99999\" (expected 1-65535)"},
        Bad{"port 0", "column 6: invalid port \"0\" (expected 1-65535)"},
        Bad{"port nosuchservice", "column 6: unknown port 'nosuchservice'"},
        Bad{"port", "column 5: expected a port, got end of input"},
        Bad{"port -1", "column 6: expected a port, got \"-\""},
        Bad{"portrange 10 -", "column 15: expected a port, got end of input"},
        Bad{"portrange 10-", "column 14: expected a port, got end of input"},
        Bad{"portrange 10-70000", "column 14: invalid port \"70000\" (expected 1-65535)"},
        Bad{"host", "column 5: expected an address after \"host\", got end of input"},
        Bad{"host 300.1.1.1", "column 6: invalid IPv4 address '300.1.1.1'"},
        Bad{"host 192.0.2.0/24", "column 6: Mask syntax for networks only"},
        Bad{"net 192.0.2.0/33", "column 5: invalid prefix length \"33\" for IPv4 (expected 0-32)"},
        Bad{"net banana", "column 5: \"banana\": network names are not looked up; give a network"},
        Bad{"net", "column 4: expected a prefix after \"net\", got end of input"},
        Bad{"src", "column 4: expected host, net, port, portrange or an address after \"src\", got "
                   "end of input"},
        Bad{"dst (",
            "column 6: expected a value to take the qualifiers before \"(\", got end of input"},
        Bad{"src banana", "column 5: \"banana\": host names are not looked up; give an address"},
        Bad{"hots 192.0.2.1",
            "column 1: unknown keyword \"hots\" (expected host, net, port, "
            "portrange, src, dst, tcp, "
            "udp, icmp, icmp6, ip, ip6, proto, less, greater, peer, not or \"(\")"},
        Bad{"tcp 192.0.2.1",
            "column 5: expected a keyword before \"192.0.2.1\" (for example \"host "
            "192.0.2.1\" or \"net 192.0.2.1\")"},
        Bad{"proto 256", "column 7: invalid protocol \"256\" after \"proto\" (expected 0-255)"},
        Bad{"proto tcp", "column 7: expected a protocol number after \"proto\", got \"tcp\" (a "
                         "keyword; write \\tcp for the name)"},
        Bad{"less", "column 5: invalid length end of input after \"less\" (expected 0-4294967295)"},
        Bad{"greater -5",
            "column 9: invalid length \"-\" after \"greater\" (expected 0-4294967295)"},
        Bad{"tcp and", "column 8: expected an expression after \"and\", got end of input"},
        Bad{"tcp or", "column 7: expected an expression after \"or\", got end of input"},
        Bad{"tcp ||", "column 7: expected an expression after \"||\", got end of input"},
        Bad{"tcp and or udp", "column 9: expected an expression after \"and\", got \"or\""},
        Bad{"and tcp", "column 1: expected an expression, got \"and\""},
        Bad{"not", "column 4: expected an expression after \"not\", got end of input"},
        Bad{"!", "column 2: expected an expression after \"!\", got end of input"},
        Bad{"(tcp", "column 5: expected \")\" to close \"(\" at column 1, got end of input"},
        Bad{"((tcp) or udp",
            "column 14: expected \")\" to close \"(\" at column 1, got end of input"},
        Bad{"tcp)", "column 4: unexpected \")\" (no \"(\" to close)"},
        Bad{"()", "column 2: expected an expression after \"(\", got \")\""},
        Bad{")", "column 1: expected an expression, got \")\""},
        Bad{"tcp & udp", "column 5: unexpected \"&\" (did you mean \"&&\"?)"},
        Bad{"tcp | udp", "column 5: unexpected \"|\" (did you mean \"||\"?)"},
        Bad{"tcp - udp", "column 5: expected \"and\", \"or\" or end of input, got \"-\""}));

TEST(Parser, DeepNestingIsRefusedNotACrash) {
  const std::string deep = std::string(10000, '(') + "tcp" + std::string(10000, ')');
  const std::string message = ErrorOf(deep);
  EXPECT_NE(message.find("nested too deeply"), std::string::npos) << message;
  std::string nots;
  for (int i = 0; i < 10000; ++i) {
    nots += "not ";
  }
  EXPECT_NE(ErrorOf(nots + "tcp").find("nested too deeply"), std::string::npos);
}

TEST(Parser, ReasonableNestingIsAccepted) {
  const std::string nested = std::string(150, '(') + "tcp" + std::string(150, ')');
  EXPECT_EQ(Canonical(nested), "tcp");
}

TEST(Parser, LongChainsAreBounded) {
  std::string chain = "tcp";
  for (int i = 0; i < 9000; ++i) {
    chain += " or udp";
  }
  EXPECT_NE(ErrorOf(chain).find("expression too long"), std::string::npos);
  std::string ok = "tcp";
  for (int i = 0; i < 1000; ++i) {
    ok += " or port " + std::to_string(i + 1);
  }
  EXPECT_TRUE(ParseFilterExpression(ok).ok());
}

TEST(Parser, OverlongSourceIsRefused) {
  EXPECT_EQ(ErrorOf(std::string(70000, ' ') + "tcp"),
            "column 65537: expression longer than 65536 characters");
}

TEST(Parser, ColumnsOfNodes) {
  auto expr = ParseFilterExpression("tcp and  port 80");
  ASSERT_TRUE(expr.ok());
  const FilterNode& root = expr->node(expr->root);
  EXPECT_EQ(root.kind, FilterNode::Kind::And);
  EXPECT_EQ(root.column, 5);
  EXPECT_EQ(expr->node(root.left).column, 1);
  EXPECT_EQ(expr->node(root.right).column, 10);
}

TEST(Parser, ParseFilterOfEmptyMatchesAll) {
  auto m = ParseFilter("");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE((*m)->MatchesAll());
  EXPECT_TRUE((*m)->Match({}));
  auto bad = ParseFilter("port 99999");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "column 6: invalid port \"99999\" (expected 1-65535)");
}

} // namespace
} // namespace wgcap
