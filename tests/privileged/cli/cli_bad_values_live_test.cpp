// SPDX-License-Identifier: Apache-2.0
// The bad-values rows (support/cli_rows.cpp) with -i on the testbed's
// WireGuard interface: each is refused (exit 2) before anything is loaded
// or attached, and leaves no output file.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/cli_rows.hpp"
#include "support/privileges.hpp"
#include "support/temp_dir.hpp"
#include "support/testbed.hpp"

namespace wgcap {
namespace {

TEST(BadValuesLive, RefusedBeforeAnythingAttaches) {
  WGCAP_REQUIRE_PRIVILEGES();
  const test::Testbed tb("bv");
  ASSERT_TRUE(tb.up()) << tb.up_output();
  ASSERT_EQ(tb.HooksOnA(), "");
  test::TempDir dir;
  auto rows = test::BadValueRows({"-i", tb.if_a}, dir.File("out.pcapng"), dir.File("missing.txt"));
  for (auto& row : rows) {
    // "listening on" follows the attach: it must never be said.
    row.Through({"ip", "netns", "exec", tb.ns_a}).Without("listening on");
  }
  test::RunRows(rows);
  EXPECT_EQ(tb.HooksOnA(), "");
  EXPECT_EQ(test::TcxPrograms(tb.ns_a, tb.if_a), 0);
}

} // namespace
} // namespace wgcap
