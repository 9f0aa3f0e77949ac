// SPDX-License-Identifier: Apache-2.0
// `peer` in the classic socket filter: classic BPF cannot look up allowed-ips,
// so a peer term is over-approximated (true where it appears plainly, false
// under `not`). What the filter passes must include whatever the Matcher
// takes under any attribution, and it must still filter on the rest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "filter/classic_filter.hpp"
#include "support/classic_runners.hpp"
#include "support/packet_builder.hpp"
#include "support/random_cases.hpp"
#include "wgcap/filter_parser.hpp"
#include "wireguard/peer_table.hpp"

namespace wgcap {
namespace {

constexpr std::uint32_t kSnaplen = 65535;

// Resolves every peer term to the one of RandomCases::PeerKeys() its text
// begins.
FilterExpression Parse(const std::string& text) {
  auto expr = ParseFilterExpression(text);
  EXPECT_TRUE(expr.ok()) << text << ": " << (expr.ok() ? "" : expr.error().message);
  if (!expr) {
    return {};
  }
  const Status status = ResolvePeerTerms(*expr, [](std::string_view t) -> Result<PeerKey> {
    for (const PeerKey& k : test::RandomCases::PeerKeys()) {
      if (wireguard::KeyToBase64(k).starts_with(t)) {
        return k;
      }
    }
    return Error{"no test peer starts with " + std::string(t)};
  });
  EXPECT_TRUE(status.ok()) << text;
  return std::move(expr).value();
}

// The Matcher under every attribution: none, or each test peer.
bool AnyAttributionMatches(const ExpressionMatcher& matcher, std::span<const std::uint8_t> p) {
  ParsedPacket parsed = ParsePacket(p, static_cast<std::uint32_t>(p.size()));
  if (matcher.MatchParsed(parsed)) {
    return true;
  }
  for (const PeerKey& k : test::RandomCases::PeerKeys()) {
    parsed.peer = &k;
    if (matcher.MatchParsed(parsed)) {
      return true;
    }
  }
  return false;
}

bool Passes(const ClassicProgram& program, std::span<const std::uint8_t> p) {
  return test::RunWithLibpcap(program.instructions, p, static_cast<std::uint32_t>(p.size())) != 0;
}

// `peer` and the first characters of a test peer's key.
std::string PeerTerm(std::size_t i) {
  return "peer " + wireguard::KeyToBase64(test::RandomCases::PeerKeys()[i]).substr(0, 6);
}
const std::string kPeerA = PeerTerm(0);
const std::string kPeerB = PeerTerm(1);

TEST(ClassicPeer, NotExactAndSaysTheMatcherDecides) {
  const ClassicProgram program = CompileClassicFilter(Parse(kPeerA + " and tcp"), kSnaplen);
  EXPECT_FALSE(program.exact);
  EXPECT_THAT(program.note, ::testing::HasSubstr("cannot look up WireGuard peers"));
  EXPECT_THAT(program.note, ::testing::HasSubstr("the userspace Matcher decides"));
  EXPECT_TRUE(test::ValidWithLibpcap(program.instructions));
  test::KernelClassicRunner kernel(program.instructions);
  EXPECT_EQ(kernel.error(), "");
  // Without a peer term the same filter is exact.
  EXPECT_TRUE(CompileClassicFilter(Parse("tcp"), kSnaplen).exact);
}

// A relation drops a packet it reads past wherever it runs; with a guessed
// peer term, what runs is not what the Matcher runs: only passing all is a
// superset. (`not (peer A or ip[60] = 1) or udp` on a short UDP packet from
// A: the Matcher takes it, a program guessing "false" for `peer` under the
// `not` would read ip[60] and drop it.)
TEST(ClassicPeer, WithRelationsEveryPacketPasses) {
  const FilterExpression expr = Parse("not (" + kPeerA + " or ip[60] = 1) or udp");
  const ClassicProgram program = CompileClassicFilter(expr, kSnaplen);
  EXPECT_FALSE(program.exact);
  EXPECT_THAT(program.note, ::testing::HasSubstr("with packet-data relations, every packet"));
  ASSERT_EQ(program.instructions.size(), 1u);
  const auto udp = test::PacketBuilder::Ipv4("192.0.2.1", "198.51.100.2").Udp(1000, 53).Build();
  EXPECT_TRUE(AnyAttributionMatches(ExpressionMatcher(expr), udp));
  EXPECT_TRUE(Passes(program, udp));
}

TEST(ClassicPeer, TrueInEitherPolarityButTheRestStillFilters) {
  const auto tcp = test::PacketBuilder::Ipv4("192.0.2.1", "198.51.100.2").Tcp(1000, 443).Build();
  const auto udp = test::PacketBuilder::Ipv4("192.0.2.1", "198.51.100.2").Udp(1000, 53).Build();
  const auto tcp6 = test::PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2").Tcp(1, 22).Build();
  struct Row {
    std::string expression;
    bool tcp, udp, tcp6;
  };
  const std::vector<Row> rows = {
      {kPeerA, true, true, true},
      {kPeerA + " and tcp", true, false, true},
      {"not " + kPeerA + " and tcp", true, false, true},
      {"not (" + kPeerA + " or udp)", true, false, true},
      {"not (" + kPeerA + " and udp)", true, true, true},
      {kPeerA + " or udp", true, true, true},
      {"ip and not " + kPeerA, true, true, false},
      {"not not " + kPeerA + " and udp", false, true, false},
      {"(" + kPeerA + " and tcp) or (not " + kPeerB + " and udp)", true, true, true},
      {"(" + kPeerA + " and port 443) or (not " + kPeerB + " and port 22)", true, false, true},
  };
  for (const Row& r : rows) {
    const ClassicProgram program = CompileClassicFilter(Parse(r.expression), kSnaplen);
    EXPECT_FALSE(program.exact) << r.expression;
    test::KernelClassicRunner kernel(program.instructions);
    ASSERT_EQ(kernel.error(), "") << r.expression;
    for (const auto& [packet, want, name] :
         {std::tuple{&tcp, r.tcp, "tcp"}, {&udp, r.udp, "udp"}, {&tcp6, r.tcp6, "tcp6"}}) {
      EXPECT_EQ(Passes(program, *packet), want) << r.expression << " / " << name;
      EXPECT_EQ(kernel.Run(*packet).has_value(), want) << r.expression << " / " << name;
    }
  }
}

// Random expressions with peer terms: classic ⊇ Matcher under every
// attribution, in libpcap's interpreter and the kernel's. Returns the share
// of (expression, packet) pairs the classic program rejected.
double RandomSuperset(std::uint32_t seed, bool relations) {
  test::RandomCases random(seed, relations, /*peers=*/true);
  std::vector<std::vector<std::uint8_t>> packets;
  for (int i = 0; i < 200; ++i) {
    packets.push_back(random.Packet());
  }
  int with_peers = 0, passed = 0, rejected = 0, failures = 0;
  for (int e = 0; e < 1200 && failures < 5; ++e) {
    const std::string text = random.Expression();
    const FilterExpression expr = Parse(text);
    const ExpressionMatcher matcher(expr);
    const ClassicProgram program = CompileClassicFilter(expr, kSnaplen);
    EXPECT_TRUE(test::ValidWithLibpcap(program.instructions)) << text;
    if (!HasPeerTerms(expr)) {
      continue;
    }
    ++with_peers;
    EXPECT_FALSE(program.exact) << text;
    std::optional<test::KernelClassicRunner> kernel;
    if (e % 10 == 0) {
      kernel.emplace(program.instructions);
      EXPECT_EQ(kernel->error(), "") << text;
    }
    for (const auto& p : packets) {
      const bool want = AnyAttributionMatches(matcher, p);
      const bool pcap = Passes(program, p);
      const bool kern = kernel ? kernel->Run(p).has_value() : pcap;
      (pcap ? passed : rejected) += 1;
      if ((want && !pcap) || kern != pcap) {
        ++failures;
        ADD_FAILURE() << text << "\nmatcher (any peer) " << want << " libpcap " << pcap
                      << " kernel " << kern << "\n"
                      << Disassemble(program.instructions);
        break;
      }
    }
  }
  EXPECT_GT(with_peers, 200);
  return static_cast<double>(rejected) / std::max(1, passed + rejected);
}

TEST(ClassicPeer, RandomExpressionsPassASupersetOfTheMatcher) {
  // The over-approximation keeps filtering: it does not pass everything.
  EXPECT_GT(RandomSuperset(20261206, false), 0.2);
}

// With relations most such programs pass everything (see above); what they
// reject must still be nothing the Matcher takes.
TEST(ClassicPeer, RandomExpressionsWithRelationsPassASuperset) {
  EXPECT_GT(RandomSuperset(20261207, true), 0.0);
}

} // namespace
} // namespace wgcap
