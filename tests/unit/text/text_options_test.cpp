// SPDX-License-Identifier: Apache-2.0
// TextWriter's layout flags (SPEC 6): -t styles and nanoseconds, -# numbers,
// -e interface names, -q short lines, -S raw sequence numbers, -x/-X dumps
// and how they combine. The byte-for-byte comparison of the tcpdump-shaped
// parts with tcpdump itself is in text_tcpdump_layout_test.cpp.
#include <net/if.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "support/packet_builder.hpp"
#include "text/interface_names.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/text_writer.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;
using Packet = std::vector<std::uint8_t>;

constexpr std::int64_t kSecond = 1000000000;
constexpr std::int64_t kT0 = 1700000000 * kSecond; // 2023-11-14 22:13:20 UTC

class TextOptionsTest : public ::testing::Test {
protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

struct Timed {
  std::int64_t ns;
  Packet packet;
  std::uint32_t ifindex = 0;
};

// Everything one writer prints for `packets`, in order.
std::string Print(const TextOptions& options, const std::vector<Timed>& packets) {
  MemoryWriter out;
  TextWriter writer(out, options);
  for (const Timed& t : packets) {
    PacketRecord r;
    r.timestamp_ns = t.ns;
    r.data = t.packet;
    r.original_length = static_cast<std::uint32_t>(t.packet.size());
    r.ifindex = t.ifindex;
    EXPECT_TRUE(writer.WritePacket(r).ok());
  }
  return out.str();
}

Packet Icmp() {
  return PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Icmp(8, 0, 7, 3).Build();
}

constexpr const char* kIcmpLine =
    "[?   ICMP] 198.51.100.1 > 198.51.100.2 echo request, id 7, seq 3, length 8\n";

std::string Times(TimeStamp style, bool nano) {
  const Packet p = Icmp();
  const std::string text = Print({.time = style, .nanoseconds = nano},
                                 {{kT0 + 5 * kSecond + 250000789, p},
                                  {kT0 + 4 * kSecond, p},
                                  {kT0 + 2 * 86400 * kSecond + 3723 * kSecond + 1500, p}});
  // Keep only what precedes each tag.
  std::string leads;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    leads += text.substr(at, text.find('[', at) - at) + "|";
    at = end + 1;
  }
  return leads;
}

TEST_F(TextOptionsTest, TimeStylesInMicroseconds) {
  EXPECT_EQ(Times(TimeStamp::TimeOfDay, false),
            "22:13:25.250000 |22:13:24.000000 |23:15:23.000001 |");
  EXPECT_EQ(Times(TimeStamp::None, false), "|||");
  EXPECT_EQ(Times(TimeStamp::Epoch, false),
            "1700000005.250000 |1700000004.000000 |1700176523.000001 |");
  // Signed, and the hours of a delta past a day wrap as tcpdump's do.
  EXPECT_EQ(Times(TimeStamp::SincePrevious, false),
            " 00:00:00.000000 |-00:00:01.250000 | 01:01:59.000001 |");
  EXPECT_EQ(Times(TimeStamp::DateTime, false),
            "2023-11-14 22:13:25.250000 |2023-11-14 22:13:24.000000 |2023-11-16 23:15:23.000001 |");
  EXPECT_EQ(Times(TimeStamp::SinceFirst, false),
            " 00:00:00.000000 |-00:00:01.250000 | 01:01:57.750001 |");
}

TEST_F(TextOptionsTest, TimeStylesInNanoseconds) {
  EXPECT_EQ(Times(TimeStamp::TimeOfDay, true),
            "22:13:25.250000789 |22:13:24.000000000 |23:15:23.000001500 |");
  EXPECT_EQ(Times(TimeStamp::Epoch, true),
            "1700000005.250000789 |1700000004.000000000 |1700176523.000001500 |");
  EXPECT_EQ(Times(TimeStamp::SincePrevious, true),
            " 00:00:00.000000000 |-00:00:01.250000789 | 01:01:59.000001500 |");
  EXPECT_EQ(Times(TimeStamp::DateTime, true),
            "2023-11-14 22:13:25.250000789 |2023-11-14 22:13:24.000000000 |"
            "2023-11-16 23:15:23.000001500 |");
  EXPECT_EQ(Times(TimeStamp::SinceFirst, true),
            " 00:00:00.000000000 |-00:00:01.250000789 | 01:01:57.750000711 |");
}

// Before 1970: the clock reading of that moment, and -tt as a signed number.
TEST_F(TextOptionsTest, TimeBeforeTheEpoch) {
  EXPECT_EQ(Print({.time = TimeStamp::Epoch}, {{-kSecond / 4, Icmp()}}),
            std::string("-0.250000 ") + kIcmpLine);
  EXPECT_EQ(Print({}, {{-kSecond / 4, Icmp()}}), std::string("23:59:59.750000 ") + kIcmpLine);
}

TEST_F(TextOptionsTest, NumberComesFirstInTcpdumpsColumns) {
  const Packet p = Icmp();
  EXPECT_EQ(Print({.time = TimeStamp::None, .number = true}, {{kT0, p}, {kT0, p}}),
            std::string("    1  ") + kIcmpLine + "    2  " + kIcmpLine);
  EXPECT_EQ(Print({.number = true}, {{kT0, p}}),
            std::string("    1  22:13:20.000000 ") + kIcmpLine);

  // Past five digits the column widens, as printf's %5u does.
  MemoryWriter out;
  TextWriter writer(out, TextOptions{.time = TimeStamp::None, .number = true});
  PacketRecord r;
  r.data = p;
  for (int i = 0; i < 100000; ++i) {
    out.clear();
    ASSERT_TRUE(writer.WritePacket(r).ok());
  }
  EXPECT_EQ(out.str(), std::string("100000  ") + kIcmpLine);
}

TEST_F(TextOptionsTest, InterfaceNameBeforeTheTag) {
  const Packet p = Icmp();
  const std::uint32_t lo = if_nametoindex("lo");
  ASSERT_NE(lo, 0u) << "every network namespace has lo";
  EXPECT_EQ(Print({.time = TimeStamp::None, .interface_name = true},
                  {{kT0, p, 0}, {kT0, p, lo}, {kT0, p, 0x7ffffff0}}),
            std::string("? ") + kIcmpLine + "lo " + kIcmpLine + "if2147483632 " + kIcmpLine);
}

int lookups = 0;

char* FakeIndexToName(unsigned index, char* name) {
  ++lookups;
  if (index == 7) {
    std::strcpy(name, "wg0");
    return name;
  }
  if (index == 8) {
    std::strcpy(name, "\x1b[2Jx"); // Linux allows control characters
    return name;
  }
  return nullptr;
}

TEST(InterfaceNames, AsksTheKernelOncePerIndex) {
  lookups = 0;
  text::InterfaceNames names(&FakeIndexToName);
  std::string line;
  for (int i = 0; i < 1000; ++i) {
    line.clear();
    names.Append(line, 7);
    names.Append(line, 0);
    names.Append(line, 9);
    names.Append(line, 8);
  }
  EXPECT_EQ(line, "wg0?if9\\x1b[2Jx");
  EXPECT_EQ(lookups, 3) << "7, 9 and 8 once each; 0 never";

  // More indexes than the cache holds: still right, old ones asked again.
  for (unsigned i = 100; i < 140; ++i) {
    names.Append(line, i);
  }
  line.clear();
  names.Append(line, 7);
  EXPECT_EQ(line, "wg0");
}

// -q (tcpdump -q's shortening): TCP and UDP say only "length N", no flags,
// no seq/ack/window/options, no decoded payload; ICMP is left whole; -v's
// IP suffix and -A's payload still come.
TEST_F(TextOptionsTest, QuietLines) {
  const Packet http = PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2")
                          .Tcp(40000, 80, 0x18, 1000, 2000)
                          .TcpOptions({1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})
                          .Payload("GET / HTTP/1.1\r\n\r\n")
                          .Build();
  const Packet dns = PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2")
                         .Udp(5000, 53)
                         .Payload(std::vector<std::uint8_t>{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0,
                                                            0, 0, 0, 1, 0, 1})
                         .Build();
  const TextOptions quiet{.time = TimeStamp::None, .quiet = true};
  EXPECT_EQ(Print(quiet, {{kT0, http}, {kT0, dns}, {kT0, Icmp()}}),
            std::string("[?    TCP] 198.51.100.1:40000 > 198.51.100.2:80 length 18\n"
                        "[?    UDP] 198.51.100.1:5000 > 198.51.100.2:53 length 17\n") +
                kIcmpLine);
  TextOptions verbose = quiet;
  verbose.verbose = true;
  EXPECT_EQ(Print(verbose, {{kT0, http}}),
            "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:80 length 18, ttl 64, id 4660, "
            "iplen 70\n");
  TextOptions ascii = quiet;
  ascii.ascii = true;
  EXPECT_EQ(Print(ascii, {{kT0, http}}),
            "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:80 length 18\nGET / HTTP/1.1\r\n\r\n");
}

// -S with -v: seq, ack and SACK blocks as on the wire, for a connection
// whose relative numbers would all be small.
TEST_F(TextOptionsTest, AbsoluteSequenceNumbers) {
  const char* c = "198.51.100.1";
  const char* s = "198.51.100.2";
  const std::vector<Timed> packets = {
      {kT0, PacketBuilder::Ipv4(c, s).Tcp(40000, 80, 0x02, 4000000000u).Build()},
      {kT0, PacketBuilder::Ipv4(s, c).Tcp(80, 40000, 0x12, 1000, 4000000001u).Build()},
      {kT0, PacketBuilder::Ipv4(c, s)
                .Tcp(40000, 80, 0x10, 4000000001u, 1001)
                .TcpOptions({1, 1, 5, 10, 0, 0, 0x03, 0xe9, 0, 0, 0x04, 0x01})
                .Build()},
  };
  const TextOptions options{.verbose = true, .time = TimeStamp::None, .absolute_sequence = true};
  EXPECT_EQ(Print(options, packets),
            "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:80 [S], seq 4000000000, win 64240, "
            "length 0, ttl 64, id 4660, iplen 40\n"
            "[?    TCP] 198.51.100.2:80 > 198.51.100.1:40000 [S.], seq 1000, ack 4000000001, win "
            "64240, length 0, ttl 64, id 4660, iplen 40\n"
            "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:80 [.], seq 4000000001, ack 1001, win "
            "64240, options [nop,nop,sack 1 {1001:1025}], length 0, ttl 64, id 4660, iplen 52\n");
}

TEST_F(TextOptionsTest, HexDumpsAfterTheLine) {
  const Packet p = Icmp(); // 28 bytes: one full line and a short one
  const std::string hex = "\t0x0000:  4500 001c 1234 0000 4001 ";
  const std::string x = Print({.hex = HexDump::Hex, .time = TimeStamp::None}, {{kT0, p}});
  EXPECT_EQ(x.substr(0, x.find('\n') + 1), kIcmpLine);
  EXPECT_EQ(x.substr(x.find('\n') + 1, hex.size()), hex);
  EXPECT_EQ(x.substr(x.rfind('\t')), "\t0x0010:  c633 6402 0800 f7f5 0007 0003\n");

  // With ASCII the short line is padded so the column lines up; -A gives way.
  const std::string xa =
      Print({.ascii = true, .hex = HexDump::HexAscii, .time = TimeStamp::None}, {{kT0, p}});
  EXPECT_EQ(xa.substr(xa.rfind('\t')),
            "\t0x0010:  c633 6402 0800 f7f5 0007 0003            .3d.........\n");
  EXPECT_EQ(std::count(xa.begin(), xa.end(), '\n'), 3);
}

// Everything at once (-#ttttX -e -v): number, date and time, interface,
// tag, the verbose body, then the dump.
TEST_F(TextOptionsTest, AllLayoutFlagsCombine) {
  const std::uint32_t lo = if_nametoindex("lo");
  const Packet syn =
      PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Tcp(40000, 80, 0x02, 77).Build();
  const TextOptions all{.verbose = true,
                        .ascii = true,
                        .hex = HexDump::HexAscii,
                        .time = TimeStamp::DateTime,
                        .nanoseconds = true,
                        .interface_name = true,
                        .absolute_sequence = true,
                        .number = true};
  EXPECT_EQ(Print(all, {{kT0 + 5, syn, lo}}),
            "    1  2023-11-14 22:13:20.000000005 lo [?    TCP] 198.51.100.1:40000 > "
            "198.51.100.2:80 [S], seq 77, win 64240, length 0, ttl 64, id 4660, iplen 40\n"
            "\t0x0000:  4500 0028 1234 0000 4006 1432 c633 6401  E..(.4..@..2.3d.\n"
            "\t0x0010:  c633 6402 9c40 0050 0000 004d 0000 0000  .3d..@.P...M....\n"
            "\t0x0020:  5002 faf0 c3a9 0000                      P.......\n");
}

} // namespace
} // namespace wgcap
