// SPDX-License-Identifier: Apache-2.0
// PcapngWriter's files as independent tools read them: tshark (packets, and
// its pcapng file dissector for the statistics block), capinfos, tcpdump.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wgcap/session.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;

constexpr std::int64_t kT0 = 1'700'000'000'123'456'789;

PacketRecord Record(const Bytes& data, Direction direction, std::int64_t ts,
                    std::uint32_t original = 0) {
  PacketRecord r;
  r.timestamp_ns = ts;
  r.data = data;
  r.direction = direction;
  r.original_length = original;
  return r;
}

std::string WriteFile(const test::TempDir& dir, const std::string& name,
                      const std::vector<PacketRecord>& packets, const Stats& stats) {
  const std::string path = dir.File(name);
  auto file = AtomicFileWriter::Create(path);
  EXPECT_TRUE(file) << file.error().message;
  PcapngWriterOptions o;
  o.interface_name = "wg0";
  o.filter = "icmp or udp";
  o.application = "wgcap test";
  PcapngWriter w(**file, o);
  EXPECT_TRUE(w.WriteHeader());
  for (const auto& p : packets) {
    EXPECT_TRUE(w.WritePacket(p));
  }
  EXPECT_TRUE(w.Finish(stats));
  EXPECT_TRUE((*file)->Commit());
  return path;
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

class PcapngExternalReaders : public ::testing::Test {
protected:
  void SetUp() override {
    icmp_ = PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Icmp(8, 0, 7, 1).PayloadSize(56).Build();
    udp_ = PacketBuilder::Ipv6("fd00::1", "fd00::2").Udp(4000, 5000).Payload("ping").Build();
    Stats s;
    s.kernel_seen = 50;
    s.kernel_matched = 3;
    s.kernel_ring_drops = 1;
    s.received = 3;
    s.matched = 3;
    s.dropped = 1;
    path_ = WriteFile(dir_, "three.pcapng",
                      {Record(icmp_, Direction::Outbound, kT0),
                       Record(udp_, Direction::Inbound, kT0 + 1000, 1400),
                       Record(icmp_, Direction::Unknown, kT0 + 2'000'000)},
                      s);
  }

  test::TempDir dir_;
  std::string path_;
  Bytes icmp_, udp_;
};

TEST_F(PcapngExternalReaders, TsharkSeesLengthsInterfaceAndDirection) {
  const auto r = test::Run({"tshark", "-r", path_, "-T", "fields", "-e", "frame.time_epoch", "-e",
                            "frame.len", "-e", "frame.cap_len", "-e", "frame.interface_name", "-e",
                            "frame.packet_flags_direction"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // frame.len is the original length; the direction field is the flags'
  // two low bits (1 inbound, 2 outbound).
  EXPECT_THAT(Lines(r.out), ElementsAre("1700000000.123456789\t84\t84\twg0\t0x00000002",
                                        "1700000000.123457789\t1400\t52\twg0\t0x00000001",
                                        "1700000000.125456789\t84\t84\twg0\t0x00000000"));
}

TEST_F(PcapngExternalReaders, CapinfosSeesInterfaceFilterAndApplication) {
  const auto r = test::Run({"capinfos", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("File type:           Wireshark/... - pcapng"));
  EXPECT_THAT(r.out, HasSubstr("Capture application: wgcap test"));
  EXPECT_THAT(r.out, HasSubstr("Name = wg0"));
  EXPECT_THAT(r.out, HasSubstr("Encapsulation = Raw IP"));
  EXPECT_THAT(r.out, HasSubstr("Time precision = nanoseconds (9)"));
  EXPECT_THAT(r.out, HasSubstr("Filter string = icmp or udp"));
  EXPECT_THAT(r.out, HasSubstr("Number of stat entries = 1"));
  EXPECT_THAT(r.out, HasSubstr("Number of packets = 3"));
}

// tshark's pcapng file dissector ("MIME Files Format") decodes the blocks
// themselves, statistics included; the packet view never shows them.
TEST_F(PcapngExternalReaders, TsharkFileDissectorSeesTheStatistics) {
  const auto r = test::Run({"tshark", "-r", path_, "-X", "read_format:MIME Files Format", "-T",
                            "fields", "-e", "pcapng.options.option.data.interface.received", "-e",
                            "pcapng.options.option.data.interface.dropped", "-e",
                            "pcapng.options.option.data.interface.accepted_by_filter", "-e",
                            "pcapng.options.option.data.interface.dropped_by_os", "-e",
                            "pcapng.options.option.data.interface.delivered_to_user"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "50\t1\t3\t1\t3\n");
}

TEST_F(PcapngExternalReaders, TcpdumpReadsEveryPacket) {
  const auto r = test::Run({"tcpdump", "-nn", "-tt", "-r", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("RAW"));
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  // libpcap 1.10 does not hand epb_flags to tcpdump, so no In/Out here.
  EXPECT_THAT(lines[0], HasSubstr("1700000000.123456 IP 192.0.2.1 > 192.0.2.2: ICMP echo"));
  EXPECT_THAT(lines[1], HasSubstr("1700000000.123457 IP6 fd00::1.4000 > fd00::2.5000: UDP"));
  EXPECT_THAT(lines[1], HasSubstr("length 4")) << "UDP payload of the truncated original";
  EXPECT_THAT(lines[2], HasSubstr("1700000000.125456 IP 192.0.2.1 > 192.0.2.2: ICMP echo"));
}

TEST(PcapngWriterFiles, ZeroPacketFileIsValid) {
  test::TempDir dir;
  const std::string path = WriteFile(dir, "empty.pcapng", {}, Stats{});
  const auto tcpdump = test::Run({"tcpdump", "-nn", "-r", path});
  EXPECT_EQ(tcpdump.exit_code, 0) << tcpdump.err;
  EXPECT_EQ(tcpdump.out, "");
  const auto tshark = test::Run({"tshark", "-r", path});
  EXPECT_EQ(tshark.exit_code, 0) << tshark.err;
  EXPECT_EQ(tshark.out, "");
  const auto capinfos = test::Run({"capinfos", path});
  EXPECT_EQ(capinfos.exit_code, 0) << capinfos.err;
  EXPECT_THAT(capinfos.out, HasSubstr("Number of packets:   0"));
}

} // namespace
} // namespace wgcap
