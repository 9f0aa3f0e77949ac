// SPDX-License-Identifier: Apache-2.0
// The bad-input matrix (cli_bad_input_matrix_test) for the values of
// tcpdump's flags and the output format: each a clear error, exit 2, nothing
// on stdout and no file left behind. With -r here; the privileged
// cli_bad_values_live_test gives the same rows -i and checks that nothing
// was attached.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/cli_rows.hpp"
#include "support/packet_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {
namespace {

using Row = test::CliRow;
using test::UsageRow;

TEST(BadValues, OfflineRowsExitTwoAndLeaveNoFile) {
  test::TempDir dir;
  MemoryWriter bytes;
  PcapWriter pcap(bytes, 0);
  ASSERT_TRUE(pcap.WritePacket(0, test::PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Build()));
  const std::string in = dir.File("in.pcap");
  test::WriteFileBytes(in, bytes.bytes());
  test::RunRows(test::BadValueRows({"-r", in}, dir.File("out.pcapng"), dir.File("missing.txt")));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "in.pcap") << "left behind: " << entry.path();
  }
}

// The one failure that is not a usage error still says nothing on stdout.
TEST(BadValues, UnreadableFilterFileNamesTheFile) {
  test::TempDir dir;
  const std::string in = dir.File("in.pcap");
  test::WriteFileBytes(in, std::vector<std::uint8_t>(24, 0));
  test::RunRows({
      Row("-F a directory", {"-r", in, "-F", dir.path()}, 2,
          {"wgcap: -F " + dir.path() + ": Is a directory\n"}, ""),
  });
}

} // namespace
} // namespace wgcap
