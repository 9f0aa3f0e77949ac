// SPDX-License-Identifier: Apache-2.0
// PcapngReader on bad files: cut at every byte, absurd or inconsistent
// lengths, unknown byte orders and versions; and OpenCaptureFile's choice of
// format, from a file and from a pipe.
#include "file/pcapng_reader.hpp"

#include <unistd.h>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/capture_contents.hpp"
#include "support/packet_builder.hpp"
#include "support/pcapng_builder.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/pcap_writer.hpp"

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

TEST(PcapngReader, TruncationAtEveryByteNamesTheOffset) {
  PcapngBuilder f;
  f.Interface(static_cast<std::uint16_t>(kLinkTypeRaw), 0, 9)
      .Epb(0, 1, Ip(0), pcapng::kFlagsInbound)
      .Epb(0, 2, Ip(1))
      .Epb(0, 3, Ip(2), pcapng::kFlagsOutbound);
  const Bytes& whole = f.bytes;
  f.starts.push_back(whole.size());
  TempDir dir;
  const std::string path = dir.File("cut.pcapng");
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    test::WriteFileBytes(path,
                         Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut)));
    auto in = ByteReader::OpenFile(path);
    ASSERT_TRUE(in);
    auto reader = PcapngReader::Open(std::move(in).value());
    std::size_t block = 0; // the block the cut falls in (or starts)
    while (f.starts[block + 1] <= cut) {
      ++block;
    }
    const std::size_t start = f.starts[block], within = cut - start;
    const std::size_t length = f.starts[block + 1] - start;
    std::string expected =
        path + ": truncated block at byte offset " + std::to_string(start) + ": ";
    if (within < 8) {
      expected += "header needs 8 bytes, file has " + std::to_string(within);
    } else if (block == 0 && within < 12) {
      expected += "section header needs 28 bytes, file has " + std::to_string(within);
    } else {
      expected +=
          "block needs " + std::to_string(length) + " bytes, file has " + std::to_string(within);
    }
    if (cut < 4) {
      ASSERT_FALSE(reader);
      EXPECT_EQ(reader.error().message,
                path + ": not a pcapng file (no section header at byte offset 0)");
      continue;
    }
    // Open reads up to the first interface: cuts before its end fail there.
    if (block <= 1 && within != 0) {
      ASSERT_FALSE(reader);
      EXPECT_EQ(reader.error().message, expected);
      continue;
    }
    ASSERT_TRUE(reader) << reader.error().message;
    const Read r = test::ReadCapture(**reader);
    const std::size_t complete = block >= 2 ? block - 2 : 0;
    ASSERT_EQ(r.records.size(), complete);
    for (std::size_t i = 0; i < complete; ++i) {
      EXPECT_EQ(r.data[i], Ip(static_cast<int>(i)));
    }
    if (within == 0) {
      EXPECT_FALSE(r.error) << "a cut between blocks is a clean end: " << *r.error;
    } else {
      ASSERT_TRUE(r.error);
      EXPECT_EQ(*r.error, expected);
    }
  }
}

struct Malformed {
  const char* what;
  Bytes file;
  std::string error;    // expected substring
  std::size_t read = 0; // records before it
};

TEST(PcapngReader, MalformedBlocksAreRefusedWithTheirOffset) {
  auto base = [] {
    PcapngBuilder f;
    f.Interface(static_cast<std::uint16_t>(kLinkTypeRaw)).Epb(0, 1, {0x45});
    return f;
  };
  const std::size_t next = base().bytes.size(); // where the bad block starts
  const std::string at = "block at byte offset " + std::to_string(next);
  auto with = [&](auto add) {
    PcapngBuilder f = base();
    add(f);
    return f.bytes;
  };
  auto epb_body = [](std::uint32_t id, std::uint32_t captured, const Bytes& tail) {
    Bytes b = PcapngBuilder::Le32(id);
    for (std::uint32_t v : {0u, 0u, captured, captured}) {
      const Bytes w = PcapngBuilder::Le32(v);
      b.insert(b.end(), w.begin(), w.end());
    }
    b.insert(b.end(), tail.begin(), tail.end());
    return b;
  };
  const std::vector<Malformed> cases = {
      {"absurd length", with([](PcapngBuilder& f) { f.Raw(6, Bytes(20, 0), 0xfffffff0u); }),
       at + " claims 4294967280 bytes (at most 16842752 allowed)", 1},
      {"absurd skipped block",
       with([](PcapngBuilder& f) { f.Raw(0x99, Bytes(20, 0), 0x7ffffff0u, 0x7ffffff0u); }),
       "truncated " + at + ": block needs 2147483632 bytes, file has 32", 1},
      {"below 12", with([](PcapngBuilder& f) { f.Raw(6, {}, 8); }),
       at + ": length 8 is below the minimum 12", 1},
      {"not a multiple of 4", with([](PcapngBuilder& f) { f.Raw(6, Bytes(4, 0), 18); }),
       at + ": length 18 is not a multiple of 4", 1},
      {"trailer differs", with([](PcapngBuilder& f) { f.Raw(0x99, Bytes(4, 0), {}, 20); }),
       at + ": trailing length 20 differs from the leading 16", 1},
      {"captured overruns", with([&](PcapngBuilder& f) {
         f.Raw(6, epb_body(0, 1000, {1, 2, 3, 4}));
       }),
       "packet " + at + ": captured length 1000 overruns the block (length 36)", 1},
      {"unknown interface", with([&](PcapngBuilder& f) { f.Raw(6, epb_body(3, 0, {})); }),
       "packet " + at + ": interface 3 is not described in this section (1 are)", 1},
      {"option overruns", with([&](PcapngBuilder& f) {
         f.Raw(6, epb_body(0, 0, {2, 0, 200, 0, 0, 0, 0, 0}));
       }),
       "packet " + at + ": option at byte offset " + std::to_string(next + 28) +
           " overruns the block",
       1},
      {"short packet block", with([](PcapngBuilder& f) { f.Raw(6, Bytes(8, 0)); }),
       "packet " + at + ": length 20 is below the minimum 32", 1},
      {"short interface block", with([](PcapngBuilder& f) { f.Raw(1, Bytes(4, 0)); }),
       "interface description " + std::string("at byte offset ") + std::to_string(next) +
           ": length 16 is below the minimum 20",
       1},
      {"version 2", PcapngBuilder(false, 2).bytes,
       "section header at byte offset 0: unsupported pcapng version 2.0 (1.x needed)", 0},
      {"short section header",
       PcapngBuilder().Raw(pcapng::kSectionHeader, {0x4d, 0x3c, 0x2b, 0x1a}).bytes,
       "block at byte offset 28: length 16 is below the minimum 28", 0},
      {"byte-order magic", Bytes{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3,  4, 1, 0,
                                 0,    0,    0,    0,    0,  0, 0, 0, 0, 0, 28, 0, 0, 0},
       "section header at byte offset 0: unknown byte-order magic 0x01020304", 0},
      {"packet before any interface", PcapngBuilder().Epb(0, 1, {0x45}).bytes,
       "packet block at byte offset 28: interface 0 is not described in this section (0 are)", 0},
  };
  TempDir dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const Read r = ReadBytes(dir, c.file);
    const std::string error = r.open_error ? *r.open_error : r.error.value_or("no error");
    EXPECT_THAT(error, HasSubstr(c.error));
    EXPECT_EQ(r.records.size(), c.read);
  }
}

TEST(OpenCaptureFile, ChoosesTheFormatByItsMagic) {
  TempDir dir;
  MemoryWriter pcap;
  PcapWriter pw(pcap, 0);
  ASSERT_TRUE(pw.WritePacket(kT0, Ip(0)));
  Read r = ReadBytes(dir, pcap.bytes(), "a.pcap");
  ASSERT_FALSE(r.open_error) << *r.open_error;
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].link_type, kLinkTypeRaw);
  EXPECT_EQ(r.records[0].direction, Direction::Unknown);

  r = ReadBytes(dir, Bytes(40, 0x42), "junk");
  ASSERT_TRUE(r.open_error);
  EXPECT_EQ(*r.open_error,
            dir.File("junk") + ": not a pcap or pcapng file (magic 0x42424242 at byte offset 0)");
  r = ReadBytes(dir, Bytes{0x0a, 0x0d}, "short");
  ASSERT_TRUE(r.open_error);
  EXPECT_THAT(*r.open_error, HasSubstr("truncated pcap global header at byte offset 2"));
}

TEST(OpenCaptureFile, ReadsPcapngFromAPipe) {
  PcapngBuilder f;
  f.Interface(static_cast<std::uint16_t>(kLinkTypeRaw)).Epb(0, 1, Ip(0)).Epb(0, 2, Ip(2));
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], f.bytes.data(), f.bytes.size()), static_cast<ssize_t>(f.bytes.size()));
  close(fds[1]);
  auto reader = OpenCaptureFile(std::make_unique<ByteReader>(fds[0], "pipe", true));
  ASSERT_TRUE(reader) << reader.error().message;
  const Read r = test::ReadCapture(**reader);
  ASSERT_FALSE(r.error) << *r.error;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.data[1], Ip(2));
}

} // namespace
} // namespace wgcap
