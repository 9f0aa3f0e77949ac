// SPDX-License-Identifier: Apache-2.0
// The bounded flow table behind -v's relative sequence numbers.
#include <gtest/gtest.h>

#include <array>

#include "text/flow_table.hpp"

namespace wgcap::text {
namespace {

std::array<std::uint8_t, 16> V4(std::uint8_t last) {
  return {198, 51, 100, last};
}

TEST(FlowTable, BothDirectionsFindOneFlow) {
  FlowTable table(8);
  const auto a = V4(1);
  const auto b = V4(2);
  int forward = -1;
  int backward = -1;
  FlowTable::Flow& f1 = table.Find(4, {a.data(), 40000}, {b.data(), 80}, &forward);
  f1.side[forward] = {true, 123};
  FlowTable::Flow& f2 = table.Find(4, {b.data(), 80}, {a.data(), 40000}, &backward);
  EXPECT_EQ(&f1, &f2);
  EXPECT_NE(forward, backward);
  EXPECT_TRUE(f2.side[1 - backward].seen);
  EXPECT_EQ(f2.side[1 - backward].first_seq, 123u);
  EXPECT_FALSE(f2.side[backward].seen);
  EXPECT_EQ(table.size(), 1u);
}

TEST(FlowTable, PortsAndFamiliesSeparateFlows) {
  FlowTable table(8);
  const auto a = V4(1);
  const auto b = V4(2);
  int d = 0;
  table.Find(4, {a.data(), 1}, {b.data(), 80}, &d).side[d].seen = true;
  EXPECT_FALSE(table.Find(4, {a.data(), 2}, {b.data(), 80}, &d).side[d].seen);
  EXPECT_FALSE(table.Find(6, {a.data(), 1}, {b.data(), 80}, &d).side[d].seen);
  // Same addresses, ports swapped between the two ends: another flow.
  EXPECT_FALSE(table.Find(4, {a.data(), 80}, {b.data(), 1}, &d).side[d].seen);
  EXPECT_EQ(table.size(), 4u);
}

TEST(FlowTable, EvictsTheLeastRecentlyUsed) {
  FlowTable table(3);
  const auto a = V4(1);
  const auto b = V4(2);
  int d = 0;
  auto mark = [&](std::uint16_t port) {
    table.Find(4, {a.data(), port}, {b.data(), 80}, &d).side[d] = {true, port};
  };
  auto known = [&](std::uint16_t port) {
    return table.Find(4, {a.data(), port}, {b.data(), 80}, &d).side[d].seen;
  };
  mark(1);
  mark(2);
  mark(3);
  EXPECT_TRUE(known(1)); // 1 becomes the most recent; 2 is now the oldest
  mark(4);               // evicts 2
  EXPECT_EQ(table.size(), 3u);
  EXPECT_TRUE(known(3));
  EXPECT_TRUE(known(1));
  EXPECT_TRUE(known(4));
  EXPECT_FALSE(known(2)); // gone: found anew (and that evicted 3)
  EXPECT_FALSE(known(3));
  EXPECT_EQ(table.size(), table.capacity());
}

TEST(FlowTable, ManyFlowsStayWithinCapacity) {
  FlowTable table;
  const auto a = V4(1);
  std::array<std::uint8_t, 16> b = V4(2);
  int d = 0;
  for (std::uint32_t i = 0; i < 100000; ++i) {
    b[2] = static_cast<std::uint8_t>(i >> 16);
    b[3] = static_cast<std::uint8_t>(i >> 8);
    table.Find(4, {a.data(), static_cast<std::uint16_t>(i)}, {b.data(), 443}, &d).side[d] = {true,
                                                                                             i};
    ASSERT_LE(table.size(), FlowTable::kDefaultCapacity);
  }
  EXPECT_EQ(table.size(), FlowTable::kDefaultCapacity);
  // The most recent flows are all still there.
  for (std::uint32_t i = 100000 - FlowTable::kDefaultCapacity; i < 100000; ++i) {
    b[2] = static_cast<std::uint8_t>(i >> 16);
    b[3] = static_cast<std::uint8_t>(i >> 8);
    const auto& side =
        table.Find(4, {a.data(), static_cast<std::uint16_t>(i)}, {b.data(), 443}, &d).side[d];
    ASSERT_TRUE(side.seen) << i;
    ASSERT_EQ(side.first_seq, i);
  }
}

} // namespace
} // namespace wgcap::text
