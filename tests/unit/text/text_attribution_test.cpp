// SPDX-License-Identifier: Apache-2.0
// What the text line says of WireGuard (SPEC 10): ` peer KEY8` right after
// the tag with -e or -v, `, gso NxS` at the end of the -v IP suffix for a
// super-packet, and nothing new for packets that are neither. Also the key
// text helper both writers use.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "base/peer_key_text.hpp"
#include "support/packet_builder.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/text_writer.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;
using Packet = std::vector<std::uint8_t>;

constexpr std::int64_t kT0 = 1700000000LL * 1000000000LL; // 2023-11-14 22:13:20 UTC

PeerKey Counting(std::uint8_t first) {
  PeerKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(first + i);
  }
  return key;
}

// base64 of the bytes 0..31 and 100..131 (python3 base64.b64encode).
constexpr const char* kKey0 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr const char* kKey100 = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=";

class TextAttributionTest : public ::testing::Test {
protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

struct Sample {
  Packet packet;
  const PeerKey* peer = nullptr;
  std::uint16_t gso_segs = 0, gso_size = 0;
  Direction direction = Direction::Inbound;
};

std::string Print(TextOptions options, const Sample& s) {
  options.time = TimeStamp::None;
  MemoryWriter out;
  TextWriter writer(out, options);
  PacketRecord r;
  r.timestamp_ns = kT0;
  r.data = s.packet;
  r.original_length = static_cast<std::uint32_t>(s.packet.size());
  r.direction = s.direction;
  r.peer = s.peer;
  r.gso_segs = s.gso_segs;
  r.gso_size = s.gso_size;
  EXPECT_TRUE(writer.WritePacket(r).ok());
  return out.str();
}

Packet Udp4() {
  return PacketBuilder::Ipv4("198.51.100.2", "198.51.100.1").Udp(4000, 9).PayloadSize(10).Build();
}

TEST(PeerKeyText, EncodesAsWgDoes) {
  const PeerKeyText text = PeerKeyToText(Counting(0));
  EXPECT_EQ(std::string(text.data(), text.size()), kKey0);
  const PeerKeyText other = PeerKeyToText(Counting(100));
  EXPECT_EQ(std::string(other.data(), other.size()), kKey100);
}

TEST(PeerKeyText, DecodesOnlyTheCanonicalText) {
  EXPECT_EQ(PeerKeyFromText(kKey0), Counting(0));
  EXPECT_EQ(PeerKeyFromText(kKey100), Counting(100));
  PeerKey ones{};
  ones.fill(0xff);
  EXPECT_EQ(PeerKeyFromText("//////////////////////////////////////////8="), ones);
  EXPECT_FALSE(PeerKeyFromText(""));
  EXPECT_FALSE(PeerKeyFromText("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"));   // no '='
  EXPECT_FALSE(PeerKeyFromText("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=A")); // too long
  EXPECT_FALSE(PeerKeyFromText("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd*h8="));  // not base64
  // The last character carries 2 bits beyond the key: they must be 0.
  EXPECT_FALSE(PeerKeyFromText("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9="));
}

TEST_F(TextAttributionTest, PeerFollowsTheTagWithInterfaceOrVerbose) {
  const PeerKey key = Counting(0);
  const Sample s{.packet = Udp4(), .peer = &key};
  EXPECT_EQ(Print({.interface_name = true}, s),
            "? [IN   UDP] peer AAECAwQF 198.51.100.2:4000 > 198.51.100.1:9 length 10\n");
  EXPECT_EQ(
      Print({.verbose = true}, s),
      "[IN   UDP] peer AAECAwQF 198.51.100.2:4000 > 198.51.100.1:9 length 10, ttl 64, id 4660, "
      "iplen 38\n");
  // Without -e or -v the line is tcpdump's, attributed or not.
  EXPECT_EQ(Print({}, s), "[IN   UDP] 198.51.100.2:4000 > 198.51.100.1:9 length 10\n");
}

TEST_F(TextAttributionTest, UnattributedLinesDoNotChange) {
  const Sample s{.packet = Udp4()};
  EXPECT_EQ(Print({.interface_name = true}, s),
            "? [IN   UDP] 198.51.100.2:4000 > 198.51.100.1:9 length 10\n");
  EXPECT_EQ(Print({.verbose = true}, s),
            "[IN   UDP] 198.51.100.2:4000 > 198.51.100.1:9 length 10, ttl 64, id 4660, iplen 38\n");
}

TEST_F(TextAttributionTest, PeerOnIpv6AndOutbound) {
  const PeerKey key = Counting(100);
  const Sample s{
      .packet =
          PacketBuilder::Ipv6("2001:db8:100::1", "2001:db8:100::3").Icmp6(128, 0, 5, 1).Build(),
      .peer = &key,
      .direction = Direction::Outbound};
  EXPECT_EQ(Print({.interface_name = true}, s),
            "? [OUT ICMP] peer ZGVmZ2hp 2001:db8:100::1 > 2001:db8:100::3 echo request, id 5, "
            "seq 1, length 8\n");
}

TEST_F(TextAttributionTest, SuperPacketShowsSegmentsWithVerbose) {
  const Packet big = PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2")
                         .Tcp(5201, 40000, 0x10, 1, 1)
                         .PayloadSize(45 * 1368)
                         .Build();
  const Sample s{.packet = big, .gso_segs = 45, .gso_size = 1368};
  const std::string line = Print({.verbose = true, .absolute_sequence = true}, s);
  EXPECT_TRUE(line.ends_with(", iplen 61600, gso 45x1368\n")) << line;
  // -v only: without it the length alone is shown, as for any packet.
  EXPECT_EQ(Print({.interface_name = true}, s).find("gso"), std::string::npos);
}

TEST_F(TextAttributionTest, PeerAndSegmentsTogether) {
  const PeerKey key = Counting(0);
  const Sample s{.packet = Udp4(), .peer = &key, .gso_segs = 2, .gso_size = 5};
  EXPECT_EQ(
      Print({.verbose = true}, s),
      "[IN   UDP] peer AAECAwQF 198.51.100.2:4000 > 198.51.100.1:9 length 10, ttl 64, id 4660, "
      "iplen 38, gso 2x5\n");
}

// Attribution is about the tunnel-inner address: a record that is not IP
// (which the Session never attributes) still prints its peer if one is set,
// so the line never hides what the record carries.
TEST_F(TextAttributionTest, NonIpRecordKeepsItsPeer) {
  const PeerKey key = Counting(0);
  const Sample s{.packet = Packet{0x00, 0x01, 0x02, 0x03}, .peer = &key};
  EXPECT_EQ(Print({.interface_name = true}, s), "? [IN     ?] peer AAECAwQF ??? len=4\n");
}

} // namespace
} // namespace wgcap
