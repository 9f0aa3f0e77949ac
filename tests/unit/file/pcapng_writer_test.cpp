// SPDX-License-Identifier: Apache-2.0
// PcapngWriter, byte-exact: section, interface, packet and statistics
// blocks; lazy header, snap length, interfaces per ifindex, no allocation per
// packet. pcapng_writer_tools_test reads its files with tshark and tcpdump.
#include "wgcap/pcap_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <initializer_list>
#include <new>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/session.hpp"

// Counts heap allocations, to show a packet costs none. Not inlined, so GCC
// does not pair the malloc inside with a delete elsewhere and warn.
namespace {
std::atomic<long> g_allocations{0};
}
__attribute__((noinline)) void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) {
    return p;
  }
  throw std::bad_alloc();
}
__attribute__((noinline)) void operator delete(void* p) noexcept {
  std::free(p);
}
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace wgcap {
namespace {

using test::PacketBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;

constexpr std::int64_t kT0 = 1'700'000'000'123'456'789;  // 0x17979cfe'3d85cd15 ns
constexpr std::int64_t kNow = 1'700'000'100'000'000'000; // 0x17979d15'7ea0e800 ns

std::int64_t FixedNow() {
  return kNow;
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

Bytes Slice(const Bytes& b, std::size_t from, std::size_t n) {
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from),
               b.begin() + static_cast<std::ptrdiff_t>(from + n));
}

// The bare section header: no options, so no end-of-options either.
const Bytes kShb = {0x0a, 0x0d, 0x0d, 0x0a, 28,   0,    0,    0,    0x4d, 0x3c, 0x2b, 0x1a, 1, 0,
                    0,    0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28,   0,    0, 0};

// link type 101, snaplen 65535, if_name "wg0", if_tsresol 9, if_filter "icmp".
const Bytes kIdbWg0Icmp = Cat({
    {1, 0, 0, 0, 52, 0, 0, 0, 101, 0, 0, 0, 0xff, 0xff, 0, 0},
    {2, 0, 3, 0, 'w', 'g', '0', 0},
    {9, 0, 1, 0, 9, 0, 0, 0},
    {11, 0, 5, 0, 0, 'i', 'c', 'm', 'p', 0, 0, 0},
    {0, 0, 0, 0, 52, 0, 0, 0},
});

PcapngWriterOptions Wg0(std::uint32_t snaplen = 0) {
  PcapngWriterOptions o;
  o.snaplen = snaplen;
  o.interface_name = "wg0";
  o.filter = "icmp";
  o.now_ns = FixedNow;
  return o;
}

PacketRecord Record(const Bytes& data, Direction direction, std::int64_t ts = kT0,
                    std::uint32_t ifindex = 0, std::uint32_t original = 0) {
  PacketRecord r;
  r.timestamp_ns = ts;
  r.data = data;
  r.direction = direction;
  r.ifindex = ifindex;
  r.original_length = original;
  return r;
}

TEST(PcapngWriter, SectionHeaderAndInterfaceBytes) {
  MemoryWriter out;
  PcapngWriter w(out, Wg0());
  ASSERT_TRUE(w.WriteHeader());
  EXPECT_EQ(out.bytes(), Cat({kShb, kIdbWg0Icmp}));
}

TEST(PcapngWriter, SectionHeaderOptions) {
  MemoryWriter out;
  PcapngWriterOptions o;
  o.os = "Linux";
  o.application = "wgcap 1.2.3";
  o.description = "tunnel";
  PcapngWriter w(out, o);
  ASSERT_TRUE(w.WriteHeader());
  const Bytes shb = Cat({
      {0x0a, 0x0d, 0x0d, 0x0a, 60, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0},
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
      {3, 0, 5, 0, 'L', 'i', 'n', 'u', 'x', 0, 0, 0},
      {4, 0, 11, 0, 'w', 'g', 'c', 'a', 'p', ' ', '1', '.', '2', '.', '3', 0},
      {0, 0, 0, 0, 60, 0, 0, 0},
  });
  // No name and no filter: neither option; if_description "tunnel".
  const Bytes idb = Cat({
      {1, 0, 0, 0, 44, 0, 0, 0, 101, 0, 0, 0, 0xff, 0xff, 0, 0},
      {3, 0, 6, 0, 't', 'u', 'n', 'n', 'e', 'l', 0, 0},
      {9, 0, 1, 0, 9, 0, 0, 0},
      {0, 0, 0, 0},
      {44, 0, 0, 0},
  });
  EXPECT_EQ(out.bytes(), Cat({shb, idb}));
}

TEST(PcapngWriter, EnhancedPacketBytes) {
  MemoryWriter out;
  PcapngWriter w(out, Wg0());
  const Bytes data = {0xaa, 0xbb, 0xcc};
  ASSERT_TRUE(w.WritePacket(Record(data, Direction::Outbound)));
  const std::size_t at = kShb.size() + kIdbWg0Icmp.size();
  ASSERT_EQ(out.bytes().size(), at + 48);
  EXPECT_EQ(Slice(out.bytes(), at, 48), Cat({
                                            {6, 0, 0, 0, 48, 0, 0, 0, 0, 0, 0, 0},
                                            {0xfe, 0x9c, 0x97, 0x17, 0x15, 0xcd, 0x85, 0x3d},
                                            {3, 0, 0, 0, 3, 0, 0, 0},
                                            {0xaa, 0xbb, 0xcc, 0},
                                            {2, 0, 4, 0, 2, 0, 0, 0}, // epb_flags: outbound
                                            {0, 0, 0, 0, 48, 0, 0, 0},
                                        }));
}

TEST(PcapngWriter, FlagsCarryTheDirection) {
  MemoryWriter out;
  PcapngWriter w(out, Wg0());
  const Bytes data = {0x45, 0, 0, 0};
  for (Direction d : {Direction::Inbound, Direction::Outbound, Direction::Unknown}) {
    ASSERT_TRUE(w.WritePacket(Record(data, d)));
  }
  const std::size_t first = kShb.size() + kIdbWg0Icmp.size();
  // Each block is 48 bytes; its flags value sits 12 bytes before the end.
  EXPECT_EQ(out.bytes()[first + 36], 1);
  EXPECT_EQ(out.bytes()[first + 48 + 36], 2);
  EXPECT_EQ(out.bytes()[first + 96 + 36], 0);
}

TEST(PcapngWriter, StatisticsBlockBytes) {
  MemoryWriter out;
  PcapngWriter w(out, Wg0());
  const Bytes data = {0x45};
  ASSERT_TRUE(w.WritePacket(Record(data, Direction::Inbound, kT0)));
  ASSERT_TRUE(w.WritePacket(Record(data, Direction::Inbound, kT0 + 5000)));
  Stats s;
  s.received = 10;
  s.matched = 7;
  s.packets = 2;
  s.dropped = 2;
  const std::size_t at = out.bytes().size();
  ASSERT_TRUE(w.Finish(s));
  ASSERT_TRUE(w.Finish(s)) << "idempotent";
  ASSERT_EQ(out.bytes().size(), at + 112);
  EXPECT_EQ(Slice(out.bytes(), at, 112),
            Cat({
                {5, 0, 0, 0, 112, 0, 0, 0, 0, 0, 0, 0},
                {0x15, 0x9d, 0x97, 0x17, 0x00, 0xe8, 0xa0, 0x7e},             // when: kNow
                {2, 0, 8, 0, 0xfe, 0x9c, 0x97, 0x17, 0x15, 0xcd, 0x85, 0x3d}, // first packet
                {3, 0, 8, 0, 0xfe, 0x9c, 0x97, 0x17, 0x9d, 0xe0, 0x85, 0x3d}, // last packet
                {4, 0, 8, 0, 10, 0, 0, 0, 0, 0, 0, 0}, // ifrecv: received (no kernel count)
                {5, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0},  // ifdrop
                {6, 0, 8, 0, 7, 0, 0, 0, 0, 0, 0, 0},  // filteraccept: matched
                {7, 0, 8, 0, 2, 0, 0, 0, 0, 0, 0, 0},  // osdrop: the session's drops
                {8, 0, 8, 0, 2, 0, 0, 0, 0, 0, 0, 0},  // usrdeliv: packets written
                {0, 0, 0, 0, 112, 0, 0, 0},
            }));
}

TEST(PcapngWriter, StatisticsPreferKernelCounters) {
  MemoryWriter out;
  PcapngWriter w(out, Wg0());
  Stats s;
  s.received = 40;
  s.matched = 30;
  s.dropped = 1;
  s.kernel_seen = 1000;
  s.kernel_matched = 45;
  s.kernel_drops = 3;
  s.kernel_ring_drops = 0x1'0000'0004; // a 64-bit count
  ASSERT_TRUE(w.Finish(s));
  const Bytes& b = out.bytes();
  const std::size_t isb = kShb.size() + kIdbWg0Icmp.size();
  ASSERT_EQ(b.size(), isb + 88) << "no start and end time without packets";
  EXPECT_EQ(Slice(b, isb + 20, 60), Cat({
                                        {4, 0, 8, 0, 0xe8, 3, 0, 0, 0, 0, 0, 0},
                                        {5, 0, 8, 0, 7, 0, 0, 0, 1, 0, 0, 0},
                                        {6, 0, 8, 0, 45, 0, 0, 0, 0, 0, 0, 0},
                                        {7, 0, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0},
                                        {8, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                                    }));
}

TEST(PcapngWriter, HeaderIsLazyAndWrittenOnce) {
  MemoryWriter out;
  PcapngWriter w(out, Wg0());
  ASSERT_TRUE(w.Flush());
  EXPECT_TRUE(out.bytes().empty()) << "nothing before the first packet";
  ASSERT_TRUE(w.WriteHeader());
  ASSERT_TRUE(w.WriteHeader());
  EXPECT_EQ(out.bytes().size(), kShb.size() + kIdbWg0Icmp.size());

  MemoryWriter lazy;
  PcapngWriter first_packet(lazy, Wg0());
  ASSERT_TRUE(first_packet.WritePacket(Record({0x45}, Direction::Unknown)));
  EXPECT_EQ(Slice(lazy.bytes(), 0, 80), Cat({kShb, kIdbWg0Icmp}));
  EXPECT_EQ(lazy.bytes().size(), 80u + 48u);
}

TEST(PcapngWriter, FinishAloneMakesACompleteFile) {
  MemoryWriter out;
  PcapngWriter w(out, Wg0());
  ASSERT_TRUE(w.Finish(Stats{}));
  EXPECT_EQ(Slice(out.bytes(), 0, 80), Cat({kShb, kIdbWg0Icmp}));
  EXPECT_EQ(out.bytes().size(), 80u + 88u);
}

TEST(PcapngWriter, SnaplenTruncatesButKeepsOriginalLength) {
  MemoryWriter out;
  PcapngWriter w(out, Wg0(5));
  EXPECT_EQ(w.snaplen(), 5u);
  ASSERT_TRUE(w.WritePacket(Record({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Direction::Inbound)));
  ASSERT_TRUE(w.WritePacket(Record({1, 2, 3}, Direction::Inbound, kT0, 0, 1500)));
  ASSERT_TRUE(w.WritePacket(Record(Bytes(8, 0x45), Direction::Inbound, kT0, 0, 5)));
  const Bytes& b = out.bytes();
  EXPECT_EQ(Slice(b, 28 + 12, 4), (Bytes{5, 0, 0, 0})) << "snaplen in the interface block";
  const std::size_t at = kShb.size() + kIdbWg0Icmp.size();
  // 5 of 10 bytes kept, padded to 8; the block is 44 + 8.
  EXPECT_EQ(Slice(b, at + 4, 4), (Bytes{52, 0, 0, 0}));
  EXPECT_EQ(Slice(b, at + 20, 16), (Bytes{5, 0, 0, 0, 10, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0}));
  EXPECT_EQ(Slice(b, at + 52 + 20, 8), (Bytes{3, 0, 0, 0, 0xdc, 0x05, 0, 0}));
  EXPECT_EQ(Slice(b, at + 52 + 48 + 20, 8), (Bytes{5, 0, 0, 0, 5, 0, 0, 0}))
      << "original never below captured";
}

TEST(PcapngWriter, SnaplenZeroAndAboveTheMaximum) {
  MemoryWriter out;
  EXPECT_EQ(PcapngWriter(out, PcapngWriterOptions{}).snaplen(), 65535u);
  PcapngWriterOptions big;
  big.snaplen = 1 << 30;
  EXPECT_EQ(PcapngWriter(out, big).snaplen(), 262144u);
}

TEST(PcapngWriter, EachIfindexGetsAnInterface) {
  MemoryWriter out;
  PcapngWriterOptions o = Wg0();
  o.filter.clear();
  PcapngWriter w(out, o);
  const Bytes data = {0x45, 0, 0, 0};
  ASSERT_TRUE(w.WritePacket(Record(data, Direction::Inbound, kT0, 7)));
  ASSERT_TRUE(w.WritePacket(Record(data, Direction::Inbound, kT0, 9)));
  ASSERT_TRUE(w.WritePacket(Record(data, Direction::Inbound, kT0, 7)));
  ASSERT_TRUE(w.WritePacket(Record(data, Direction::Inbound, kT0, 9)));
  EXPECT_EQ(w.interface_count(), 2u);
  const Bytes& b = out.bytes();
  const std::size_t idb0 = 28, idb0_len = 16 + 8 + 8 + 8;
  std::size_t at = idb0 + idb0_len;
  EXPECT_EQ(Slice(b, at + 8, 4), (Bytes{0, 0, 0, 0})) << "ifindex 7 is the captured interface";
  at += 48;
  // Described right before its first packet, with link type 12 (DLT_RAW):
  // libpcap compares a later interface's type with the first one's DLT.
  const Bytes idb1 = Cat({
      {1, 0, 0, 0, 48, 0, 0, 0, 12, 0, 0, 0, 0xff, 0xff, 0, 0},
      {2, 0, 9, 0, 'i', 'f', 'i', 'n', 'd', 'e', 'x', ' ', '9', 0, 0, 0},
      {9, 0, 1, 0, 9, 0, 0, 0},
      {0, 0, 0, 0, 48, 0, 0, 0},
  });
  EXPECT_EQ(Slice(b, at, 48), idb1);
  at += 48;
  EXPECT_EQ(Slice(b, at + 8, 4), (Bytes{1, 0, 0, 0}));
  EXPECT_EQ(Slice(b, at + 48 + 8, 4), (Bytes{0, 0, 0, 0}));
  EXPECT_EQ(Slice(b, at + 96 + 8, 4), (Bytes{1, 0, 0, 0}));

  // Statistics: the capture's counters on interface 0, packets on each.
  const std::size_t end = b.size();
  ASSERT_TRUE(w.Finish(Stats{}));
  EXPECT_EQ(out.bytes().size(), end + 112 + 64);
  EXPECT_EQ(Slice(out.bytes(), end + 112 + 8, 4), (Bytes{1, 0, 0, 0}));
  EXPECT_EQ(Slice(out.bytes(), end + 112 + 44, 12), (Bytes{8, 0, 8, 0, 2, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(PcapngWriter, AKnownIfindexBindsTheCapturedInterface) {
  MemoryWriter out;
  PcapngWriterOptions o = Wg0();
  o.ifindex = 5;
  PcapngWriter w(out, o);
  ASSERT_TRUE(w.WritePacket(Record({0x45}, Direction::Inbound, kT0, 6)));
  ASSERT_TRUE(w.WritePacket(Record({0x45}, Direction::Inbound, kT0, 5)));
  EXPECT_EQ(w.interface_count(), 2u);
  EXPECT_NE(out.str().find("ifindex 6"), std::string::npos);
}

TEST(PcapngWriter, TimestampsBefore1970AreZero) {
  MemoryWriter out;
  PcapngWriter w(out, Wg0());
  ASSERT_TRUE(w.WritePacket(Record({0x45}, Direction::Inbound, -1)));
  EXPECT_EQ(Slice(out.bytes(), 80 + 12, 8), Bytes(8, 0));
}

// Discards everything: allocation counts see only the writer's own.
class NullWriter final : public ByteWriter {
public:
  Status Write(std::span<const std::uint8_t>) override { return {}; }
  Status Flush() override { return {}; }
  using ByteWriter::Write;
};

TEST(PcapngWriter, PacketsDoNotAllocate) {
  NullWriter out;
  PcapngWriter w(out, Wg0(kMaxSnaplen));
  const Bytes big(kMaxSnaplen + 100, 0x45);
  const Bytes small = {0x45};
  ASSERT_TRUE(w.WritePacket(Record(small, Direction::Inbound, kT0, 3)));
  const long before = g_allocations.load();
  bool ok = true;
  for (int i = 0; i < 100; ++i) {
    ok = w.WritePacket(Record(i % 2 ? big : small, Direction::Outbound, kT0, 3)).ok() && ok;
  }
  const long after = g_allocations.load();
  EXPECT_TRUE(ok);
  EXPECT_EQ(after, before);
}

TEST(PcapngWriter, WriteErrorsArePropagated) {
  const int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  {
    FdWriter out(fd, "/dev/full", 0);
    PcapngWriter w(out, Wg0());
    const Status s = w.WritePacket(Record({0x45}, Direction::Inbound));
    ASSERT_FALSE(s);
    EXPECT_THAT(s.error().message, HasSubstr("No space left on device"));
    EXPECT_FALSE(w.Finish(Stats{}));
  }
  close(fd);
}

} // namespace
} // namespace wgcap
