// SPDX-License-Identifier: Apache-2.0
// `peer KEY` in the language (SPEC 10): what parses, what is refused and
// where, resolution against an interface's peers, and the Matcher's verdict
// once the Session has attributed a packet.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/peer_key_text.hpp"
#include "support/filter_canonical.hpp"
#include "support/packet_builder.hpp"
#include "wgcap/filter_parser.hpp"
#include "wireguard/peer_table.hpp"

namespace wgcap {
namespace {

using test::Canonical;
using test::ErrorOf;
using ::testing::HasSubstr;

// Three peers: the first two share their first six characters ("AAECAw").
PeerKey Key(std::uint8_t first, std::uint8_t second) {
  PeerKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<std::uint8_t>(i);
  }
  k[0] = first;
  k[1] = second;
  return k;
}
const PeerKey kA = Key(0x00, 0x01); // AAECAwQF...
const PeerKey kC = Key(0x80, 0x01); // gAEC...

wireguard::PeerTable Table() {
  wireguard::PeerTable t;
  t.interface = "wg0";
  PeerKey b = kA;
  b[5] = 0xff; // "AAECA" still, then different
  t.peers = {{kA, {}}, {b, {}}, {kC, {}}};
  return t;
}

std::string Text(const PeerKey& k) {
  return wireguard::KeyToBase64(k);
}

// Resolves against Table() as the CLI does, through PeerTable::Resolve.
Result<FilterExpression> Resolved(const std::string& text) {
  auto expr = ParseFilterExpression(text);
  if (!expr) {
    return expr.error();
  }
  const wireguard::PeerTable table = Table();
  Status status = ResolvePeerTerms(*expr, [&](std::string_view t) -> Result<PeerKey> {
    auto peer = table.Resolve(t);
    if (!peer) {
      return peer.error();
    }
    return peer->public_key;
  });
  if (!status) {
    return status.error();
  }
  return expr;
}

TEST(PeerTerm, ParsesAsOnePrimitive) {
  const std::string full = Text(kC);
  EXPECT_EQ(Canonical("peer AAEC"), "peer AAEC");
  EXPECT_EQ(Canonical("PEER AAEC"), "peer AAEC"); // the keyword's case only
  EXPECT_EQ(Canonical("peer aaec"), "peer aaec");
  EXPECT_EQ(Canonical("peer " + full), "peer " + full);
  // '+' and '/' are base64: the key stays one token.
  EXPECT_EQ(Canonical("peer ab+/cd"), "peer ab+/cd");
  EXPECT_EQ(Canonical("peer ++//"), "peer ++//");
  EXPECT_EQ(Canonical("(peer AAEC)"), "peer AAEC");
  EXPECT_EQ(Canonical("peer AAEC and tcp port 443"), "(peer AAEC and (tcp and port 443))");
  EXPECT_EQ(Canonical("not peer AAEC and tcp"), "((not peer AAEC) and tcp)");
  EXPECT_EQ(Canonical("peer AAEC or peer gAEC"), "(peer AAEC or peer gAEC)");
  EXPECT_EQ(Canonical("tcp and peer AAEC"), "(tcp and peer AAEC)");
  EXPECT_EQ(Canonical("peer AAEC udp"), "(peer AAEC and udp)"); // juxtaposition
  // A key may spell a keyword: it is text after `peer`, never a keyword.
  EXPECT_EQ(Canonical("peer host"), "peer host");
}

TEST(PeerTerm, RecordsItsColumn) {
  auto expr = ParseFilterExpression("tcp and peer AAEC");
  ASSERT_TRUE(expr.ok());
  ASSERT_TRUE(HasPeerTerms(*expr));
  const FilterNode& peer = expr->node(expr->node(expr->root).right);
  EXPECT_EQ(peer.term.kind, TermKind::Peer);
  EXPECT_EQ(peer.term.peer_text, "AAEC");
  EXPECT_FALSE(peer.term.peer_resolved);
  EXPECT_EQ(peer.column, 9);
  EXPECT_FALSE(HasPeerTerms(ParseFilterExpression("tcp").value()));
}

struct Bad {
  std::string text;
  std::string message;
};

TEST(PeerTerm, BadKeysAreBlamedWhereTyped) {
  const std::string full = Text(kC);
  const std::string no_pad = full.substr(0, 43) + "A";
  const std::vector<Bad> cases = {
      {"peer", "column 5: expected a WireGuard public key (base64) or a prefix of at least 4 of "
               "its characters after \"peer\", got end of input"},
      {"peer and tcp", "column 6: expected a WireGuard public key (base64) or a prefix of at "
                       "least 4 of its characters after \"peer\", got \"and\""},
      {"peer (AAEC)", "column 6: expected a WireGuard public key (base64) or a prefix of at "
                      "least 4 of its characters after \"peer\", got \"(\""},
      {"peer \\AAEC", "column 6: expected a WireGuard public key (base64) or a prefix of at "
                      "least 4 of its characters after \"peer\", got \"\\AAEC\""},
      {"peer abc", "column 6: peer \"abc\": a key prefix needs at least 4 characters"},
      {"tcp or peer ab", "column 13: peer \"ab\": a key prefix needs at least 4 characters"},
      {"peer abc.d", "column 9: peer \"abc.d\": \".\" is not a base64 character (A-Z, a-z, 0-9, "
                     "+, /)"},
      {"peer AAEC=", "column 10: peer \"AAEC=\": \"=\" may only end a whole 44-character key"},
      {"peer " + full + "A", "column 49: peer \"" + full +
                                 "A\": \"=\" may only end a whole "
                                 "44-character key"},
      {"peer " + no_pad + "A", "column 50: peer \"" + no_pad +
                                   "A\": longer than a public key "
                                   "(44 characters)"},
      {"peer " + no_pad, "column 49: peer \"" + no_pad + "\": a whole key ends with \"=\""},
      // `peer` has no qualifiers; `tcp peer K` is not silently "tcp and peer K".
      {"tcp peer AAEC", "column 5: \"peer\" takes no qualifiers (\"tcp\" before it): write "
                        "\"tcp and peer KEY\""},
      {"ip6 src peer AAEC", "column 9: \"peer\" takes no qualifiers (\"ip6\" before it): write "
                            "\"ip6 and peer KEY\""},
      {"src peer AAEC",
       "column 5: \"peer\" takes no qualifiers (\"src\" before it): a peer is the source of "
       "inbound and the destination of outbound packets; combine it with \"and\""},
      {"host peer", "column 6: \"peer\" takes no qualifiers (\"host\" before it): a peer is the "
                    "source of inbound and the destination of outbound packets; combine it with "
                    "\"and\""},
      {"host (192.0.2.1 or peer AAEC)",
       "column 20: expected a value to take the qualifiers before \"(\", got \"peer\""},
      {"port 80 or peer", "column 16: expected a WireGuard public key (base64) or a prefix of at "
                          "least 4 of its characters after \"peer\", got end of input"},
  };
  for (const Bad& b : cases) {
    EXPECT_EQ(ErrorOf(b.text), b.message) << b.text;
  }
  // A bare word after `peer K` inherits nothing: it is no key.
  EXPECT_THAT(ErrorOf("peer AAEC or gAEC"), HasSubstr("column 14: unknown keyword \"gAEC\""));
}

TEST(PeerTerm, ResolvesAUniquePrefixOrTheWholeKey) {
  auto expr = Resolved("tcp and peer gAEC");
  ASSERT_TRUE(expr.ok()) << expr.error().message;
  const FilterNode& peer = expr->node(expr->node(expr->root).right);
  EXPECT_TRUE(peer.term.peer_resolved);
  EXPECT_EQ(peer.term.peer_key, kC);
  EXPECT_EQ(ToString(*expr), "(tcp and peer gAEC)"); // as typed
  auto whole = Resolved("peer " + Text(kA));
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(whole->node(whole->root).term.peer_key, kA);
}

TEST(PeerTerm, UnknownAndAmbiguousNameTheCandidatesWithTheColumn) {
  const std::string b = Table().peers[1].ShortKey();
  auto ambiguous = Resolved("udp or peer AAECA");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.error().kind, ErrorKind::Filter);
  EXPECT_EQ(ambiguous.error().column, 8);
  EXPECT_EQ(ambiguous.error().message,
            "column 8: peer \"AAECA\" is ambiguous on wg0: " + Text(kA).substr(0, 8) + ", " + b);
  auto unknown = Resolved("peer zzzz");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "column 1: peer \"zzzz\" is no peer of wg0 (its peers: " + Text(kA).substr(0, 8) +
                ", " + b + ", " + Text(kC).substr(0, 8) + ")");
  // The first failure wins.
  auto second = Resolved("peer gAEC and peer QQQQ");
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.error().message, HasSubstr("column 15: peer \"QQQQ\" is no peer"));
}

// The parser, the resolver and the writers share one base64 alphabet
// (base/peer_key_text.hpp): a character the writers never print is refused
// by both the parser and the resolver, and one they print is accepted.
TEST(PeerTerm, ParserAndResolverAcceptExactlyTheKeyAlphabet) {
  int accepted = 0;
  for (int c = 33; c < 127; ++c) {
    const std::string text = "AAA" + std::string(1, static_cast<char>(c));
    const bool base64 = IsPeerKeyChar(static_cast<char>(c));
    EXPECT_EQ(ParseFilterExpression("peer " + text).ok(), base64) << text;
    const auto resolved = Table().Resolve(text);
    EXPECT_EQ(!resolved && resolved.error().message.find("not a base64") != std::string::npos,
              !base64)
        << text;
    accepted += base64 ? 1 : 0;
  }
  EXPECT_EQ(accepted, 64);
  const PeerKeyText printed = PeerKeyToText(kC);
  for (std::size_t i = 0; i + 1 < printed.size(); ++i) {
    EXPECT_TRUE(IsPeerKeyChar(printed[i])) << i;
  }
}

// The Matcher reads ParsedPacket::peer, which the Session sets.
bool Verdict(const FilterExpression& expr, const PeerKey* peer,
             const std::vector<std::uint8_t>& bytes) {
  const ExpressionMatcher matcher(expr);
  ParsedPacket p = ParsePacket(bytes, static_cast<std::uint32_t>(bytes.size()));
  p.peer = peer;
  return matcher.MatchParsed(p);
}

TEST(PeerTerm, MatcherVerdictsFollowTheAttribution) {
  const auto tcp = test::PacketBuilder::Ipv4("192.0.2.1", "198.51.100.2").Tcp(1000, 443).Build();
  const auto udp = test::PacketBuilder::Ipv4("192.0.2.1", "198.51.100.2").Udp(1000, 53).Build();
  PeerKey other = kC;
  other[31] ^= 1; // equal to no peer's key, though it starts like kC
  struct Row {
    std::string expression;
    const PeerKey* peer;
    const std::vector<std::uint8_t>* packet;
    bool want;
  };
  const std::vector<Row> rows = {
      {"peer gAEC", &kC, &tcp, true},
      {"peer gAEC", &kA, &tcp, false},
      {"peer gAEC", &other, &tcp, false},
      {"peer gAEC", nullptr, &tcp, false},
      {"not peer gAEC", &kC, &tcp, false},
      {"not peer gAEC", nullptr, &tcp, true},
      {"not peer gAEC", &kA, &udp, true},
      {"peer gAEC and tcp port 443", &kC, &tcp, true},
      {"peer gAEC and tcp port 443", &kC, &udp, false},
      {"peer gAEC or udp", &kA, &udp, true},
      {"peer gAEC or udp", &kA, &tcp, false},
      {"peer " + Text(kA) + " or peer gAEC", &kA, &tcp, true},
      // With a relation, the Matcher takes its other evaluation path.
      {"peer gAEC and ip[9] = 6", &kC, &tcp, true},
      {"peer gAEC and ip[9] = 6", &kA, &tcp, false},
      {"not peer gAEC and ip[9] = 17", nullptr, &udp, true},
  };
  for (const Row& r : rows) {
    auto expr = Resolved(r.expression);
    ASSERT_TRUE(expr.ok()) << r.expression << ": " << expr.error().message;
    EXPECT_EQ(Verdict(*expr, r.peer, *r.packet), r.want)
        << r.expression << " with peer " << (r.peer ? Text(*r.peer) : "none");
  }
}

TEST(PeerTerm, UnresolvedMatchesNothing) {
  const auto tcp = test::PacketBuilder::Ipv4("192.0.2.1", "198.51.100.2").Tcp(1000, 443).Build();
  auto expr = ParseFilterExpression("peer gAEC");
  ASSERT_TRUE(expr.ok());
  EXPECT_FALSE(Verdict(*expr, &kC, tcp));
  EXPECT_TRUE(Verdict(ParseFilterExpression("not peer gAEC").value(), &kC, tcp));
}

} // namespace
} // namespace wgcap
