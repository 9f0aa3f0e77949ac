// SPDX-License-Identifier: Apache-2.0
// The kernel program under BPF_PROG_TEST_RUN against the Matcher: the
// verdict tables and random packets × random expressions. The verdict is
// whether a sample reached the ring; the sample's bytes and lengths are
// checked too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "capture/bpf/kernel_filter_runner.hpp"
#include "filter/kernel_filter.hpp"
#include "support/privileges.hpp"
#include "support/random_cases.hpp"
#include "support/verdict_packets.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

std::string Hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  char buf[4];
  for (auto b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

struct Case {
  std::shared_ptr<const ExpressionMatcher> matcher;
  std::unique_ptr<KernelFilterRunner> runner;
};

// How the program is loaded: the sample path, and whether headers are read
// from the linear data (as on most live skbs) or all with
// bpf_skb_load_bytes (the path of a non-linear skb; BPF_PROG_TEST_RUN only
// builds linear ones).
struct Variant {
  SampleMode mode;
  bool direct_access;
};

Case Load(const std::string& text, Variant variant, std::uint32_t snaplen = 65535) {
  Case c;
  auto m = ParseFilter(text);
  EXPECT_TRUE(m.ok()) << text;
  if (!m.ok()) {
    return c;
  }
  c.matcher = *m;
  const KernelFilterProgram program = CompileKernelFilter((*m)->expression());
  EXPECT_TRUE(program.exact) << text << ": " << program.note;
  auto runner = KernelFilterRunner::Create(program, snaplen, variant.mode, variant.direct_access);
  EXPECT_TRUE(runner.ok()) << text << ": " << (runner.ok() ? "" : runner.error().message);
  if (runner.ok()) {
    c.runner = std::move(runner).value();
  }
  return c;
}

// The kernel sees whole packets: captured == original. (Packets the tables
// cut short are presented as packets that end there.)
void CheckAgainstMatcher(Case& c, const std::string& text, std::span<const std::uint8_t> packet,
                         std::uint32_t snaplen, int& mismatches) {
  const bool want = c.matcher->Match(packet, static_cast<std::uint32_t>(packet.size()));
  auto got = c.runner->Run(packet);
  ASSERT_TRUE(got.ok()) << got.error().message << " (" << packet.size() << " bytes)";
  if (got->has_value() != want) {
    ++mismatches;
    ADD_FAILURE() << text << "\nmatcher " << want << " kernel " << got->has_value() << "\npacket "
                  << Hex(packet);
    return;
  }
  if (!want) {
    return;
  }
  const KernelSample& s = **got;
  EXPECT_EQ(s.original_length, packet.size());
  EXPECT_EQ(s.direction, WGCAP_DIR_IN);
  // At least snaplen bytes (or the headers the verdict read), never more than the packet.
  EXPECT_LE(s.captured_length, packet.size());
  EXPECT_GE(s.captured_length, std::min<std::size_t>(snaplen, packet.size()));
  ASSERT_EQ(s.data.size(), s.captured_length);
  EXPECT_TRUE(std::equal(s.data.begin(), s.data.end(), packet.begin())) << "sample bytes";
  // The Matcher decides the same on the sample as on the packet.
  EXPECT_TRUE(c.matcher->Match(s.data, s.original_length)) << text << "\n" << Hex(packet);
}

class KernelFilter : public ::testing::TestWithParam<Variant> {};

TEST_P(KernelFilter, VerdictTablesAgreeWithMatcher) {
  WGCAP_REQUIRE_PRIVILEGES();
  int mismatches = 0;
  for (const auto& table : test::VerdictTables()) {
    for (const auto& [expression, matches] : *table.rows) {
      Case c = Load(expression, GetParam());
      ASSERT_TRUE(c.runner);
      const std::set<std::string> want = test::MatchingNames(matches);
      for (const auto& p : *table.packets) {
        if (p.captured_bytes == p.bytes.size()) {
          EXPECT_EQ(c.matcher->Match(p.captured(), p.original_length()), want.count(p.name) == 1);
        }
        CheckAgainstMatcher(c, expression + " / " + p.name, p.captured(), 65535, mismatches);
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_P(KernelFilter, RandomPacketsAndExpressionsAgreeWithMatcher) {
  WGCAP_REQUIRE_PRIVILEGES();
  constexpr std::uint32_t kSeed = 4242;
  test::RandomCases random(kSeed);
  std::vector<std::vector<std::uint8_t>> packets;
  for (int i = 0; i < 120; ++i) {
    packets.push_back(random.Packet());
  }
  int mismatches = 0;
  for (int e = 0; e < 100 && mismatches < 3; ++e) {
    const std::string text = random.Expression();
    Case c = Load(text, GetParam(), 96);
    ASSERT_TRUE(c.runner) << text;
    for (const auto& p : packets) {
      CheckAgainstMatcher(c, text + " (seed " + std::to_string(kSeed) + ")", p, 96, mismatches);
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_P(KernelFilter, SnaplenTrimsSamplesButKeepsTheHeadersTheVerdictRead) {
  WGCAP_REQUIRE_PRIVILEGES();
  // Ports after a long IPv6 extension chain lie beyond a 40-byte snaplen;
  // the sample still carries them, so userspace decides the same.
  Case c = Load("port 443", GetParam(), 40);
  ASSERT_TRUE(c.runner);
  const auto& packets = test::VerdictPackets();
  std::vector<std::uint8_t> big(packets[0].bytes); // t4: TCP to 443 with 100 bytes of payload
  auto got = c.runner->Run(big);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->captured_length, 40u);
  EXPECT_EQ((*got)->original_length, big.size());
}

TEST_P(KernelFilter, EmptyExpressionSamplesEverythingIncludingNonIp) {
  WGCAP_REQUIRE_PRIVILEGES();
  Case c = Load("", GetParam());
  ASSERT_TRUE(c.runner);
  for (const auto& p : test::VerdictPackets()) {
    if (p.captured_bytes == 0) {
      continue; // an empty packet cannot be test-run
    }
    auto got = c.runner->Run(p.captured());
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(got->has_value()) << p.name;
  }
  const KernelCounters counters = c.runner->program().ReadCounters();
  EXPECT_EQ(counters.seen, counters.matched);
  EXPECT_EQ(counters.ring_full, 0);
}

INSTANTIATE_TEST_SUITE_P(SampleModes, KernelFilter,
                         ::testing::Values(Variant{SampleMode::Reserve, true},
                                           Variant{SampleMode::Output, true},
                                           Variant{SampleMode::Reserve, false}),
                         [](const ::testing::TestParamInfo<Variant>& v) {
                           return std::string(v.param.mode == SampleMode::Reserve ? "Reserve"
                                                                                  : "Output") +
                                  (v.param.direct_access ? "" : "LoadBytesOnly");
                         });

TEST(KernelFilterCompiler, TooManyTermsFallsBackToPassAll) {
  std::string text = "port 1";
  for (int i = 2; i <= WGCAP_FILTER_MAX_NODES + 1; ++i) {
    text += " or port " + std::to_string(i);
  }
  auto m = ParseFilter(text);
  ASSERT_TRUE(m.ok());
  const KernelFilterProgram p = CompileKernelFilter((*m)->expression());
  EXPECT_FALSE(p.exact);
  EXPECT_TRUE(p.pass_all);
  EXPECT_THAT(p.note, ::testing::HasSubstr("more than 48 terms"));
}

TEST(KernelFilterCompiler, GraphJumpsOnlyForward) {
  auto m = ParseFilter("(tcp or udp) and not (port 53 or host 192.0.2.1) and ip6 or less 100");
  ASSERT_TRUE(m.ok());
  const KernelFilterProgram p = CompileKernelFilter((*m)->expression());
  ASSERT_EQ(p.nodes.size(), 6u);
  for (std::size_t i = 0; i < p.nodes.size(); ++i) {
    for (auto target : {p.nodes[i].jt, p.nodes[i].jf}) {
      EXPECT_TRUE(target > i && (target < p.nodes.size() || target >= WGCAP_TARGET_ACCEPT)) << i;
    }
  }
  EXPECT_THAT(Disassemble(p), ::testing::HasSubstr("(00) protocol == 6"));
}

} // namespace
} // namespace wgcap
