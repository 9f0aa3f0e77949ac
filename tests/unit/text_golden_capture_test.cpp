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

INSTANTIATE_TEST_SUITE_P(Tools, GoldenCapture,
                         ::testing::Values(Case{{}, "tools.txt"}, Case{{"-v"}, "tools-v.txt"},
                                           Case{{"-A", "tcp port 8080 or icmp"},
                                                "tools-A-http-icmp.txt"}),
                         [](const auto& param_info) {
                           return std::string(param_info.index == 0   ? "Plain"
                                              : param_info.index == 1 ? "Verbose"
                                                                      : "Ascii");
                         });

} // namespace
} // namespace wgcap
