// SPDX-License-Identifier: Apache-2.0
#include "file/pcap_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;
using test::TempDir;
using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;

constexpr std::int64_t kT0 = 1'700'000'000'123'456'789;

// A pcap file written field by field, in either byte order.
class FileBuilder {
public:
  FileBuilder(bool big_endian, std::uint32_t magic, std::uint32_t snaplen = 65535,
              std::uint32_t link_type = kLinkTypeRaw, std::uint16_t major = 2)
      : big_(big_endian) {
    U32(magic);
    U16(major);
    U16(4);
    U32(0);
    U32(0);
    U32(snaplen);
    U32(link_type);
  }
  FileBuilder& Record(std::uint32_t sec, std::uint32_t frac, const Bytes& data,
                      std::optional<std::uint32_t> incl = {}, std::uint32_t orig = 0) {
    U32(sec);
    U32(frac);
    U32(incl.value_or(static_cast<std::uint32_t>(data.size())));
    U32(orig != 0 ? orig : static_cast<std::uint32_t>(data.size()));
    bytes.insert(bytes.end(), data.begin(), data.end());
    return *this;
  }
  Bytes bytes;

private:
  void U16(std::uint16_t v) {
    bytes.push_back(static_cast<std::uint8_t>(big_ ? v >> 8 : v));
    bytes.push_back(static_cast<std::uint8_t>(big_ ? v : v >> 8));
  }
  void U32(std::uint32_t v) {
    U16(static_cast<std::uint16_t>(big_ ? v >> 16 : v));
    U16(static_cast<std::uint16_t>(big_ ? v : v >> 16));
  }
  bool big_;
};

Result<std::unique_ptr<PcapReader>> OpenPath(const std::string& path) {
  auto in = ByteReader::OpenFile(path);
  if (!in) {
    return in.error();
  }
  return PcapReader::Open(std::move(in).value());
}

struct Read {
  std::vector<Bytes> data;
  std::vector<FileRecord> records; // bytes spans are stale; the copies are in `data`
  std::optional<std::string> error;
};

Read ReadAll(PcapReader& reader) {
  Read r;
  FileRecord record;
  for (;;) {
    auto more = reader.Next(record);
    if (!more) {
      r.error = more.error().message;
      return r;
    }
    if (!*more) {
      return r;
    }
    r.data.emplace_back(record.bytes.begin(), record.bytes.end());
    r.records.push_back(record);
  }
}

Read ReadPath(const std::string& path) {
  auto reader = OpenPath(path);
  EXPECT_TRUE(reader) << reader.error().message;
  return reader ? ReadAll(**reader) : Read{};
}

std::string OpenError(const std::string& path) {
  auto reader = OpenPath(path);
  return reader ? "opened" : reader.error().message;
}

Bytes Packet(int n) {
  switch (n) {
  case 0:
    return PacketBuilder::Ipv4("10.0.0.1", "10.0.0.2").Tcp(40000, 80).Build();
  case 1:
    return {0x45};
  default:
    return PacketBuilder::Ipv6("fd00::1", "fd00::2").Udp(4000, 5000).Payload("ping").Build();
  }
}

// Three records written by PcapWriter, and where each one starts.
Bytes ThreeRecordFile(std::vector<std::size_t>& starts) {
  MemoryWriter out;
  PcapWriter w(out, 0);
  for (int i = 0; i < 3; ++i) {
    starts.push_back(out.bytes().size() + (i == 0 ? 24 : 0));
    EXPECT_TRUE(w.WritePacket(kT0 + i * 1000, Packet(i)));
  }
  return out.bytes();
}

TEST(PcapReader, RoundTripFromWriter) {
  TempDir dir;
  std::vector<std::size_t> starts;
  test::WriteFileBytes(dir.File("a.pcap"), ThreeRecordFile(starts));
  auto reader = OpenPath(dir.File("a.pcap"));
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->link_type(), kLinkTypeRaw);
  EXPECT_EQ((*reader)->snaplen(), 65535u);
  EXPECT_FALSE((*reader)->nanosecond());
  EXPECT_FALSE((*reader)->swapped());
  const Read r = ReadAll(**reader);
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.data[i], Packet(i));
    EXPECT_EQ(r.records[i].timestamp_ns, 1'700'000'000'123'456'000 + i * 1000) << "µs resolution";
    EXPECT_EQ(r.records[i].captured_length, Packet(i).size());
    EXPECT_EQ(r.records[i].original_length, Packet(i).size());
    EXPECT_EQ(r.records[i].file_offset, starts[i]);
  }
}

// (big endian, nanosecond) in all four combinations.
class MagicVariants : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(MagicVariants, ReadsHeaderAndTimestamps) {
  const auto [big, nano] = GetParam();
  const Bytes data = {0x45, 0, 0, 3};
  FileBuilder f(big, nano ? 0xa1b23c4d : 0xa1b2c3d4, 1234, kLinkTypeIpv4);
  f.Record(1'700'000'000, nano ? 123'456'789 : 123'456, data);
  f.Record(0x80000000u, nano ? 999'999'999 : 999'999, Bytes{0x45, 0, 0}, {}, 100);
  TempDir dir;
  test::WriteFileBytes(dir.File("v.pcap"), f.bytes);
  auto reader = OpenPath(dir.File("v.pcap"));
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->swapped(), big) << "on a little-endian host";
  EXPECT_EQ((*reader)->nanosecond(), nano);
  EXPECT_EQ((*reader)->snaplen(), 1234u);
  EXPECT_EQ((*reader)->link_type(), kLinkTypeIpv4);
  const Read r = ReadAll(**reader);
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].timestamp_ns,
            nano ? 1'700'000'000'123'456'789 : 1'700'000'000'123'456'000);
  EXPECT_EQ(r.records[1].timestamp_ns, nano ? 2'147'483'648'999'999'999 : 2'147'483'648'999'999'000)
      << "ts_sec is unsigned";
  EXPECT_EQ(r.records[1].captured_length, 3u);
  EXPECT_EQ(r.records[1].original_length, 100u);
  EXPECT_EQ(r.data[1], (Bytes{0x45, 0, 0}));
}

INSTANTIATE_TEST_SUITE_P(All, MagicVariants,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()));

TEST(PcapReader, ReadsNanosecondFileFromEditcap) {
  TempDir dir;
  std::vector<std::size_t> starts;
  test::WriteFileBytes(dir.File("us.pcap"), ThreeRecordFile(starts));
  const auto run =
      test::Run({"editcap", "-F", "nsecpcap", dir.File("us.pcap"), dir.File("ns.pcap")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto reader = OpenPath(dir.File("ns.pcap"));
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_TRUE((*reader)->nanosecond());
  const Read r = ReadAll(**reader);
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[2].timestamp_ns, 1'700'000'000'123'458'000);
  EXPECT_EQ(r.data[2], Packet(2));
}

TEST(PcapReader, TruncationAtEveryByteNamesTheOffset) {
  TempDir dir;
  std::vector<std::size_t> starts;
  const Bytes whole = ThreeRecordFile(starts);
  const std::string path = dir.File("cut.pcap");
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    test::WriteFileBytes(path,
                         Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut)));
    if (cut < 24) {
      EXPECT_EQ(OpenError(path), path + ": truncated pcap global header at byte offset " +
                                     std::to_string(cut) + " (24 bytes needed)");
      continue;
    }
    const Read r = ReadPath(path);
    std::size_t complete = 0;
    while (complete < 3 &&
           starts[complete] + 16 + Packet(static_cast<int>(complete)).size() <= cut) {
      ++complete;
    }
    ASSERT_EQ(r.records.size(), complete);
    for (std::size_t i = 0; i < complete; ++i) {
      EXPECT_EQ(r.data[i], Packet(static_cast<int>(i)));
    }
    if (cut == starts[complete]) {
      EXPECT_FALSE(r.error) << "a cut between records is a clean end: " << *r.error;
      continue;
    }
    const std::size_t within = cut - starts[complete];
    const std::string prefix =
        path + ": truncated record at byte offset " + std::to_string(starts[complete]) + ": ";
    ASSERT_TRUE(r.error);
    if (within < 16) {
      EXPECT_EQ(*r.error, prefix + "header needs 16 bytes, file has " + std::to_string(within));
    } else {
      EXPECT_EQ(*r.error, prefix + "data needs " +
                              std::to_string(Packet(static_cast<int>(complete)).size()) +
                              " bytes, file has " + std::to_string(within - 16));
    }
  }
}

TEST(PcapReader, GlobalHeaderErrors) {
  TempDir dir;
  const std::string path = dir.File("x");
  Bytes elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  elf.resize(28);
  test::WriteFileBytes(path, elf);
  EXPECT_EQ(OpenError(path), path + ": not a pcap file (magic 0x7f454c46 at byte offset 0)");
  // Shorter than a header, but the magic already says what it is.
  test::WriteFileBytes(path, Bytes{'h', 'e', 'l', 'l', 'o', '\n'});
  EXPECT_EQ(OpenError(path), path + ": not a pcap file (magic 0x68656c6c at byte offset 0)");
  Bytes pcapng = {0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0};
  pcapng.resize(28);
  test::WriteFileBytes(path, pcapng);
  // OpenCaptureFile sends pcapng to PcapngReader; PcapReader itself names it.
  EXPECT_THAT(OpenError(path), HasSubstr(path + ": a pcapng file, not pcap"));
  test::WriteFileBytes(path, FileBuilder(false, 0xa1b2c3d4, 65535, kLinkTypeRaw, 3).bytes);
  EXPECT_THAT(OpenError(path), HasSubstr(path + ": unsupported pcap version 3.4"));
}

TEST(PcapReader, HugeCapturedLengthIsRefusedNotAllocated) {
  TempDir dir;
  const std::string path = dir.File("huge.pcap");
  FileBuilder f(false, 0xa1b2c3d4);
  f.Record(1, 0, {0x45}).Record(2, 0, {}, 4'000'000);
  test::WriteFileBytes(path, f.bytes);
  const Read r = ReadPath(path);
  EXPECT_EQ(r.records.size(), 1u);
  ASSERT_TRUE(r.error);
  EXPECT_THAT(*r.error,
              HasSubstr(path + ": record at byte offset 41 claims 4000000 captured bytes"));

  // A header claiming a 4 GiB snaplen does not lift the limit that far.
  FileBuilder g(true, 0xa1b2c3d4, 0xffffffff);
  g.Record(1, 0, {}, 0xf0000000u);
  test::WriteFileBytes(path, g.bytes);
  const Read r2 = ReadPath(path);
  ASSERT_TRUE(r2.error);
  EXPECT_THAT(*r2.error, HasSubstr("record at byte offset 24 claims 4026531840 captured bytes"));
}

TEST(PcapReader, DirectoryAndMissingFile) {
  TempDir dir;
  EXPECT_EQ(OpenError(dir.path()), dir.path() + ": is a directory");
  const std::string missing = dir.File("missing.pcap");
  EXPECT_EQ(OpenError(missing), "open " + missing + ": No such file or directory");
}

TEST(PcapReader, RecordsLargerThanTheReadBuffer) {
  TempDir dir;
  const std::string path = dir.File("big.pcap");
  Bytes big(200'000);
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<std::uint8_t>(i * 7);
  }
  FileBuilder f(false, 0xa1b2c3d4, kMaxSnaplen);
  f.Record(1, 0, {1, 2, 3}).Record(2, 0, big).Record(3, 0, {4, 5});
  test::WriteFileBytes(path, f.bytes);
  const Read r = ReadPath(path);
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.data[1], big);
  EXPECT_EQ(r.data[2], (Bytes{4, 5}));
  EXPECT_EQ(r.records[2].file_offset, 24u + 19u + 16u + 200'000u);
}

TEST(PcapReader, RecordBufferIsReused) {
  TempDir dir;
  const std::string path = dir.File("reuse.pcap");
  test::WriteFileBytes(
      path, FileBuilder(false, 0xa1b2c3d4).Record(1, 0, Bytes(100, 1)).Record(2, 0, {2}).bytes);
  auto reader = OpenPath(path);
  ASSERT_TRUE(reader) << reader.error().message;
  FileRecord first, second;
  ASSERT_TRUE((*reader)->Next(first).value());
  const std::uint8_t* storage = first.bytes.data();
  ASSERT_TRUE((*reader)->Next(second).value());
  EXPECT_EQ(second.bytes.data(), storage);
  EXPECT_EQ(second.bytes.size(), 1u);
}

TEST(PcapReader, OriginalShorterThanCapturedIsAccepted) {
  TempDir dir;
  const std::string path = dir.File("orig.pcap");
  const Bytes ip = Packet(0);
  test::WriteFileBytes(
      path, FileBuilder(false, 0xa1b2c3d4).Record(1, 0, ip, {}, 10).Record(2, 0, {0x45}).bytes);
  const Read r = ReadPath(path);
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 2u) << "reading goes on past the odd record";
  EXPECT_EQ(r.records[0].original_length, 10u) << "as stored";
  FileRecord record = r.records[0];
  record.bytes = r.data[0];
  EXPECT_EQ(ToNetworkLayer(kLinkTypeRaw, record).original_length, ip.size());
}

TEST(ByteReader, StdinIsReadAndNotClosed) {
  std::vector<std::size_t> starts;
  const Bytes whole = ThreeRecordFile(starts);
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  ASSERT_EQ(write(fds[1], whole.data(), whole.size()), static_cast<ssize_t>(whole.size()));
  close(fds[1]);
  const int saved = dup(STDIN_FILENO);
  ASSERT_EQ(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
  close(fds[0]);
  {
    auto in = ByteReader::OpenFile("-");
    ASSERT_TRUE(in) << in.error().message;
    EXPECT_EQ((*in)->name(), "stdin");
    auto reader = PcapReader::Open(std::move(in).value());
    ASSERT_TRUE(reader) << reader.error().message;
    const Read r = ReadAll(**reader);
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.records.size(), 3u);
  }
  EXPECT_NE(fcntl(STDIN_FILENO, F_GETFD), -1) << "stdin must stay open";
  dup2(saved, STDIN_FILENO);
  close(saved);
}

Bytes Cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Linux cooked headers: v1 has the packet type first and the protocol last,
// v2 the protocol first and the packet type at byte 10.
Bytes Sll(std::uint8_t packet_type, std::uint8_t proto_hi, std::uint8_t proto_lo, const Bytes& ip) {
  return Cat({0, packet_type, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9, 0, 0, proto_hi, proto_lo}, ip);
}

Bytes Sll2(std::uint8_t packet_type, std::uint8_t proto_hi, std::uint8_t proto_lo,
           const Bytes& ip) {
  return Cat({proto_hi, proto_lo, 0, 0, 0, 0, 0, 3, 0, 1, packet_type, 6, 2, 0, 0, 0, 0, 9, 0, 0},
             ip);
}

TEST(ToNetworkLayer, StripsEachLinkType) {
  const Bytes ip4 = Packet(0), ip6 = Packet(2), arp(28, 0xaa);
  const Bytes eth4 = test::WithEthernet(ip4, 0x0800);
  const auto u32 = [](std::size_t n) { return static_cast<std::uint32_t>(n); };
  const auto D = Direction::Unknown, In = Direction::Inbound, Out = Direction::Outbound;
  struct Case {
    const char* name;
    std::uint32_t link_type;
    Bytes frame;
    std::uint32_t original; // 0: the frame's size
    Bytes want;
    std::uint32_t want_original;
    Direction want_direction;
  } cases[] = {
      {"raw", kLinkTypeRaw, ip4, 1500, ip4, 1500, D},
      {"legacy raw 12", 12, ip6, 0, ip6, u32(ip6.size()), D},
      {"legacy raw 14", 14, ip4, 0, ip4, u32(ip4.size()), D},
      {"ipv4", kLinkTypeIpv4, ip4, 0, ip4, u32(ip4.size()), D},
      {"ipv6", kLinkTypeIpv6, ip6, 0, ip6, u32(ip6.size()), D},
      {"ethernet", kLinkTypeEthernet, eth4, 0, ip4, u32(ip4.size()), D},
      {"ethernet cut by snaplen", kLinkTypeEthernet, Bytes(eth4.begin(), eth4.begin() + 30),
       u32(eth4.size()), Bytes(ip4.begin(), ip4.begin() + 16), u32(ip4.size()), D},
      {"802.1Q", kLinkTypeEthernet, test::WithEthernet(Cat({0, 100, 0x86, 0xdd}, ip6), 0x8100), 0,
       ip6, u32(ip6.size()), D},
      {"802.1ad + 802.1Q", kLinkTypeEthernet,
       test::WithEthernet(Cat({0, 1, 0x81, 0, 0, 2, 0x08, 0}, ip4), 0x88a8), 0, ip4,
       u32(ip4.size()), D},
      {"arp", kLinkTypeEthernet, test::WithEthernet(arp, 0x0806), 0, {}, 28, D},
      {"tagged arp",
       kLinkTypeEthernet,
       test::WithEthernet(Cat({0, 1, 8, 6}, arp), 0x8100),
       0,
       {},
       28,
       D},
      {"short frame", kLinkTypeEthernet, Bytes(10, 0), 0, {}, 0, D},
      {"tag cut short", kLinkTypeEthernet, test::WithEthernet({0, 1}, 0x8100), 0, {}, 0, D},
      {"sll outgoing", kLinkTypeLinuxSll, Sll(4, 0x08, 0x00, ip4), 0, ip4, u32(ip4.size()), Out},
      {"sll host", kLinkTypeLinuxSll, Sll(0, 0x08, 0x00, ip4), 0, ip4, u32(ip4.size()), In},
      {"sll otherhost", kLinkTypeLinuxSll, Sll(3, 0x86, 0xdd, ip6), 0, ip6, u32(ip6.size()), In},
      {"sll arp", kLinkTypeLinuxSll, Sll(0, 0x08, 0x06, arp), 0, {}, 28, In},
      {"sll short", kLinkTypeLinuxSll, Bytes(15, 0), 0, {}, 0, D},
      {"sll2 outgoing", kLinkTypeLinuxSll2, Sll2(4, 0x86, 0xdd, ip6), 0, ip6, u32(ip6.size()), Out},
      {"sll2 host", kLinkTypeLinuxSll2, Sll2(0, 0x08, 0x00, ip4), 0, ip4, u32(ip4.size()), In},
      {"null little-endian inet", kLinkTypeNull, Cat({2, 0, 0, 0}, ip4), 0, ip4, u32(ip4.size()),
       D},
      {"null big-endian inet6", kLinkTypeNull, Cat({0, 0, 0, 30}, ip6), 0, ip6, u32(ip6.size()), D},
      {"null inet6 (24)", kLinkTypeNull, Cat({24, 0, 0, 0}, ip6), 0, ip6, u32(ip6.size()), D},
      {"null other family", kLinkTypeNull, Cat({7, 0, 0, 0}, ip4), 0, {}, u32(ip4.size()), D},
      {"unsupported link type", 105, ip4, 0, {}, u32(ip4.size()), D},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FileRecord record;
    record.timestamp_ns = kT0;
    record.bytes = c.frame;
    record.captured_length = u32(c.frame.size());
    record.original_length = c.original != 0 ? c.original : u32(c.frame.size());
    const PacketRecord p = ToNetworkLayer(c.link_type, record);
    EXPECT_EQ(Bytes(p.data.begin(), p.data.end()), c.want);
    EXPECT_EQ(p.original_length, c.want_original);
    EXPECT_EQ(p.direction, c.want_direction);
    EXPECT_EQ(p.timestamp_ns, kT0);
  }
}

TEST(ToNetworkLayer, SupportedLinkTypes) {
  for (std::uint32_t t : {0u, 1u, 12u, 14u, 101u, 113u, 228u, 229u, 276u}) {
    EXPECT_TRUE(IsSupportedLinkType(t)) << t;
  }
  for (std::uint32_t t : {105u, 127u, 147u, 0xffffu}) {
    EXPECT_FALSE(IsSupportedLinkType(t)) << t;
  }
}

} // namespace
} // namespace wgcap
