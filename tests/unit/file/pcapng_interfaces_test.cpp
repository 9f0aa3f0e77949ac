// SPDX-License-Identifier: Apache-2.0
// PcapngWriter with several captured interfaces (-i wg0,wg1): one interface
// block each, in the order given and before any packet, the packets' ids
// by ifindex, and one statistics block each with that interface's own
// kernel counters. The file is walked block by block, as a reader would.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "support/pcapng_blocks.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wgcap/session.hpp"

namespace wgcap {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::Walk;
using test::Walked;

PacketRecord Record(const Bytes& data, std::uint32_t ifindex) {
  PacketRecord r;
  r.timestamp_ns = 1'700'000'000'000'000'000;
  r.data = data;
  r.direction = Direction::Outbound;
  r.ifindex = ifindex;
  return r;
}

PcapngWriterOptions ThreeInterfaces() {
  PcapngWriterOptions o;
  o.interfaces = {{"wg1", 12}, {"wg0", 11}, {"wg7", 17}};
  o.filter = "udp";
  return o;
}

TEST(PcapngInterfaces, DescribedInOrderBeforeAnyPacket) {
  MemoryWriter out;
  PcapngWriter w(out, ThreeInterfaces());
  ASSERT_TRUE(w.WriteHeader());
  EXPECT_EQ(w.interface_count(), 3u);
  const Walked walked = Walk(out.bytes());
  EXPECT_EQ(walked.names, (std::vector<std::string>{"wg1", "wg0", "wg7"}));
  EXPECT_EQ(walked.filters, (std::vector<std::string>{"udp", "udp", "udp"}));
  EXPECT_EQ(walked.block_types.size(), 4u); // the section and three interfaces
}

TEST(PcapngInterfaces, PacketsCarryTheirInterfacesId) {
  MemoryWriter out;
  PcapngWriter w(out, ThreeInterfaces());
  const Bytes data = {0x45, 0, 0, 20};
  for (std::uint32_t ifindex : {11u, 11u, 17u, 12u, 11u, 17u}) {
    ASSERT_TRUE(w.WritePacket(Record(data, ifindex)));
  }
  // An index nobody named still gets an interface of its own, after them.
  ASSERT_TRUE(w.WritePacket(Record(data, 99)));
  const Walked walked = Walk(out.bytes());
  EXPECT_EQ(walked.packet_ids, (std::vector<std::uint32_t>{1, 1, 2, 0, 1, 2, 3}));
  ASSERT_EQ(walked.names.size(), 4u);
  EXPECT_EQ(walked.names[3], "ifindex 99");
}

TEST(PcapngInterfaces, EachStatisticsBlockHasItsOwnCounters) {
  MemoryWriter out;
  PcapngWriter w(out, ThreeInterfaces());
  const Bytes data = {0x45, 0, 0, 20};
  for (std::uint32_t ifindex : {11u, 12u, 12u, 12u}) {
    ASSERT_TRUE(w.WritePacket(Record(data, ifindex)));
  }
  Stats stats;
  stats.received = 1000; // the session's, for all: not any one interface's
  stats.interfaces = {{.ifindex = 12, .kernel = {.seen = 50, .matched = 3, .ring_drops = 2}},
                      {.ifindex = 11, .kernel = {.seen = 0, .matched = 1, .drops = 4}}};
  ASSERT_TRUE(w.Finish(stats));
  const Walked walked = Walk(out.bytes());
  ASSERT_EQ(walked.statistics.size(), 3u);
  const auto& wg1 = walked.statistics.at(0);
  EXPECT_EQ(wg1.at(pcapng::kIsbIfRecv), 50u);
  EXPECT_EQ(wg1.at(pcapng::kIsbIfDrop), 2u);
  EXPECT_EQ(wg1.at(pcapng::kIsbFilterAccept), 3u);
  EXPECT_EQ(wg1.at(pcapng::kIsbUsrDeliv), 3u);
  const auto& wg0 = walked.statistics.at(1);
  EXPECT_EQ(wg0.count(pcapng::kIsbIfRecv), 0u) << "AF_PACKET saw no count of its own";
  EXPECT_EQ(wg0.at(pcapng::kIsbIfDrop), 4u);
  EXPECT_EQ(wg0.at(pcapng::kIsbFilterAccept), 1u);
  EXPECT_EQ(wg0.at(pcapng::kIsbUsrDeliv), 1u);
  EXPECT_EQ(wg1.at(pcapng::kIsbOsDrop), 0u) << "the session's drops, on the first block";
  EXPECT_EQ(wg0.count(pcapng::kIsbOsDrop), 0u);
  const auto& wg7 = walked.statistics.at(2);
  EXPECT_EQ(wg7.count(pcapng::kIsbIfDrop), 0u) << "no counters were published for it";
  EXPECT_EQ(wg7.at(pcapng::kIsbUsrDeliv), 0u);
}

// The session's queue drops belong to no one interface: they are counted
// once, in the first interface's block, so no loss goes unrecorded.
TEST(PcapngInterfaces, SessionDropsGoOnTheFirstInterfaceOnly) {
  MemoryWriter out;
  PcapngWriter w(out, ThreeInterfaces());
  ASSERT_TRUE(w.WritePacket(Record({0x45, 0, 0, 20}, 11)));
  Stats stats;
  stats.dropped = 37;
  stats.interfaces = {{.ifindex = 11, .kernel = {.seen = 9, .matched = 1}}};
  ASSERT_TRUE(w.Finish(stats));
  const Walked walked = Walk(out.bytes());
  ASSERT_EQ(walked.statistics.size(), 3u);
  EXPECT_EQ(walked.statistics.at(0).at(pcapng::kIsbOsDrop), 37u) << "wg1, with no counters";
  EXPECT_EQ(walked.statistics.at(1).count(pcapng::kIsbOsDrop), 0u);
  EXPECT_EQ(walked.statistics.at(2).count(pcapng::kIsbOsDrop), 0u);
  EXPECT_EQ(walked.statistics.at(1).at(pcapng::kIsbFilterAccept), 1u);
}

// tshark names each packet's interface by its id and name, and tcpdump
// reads every packet of the file.
TEST(PcapngInterfaces, TsharkAndTcpdumpReadTheInterfaces) {
  test::TempDir dir;
  const std::string path = dir.File("multi.pcapng");
  {
    auto file = AtomicFileWriter::Create(path);
    ASSERT_TRUE(file) << file.error().message;
    PcapngWriter w(**file, ThreeInterfaces());
    // A UDP packet, 28 bytes: tshark dissects it without complaint.
    const Bytes udp = {0x45, 0, 0,   28, 0,   1, 0, 0, 64, 17, 0, 0, 192, 0,
                       2,    1, 198, 51, 100, 1, 0, 7, 0,  9,  0, 8, 0,   0};
    for (std::uint32_t ifindex : {17u, 11u, 12u, 11u}) {
      ASSERT_TRUE(w.WritePacket(Record(udp, ifindex)));
    }
    ASSERT_TRUE(w.Finish(Stats{}));
    ASSERT_TRUE((*file)->Commit());
  }
  const auto tshark = test::Run({"tshark", "-r", path, "-T", "fields", "-e", "frame.interface_id",
                                 "-e", "frame.interface_name"});
  ASSERT_EQ(tshark.exit_code, 0) << tshark.err;
  EXPECT_EQ(tshark.out, "2\twg7\n1\twg0\n0\twg1\n1\twg0\n");
  const auto tcpdump = test::Run({"tcpdump", "-n", "-r", path});
  ASSERT_EQ(tcpdump.exit_code, 0) << tcpdump.err;
  EXPECT_EQ(std::count(tcpdump.out.begin(), tcpdump.out.end(), '\n'), 4) << tcpdump.out;
}

} // namespace
} // namespace wgcap
