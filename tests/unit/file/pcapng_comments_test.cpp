// SPDX-License-Identifier: Apache-2.0
// SPEC 10's EPB comments: `peer=KEY` on an attributed packet, `gso=SEGSxSIZE`
// on a super-packet. Their bytes (the same on the writer's fast and slow
// paths), what tshark and tcpdump make of them, our reader bringing them
// back, and `wgcap -r F -e -v` showing them without --wg-peers.
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "file/pcapng_reader.hpp"
#include "support/packet_builder.hpp"
#include "support/pcapng_builder.hpp"
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
// base64 of the bytes 0..31 and 100..131.
constexpr const char* kKeyA = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr const char* kKeyB = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=";

PeerKey Counting(std::uint8_t first) {
  PeerKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(first + i);
  }
  return key;
}

struct Sample {
  Bytes data;
  const PeerKey* peer = nullptr;
  std::uint16_t gso_segs = 0, gso_size = 0;
};

class PcapngComments : public ::testing::Test {
protected:
  void SetUp() override {
    const Bytes udp = PacketBuilder::Ipv4("198.51.100.2", "198.51.100.1").Udp(4000, 9).Build();
    const Bytes udp6 =
        PacketBuilder::Ipv6("2001:db8:100::3", "2001:db8:100::1").Udp(4000, 9).Build();
    const Bytes big = PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2")
                          .Tcp(5201, 40000, 0x10, 1, 1)
                          .PayloadSize(45 * 1368)
                          .Build();
    samples_ = {{udp}, {udp, &a_}, {udp6, &b_}, {big, nullptr, 45, 1368}, {big, &a_, 45, 1368}};
  }

  // Every sample through one writer; `fast` hands it a buffered file
  // writer (Claim succeeds), otherwise a MemoryWriter (the slow path).
  Bytes Write(bool fast) const {
    const std::string path = dir_.File(fast ? "fast.pcapng" : "slow.pcapng");
    MemoryWriter memory;
    std::unique_ptr<AtomicFileWriter> file;
    if (fast) {
      auto created = AtomicFileWriter::Create(path);
      EXPECT_TRUE(created) << created.error().message;
      file = std::move(*created);
    }
    ByteWriter& out = fast ? static_cast<ByteWriter&>(*file) : memory;
    PcapngWriterOptions o;
    o.interface_name = "wg0";
    o.now_ns = [] { return kT0; };
    PcapngWriter w(out, o);
    std::int64_t ts = kT0;
    for (const Sample& s : samples_) {
      PacketRecord r;
      r.timestamp_ns = ts++;
      r.data = s.data;
      r.direction = Direction::Inbound;
      r.peer = s.peer;
      r.gso_segs = s.gso_segs;
      r.gso_size = s.gso_size;
      EXPECT_TRUE(w.WritePacket(r));
    }
    EXPECT_TRUE(w.Finish(Stats{}));
    if (!fast) {
      return memory.bytes();
    }
    EXPECT_TRUE(file->Commit());
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }

  std::string File(const std::string& name) const {
    const std::string path = dir_.File(name);
    const Bytes bytes = Write(false);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  PeerKey a_ = Counting(0), b_ = Counting(100);
  std::vector<Sample> samples_;
  test::TempDir dir_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t nl = text.find('\n', at);
    lines.push_back(text.substr(at, nl - at));
    at = nl == std::string::npos ? text.size() : nl + 1;
  }
  return lines;
}

TEST_F(PcapngComments, FastAndSlowPathsWriteTheSameBytes) {
  const Bytes slow = Write(false);
  EXPECT_EQ(Write(true), slow);
  // The attributed UDP packet's options, byte for byte: epb_flags, then
  // opt_comment (1) of 49 bytes padded to 52, then opt_endofopt.
  const std::string text(slow.begin(), slow.end());
  const std::string comment = std::string("peer=") + kKeyA;
  const std::size_t at = text.find(comment);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(text.substr(at - 12, 12),
            std::string("\x02\x00\x04\x00\x01\x00\x00\x00\x01\x00\x31\x00", 12));
  EXPECT_EQ(text.substr(at + 49, 7), std::string("\x00\x00\x00\x00\x00\x00\x00", 7));
}

TEST_F(PcapngComments, TsharkShowsThemAsFrameComments) {
  const std::string path = File("c.pcapng");
  const auto r =
      test::Run({"tshark", "-r", path, "-T", "fields", "-e", "frame.len", "-e", "frame.comment"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string peer_a = std::string("peer=") + kKeyA;
  EXPECT_THAT(Lines(r.out), ElementsAre("28\t", "28\t" + peer_a, std::string("48\tpeer=") + kKeyB,
                                        "61600\tgso=45x1368", "61600\t" + peer_a + ",gso=45x1368"));
}

TEST_F(PcapngComments, TcpdumpReadsEveryPacket) {
  const auto r = test::Run({"tcpdump", "-nn", "-r", File("c.pcapng")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), samples_.size()) << r.out;
}

TEST_F(PcapngComments, OurReaderBringsThemBack) {
  auto in = ByteReader::OpenFile(File("c.pcapng"));
  ASSERT_TRUE(in) << in.error().message;
  auto reader = PcapngReader::Open(std::move(*in));
  ASSERT_TRUE(reader) << reader.error().message;
  std::vector<PacketRecord> got;
  FileRecord record;
  for (;;) {
    auto more = (*reader)->Next(record);
    ASSERT_TRUE(more) << more.error().message;
    if (!*more) {
      break;
    }
    got.push_back(ToNetworkLayer(record));
  }
  ASSERT_EQ(got.size(), samples_.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_EQ(got[i].peer == nullptr, samples_[i].peer == nullptr);
    if (got[i].peer != nullptr) {
      EXPECT_EQ(*got[i].peer, *samples_[i].peer);
    }
    EXPECT_EQ(got[i].gso_segs, samples_[i].gso_segs);
    EXPECT_EQ(got[i].gso_size, samples_[i].gso_size);
  }
  // One key, one copy: the pointers of the two records of key A agree, and
  // stay valid after the blocks they came from were reused.
  EXPECT_EQ(got[1].peer, got[4].peer);
}

// Comments that are not ours, or ours malformed, are only comments; both
// byte orders read the same.
TEST(PcapngCommentsRead, OnlyWellFormedCommentsCount) {
  const Bytes ip = PacketBuilder::Ipv4("198.51.100.2", "198.51.100.1").Udp(4000, 9).Build();
  const std::string key = std::string("peer=") + kKeyA;
  for (const bool big : {false, true}) {
    test::PcapngBuilder b(big);
    b.Interface(101);
    b.EpbWithComments(0, 1, ip, 1, {"hello", key, "gso=2x1400"});
    b.EpbWithComments(0, 2, ip, 1,
                      {"peer=AAEC", key + "x", "peer=" + std::string(kKeyA).replace(42, 1, "9"),
                       "gso=0x5", "gso=1x", "gso=70000x1", "gso=3x4y", "gso="});
    test::TempDir dir;
    const std::string path = dir.File("x.pcapng");
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.bytes.data()),
               static_cast<std::streamsize>(b.bytes.size()));
    auto in = ByteReader::OpenFile(path);
    ASSERT_TRUE(in);
    auto reader = PcapngReader::Open(std::move(*in));
    ASSERT_TRUE(reader) << reader.error().message;
    FileRecord r;
    auto first = (*reader)->Next(r);
    ASSERT_TRUE(first && *first);
    ASSERT_NE(r.peer, nullptr);
    EXPECT_EQ(*r.peer, Counting(0));
    EXPECT_EQ(r.gso_segs, 2);
    EXPECT_EQ(r.gso_size, 1400);
    auto second = (*reader)->Next(r);
    ASSERT_TRUE(second && *second);
    EXPECT_EQ(r.peer, nullptr) << "big endian: " << big;
    EXPECT_EQ(r.gso_segs, 0);
    EXPECT_EQ(r.gso_size, 0);
  }
}

TEST_F(PcapngComments, WgcapReadShowsPeersAndSegments) {
  const std::string path = File("c.pcapng");
  const auto r = test::Run({test::WgcapBinary(), "-r", path, "-e", "-v", "-S", "-t"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), samples_.size()) << r.out;
  EXPECT_THAT(lines[0], HasSubstr("[IN   UDP] 198.51.100.2:4000"));
  EXPECT_THAT(lines[1], HasSubstr("[IN   UDP] peer AAECAwQF 198.51.100.2:4000"));
  EXPECT_THAT(lines[2], HasSubstr("[IN   UDP] peer ZGVmZ2hp [2001:db8:100::3]:4000"));
  EXPECT_THAT(lines[3], HasSubstr("[IN   TCP] 198.51.100.1:5201"));
  EXPECT_THAT(lines[3], ::testing::EndsWith("iplen 61600, gso 45x1368"));
  EXPECT_THAT(lines[4], HasSubstr("[IN   TCP] peer AAECAwQF 198.51.100.1:5201"));
  EXPECT_THAT(lines[4], ::testing::EndsWith("iplen 61600, gso 45x1368"));
}

} // namespace
} // namespace wgcap
