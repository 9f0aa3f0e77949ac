// SPDX-License-Identifier: Apache-2.0
// SPEC 7, bad files: unreadable inputs and pcap/pcapng truncated at every
// byte (the offset is named and the packets before it are kept).
#include "cli_bad_input_matrix.hpp"

namespace wgcap {
namespace {

using namespace bad_input;

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

} // namespace
} // namespace wgcap
