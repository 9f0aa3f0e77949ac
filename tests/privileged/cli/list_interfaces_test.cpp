// SPDX-License-Identifier: Apache-2.0
// -D / --list-interfaces in namespace A of the WireGuard testbed: numbered
// in tcpdump's layout, the wireguard-go tunnel marked, flags as tcpdump -D
// shows them, and no privileges needed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "support/live_wgcap.hpp"
#include "support/subprocess.hpp"

namespace wgcap::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new LiveTestbed("ld"));

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// "3.veth-a [Up, Running, Connected]" → "veth-a [Up, Running, Connected]".
std::string WithoutNumber(const std::string& line) {
  return line.substr(line.find('.') + 1);
}

class ListInterfaces : public LiveTest {
protected:
  ProcessResult ListAsNobody(const std::string& flag = "-D") {
    return test::Run(testbed_->InA({"setpriv", "--reuid", "65534", "--regid", "65534",
                                    "--clear-groups", WgcapBinary(), flag}));
  }
};

TEST_F(ListInterfaces, NumberedWireGuardMarkedWithoutPrivileges) {
  const auto r = ListAsNobody();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  const std::regex layout(R"((\d+)\.(\S+)( \(WireGuard\))? \[([A-Za-z, ]+)\])");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(lines[i], m, layout)) << lines[i];
    EXPECT_EQ(m[1], std::to_string(i + 1)) << "numbered from 1";
  }
  // The UAPI socket is root's: nobody sees the mark but no peer count.
  EXPECT_THAT(r.out, HasSubstr("." + testbed_->if_a + " (WireGuard) [Up, Running, Connected]\n"));
  EXPECT_THAT(r.out, HasSubstr(".veth-a [Up, Running, Connected]\n"));
  EXPECT_EQ(lines.back(), "3.lo [Up, Running, Loopback]") << "loopback after the rest";
  EXPECT_EQ(ListAsNobody("--list-interfaces").out, r.out);
}

TEST_F(ListInterfaces, SameNamesAndFlagsAsTcpdump) {
  const auto ours = test::Run(testbed_->InA({WgcapBinary(), "-D"}));
  const auto theirs = test::Run(testbed_->InA({"tcpdump", "-D"}));
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  for (const std::string& line : Lines(ours.out)) {
    std::string plain = WithoutNumber(line);
    // " (WireGuard)" or, as root, " (WireGuard, 1 peer)": tcpdump has neither.
    if (const auto mark = plain.find(" (WireGuard"); mark != std::string::npos) {
      plain.erase(mark, plain.find(')', mark) + 1 - mark);
    }
    EXPECT_THAT(theirs.out, HasSubstr("." + plain + "\n")) << theirs.out;
  }
}

// A TUN device without a wireguard-go control socket is no WireGuard link.
TEST_F(ListInterfaces, ADownLinkComesLastWithNone) {
  const auto add =
      test::Run(testbed_->InA({"ip", "tuntap", "add", "dev", "wgcapdummy0", "mode", "tun"}));
  ASSERT_EQ(add.exit_code, 0) << add.err; // removed with the testbed's namespace
  const auto r = test::Run(testbed_->InA({WgcapBinary(), "-D"}));
  const auto tcpdump = test::Run(testbed_->InA({"tcpdump", "-D"}));
  test::Run(testbed_->InA({"ip", "link", "del", "wgcapdummy0"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  // The driver's link state (ETHTOOL_GLINK) says Disconnected, as in tcpdump.
  EXPECT_EQ(lines.back(), "4.wgcapdummy0 [none, Disconnected]");
  EXPECT_THAT(tcpdump.out, HasSubstr(".wgcapdummy0 [none, Disconnected]\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("wgcapdummy0 (WireGuard)")));
}

TEST_F(ListInterfaces, OtherFlagsDoNotMatter) {
  const auto r = test::Run(testbed_->InA({WgcapBinary(), "-D", "-i", "nosuch0", "-c", "3", "tcp"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(testbed_->if_a + " (WireGuard, 1 peer)"));
}

} // namespace
} // namespace wgcap::test
