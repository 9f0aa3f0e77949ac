// SPDX-License-Identifier: Apache-2.0
// Packet-data relations (issue 21) in the generated eBPF filter, on ASTs
// built by hand: verdicts worked out from the packet bytes, both link-header
// lengths, direct reads and helper-only. The rules (SPEC 1): unsigned 32-bit
// arithmetic, big-endian loads; a relation on another family or protocol is
// false; a load past the packet or a division by zero rejects the packet
// whatever surrounds it; shifts by 32 or more give 0 (libpcap's bpf_filter).
#include <gtest/gtest.h>

#include <functional>

#include "capture/bpf/ebpf_filter_runner.hpp"
#include "support/packet_builder.hpp"
#include "support/privileges.hpp"
#include "support/relation_builder.hpp"

namespace wgcap {
namespace {

using test::AstBuilder;
using test::PacketBuilder;
using Bytes = std::vector<std::uint8_t>;

Bytes TcpSyn() {
  return PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2")
      .Tcp(40000, 80, 0x02)
      .Payload("GET /")
      .Build();
}
Bytes TcpAck() {
  return PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2")
      .Tcp(40000, 80, 0x10)
      .Payload("PUT /")
      .Build();
}
Bytes Udp4() {
  return PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Udp(53, 5353).PayloadSize(30).Build();
}
Bytes Udp6WithHopByHop() {
  return PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2")
      .Ipv6Extension(0)
      .Udp(53, 5353)
      .PayloadSize(8)
      .Build();
}
Bytes LaterFragment() {
  return PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2")
      .Tcp(40000, 80, 0x02)
      .Ipv4Fragment(100, false)
      .Build();
}

struct RelationCase {
  const char* name;
  std::function<FilterExpression(AstBuilder&)> build;
  Bytes packet;
  bool matches;
  std::uint32_t min_extent = 0; // on a match
};

// tcp[13] & 2 != 0
int Syn(AstBuilder& b) {
  return b.Rel(b.Bin(ValueOp::And, b.Tcp(b.Const(13)), b.Const(2)), Relation::NotEqual, b.Const(0));
}

std::vector<RelationCase> Cases() {
  return {
      {"syn on a SYN", [](AstBuilder& b) { return b.Finish(Syn(b)); }, TcpSyn(), true, 34},
      {"syn on an ACK", [](AstBuilder& b) { return b.Finish(Syn(b)); }, TcpAck(), false},
      {"syn on UDP is false", [](AstBuilder& b) { return b.Finish(Syn(b)); }, Udp4(), false},
      {"not syn on UDP is true", [](AstBuilder& b) { return b.Finish(b.Not(Syn(b))); }, Udp4(),
       true},
      {"syn on a later fragment is false", [](AstBuilder& b) { return b.Finish(Syn(b)); },
       LaterFragment(), false},
      {"tcp[(tcp[12] & 0xf0) >> 2 : 4] == 'GET '",
       [](AstBuilder& b) {
         const int data_offset = b.Bin(
             ValueOp::Shr, b.Bin(ValueOp::And, b.Tcp(b.Const(12)), b.Const(0xf0)), b.Const(2));
         return b.Finish(b.Rel(b.Tcp(data_offset, 4), Relation::Equal, b.Const(0x47455420)));
       },
       TcpSyn(), true, 20 + 20 + 4},
      {"the same on 'PUT '",
       [](AstBuilder& b) {
         const int data_offset = b.Bin(
             ValueOp::Shr, b.Bin(ValueOp::And, b.Tcp(b.Const(12)), b.Const(0xf0)), b.Const(2));
         return b.Finish(b.Rel(b.Tcp(data_offset, 4), Relation::Equal, b.Const(0x47455420)));
       },
       TcpAck(), false},
      {"udp[2:2] == 5353 after a hop-by-hop header",
       [](AstBuilder& b) {
         return b.Finish(
             b.Rel(b.Load(LoadBase::Transport, b.Const(2), 2, 17), Relation::Equal, b.Const(5353)));
       },
       Udp6WithHopByHop(), true, 40 + 8 + 4},
      {"icmp[0] on IPv6 is false",
       [](AstBuilder& b) {
         return b.Finish(
             b.Rel(b.Load(LoadBase::Transport, b.Const(0), 1, 1), Relation::Equal, b.Const(128)));
       },
       PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2").Protocol(1, {128, 0, 0, 0}).Build(),
       false},
      {"ip[6:2] & 0x1fff != 0 on a later fragment",
       [](AstBuilder& b) {
         return b.Finish(
             b.Rel(b.Bin(ValueOp::And, b.Load(LoadBase::Ip, b.Const(6), 2), b.Const(0x1fff)),
                   Relation::NotEqual, b.Const(0)));
       },
       LaterFragment(), true, 8},
      {"ip6[0] >> 4 == 6 on IPv4 is false",
       [](AstBuilder& b) {
         return b.Finish(b.Rel(b.Bin(ValueOp::Shr, b.Load(LoadBase::Ip6, b.Const(0)), b.Const(4)),
                               Relation::Equal, b.Const(6)));
       },
       Udp4(), false},
      {"link[0] == 0x45",
       [](AstBuilder& b) {
         return b.Finish(
             b.Rel(b.Load(LoadBase::Packet, b.Const(0)), Relation::Equal, b.Const(0x45)));
       },
       Udp4(), true, 1},
      {"len > 57 and len < 59 (58 bytes)",
       [](AstBuilder& b) {
         return b.Finish(b.And(b.Rel(b.Len(), Relation::Greater, b.Const(57)),
                               b.Rel(b.Len(), Relation::Less, b.Const(59))));
       },
       Udp4(), true},
      {"not ip[100] == 0 past the end rejects",
       [](AstBuilder& b) {
         return b.Finish(
             b.Not(b.Rel(b.Load(LoadBase::Ip, b.Const(100)), Relation::Equal, b.Const(0))));
       },
       Udp4(), false},
      {"a variable offset past the end rejects under or",
       [](AstBuilder& b) {
         const int far = b.Bin(ValueOp::Mul, b.Load(LoadBase::Ip, b.Const(0)), b.Const(4));
         return b.Finish(
             b.Or(b.Rel(b.Load(LoadBase::Ip, far), Relation::Equal, b.Const(0)), b.Family(4)));
       },
       Udp4(), false},
      {"ip or a failing load: ip decides first",
       [](AstBuilder& b) {
         return b.Finish(b.Or(
             b.Family(4), b.Rel(b.Load(LoadBase::Ip, b.Const(100)), Relation::Equal, b.Const(0))));
       },
       Udp4(), true},
      {"len / (ip[0] - 0x45) divides by zero: rejected",
       [](AstBuilder& b) {
         const int zero = b.Bin(ValueOp::Sub, b.Load(LoadBase::Ip, b.Const(0)), b.Const(0x45));
         return b.Finish(
             b.Not(b.Rel(b.Bin(ValueOp::Div, b.Len(), zero), Relation::Equal, b.Const(7))));
       },
       Udp4(), false},
      {"len % (ip[0] - 0x40) == 3 (58 % 5)",
       [](AstBuilder& b) {
         const int five = b.Bin(ValueOp::Sub, b.Load(LoadBase::Ip, b.Const(0)), b.Const(0x40));
         return b.Finish(b.Rel(b.Bin(ValueOp::Mod, b.Len(), five), Relation::Equal, b.Const(3)));
       },
       Udp4(), true},
      {"1 << (ip[0] - 0x25) == 0: a shift by 32 gives 0",
       [](AstBuilder& b) {
         const int count = b.Bin(ValueOp::Sub, b.Load(LoadBase::Ip, b.Const(0)), b.Const(0x25));
         return b.Finish(
             b.Rel(b.Bin(ValueOp::Shl, b.Const(1), count), Relation::Equal, b.Const(0)));
       },
       Udp4(), true},
      {"ip[0] << 28 == 0x50000000: 32-bit arithmetic",
       [](AstBuilder& b) {
         return b.Finish(b.Rel(b.Bin(ValueOp::Shl, b.Load(LoadBase::Ip, b.Const(0)), b.Const(28)),
                               Relation::Equal, b.Const(0x50000000)));
       },
       Udp4(), true},
      {"-ip[0] > 0x80000000 (unsigned)",
       [](AstBuilder& b) {
         return b.Finish(b.Rel(b.Neg(b.Load(LoadBase::Ip, b.Const(0))), Relation::Greater,
                               b.Const(0x80000000)));
       },
       Udp4(), true},
      {"ip[12:4] == ip[16:4] - 1 (192.0.2.1 vs .2)",
       [](AstBuilder& b) {
         return b.Finish(
             b.Rel(b.Load(LoadBase::Ip, b.Const(12), 4), Relation::Equal,
                   b.Bin(ValueOp::Sub, b.Load(LoadBase::Ip, b.Const(16), 4), b.Const(1))));
       },
       Udp4(), true, 20},
  };
}

struct Variant {
  unsigned link_header;
  bool direct_access;
};

class EbpfRelation : public ::testing::TestWithParam<Variant> {};

TEST_P(EbpfRelation, VerdictsAndExtents) {
  WGCAP_REQUIRE_PRIVILEGES();
  for (const RelationCase& c : Cases()) {
    AstBuilder b;
    const FilterExpression expr = c.build(b);
    auto runner =
        EbpfFilterRunner::Create(expr, {GetParam().link_header, GetParam().direct_access});
    ASSERT_TRUE(runner.ok()) << c.name << ": " << runner.error().message;
    EXPECT_TRUE((*runner)->exact()) << c.name;
    auto got = (*runner)->Run(c.packet);
    ASSERT_TRUE(got.ok()) << c.name << ": " << got.error().message;
    EXPECT_EQ(got->matched, c.matches) << c.name << "\n" << (*runner)->disassembly();
    if (c.matches) {
      EXPECT_GE(got->extent, c.min_extent) << c.name;
      EXPECT_LE(got->extent, c.packet.size()) << c.name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(LinkHeaders, EbpfRelation,
                         ::testing::Values(Variant{14, true}, Variant{0, true}, Variant{14, false},
                                           Variant{0, false}),
                         [](const ::testing::TestParamInfo<Variant>& v) {
                           return std::string(v.param.link_header == 14 ? "Ethernet" : "RawIp") +
                                  (v.param.direct_access ? "" : "LoadBytesOnly");
                         });

} // namespace
} // namespace wgcap
