// SPDX-License-Identifier: Apache-2.0
// Expression × packet → verdict tables covering every term, every operator,
// precedence, implicit "and" and each absent-field rule of SPEC section 1.
// Each row lists the packets that must match; every other packet must not.
#include <gtest/gtest.h>

#include <set>

#include "support/verdict_packets.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

TEST(FilterVerdicts, EveryRowAgainstEveryPacket) {
  int checked = 0;
  for (const auto& [expression, matches] : test::VerdictRows()) {
    auto matcher = ParseFilter(expression);
    ASSERT_TRUE(matcher.ok()) << expression << ": " << matcher.error().message;
    const std::set<std::string> want = test::MatchingNames(matches);
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
  std::set<std::string> known = test::MatchingNames("*");
  for (const auto& [expression, matches] : test::VerdictRows()) {
    for (const auto& name : test::MatchingNames(matches)) {
      EXPECT_EQ(known.count(name), 1u) << expression << " names unknown packet " << name;
    }
  }
}

} // namespace
} // namespace wgcap
