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
  for (const auto& table : test::VerdictTables()) {
    for (const auto& [expression, matches] : *table.rows) {
      auto matcher = ParseFilter(expression);
      ASSERT_TRUE(matcher.ok()) << expression << ": " << matcher.error().message;
      const std::set<std::string> want = test::MatchingNames(matches);
      for (const auto& p : *table.packets) {
        const bool got = (*matcher)->Match(p.captured(), p.original_length());
        EXPECT_EQ(got, want.count(p.name) == 1)
            << table.name << " table, expression: " << expression << "\npacket: " << p.name;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(FilterVerdicts, RowsNameOnlyKnownPackets) {
  for (const auto& table : test::VerdictTables()) {
    std::set<std::string> known;
    for (const auto& p : *table.packets) {
      known.insert(p.name);
    }
    for (const auto& [expression, matches] : *table.rows) {
      if (matches == "*") {
        continue;
      }
      for (const auto& name : test::MatchingNames(matches)) {
        EXPECT_EQ(known.count(name), 1u) << expression << " names unknown packet " << name;
      }
    }
  }
}

} // namespace
} // namespace wgcap
