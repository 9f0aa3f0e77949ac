// SPDX-License-Identifier: Apache-2.0
// -Q for the AF_PACKET backend: the packet-type prologue in front of the
// socket filter, accepted by the kernel's classic checker and run by its
// interpreter. On an AF_UNIX socket every datagram is PACKET_HOST, so "in"
// keeps what the expression keeps and "out" keeps nothing; the live tests
// (live_direction_test) see PACKET_OUTGOING on a real interface.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "filter/classic_filter.hpp"
#include "support/classic_runners.hpp"
#include "support/packet_builder.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

constexpr std::uint32_t kSnaplen = 65535;

ClassicProgram Compile(const std::string& text) {
  auto e = ParseFilterExpression(text);
  EXPECT_TRUE(e.ok()) << text;
  return CompileClassicFilter(e.ok() ? *e : FilterExpression{}, kSnaplen);
}

const std::vector<std::uint8_t> kIcmp =
    test::PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Icmp(8, 0, 1, 1).Build();
const std::vector<std::uint8_t> kUdp =
    test::PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Udp(4000, 53).Build();

TEST(ClassicDirection, InKeepsHostPacketsTheExpressionKeeps) {
  for (const std::string text : {"", "icmp", "icmp and host 198.51.100.2"}) {
    const ClassicProgram p = KeepOnlyDirection(Compile(text), Direction::Inbound, kSnaplen);
    EXPECT_TRUE(p.exact);
    test::KernelClassicRunner kernel(p.instructions);
    ASSERT_EQ(kernel.error(), "") << text << "\n" << Disassemble(p.instructions);
    EXPECT_EQ(kernel.Run(kIcmp), std::optional<std::size_t>(kIcmp.size())) << text;
    EXPECT_EQ(kernel.Run(kUdp).has_value(), text.empty()) << text;
  }
}

TEST(ClassicDirection, OutRejectsHostPackets) {
  for (const std::string text : {"", "icmp", "udp port 53"}) {
    const ClassicProgram p = KeepOnlyDirection(Compile(text), Direction::Outbound, kSnaplen);
    test::KernelClassicRunner kernel(p.instructions);
    ASSERT_EQ(kernel.error(), "") << text << "\n" << Disassemble(p.instructions);
    EXPECT_FALSE(kernel.Run(kIcmp).has_value()) << text;
    EXPECT_FALSE(kernel.Run(kUdp).has_value()) << text;
  }
}

TEST(ClassicDirection, PrologueReadsThePacketTypeAndResetsTheRegisters) {
  const ClassicProgram p = KeepOnlyDirection(Compile("icmp"), Direction::Outbound, kSnaplen);
  const std::string text = Disassemble(p.instructions);
  EXPECT_THAT(text, ::testing::HasSubstr("#pkttype")) << text;
  ASSERT_GE(p.instructions.size(), 5u);
  EXPECT_EQ(p.instructions[1].k, 4u) << "PACKET_OUTGOING";
  EXPECT_EQ(p.instructions[1].jt, 1) << "outgoing: on to the expression";
  EXPECT_EQ(p.instructions[1].jf, 0) << "anything else: ret #0";
  const ClassicProgram in = KeepOnlyDirection(Compile("icmp"), Direction::Inbound, kSnaplen);
  EXPECT_EQ(in.instructions[1].jt, 0);
  EXPECT_EQ(in.instructions[1].jf, 1);
}

TEST(ClassicDirection, UnknownLeavesTheProgramAlone) {
  const ClassicProgram plain = Compile("tcp");
  const ClassicProgram p = KeepOnlyDirection(plain, Direction::Unknown, kSnaplen);
  EXPECT_EQ(p.instructions.size(), plain.instructions.size());
}

// A program at the kernel's limit cannot take five more instructions: the
// direction stays in the kernel, the expression moves to the Matcher.
TEST(ClassicDirection, AFullProgramKeepsOnlyTheDirectionCheck) {
  ClassicProgram full;
  full.instructions.assign(kClassicMaxInstructions - 1, sock_filter{BPF_LD | BPF_IMM, 0, 0, 0});
  full.instructions.push_back(sock_filter{BPF_RET | BPF_K, 0, 0, kSnaplen});
  const ClassicProgram p = KeepOnlyDirection(full, Direction::Inbound, kSnaplen);
  EXPECT_FALSE(p.exact);
  EXPECT_THAT(p.note, ::testing::HasSubstr("-Q"));
  EXPECT_EQ(p.instructions.size(), 6u);
  test::KernelClassicRunner kernel(p.instructions);
  ASSERT_EQ(kernel.error(), "");
  EXPECT_TRUE(kernel.Run(kUdp).has_value());
}

} // namespace
} // namespace wgcap
