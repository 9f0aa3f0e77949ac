// SPDX-License-Identifier: Apache-2.0
// The parts of the text output that copy tcpdump's layout (SPEC 6), compared
// byte for byte with tcpdump 4.99 itself on the same raw-IP files: the -x/-X
// hex dump lines, and everything before the packet (-# number and the -t
// time column). The bodies differ by design (wgcap's tag and endpoints), so
// a line is compared up to where tcpdump writes "IP" and wgcap its '['.
//
// Files: tests/golden/tools.pcap (real traffic), and one written here with
// what real traffic seldom has: odd lengths and lines of every fill, a
// packet older than the one before it (negative -ttt delta), gaps past a day
// (tcpdump wraps the delta's hours at 24), and, in its nanosecond twin,
// sub-microsecond digits that only --time-stamp-precision nano shows.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"

namespace wgcap::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::int64_t kSecond = 1000000000;
constexpr std::int64_t kT0 = 1700000000 * kSecond + 123456789;

void Put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

// A little-endian raw-IP pcap, written here because PcapWriter writes only
// microseconds.
std::vector<std::uint8_t> Pcap(const std::vector<std::pair<std::int64_t, Bytes>>& packets,
                               bool nano) {
  std::vector<std::uint8_t> out;
  Put32(out, nano ? 0xa1b23c4d : 0xa1b2c3d4);
  Put32(out, 2 | 4u << 16); // version 2.4
  Put32(out, 0);
  Put32(out, 0);
  Put32(out, 262144);
  Put32(out, 101); // LINKTYPE_RAW
  for (const auto& [ns, bytes] : packets) {
    Put32(out, static_cast<std::uint32_t>(ns / kSecond));
    Put32(out, static_cast<std::uint32_t>(nano ? ns % kSecond : ns % kSecond / 1000));
    Put32(out, static_cast<std::uint32_t>(bytes.size()));
    Put32(out, static_cast<std::uint32_t>(bytes.size()));
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

std::vector<std::pair<std::int64_t, Bytes>> OddPackets() {
  // Payload byte i is i mod 256, so every byte value shows in the dumps.
  auto udp = [](std::size_t n) {
    std::vector<std::uint8_t> payload(n);
    for (std::size_t i = 0; i < n; ++i) {
      payload[i] = static_cast<std::uint8_t>(i);
    }
    return PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Udp(4000, 4001).Payload(payload).Build();
  };
  return {
      {kT0, udp(1)},                           // 29 bytes: a short last line, an odd byte
      {kT0 - kSecond / 10, udp(4)},            // earlier than the one before
      {kT0 + 25 * 3600 * kSecond, udp(3)},     // more than a day later
      {kT0 + 25 * 3600 * kSecond + 1, udp(4)}, // 1 ns later: 0 at µs precision
      {kT0 + 5 * 86400 * kSecond + 999, udp(255)},
      {kT0 + 6 * 86400 * kSecond, PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2")
                                      .Tcp(40000, 80, 0x18, 1, 1)
                                      .Payload("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                                      .Build()},
      {kT0 + 6 * 86400 * kSecond + 7, udp(1400)},
  };
}

// What to compare of one line: a hex dump line whole, a packet line up to
// its body.
std::vector<std::string> Layout(const std::string& out, std::string_view body_start) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    end = end == std::string::npos ? out.size() : end;
    const std::string line = out.substr(start, end - start);
    lines.push_back(line.starts_with('\t') ? line : line.substr(0, line.find(body_start)));
    start = end + 1;
  }
  return lines;
}

struct Case {
  std::vector<std::string> flags;
  const char* name;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

class TcpdumpLayout : public ::testing::TestWithParam<Case> {
protected:
  void SetUp() override { setenv("TZ", "UTC", 1); }

  void Compare(const std::string& file) {
    std::vector<std::string> tcpdump = {"tcpdump", "-n", "-r", file};
    std::vector<std::string> wgcap = {WgcapBinary(), "-r", file};
    tcpdump.insert(tcpdump.end(), GetParam().flags.begin(), GetParam().flags.end());
    wgcap.insert(wgcap.end(), GetParam().flags.begin(), GetParam().flags.end());
    const ProcessResult want = test::Run(tcpdump);
    const ProcessResult got = test::Run(wgcap);
    ASSERT_EQ(want.exit_code, 0) << want.err;
    ASSERT_EQ(got.exit_code, 0) << got.err;
    ASSERT_FALSE(want.out.empty());
    // tcpdump -n writes "IP " or "IP6 " first in every body of a raw-IP file.
    EXPECT_EQ(Layout(got.out, "["), Layout(want.out, "IP")) << file;
  }
};

TEST_P(TcpdumpLayout, ToolsCapture) {
  Compare(std::string(WGCAP_GOLDEN_DIR) + "/tools.pcap");
}

TEST_P(TcpdumpLayout, OddLengthsAndTimes) {
  TempDir dir;
  WriteFileBytes(dir.File("odd.pcap"), Pcap(OddPackets(), false));
  Compare(dir.File("odd.pcap"));
}

TEST_P(TcpdumpLayout, OddLengthsAndTimesNanosecondFile) {
  TempDir dir;
  WriteFileBytes(dir.File("odd-ns.pcap"), Pcap(OddPackets(), true));
  Compare(dir.File("odd-ns.pcap"));
}

TEST_P(TcpdumpLayout, LocalTimeEastOfUtc) {
  setenv("TZ", "Etc/GMT-2", 1); // POSIX sign: two hours east
  TempDir dir;
  WriteFileBytes(dir.File("odd.pcap"), Pcap(OddPackets(), false));
  Compare(dir.File("odd.pcap"));
}

const Case kCases[] = {
    {{}, "Default"},
    {{"-x"}, "x"},
    {{"-xx"}, "xx"},
    {{"-X"}, "X"},
    {{"-XX"}, "XX"},
    {{"-A", "-X"}, "AX"},
    {{"-x", "-A"}, "xA"},
    {{"-t"}, "t"},
    {{"-tt"}, "tt"},
    {{"-ttt"}, "ttt"},
    {{"-tttt"}, "tttt"},
    {{"-ttttt"}, "ttttt"},
    {{"--time-stamp-precision", "nano"}, "Nano"},
    {{"-tt", "--time-stamp-precision", "nano"}, "ttNano"},
    {{"-ttt", "--time-stamp-precision", "nano"}, "tttNano"},
    {{"-tttt", "--time-stamp-precision", "nano"}, "ttttNano"},
    {{"-ttttt", "--time-stamp-precision", "nano"}, "tttttNano"},
    {{"-#"}, "Number"},
    {{"--number", "-t"}, "NumberNoTime"},
    {{"-#ttt"}, "NumberDelta"},
    {{"-#ttttX"}, "NumberDateHexAscii"},
    {{"-#", "-ttttt", "-xx", "--time-stamp-precision", "nano"}, "NumberSinceFirstHexNano"},
};

INSTANTIATE_TEST_SUITE_P(Flags, TcpdumpLayout, ::testing::ValuesIn(kCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

} // namespace
} // namespace wgcap::test
