// SPDX-License-Identifier: Apache-2.0
// `wgcap -i all-wg` in namespace A of the testbed: it captures exactly the
// WireGuard link (not the veth underlay, not loopback, not a TUN device
// without a wireguard-go socket) and names it in the file. Linked into
// list_interfaces_test to share its testbed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include "support/background_process.hpp"
#include "support/live_wgcap.hpp"
#include "support/subprocess.hpp"
#include "support/testbed.hpp"

namespace wgcap::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

using AllWireGuard = LiveTest;

TEST_F(AllWireGuard, CapturesExactlyTheWireGuardLinks) {
  // A TUN device without a control socket: L3 like a tunnel, but no WireGuard.
  const auto add =
      test::Run(testbed_->InA({"ip", "tuntap", "add", "dev", "mifdummy0", "mode", "tun"}));
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string file = dir_.File("all.pcapng");
  {
    BackgroundProcess p(
        testbed_->InA({WgcapBinary(), "-i", "all-wg", "-c", "4", "-w", file, "icmp"}), dir_.path(),
        "wgcap");
    EXPECT_TRUE(p.WaitForStderr("listening on " + testbed_->if_a + " (", 10s)) << p.Stderr();
    Ping(testbed_->addr_b, 2);
    EXPECT_EQ(p.Wait(10s), 0) << p.Stderr();
    EXPECT_EQ(CountOf(p.Stderr(), "listening on "), 1) << p.Stderr();
    EXPECT_THAT(p.Stderr(), HasSubstr("4 packets captured\n"));
  }
  test::Run(testbed_->InA({"ip", "link", "del", "mifdummy0"}));
  const auto r = test::Run({"tshark", "-r", file, "-T", "fields", "-e", "frame.interface_name"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string line = testbed_->if_a + "\n";
  EXPECT_EQ(r.out, line + line + line + line);
  EXPECT_EQ(Hooks(), "") << "nothing left attached";
}

} // namespace
} // namespace wgcap::test
