// SPDX-License-Identifier: Apache-2.0
// Which file format `wgcap -w` writes (SPEC 6: pcapng unless the name ends in
// .pcap or --pcap is given, rotated files alike) and the pcap timestamp
// precision (--time-stamp-precision), read back by tcpdump.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
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
using ::testing::StartsWith;
using Bytes = std::vector<std::uint8_t>;

// 2023-11-14 22:13:20.123456789 UTC: nanoseconds a µs file would lose.
constexpr std::int64_t kT0 = 1'700'000'000'123'456'789;

const Bytes kPcapMicro = {0xd4, 0xc3, 0xb2, 0xa1};
const Bytes kPcapNano = {0x4d, 0x3c, 0xb2, 0xa1};
const Bytes kPcapng = {0x0a, 0x0d, 0x0d, 0x0a};

ProcessResult Wgcap(std::vector<std::string> args) {
  args.insert(args.begin(), test::WgcapBinary());
  return test::Run(args);
}

Bytes Magic(const std::string& path) {
  const Bytes bytes = test::ReadFileBytes(path);
  return Bytes(bytes.begin(), bytes.begin() + std::min<std::size_t>(4, bytes.size()));
}

class CliOutputFormat : public ::testing::Test {
protected:
  void SetUp() override {
    // A nanosecond input, so the precision of the output is what is tested.
    MemoryWriter out;
    PcapWriter w(out, 0, PcapTimePrecision::Nano);
    const Bytes udp = PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Udp(5000, 53).Build();
    EXPECT_TRUE(w.WritePacket(kT0, udp));
    EXPECT_TRUE(w.WritePacket(kT0 + 1, udp));
    input_ = dir_.File("in.pcap");
    test::WriteFileBytes(input_, out.bytes());
  }

  // The magic of what `wgcap -r IN -w NAME EXTRA...` wrote.
  Bytes WrittenMagic(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-r", input_, "-w", dir_.File(name)};
    args.insert(args.end(), extra.begin(), extra.end());
    const ProcessResult r = Wgcap(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Magic(dir_.File(name));
  }

  test::TempDir dir_;
  std::string input_;
};

TEST_F(CliOutputFormat, PcapngUnlessTheNameEndsInPcap) {
  EXPECT_EQ(WrittenMagic("a.pcapng"), kPcapng);
  EXPECT_EQ(WrittenMagic("a.cap"), kPcapng);
  EXPECT_EQ(WrittenMagic("noextension"), kPcapng);
  EXPECT_EQ(WrittenMagic("a.pcap.gz"), kPcapng);
  EXPECT_EQ(WrittenMagic("a.pcap"), kPcapMicro);
}

TEST_F(CliOutputFormat, TheFlagsOverrideTheName) {
  EXPECT_EQ(WrittenMagic("b.cap", {"--pcap"}), kPcapMicro);
  EXPECT_EQ(WrittenMagic("b.pcapng", {"--pcap"}), kPcapMicro);
  EXPECT_EQ(WrittenMagic("b.pcap", {"--pcapng"}), kPcapng);
}

TEST_F(CliOutputFormat, StdoutIsPcapngUnlessPcapIsAsked) {
  const ProcessResult ng = Wgcap({"-r", input_, "-w", "-"});
  ASSERT_EQ(ng.exit_code, 0) << ng.err;
  EXPECT_EQ(ng.out.substr(0, 4), "\x0a\x0d\x0d\x0a");
  const ProcessResult pcap = Wgcap({"-r", input_, "-w", "-", "--pcap"});
  ASSERT_EQ(pcap.exit_code, 0) << pcap.err;
  EXPECT_EQ(pcap.out.substr(0, 4), "\xd4\xc3\xb2\xa1");
}

TEST_F(CliOutputFormat, RotatedFilesFollowTheBaseName) {
  for (const std::string base : {"rot.pcap", "rot"}) {
    const std::string dir = dir_.File(base + "-dir");
    std::filesystem::create_directory(dir);
    const ProcessResult r = Wgcap({"-r", input_, "-w", dir + "/" + base, "-C", "1", "-W", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      ++files;
      EXPECT_EQ(Magic(entry.path()), base == "rot" ? kPcapng : kPcapMicro) << entry.path();
    }
    EXPECT_EQ(files, 1) << base;
  }
}

TEST_F(CliOutputFormat, NanoPrecisionKeepsEveryDigit) {
  EXPECT_EQ(WrittenMagic("n.pcap", {"--time-stamp-precision", "nano"}), kPcapNano);
  EXPECT_EQ(WrittenMagic("m.pcap", {"--time-stamp-precision=micro"}), kPcapMicro);
  const ProcessResult r = test::Run(
      {"tcpdump", "-nn", "-tt", "--time-stamp-precision", "nano", "-r", dir_.File("n.pcap")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("1700000000.123456789 IP 198.51.100.1.5000 > 198.51.100.2.53"));
  EXPECT_THAT(r.out, HasSubstr("\n1700000000.123456790 IP "));
  // Micro cuts to µs, as tcpdump -w without the option does.
  const ProcessResult m = test::Run({"tcpdump", "-nn", "-tt", "-r", dir_.File("m.pcap")});
  EXPECT_THAT(m.out, StartsWith("1700000000.123456 IP "));
}

TEST_F(CliOutputFormat, PcapngIgnoresThePrecisionItAlwaysHasNanoseconds) {
  EXPECT_EQ(WrittenMagic("p.pcapng", {"--time-stamp-precision", "micro"}), kPcapng);
  const ProcessResult r = test::Run(
      {"tcpdump", "-nn", "-tt", "--time-stamp-precision", "nano", "-r", dir_.File("p.pcapng")});
  EXPECT_THAT(r.out, StartsWith("1700000000.123456789 IP "));
}

} // namespace
} // namespace wgcap
