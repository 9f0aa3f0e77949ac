// SPDX-License-Identifier: Apache-2.0
// PcapngReader on good files: from PcapngWriter and editcap, and built block
// by block in both byte orders, with every timestamp resolution, several
// interfaces and sections, and blocks it has to skip.
#include "file/pcapng_reader.hpp"

#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/capture_contents.hpp"
#include "support/packet_builder.hpp"
#include "support/pcapng_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wgcap/session.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;
using test::TempDir;
using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;
using Read = test::CaptureContents;
using test::PcapngBuilder;

// Opens with the format chosen by the magic, as the CLI does.
Read ReadBytes(const TempDir& dir, const Bytes& bytes, const std::string& name = "f.pcapng") {
  const std::string path = dir.File(name);
  test::WriteFileBytes(path, bytes);
  return test::ReadCaptureFile(path);
}

constexpr std::int64_t kT0 = 1'700'000'000'123'456'789;

Bytes Ip(int n) {
  switch (n % 3) {
  case 0:
    return PacketBuilder::Ipv4("10.0.0.1", "10.0.0.2").Tcp(40000, 80).Build();
  case 1:
    return {0x45, 0, 0};
  default:
    return PacketBuilder::Ipv6("fd00::1", "fd00::2").Udp(4000, 5000).Payload("ping").Build();
  }
}

TEST(PcapngReader, RoundTripFromWriter) {
  MemoryWriter out;
  PcapngWriterOptions o;
  o.interface_name = "wg0";
  o.filter = "ip";
  PcapngWriter w(out, o);
  const Direction dirs[] = {Direction::Inbound, Direction::Outbound, Direction::Unknown};
  std::vector<std::size_t> starts;
  for (int i = 0; i < 3; ++i) {
    starts.push_back(out.bytes().size() + (i == 0 ? 28 + 48 : 0));
    const Bytes data = Ip(i);
    PacketRecord p;
    p.timestamp_ns = kT0 + i;
    p.data = data;
    p.original_length = i == 1 ? 1000 : 0;
    p.direction = dirs[i];
    ASSERT_TRUE(w.WritePacket(p));
  }
  ASSERT_TRUE(w.Finish(Stats{}));
  TempDir dir;
  const Read r = ReadBytes(dir, out.bytes());
  ASSERT_FALSE(r.open_error) << *r.open_error;
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r.data[i], Ip(i));
    EXPECT_EQ(r.records[i].timestamp_ns, kT0 + i) << "nanoseconds survive";
    EXPECT_EQ(r.records[i].original_length, i == 1 ? 1000u : Ip(i).size());
    EXPECT_EQ(r.records[i].direction, dirs[i]);
    EXPECT_EQ(r.records[i].link_type, kLinkTypeRaw);
    EXPECT_EQ(r.records[i].file_offset, starts[i]);
    EXPECT_EQ(ToNetworkLayer(r.records[i]).direction, dirs[i]);
  }
}

class ByteOrders : public ::testing::TestWithParam<bool> {};

TEST_P(ByteOrders, SameRecordsEitherWay) {
  const bool big = GetParam();
  PcapngBuilder f(big);
  f.Interface(static_cast<std::uint16_t>(kLinkTypeRaw), 1500, 9)
      .Epb(0, static_cast<std::uint64_t>(kT0), Ip(0), pcapng::kFlagsInbound)
      .Raw(pcapng::kInterfaceStatistics, Bytes(12, 0))
      .Epb(0, static_cast<std::uint64_t>(kT0) + 7, Ip(2), pcapng::kFlagsOutbound, 900);
  TempDir dir;
  test::WriteFileBytes(dir.File("o.pcapng"), f.bytes);
  auto in = ByteReader::OpenFile(dir.File("o.pcapng"));
  ASSERT_TRUE(in);
  auto reader = PcapngReader::Open(std::move(in).value());
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->big_endian(), big);
  EXPECT_EQ((*reader)->link_type(), kLinkTypeRaw);
  EXPECT_EQ((*reader)->snaplen(), 1500u);
  const Read r = test::ReadCapture(**reader);
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.data[0], Ip(0));
  EXPECT_EQ(r.records[0].timestamp_ns, kT0);
  EXPECT_EQ(r.records[0].direction, Direction::Inbound);
  EXPECT_EQ(r.data[1], Ip(2));
  EXPECT_EQ(r.records[1].timestamp_ns, kT0 + 7);
  EXPECT_EQ(r.records[1].original_length, 900u);
  EXPECT_EQ(r.records[1].direction, Direction::Outbound);
  EXPECT_EQ(r.records[1].file_offset, f.starts[4]);
}

INSTANTIATE_TEST_SUITE_P(LittleAndBig, ByteOrders, ::testing::Bool());

struct Resolution {
  std::optional<std::uint8_t> tsresol;
  std::optional<std::int64_t> tsoffset;
  std::uint64_t ticks;
  std::int64_t ns;
};

TEST(PcapngReader, TimestampResolutions) {
  const std::vector<Resolution> cases = {
      {{}, {}, 1'700'000'000'123'456, 1'700'000'000'123'456'000}, // default: µs
      {6, {}, 1'700'000'000'123'456, 1'700'000'000'123'456'000},
      {9, {}, 1'700'000'000'123'456'789, 1'700'000'000'123'456'789},
      {3, {}, 1'700'000'000'123, 1'700'000'000'123'000'000},
      {0, {}, 1'700'000'000, 1'700'000'000'000'000'000},
      {12, {}, 1'700'000'000'123'456'789, 1'700'000'000'123'456}, // ps
      {0x80 | 10, {}, 1'700'000'000ull * 1024 + 512, 1'700'000'000'500'000'000},
      {0x80 | 30, {}, (1'700'000'000ull << 30) + (1u << 28), 1'700'000'000'250'000'000},
      {0x80 | 0, {}, 1'700'000'000, 1'700'000'000'000'000'000},
      {6, 100, 1'700'000'000'000'001, 1'700'000'100'000'001'000}, // if_tsoffset seconds
      {6, -1'700'000'000, 1'700'000'000'000'001, 1'000},
  };
  for (bool big : {false, true}) {
    PcapngBuilder f(big);
    for (const auto& c : cases) {
      f.Interface(static_cast<std::uint16_t>(kLinkTypeRaw), 0, c.tsresol, c.tsoffset);
    }
    for (std::uint32_t i = 0; i < cases.size(); ++i) {
      f.Epb(i, cases[i].ticks, {0x45});
    }
    TempDir dir;
    const Read r = ReadBytes(dir, f.bytes);
    ASSERT_FALSE(r.open_error) << *r.open_error;
    ASSERT_FALSE(r.error) << *r.error;
    ASSERT_EQ(r.records.size(), cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
      EXPECT_EQ(r.records[i].timestamp_ns, cases[i].ns) << "case " << i << (big ? " big" : "");
      EXPECT_EQ(r.records[i].interface_id, i);
    }
  }
}

TEST(PcapngReader, InterfacesWithDifferentLinkTypes) {
  const Bytes ip4 = Ip(0), ip6 = Ip(2);
  // Linux cooked v1: outgoing (4), IPv6. Built around the packet: GCC 12
  // misreads an insert after a 16-byte initializer list as out of bounds.
  Bytes sll = ip6;
  const Bytes sll_header = {0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x86, 0xdd};
  sll.insert(sll.begin(), sll_header.begin(), sll_header.end());
  PcapngBuilder f;
  f.Interface(static_cast<std::uint16_t>(kLinkTypeEthernet))
      .Interface(static_cast<std::uint16_t>(kLinkTypeRaw), 0, 9)
      .Interface(static_cast<std::uint16_t>(kLinkTypeLinuxSll))
      .Epb(0, 1'000'000, test::WithEthernet(ip4, 0x0800), pcapng::kFlagsInbound)
      .Epb(1, 1'000'000'000, ip6)
      .Epb(2, 1'000'000, sll);
  TempDir dir;
  const Read r = ReadBytes(dir, f.bytes);
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].link_type, kLinkTypeEthernet);
  EXPECT_EQ(r.records[1].link_type, kLinkTypeRaw);
  EXPECT_EQ(r.records[2].link_type, kLinkTypeLinuxSll);
  for (const auto& rec : r.records) {
    EXPECT_EQ(rec.timestamp_ns, 1'000'000'000) << "each interface its own resolution";
  }
  // The link headers come off per record; the direction comes from the flags
  // or, for the cooked capture, from its header.
  FileRecord rec = r.records[0];
  rec.bytes = r.data[0];
  const PacketRecord eth = ToNetworkLayer(rec);
  EXPECT_EQ(Bytes(eth.data.begin(), eth.data.end()), ip4);
  EXPECT_EQ(eth.direction, Direction::Inbound);
  rec = r.records[2];
  rec.bytes = r.data[2];
  const PacketRecord cooked = ToNetworkLayer(rec);
  EXPECT_EQ(Bytes(cooked.data.begin(), cooked.data.end()), ip6);
  EXPECT_EQ(cooked.direction, Direction::Outbound);
}

TEST(PcapngReader, SectionsResetInterfacesAndByteOrder) {
  PcapngBuilder f(false);
  f.Interface(static_cast<std::uint16_t>(kLinkTypeRaw))
      .Interface(static_cast<std::uint16_t>(kLinkTypeEthernet))
      .Epb(1, 5, test::WithEthernet(Ip(0), 0x0800))
      .Section(true)
      .Interface(static_cast<std::uint16_t>(kLinkTypeIpv4), 0, 9)
      .Epb(0, 7, Ip(0), pcapng::kFlagsOutbound)
      .Epb(1, 8, Ip(0));
  TempDir dir;
  test::WriteFileBytes(dir.File("s.pcapng"), f.bytes);
  auto in = ByteReader::OpenFile(dir.File("s.pcapng"));
  ASSERT_TRUE(in);
  auto reader = PcapngReader::Open(std::move(in).value());
  ASSERT_TRUE(reader) << reader.error().message;
  const Read r = test::ReadCapture(**reader);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].link_type, kLinkTypeEthernet);
  EXPECT_EQ(r.records[0].timestamp_ns, 5'000);
  EXPECT_EQ(r.records[1].link_type, kLinkTypeIpv4);
  EXPECT_EQ(r.records[1].timestamp_ns, 7);
  EXPECT_EQ(r.records[1].direction, Direction::Outbound);
  EXPECT_TRUE((*reader)->big_endian());
  EXPECT_EQ((*reader)->section_count(), 2u);
  ASSERT_TRUE(r.error);
  EXPECT_THAT(*r.error, HasSubstr("packet block at byte offset " + std::to_string(f.starts[7]) +
                                  ": interface 1 is not described in this section (1 are)"));
}

// Each record names its interface as the file does (if_name, for -e); the
// names stay valid after their section ends.
TEST(PcapngReader, RecordsCarryTheirInterfacesName) {
  const auto raw = static_cast<std::uint16_t>(kLinkTypeRaw);
  PcapngBuilder f(false);
  f.Interface(raw, 0, {}, {}, "wg0")
      .Interface(raw, 0, {}, {}, std::string("wg1\0\0\0", 6)) // NUL-padded by its writer
      .Interface(raw, 0, {}, {}, "")                          // no if_name
      .Epb(0, 1, Ip(0))
      .Epb(1, 2, Ip(0))
      .Epb(2, 3, Ip(0))
      .Section(true)
      .Interface(raw, 0, {}, {}, "wg2")
      .Epb(0, 4, Ip(0));
  TempDir dir;
  test::WriteFileBytes(dir.File("n.pcapng"), f.bytes);
  auto in = ByteReader::OpenFile(dir.File("n.pcapng"));
  ASSERT_TRUE(in);
  auto reader = PcapngReader::Open(std::move(in).value());
  ASSERT_TRUE(reader) << reader.error().message;
  const Read r = test::ReadCapture(**reader);
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 4u);
  std::vector<std::string> names;
  for (const FileRecord& rec : r.records) {
    names.push_back(rec.interface_name != nullptr ? *rec.interface_name : "(none)");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"wg0", "wg1", "(none)", "wg2"}));
  FileRecord second = r.records[1];
  second.bytes = r.data[1]; // the record's own span is stale
  EXPECT_EQ(ToNetworkLayer(second).interface_name, r.records[1].interface_name);
}

TEST(PcapngReader, UnknownBlocksAreSkipped) {
  Bytes huge(200'000, 0x5a); // larger than the skip buffer
  PcapngBuilder f;
  f.Raw(4, Bytes(8, 0)) // name resolution, before any interface
      .Interface(static_cast<std::uint16_t>(kLinkTypeRaw))
      .Raw(0x40000bad, Bytes(13, 1)) // custom, copiable
      .Epb(0, 1, Ip(0))
      .Raw(0x0a, huge) // decryption secrets
      .Raw(0x12345678, {})
      .Raw(pcapng::kInterfaceStatistics, Bytes(20, 0))
      .Epb(0, 2, Ip(1));
  TempDir dir;
  const Read r = ReadBytes(dir, f.bytes);
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.data[0], Ip(0));
  EXPECT_EQ(r.data[1], Ip(1));
  EXPECT_EQ(r.records[1].file_offset, f.starts[8]);
}

TEST(PcapngReader, SimpleAndObsoletePacketBlocks) {
  Bytes stored(60);
  for (std::size_t i = 0; i < stored.size(); ++i) {
    stored[i] = static_cast<std::uint8_t>(i);
  }
  PcapngBuilder f(true);
  f.Interface(static_cast<std::uint16_t>(kLinkTypeRaw), 60)
      .Spb(stored, 100)        // cut by the snaplen
      .Spb({1, 2, 3, 4, 5}, 5) // whole, padded
      .Pb(0, 3, Ip(0), pcapng::kFlagsOutbound);
  TempDir dir;
  const Read r = ReadBytes(dir, f.bytes);
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.data[0], stored);
  EXPECT_EQ(r.records[0].original_length, 100u);
  EXPECT_EQ(r.records[0].timestamp_ns, 0) << "a simple packet block has no time";
  EXPECT_EQ(r.data[1], (Bytes{1, 2, 3, 4, 5}));
  EXPECT_EQ(r.data[2], Ip(0));
  EXPECT_EQ(r.records[2].timestamp_ns, 3'000);
  EXPECT_EQ(r.records[2].direction, Direction::Outbound);
}

TEST(PcapngReader, ReadsWhatEditcapWrites) {
  TempDir dir;
  MemoryWriter pcap;
  PcapWriter pw(pcap, 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(pw.WritePacket(kT0 + i * 1000, Ip(i)));
  }
  test::WriteFileBytes(dir.File("in.pcap"), pcap.bytes());
  const auto run =
      test::Run({"editcap", "-F", "pcapng", dir.File("in.pcap"), dir.File("out.pcapng")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Read r = ReadBytes(dir, test::ReadFileBytes(dir.File("out.pcapng")), "copy.pcapng");
  ASSERT_FALSE(r.open_error) << *r.open_error;
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.data[i], Ip(i));
    EXPECT_EQ(r.records[i].timestamp_ns, 1'700'000'000'123'456'000 + i * 1000) << "µs resolution";
    EXPECT_EQ(r.records[i].link_type, kLinkTypeRaw);
  }
}

} // namespace
} // namespace wgcap
