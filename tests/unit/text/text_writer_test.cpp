// SPDX-License-Identifier: Apache-2.0
// TextWriter's lines (SPEC section 5): the golden table of every line shape,
// the time and tag, and -v's relative sequence numbers across packets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "support/packet_builder.hpp"
#include "support/text_samples.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/text_writer.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;

constexpr std::int64_t kT0 = 1700000000LL * 1000000000LL; // 2023-11-14 22:13:20 UTC
constexpr std::size_t kTimeWidth = 16;                    // "HH:MM:SS.uuuuuu "

class TextTest : public ::testing::Test {
protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

// Formats `packets` with one writer and returns the output without the time
// stamps that start each packet's line.
std::string Format(const std::vector<std::vector<std::uint8_t>>& packets, bool verbose,
                   bool ascii = false, Direction dir = Direction::Unknown) {
  MemoryWriter out;
  TextWriter writer(out, verbose, ascii);
  std::string text;
  for (const auto& p : packets) {
    out.clear();
    PacketRecord r;
    r.timestamp_ns = kT0;
    r.data = p;
    r.original_length = static_cast<std::uint32_t>(p.size());
    r.direction = dir;
    EXPECT_TRUE(writer.WritePacket(r).ok());
    text += out.str().substr(kTimeWidth);
  }
  return text;
}

class Golden : public TextTest, public ::testing::WithParamInterface<test::TextSample> {};

TEST_P(Golden, Line) {
  const test::TextSample& s = GetParam();
  MemoryWriter out;
  TextWriter writer(out, s.verbose, s.ascii);
  PacketRecord r;
  r.timestamp_ns = kT0;
  r.data = std::span(s.packet.data(), s.captured != 0 ? s.captured : s.packet.size());
  r.original_length = static_cast<std::uint32_t>(s.packet.size());
  ASSERT_TRUE(writer.WritePacket(r).ok());
  EXPECT_EQ(out.str(), "22:13:20.000000 " + s.expected);
}

INSTANTIATE_TEST_SUITE_P(Text, Golden, ::testing::ValuesIn(test::TextSamples()),
                         [](const auto& param_info) {
                           std::string name = param_info.param.name;
                           for (char& c : name) {
                             c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           }
                           return name;
                         });

TEST_F(TextTest, TimeIsLocalWithMicroseconds) {
  MemoryWriter out;
  TextWriter writer(out, false, false);
  const auto packet = PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Build();
  PacketRecord r;
  r.timestamp_ns = kT0 + 3600LL * 1000000000LL + 123456789; // ns below the microsecond dropped
  r.data = packet;
  ASSERT_TRUE(writer.WritePacket(r).ok());
  EXPECT_EQ(out.str().substr(0, kTimeWidth), "23:13:20.123456 ");

  setenv("TZ", "Etc/GMT-2", 1); // POSIX sign: two hours east of UTC
  tzset();
  out.clear();
  ASSERT_TRUE(writer.WritePacket(r).ok());
  EXPECT_EQ(out.str().substr(0, kTimeWidth), "01:13:20.123456 ");
}

TEST_F(TextTest, TagCarriesDirectionAndProtocol) {
  const auto tcp = PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Tcp(1, 2).Build();
  const auto udp = PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Udp(1, 2).Build();
  const auto icmp = PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Icmp(8, 0).Build();
  const auto gre = PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Protocol(47).Build();
  const std::vector<std::uint8_t> arp(20, 0);
  EXPECT_THAT(Format({tcp}, false, false, Direction::Inbound),
              ::testing::StartsWith("[IN   TCP] "));
  EXPECT_THAT(Format({udp}, false, false, Direction::Outbound),
              ::testing::StartsWith("[OUT  UDP] "));
  EXPECT_THAT(Format({icmp}, false, false, Direction::Inbound),
              ::testing::StartsWith("[IN  ICMP] "));
  EXPECT_THAT(Format({gre}, false, false, Direction::Outbound),
              ::testing::StartsWith("[OUT  P47] "));
  EXPECT_EQ(Format({arp}, false, false, Direction::Inbound), "[IN     ?] ??? len=20\n");
  EXPECT_THAT(Format({tcp}, false), ::testing::StartsWith("[?    TCP] "));
}

// A connection seen from its first SYN: every seq and ack relative to the
// first sequence number of its direction.
TEST_F(TextTest, VerboseSequenceNumbersAreRelativePerDirection) {
  const char* c = "198.51.100.1";
  const char* s = "198.51.100.2";
  const std::uint32_t cs = 4000000000u; // client ISN; wraps past 2^32 below
  const std::uint32_t ss = 1000;
  const std::vector<std::vector<std::uint8_t>> packets = {
      PacketBuilder::Ipv4(c, s).Tcp(40000, 80, 0x02, cs).Build(),
      PacketBuilder::Ipv4(s, c).Tcp(80, 40000, 0x12, ss, cs + 1).Build(),
      PacketBuilder::Ipv4(c, s).Tcp(40000, 80, 0x10, cs + 1, ss + 1).Build(),
      PacketBuilder::Ipv4(c, s)
          .Tcp(40000, 80, 0x18, cs + 1, ss + 1)
          .PayloadSize(300000 / 1000)
          .Build(),
      PacketBuilder::Ipv4(s, c).Tcp(80, 40000, 0x18, ss + 1, cs + 301).PayloadSize(100).Build(),
      PacketBuilder::Ipv4(c, s).Tcp(40000, 80, 0x11, cs + 301, ss + 101).Build(),
  };
  EXPECT_EQ(Format(packets, true),
            "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:80 [S], seq 0, win 64240, length 0, "
            "ttl 64, id 4660, iplen 40\n"
            "[?    TCP] 198.51.100.2:80 > 198.51.100.1:40000 [S.], seq 0, ack 1, win 64240, length "
            "0, ttl 64, id 4660, iplen 40\n"
            "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:80 [.], seq 1, ack 1, win 64240, length "
            "0, ttl 64, id 4660, iplen 40\n"
            "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:80 [P.], seq 1:301, ack 1, win 64240, "
            "length 300, ttl 64, id 4660, iplen 340\n"
            "[?    TCP] 198.51.100.2:80 > 198.51.100.1:40000 [P.], seq 1:101, ack 301, win 64240, "
            "length 100, ttl 64, id 4660, iplen 140\n"
            "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:80 [F.], seq 301, ack 101, win 64240, "
            "length 0, ttl 64, id 4660, iplen 40\n");
}

TEST_F(TextTest, VerboseNewSynRestartsTheFlow) {
  const char* c = "198.51.100.1";
  const char* s = "198.51.100.2";
  const std::vector<std::vector<std::uint8_t>> packets = {
      PacketBuilder::Ipv4(c, s).Tcp(40000, 80, 0x02, 100).Build(),
      PacketBuilder::Ipv4(s, c).Tcp(80, 40000, 0x12, 900, 101).Build(),
      // The same ports again later: a new connection, new bases.
      PacketBuilder::Ipv4(c, s).Tcp(40000, 80, 0x02, 5000).Build(),
      PacketBuilder::Ipv4(s, c).Tcp(80, 40000, 0x10, 77, 5001).Build(),
  };
  EXPECT_EQ(Format(packets, true),
            "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:80 [S], seq 0, win 64240, length 0, "
            "ttl 64, id 4660, iplen 40\n"
            "[?    TCP] 198.51.100.2:80 > 198.51.100.1:40000 [S.], seq 0, ack 1, win 64240, length "
            "0, ttl 64, id 4660, iplen 40\n"
            "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:80 [S], seq 0, win 64240, length 0, "
            "ttl 64, id 4660, iplen 40\n"
            "[?    TCP] 198.51.100.2:80 > 198.51.100.1:40000 [.], seq 0, ack 1, win 64240, length "
            "0, ttl 64, id 4660, iplen 40\n");
}

// More flows than the table holds: the oldest are forgotten (their next
// packet starts again from 0), the memory stays bounded, and a flow in
// steady use survives.
TEST_F(TextTest, VerboseForgetsTheLeastRecentlyUsedFlows) {
  MemoryWriter out;
  TextWriter writer(out, true, false);
  auto write = [&](std::uint16_t port, std::uint32_t seq) {
    const auto p =
        PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Tcp(port, 80, 0x10, seq, 1).Build();
    PacketRecord r;
    r.data = p;
    out.clear();
    EXPECT_TRUE(writer.WritePacket(r).ok());
    const std::string line = out.str();
    const auto at = line.find(", seq ");
    return line.substr(at + 6, line.find(',', at + 6) - at - 6);
  };
  EXPECT_EQ(write(1, 1000), "0");
  EXPECT_EQ(write(2, 1000), "0");
  for (std::uint16_t port = 3; port < 3 + 5000; ++port) {
    write(port, 5);
    if (port % 100 == 0) {
      EXPECT_EQ(write(2, 1500), "500") << "flow 2 stays in use";
    }
  }
  EXPECT_EQ(write(2, 1600), "600");
  EXPECT_EQ(write(1, 1600), "0") << "flow 1 was evicted and starts again";
}

} // namespace
} // namespace wgcap
