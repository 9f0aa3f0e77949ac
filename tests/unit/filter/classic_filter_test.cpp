// SPDX-License-Identifier: Apache-2.0
// The classic socket filter against the Matcher: the verdict tables and
// random packets × random expressions, run by libpcap's interpreter and by
// the kernel's own classic BPF (a socket filter on an AF_UNIX socket pair).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "filter/classic_filter.hpp"
#include "support/classic_runners.hpp"
#include "support/random_cases.hpp"
#include "support/verdict_packets.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

constexpr std::uint32_t kSnaplen = 65535;

std::string Hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  char buf[4];
  for (auto b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

struct Compiled {
  std::shared_ptr<const ExpressionMatcher> matcher;
  ClassicProgram program;
};

Compiled Compile(const std::string& text, std::uint32_t snaplen = kSnaplen) {
  auto m = ParseFilter(text);
  EXPECT_TRUE(m.ok()) << text << ": " << (m.ok() ? "" : m.error().message);
  if (!m.ok()) {
    return {};
  }
  Compiled c{*m, CompileClassicFilter((*m)->expression(), snaplen)};
  EXPECT_TRUE(c.program.exact) << text << ": " << c.program.note;
  return c;
}

// A socket filter sees the whole packet: captured == original. Packets the
// tables mark as cut short are presented as packets that end there.
TEST(ClassicFilter, VerdictTablesAgreeWithMatcherInBothInterpreters) {
  int compared = 0;
  for (const auto& table : test::VerdictTables()) {
    for (const auto& [expression, matches] : *table.rows) {
      const Compiled c = Compile(expression);
      ASSERT_TRUE(c.matcher);
      ASSERT_TRUE(test::ValidWithLibpcap(c.program.instructions)) << expression;
      test::KernelClassicRunner kernel(c.program.instructions);
      ASSERT_EQ(kernel.error(), "") << expression << "\n" << Disassemble(c.program.instructions);
      const std::set<std::string> want = test::MatchingNames(matches);
      for (const auto& p : *table.packets) {
        const auto data = p.captured();
        const auto len = static_cast<std::uint32_t>(data.size());
        const bool matcher = c.matcher->Match(data, len);
        if (p.captured_bytes == p.bytes.size()) {
          EXPECT_EQ(matcher, want.count(p.name) == 1) << expression << " / " << p.name;
        }
        const unsigned pcap = test::RunWithLibpcap(c.program.instructions, data, len);
        EXPECT_EQ(pcap != 0, matcher) << "libpcap: " << expression << " / " << p.name;
        const auto delivered = kernel.Run(data);
        EXPECT_EQ(delivered.has_value(), matcher) << "kernel: " << expression << " / " << p.name;
        if (delivered && matcher) {
          EXPECT_EQ(*delivered, data.size());
        }
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 1000);
}

// Random packets (malformed and truncated ones included) and expressions,
// with packet-data relations when `relations`.
void RandomAgreement(std::uint32_t kSeed, bool relations) {
  test::RandomCases random(kSeed, relations);
  std::vector<std::vector<std::uint8_t>> packets;
  for (int i = 0; i < 300; ++i) {
    packets.push_back(random.Packet());
  }
  int disagreements = 0;
  int matched = 0, total = 0;
  for (int e = 0; e < 1500 && disagreements < 5; ++e) {
    const std::string expression = random.Expression();
    const Compiled c = Compile(expression);
    ASSERT_TRUE(c.matcher);
    ASSERT_TRUE(test::ValidWithLibpcap(c.program.instructions)) << expression;
    // The kernel runs one in ten expressions (a socket each): slower, and
    // libpcap already covers the bulk.
    std::optional<test::KernelClassicRunner> kernel;
    if (e % 10 == 0) {
      kernel.emplace(c.program.instructions);
      ASSERT_EQ(kernel->error(), "") << expression;
    }
    for (const auto& p : packets) {
      const auto len = static_cast<std::uint32_t>(p.size());
      const bool want = c.matcher->Match(p, len);
      const bool pcap = test::RunWithLibpcap(c.program.instructions, p, len) != 0;
      const bool kern = kernel ? kernel->Run(p).has_value() : pcap;
      matched += want;
      ++total;
      if (pcap != want || kern != want) {
        ++disagreements;
        ADD_FAILURE() << "seed " << kSeed << ": " << expression << "\nmatcher " << want
                      << " libpcap " << pcap << " kernel " << kern << "\npacket " << Hex(p) << "\n"
                      << Disassemble(c.program.instructions);
        break;
      }
    }
  }
  // Both verdicts must be well represented or the comparison proves little.
  EXPECT_GT(matched, total / 10);
  EXPECT_LT(matched, total * 9 / 10);
}

TEST(ClassicFilter, RandomPacketsAndExpressionsAgreeWithMatcher) {
  RandomAgreement(20261127, false);
}

// Issue 21: relations, a read past the end and a division by zero included.
TEST(ClassicFilter, RandomRelationsAgreeWithMatcher) {
  RandomAgreement(20261206, true);
}

TEST(ClassicFilter, ReturnsTheSnapLength) {
  const Compiled c = Compile("udp", 100);
  const auto& p = test::VerdictPackets()[1]; // u4
  EXPECT_EQ(test::RunWithLibpcap(c.program.instructions, p.captured(), p.original_length()), 100u);
  test::KernelClassicRunner kernel(c.program.instructions);
  const auto big = std::vector<std::uint8_t>(p.bytes.begin(), p.bytes.end());
  EXPECT_EQ(kernel.Run(big), std::optional<std::size_t>(std::min<std::size_t>(100, big.size())));
}

TEST(ClassicFilter, EmptyExpressionAcceptsEverything) {
  const Compiled c = Compile("");
  ASSERT_EQ(c.program.instructions.size(), 1u);
  EXPECT_EQ(Disassemble(c.program.instructions), "(000) ret      #65535\n");
}

TEST(ClassicFilter, LongExpressionsGetTrampolinesAndStayExact) {
  // Hundreds of terms push the final accept/reject far beyond the 255
  // instructions a conditional jump reaches.
  std::string text = "tcp and (port 1";
  for (int port = 2; port <= 300; ++port) {
    text += " or port " + std::to_string(port);
  }
  text += ")";
  const Compiled c = Compile(text);
  ASSERT_TRUE(c.program.exact);
  EXPECT_GT(c.program.instructions.size(), 600u);
  test::KernelClassicRunner kernel(c.program.instructions);
  ASSERT_EQ(kernel.error(), "");
  test::RandomCases random(7);
  for (int i = 0; i < 400; ++i) {
    const auto p = random.Packet();
    const bool want = c.matcher->Match(p, static_cast<std::uint32_t>(p.size()));
    EXPECT_EQ(
        test::RunWithLibpcap(c.program.instructions, p, static_cast<std::uint32_t>(p.size())) != 0,
        want);
    EXPECT_EQ(kernel.Run(p).has_value(), want);
  }
}

TEST(ClassicFilter, TooLargeFallsBackToPassAllAndSaysSo) {
  std::string text = "host 2001:db8::1";
  for (int i = 2; i < 700; ++i) {
    text += " or net 2001:db8::" + std::to_string(i) + "/127";
  }
  auto m = ParseFilter(text);
  ASSERT_TRUE(m.ok());
  const ClassicProgram program = CompileClassicFilter((*m)->expression(), kSnaplen);
  EXPECT_FALSE(program.exact);
  EXPECT_THAT(program.note, ::testing::HasSubstr("more than 4096 classic BPF instructions"));
  ASSERT_EQ(program.instructions.size(), 1u);
  EXPECT_EQ(program.instructions[0].k, kSnaplen);
}

TEST(ClassicFilter, DisassemblyReadsLikeTcpdump) {
  const Compiled c = Compile("ip and greater 100");
  const std::string text = Disassemble(c.program.instructions);
  EXPECT_THAT(text, ::testing::HasSubstr("ld       #pktlen"));
  EXPECT_THAT(text, ::testing::HasSubstr("ldxb     4*([0]&0xf)"));
  EXPECT_THAT(text, ::testing::HasSubstr("jge      #0x64"));
  EXPECT_THAT(text, ::testing::HasSubstr("ret      #65535"));
  EXPECT_THAT(text, ::testing::HasSubstr("ret      #0"));
  EXPECT_THAT(text, ::testing::HasSubstr("M[0]  ; family"));
}

} // namespace
} // namespace wgcap
