// SPDX-License-Identifier: Apache-2.0
// The capture writers' fast path (issue 20): a record laid out straight into
// the file buffer through ByteWriter::Claim must give the same bytes as the
// Write path MemoryWriter always takes, whatever the buffer size: a record
// that exactly fills the buffer, one larger than it, and failures with part
// of the buffer in use.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wgcap/session.hpp"

namespace wgcap {
namespace {

using Bytes = std::vector<std::uint8_t>;
using ::testing::HasSubstr;

enum class Format { kPcap, kPcapNano, kPcapng };

constexpr std::uint32_t kSnaplen = 100;

std::unique_ptr<PacketSink> MakeWriter(Format format, ByteWriter& out,
                                       std::uint32_t snaplen = kSnaplen) {
  if (format == Format::kPcapng) {
    PcapngWriterOptions o;
    o.snaplen = snaplen;
    o.interface_name = "wg-writers0";
    o.ifindex = 3;
    o.now_ns = [] { return std::int64_t{1'800'000'000'000'000'000}; };
    return std::make_unique<PcapngWriter>(out, o);
  }
  return std::make_unique<PcapWriter>(out, snaplen,
                                      format == Format::kPcapNano ? PcapTimePrecision::Nano
                                                                  : PcapTimePrecision::Micro);
}

Status WriteHeader(PacketSink& writer) {
  if (auto* pcap = dynamic_cast<PcapWriter*>(&writer)) {
    return pcap->WriteHeader();
  }
  return dynamic_cast<PcapngWriter&>(writer).WriteHeader();
}

Bytes Payload(std::size_t size, std::uint8_t seed) {
  Bytes b(size);
  for (std::size_t i = 0; i < size; ++i) {
    b[i] = static_cast<std::uint8_t>(seed + i * 7);
  }
  return b;
}

// Sizes around the pcapng padding and the snaplen (100), an empty packet, a
// timestamp before 1970, original lengths given and not, and packets from
// other interfaces between runs of the captured one.
struct Sequence {
  std::vector<Bytes> payloads;
  std::vector<PacketRecord> records;
};

Sequence MixedPackets() {
  Sequence s;
  const std::size_t sizes[] = {40, 0, 1, 3, 97, 100, 101, 128, 300, 40, 41, 42};
  const std::uint32_t ifindexes[] = {3, 3, 4, 3, 3, 5, 5, 3, 4, 3, 3, 3};
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    s.payloads.push_back(Payload(sizes[i], static_cast<std::uint8_t>(i)));
  }
  for (std::size_t i = 0; i < s.payloads.size(); ++i) {
    s.records.push_back(PacketRecord{
        .timestamp_ns = i == 2 ? -1'500'000'001 : 1'700'000'000'123'456'789 + std::int64_t(i) * 999,
        .data = s.payloads[i],
        .original_length = i % 3 == 0 ? 0 : static_cast<std::uint32_t>(sizes[i] + 20 * i),
        .direction = static_cast<Direction>(i % 3),
        .ifindex = ifindexes[i]});
  }
  return s;
}

Status WriteAll(PacketSink& writer, const std::vector<PacketRecord>& records) {
  for (const PacketRecord& r : records) {
    if (auto s = writer.WritePacket(r); !s) {
      return s;
    }
  }
  Stats stats{};
  stats.received = static_cast<std::int64_t>(records.size());
  if (auto s = writer.Finish(stats); !s) {
    return s;
  }
  return writer.Flush();
}

// The reference: MemoryWriter has no buffer to lend, so every record goes
// through Write.
Bytes Reference(Format format, const std::vector<PacketRecord>& records,
                std::uint32_t snaplen = kSnaplen) {
  MemoryWriter out;
  auto writer = MakeWriter(format, out, snaplen);
  EXPECT_TRUE(WriteAll(*writer, records).ok());
  return out.bytes();
}

// A pipe whose read end never blocks, holding everything these tests write.
struct Pipe {
  Pipe() {
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
  }
  ~Pipe() {
    close(fds[0]);
    close(fds[1]);
  }
  Bytes Drain() const {
    Bytes out;
    std::uint8_t buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) {
      out.insert(out.end(), buf, buf + n);
    }
    return out;
  }
  int fds[2] = {-1, -1};
};

class WriterFastPath : public ::testing::TestWithParam<Format> {};

// Every buffer size from none to more than the whole capture: each record
// boundary falls on the buffer's end for some size, each record is larger
// than the buffer for others.
TEST_P(WriterFastPath, SameBytesAsTheWritePathForEveryBufferSize) {
  const Sequence packets = MixedPackets();
  const Bytes expected = Reference(GetParam(), packets.records);
  ASSERT_GT(expected.size(), 600u);
  for (std::size_t buffer = 0; buffer <= expected.size() + 16; ++buffer) {
    Pipe p;
    Bytes got;
    {
      FdWriter out(p.fds[1], "pipe", buffer);
      auto writer = MakeWriter(GetParam(), out);
      ASSERT_TRUE(WriteAll(*writer, packets.records).ok()) << "buffer " << buffer;
      EXPECT_EQ(out.bytes_accepted(), expected.size()) << "buffer " << buffer;
      got = p.Drain();
    }
    if (got != expected) {
      ADD_FAILURE() << "buffer of " << buffer << " bytes: " << got.size() << " bytes written, "
                    << expected.size() << " expected";
      break;
    }
  }
}

TEST_P(WriterFastPath, ARecordExactlyFillingTheBufferStaysUntilTheNext) {
  const Bytes payload = Payload(57, 1); // pcapng pads it
  const PacketRecord record{.timestamp_ns = 1'700'000'000'000'000'000,
                            .data = payload,
                            .direction = Direction::Inbound,
                            .ifindex = 3};
  MemoryWriter sizes;
  auto measure = MakeWriter(GetParam(), sizes);
  ASSERT_TRUE(WriteHeader(*measure).ok());
  const std::size_t header = sizes.bytes().size();
  ASSERT_TRUE(measure->WritePacket(record).ok());
  const Bytes first = sizes.bytes(); // header and one record

  Pipe p;
  FdWriter out(p.fds[1], "pipe", first.size());
  auto writer = MakeWriter(GetParam(), out);
  ASSERT_TRUE(writer->WritePacket(record).ok());
  EXPECT_EQ(out.bytes_accepted(), first.size());
  EXPECT_TRUE(p.Drain().empty()) << "header and record fill the buffer exactly: nothing flushed";
  EXPECT_EQ(out.Claim(1), nullptr);
  ASSERT_TRUE(writer->WritePacket(record).ok());
  EXPECT_EQ(p.Drain(), first) << "flushed at the record boundary, the record whole";
  ASSERT_TRUE(writer->Flush().ok());
  EXPECT_EQ(p.Drain(), Bytes(first.begin() + static_cast<std::ptrdiff_t>(header), first.end()));
}

TEST_P(WriterFastPath, ARecordLargerThanTheBufferGoesStraightThrough) {
  const Bytes payload = Payload(1500, 9);
  const std::vector<PacketRecord> records = {
      {.timestamp_ns = 1, .data = payload, .ifindex = 3},
      {.timestamp_ns = 2, .data = std::span(payload).first(10), .ifindex = 3}};
  const Bytes expected = Reference(GetParam(), records, 65535);
  Pipe p;
  FdWriter out(p.fds[1], "pipe", 256);
  auto writer = MakeWriter(GetParam(), out, 65535);
  ASSERT_TRUE(WriteAll(*writer, records).ok());
  EXPECT_EQ(p.Drain(), expected);
}

// /dev/full fails the flush that the second record needs; the first sat in
// a partly used buffer. Every later packet fails the same way, even one the
// rest of the buffer could have held.
TEST_P(WriterFastPath, AFailureWithThePartlyUsedBufferFailsEveryLaterPacket) {
  const Bytes payload = Payload(40, 2);
  const PacketRecord record{.timestamp_ns = 5, .data = payload, .ifindex = 3};
  MemoryWriter sizes;
  auto measure = MakeWriter(GetParam(), sizes);
  ASSERT_TRUE(measure->WritePacket(record).ok());

  const int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  {
    FdWriter out(fd, "/dev/full", sizes.bytes().size() + 8);
    auto writer = MakeWriter(GetParam(), out);
    ASSERT_TRUE(writer->WritePacket(record).ok()) << "buffered, not yet written";
    const Status failed = writer->WritePacket(record);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().errnum, ENOSPC);
    EXPECT_THAT(failed.error().message, HasSubstr("write /dev/full"));
    const Bytes tiny = {0x45};
    const Status again =
        writer->WritePacket(PacketRecord{.timestamp_ns = 6, .data = tiny, .ifindex = 3});
    ASSERT_FALSE(again.ok()) << "the failure sticks";
    EXPECT_EQ(again.error().message, failed.error().message);
    EXPECT_EQ(out.Claim(1), nullptr);
    EXPECT_FALSE(writer->Flush().ok());
  }
  close(fd);
}

// A file that may not grow past `limit` bytes (RLIMIT_FSIZE: write(2) writes
// what fits, then fails with EFBIG): the failure lands inside a record that
// was laid out in the buffer, and CommitCompleteRecords keeps the records
// before it whole.
TEST_P(WriterFastPath, AFailedFileKeepsItsCompleteRecords) {
  const Bytes payload = Payload(61, 3);
  const PacketRecord record{.timestamp_ns = 7, .data = payload, .ifindex = 3};
  MemoryWriter sizes;
  auto measure = MakeWriter(GetParam(), sizes);
  ASSERT_TRUE(WriteHeader(*measure).ok());
  const std::size_t header = sizes.bytes().size();
  ASSERT_TRUE(measure->WritePacket(record).ok());
  const std::size_t size = sizes.bytes().size() - header;
  const std::size_t limit = header + 20 * size + size / 2;

  test::TempDir dir;
  const std::string path = dir.File("limited.cap");
  auto file = AtomicFileWriter::Create(path);
  ASSERT_TRUE(file) << file.error().message;
  Status status;
  int written = 0;
  {
    rlimit old{};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    const rlimit capped{limit, old.rlim_max};
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &capped), 0);
    const auto old_handler = signal(SIGXFSZ, SIG_IGN);
    auto writer = MakeWriter(GetParam(), **file);
    // A buffer of 64 KiB would hold all of it: flush every few records.
    for (; written < 100 && status.ok(); ++written) {
      status = writer->WritePacket(record);
      if (status.ok() && written % 7 == 6) {
        status = writer->Flush();
      }
    }
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
  }
  ASSERT_FALSE(status.ok()) << "the file never reached its limit";
  EXPECT_EQ(status.error().errnum, EFBIG);
  ASSERT_TRUE((*file)->CommitCompleteRecords().ok());
  EXPECT_EQ(std::filesystem::file_size(path), header + 20 * size)
      << "cut back to the last complete record before the limit";
}

INSTANTIATE_TEST_SUITE_P(Formats, WriterFastPath,
                         ::testing::Values(Format::kPcap, Format::kPcapNano, Format::kPcapng),
                         [](const ::testing::TestParamInfo<Format>& f) {
                           switch (f.param) {
                           case Format::kPcap:
                             return "pcap";
                           case Format::kPcapNano:
                             return "pcap_nano";
                           case Format::kPcapng:
                             return "pcapng";
                           }
                           return "unknown";
                         });

} // namespace
} // namespace wgcap
