// SPDX-License-Identifier: Apache-2.0
#include "filter/ebpf_peer.hpp"

#include <cstddef>
#include <cstring>

#include "wgcap_abi.h"

namespace wgcap::ebpf {
namespace {

// Every key is looked up at full length: 32 bits of ifindex and 128 of
// address, an IPv4 address as ::ffff:a.b.c.d (wgcap_abi.h).
constexpr std::int32_t kFullPrefix = 32 + 128;
constexpr std::int16_t kKeyAddr =
    kPeerKeySlot + static_cast<std::int16_t>(offsetof(wgcap_peer_lpm_key, addr));
// The key is written in whole 8-byte words: without CAP_PERFMON, 5.10 and
// 6.1 refuse a narrower store over a slot a register was spilled to
// (EBPF.md), and two peer terms on different verifier paths would do that.
// Word 0 is prefixlen then ifindex, which on the little-endian hosts wgcap
// runs on is prefixlen | ifindex << 32.
static_assert(offsetof(wgcap_peer_lpm_key, prefixlen) == 0 &&
              offsetof(wgcap_peer_lpm_key, ifindex) == 4);
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the key's words assume little-endian");

// r0 = bpf_map_lookup_elem(wgcap_peers, &key).
void Lookup(Emitter& e, const EbpfFilterInputs& in) {
  e.LoadMapFd(BPF_REG_1, in.peers_map_fd);
  e.Mov64Reg(BPF_REG_2, BPF_REG_10);
  e.Alu64Imm(BPF_ADD, BPF_REG_2, kPeerKeySlot);
  e.Call(kHelperMapLookup);
}

// The key's address: the inner source on ingress, the destination on
// egress, from the parse's header slot; r3 = the family's bit for the key's
// ifindex field (WGCAP_PEER_LPM_IPV4 or 0).
void EmitKeyAddress(Emitter& e, const EbpfFilterInputs& in, Label no) {
  const bool ingress = in.sample_index == WGCAP_PROG_SAMPLE_IN;
  const Label v4 = e.NewLabel();
  const Label done = e.NewLabel();
  e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kFamilySlot);
  e.JumpImm(BPF_JEQ, true, BPF_REG_1, 4, v4);
  e.JumpImm(BPF_JNE, true, BPF_REG_1, 6, no);
  const std::int16_t v6_addr = kHeaderSlot + (ingress ? 8 : 24);
  e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, v6_addr);
  e.Store(BPF_DW, BPF_REG_10, kKeyAddr, BPF_REG_1);
  e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, v6_addr + 8);
  e.Store(BPF_DW, BPF_REG_10, kKeyAddr + 8, BPF_REG_1);
  e.Mov64Imm(BPF_REG_3, 0);
  e.Goto(done);
  e.Bind(v4);
  // ::ffff:a.b.c.d: bytes 8-11 00 00 ff ff (0xffff0000 read little-endian),
  // bytes 12-15 the address as it lies in the header.
  e.StoreImm(BPF_DW, BPF_REG_10, kKeyAddr, 0);
  e.Load(BPF_W, BPF_REG_1, BPF_REG_10, kHeaderSlot + (ingress ? 12 : 16));
  e.Alu64Imm(BPF_LSH, BPF_REG_1, 32);
  e.Mov32Imm(BPF_REG_2, static_cast<std::int32_t>(0xffff0000u)); // zero-extended
  e.Alu64Reg(BPF_OR, BPF_REG_1, BPF_REG_2);
  e.Store(BPF_DW, BPF_REG_10, kKeyAddr + 8, BPF_REG_1);
  e.Mov32Imm(BPF_REG_3, static_cast<std::int32_t>(WGCAP_PEER_LPM_IPV4));
  e.Bind(done);
}

} // namespace

void EmitPeer(Emitter& e, const Term& term, const EbpfFilterInputs& in, Label yes, Label no) {
  EmitKeyAddress(e, in, no);
  // This interface's peers first, then those for every interface (ifindex
  // 0): PeerDirectory::Lookup's order, so a longer prefix of the fallback
  // never beats the interface's own.
  const Label found = e.NewLabel();
  e.Load(BPF_W, BPF_REG_1, kSkb, offsetof(__sk_buff, ifindex));
  e.Alu64Reg(BPF_OR, BPF_REG_1, BPF_REG_3);
  e.Alu64Imm(BPF_LSH, BPF_REG_1, 32);
  e.Alu64Imm(BPF_OR, BPF_REG_1, kFullPrefix);
  e.Store(BPF_DW, BPF_REG_10, kPeerKeySlot, BPF_REG_1);
  Lookup(e, in);
  e.JumpImm(BPF_JNE, true, BPF_REG_0, 0, found);
  // Keep the prefix length and the family bit, clear the ifindex.
  e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kPeerKeySlot);
  e.LoadImm64(BPF_REG_2, (std::uint64_t{WGCAP_PEER_LPM_IPV4} << 32) | 0xffffffffu);
  e.Alu64Reg(BPF_AND, BPF_REG_1, BPF_REG_2);
  e.Store(BPF_DW, BPF_REG_10, kPeerKeySlot, BPF_REG_1);
  Lookup(e, in);
  e.JumpImm(BPF_JEQ, true, BPF_REG_0, 0, no);
  e.Bind(found);
  // The 32-byte key, 8 bytes at a time as they lie in memory.
  for (std::size_t i = 0; i < sizeof term.peer_key; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, term.peer_key.data() + i, 8);
    e.Load(BPF_DW, BPF_REG_1, BPF_REG_0, static_cast<std::int16_t>(i));
    e.LoadImm64(BPF_REG_2, word);
    e.JumpReg(BPF_JNE, true, BPF_REG_1, BPF_REG_2, no);
  }
  e.Goto(yes);
}

std::string PeerGenerationError(const FilterExpression& expr, const EbpfFilterInputs& in) {
  for (const FilterNode& n : expr.nodes) {
    if (n.kind != FilterNode::Kind::Term || n.term.kind != TermKind::Peer) {
      continue;
    }
    if (!n.term.peer_resolved) {
      return "column " + std::to_string(n.column) + ": peer " + n.term.peer_text +
             ": not resolved to a key (the interface's peers were not read)";
    }
    if (in.peers_map_fd < 0) {
      return "column " + std::to_string(n.column) +
             ": peer: no peers map for the kernel filter to look in";
    }
  }
  return "";
}

} // namespace wgcap::ebpf
