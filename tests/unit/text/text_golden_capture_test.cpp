// SPDX-License-Identifier: Apache-2.0
// `wgcap -r` on traffic captured from real tools through the WireGuard
// testbed (tests/golden/tools.pcap, made by scripts/make-golden-captures.sh:
// ping, dig to dnsmasq, curl to an HTTP server, openssl s_client to
// s_server, ssh to dropbear), against the text reviewed by hand and kept
// beside it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/subprocess.hpp"

namespace wgcap {
namespace {

const std::string kGolden = WGCAP_GOLDEN_DIR;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Case {
  const char* name;
  std::vector<std::string> args;
  const char* expected; // file under tests/golden
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.expected;
}

class GoldenCapture : public ::testing::TestWithParam<Case> {
protected:
  void SetUp() override { setenv("TZ", "UTC", 1); }
};

TEST_P(GoldenCapture, PrintsTheReviewedText) {
  std::vector<std::string> argv = {test::WgcapBinary(), "-r", kGolden + "/tools.pcap"};
  argv.insert(argv.end(), GetParam().args.begin(), GetParam().args.end());
  const test::ProcessResult r = test::Run(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ReadText(kGolden + "/" + GetParam().expected));
}

// The layout flags (SPEC 6) on the same capture; the text was reviewed by
// hand, and its tcpdump-shaped parts (hex dumps, time columns, numbers) are
// compared with tcpdump itself in text_tcpdump_layout_test.cpp. Files carry
// no interface index, so -e prints "?".
INSTANTIATE_TEST_SUITE_P(
    Tools, GoldenCapture,
    ::testing::Values(
        Case{"Plain", {}, "tools.txt"}, Case{"Verbose", {"-v"}, "tools-v.txt"},
        Case{"VeryVerboseIsVerbose", {"-vvv"}, "tools-v.txt"},
        Case{"Ascii", {"-A", "tcp port 8080 or icmp"}, "tools-A-http-icmp.txt"},
        Case{"Quiet", {"-q"}, "tools-q.txt"},
        Case{"QuietVerboseAscii", {"-q", "-v", "-A", "tcp port 8080"}, "tools-q-v-A-http.txt"},
        Case{"AbsoluteSequence", {"-S", "-v", "tcp"}, "tools-S-v-tcp.txt"},
        Case{"HexAscii", {"-X", "tcp port 8080"}, "tools-X-http.txt"},
        Case{"HexAsciiWithLink", {"-XX", "tcp port 8080"}, "tools-X-http.txt"},
        Case{"HexAsciiOverAscii", {"-A", "-X", "tcp port 8080"}, "tools-X-http.txt"},
        Case{"NumberDateHexInterfaceVerbose",
             {"-#ttttX", "-e", "-v", "-c", "6", "tcp port 22"},
             "tools-numbered-date-X-e-v-ssh.txt"},
        Case{"SinceFirstNanoInterface",
             {"-ttttt", "--time-stamp-precision", "nano", "-e", "icmp or udp"},
             "tools-ttttt-nano-e-icmp-udp.txt"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// -xx is -x and -XX is -X: a raw-IP file has no link header to add.
TEST(GoldenCaptureHex, DoubleFlagsAddNothingOnRawIp) {
  setenv("TZ", "UTC", 1);
  const std::string file = kGolden + "/tools.pcap";
  const auto run = [&](const char* flag) {
    const test::ProcessResult r = test::Run({test::WgcapBinary(), "-r", file, flag});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  const std::string x = run("-x");
  EXPECT_NE(x.find("\t0x0000:  4500 0054"), std::string::npos);
  EXPECT_EQ(run("-xx"), x);
  EXPECT_EQ(run("-XX"), run("-X"));
}

} // namespace
} // namespace wgcap
