// SPDX-License-Identifier: Apache-2.0
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "file/rotating_file_sink.hpp"
#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wgcap/session.hpp"

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

// A disk with `room` bytes left, shared by every file: each write goes to the
// file at once, and the one that does not fit writes what fits and fails
// with ENOSPC, as write(2) does.
class FillingDisk final : public ByteWriter {
public:
  FillingDisk(ByteWriter& out, std::uint64_t& room) : out_(out), room_(room) {}
  Status Write(std::span<const std::uint8_t> bytes) override {
    const auto fits = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), room_));
    room_ -= fits;
    if (auto s = out_.Write(bytes.first(fits)); !s) {
      return s;
    }
    if (auto s = out_.Flush(); !s) {
      return s;
    }
    return fits == bytes.size() ? Status{} : ErrnoError("write", ENOSPC);
  }
  Status Flush() override { return out_.Flush(); }
  using ByteWriter::Write;

private:
  ByteWriter& out_;
  std::uint64_t& room_;
};

enum class Format { kPcap, kPcapng };

std::unique_ptr<PacketSink> FormatWriter(Format format, ByteWriter& out) {
  if (format == Format::kPcap) {
    return std::make_unique<PcapWriter>(out, 65535);
  }
  PcapngWriterOptions o;
  o.interface_name = "wg0";
  return std::make_unique<PcapngWriter>(out, o);
}

Status WriteHeader(PacketSink& writer) {
  if (auto* pcap = dynamic_cast<PcapWriter*>(&writer)) {
    return pcap->WriteHeader();
  }
  return dynamic_cast<PcapngWriter&>(writer).WriteHeader();
}

// The format writer of one rotated file, writing through the filling disk.
class OnFillingDisk final : public PacketSink {
public:
  OnFillingDisk(Format format, ByteWriter& out, std::uint64_t& room)
      : disk_(out, room), writer_(FormatWriter(format, disk_)) {}
  Status WritePacket(const PacketRecord& packet) override { return writer_->WritePacket(packet); }
  Status Flush() override { return writer_->Flush(); }
  Status Finish(const Stats& stats) override { return writer_->Finish(stats); }
  PacketSink& writer() { return *writer_; }

private:
  FillingDisk disk_;
  std::unique_ptr<PacketSink> writer_;
};

class RotatingFileSinkFullDisk : public ::testing::TestWithParam<Format> {};

// SPEC 7: a failed write keeps every complete record written before it. The
// disk fills in the fourth file: the three before are complete (the first
// already removed by -W 2), and the fourth is kept under its own name, cut
// back to its last complete record.
TEST_P(RotatingFileSinkFullDisk, KeepsTheCurrentFileCutBackToItsLastCompleteRecord) {
  Fixture f;
  // The sizes of the file header and of one record, as the format writes them.
  MemoryWriter sizes;
  auto measure = FormatWriter(GetParam(), sizes);
  ASSERT_TRUE(WriteHeader(*measure).ok());
  const std::uint64_t header = sizes.bytes().size();
  ASSERT_TRUE(measure->WritePacket(f.Record()).ok());
  const std::uint64_t record = sizes.bytes().size() - header;

  const std::string ext = GetParam() == Format::kPcap ? "pcap" : "pcapng";
  RotationOptions o;
  o.base_path = f.dir.File("cap." + ext);
  o.max_bytes = header + 10 * record;
  o.max_files = 2;
  std::uint64_t room = 3 * (header + 10 * record) + header + 4 * record + record / 2;
  RotatingFileSink sink(
      o,
      [&](ByteWriter& out) -> Result<std::unique_ptr<PacketSink>> {
        auto w = std::make_unique<OnFillingDisk>(GetParam(), out, room);
        if (auto s = WriteHeader(w->writer()); !s) {
          return s.error();
        }
        return std::unique_ptr<PacketSink>(std::move(w));
      },
      [&] { return f.now; });
  int written = 0;
  Status status;
  for (; written < 100; ++written) {
    f.now += 1'000'000'000;
    if (status = sink.WritePacket(f.Record()); !status) {
      break;
    }
  }
  ASSERT_FALSE(status.ok()) << "the disk never filled";
  EXPECT_EQ(status.error().errnum, ENOSPC);
  EXPECT_EQ(written, 34) << "three files of ten, four records in the fourth";

  // What the CLI does after a failed write (the Session calls no Finish).
  ASSERT_TRUE(sink.KeepCompleteRecords().ok());
  const auto names = FilesIn(f.dir.path());
  ASSERT_EQ(names.size(), 2u) << "-W 2 still holds, and no temporary file is left";
  EXPECT_EQ(sink.files().size(), 2u);
  EXPECT_EQ(names[0], "cap.20251127T000021Z.000003." + ext);
  EXPECT_EQ(names[1], "cap.20251127T000031Z.000004." + ext) << "kept under its final name";
  EXPECT_EQ(TcpdumpCount(f.dir.File(names[0])), 10);
  EXPECT_EQ(std::filesystem::file_size(f.dir.File(names[1])), header + 4 * record)
      << "cut back to the end of the last complete record";
  const auto r = test::Run({"tcpdump", "-nn", "-r", f.dir.File(names[1])});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, ::testing::Not(::testing::HasSubstr("truncated")));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4);
  // Nothing more to keep.
  EXPECT_TRUE(sink.KeepCompleteRecords().ok());
  EXPECT_EQ(FilesIn(f.dir.path()).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Formats, RotatingFileSinkFullDisk,
                         ::testing::Values(Format::kPcap, Format::kPcapng),
                         [](const ::testing::TestParamInfo<Format>& f) {
                           return f.param == Format::kPcap ? "Pcap" : "Pcapng";
                         });

} // namespace
} // namespace wgcap
