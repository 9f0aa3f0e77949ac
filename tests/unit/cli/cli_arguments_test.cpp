// SPDX-License-Identifier: Apache-2.0
// The command line as tcpdump users type it: clustered short options, -F
// files, what --connect sends the daemon, -l, and --help and wgcap(8)
// naming every option of the getopt tables.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/connect_request.hpp"
#include "cli/filter_file.hpp"
#include "cli/line_flushing_writer.hpp"
#include "support/temp_dir.hpp"

namespace wgcap::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// argv as main gets it, kept alive while getopt permutes it.
class Argv {
public:
  explicit Argv(std::vector<std::string> words) : words_(std::move(words)) {
    words_.insert(words_.begin(), "wgcap");
    for (auto& w : words_) {
      pointers_.push_back(w.data());
    }
    pointers_.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(words_.size()); }
  char** argv() { return pointers_.data(); }

private:
  std::vector<std::string> words_;
  std::vector<char*> pointers_;
};

Arguments Parse(std::vector<std::string> words) {
  Argv argv(std::move(words));
  auto args = ParseArguments(argv.argc(), argv.argv());
  EXPECT_TRUE(args.ok()) << (args.ok() ? "" : args.error().message);
  return args.ok() ? args.value() : Arguments{};
}

std::string ParseError(std::vector<std::string> words) {
  Argv argv(std::move(words));
  auto args = ParseArguments(argv.argc(), argv.argv());
  return args.ok() ? "" : args.error().message;
}

TEST(CliArguments, ClustersAsTcpdumpTakesThem) {
  const Arguments a = Parse({"-i", "wg0", "-nnvX", "tcp"});
  EXPECT_TRUE(a.text.verbose);
  EXPECT_EQ(a.text.hex, HexDump::HexAscii);
  EXPECT_EQ(a.expression, "tcp");
  EXPECT_EQ(Parse({"-i", "wg0", "-c5"}).count, 5);
  EXPECT_EQ(Parse({"-i", "wg0", "-s0"}).snaplen, 65535u);
  EXPECT_EQ(Parse({"-i", "wg0", "-s", "0"}).snaplen, 65535u);
  EXPECT_TRUE(Parse({"-i", "wg0", "-vvv"}).text.verbose);
  EXPECT_EQ(Parse({"-i", "wg0", "-tttt"}).text.time, TimeStamp::DateTime);
  EXPECT_EQ(Parse({"-i", "wg0", "-tt", "-t"}).text.time, TimeStamp::SincePrevious);
  EXPECT_EQ(Parse({"-i", "wg0", "-ttttt"}).text.time, TimeStamp::SinceFirst);
  EXPECT_EQ(Parse({"-i", "wg0", "-xx"}).text.hex, HexDump::Hex);
  EXPECT_EQ(Parse({"-i", "wg0", "-XX"}).text.hex, HexDump::HexAscii);
  // A value ends the cluster: -nc5 is -n -c 5, -Qin is -Q in.
  EXPECT_EQ(Parse({"-i", "wg0", "-nc5"}).count, 5);
  EXPECT_EQ(Parse({"-i", "wg0", "-Qin"}).hooks, Hooks::In);
  EXPECT_EQ(Parse({"-i", "wg0", "-lnF", "f.txt"}).filter_file, "f.txt");
  const Arguments all = Parse({"-nNpleqS#", "-iwg0", "-c", "3", "-tq", "udp", "port", "53"});
  EXPECT_TRUE(all.line_buffered && all.text.interface_name && all.text.quiet &&
              all.text.absolute_sequence && all.text.number);
  EXPECT_EQ(all.interface, "wg0");
  EXPECT_EQ(all.text.time, TimeStamp::None);
  EXPECT_EQ(all.expression, "udp port 53");
}

TEST(CliArguments, BadClustersNameTheLetter) {
  EXPECT_EQ(ParseError({"-i", "wg0", "-tttttt"}),
            "-t: given more than 5 times (-t, -tt, -ttt, -tttt and -ttttt exist)");
  EXPECT_EQ(ParseError({"-i", "wg0", "-nnk"}), "unknown option -k");
  EXPECT_EQ(ParseError({"-i", "wg0", "-nc"}), "option -c needs a value");
  EXPECT_EQ(ParseError({"-i", "wg0", "-Qsideways"}),
            "-Q: unknown direction \"sideways\" (expected in, out or inout)");
}

TEST(CliArguments, WriteFormatFollowsTheNameUnlessAFlagSays) {
  EXPECT_TRUE(Parse({"-i", "wg0", "-w", "x"}).pcapng);
  EXPECT_TRUE(Parse({"-i", "wg0", "-w", "-"}).pcapng);
  EXPECT_FALSE(Parse({"-i", "wg0", "-w", "x.pcap"}).pcapng);
  EXPECT_FALSE(Parse({"-i", "wg0", "-w", "x.pcapng", "--pcap"}).pcapng);
  EXPECT_TRUE(Parse({"-i", "wg0", "-w", "x.pcap", "--pcapng"}).pcapng);
  EXPECT_FALSE(Parse({"-i", "wg0"}).pcapng) << "text needs no file format";
  EXPECT_EQ(ParseError({"-i", "wg0", "-w", "x", "--pcap", "--pcapng"}),
            "--pcap and --pcapng exclude each other: choose one file format");
  EXPECT_EQ(ParseError({"-i", "wg0", "--pcap"}),
            "--pcap needs -w FILE (without -w the output is text)");
  EXPECT_TRUE(Parse({"-i", "wg0", "--time-stamp-precision", "nano"}).time_stamp_nano);
  EXPECT_TRUE(Parse({"-i", "wg0", "--time-stamp-precision=nano"}).text.nanoseconds);
}

TEST(CliFilterFile, CommentsAndLineBreaksAsTcpdumpReadsThem) {
  EXPECT_EQ(FilterFileText("tcp # web\n  and port 443\n# done\n"),
            "tcp" + std::string(9, ' ') + "and port 443" + std::string(8, ' '));
  EXPECT_EQ(FilterFileText("udp\tport 53\r\n"), "udp port 53  ");
  EXPECT_EQ(FilterFileText(std::string("icmp\0tcp", 8)), "icmp") << "a C string, as in tcpdump";
  EXPECT_EQ(FilterFileText(""), "");
  EXPECT_EQ(FilterFileText("#only a comment"), "               ");
}

TEST(CliFilterFile, ReadsTheFileAndNamesItInErrors) {
  test::TempDir dir;
  { std::ofstream(dir.File("f.txt")) << "host 198.51.100.1 # the server\nand tcp\n"; }
  auto text = ReadFilterFile(dir.File("f.txt"));
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, "host 198.51.100.1" + std::string(14, ' ') + "and tcp ");
  auto missing = ReadFilterFile(dir.File("missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "-F " + dir.File("missing") + ": No such file or directory");
  auto directory = ReadFilterFile(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().message, "-F " + dir.path() + ": Is a directory");
}

std::vector<std::string> Request(std::vector<std::string> words, const std::string& from_file = {},
                                 const std::string& file_expression = {}) {
  Argv argv(words);
  auto args = ParseArguments(argv.argc(), argv.argv());
  EXPECT_TRUE(args.ok()) << (args.ok() ? "" : args.error().message);
  if (!args.ok()) {
    return {};
  }
  if (!from_file.empty()) {
    EXPECT_EQ(args->filter_file, from_file);
    args->expression = file_expression; // what main read from the file
  }
  return RequestArguments(*args, argv.argc(), argv.argv());
}

TEST(CliConnectRequest, TheDaemonStreamsAndReadsNoFile) {
  EXPECT_THAT(Request({"--connect", "/s", "-i", "wg0", "-c5", "icmp"}),
              ElementsAre("-i", "wg0", "-c", "5", "--", "icmp"));
  EXPECT_THAT(Request({"--connect=/s", "-i", "wg0", "-w", "cap.pcapng", "tcp", "port", "80"}),
              ElementsAre("-i", "wg0", "-w", "-", "--", "tcp", "port", "80"));
  // The format of a .pcap file is said, since the daemon sees only -w -.
  EXPECT_THAT(Request({"--conn", "/s", "-i", "wg0", "-nUwcap.pcap"}),
              ElementsAre("--pcap", "-i", "wg0", "-nUw", "-"));
  EXPECT_THAT(Request({"-i", "wg0", "--connect", "/s", "-nF", "f.txt", "udp"}, "f.txt", "icmp "),
              ElementsAre("-i", "wg0", "-n", "--", "icmp "));
  EXPECT_THAT(Request({"-i", "wg0", "--connect", "/s", "-Ff.txt", "-v"}, "f.txt", ""),
              ElementsAre("-i", "wg0", "-v"));
  EXPECT_THAT(Request({"-i", "wg0", "--connect", "/s", "--mode", "bpf", "--", "not", "tcp"}),
              ElementsAre("-i", "wg0", "--mode", "bpf", "--", "not", "tcp"));
}

// Counts the flushes that reach the stream under -l.
class FlushCounter final : public ByteWriter {
public:
  Status Write(std::span<const std::uint8_t> bytes) override {
    text.append(bytes.begin(), bytes.end());
    return {};
  }
  Status Flush() override {
    flushed_at.push_back(text.size());
    return {};
  }
  using ByteWriter::Write;
  std::string text;
  std::vector<std::size_t> flushed_at;
};

TEST(CliLineBuffered, EveryLineIsFlushedAsItEnds) {
  FlushCounter stream;
  LineFlushingWriter lines(stream);
  ASSERT_TRUE(lines.Write(std::string_view("12:00:00.000000 [IN   TCP] ")));
  EXPECT_TRUE(stream.flushed_at.empty()) << "half a line waits";
  ASSERT_TRUE(lines.Write(std::string_view("a > b length 0\n")));
  ASSERT_TRUE(lines.Write(std::string_view("second\n")));
  EXPECT_THAT(stream.flushed_at, ElementsAre(42u, 49u));
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every option of the getopt tables, as a user would type it.
std::vector<std::string> EveryOption() {
  std::vector<std::string> names;
  const std::string_view shorts = ShortOptions();
  for (std::size_t i = 1; i < shorts.size(); ++i) { // [0] is ':' (our own messages)
    if (shorts[i] != ':') {
      names.push_back(std::string("-") + shorts[i]);
    }
  }
  for (const option& o : LongOptions()) {
    names.push_back(std::string("--") + o.name);
  }
  return names;
}

// NAME as a word of LINE: "-t" in "-t, -tt" but not in "-tt" or "--stats".
bool HasOptionWord(std::string_view line, const std::string& name) {
  for (auto at = line.find(name); at != std::string_view::npos; at = line.find(name, at + 1)) {
    const std::size_t end = at + name.size();
    const bool starts = at == 0 || line[at - 1] == ' ' || line[at - 1] == '"';
    const bool ends = end == line.size() || line[end] == ' ' || line[end] == ',' ||
                      line[end] == '"' || line[end] == '=';
    if (starts && ends) {
      return true;
    }
  }
  return false;
}

TEST(CliDocumentation, HelpNamesEveryOption) {
  std::istringstream help(HelpText());
  std::vector<std::string> lines;
  for (std::string line; std::getline(help, line);) {
    lines.push_back(line);
  }
  for (const std::string& name : EveryOption()) {
    const bool named = std::any_of(lines.begin(), lines.end(),
                                   [&](const std::string& l) { return HasOptionWord(l, name); });
    EXPECT_TRUE(named) << name << " is missing from --help";
  }
}

TEST(CliDocumentation, ManPageListsEveryOption) {
  std::istringstream page(ReadWhole(std::string(WGCAP_SOURCE_DIR) + "/docs/wgcap.8"));
  // The option lines: the tag after each .TP, roff's "\-" read as '-'.
  std::vector<std::string> tags;
  bool after_tp = false;
  for (std::string line; std::getline(page, line);) {
    if (after_tp && line.starts_with(".B")) {
      for (std::size_t at; (at = line.find("\\-")) != std::string::npos;) {
        line.erase(at, 1);
      }
      tags.push_back(line);
    }
    after_tp = line == ".TP";
  }
  ASSERT_GT(tags.size(), 30u) << "docs/wgcap.8 has its OPTIONS";
  for (const std::string& name : EveryOption()) {
    const bool listed = std::any_of(tags.begin(), tags.end(),
                                    [&](const std::string& t) { return HasOptionWord(t, name); });
    EXPECT_TRUE(listed) << name << " has no .TP entry in docs/wgcap.8";
  }
}

} // namespace
} // namespace wgcap::cli
