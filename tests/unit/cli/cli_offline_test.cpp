// SPDX-License-Identifier: Apache-2.0
// The wgcap binary's offline mode (-r), run as a user would run it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "file/pcap_reader.hpp"
#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;
using test::ProcessResult;
using ::testing::HasSubstr;

constexpr std::int64_t kT0 = 1700000000LL * 1000000000LL; // 2023-11-14 22:13:20 UTC

struct Packet {
  std::vector<std::uint8_t> bytes;
  std::int64_t ts;
};

std::vector<Packet> Traffic() {
  return {
      {PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Tcp(40000, 443, 0x02).Build(), kT0},
      {PacketBuilder::Ipv4("198.51.100.2", "198.51.100.1").Tcp(443, 40000, 0x12).Build(),
       kT0 + 1000},
      {PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Udp(5000, 53).PayloadSize(30).Build(),
       kT0 + 2000},
      {PacketBuilder::Ipv6("2001:db8:100::1", "2001:db8:100::2")
           .Tcp(50000, 80, 0x18)
           .Payload("GET / HTTP/1.1\r\n")
           .Build(),
       kT0 + 3000},
      {PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Icmp(8, 0, 7, 1).PayloadSize(56).Build(),
       kT0 + 4000},
      {PacketBuilder::Ipv6("2001:db8:100::2", "2001:db8:100::1")
           .Udp(53, 5000)
           .PayloadSize(200)
           .Build(),
       kT0 + 5000},
  };
}

// Writes packets (optionally wrapped by `wrap`) as a pcap of `link_type`.
std::string WritePcap(const test::TempDir& dir, const std::string& name,
                      const std::vector<Packet>& packets, std::uint32_t link_type = kLinkTypeRaw) {
  MemoryWriter out;
  PcapWriter w(out, 65535);
  EXPECT_TRUE(w.WriteHeader().ok());
  for (const auto& p : packets) {
    EXPECT_TRUE(w.WritePacket(p.ts, p.bytes).ok());
  }
  std::vector<std::uint8_t> bytes = out.bytes();
  bytes[20] = static_cast<std::uint8_t>(link_type);
  bytes[21] = static_cast<std::uint8_t>(link_type >> 8);
  const std::string path = dir.File(name);
  test::WriteFileBytes(path, bytes);
  return path;
}

struct Read {
  std::vector<FileRecord> records;
  std::vector<std::vector<std::uint8_t>> data;
  std::uint32_t snaplen = 0;
};

Read ReadPcap(const std::string& path) {
  Read r;
  auto in = ByteReader::OpenFile(path);
  EXPECT_TRUE(in.ok()) << (in.ok() ? "" : in.error().message);
  if (!in.ok()) {
    return r;
  }
  auto reader = PcapReader::Open(std::move(in).value());
  EXPECT_TRUE(reader.ok()) << (reader.ok() ? "" : reader.error().message);
  if (!reader.ok()) {
    return r;
  }
  r.snaplen = (*reader)->snaplen();
  FileRecord rec;
  for (;;) {
    auto more = (*reader)->Next(rec);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) {
      break;
    }
    r.records.push_back(rec);
    r.data.emplace_back(rec.bytes.begin(), rec.bytes.end());
  }
  return r;
}

ProcessResult Wgcap(std::vector<std::string> args, const std::string& stdin_data = {}) {
  args.insert(args.begin(), test::WgcapBinary());
  return test::Run(args, stdin_data);
}

class CliOffline : public ::testing::Test {
protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    input_ = WritePcap(dir_, "in.pcap", Traffic());
  }
  test::TempDir dir_;
  std::string input_;
};

TEST_F(CliOffline, FiltersIntoAPcapFile) {
  const std::string out = dir_.File("out.pcap");
  auto r = Wgcap({"-r", input_, "-w", out, "tcp and (port 443 or port 80)"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Read got = ReadPcap(out);
  ASSERT_EQ(got.records.size(), 3u);
  const auto traffic = Traffic();
  EXPECT_EQ(got.data[0], traffic[0].bytes);
  EXPECT_EQ(got.data[1], traffic[1].bytes);
  EXPECT_EQ(got.data[2], traffic[3].bytes);
  EXPECT_EQ(got.records[2].timestamp_ns, kT0 + 3000);
  EXPECT_THAT(r.err, HasSubstr("6 packets read, 3 matched, 3 written"));
}

TEST_F(CliOffline, ExpressionMayBeSeveralArguments) {
  const std::string out = dir_.File("out.pcap");
  auto r = Wgcap({"-r", input_, "-w", out, "udp", "port", "53"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadPcap(out).records.size(), 2u);
}

TEST_F(CliOffline, ZeroMatchesStillWritesAValidFile) {
  const std::string out = dir_.File("none.pcap");
  auto r = Wgcap({"-r", input_, "-w", out, "port 9"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::filesystem::file_size(out), 24u);
  EXPECT_EQ(ReadPcap(out).records.size(), 0u);
}

TEST_F(CliOffline, CountStopsAfterNPackets) {
  const std::string out = dir_.File("two.pcap");
  auto r = Wgcap({"-r", input_, "-w", out, "-c", "2", "ip6 or udp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Read got = ReadPcap(out);
  ASSERT_EQ(got.records.size(), 2u);
  EXPECT_EQ(got.data[0], Traffic()[2].bytes);
  EXPECT_EQ(got.data[1], Traffic()[3].bytes);
}

TEST_F(CliOffline, SnaplenTruncatesAndKeepsOriginalLength) {
  const std::string out = dir_.File("snap.pcap");
  auto r = Wgcap({"-r", input_, "-w", out, "-s", "40", "icmp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Read got = ReadPcap(out);
  ASSERT_EQ(got.records.size(), 1u);
  EXPECT_EQ(got.snaplen, 40u);
  EXPECT_EQ(got.records[0].captured_length, 40u);
  EXPECT_EQ(got.records[0].original_length, 84u);
}

TEST_F(CliOffline, WritesPcapToStdout) {
  auto r = Wgcap({"-r", input_, "-w", "-", "--pcap", "icmp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.out.size(), 24u + 16u + 84u);
  EXPECT_EQ(static_cast<unsigned char>(r.out[0]), 0xd4);
  EXPECT_EQ(static_cast<unsigned char>(r.out[3]), 0xa1);
}

TEST_F(CliOffline, ReadsStdin) {
  auto bytes = test::ReadFileBytes(input_);
  auto r = Wgcap({"-r", "-", "-w", "-", "--pcap", "udp"}, std::string(bytes.begin(), bytes.end()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.size(), 24u + 16u + 58u + 16u + 248u);
}

TEST_F(CliOffline, TextLinesWithoutW) {
  auto r = Wgcap({"-r", input_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "22:13:20.000000 [?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [S] length 0\n"
      "22:13:20.000001 [?    TCP] 198.51.100.2:443 > 198.51.100.1:40000 [S.] length 0\n"
      // Port 53 carrying 'x' bytes: read as DNS, whose first name is malformed.
      "22:13:20.000002 [?    UDP] 198.51.100.1:5000 > 198.51.100.2:53 7878 op15 [|domain]\n"
      "22:13:20.000003 [?    TCP] [2001:db8:100::1]:50000 > [2001:db8:100::2]:80 [P.] length 16: "
      "GET / HTTP/1.1\n"
      "22:13:20.000004 [?   ICMP] 198.51.100.1 > 198.51.100.2 echo request, id 7, seq 1, length "
      "64\n"
      "22:13:20.000005 [?    UDP] [2001:db8:100::2]:53 > [2001:db8:100::1]:5000 7878 op15 "
      "[|domain]\n");
}

TEST_F(CliOffline, PrintAddsTextToAFileCapture) {
  const std::string out = dir_.File("p.pcap");
  auto r = Wgcap({"-r", input_, "-w", out, "--print", "icmp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("[?   ICMP] 198.51.100.1 > 198.51.100.2"));
  EXPECT_EQ(ReadPcap(out).records.size(), 1u);
}

TEST_F(CliOffline, EthernetAndCookedInputsAreReducedToIp) {
  std::vector<Packet> eth;
  std::vector<Packet> sll;
  for (const auto& p : Traffic()) {
    const bool v6 = (p.bytes[0] >> 4) == 6;
    eth.push_back({test::WithEthernet(p.bytes, v6 ? 0x86dd : 0x0800), p.ts});
    std::vector<std::uint8_t> cooked = {0,
                                        4,
                                        0,
                                        1,
                                        0,
                                        6,
                                        2,
                                        0,
                                        0,
                                        0,
                                        0,
                                        1,
                                        0,
                                        0,
                                        static_cast<std::uint8_t>(v6 ? 0x86 : 0x08),
                                        static_cast<std::uint8_t>(v6 ? 0xdd : 0x00)};
    cooked.insert(cooked.end(), p.bytes.begin(), p.bytes.end());
    sll.push_back({cooked, p.ts});
  }
  eth.push_back({test::WithEthernet({0, 1, 8, 0, 6, 4, 0, 1}, 0x0806), kT0 + 9000}); // ARP
  for (auto [name, packets, link] : {std::tuple{"eth.pcap", eth, kLinkTypeEthernet},
                                     std::tuple{"sll.pcap", sll, kLinkTypeLinuxSll}}) {
    const std::string in = WritePcap(dir_, name, packets, link);
    const std::string out = dir_.File(std::string("out-") + name);
    auto r = Wgcap({"-r", in, "-w", out, "tcp port 443"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Read got = ReadPcap(out);
    ASSERT_EQ(got.records.size(), 2u) << name;
    EXPECT_EQ(got.data[0], Traffic()[0].bytes) << name;
    auto text = Wgcap({"-r", in, "not port 53"});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    if (link == kLinkTypeLinuxSll) {
      EXPECT_THAT(text.out, HasSubstr("[OUT  TCP] 198.51.100.1:40000"))
          << "SLL packet type 4 is outgoing";
    } else {
      EXPECT_THAT(text.out, HasSubstr("[?      ?] ??? len=8")) << "ARP is not IP, and not port 53";
    }
  }
}

TEST_F(CliOffline, TruncatedInputKeepsEarlierPacketsAndNamesTheOffset) {
  auto bytes = test::ReadFileBytes(input_);
  // Cut inside the third record's data: records are 24 + (16+40) + (16+40) + ...
  const std::size_t third = 24 + 56 + 56;
  bytes.resize(third + 16 + 10);
  const std::string cut = dir_.File("cut.pcap");
  test::WriteFileBytes(cut, bytes);
  const std::string out = dir_.File("cut-out.pcap");
  auto r = Wgcap({"-r", cut, "-w", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("byte offset " + std::to_string(third)));
  EXPECT_EQ(ReadPcap(out).records.size(), 2u) << "the two whole records before the cut are kept";
}

TEST_F(CliOffline, BadExpressionExitsTwoWithColumnAndCaret) {
  auto r = Wgcap({"-r", input_, "tcp and port 99999"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("column 14: invalid port \"99999\" (expected 1-65535)"));
  EXPECT_THAT(r.err, HasSubstr("  tcp and port 99999\n               ^\n"));
  EXPECT_TRUE(r.out.empty());
}

TEST_F(CliOffline, NothingIsWrittenForABadExpression) {
  const std::string out = dir_.File("never.pcap");
  auto r = Wgcap({"-r", input_, "-w", out, "host"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.path()), {}), 1)
      << "no temp file left";
}

struct UsageCase {
  std::vector<std::string> args;
  const char* message;
};

TEST(CliUsage, ErrorsExitTwoAndNameTheOption) {
  const std::vector<UsageCase> cases = {
      {{}, "nothing to capture: give -i IFACE or -r FILE"},
      {{"-k"}, "unknown option -k"},
      {{"--bogus", "-r", "f"}, "unknown option --bogus"},
      {{"-r"}, "option -r needs a value"},
      {{"-r", "f", "-c", "abc"}, "-c: invalid packet count \"abc\""},
      {{"-r", "f", "-c", "0"}, "-c: invalid packet count \"0\""},
      {{"-r", "f", "-s", "-5"}, "-s: invalid snap length \"-5\""},
      {{"-r", "f", "-s", "300000"}, "-s: invalid snap length \"300000\" (expected 0-262144"},
      {{"-r", "f", "-w", "-", "--print"}, "--print and -w - both want stdout"},
  };
  for (const auto& c : cases) {
    auto r = Wgcap(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.message;
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_THAT(r.err, HasSubstr("Try 'wgcap --help'"));
  }
}

TEST(CliUsage, HelpAndVersion) {
  auto help = Wgcap({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("usage: wgcap"));
  EXPECT_THAT(help.out, HasSubstr("examples:"));
  auto version = Wgcap({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, ::testing::MatchesRegex("wgcap [0-9]+\\.[0-9]+\\.[0-9]+\n"));
}

TEST(CliRuntime, MissingInputsExitOne) {
  test::TempDir dir;
  auto missing = Wgcap({"-r", dir.File("nope.pcap")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nope.pcap: No such file or directory"));
  auto directory = Wgcap({"-r", dir.path()});
  EXPECT_EQ(directory.exit_code, 1);
  EXPECT_THAT(directory.err, HasSubstr("is a directory"));
  test::WriteFileBytes(dir.File("junk"), std::vector<std::uint8_t>(100, 0x42));
  auto junk = Wgcap({"-r", dir.File("junk")});
  EXPECT_EQ(junk.exit_code, 1);
  EXPECT_THAT(junk.err, HasSubstr("not a pcap or pcapng file"));
}

TEST(CliRuntime, UnwritableOutputExitsOneNamingThePath) {
  test::TempDir dir;
  const std::string in = WritePcap(dir, "in.pcap", Traffic());
  auto r = Wgcap({"-r", in, "-w", dir.File("no/such/dir/out.pcap")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no/such/dir/out.pcap"));
}

// A rotated capture whose disk fills (SPEC 7), with RLIMIT_FSIZE standing in
// for the full disk: a write past the limit writes what fits, then fails with
// EFBIG, as one to a full disk does with ENOSPC. Every file the capture
// writes holds 1000 records of 1000 bytes (-C 1), except that the last record
// of the third is 60 kB and passes the limit: the third file is kept, cut back
// to its 999 complete records, and -W 2 removed the first. With -U the write
// fails in the flush after that packet, so the Session stops and the CLI cuts
// the file; buffered, it usually fails when the sink rotates.
struct FullDiskCase {
  std::string ext;
  bool unbuffered;
};

void PrintTo(const FullDiskCase& c, std::ostream* os) {
  *os << c.ext << (c.unbuffered ? " -U" : "");
}

class CliRotationFullDisk : public ::testing::TestWithParam<FullDiskCase> {};

TEST_P(CliRotationFullDisk, KeepsTheCurrentFileCutBackAndExitsOne) {
  if (test::Run({"prlimit", "--version"}).exit_code != 0) {
    GTEST_SKIP() << "needs prlimit (util-linux)";
  }
  const std::string ext = GetParam().ext;
  // Records of exactly 1000 bytes: pcap 16 + packet, pcapng 44 + packet.
  const std::size_t packet = ext == "pcap" ? 984 : 956;
  test::TempDir dir;
  std::vector<Packet> packets;
  for (int i = 0; i < 3010; ++i) {
    const std::size_t size = i == 2999 ? 60000 : packet;
    packets.push_back({PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2")
                           .Udp(5000, 5001)
                           .PayloadSize(size - 28)
                           .Build(),
                       kT0 + i * 1000LL});
  }
  const std::string in = WritePcap(dir, "in.pcap", packets);
  const std::string out_dir = dir.File("out");
  std::filesystem::create_directory(out_dir);
  // Files end at 1,000,000 to 1,001,000 bytes (the header is under 1000).
  const std::string limit = "1030000";
  // SIGXFSZ ignored, as exec keeps it: the write fails instead of killing.
  std::vector<std::string> argv = {"sh",
                                   "-c",
                                   "trap '' XFSZ; exec prlimit --fsize=" + limit + " \"$@\"",
                                   "sh",
                                   test::WgcapBinary(),
                                   "-r",
                                   in,
                                   "-w",
                                   out_dir + "/cap." + ext,
                                   "-C",
                                   "1",
                                   "-W",
                                   "2"};
  if (GetParam().unbuffered) {
    argv.push_back("-U");
  }
  const auto r = test::Run(argv);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err,
              ::testing::ContainsRegex("\nwgcap: write .*/cap\\.[0-9]{8}T[0-9]{6}Z\\.000003\\." +
                                       ext + ": File too large\n$"));

  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(out_dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 2u) << "-W 2 holds, and no temporary file is left";
  const auto complete = test::Run({"tcpdump", "-nn", "-r", out_dir + "/" + names[0]});
  EXPECT_THAT(names[0], ::testing::EndsWith(".000002." + ext));
  EXPECT_EQ(complete.exit_code, 0) << complete.err;
  EXPECT_EQ(std::count(complete.out.begin(), complete.out.end(), '\n'), 1000);
  EXPECT_THAT(names[1], ::testing::EndsWith(".000003." + ext)) << "kept under its final name";
  const auto cut = test::Run({"tcpdump", "-nn", "-r", out_dir + "/" + names[1]});
  EXPECT_EQ(cut.exit_code, 0) << cut.err;
  EXPECT_THAT(cut.err, ::testing::Not(HasSubstr("truncated")));
  EXPECT_EQ(std::count(cut.out.begin(), cut.out.end(), '\n'), 999);
}

INSTANTIATE_TEST_SUITE_P(Formats, CliRotationFullDisk,
                         ::testing::Values(FullDiskCase{"pcap", false}, FullDiskCase{"pcap", true},
                                           FullDiskCase{"pcapng", false},
                                           FullDiskCase{"pcapng", true}),
                         [](const ::testing::TestParamInfo<FullDiskCase>& c) {
                           return c.param.ext + (c.param.unbuffered ? "_U" : "");
                         });

} // namespace
} // namespace wgcap
