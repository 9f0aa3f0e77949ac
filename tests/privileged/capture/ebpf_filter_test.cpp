// SPDX-License-Identifier: Apache-2.0
// The generated eBPF filter (userspace/filter/ebpf_generator.cpp) under
// BPF_PROG_TEST_RUN against the Matcher: every verdict table, random
// packets x random expressions, on both link-header lengths and with packet
// reads from the linear data or all through bpf_skb_load_bytes. On a match
// the extent it hands the sample program must keep what the Matcher needs:
// the Matcher decides the same on the packet cut to that extent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>

#include "capture/bpf/ebpf_filter_runner.hpp"
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

struct Variant {
  unsigned link_header;
  bool direct_access;
};

struct Case {
  std::shared_ptr<const ExpressionMatcher> matcher;
  std::unique_ptr<EbpfFilterRunner> runner;
};

Case Load(const std::string& text, Variant v) {
  Case c;
  auto m = ParseFilter(text);
  EXPECT_TRUE(m.ok()) << text;
  if (!m.ok()) {
    return c;
  }
  c.matcher = *m;
  auto runner = EbpfFilterRunner::Create((*m)->expression(), {v.link_header, v.direct_access});
  EXPECT_TRUE(runner.ok()) << text << ": " << (runner.ok() ? "" : runner.error().message);
  if (runner.ok()) {
    c.runner = std::move(runner).value();
    EXPECT_TRUE(c.runner->exact()) << text << ": " << c.runner->note();
  }
  return c;
}

// Whether the kernel can test-run `packet` with this link header (a raw IP
// frame must hold an Ethernet header's 14 bytes).
bool Runnable(std::span<const std::uint8_t> packet, Variant v) {
  return v.link_header != 0 || packet.size() >= 14;
}

// The kernel sees whole packets: captured == original.
void Check(Case& c, const std::string& what, std::span<const std::uint8_t> packet,
           int& mismatches) {
  const auto length = static_cast<std::uint32_t>(packet.size());
  const bool want = c.matcher->Match(packet, length);
  auto got = c.runner->Run(packet);
  ASSERT_TRUE(got.ok()) << what << ": " << got.error().message << " (" << packet.size()
                        << " bytes)";
  if (got->matched != want) {
    ++mismatches;
    ADD_FAILURE() << what << "\nmatcher " << want << " ebpf " << got->matched << "\npacket "
                  << Hex(packet) << "\n"
                  << (mismatches == 1 ? c.runner->disassembly() : "");
    return;
  }
  if (!want) {
    return;
  }
  // The sample keeps max(snap length, extent) bytes; with the smallest
  // snap length the Matcher must still decide the same.
  EXPECT_LE(got->extent, length) << what;
  const auto kept = packet.first(std::min<std::size_t>(got->extent, packet.size()));
  EXPECT_TRUE(c.matcher->Match(kept, length)) << what << ": the Matcher differs on the first "
                                              << got->extent << " bytes of " << Hex(packet);
}

class EbpfFilter : public ::testing::TestWithParam<Variant> {};

TEST_P(EbpfFilter, VerdictTablesAgreeWithMatcher) {
  WGCAP_REQUIRE_PRIVILEGES();
  int mismatches = 0;
  int runs = 0;
  for (const auto& table : test::VerdictTables()) {
    for (const auto& [expression, matches] : *table.rows) {
      Case c = Load(expression, GetParam());
      ASSERT_TRUE(c.runner);
      for (const auto& p : *table.packets) {
        if (!Runnable(p.captured(), GetParam())) {
          continue;
        }
        Check(c, expression + " / " + p.name, p.captured(), mismatches);
        ++runs;
      }
      ASSERT_LT(mismatches, 5);
    }
  }
  EXPECT_GT(runs, 1000);
  EXPECT_EQ(mismatches, 0);
}

TEST_P(EbpfFilter, RandomPacketsAndExpressionsAgreeWithMatcher) {
  WGCAP_REQUIRE_PRIVILEGES();
  constexpr std::uint32_t kSeed = 4243;
  int mismatches = 0;
  for (const bool relations : {false, true}) { // relations: issue 21's terms mixed in
    test::RandomCases random(kSeed, relations);
    std::vector<std::vector<std::uint8_t>> packets;
    for (int i = 0; i < 120; ++i) {
      packets.push_back(random.Packet());
    }
    for (int e = 0; e < 100 && mismatches < 3; ++e) {
      const std::string text = random.Expression();
      Case c = Load(text, GetParam());
      ASSERT_TRUE(c.runner) << text;
      for (const auto& p : packets) {
        if (Runnable(p, GetParam())) {
          Check(c, text + " (seed " + std::to_string(kSeed) + ")", p, mismatches);
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_P(EbpfFilter, EmptyExpressionMatchesEverythingAndCountsEachPacket) {
  WGCAP_REQUIRE_PRIVILEGES();
  Case c = Load("", GetParam());
  ASSERT_TRUE(c.runner);
  std::uint64_t runs = 0;
  for (const auto& p : test::VerdictPackets()) {
    if (p.captured_bytes == 0 || !Runnable(p.captured(), GetParam())) {
      continue;
    }
    auto got = c.runner->Run(p.captured());
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_TRUE(got->matched) << p.name;
    EXPECT_EQ(got->extent, 0u) << p.name;
    ++runs;
  }
  auto seen = c.runner->Seen();
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(*seen, runs);
}

TEST_P(EbpfFilter, MissesAreCountedAsSeenToo) {
  WGCAP_REQUIRE_PRIVILEGES();
  Case c = Load("tcp port 1", GetParam());
  ASSERT_TRUE(c.runner);
  const auto& p = test::VerdictPackets()[0];
  for (int i = 0; i < 3; ++i) {
    auto got = c.runner->Run(p.captured());
    ASSERT_TRUE(got.ok());
    EXPECT_FALSE(got->matched);
  }
  auto seen = c.runner->Seen();
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(*seen, 3u);
}

INSTANTIATE_TEST_SUITE_P(LinkHeaders, EbpfFilter,
                         ::testing::Values(Variant{14, true}, Variant{0, true}, Variant{14, false},
                                           Variant{0, false}),
                         [](const ::testing::TestParamInfo<Variant>& v) {
                           return std::string(v.param.link_header == 14 ? "Ethernet" : "RawIp") +
                                  (v.param.direct_access ? "" : "LoadBytesOnly");
                         });

} // namespace
} // namespace wgcap
