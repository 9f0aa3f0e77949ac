// SPDX-License-Identifier: Apache-2.0
// SPEC 7 as one table: bad input of every kind handed to the wgcap binary.
// Each row names the exit code, what stderr must say, and stdout exactly:
// empty, or the packets before the point where a file broke. No row may
// crash, abort or trip a sanitizer. Nothing here touches the network. This
// file: expressions, options, a missing interface; the files are in
// cli_bad_files_test.cpp and cli_bad_file_headers_test.cpp.
#include "cli_bad_input_matrix.hpp"

namespace wgcap {
namespace {

using namespace bad_input;

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
                               "icmp6, ip, ip6, proto, less, greater, peer, not or \"(\")";
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

} // namespace
} // namespace wgcap
