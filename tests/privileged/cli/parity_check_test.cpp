// SPDX-License-Identifier: Apache-2.0
// `wgcap --parity-check`: the three evaluators agree on a large random
// corpus and on real captured traffic.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/privileges.hpp"
#include "support/random_cases.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {
namespace {

using ::testing::HasSubstr;

std::string RandomCorpus(const test::TempDir& dir, int packets, std::uint32_t seed) {
  test::RandomCases random(seed);
  MemoryWriter out;
  PcapWriter pcap(out, 65535);
  EXPECT_TRUE(pcap.WriteHeader().ok());
  for (int i = 0; i < packets; ++i) {
    const auto p = random.Packet();
    EXPECT_TRUE(pcap.WritePacket(1700000000LL * 1000000000 + i * 1000, p).ok());
  }
  const std::string path = dir.File("corpus.pcap");
  test::WriteFileBytes(path, out.bytes());
  return path;
}

TEST(ParityCheck, RandomCorpusHasNoDisagreements) {
  WGCAP_REQUIRE_PRIVILEGES();
  test::TempDir dir;
  constexpr int kPackets = 3000;
  const std::string corpus = RandomCorpus(dir, kPackets, 77);
  test::RandomCases random(78);
  for (int i = 0; i < 12; ++i) {
    const std::string expression = random.Expression();
    const auto r = test::Run({test::WgcapBinary(), "--parity-check", "-r", corpus, expression});
    EXPECT_EQ(r.exit_code, 0) << expression << "\n" << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr(std::to_string(kPackets) + " packets checked, 0 disagreements"))
        << expression;
  }
}

TEST(ParityCheck, RealTrafficHasNoDisagreements) {
  WGCAP_REQUIRE_PRIVILEGES();
  const std::string tools = std::string(WGCAP_SOURCE_DIR) + "/tests/golden/tools.pcap";
  for (const char* expression :
       {"", "tcp and (port 443 or port 80)", "udp port 53", "icmp or icmp6",
        "not port 22 and greater 100", "ip6 and net 2001:db8:100::/64"}) {
    const auto r = test::Run({test::WgcapBinary(), "--parity-check", "-r", tools, expression});
    EXPECT_EQ(r.exit_code, 0) << expression << "\n" << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr(" packets checked, 0 disagreements")) << expression;
  }
}

TEST(ParityCheck, NeedsAFile) {
  const auto r = test::Run({test::WgcapBinary(), "--parity-check", "tcp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--parity-check needs -r FILE"));
}

} // namespace
} // namespace wgcap
