// SPDX-License-Identifier: Apache-2.0
// The CLI options that need no privileges: -U, --stats, -d, -B, --duration
// and --mode validation, and a closed output pipe.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <sstream>

#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {
namespace {

using ::testing::HasSubstr;

std::string WriteInput(const test::TempDir& dir, int packets) {
  MemoryWriter out;
  PcapWriter pcap(out, 65535);
  EXPECT_TRUE(pcap.WriteHeader().ok());
  for (int i = 0; i < packets; ++i) {
    const auto p = test::PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2")
                       .Udp(static_cast<std::uint16_t>(1000 + i % 50), 53)
                       .PayloadSize(100)
                       .Build();
    EXPECT_TRUE(pcap.WritePacket(1700000000LL * 1000000000 + i, p).ok());
  }
  const std::string path = dir.File("in.pcap");
  test::WriteFileBytes(path, out.bytes());
  return path;
}

test::ProcessResult Wgcap(std::vector<std::string> args) {
  args.insert(args.begin(), test::WgcapBinary());
  return test::Run(args);
}

TEST(CliOptions, StatsPrintsOneJsonObject) {
  test::TempDir dir;
  const std::string in = WriteInput(dir, 10);
  const auto r =
      Wgcap({"-r", in, "-w", dir.File("o.pcap"), "--stats", "udp port 1001 or udp port 1002"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(
      r.err,
      HasSubstr("{\"backend\":\"file\",\"received\":10,\"matched\":2,\"packets\":2,"
                "\"bytes\":256,\"dropped\":0,\"kernel_seen\":0,\"kernel_matched\":0,"
                "\"kernel_ring_drops\":0,\"kernel_drops\":0,\"kernel_filter_fallback\":0}\n"));
}

TEST(CliOptions, UnbufferedWritesEveryPacketAsItComes) {
  // -U: each packet is flushed on its own; the output is identical.
  test::TempDir dir;
  const std::string in = WriteInput(dir, 50);
  const auto buffered = Wgcap({"-r", in, "-w", "-", "--pcap"});
  const auto unbuffered = Wgcap({"-r", in, "-w", "-", "--pcap", "-U"});
  ASSERT_EQ(unbuffered.exit_code, 0) << unbuffered.err;
  EXPECT_EQ(buffered.out, unbuffered.out);
  EXPECT_EQ(unbuffered.out.size(), 24u + 50u * (16u + 128u));
}

TEST(CliOptions, DumpPrintsBothCompiledForms) {
  const auto r = Wgcap({"-d", "tcp and port 443"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("expression: (tcp and port 443)"));
  EXPECT_THAT(r.out, HasSubstr("classic BPF socket filter (afpacket)"));
  EXPECT_THAT(r.out, HasSubstr("ret      #65535"));
  // The generated eBPF, ending in an exit (opcode 0x95), and what the
  // verifier said of it: loaded where this process may, else why not.
  EXPECT_THAT(r.out, HasSubstr("eBPF filter program (bpf, ingress hook, link header 0 bytes)"));
  EXPECT_THAT(r.out, HasSubstr("(95)"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(
                         "verifier: ([0-9]+ instructions processed|not loaded \\(.+\\))\n"));
  const auto all = Wgcap({"-d"});
  EXPECT_THAT(all.out, HasSubstr("expression: (all packets)"));
  EXPECT_THAT(all.out, HasSubstr("eBPF filter program (bpf, ingress hook"));
  const auto out = Wgcap({"-d", "-Q", "out", "udp"});
  EXPECT_THAT(out.out, HasSubstr("eBPF filter program (bpf, egress hook"));
}

TEST(CliOptions, DumpHonoursTheSnapLength) {
  const auto r = Wgcap({"-d", "-s", "96", "udp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ret      #96"));
}

TEST(CliOptions, LiveOptionValuesAreChecked) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"-i", "wg0", "-B", "0"}, "-B: invalid buffer size \"0\" (expected 1-4096 MiB)"},
      {{"-i", "wg0", "-B", "x"}, "-B: invalid buffer size \"x\""},
      {{"-i", "wg0", "--duration", "5 minutes"}, "--duration: invalid duration \"5 minutes\""},
      {{"-i", "wg0", "--duration", "0s"}, "--duration: invalid duration \"0s\""},
      {{"-i", "wg0", "--mode", "xdp"},
       "--mode: unknown mode \"xdp\" (expected auto, bpf or afpacket)"},
      {{"-i", "wg0", "-r", "x.pcap"}, "-i and -r exclude each other"},
      {{"-r", "x.pcap", "--duration", "1s"}, "--duration applies to live capture"},
  };
  for (const auto& c : cases) {
    const auto r = Wgcap(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.message;
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
}

TEST(CliOptions, ClosedPipeStopsWithExitOneAndAClearMessage) {
  test::TempDir dir;
  const std::string in = WriteInput(dir, 20000);
  const auto r = test::Run({"bash", "-c",
                            "set -o pipefail; '" + test::WgcapBinary() + "' -r '" + in +
                                "' -w - 2>'" + dir.File("err") + "' | head -c 100 >/dev/null"});
  EXPECT_EQ(r.exit_code, 1);
  const auto err_bytes = test::ReadFileBytes(dir.File("err"));
  const std::string err(err_bytes.begin(), err_bytes.end());
  EXPECT_THAT(err, HasSubstr("write stdout: Broken pipe"));
  EXPECT_THAT(err, HasSubstr("the reader closed the pipe"));
}

} // namespace
} // namespace wgcap

namespace wgcap {
namespace {

TEST(CliOptions, RotationKeepsTheNewestNCompleteFiles) {
  test::TempDir dir;
  // 12000 packets of 128 bytes: about 1.7 MB of pcap, so -C 1 makes 2 files
  // (1 MB each at most) and -W 1 keeps the newer one.
  const std::string in = WriteInput(dir, 12000);
  const std::string out_dir = dir.File("rec");
  ASSERT_EQ(test::Run({"mkdir", out_dir}).exit_code, 0);
  const auto r = Wgcap({"-r", in, "-w", out_dir + "/cap.pcap", "-C", "1", "-W", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ls = test::Run({"ls", out_dir});
  const std::vector<std::string> names = [&] {
    std::vector<std::string> v;
    std::istringstream s(ls.out);
    for (std::string n; s >> n;) {
      v.push_back(n);
    }
    return v;
  }();
  ASSERT_EQ(names.size(), 1u) << ls.out;
  EXPECT_THAT(names[0], ::testing::MatchesRegex("cap\\.[0-9]{8}T[0-9]{6}Z\\.000002\\.pcap"));
  const auto read = test::Run({"tcpdump", "-nn", "-r", out_dir + "/" + names[0]});
  EXPECT_EQ(read.exit_code, 0) << read.err;
  const auto lines = std::count(read.out.begin(), read.out.end(), '\n');
  EXPECT_GT(lines, 1000);
  EXPECT_LT(lines, 12000);
}

TEST(CliOptions, RotationNeedsAFileName) {
  const auto r = Wgcap({"-i", "wg0", "-w", "-", "-C", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("-C, -G and -W rotate files: give -w FILE as the base name"));
}

} // namespace
} // namespace wgcap

namespace wgcap {
namespace {

TEST(CliOptions, WritingToADeviceLeavesTheDeviceInPlace) {
  // -w /dev/null must not rename a regular file over the device node.
  test::TempDir dir;
  const std::string in = WriteInput(dir, 5);
  const auto r = Wgcap({"-r", in, "-w", "/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

} // namespace
} // namespace wgcap

namespace wgcap {
namespace {

// `wgcap serve`'s recorder (-i IFACE -w BASE ...) is checked before the
// daemon listens: a mistake is one clear message, and neither the socket nor
// a capture file appears.
TEST(CliOptions, ServeChecksItsRecorderBeforeListening) {
  test::TempDir dir;
  const std::string socket = dir.File("s.sock");
  const std::string base = dir.File("rec.pcap");
  struct Case {
    std::vector<std::string> words;
    int exit_code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"-i", "lo", "-w", base, "-G", "1", "tcp", "and"},
       2,
       "wgcap serve: recorder: filter: column 8: "},
      {{"-i", "lo", "-w", base, "host", "198.51.100.300"}, 2, "wgcap serve: recorder: filter:"},
      {{"-i", "lo"},
       2,
       "wgcap serve: recorder: -i lo needs -w BASE: the recorder writes files (rotated with -C, "
       "-G, -W)"},
      {{"-i", "lo", "-w", "-"}, 2, "-i lo needs -w BASE"},
      {{"-w", base, "-W", "2"},
       2,
       "wgcap serve: recorder: capture options without -i IFACE: the recorder needs -i IFACE and "
       "-w BASE"},
      {{"icmp"}, 2, "capture options without -i IFACE"},
      {{"-i", "lo", "-w", base, "-c", "10"}, 2, "-c and --duration do not apply"},
      {{"-i", "lo", "-w", base, "--print"}, 2, "--print does not apply"},
      {{"-i", "lo", "-w", base, "-G", "soon"}, 2, "-G: invalid rotation period \"soon\""},
      {{"-r", base, "-w", base}, 2, "-r, -d, --parity-check and --connect do not apply"},
      {{"--max-captres", "2"}, 2, "wgcap serve: unknown option --max-captres"},
      {{"-i", "nosuch0", "-w", base}, 1, "wgcap serve: recorder: nosuch0: no such interface"},
      {{"-i", "lo", "-w", base, "-F", dir.File("missing.txt")},
       2,
       "wgcap serve: recorder: -F " + dir.File("missing.txt") + ": No such file or directory"},
      {{"-i", "lo", "-w", dir.File("missing/rec.pcap")},
       1,
       "directory " + dir.File("missing") + ": No such file or directory"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"serve", "--socket", socket};
    args.insert(args.end(), c.words.begin(), c.words.end());
    const auto r = Wgcap(args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.message << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;
  }
  // A filter error points at its column, as `wgcap` does.
  const auto r = Wgcap({"serve", "-i", "lo", "tcp", "and", "--socket", socket, "-w", base});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("\n  tcp and\n         ^\n"));
  struct stat st {};
  EXPECT_NE(stat(socket.c_str(), &st), 0) << "no socket";
  EXPECT_NE(stat(base.c_str(), &st), 0) << "no capture file";
}

} // namespace
} // namespace wgcap
