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
constexpr std::int16_t kKeyIfindex =
    kPeerKeySlot + static_cast<std::int16_t>(offsetof(wgcap_peer_lpm_key, ifindex));
constexpr std::int16_t kKeyAddr =
    kPeerKeySlot + static_cast<std::int16_t>(offsetof(wgcap_peer_lpm_key, addr));

// r0 = bpf_map_lookup_elem(wgcap_peers, &key).
void Lookup(Emitter& e, const EbpfFilterInputs& in) {
  e.LoadMapFd(BPF_REG_1, in.peers_map_fd);
  e.Mov64Reg(BPF_REG_2, BPF_REG_10);
  e.Alu64Imm(BPF_ADD, BPF_REG_2, kPeerKeySlot);
  e.Call(kHelperMapLookup);
}

// The key's address: the inner source on ingress, the destination on
// egress, copied from the parse's header slot; the key's ifindex field gets
// the family's bit (WGCAP_PEER_LPM_IPV4 or 0), the ifindex is or-ed in later.
void EmitKeyAddress(Emitter& e, const EbpfFilterInputs& in, Label no) {
  const bool ingress = in.sample_index == WGCAP_PROG_SAMPLE_IN;
  const Label v4 = e.NewLabel();
  const Label done = e.NewLabel();
  e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kFamilySlot);
  e.JumpImm(BPF_JEQ, true, BPF_REG_1, 4, v4);
  e.JumpImm(BPF_JNE, true, BPF_REG_1, 6, no);
  const std::int16_t v6_addr = kHeaderSlot + (ingress ? 8 : 24);
  e.StoreImm(BPF_W, BPF_REG_10, kKeyIfindex, 0);
  e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, v6_addr);
  e.Store(BPF_DW, BPF_REG_10, kKeyAddr, BPF_REG_1);
  e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, v6_addr + 8);
  e.Store(BPF_DW, BPF_REG_10, kKeyAddr + 8, BPF_REG_1);
  e.Goto(done);
  e.Bind(v4);
  // ::ffff:a.b.c.d, bytes 10 and 11 0xff, as they lie in memory.
  const std::uint8_t mapped_bytes[4] = {0, 0, 0xff, 0xff};
  std::int32_t mapped;
  std::memcpy(&mapped, mapped_bytes, 4);
  e.StoreImm(BPF_W, BPF_REG_10, kKeyIfindex, static_cast<std::int32_t>(WGCAP_PEER_LPM_IPV4));
  e.StoreImm(BPF_DW, BPF_REG_10, kKeyAddr, 0);
  e.StoreImm(BPF_W, BPF_REG_10, kKeyAddr + 8, mapped);
  e.Load(BPF_W, BPF_REG_1, BPF_REG_10, kHeaderSlot + (ingress ? 12 : 16));
  e.Store(BPF_W, BPF_REG_10, kKeyAddr + 12, BPF_REG_1);
  e.Bind(done);
}

} // namespace

void EmitPeer(Emitter& e, const Term& term, const EbpfFilterInputs& in, Label yes, Label no) {
  EmitKeyAddress(e, in, no);
  e.StoreImm(BPF_W, BPF_REG_10, kPeerKeySlot, kFullPrefix);
  // This interface's peers first, then those for every interface (ifindex
  // 0): PeerDirectory::Lookup's order, so a longer prefix of the fallback
  // never beats the interface's own.
  const Label found = e.NewLabel();
  e.Load(BPF_W, BPF_REG_1, kSkb, offsetof(__sk_buff, ifindex));
  e.Load(BPF_W, BPF_REG_2, BPF_REG_10, kKeyIfindex);
  e.Alu32Reg(BPF_OR, BPF_REG_1, BPF_REG_2);
  e.Store(BPF_W, BPF_REG_10, kKeyIfindex, BPF_REG_1);
  Lookup(e, in);
  e.JumpImm(BPF_JNE, true, BPF_REG_0, 0, found);
  e.Load(BPF_W, BPF_REG_1, BPF_REG_10, kKeyIfindex);
  e.Alu32Imm(BPF_AND, BPF_REG_1, static_cast<std::int32_t>(WGCAP_PEER_LPM_IPV4));
  e.Store(BPF_W, BPF_REG_10, kKeyIfindex, BPF_REG_1);
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
