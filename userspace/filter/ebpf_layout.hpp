// SPDX-License-Identifier: Apache-2.0
// What the generated filter's parts agree on: registers that live through the
// whole program, the stack slots the parse fills and the terms read, and what
// the expression needs parsed.
#pragma once

#include <cstdint>

#include "filter/ebpf_emitter.hpp"
#include "filter/ebpf_filter.hpp"

namespace wgcap::ebpf {

// Live from the parse to the verdict (callee-saved: they survive helpers).
constexpr int kSkb = BPF_REG_6;    // struct __sk_buff *
constexpr int kLength = BPF_REG_7; // network-layer length (skb->len - link header)
// Free for the parse's walks (next header, offset) and the relations.
constexpr int kWalkNext = BPF_REG_8;
constexpr int kWalkOffset = BPF_REG_9;

// Stack slots, offsets from r10; every scalar slot is 8 bytes.
constexpr std::int16_t kKeySlot = -8;         // u32 0, the counter's key
constexpr std::int16_t kFamilySlot = -16;     // 0, 4 or 6
constexpr std::int16_t kProtocolSlot = -24;   // upper-layer protocol, kAbsent without
constexpr std::int16_t kChainSlot = -32;      // last Next Header of the chain, kAbsent without
constexpr std::int16_t kExtensionsSlot = -40; // ExtensionHeaderBit of each header walked
constexpr std::int16_t kSrcPortSlot = -48;    // kAbsentPort without ports
constexpr std::int16_t kDstPortSlot = -56;
constexpr std::int16_t kExtentSlot = -64;    // bytes the verdict read
constexpr std::int16_t kTransportSlot = -72; // transport header offset, kAbsent if not located
constexpr std::int16_t kScratchSlot = -80;   // 8 bytes for loads through the helper
constexpr std::int16_t kHeaderSlot = -120;   // the fixed IP header, 40 bytes
constexpr std::int16_t kTempSlots = -128;    // relation temporaries, growing down
constexpr int kMaxTemps = 40;
// struct wgcap_peer_lpm_key for a `peer` term's lookup, 24 bytes, below the
// deepest relation temporary (kTempSlots - 8 * (kMaxTemps - 1) = -440).
constexpr std::int16_t kPeerKeySlot = -472;

// Values no packet field takes, so a comparison with them is simply false.
constexpr std::int32_t kAbsent = 0x100;
constexpr std::int32_t kAbsentPort = 0x10000;

// BPF helper ids (include/uapi/linux/bpf.h).
constexpr int kHelperMapLookup = 1;
constexpr int kHelperTailCall = 12;
constexpr int kHelperSkbLoadBytes = 26;

struct ParseNeeds {
  bool ip = false;        // family: the fixed header validated
  bool addresses = false; // terms read addresses from the header slots
  bool protocol = false;  // the upper-layer protocol (the IPv6 walk)
  bool ports = false;     // source and destination port
  bool chain = false;     // extension bits and the IPv4 AH walk
  bool transport = false; // the transport header's offset (relations)
  bool length = false;    // the network-layer length in kLength
};

// Emits the parse: kLength, and the slots `needs` asks for.
void EmitParse(Emitter& e, const ParseNeeds& needs, const EbpfFilterInputs& in);

// Copies `len` packet bytes at network offset `offset` (a constant) to the
// stack at `slot` (8-aligned; len % 8 is 0, 1, 2 or 4; the rest of the last
// 8-byte slot is clobbered): straight from the linear data where it holds them, else
// with bpf_skb_load_bytes; jumps to `fail` when the packet has no such bytes.
void EmitCopyConst(Emitter& e, const EbpfFilterInputs& in, std::uint32_t offset, std::uint32_t len,
                   std::int16_t slot, Label fail);
// The same at the network offset in register `offset_reg` (not r1-r5),
// always through the helper.
void EmitCopyVar(Emitter& e, const EbpfFilterInputs& in, int offset_reg, std::uint32_t len,
                 std::int16_t slot, Label fail);

} // namespace wgcap::ebpf
