// SPDX-License-Identifier: Apache-2.0
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wgcap/rotating_file_sink.hpp"
#include "wgcap/stats.hpp"

namespace wgcap {
namespace {

constexpr std::int64_t kT0 = 1764201600LL * 1000000000LL; // 2025-11-27 00:00:00 UTC

RotatingFileSink::WriterFactory PcapFactory() {
  return [](ByteWriter& out) -> Result<std::unique_ptr<PacketSink>> {
    auto w = std::make_unique<PcapWriter>(out, 65535);
    if (auto s = w->WriteHeader(); !s) {
      return s.error();
    }
    return std::unique_ptr<PacketSink>(std::move(w));
  };
}

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

int TcpdumpCount(const std::string& file) {
  const auto r = test::Run({"tcpdump", "-nn", "-r", file});
  EXPECT_EQ(r.exit_code, 0) << file << ": " << r.err;
  return static_cast<int>(std::count(r.out.begin(), r.out.end(), '\n'));
}

struct Fixture {
  test::TempDir dir;
  std::int64_t now = kT0;
  std::vector<std::uint8_t> packet = test::PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2")
                                         .Udp(1, 2)
                                         .PayloadSize(972)
                                         .Build(); // 1000 bytes

  PacketRecord Record() {
    PacketRecord r;
    r.timestamp_ns = now;
    r.data = packet;
    r.original_length = static_cast<std::uint32_t>(packet.size());
    return r;
  }
};

TEST(RotatingFileSink, RotatesBySizeAndKeepsTheNewestN) {
  Fixture f;
  RotationOptions o;
  o.base_path = f.dir.File("cap.pcap");
  o.max_bytes = 24 + 10 * (16 + 1000); // the file header and ten records
  o.max_files = 3;
  RotatingFileSink sink(o, PcapFactory(), [&] { return f.now; });
  for (int i = 0; i < 55; ++i) {
    f.now += 1'000'000'000; // a second apart: names differ in time too
    ASSERT_TRUE(sink.WritePacket(f.Record()).ok());
  }
  ASSERT_TRUE(sink.Finish(Stats{}).ok());
  const auto names = FilesIn(f.dir.path());
  ASSERT_EQ(names.size(), 3u) << "the oldest files were removed";
  EXPECT_EQ(sink.files().size(), 3u);
  // 55 packets, 10 a file: files 4, 5 (full) and 6 (5 packets) remain.
  EXPECT_EQ(TcpdumpCount(f.dir.File(names[0])), 10);
  EXPECT_EQ(TcpdumpCount(f.dir.File(names[1])), 10);
  EXPECT_EQ(TcpdumpCount(f.dir.File(names[2])), 5);
  EXPECT_THAT(names[0], ::testing::MatchesRegex("cap\\.20251127T000031Z\\.000004\\.pcap"));
  EXPECT_THAT(names[2], ::testing::MatchesRegex("cap\\.20251127T000051Z\\.000006\\.pcap"));
}

TEST(RotatingFileSink, RotatesByAge) {
  Fixture f;
  RotationOptions o;
  o.base_path = f.dir.File("age.pcap");
  o.max_seconds = 60;
  RotatingFileSink sink(o, PcapFactory(), [&] { return f.now; });
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(sink.WritePacket(f.Record()).ok());
    f.now += 25'000'000'000LL; // 25 s apart: a new file every third packet
  }
  ASSERT_TRUE(sink.Finish(Stats{}).ok());
  const auto names = FilesIn(f.dir.path());
  ASSERT_EQ(names.size(), 4u);
  int total = 0;
  for (const auto& n : names) {
    total += TcpdumpCount(f.dir.File(n));
  }
  EXPECT_EQ(total, 10);
  EXPECT_EQ(TcpdumpCount(f.dir.File(names[0])), 3);
}

TEST(RotatingFileSink, NoPacketsStillLeavesOneValidFile) {
  Fixture f;
  RotationOptions o;
  o.base_path = f.dir.File("none");
  o.max_bytes = 1000;
  RotatingFileSink sink(o, PcapFactory(), [&] { return f.now; });
  ASSERT_TRUE(sink.Finish(Stats{}).ok());
  const auto names = FilesIn(f.dir.path());
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0], "none.20251127T000000Z.000001");
  EXPECT_EQ(TcpdumpCount(f.dir.File(names[0])), 0);
}

TEST(RotatingFileSink, UnfinishedFilesAreNeverVisibleUnderTheirName) {
  Fixture f;
  RotationOptions o;
  o.base_path = f.dir.File("live.pcap");
  o.max_bytes = 24 + 3 * (16 + 1000);
  RotatingFileSink sink(o, PcapFactory(), [&] { return f.now; });
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(sink.WritePacket(f.Record()).ok());
  }
  // Two finished files are in place and readable; the third is still a
  // hidden temporary file.
  int visible = 0;
  for (const auto& n : FilesIn(f.dir.path())) {
    if (n[0] != '.') {
      ++visible;
      EXPECT_EQ(TcpdumpCount(f.dir.File(n)), 3);
    }
  }
  EXPECT_EQ(visible, 2);
  ASSERT_TRUE(sink.Finish(Stats{}).ok());
}

} // namespace
} // namespace wgcap
