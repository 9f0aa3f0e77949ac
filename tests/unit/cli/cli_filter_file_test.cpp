// SPDX-License-Identifier: Apache-2.0
// `wgcap -F FILE` through the binary, as tcpdump 4.99.3 behaves: the file's
// expression (comments and line breaks allowed) replaces any expression
// arguments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;
using test::ProcessResult;
using ::testing::HasSubstr;

constexpr std::int64_t kT0 = 1700000000LL * 1000000000LL;

ProcessResult Wgcap(std::vector<std::string> args) {
  args.insert(args.begin(), test::WgcapBinary());
  return test::Run(args);
}

class CliFilterFileRun : public ::testing::Test {
protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    MemoryWriter out;
    PcapWriter w(out, 0);
    const std::vector<std::vector<std::uint8_t>> packets = {
        PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Tcp(40000, 443, 0x02).Build(),
        PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Udp(5000, 53).Build(),
        PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Icmp(8, 0, 7, 1).Build(),
    };
    for (std::size_t i = 0; i < packets.size(); ++i) {
      EXPECT_TRUE(w.WritePacket(kT0 + static_cast<std::int64_t>(i) * 1000, packets[i]));
    }
    input_ = dir_.File("in.pcap");
    test::WriteFileBytes(input_, out.bytes());
  }

  std::string FilterFile(const std::string& text) {
    const std::string path = dir_.File("filter.txt");
    std::ofstream(path) << text;
    return path;
  }

  test::TempDir dir_;
  std::string input_;
};

TEST_F(CliFilterFileRun, SelectsAsTheSameExpressionOnTheCommandLine) {
  const ProcessResult direct = Wgcap({"-r", input_, "tcp", "or", "icmp"});
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  const ProcessResult from_file =
      Wgcap({"-r", input_, "-F", FilterFile("# web and pings\ntcp\n  or icmp # echo\n")});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(from_file.out, direct.out);
  EXPECT_THAT(from_file.err, HasSubstr("3 packets read, 2 matched, 2 written"));
}

TEST_F(CliFilterFileRun, ExpressionArgumentsAreIgnoredAsInTcpdump) {
  const ProcessResult r = Wgcap({"-r", input_, "-F", FilterFile("udp\n"), "tcp", "or", "icmp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("[?    UDP]"));
  EXPECT_THAT(r.err, HasSubstr("3 packets read, 1 matched, 1 written"));
}

TEST_F(CliFilterFileRun, AnEmptyFileSelectsEverything) {
  const ProcessResult r = Wgcap({"-r", input_, "-F", FilterFile("# nothing yet\n")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("3 packets read, 3 matched, 3 written"));
}

TEST_F(CliFilterFileRun, AFilterErrorPointsIntoTheFileText) {
  const std::string out = dir_.File("out.pcapng");
  const ProcessResult r =
      Wgcap({"-r", input_, "-w", out, "-F", FilterFile("tcp # x\nand port 99999\n")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("wgcap: filter: column 18: invalid port \"99999\""));
  EXPECT_THAT(r.err, HasSubstr("\n  tcp     and port 99999 \n                   ^\n"));
  EXPECT_FALSE(std::filesystem::exists(out));
}

} // namespace
} // namespace wgcap
