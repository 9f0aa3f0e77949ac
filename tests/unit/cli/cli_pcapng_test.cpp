// SPDX-License-Identifier: Apache-2.0
// The wgcap binary with pcapng on either side: -w *.pcapng, --pcapng -w -,
// -r of a pcapng file, each read back by tshark, capinfos and tcpdump.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "file/pcap_reader.hpp"
#include "file/pcapng_reader.hpp"
#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wgcap/session.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;
using test::ProcessResult;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Bytes = std::vector<std::uint8_t>;

constexpr std::int64_t kT0 = 1700000000LL * 1000000000LL; // 2023-11-14 22:13:20 UTC

struct Packet {
  Bytes bytes;
  Direction direction;
};

std::vector<Packet> Traffic() {
  return {
      {PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Tcp(40000, 443, 0x02).Build(),
       Direction::Outbound},
      {PacketBuilder::Ipv4("198.51.100.2", "198.51.100.1").Tcp(443, 40000, 0x12).Build(),
       Direction::Inbound},
      {PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Udp(5000, 53).PayloadSize(30).Build(),
       Direction::Outbound},
      {PacketBuilder::Ipv6("2001:db8:100::1", "2001:db8:100::2").Icmp6(128, 0).Build(),
       Direction::Unknown},
  };
}

std::string WritePcap(const test::TempDir& dir, const std::string& name) {
  MemoryWriter out;
  PcapWriter w(out, 0);
  const auto traffic = Traffic();
  for (std::size_t i = 0; i < traffic.size(); ++i) {
    EXPECT_TRUE(w.WritePacket(kT0 + static_cast<std::int64_t>(i) * 1000, traffic[i].bytes));
  }
  test::WriteFileBytes(dir.File(name), out.bytes());
  return dir.File(name);
}

// Traffic() as pcapng, captured on wg0; with `interfaces`, on those in turn
// (packet i on interfaces[i % size]).
std::string WritePcapng(const test::TempDir& dir, const std::string& name,
                        const std::vector<PcapngInterface>& interfaces = {}) {
  MemoryWriter out;
  PcapngWriterOptions o;
  o.interface_name = "wg0";
  o.interfaces = interfaces;
  PcapngWriter w(out, o);
  const auto traffic = Traffic();
  for (std::size_t i = 0; i < traffic.size(); ++i) {
    PacketRecord p;
    p.timestamp_ns = kT0 + static_cast<std::int64_t>(i) * 1000;
    p.data = traffic[i].bytes;
    p.direction = traffic[i].direction;
    p.ifindex = interfaces.empty() ? 0 : interfaces[i % interfaces.size()].ifindex;
    EXPECT_TRUE(w.WritePacket(p));
  }
  EXPECT_TRUE(w.Finish(Stats{}));
  test::WriteFileBytes(dir.File(name), out.bytes());
  return dir.File(name);
}

ProcessResult Wgcap(std::vector<std::string> args, const std::string& stdin_data = {}) {
  args.insert(args.begin(), test::WgcapBinary());
  return test::Run(args, stdin_data);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    lines.push_back(text.substr(at, nl - at));
    at = nl == std::string::npos ? text.size() : nl + 1;
  }
  return lines;
}

// tshark's view of each packet: original length, interface, direction bits.
ProcessResult TsharkFields(const std::string& path, const std::string& stdin_data = {}) {
  return test::Run({"tshark", "-r", path, "-T", "fields", "-e", "frame.len", "-e",
                    "frame.interface_name", "-e", "frame.packet_flags_direction"},
                   stdin_data);
}

// The statistics block as tshark's pcapng file dissector decodes it.
ProcessResult TsharkStatistics(const std::string& path) {
  return test::Run({"tshark", "-r", path, "-X", "read_format:MIME Files Format", "-T", "fields",
                    "-e", "pcapng.options.option.data.interface.received", "-e",
                    "pcapng.options.option.data.interface.dropped", "-e",
                    "pcapng.options.option.data.interface.accepted_by_filter", "-e",
                    "pcapng.options.option.data.interface.dropped_by_os", "-e",
                    "pcapng.options.option.data.interface.delivered_to_user"});
}

class CliPcapng : public ::testing::Test {
protected:
  void SetUp() override { setenv("TZ", "UTC", 1); }
  test::TempDir dir_;
};

TEST_F(CliPcapng, AFileNamedPcapngIsWrittenAsPcapng) {
  const std::string in = WritePcap(dir_, "in.pcap");
  const std::string out = dir_.File("out.pcapng");
  auto r = Wgcap({"-r", in, "-w", out, "tcp or udp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("4 packets read, 3 matched, 3 written"));
  const auto bytes = test::ReadFileBytes(out);
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(Bytes(bytes.begin(), bytes.begin() + 4), (Bytes{0x0a, 0x0d, 0x0d, 0x0a}));

  // A pcap input records no direction: the flags say so (0).
  auto fields = TsharkFields(out);
  ASSERT_EQ(fields.exit_code, 0) << fields.err;
  EXPECT_THAT(Lines(fields.out), ElementsAre(std::to_string(40) + "\t" + in + "\t0x00000000",
                                             std::to_string(40) + "\t" + in + "\t0x00000000",
                                             std::to_string(58) + "\t" + in + "\t0x00000000"));
  auto capinfos = test::Run({"capinfos", out});
  ASSERT_EQ(capinfos.exit_code, 0) << capinfos.err;
  EXPECT_THAT(capinfos.out, HasSubstr("Capture application: wgcap "));
  EXPECT_THAT(capinfos.out, HasSubstr("Filter string = tcp or udp"));
  EXPECT_THAT(capinfos.out, HasSubstr("Time precision = nanoseconds (9)"));
  // No kernel in a file read: received = packets read, accepted = matched.
  auto stats = TsharkStatistics(out);
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(stats.out, "4\t0\t3\t0\t3\n");
  auto tcpdump = test::Run({"tcpdump", "-nn", "-r", out});
  ASSERT_EQ(tcpdump.exit_code, 0) << tcpdump.err;
  EXPECT_EQ(Lines(tcpdump.out).size(), 3u) << tcpdump.out;
}

TEST_F(CliPcapng, PcapngFlagToStdout) {
  const std::string in = WritePcap(dir_, "in.pcap");
  auto r = Wgcap({"-r", in, "--pcapng", "-w", "-", "icmp6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_GE(r.out.size(), 4u);
  EXPECT_EQ(r.out.substr(0, 4), "\x0a\x0d\x0d\x0a");
  auto fields = TsharkFields("-", r.out);
  ASSERT_EQ(fields.exit_code, 0) << fields.err;
  EXPECT_THAT(Lines(fields.out), ElementsAre("48\t" + in + "\t0x00000000"));
}

TEST_F(CliPcapng, ZeroMatchesStillWriteAValidFile) {
  const std::string in = WritePcap(dir_, "in.pcap");
  const std::string out = dir_.File("none.pcapng");
  auto r = Wgcap({"-r", in, "-w", out, "port 9"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto capinfos = test::Run({"capinfos", out});
  ASSERT_EQ(capinfos.exit_code, 0) << capinfos.err;
  EXPECT_THAT(capinfos.out, HasSubstr("Number of packets:   0"));
  EXPECT_THAT(capinfos.out, HasSubstr("Number of stat entries = 1"));
  auto stats = TsharkStatistics(out);
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(stats.out, "4\t0\t0\t0\t0\n");
}

TEST_F(CliPcapng, TextFromPcapngShowsTheDirection) {
  const std::string in = WritePcapng(dir_, "dir.pcapng");
  auto r = Wgcap({"-r", in});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, StartsWith("reading from file " + in + ", link-type RAW (Raw IP)"));
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("22:13:20.000000 [OUT  TCP] 198.51.100.1:40000 >"));
  EXPECT_THAT(lines[1], StartsWith("22:13:20.000001 [IN   TCP] 198.51.100.2:443 >"));
  EXPECT_THAT(lines[2], StartsWith("22:13:20.000002 [OUT  UDP]"));
  EXPECT_THAT(lines[3], StartsWith("22:13:20.000003 [?   "));
}

// -e names each packet's interface as the file does (if_name): a capture of
// -i wg0,wg1 read back keeps them apart; a pcap file records none ("?").
TEST_F(CliPcapng, TextFromPcapngNamesEachPacketsInterface) {
  const std::string in = WritePcapng(dir_, "two.pcapng", {{"wg0", 3}, {"wg1", 5}});
  auto r = Wgcap({"-r", in, "-e"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("22:13:20.000000 wg0 [OUT  TCP]"));
  EXPECT_THAT(lines[1], StartsWith("22:13:20.000001 wg1 [IN   TCP]"));
  EXPECT_THAT(lines[2], StartsWith("22:13:20.000002 wg0 [OUT  UDP]"));
  EXPECT_THAT(lines[3], StartsWith("22:13:20.000003 wg1 [?   "));
  const std::string pcap = dir_.File("two.pcap");
  ASSERT_EQ(Wgcap({"-r", in, "-w", pcap}).exit_code, 0);
  auto flat = Wgcap({"-r", pcap, "-e"});
  ASSERT_EQ(flat.exit_code, 0) << flat.err;
  EXPECT_THAT(Lines(flat.out)[0], StartsWith("22:13:20.000000 ? [?    TCP]"));
}

TEST_F(CliPcapng, PcapngToPcapngKeepsTheDirection) {
  const std::string in = WritePcapng(dir_, "dir.pcapng");
  const std::string out = dir_.File("tcp.pcapng");
  auto r = Wgcap({"-r", in, "-w", out, "tcp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto fields = TsharkFields(out);
  ASSERT_EQ(fields.exit_code, 0) << fields.err;
  EXPECT_THAT(Lines(fields.out),
              ElementsAre("40\t" + in + "\t0x00000002", "40\t" + in + "\t0x00000001"));
}

TEST_F(CliPcapng, PcapngToPcap) {
  const std::string in = WritePcapng(dir_, "dir.pcapng");
  const std::string out = dir_.File("udp.pcap");
  auto r = Wgcap({"-r", in, "-w", out, "udp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tcpdump = test::Run({"tcpdump", "-nn", "-tt", "-r", out});
  ASSERT_EQ(tcpdump.exit_code, 0) << tcpdump.err;
  EXPECT_THAT(tcpdump.out, StartsWith("1700000000.000002 IP 198.51.100.1.5000 > 198.51.100.2.53"));
  const auto bytes = test::ReadFileBytes(out);
  EXPECT_EQ(bytes[0], 0xd4) << "pcap, not pcapng";
}

TEST_F(CliPcapng, ReadsPcapngFromEditcapAndStdin) {
  const std::string in = WritePcap(dir_, "in.pcap");
  const std::string converted = dir_.File("editcap.pcapng");
  auto run = test::Run({"editcap", "-F", "pcapng", in, converted});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto r = Wgcap({"-r", converted, "tcp port 443"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), 2u) << r.out;
  const auto bytes = test::ReadFileBytes(converted);
  auto piped = Wgcap({"-r", "-", "udp"}, std::string(bytes.begin(), bytes.end()));
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_THAT(piped.out, HasSubstr("198.51.100.1:5000 > 198.51.100.2:53"));
}

TEST_F(CliPcapng, TruncatedPcapngKeepsEarlierPacketsAndNamesTheOffset) {
  auto bytes = test::ReadFileBytes(WritePcapng(dir_, "whole.pcapng"));
  // SHB (28) + IDB (40) + two TCP packet blocks (44 + 40 each); cut the third.
  const std::size_t third = 28 + 40 + 2 * 84;
  bytes.resize(third + 30);
  const std::string cut = dir_.File("cut.pcapng");
  test::WriteFileBytes(cut, bytes);
  const std::string out = dir_.File("cut-out.pcapng");
  auto r = Wgcap({"-r", cut, "-w", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("truncated block at byte offset " + std::to_string(third)));
  EXPECT_THAT(r.err, HasSubstr("2 packets read"));
  auto fields = TsharkFields(out);
  ASSERT_EQ(fields.exit_code, 0) << fields.err;
  EXPECT_EQ(Lines(fields.out).size(), 2u) << "the two whole packets before the cut are kept";
}

TEST(CliPcapngUsage, PcapngNeedsAFile) {
  test::TempDir dir;
  auto r = Wgcap({"-r", dir.File("x.pcap"), "--pcapng"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--pcapng needs -w FILE"));
}

} // namespace
} // namespace wgcap
