// SPDX-License-Identifier: Apache-2.0
// The eBPF code generator without a kernel: the shape the verifier relies on
// (forward jumps only, landing inside the program, one exit path), only the
// parse the expression needs, and the disassembly `wgcap -d` prints. The
// verdicts themselves are checked under BPF_PROG_TEST_RUN
// (tests/privileged/ebpf_filter_test.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "filter/ebpf_filter.hpp"
#include "support/relation_builder.hpp"
#include "wgcap/filter_parser.hpp"
#include "wgcap_abi.h"

namespace wgcap {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr EbpfFilterInputs kInputs{3, 4, WGCAP_PROG_SAMPLE_OUT, 0, true};

EbpfFilter Generate(const std::string& text, EbpfFilterInputs in = kInputs) {
  auto e = ParseFilterExpression(text);
  EXPECT_TRUE(e.ok()) << text;
  return GenerateEbpfFilter(e.ok() ? *e : FilterExpression{}, in);
}

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

void ExpectStraightLine(const EbpfFilter& f, const std::string& what) {
  const auto& insns = f.instructions;
  ASSERT_FALSE(insns.empty()) << what;
  EXPECT_EQ(insns.back().code, BPF_JMP | BPF_EXIT) << what;
  for (std::size_t i = 0; i < insns.size(); ++i) {
    const std::uint8_t cls = BPF_CLASS(insns[i].code);
    const std::uint8_t op = BPF_OP(insns[i].code);
    if (insns[i].code == (BPF_LD | BPF_DW | BPF_IMM)) {
      ++i; // the second half of a 64-bit immediate
      continue;
    }
    if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_CALL || op == BPF_EXIT) {
      continue;
    }
    EXPECT_GE(insns[i].off, 0) << what << ": a backward jump at " << i;
    EXPECT_LT(i + 1 + static_cast<std::size_t>(insns[i].off), insns.size())
        << what << ": a jump out of the program at " << i;
  }
}

TEST(EbpfGenerator, JumpsOnlyForwardInsideTheProgram) {
  for (const char* text :
       {"", "ip", "tcp port 443", "not (tcp or udp) and host 192.0.2.1 or ip6 net 2001:db8::/32",
        "protochain 6 or proto 44 or ip6 protochain 51", "portrange 1000-2000 and less 1500",
        "(src host 198.51.100.1 or dst net 2001:db8:1::/48) and not greater 100"}) {
    const EbpfFilter f = Generate(text);
    EXPECT_TRUE(f.exact) << text;
    ExpectStraightLine(f, text);
  }
}

TEST(EbpfGenerator, ParsesOnlyWhatTheTermsNeed) {
  // Only the family: the fixed headers, no extension walk, no ports.
  const std::string ip = DisassembleEbpf(Generate("ip"));
  EXPECT_EQ(Count(ip, "call bpf_skb_load_bytes"), 2) << ip;
  // `tcp` walks the IPv6 chain (8 headers, the helper per header) but
  // reads no ports.
  const std::string tcp = DisassembleEbpf(Generate("tcp"));
  EXPECT_GT(Count(tcp, "call bpf_skb_load_bytes"), 16);
  EXPECT_THAT(tcp, Not(HasSubstr("be16")));
  EXPECT_THAT(DisassembleEbpf(Generate("port 53")), HasSubstr("be16"));
  // Lengths only: no packet read at all.
  const std::string less = DisassembleEbpf(Generate("less 100"));
  EXPECT_EQ(Count(less, "call bpf_skb_load_bytes"), 0) << less;
  EXPECT_THAT(less, HasSubstr("r7 = *(u32 *)(r6 +0)")); // skb->len
}

TEST(EbpfGenerator, CountsThenTailCallsTheChosenSampleProgram) {
  const EbpfFilter f = Generate("udp");
  const std::string text = DisassembleEbpf(f);
  EXPECT_THAT(text, HasSubstr("r1 = map[fd:3]")); // counters
  EXPECT_THAT(text, HasSubstr("call bpf_map_lookup_elem#1"));
  EXPECT_THAT(text, HasSubstr("r2 = map[fd:4]")); // sample programs
  EXPECT_THAT(text, HasSubstr("r3 = 0x1\n"));     // WGCAP_PROG_SAMPLE_OUT
  EXPECT_THAT(text, HasSubstr("call bpf_tail_call#12"));
  EXPECT_THAT(text, HasSubstr("*(u32 *)(r6 +48) = r1")); // skb->cb[WGCAP_CB_EXTENT]
  EXPECT_THAT(text, HasSubstr("r0 = -0x1"));
  EXPECT_EQ(Count(text, "exit"), 1);
}

TEST(EbpfGenerator, DisassemblyNamesTheTerms) {
  const std::string text = DisassembleEbpf(Generate("tcp and dst port 443 or host 192.0.2.1"));
  EXPECT_THAT(text, HasSubstr("; tcp\n"));
  EXPECT_THAT(text, HasSubstr("; dst port 443\n"));
  EXPECT_THAT(text, HasSubstr("; host 192.0.2.1\n"));
  EXPECT_THAT(text, HasSubstr("(15) if r1 == 0x6 goto pc+"));
  EXPECT_THAT(text, HasSubstr("(61) r1 = *(u32 *)(r6 +76)")); // skb->data
}

TEST(EbpfGenerator, LinkHeaderShiftsEveryPacketOffset) {
  EbpfFilterInputs ethernet = kInputs;
  ethernet.link_header = 14;
  const std::string text = DisassembleEbpf(Generate("ip", ethernet));
  EXPECT_THAT(text, HasSubstr("r7 -= 0xe"));
  EXPECT_THAT(text, HasSubstr("r2 = 0xe\n")); // the helper's offset
}

TEST(EbpfGenerator, HelperOnlyVariantHasNoDirectReads) {
  EbpfFilterInputs helper = kInputs;
  helper.direct_access = false;
  const std::string text = DisassembleEbpf(Generate("tcp port 80", helper));
  EXPECT_THAT(text, Not(HasSubstr("(r6 +76)")));
  EXPECT_THAT(text, Not(HasSubstr("(r6 +80)")));
}

TEST(EbpfGenerator, RelationTooDeepFallsBackToMatchingEverything) {
  test::AstBuilder b;
  int v = b.Const(1);
  for (int i = 0; i < 60; ++i) {
    v = b.Bin(ValueOp::Add, b.Const(1), v); // right-nested: one temporary per level
  }
  const EbpfFilter f =
      GenerateEbpfFilter(b.Finish(b.Rel(v, Relation::Equal, b.Const(61))), kInputs);
  EXPECT_FALSE(f.exact);
  EXPECT_THAT(f.note, HasSubstr("too deep"));
  ExpectStraightLine(f, "fallback");
  EXPECT_THAT(DisassembleEbpf(f), HasSubstr("call bpf_tail_call#12"));
}

TEST(EbpfGenerator, RelationsDivideAndShiftSafely) {
  test::AstBuilder b;
  const int ip0 = b.Load(LoadBase::Ip, b.Const(0));
  const int rel = b.Rel(b.Bin(ValueOp::Div, b.Len(), ip0), Relation::Equal,
                        b.Bin(ValueOp::Shl, b.Const(1), ip0));
  const EbpfFilter f = GenerateEbpfFilter(b.Finish(rel), kInputs);
  EXPECT_TRUE(f.exact);
  ExpectStraightLine(f, "relation");
  const std::string text = DisassembleEbpf(f);
  EXPECT_THAT(text, HasSubstr("if w2 == 0x0 goto")); // a zero divisor rejects the packet
  EXPECT_THAT(text, HasSubstr("if w2 > 0x1f goto")); // a shift by 32 or more gives 0
  EXPECT_THAT(text, HasSubstr("w1 /= w2"));
}

// What the parser makes of tcpdump's runbook relations (issue 21) is
// generated exactly: the kernel decides, not a pass-all fallback.
TEST(EbpfGenerator, ParsedRelationsAreExact) {
  for (const char* text : {"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
                           "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420", "ip[6:2] & 0x1fff != 0",
                           "icmp[icmptype] == icmp-echo", "ip6[6] == 58", "len > 1400",
                           "tcp port 80 and ip[0] % ip[1] ^ 3 = 1"}) {
    const EbpfFilter f = Generate(text);
    EXPECT_TRUE(f.exact) << text << ": " << f.note;
    ExpectStraightLine(f, text);
  }
}

TEST(EbpfGenerator, DisassemblesBpftoolNotation) {
  std::vector<bpf_insn> insns(3);
  insns[0].code = BPF_LDX | BPF_W | BPF_MEM;
  insns[0].dst_reg = 2;
  insns[0].src_reg = 1;
  insns[0].off = 76;
  insns[1].code = BPF_JMP32 | BPF_JGT | BPF_K;
  insns[1].dst_reg = 1;
  insns[1].imm = 20;
  insns[1].off = 1;
  insns[2].code = BPF_JMP | BPF_EXIT;
  EXPECT_EQ(DisassembleEbpf(insns), "   0: (61) r2 = *(u32 *)(r1 +76)\n"
                                    "   1: (26) if w1 > 0x14 goto pc+1\n"
                                    "   2: (95) exit\n");
}

TEST(EbpfGenerator, UnresolvedPeerIsAGenerationError) {
  test::AstBuilder b;
  const int tcp = b.Protocol(6);
  EbpfFilterInputs in = kInputs;
  in.peers_map_fd = 5;
  const EbpfFilter f = GenerateEbpfFilter(b.Finish(b.And(tcp, b.Peer({}, false, "AbCd"))), in);
  EXPECT_THAT(f.error, HasSubstr("peer AbCd"));
  EXPECT_THAT(f.error, HasSubstr("not resolved"));
  EXPECT_TRUE(f.instructions.empty());
}

TEST(EbpfGenerator, PeerWithoutThePeersMapIsAGenerationError) {
  test::AstBuilder b;
  const EbpfFilter f = GenerateEbpfFilter(b.Finish(b.Peer(PeerKey{1})), kInputs);
  EXPECT_THAT(f.error, HasSubstr("no peers map"));
  EXPECT_TRUE(f.instructions.empty());
}

// The hook's address into the key (the destination on egress, the source
// on ingress), two lookups (this interface, then ifindex 0), the 32-byte key
// compared as four 64-bit words.
TEST(EbpfGenerator, PeerLooksUpTheHooksAddressThenComparesTheKey) {
  PeerKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(i + 1);
  }
  for (const unsigned hook : {WGCAP_PROG_SAMPLE_IN, WGCAP_PROG_SAMPLE_OUT}) {
    test::AstBuilder b;
    EbpfFilterInputs in = kInputs;
    in.peers_map_fd = 5;
    in.sample_index = hook;
    const EbpfFilter f = GenerateEbpfFilter(b.Finish(b.Not(b.Peer(key))), in);
    ASSERT_TRUE(f.error.empty()) << f.error;
    EXPECT_TRUE(f.exact);
    ExpectStraightLine(f, "peer");
    const std::string text = DisassembleEbpf(f);
    EXPECT_EQ(Count(text, "= map[fd:5]"), 2) << text;
    EXPECT_THAT(text, HasSubstr("r1 = *(u32 *)(r6 +40)")); // skb->ifindex
    EXPECT_THAT(text, HasSubstr("r2 = 0x807060504030201 ll"));
    EXPECT_THAT(text, HasSubstr("r2 = 0x201f1e1d1c1b1a19 ll"));
    EXPECT_EQ(Count(text, "if r1 != r2 goto"), 4);
    // IPv4: the header slot's source (r10 -108) or destination (-104).
    EXPECT_THAT(text, HasSubstr(hook == WGCAP_PROG_SAMPLE_IN ? "r1 = *(u32 *)(r10 -108)"
                                                             : "r1 = *(u32 *)(r10 -104)"));
  }
}

} // namespace
} // namespace wgcap
