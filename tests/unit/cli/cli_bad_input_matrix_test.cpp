// SPDX-License-Identifier: Apache-2.0
// SPEC 7 as one table: bad input of every kind handed to the wgcap binary.
// Each row names the exit code, what stderr must say, and stdout exactly:
// empty, or the packets before the point where a file broke. No row may
// crash, abort or trip a sanitizer. Nothing here touches the network.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "file/pcap_reader.hpp"
#include "support/cli_rows.hpp"
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
using ::testing::HasSubstr;
using ::testing::Not;
using Bytes = std::vector<std::uint8_t>;

constexpr std::int64_t kT0 = 1700000000LL * 1000000000LL; // 2023-11-14 22:13:20 UTC
constexpr std::uint64_t kT0Micros = 1700000000ULL * 1000000ULL;

using Row = test::CliRow;
using test::RunRows;
using test::UsageRow;

// The three packets every good file holds, and their text lines.
std::vector<Bytes> Packets() {
  return {
      PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Tcp(40000, 443, 0x02).Build(),
      PacketBuilder::Ipv6("2001:db8:100::1", "2001:db8:100::2")
          .Udp(5000, 4000)
          .PayloadSize(8)
          .Build(),
      PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Icmp(8, 0, 7, 1).PayloadSize(8).Build(),
  };
}

const std::vector<std::string> kPcapLines = {
    "22:13:20.000000 [?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [S] length 0\n",
    "22:13:20.000001 [?    UDP] [2001:db8:100::1]:5000 > [2001:db8:100::2]:4000 length 8\n",
    "22:13:20.000002 [?   ICMP] 198.51.100.1 > 198.51.100.2 echo request, id 7, seq 1, length 16\n",
};

// The pcapng file records directions: out, in, none.
const std::vector<std::string> kPcapngLines = {
    "22:13:20.000000 [OUT  TCP] 198.51.100.1:40000 > 198.51.100.2:443 [S] length 0\n",
    "22:13:20.000001 [IN   UDP] [2001:db8:100::1]:5000 > [2001:db8:100::2]:4000 length 8\n",
    "22:13:20.000002 [?   ICMP] 198.51.100.1 > 198.51.100.2 echo request, id 7, seq 1, length 16\n",
};

std::string FirstLines(const std::vector<std::string>& lines, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += lines[i];
  }
  return out;
}

std::string Counts(std::size_t n) {
  const std::string k = std::to_string(n);
  return k + " packets read, " + k + " matched, " + k + " written\n";
}

void Le16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}

void Le32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

std::uint32_t ReadLe32(const Bytes& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
         static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}

// A little-endian µs pcap with any header snaplen and link type; `claimed`
// overrides the captured length a record's header states.
Bytes Pcap(std::uint32_t snaplen, std::uint32_t link_type, const std::vector<Bytes>& frames,
           const std::vector<std::optional<std::uint32_t>>& claimed = {},
           std::uint32_t magic = 0xa1b2c3d4, std::uint16_t major = 2) {
  Bytes b;
  Le32(b, magic);
  Le16(b, major);
  Le16(b, 4);
  Le32(b, 0);
  Le32(b, 0);
  Le32(b, snaplen);
  Le32(b, link_type);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto size = static_cast<std::uint32_t>(frames[i].size());
    Le32(b, 1700000000);
    Le32(b, static_cast<std::uint32_t>(i));
    Le32(b, i < claimed.size() && claimed[i] ? *claimed[i] : size);
    Le32(b, size);
    b.insert(b.end(), frames[i].begin(), frames[i].end());
  }
  return b;
}

// What `wgcap -w - --pcap` writes for the first n packets.
std::string PcapOutput(std::size_t n) {
  MemoryWriter out;
  PcapWriter w(out, kDefaultSnaplen);
  EXPECT_TRUE(w.WriteHeader().ok());
  const auto packets = Packets();
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(w.WritePacket(kT0 + static_cast<std::int64_t>(i) * 1000, packets[i]).ok());
  }
  return std::string(out.bytes().begin(), out.bytes().end());
}

Bytes PcapngFile() {
  MemoryWriter out;
  PcapngWriterOptions o;
  o.interface_name = "wg0";
  o.now_ns = [] { return kT0; };
  PcapngWriter w(out, o);
  const Direction directions[] = {Direction::Outbound, Direction::Inbound, Direction::Unknown};
  const auto packets = Packets();
  for (std::size_t i = 0; i < packets.size(); ++i) {
    PacketRecord p;
    p.timestamp_ns = kT0 + static_cast<std::int64_t>(i) * 1000;
    p.data = packets[i];
    p.direction = directions[i];
    EXPECT_TRUE(w.WritePacket(p).ok());
  }
  EXPECT_TRUE(w.Finish(Stats{}).ok());
  return out.bytes();
}

std::string Text(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

class BadInputMatrix : public ::testing::Test {
protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    good_ = Write("good.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, Packets()));
  }

  std::string Write(const std::string& name, const Bytes& bytes) const {
    const std::string path = dir_.File(name);
    test::WriteFileBytes(path, bytes);
    return path;
  }

  test::TempDir dir_;
  std::string good_;
};

// --- filter expressions (SPEC 1: the column and what was expected) ---------

Row FilterRow(const std::string& good, const std::string& expression, int column,
              const std::string& message) {
  return {"filter '" + expression + "'",
          {"-r", good, expression},
          2,
          {"wgcap: filter: column " + std::to_string(column) + ": " + message + "\n  " +
           expression + "\n  " + std::string(static_cast<std::size_t>(column - 1), ' ') + "^\n"},
          ""};
}

TEST_F(BadInputMatrix, MalformedExpressions) {
  const std::string keywords = " (expected host, net, port, portrange, src, dst, tcp, udp, icmp, "
                               "icmp6, ip, ip6, proto, less, greater, not or \"(\")";
  const std::string deep = std::string(201, '(') + "tcp" + std::string(201, ')');
  std::vector<Row> rows = {
      FilterRow(good_, "(tcp", 5, "expected \")\" to close \"(\" at column 1, got end of input"),
      FilterRow(good_, "((host 192.0.2.1)", 18,
                "expected \")\" to close \"(\" at column 1, got end of input"),
      FilterRow(good_, "tcp)", 4, "unexpected \")\" (no \"(\" to close)"),
      FilterRow(good_, "()", 2, "expected an expression after \"(\", got \")\""),
      FilterRow(good_, "foo", 1, "unknown keyword \"foo\"" + keywords),
      FilterRow(good_, "tcp and bogus 1", 9, "unknown keyword \"bogus\"" + keywords),
      FilterRow(good_, "192.0.2.1", 1,
                "expected a keyword before \"192.0.2.1\" (for example \"host 192.0.2.1\" or "
                "\"net 192.0.2.1\")"),
      FilterRow(good_, "host", 5, "expected an address after \"host\", got end of input"),
      FilterRow(good_, "port", 5, "expected a port, got end of input"),
      FilterRow(good_, "net", 4, "expected a prefix after \"net\", got end of input"),
      FilterRow(good_, "src", 4,
                "expected host, net, port, portrange or an address after \"src\", got end of "
                "input"),
      FilterRow(good_, "dst port", 9, "expected a port, got end of input"),
      FilterRow(good_, "tcp and", 8, "expected an expression after \"and\", got end of input"),
      FilterRow(good_, "udp or", 7, "expected an expression after \"or\", got end of input"),
      FilterRow(good_, "tcp &&", 7, "expected an expression after \"&&\", got end of input"),
      FilterRow(good_, "tcp and or udp", 9, "expected an expression after \"and\", got \"or\""),
      FilterRow(good_, "or tcp", 1, "expected an expression, got \"or\""),
      FilterRow(good_, "not", 4, "expected an expression after \"not\", got end of input"),
      FilterRow(good_, "!", 2, "expected an expression after \"!\", got end of input"),
      FilterRow(good_, "not not", 8, "expected an expression after \"not\", got end of input"),
      FilterRow(good_, "tcp & udp", 5, "unexpected \"&\" (did you mean \"&&\"?)"),
      FilterRow(good_, "tcp | udp", 5, "unexpected \"|\" (did you mean \"||\"?)"),
      FilterRow(good_, "port 0", 6, "invalid port \"0\" (expected 1-65535)"),
      FilterRow(good_, "udp port 65536", 10, "invalid port \"65536\" (expected 1-65535)"),
      FilterRow(good_, "port nosuchservice", 6, "unknown port 'nosuchservice'"),
      FilterRow(good_, "port 1-2", 6,
                "invalid port \"1-2\" (expected 1-65535; a range is \"portrange 1-2\")"),
      FilterRow(good_, "portrange 100 -", 16, "expected a port, got end of input"),
      FilterRow(good_, "portrange 10-", 14, "expected a port, got end of input"),
      FilterRow(good_, "portrange 1-70000", 13, "invalid port \"70000\" (expected 1-65535)"),
      FilterRow(good_, "proto 256", 7, "invalid protocol \"256\" after \"proto\" (expected 0-255)"),
      FilterRow(good_, "less x", 6, "invalid length \"x\" after \"less\" (expected 0-4294967295)"),
      FilterRow(good_, "greater 4294967296", 9,
                "invalid length \"4294967296\" after \"greater\" (expected 0-4294967295)"),
      FilterRow(good_, "greater -1", 9,
                "invalid length \"-\" after \"greater\" (expected 0-4294967295)"),
      FilterRow(good_, "host 256.1.1.1", 6, "invalid IPv4 address '256.1.1.1'"),
      FilterRow(good_, "host 192.0.2.1.5", 6,
                "\"192.0.2.1.5\": host names are not looked up; give an address"),
      FilterRow(good_, "host 192.0.2.0/24", 6, "Mask syntax for networks only"),
      FilterRow(good_, "dst host 2001:db8:::1", 10, "invalid address \"2001:db8:::1\""),
      FilterRow(good_, "src 2001:db8::g", 5, "invalid address \"2001:db8::g\""),
      FilterRow(good_, "net 192.0.2.0/33", 5,
                "invalid prefix length \"33\" for IPv4 (expected 0-32)"),
      FilterRow(good_, "net 10.0.0.0/", 5, "invalid prefix length \"\" for IPv4 (expected 0-32)"),
      FilterRow(good_, "net 2001:db8::/129", 5,
                "invalid prefix length \"129\" for IPv6 (expected 0-128)"),
      FilterRow(good_, "net ::ffff:192.0.2.0/90", 5,
                "invalid prefix length \"90\" for an IPv4-mapped address (expected 96-128)"),
      FilterRow(good_, "net 300.0.0.0/8", 5, "invalid IPv4 address '300.0.0.0'"),
      FilterRow(good_, deep, 201, "expression nested too deeply (limit 200)"),
  };
  // Longer than the parser reads: refused by its length, not parsed.
  const std::string huge(65537, 'x');
  rows.push_back({"filter of 65537 characters",
                  {"-r", good_, huge},
                  2,
                  {"wgcap: filter: column 65537: expression longer than 65536 characters\n"},
                  ""});
  // Nothing is written for an expression that does not parse.
  rows.push_back({"bad filter with -w",
                  {"-r", good_, "-w", dir_.File("never.pcap"), "tcp and"},
                  2,
                  {"wgcap: filter: column 8: expected an expression after \"and\""},
                  ""});
  rows.back().Absent(dir_.File("never.pcap"));
  // SPEC 1: "A prefix with host bits set is accepted and its host bits
  // ignored" -- not an error.
  rows.push_back({"net with host bits set (accepted)",
                  {"-r", good_, "net 198.51.100.77/24"},
                  0,
                  {"3 packets read, 2 matched, 2 written\n"},
                  kPcapLines[0] + kPcapLines[2]});
  rows.push_back({"IPv6 net with host bits set (accepted)",
                  {"-r", good_, "net 2001:db8:100::ffff/64"},
                  0,
                  {"3 packets read, 1 matched, 1 written\n"},
                  kPcapLines[1]});
  RunRows(rows);
}

// --- options (SPEC 6: usage errors exit 2 and name the option) -------------

TEST_F(BadInputMatrix, BadOptions) {
  const std::string f = good_;
  const std::string w = dir_.File("out.pcap");
  const std::string dur = " (expected a positive number with s, m, h or ms, e.g. 30s)";
  RunRows({
      // unknown options
      UsageRow({"-k", "-r", f}, "unknown option -k"),
      UsageRow({"-r", f, "-vk"}, "unknown option -k"),
      UsageRow({"--stats", "-kv", "-r", f}, "unknown option -k"),
      UsageRow({"--nosuch", "-r", f}, "unknown option --nosuch"),
      UsageRow({"-r", f, "--nosuch=1"}, "unknown option --nosuch"),
      UsageRow({"--p", "-r", f},
               "ambiguous option --p (could be --print, --parity-check, --pcapng, --pcap)"),
      UsageRow({"--print=yes", "-r", f}, "option --print takes no value"),
      UsageRow({"--stats=1", "-r", f}, "option --stats takes no value"),
      UsageRow({"--help=1"}, "option --help takes no value"),
      // missing values
      UsageRow({"-r"}, "option -r needs a value"),
      UsageRow({"-r", f, "-c"}, "option -c needs a value"),
      UsageRow({"-r", f, "-vs"}, "option -s needs a value"),
      UsageRow({"-r", f, "-w"}, "option -w needs a value"),
      UsageRow({"-i"}, "option -i needs a value"),
      UsageRow({"-r", f, "--mode"}, "option --mode needs a value"),
      UsageRow({"-i", "wg0", "--duration"}, "option --duration needs a value"),
      UsageRow({"--connect"}, "option --connect needs a value"),
      UsageRow({"-i", ""}, "-i: empty interface name"),
      UsageRow({"-r", ""}, "-r: empty file name"),
      UsageRow({"-r", f, "-w", ""}, "-w: empty file name"),
      // bad numbers
      UsageRow({"-r", f, "-c", "-1"},
               "-c: invalid packet count \"-1\" (expected a positive integer)"),
      UsageRow({"-r", f, "-c", "+5"},
               "-c: invalid packet count \"+5\" (expected a positive integer)"),
      UsageRow({"-r", f, "-c", "1x"},
               "-c: invalid packet count \"1x\" (expected a positive integer)"),
      UsageRow({"-r", f, "-c", ""}, "-c: invalid packet count \"\" (expected a positive integer)"),
      UsageRow({"-r", f, "-c", "99999999999999999999"},
               "-c: invalid packet count \"99999999999999999999\" (expected a positive integer)"),
      UsageRow({"-r", f, "-s", "262145"},
               "-s: invalid snap length \"262145\" (expected 0-262144; 0 means 65535)"),
      UsageRow({"-r", f, "-s", "1e3"},
               "-s: invalid snap length \"1e3\" (expected 0-262144; 0 means 65535)"),
      UsageRow({"-r", f, "-s", "4294967296"},
               "-s: invalid snap length \"4294967296\" (expected 0-262144; 0 means 65535)"),
      UsageRow({"-i", "wg0", "-B", "4097"},
               "-B: invalid buffer size \"4097\" (expected 1-4096 MiB)"),
      UsageRow({"-i", "wg0", "-B", "-1"}, "-B: invalid buffer size \"-1\" (expected 1-4096 MiB)"),
      UsageRow({"-i", "wg0", "-B", "1.5"}, "-B: invalid buffer size \"1.5\" (expected 1-4096 MiB)"),
      UsageRow({"-r", f, "-w", w, "-C", "0"},
               "-C: invalid file size \"0\" (expected MB, 1-1048576)"),
      UsageRow({"-r", f, "-w", w, "-C", "1048577"},
               "-C: invalid file size \"1048577\" (expected MB, 1-1048576)"),
      UsageRow({"-r", f, "-w", w, "-C", "10M"},
               "-C: invalid file size \"10M\" (expected MB, 1-1048576)"),
      UsageRow({"-r", f, "-w", w, "-G", "0"},
               "-G: invalid rotation period \"0\" (expected seconds)"),
      UsageRow({"-r", f, "-w", w, "-G", "-5"},
               "-G: invalid rotation period \"-5\" (expected seconds)"),
      UsageRow({"-r", f, "-w", w, "-G", "1.5"},
               "-G: invalid rotation period \"1.5\" (expected seconds)"),
      UsageRow({"-r", f, "-w", w, "-W", "0"},
               "-W: invalid file count \"0\" (expected a positive integer)"),
      UsageRow({"-r", f, "-w", w, "-W", "-1"},
               "-W: invalid file count \"-1\" (expected a positive integer)"),
      UsageRow({"-i", "wg0", "--duration", "1d"}, "--duration: invalid duration \"1d\"" + dur),
      UsageRow({"-i", "wg0", "--duration", "-1s"}, "--duration: invalid duration \"-1s\"" + dur),
      UsageRow({"-i", "wg0", "--duration", "1.5s"}, "--duration: invalid duration \"1.5s\"" + dur),
      UsageRow({"-i", "wg0", "--duration", "s"}, "--duration: invalid duration \"s\"" + dur),
      UsageRow({"-i", "wg0", "--duration", ""}, "--duration: invalid duration \"\"" + dur),
      UsageRow({"-i", "wg0", "--duration", "10000000000s"},
               "--duration: invalid duration \"10000000000s\"" + dur),
      UsageRow({"-i", "wg0", "--mode", "BPF"},
               "--mode: unknown mode \"BPF\" (expected auto, bpf or afpacket)"),
      // conflicts and missing companions
      UsageRow({"-r", f, "-i", "wg0"}, "-i and -r exclude each other: capture live or read a file"),
      UsageRow({"tcp"}, "nothing to capture: give -i IFACE or -r FILE"),
      UsageRow({"-i", "wg0", "--parity-check"},
               "--parity-check needs -r FILE (it runs the file's packets through every "
               "evaluator)"),
      UsageRow({"--connect", "/run/wgcap.sock", "-r", f},
               "--connect captures live through wgcap serve: give -i IFACE"),
      UsageRow({"--connect", "/run/wgcap.sock", "-i", "wg0", "-w", w, "-G", "60"},
               "-C, -G and -W are not available with --connect"),
      UsageRow({"-r", f, "-W", "3"}, "-C, -G and -W rotate files: give -w FILE as the base name"),
      UsageRow({"-r", f, "-w", "-", "-C", "1"},
               "-C, -G and -W rotate files: give -w FILE as the base name"),
      UsageRow({"-r", f, "--duration", "30s"},
               "--duration applies to live capture (-i), not to -r"),
      UsageRow({"-r", f, "--pcapng"}, "--pcapng needs -w FILE (without -w the output is text)"),
      UsageRow({"-r", f, "-w", "-", "--print"},
               "--print and -w - both want stdout; write the capture to a file or drop --print"),
  });
}

// --- live capture on an interface that is not there ------------------------

TEST_F(BadInputMatrix, MissingInterface) {
  // Found missing before anything loads or attaches, with or without
  // privileges; the output file is never created.
  const std::string w = dir_.File("live.pcap");
  const std::string missing = "wgcap: nosuchif0: no such interface\n";
  RunRows({
      {"-i nosuchif0", {"-i", "nosuchif0"}, 1, {missing}, ""},
      {"-i nosuchif0 --mode bpf", {"-i", "nosuchif0", "--mode", "bpf"}, 1, {missing}, ""},
      {"-i nosuchif0 --mode afpacket", {"-i", "nosuchif0", "--mode", "afpacket"}, 1, {missing}, ""},
      Row("-i nosuchif0 -w FILE", {"-i", "nosuchif0", "-w", w, "tcp"}, 1, {missing}, "").Absent(w),
  });
  // SPEC 6: that line and nothing before it (no note about a fallback from
  // bpf), in every mode.
  for (const char* mode : {"auto", "bpf", "afpacket"}) {
    const test::ProcessResult r =
        test::Run({test::WgcapBinary(), "-i", "nosuchif0", "--mode", mode, "-w", w});
    EXPECT_EQ(r.exit_code, 1) << mode;
    EXPECT_EQ(r.err, missing) << mode;
    EXPECT_EQ(r.out, "") << mode;
  }
}

// --- files that cannot be read ----------------------------------------------

TEST_F(BadInputMatrix, UnreadableInputs) {
  // uid 65534 must reach the file through the directory.
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  const std::string locked = Write("locked.pcap", test::ReadFileBytes(good_));
  ASSERT_EQ(chmod(locked.c_str(), 0), 0);
  const std::string empty = Write("empty.pcap", {});
  const std::string text = Write("notes.txt", {'h', 'e', 'l', 'l', 'o', '\n'});
  const std::string missing = dir_.File("missing.pcap");
  const std::string out_dir = dir_.File("outdir");
  std::filesystem::create_directory(out_dir);
  const std::string read_only = dir_.File("readonly");
  std::filesystem::create_directory(read_only);
  ASSERT_EQ(chmod(read_only.c_str(), 0555), 0);
  const std::string header = ": truncated pcap global header at byte offset 0 (24 bytes needed)";
  RunRows({
      {"nonexistent file",
       {"-r", missing},
       1,
       {"wgcap: open " + missing + ": No such file or directory\n"},
       ""},
      {"directory as -r",
       {"-r", dir_.path()},
       1,
       {"wgcap: " + dir_.path() + ": is a directory\n"},
       ""},
      Row("unreadable file", {"-r", locked}, 1, {"wgcap: open " + locked + ": Permission denied\n"},
          "")
          .AsNobody(),
      {"empty file", {"-r", empty}, 1, {"wgcap: " + empty + header}, ""},
      {"/dev/null", {"-r", "/dev/null"}, 1, {"wgcap: /dev/null" + header}, ""},
      {"empty stdin", {"-r", "-"}, 1, {"wgcap: stdin" + header}, ""},
      {"text file",
       {"-r", text},
       1,
       {"wgcap: " + text + ": not a pcap or pcapng file (magic 0x68656c6c at byte offset 0)\n"},
       ""},
      // The output side: refused before a packet is read into a file that
      // could never be renamed into place.
      {"directory as -w",
       {"-r", good_, "-w", out_dir},
       1,
       {"wgcap: create " + out_dir + ": Is a directory\n"},
       ""},
      {"-w under a file",
       {"-r", good_, "-w", good_ + "/x.pcap"},
       1,
       {"wgcap: create " + good_ + "/x.pcap: Not a directory\n"},
       ""},
      Row("-w in a directory not writable", {"-r", good_, "-w", read_only + "/x.pcap"}, 1,
          {"wgcap: create " + read_only + "/x.pcap: Permission denied\n"}, "")
          .AsNobody(),
  });
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_NE(entry.path().filename().string()[0], '.') << "temporary file left: " << entry.path();
  }
}

// --- truncation at every byte (SPEC 7: the offset, and earlier packets) -----

TEST_F(BadInputMatrix, PcapTruncatedAtEveryByte) {
  const Bytes whole = test::ReadFileBytes(good_);
  const auto packets = Packets();
  std::vector<std::size_t> starts = {24};
  for (const Bytes& p : packets) {
    starts.push_back(starts.back() + 16 + p.size());
  }
  ASSERT_EQ(starts.back(), whole.size());
  std::vector<Row> rows;
  for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
    const std::string path =
        Write("cut-" + std::to_string(cut) + ".pcap",
              Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut)));
    const std::string name = "pcap cut at " + std::to_string(cut);
    if (cut < 24) {
      const std::string err = "wgcap: " + path + ": truncated pcap global header at byte offset " +
                              std::to_string(cut) + " (24 bytes needed)\n";
      rows.push_back({name, {"-r", path}, 1, {err}, ""});
      rows.push_back({name + " -w -", {"-r", path, "-w", "-", "--pcap"}, 1, {err}, ""});
      continue;
    }
    std::size_t complete = 0;
    while (complete < packets.size() && starts[complete + 1] <= cut) {
      ++complete;
    }
    std::vector<std::string> err = {Counts(complete)};
    int code = 0;
    if (cut != starts[complete]) {
      const std::size_t within = cut - starts[complete];
      code = 1;
      err.push_back("wgcap: " + path + ": truncated record at byte offset " +
                    std::to_string(starts[complete]) + ": " +
                    (within < 16 ? "header needs 16 bytes, file has " + std::to_string(within)
                                 : "data needs " + std::to_string(packets[complete].size()) +
                                       " bytes, file has " + std::to_string(within - 16)) +
                    "\n");
    }
    rows.push_back({name, {"-r", path}, code, err, FirstLines(kPcapLines, complete)});
    rows.push_back(
        {name + " -w -", {"-r", path, "-w", "-", "--pcap"}, code, err, PcapOutput(complete)});
  }
  // The same from a pipe: offsets count from the start of the stream.
  const std::size_t cut = starts[2] + 20;
  rows.push_back({"pcap cut on stdin",
                  {"-r", "-"},
                  1,
                  {Counts(2), "wgcap: stdin: truncated record at byte offset " +
                                  std::to_string(starts[2]) + ": data needs " +
                                  std::to_string(packets[2].size()) + " bytes, file has 4\n"},
                  FirstLines(kPcapLines, 2)});
  rows.back().Stdin(Text(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut))));
  RunRows(rows);
}

TEST_F(BadInputMatrix, PcapngTruncatedAtEveryByte) {
  const Bytes whole = PcapngFile();
  const std::string full = Write("whole.pcapng", whole);
  // Every block: where it starts, its type and length; how many packets
  // precede it.
  struct Block {
    std::size_t start;
    std::uint32_t type, length;
    std::size_t packets_before;
  };
  std::vector<Block> blocks;
  std::size_t packets = 0;
  for (std::size_t at = 0; at < whole.size();) {
    const Block b{at, ReadLe32(whole, at), ReadLe32(whole, at + 4), packets};
    blocks.push_back(b);
    packets += b.type == pcapng::kEnhancedPacket ? 1 : 0;
    at += b.length;
  }
  ASSERT_EQ(packets, 3u);
  ASSERT_EQ(blocks[0].type, pcapng::kSectionHeader);
  ASSERT_EQ(blocks[1].type, pcapng::kInterfaceDescription);
  ASSERT_EQ(blocks.back().type, pcapng::kInterfaceStatistics);
  const std::size_t opened = blocks[2].start; // the header and the interface

  std::vector<Row> rows = {
      {"whole pcapng", {"-r", full}, 0, {Counts(3)}, FirstLines(kPcapngLines, 3)}};
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    const std::string path =
        Write("cut-" + std::to_string(cut) + ".pcapng",
              Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut)));
    const std::string name = "pcapng cut at " + std::to_string(cut);
    if (cut < 4) {
      // Too short to tell pcapng from pcap by the magic.
      rows.push_back({name,
                      {"-r", path},
                      1,
                      {"wgcap: " + path + ": truncated pcap global header at byte offset " +
                       std::to_string(cut) + " (24 bytes needed)\n"},
                      ""});
      continue;
    }
    std::size_t i = 0;
    while (i + 1 < blocks.size() && blocks[i + 1].start <= cut) {
      ++i;
    }
    const Block& b = blocks[i];
    const std::size_t within = cut - b.start;
    const std::size_t kept = b.packets_before;
    if (within == 0) {
      // A cut between blocks is a clean end.
      rows.push_back({name, {"-r", path}, 0, {Counts(kept)}, FirstLines(kPcapngLines, kept)});
      continue;
    }
    const std::string detail =
        within < 8 ? "header needs 8 bytes, file has " + std::to_string(within)
        : b.type == pcapng::kSectionHeader && within < 12
            ? "section header needs 28 bytes, file has " + std::to_string(within)
            : "block needs " + std::to_string(b.length) + " bytes, file has " +
                  std::to_string(within);
    std::vector<std::string> err = {"wgcap: " + path + ": truncated block at byte offset " +
                                    std::to_string(b.start) + ": " + detail + "\n"};
    if (cut >= opened) {
      err.push_back(Counts(kept)); // the file opened; reading stopped at the cut
    }
    rows.push_back({name, {"-r", path}, 1, err, FirstLines(kPcapngLines, kept)});
  }
  const std::size_t cut = blocks[4].start + 30;
  rows.push_back({"pcapng cut on stdin",
                  {"-r", "-"},
                  1,
                  {Counts(2), "wgcap: stdin: truncated block at byte offset " +
                                  std::to_string(blocks[4].start) + ": block needs " +
                                  std::to_string(blocks[4].length) + " bytes, file has 30\n"},
                  FirstLines(kPcapngLines, 2)});
  rows.back().Stdin(Text(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut))));
  RunRows(rows);
}

// --- malformed headers, lengths and link types ------------------------------

TEST_F(BadInputMatrix, MalformedPcapHeadersAndRecords) {
  const auto packets = Packets();
  const std::size_t third = 24 + (16 + packets[0].size()) + (16 + packets[1].size());
  const std::string near =
      Write("near.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, packets, {}, 0xa2b2c3d4));
  Bytes gz = {0x1f, 0x8b, 0x08, 0x00};
  gz.resize(64, 0);
  const std::string gzip = Write("in.pcap.gz", gz);
  const std::string v3 =
      Write("v3.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, packets, {}, 0xa1b2c3d4, 3));
  const std::string snap0 = Write("snap0.pcap", Pcap(0, kLinkTypeRaw, packets));
  const std::string snap_max = Write("snapmax.pcap", Pcap(0xffffffff, kLinkTypeRaw, packets));
  const std::string snap_neg = Write("snapneg.pcap", Pcap(0x80000000, kLinkTypeRaw, packets));
  const std::string over_snap = Write("oversnap.pcap", Pcap(40, kLinkTypeRaw, packets));
  const std::string absurd =
      Write("absurd.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, packets, {{}, {}, 0xfffffff0u}));
  const std::string negative =
      Write("negative.pcap", Pcap(0x80000000, kLinkTypeRaw, packets, {{}, 0x80000000u}));
  const std::string above_max =
      Write("abovemax.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, packets, {262145u}));
  RunRows({
      {"wrong magic",
       {"-r", near},
       1,
       {"wgcap: " + near + ": not a pcap or pcapng file (magic 0xd4c3b2a2 at byte offset 0)\n"},
       ""},
      {"gzip magic",
       {"-r", gzip},
       1,
       {"wgcap: " + gzip + ": not a pcap or pcapng file (magic 0x1f8b0800 at byte offset 0)\n"},
       ""},
      {"pcap version 3",
       {"-r", v3},
       1,
       {"wgcap: " + v3 + ": unsupported pcap version 3.4 at byte offset 4 (2.x needed)\n"},
       ""},
      // A header's snaplen is only what the writer said; records are judged
      // by their own length, up to a bound that is never allocated past.
      {"snaplen 0",
       {"-r", snap0},
       0,
       {"snapshot length 0\n", Counts(3)},
       FirstLines(kPcapLines, 3)},
      {"snaplen 0xffffffff",
       {"-r", snap_max},
       0,
       {"snapshot length 4294967295\n", Counts(3)},
       FirstLines(kPcapLines, 3)},
      {"snaplen 0x80000000",
       {"-r", snap_neg},
       0,
       {"snapshot length 2147483648\n", Counts(3)},
       FirstLines(kPcapLines, 3)},
      {"records longer than the header's snaplen",
       {"-r", over_snap},
       0,
       {Counts(3)},
       FirstLines(kPcapLines, 3)},
      {"absurd captured length",
       {"-r", absurd},
       1,
       {Counts(2), "wgcap: " + absurd + ": record at byte offset " + std::to_string(third) +
                       " claims 4294967280 captured bytes (at most 262144 allowed)\n"},
       FirstLines(kPcapLines, 2)},
      {"negative captured length",
       {"-r", negative},
       1,
       {Counts(1), "wgcap: " + negative + ": record at byte offset " +
                       std::to_string(24 + 16 + packets[0].size()) +
                       " claims 2147483648 captured bytes (at most 16777216 allowed)\n"},
       FirstLines(kPcapLines, 1)},
      {"captured length above 262144",
       {"-r", above_max},
       1,
       {Counts(0), "wgcap: " + above_max +
                       ": record at byte offset 24 claims 262145 captured bytes (at most 262144 "
                       "allowed)\n"},
       ""},
      {"absurd captured length -w -",
       {"-r", absurd, "-w", "-", "--pcap"},
       1,
       {"claims 4294967280 captured bytes"},
       PcapOutput(2)},
  });
}

TEST_F(BadInputMatrix, NonIpLinkTypes) {
  const auto packets = Packets();
  const Bytes arp = test::WithEthernet(Bytes(28, 0xaa), 0x0806);
  const std::string arp_only =
      Write("arp.pcap", Pcap(kDefaultSnaplen, kLinkTypeEthernet, {arp, arp, arp}));
  const std::string mixed = Write("mixed.pcap", Pcap(kDefaultSnaplen, kLinkTypeEthernet,
                                                     {test::WithEthernet(packets[0], 0x0800), arp,
                                                      test::WithEthernet(packets[2], 0x0800)}));
  const std::string runts =
      Write("runts.pcap", Pcap(kDefaultSnaplen, kLinkTypeEthernet, {Bytes(5, 0), {}}));
  Bytes null_other = {7, 0, 0, 0};
  null_other.insert(null_other.end(), packets[0].begin(), packets[0].end());
  const std::string loopback =
      Write("null.pcap", Pcap(kDefaultSnaplen, kLinkTypeNull, {null_other}));
  const std::string not_ip =
      Write("notip.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, {Bytes(20, 0x00)}));
  const std::string wifi = Write("wifi.pcap", Pcap(kDefaultSnaplen, 105, packets));
  const std::string odd = Write("odd.pcap", Pcap(kDefaultSnaplen, 0xffff, packets));

  // pcapng: an unsupported first interface is refused like a pcap header; a
  // later one's packets are "not IP" (SPEC 5) after the earlier ones.
  test::PcapngBuilder wifi_first;
  wifi_first.Interface(105).Epb(0, kT0Micros, packets[0]);
  const std::string wifi_ng = Write("wifi.pcapng", wifi_first.bytes);
  test::PcapngBuilder second;
  second.Interface(static_cast<std::uint16_t>(kLinkTypeRaw))
      .Epb(0, kT0Micros, packets[0])
      .Interface(105)
      .Epb(1, kT0Micros + 1, packets[1]);
  const std::string second_ng = Write("second.pcapng", second.bytes);

  const std::string unsupported =
      " is not supported (wgcap reads raw IP, Ethernet, Linux cooked and "
      "loopback captures)\n";
  const std::string arp_line = " [?      ?] ??? len=28\n";
  RunRows({
      {"Ethernet, ARP only",
       {"-r", arp_only},
       0,
       {"link-type EN10MB (Ethernet)", Counts(3)},
       "22:13:20.000000" + arp_line + "22:13:20.000001" + arp_line + "22:13:20.000002" + arp_line},
      {"Ethernet, ARP between IP",
       {"-r", mixed},
       0,
       {Counts(3)},
       kPcapLines[0] + "22:13:20.000001" + arp_line + kPcapLines[2]},
      {"Ethernet, ARP filtered out",
       {"-r", arp_only, "ip or ip6"},
       0,
       {"3 packets read, 0 matched"},
       ""},
      {"Ethernet runts",
       {"-r", runts},
       0,
       {Counts(2)},
       "22:13:20.000000 [?      ?] ??? len=0\n22:13:20.000001 [?      ?] ??? len=0\n"},
      {"loopback, unknown family",
       {"-r", loopback},
       0,
       {Counts(1)},
       "22:13:20.000000 [?      ?] ??? len=40\n"},
      {"raw link type, not IP",
       {"-r", not_ip},
       0,
       {Counts(1)},
       "22:13:20.000000 [?      ?] ??? len=20\n"},
      {"link type 105", {"-r", wifi}, 1, {"wgcap: " + wifi + ": link-type 105" + unsupported}, ""},
      {"link type 65535",
       {"-r", odd},
       1,
       {"wgcap: " + odd + ": link-type 65535" + unsupported},
       ""},
      {"pcapng, first interface 105",
       {"-r", wifi_ng},
       1,
       {"wgcap: " + wifi_ng + ": link-type 105" + unsupported},
       ""},
      {"pcapng, second interface 105",
       {"-r", second_ng},
       0,
       {Counts(2)},
       kPcapLines[0] + "22:13:20.000001 [?      ?] ??? len=56\n"},
  });
}

TEST_F(BadInputMatrix, MalformedPcapngBlocks) {
  const auto packets = Packets();
  const auto raw = static_cast<std::uint16_t>(kLinkTypeRaw);
  // Two good packets, then a block that is wrong in one way.
  const auto two = [&] {
    test::PcapngBuilder f;
    f.Interface(raw).Epb(0, kT0Micros, packets[0]).Epb(0, kT0Micros + 1, packets[1]);
    return f;
  };
  test::PcapngBuilder trailer = two();
  const std::size_t at = trailer.bytes.size();
  trailer.Raw(pcapng::kEnhancedPacket, Bytes(24, 0), {}, 99);
  test::PcapngBuilder stranger = two();
  stranger.Epb(3, kT0Micros + 2, packets[2]);
  test::PcapngBuilder overrun = two();
  overrun.Epb(0, kT0Micros + 2, packets[2], {}, 0, 0xffffff00u);
  test::PcapngBuilder huge = two();
  huge.Raw(pcapng::kEnhancedPacket, Bytes(24, 0), 0x7ffffff0u);
  test::PcapngBuilder skipped = two();
  skipped.Raw(0x0bad, Bytes(24, 0), 0x40000000u, 0x40000000u);
  test::PcapngBuilder odd = two();
  odd.Raw(pcapng::kEnhancedPacket, Bytes(24, 0), 30);

  const std::string block = "block at byte offset " + std::to_string(at);
  const auto row = [&](const std::string& name, const test::PcapngBuilder& f,
                       const std::string& what) {
    const std::string path = Write(name + ".pcapng", f.bytes);
    return Row{name,
               {"-r", path},
               1,
               {Counts(2), "wgcap: " + path + ": " + what + "\n"},
               FirstLines(kPcapLines, 2)};
  };
  RunRows({
      row("trailer", trailer, block + ": trailing length 99 differs from the leading 36"),
      row("stranger", stranger,
          "packet " + block + ": interface 3 is not described in this section (1 are)"),
      row("overrun", overrun,
          "packet " + block + ": captured length 4294967040 overruns the block (length 68)"),
      row("huge", huge, block + " claims 2147483632 bytes (at most 16842752 allowed)"),
      row("skipped", skipped, "truncated " + block + ": block needs 1073741824 bytes, file has 36"),
      row("odd", odd, block + ": length 30 is not a multiple of 4"),
  });
}

} // namespace
} // namespace wgcap
