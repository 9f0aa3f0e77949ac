// SPDX-License-Identifier: Apache-2.0
#include "wgcap/pcap_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Bytes = std::vector<std::uint8_t>;

constexpr std::int64_t kT0 = 1'700'000'000'123'456'789; // 2023-11-14, 0x6553f100 s

const Bytes kHeader65535 = {0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
                            0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x65, 0x00, 0x00, 0x00};

Bytes Slice(const Bytes& b, std::size_t from, std::size_t n) {
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from),
               b.begin() + static_cast<std::ptrdiff_t>(from + n));
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

TEST(PcapWriter, GlobalHeaderBytes) {
  MemoryWriter out;
  PcapWriter w(out, 0);
  EXPECT_EQ(w.snaplen(), 65535u);
  ASSERT_TRUE(w.WriteHeader());
  EXPECT_EQ(out.bytes(), kHeader65535);
}

TEST(PcapWriter, SnaplenInHeader) {
  MemoryWriter out;
  PcapWriter w(out, 96);
  ASSERT_TRUE(w.WriteHeader());
  EXPECT_EQ(Slice(out.bytes(), 16, 4), (Bytes{96, 0, 0, 0}));
}

TEST(PcapWriter, HeaderIsLazyAndWrittenOnce) {
  MemoryWriter out;
  PcapWriter w(out, 0);
  EXPECT_TRUE(out.bytes().empty()) << "nothing before the first packet";
  ASSERT_TRUE(w.Flush());
  EXPECT_TRUE(out.bytes().empty());
  ASSERT_TRUE(w.WriteHeader());
  ASSERT_TRUE(w.WriteHeader());
  EXPECT_EQ(out.bytes().size(), 24u);
  ASSERT_TRUE(w.WritePacket(kT0, Bytes{0x45}));
  EXPECT_EQ(out.bytes().size(), 24u + 16u + 1u) << "no second header";
}

TEST(PcapWriter, FirstPacketWritesHeader) {
  MemoryWriter out;
  PcapWriter w(out, 0);
  ASSERT_TRUE(w.WritePacket(kT0, Bytes{1, 2, 3}));
  EXPECT_EQ(Slice(out.bytes(), 0, 24), kHeader65535);
}

TEST(PcapWriter, RecordsByteExact) {
  MemoryWriter out;
  PcapWriter w(out, 0);
  ASSERT_TRUE(w.WritePacket(kT0, Bytes{0xaa, 0xbb, 0xcc}));
  ASSERT_TRUE(w.WritePacket(kT0 + 876'543'210 + 999, Bytes{0xdd}, 60));
  const Bytes& b = out.bytes();
  ASSERT_EQ(b.size(), 24u + 16u + 3u + 16u + 1u);
  // 1700000000 = 0x6553f100, 123456 µs = 0x0001e240; ns below 1 µs are dropped.
  EXPECT_EQ(Slice(b, 24, 19), (Bytes{0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0x00, 3, 0, 0, 0, 3,
                                     0, 0, 0, 0xaa, 0xbb, 0xcc}));
  // 1700000001.000000 (the ns carry into the next second), incl 1, orig 60.
  EXPECT_EQ(Slice(b, 43, 17),
            (Bytes{0x01, 0xf1, 0x53, 0x65, 0, 0, 0, 0, 1, 0, 0, 0, 60, 0, 0, 0, 0xdd}));
}

TEST(PcapWriter, SnaplenTruncatesButKeepsOriginalLength) {
  MemoryWriter out;
  PcapWriter w(out, 4);
  ASSERT_TRUE(w.WritePacket(0, Bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  ASSERT_TRUE(w.WritePacket(0, Bytes{1, 2, 3, 4, 5, 6}, 1500));
  const Bytes& b = out.bytes();
  ASSERT_EQ(b.size(), 24u + 2 * (16u + 4u));
  EXPECT_EQ(Slice(b, 24 + 8, 12), (Bytes{4, 0, 0, 0, 10, 0, 0, 0, 1, 2, 3, 4}));
  EXPECT_EQ(Slice(b, 44 + 8, 8), (Bytes{4, 0, 0, 0, 0xdc, 0x05, 0, 0}));
}

TEST(PcapWriter, OriginalLengthNeverBelowCaptured) {
  MemoryWriter out;
  PcapWriter w(out, 0);
  ASSERT_TRUE(w.WritePacket(0, Bytes(8, 0x45), 5));
  EXPECT_EQ(Slice(out.bytes(), 24 + 8, 8), (Bytes{8, 0, 0, 0, 8, 0, 0, 0}));
}

TEST(PcapWriter, NegativeTimestampUsesFloorDivision) {
  MemoryWriter out;
  PcapWriter w(out, 0);
  ASSERT_TRUE(w.WritePacket(-1, Bytes{}));             // 1969-12-31 23:59:59.999999
  ASSERT_TRUE(w.WritePacket(-1'000'000'000, Bytes{})); // exactly -1 s
  const Bytes& b = out.bytes();
  EXPECT_EQ(Slice(b, 24, 8), (Bytes{0xff, 0xff, 0xff, 0xff, 0x3f, 0x42, 0x0f, 0x00}));
  EXPECT_EQ(Slice(b, 40, 8), (Bytes{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}));
}

TEST(PcapWriter, PacketRecordOverload) {
  MemoryWriter out;
  PcapWriter w(out, 0);
  const Bytes data = {0x60, 0, 0, 0};
  PacketRecord r;
  r.timestamp_ns = kT0;
  r.data = data;
  r.original_length = 1280;
  r.direction = Direction::Outbound;
  ASSERT_TRUE(w.WritePacket(r));
  EXPECT_EQ(Slice(out.bytes(), 24, 20),
            (Bytes{0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0x00, 4, 0,
                   0,    0,    0x00, 0x05, 0,    0,    0x60, 0,    0, 0}));
}

TEST(PcapWriter, WriteErrorsArePropagated) {
  const int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  {
    FdWriter out(fd, "/dev/full", 0); // unbuffered: the header write itself fails
    PcapWriter w(out, 0);
    const Status s = w.WritePacket(kT0, Bytes{0x45});
    ASSERT_FALSE(s);
    EXPECT_THAT(s.error().message, StartsWith("write /dev/full: No space left on device"));
    EXPECT_FALSE(w.Flush());
  }
  close(fd);
}

TEST(PcapWriter, ZeroPacketFileIsJustTheHeader) {
  test::TempDir dir;
  const std::string path = dir.File("empty.pcap");
  auto file = AtomicFileWriter::Create(path);
  ASSERT_TRUE(file) << file.error().message;
  PcapWriter w(**file, 0);
  ASSERT_TRUE(w.WriteHeader());
  ASSERT_TRUE((*file)->Commit());
  EXPECT_EQ(test::ReadFileBytes(path), kHeader65535);
  const auto r = test::Run({"tcpdump", "-nn", "-r", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(PcapWriter, NanoPrecisionHasItsMagicAndNanosecondRecords) {
  MemoryWriter out;
  PcapWriter w(out, 0, PcapTimePrecision::Nano);
  EXPECT_EQ(w.precision(), PcapTimePrecision::Nano);
  const Bytes packet = PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Udp(1, 2).Build();
  ASSERT_TRUE(w.WritePacket(kT0, packet));
  Bytes header = kHeader65535;
  header[0] = 0x4d; // a1b23c4d, little-endian
  header[1] = 0x3c;
  EXPECT_EQ(Slice(out.bytes(), 0, 24), header);
  // 0x6553f100 s, 123456789 ns = 0x075bcd15.
  EXPECT_EQ(Slice(out.bytes(), 24, 8), (Bytes{0x00, 0xf1, 0x53, 0x65, 0x15, 0xcd, 0x5b, 0x07}));
}

TEST(PcapWriter, NanoPrecisionBeforeTheEpochUsesFloorDivision) {
  MemoryWriter out;
  PcapWriter w(out, 0, PcapTimePrecision::Nano);
  ASSERT_TRUE(w.WritePacket(-1, Bytes{0x45}));
  // -1 ns is 1 ns before second 0: second -1, 999999999 ns.
  EXPECT_EQ(Slice(out.bytes(), 24, 8), (Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xc9, 0x9a, 0x3b}));
}

class ExternalReaders : public ::testing::Test {
protected:
  void SetUp() override {
    path_ = dir_.File("three.pcap");
    auto file = AtomicFileWriter::Create(path_);
    ASSERT_TRUE(file) << file.error().message;
    PcapWriter w(**file, 0);
    const Bytes tcp = PacketBuilder::Ipv4("10.0.0.1", "10.0.0.2").Tcp(40000, 80).Build();
    const Bytes udp =
        PacketBuilder::Ipv6("fd00::1", "fd00::2").Udp(4000, 5000).Payload("ping").Build();
    const Bytes icmp = PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Icmp(8, 0, 7, 1).Build();
    ASSERT_TRUE(w.WritePacket(kT0, tcp));
    ASSERT_TRUE(w.WritePacket(kT0 + 1'000, udp));
    ASSERT_TRUE(w.WritePacket(kT0 + 2'000'000, icmp));
    ASSERT_TRUE((*file)->Commit());
  }

  test::TempDir dir_;
  std::string path_;
};

TEST_F(ExternalReaders, TcpdumpReadsEveryPacket) {
  const auto r = test::Run({"tcpdump", "-nn", "-tt", "-r", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("RAW")) << "link type as tcpdump sees it";
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("1700000000.123456 IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S]"));
  EXPECT_THAT(lines[1], StartsWith("1700000000.123457 IP6 fd00::1.4000 > fd00::2.5000: UDP"));
  EXPECT_THAT(lines[1], HasSubstr("length 4"));
  EXPECT_THAT(lines[2],
              StartsWith("1700000000.125456 IP 192.0.2.1 > 192.0.2.2: ICMP echo request"));
}

// Nanosecond pcap as the tools read it: every digit of kT0 survives.
class NanoExternalReaders : public ::testing::Test {
protected:
  void SetUp() override {
    path_ = dir_.File("nano.pcap");
    auto file = AtomicFileWriter::Create(path_);
    ASSERT_TRUE(file) << file.error().message;
    PcapWriter w(**file, 0, PcapTimePrecision::Nano);
    const Bytes tcp = PacketBuilder::Ipv4("10.0.0.1", "10.0.0.2").Tcp(40000, 80).Build();
    ASSERT_TRUE(w.WritePacket(kT0, tcp));
    ASSERT_TRUE(w.WritePacket(kT0 + 1, tcp));
    ASSERT_TRUE((*file)->Commit());
  }

  test::TempDir dir_;
  std::string path_;
};

TEST_F(NanoExternalReaders, TcpdumpReadsNanoseconds) {
  const auto r =
      test::Run({"tcpdump", "-nn", "-tt", "--time-stamp-precision", "nano", "-r", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("1700000000.123456789 IP 10.0.0.1.40000 > 10.0.0.2.80"));
  EXPECT_THAT(lines[1], StartsWith("1700000000.123456790 IP "));
}

TEST_F(NanoExternalReaders, TsharkReadsNanoseconds) {
  const auto r = test::Run({"tshark", "-r", path_, "-T", "fields", "-e", "frame.time_epoch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Lines(r.out),
              ElementsAre(StartsWith("1700000000.123456789"), StartsWith("1700000000.123456790")));
}

TEST_F(ExternalReaders, TsharkReadsEveryPacket) {
  // tshark warns on stderr when run as root; only stdout matters.
  const auto r =
      test::Run({"tshark", "-r", path_, "-T", "fields", "-e", "ip.src", "-e", "ipv6.src"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Lines(r.out), ElementsAre("10.0.0.1\t", "\tfd00::1", "192.0.2.1\t"));
}

} // namespace
} // namespace wgcap
