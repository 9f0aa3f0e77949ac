// SPDX-License-Identifier: Apache-2.0
// The parse of the generated filter, rule for rule as
// userspace/packet_parse.cpp: the fixed IPv4/IPv6 header, the IPv6
// extension walk (at most 8 headers, unrolled), the IPv4 AH walk for
// protochain, and the ports. Only what the expression needs is emitted.
//
// Packet bytes reach the stack either straight from the skb's linear data
// (constant offsets, a bounds check against data_end) or through
// bpf_skb_load_bytes, which also reads non-linear skbs and fails cleanly past
// the end: a failed read is an absent field, never a dropped verdict.
// Offsets that depend on the packet (IHL, the walk) always go through the
// helper: the restricted verifier refuses variable offsets on packet
// pointers.
#include <linux/bpf.h>

#include <cstddef>

#include "filter/ebpf_layout.hpp"

namespace wgcap::ebpf {
namespace {

constexpr int kIpv6MaxExtensions = 8;

void EmitHelperCopy(Emitter& e, const EbpfFilterInputs& in, int offset_reg, std::uint32_t offset,
                    std::uint32_t len, std::int16_t slot, Label fail) {
  // The helper writes its bytes one by one to the verifier; without
  // CAP_PERFMON, 5.10 and 6.1 refuse a partial write over a spilled
  // register ("attempt to corrupt spilled pointer on stack"), and a direct
  // copy on this path may have left one there. Zeroed slots take any write.
  for (std::uint32_t k = 0; k < len; k += 8) {
    e.StoreImm(BPF_DW, BPF_REG_10, static_cast<std::int16_t>(slot + static_cast<std::int32_t>(k)),
               0);
  }
  e.Mov64Reg(BPF_REG_1, kSkb);
  if (offset_reg >= 0) {
    e.Mov64Reg(BPF_REG_2, offset_reg);
    if (in.link_header != 0) {
      e.Alu64Imm(BPF_ADD, BPF_REG_2, static_cast<std::int32_t>(in.link_header));
    }
  } else {
    e.Mov64Imm(BPF_REG_2, static_cast<std::int32_t>(in.link_header + offset));
  }
  e.Mov64Reg(BPF_REG_3, BPF_REG_10);
  e.Alu64Imm(BPF_ADD, BPF_REG_3, slot);
  e.Mov64Imm(BPF_REG_4, static_cast<std::int32_t>(len));
  e.Call(kHelperSkbLoadBytes);
  e.JumpImm(BPF_JNE, true, BPF_REG_0, 0, fail);
}

// A copy of `reg` in r5 that the verifier does not link to it: what a
// comparison teaches it about r5 (next == 44) then stays on r5, instead of
// making the register, and every slot it was stored in, a constant on that
// path. Such constants would split the states after the parse per
// protocol and per extension type (tcp/udp/sctp each a path of its own).
void EmitUnlinked(Emitter& e, int reg) {
  e.Mov64Reg(BPF_REG_5, reg);
  e.Alu64Imm(BPF_AND, BPF_REG_5, -1); // an ALU operation drops the register's link
}

// slot = min(reg, kLength): the bytes read, never past the packet.
void StoreExtentAtMost(Emitter& e, int reg) {
  const Label within = e.NewLabel();
  e.Mov64Reg(BPF_REG_1, reg);
  e.JumpReg(BPF_JLE, true, BPF_REG_1, kLength, within);
  e.Mov64Reg(BPF_REG_1, kLength);
  e.Bind(within);
  e.Store(BPF_DW, BPF_REG_10, kExtentSlot, BPF_REG_1);
}

// ExtensionHeaderBit(kWalkNext) ORed into the extensions slot, without a
// branch: a constant per path would make every set of headers a verifier
// state of its own (bpf/DESIGN.md). Bit `type` of a mask says whether the
// type is one of the five; three masks hold the bit's index (0 -> 0, 43 -> 1,
// 44 -> 2, 60 -> 3, 51 -> 4).
void EmitOrExtensionBit(Emitter& e) {
  const auto mask_bit = [&e](int dst, std::uint64_t mask) {
    bpf_insn lo{};
    lo.code = BPF_LD | BPF_DW | BPF_IMM;
    lo.dst_reg = static_cast<std::uint8_t>(dst);
    lo.imm = static_cast<std::int32_t>(mask & 0xffffffffu);
    bpf_insn hi{};
    hi.imm = static_cast<std::int32_t>(mask >> 32);
    e.Emit(lo);
    e.Emit(hi);
    e.Alu64Reg(BPF_RSH, dst, BPF_REG_1);
    e.Alu64Imm(BPF_AND, dst, 1);
  };
  e.Mov64Reg(BPF_REG_1, kWalkNext);
  e.Alu64Imm(BPF_AND, BPF_REG_1, 63);
  e.Mov64Reg(BPF_REG_2, kWalkNext); // all ones when next < 64, else 0
  e.Alu64Imm(BPF_RSH, BPF_REG_2, 6);
  e.Alu64Imm(BPF_ADD, BPF_REG_2, 3);
  e.Alu64Imm(BPF_RSH, BPF_REG_2, 2);
  e.Alu64Imm(BPF_SUB, BPF_REG_2, 1);
  mask_bit(BPF_REG_3, 1ull << 0 | 1ull << 43 | 1ull << 44 | 1ull << 51 | 1ull << 60);
  e.Alu64Reg(BPF_AND, BPF_REG_3, BPF_REG_2);
  mask_bit(BPF_REG_4, 1ull << 43 | 1ull << 60);
  mask_bit(BPF_REG_5, 1ull << 44 | 1ull << 60);
  e.Alu64Imm(BPF_LSH, BPF_REG_5, 1);
  e.Alu64Reg(BPF_OR, BPF_REG_4, BPF_REG_5);
  mask_bit(BPF_REG_5, 1ull << 51);
  e.Alu64Imm(BPF_LSH, BPF_REG_5, 2);
  e.Alu64Reg(BPF_OR, BPF_REG_4, BPF_REG_5);
  e.Alu64Reg(BPF_LSH, BPF_REG_3, BPF_REG_4);
  e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kExtensionsSlot);
  e.Alu64Reg(BPF_OR, BPF_REG_1, BPF_REG_3);
  e.Store(BPF_DW, BPF_REG_10, kExtensionsSlot, BPF_REG_1);
}

// Ports of a TCP, UDP or SCTP header at kWalkOffset (protocol in
// kWalkNext), when 4 bytes of it are in the packet. `usual` is the offset
// most packets have (20, 40): read straight from the linear data there.
void EmitPorts(Emitter& e, const EbpfFilterInputs& in, std::uint32_t usual, Label done) {
  const Label has = e.NewLabel();
  EmitUnlinked(e, kWalkNext);
  e.JumpImm(BPF_JEQ, true, BPF_REG_5, 6, has);
  e.JumpImm(BPF_JEQ, true, BPF_REG_5, 17, has);
  e.JumpImm(BPF_JNE, true, BPF_REG_5, 132, done);
  e.Bind(has);
  e.Mov64Reg(BPF_REG_1, kWalkOffset);
  e.Alu64Imm(BPF_ADD, BPF_REG_1, 4);
  e.JumpReg(BPF_JGT, true, BPF_REG_1, kLength, done);
  if (in.direct_access) {
    const Label other = e.NewLabel();
    const Label read = e.NewLabel();
    EmitUnlinked(e, kWalkOffset);
    e.JumpImm(BPF_JNE, true, BPF_REG_5, static_cast<std::int32_t>(usual), other);
    EmitCopyConst(e, in, usual, 4, kScratchSlot, done);
    e.Goto(read);
    e.Bind(other);
    EmitCopyVar(e, in, kWalkOffset, 4, kScratchSlot, done);
    e.Bind(read);
  } else {
    EmitCopyVar(e, in, kWalkOffset, 4, kScratchSlot, done);
  }
  for (const auto& [at, slot] : {std::pair{0, kSrcPortSlot}, std::pair{2, kDstPortSlot}}) {
    e.Load(BPF_H, BPF_REG_1, BPF_REG_10, static_cast<std::int16_t>(kScratchSlot + at));
    e.ToBigEndian(BPF_REG_1, 16);
    e.Store(BPF_DW, BPF_REG_10, slot, BPF_REG_1);
  }
  e.Mov64Reg(BPF_REG_1, kWalkOffset);
  e.Alu64Imm(BPF_ADD, BPF_REG_1, 4);
  e.Store(BPF_DW, BPF_REG_10, kExtentSlot, BPF_REG_1);
}

// packet_parse.cpp's WalkIpv4Ah: AH headers behind the IPv4 header (at most
// 8), for protochain only. Entered with kWalkNext == 51.
void EmitIpv4AhWalk(Emitter& e, const EbpfFilterInputs& in, Label done) {
  e.StoreImm(BPF_DW, BPF_REG_10, kExtensionsSlot, 1 << 4); // ExtensionHeaderBit(51)
  for (int i = 0; i < kIpv6MaxExtensions; ++i) {
    e.Mov64Reg(BPF_REG_1, kWalkOffset);
    e.Alu64Imm(BPF_ADD, BPF_REG_1, 2);
    e.JumpReg(BPF_JGT, true, BPF_REG_1, kLength, done);
    EmitCopyVar(e, in, kWalkOffset, 2, kScratchSlot, done);
    e.Load(BPF_B, kWalkNext, BPF_REG_10, kScratchSlot);
    e.Load(BPF_B, BPF_REG_1, BPF_REG_10, kScratchSlot + 1);
    e.Alu64Imm(BPF_ADD, BPF_REG_1, 2);
    e.Alu64Imm(BPF_LSH, BPF_REG_1, 2);
    e.Alu64Reg(BPF_ADD, kWalkOffset, BPF_REG_1);
    e.Store(BPF_DW, BPF_REG_10, kChainSlot, kWalkNext);
    StoreExtentAtMost(e, kWalkOffset);
    EmitUnlinked(e, kWalkNext);
    e.JumpImm(BPF_JNE, true, BPF_REG_5, 51, done);
  }
  e.Goto(done);
}

void EmitIpv4(Emitter& e, const ParseNeeds& needs, const EbpfFilterInputs& in, Label done) {
  e.Load(BPF_B, kWalkOffset, BPF_REG_10, kHeaderSlot);
  e.Alu64Imm(BPF_AND, kWalkOffset, 0x0f);
  e.Alu64Imm(BPF_LSH, kWalkOffset, 2);
  e.JumpImm(BPF_JLT, true, kWalkOffset, 20, done);
  e.JumpReg(BPF_JGT, true, kWalkOffset, kLength, done);
  e.StoreImm(BPF_DW, BPF_REG_10, kFamilySlot, 4);
  e.Store(BPF_DW, BPF_REG_10, kExtentSlot, kWalkOffset);
  if (!needs.protocol) {
    return;
  }
  e.Load(BPF_B, kWalkNext, BPF_REG_10, kHeaderSlot + 9);
  e.Store(BPF_DW, BPF_REG_10, kProtocolSlot, kWalkNext);
  if (needs.chain) {
    e.Store(BPF_DW, BPF_REG_10, kChainSlot, kWalkNext);
  }
  // A later fragment has neither ports nor a chain to walk. The offset's
  // 13 bits as they lie in a little-endian load of bytes 6-7.
  e.Load(BPF_H, BPF_REG_1, BPF_REG_10, kHeaderSlot + 6);
  e.Alu64Imm(BPF_AND, BPF_REG_1, 0xff1f);
  e.JumpImm(BPF_JNE, true, BPF_REG_1, 0, done);
  if (needs.transport) {
    e.Store(BPF_DW, BPF_REG_10, kTransportSlot, kWalkOffset);
  }
  if (needs.chain) {
    const Label no_ah = e.NewLabel();
    EmitUnlinked(e, kWalkNext);
    e.JumpImm(BPF_JNE, true, BPF_REG_5, 51, no_ah);
    EmitIpv4AhWalk(e, in, done); // AH has no ports
    e.Bind(no_ah);
  }
  if (needs.ports) {
    EmitPorts(e, in, 20, done);
  }
}

// One header of the IPv6 extension walk: kWalkNext is its type,
// kWalkOffset where it starts.
void EmitIpv6Step(Emitter& e, const ParseNeeds& needs, const EbpfFilterInputs& in, Label walk_done,
                  Label cut, Label later_fragment) {
  if (needs.chain) {
    EmitOrExtensionBit(e); // also for a header the walk cannot read
  }
  const Label fragment = e.NewLabel();
  const Label other = e.NewLabel();
  const Label step_end = e.NewLabel();
  EmitUnlinked(e, kWalkNext);
  e.JumpImm(BPF_JEQ, true, BPF_REG_5, 44, fragment);
  e.JumpImm(BPF_JEQ, true, BPF_REG_5, 0, other);
  e.JumpImm(BPF_JEQ, true, BPF_REG_5, 43, other);
  e.JumpImm(BPF_JEQ, true, BPF_REG_5, 60, other);
  e.JumpImm(BPF_JNE, true, BPF_REG_5, 51, walk_done);
  e.Bind(other);
  e.Mov64Reg(BPF_REG_1, kWalkOffset);
  e.Alu64Imm(BPF_ADD, BPF_REG_1, 2);
  e.JumpReg(BPF_JGT, true, BPF_REG_1, kLength, cut);
  EmitCopyVar(e, in, kWalkOffset, 2, kScratchSlot, cut);
  e.Load(BPF_B, BPF_REG_1, BPF_REG_10, kScratchSlot + 1);
  // AH counts 4-byte units less 2, the others 8-byte units less 1.
  const Label ah = e.NewLabel();
  const Label sized = e.NewLabel();
  EmitUnlinked(e, kWalkNext);
  e.JumpImm(BPF_JEQ, true, BPF_REG_5, 51, ah);
  e.Alu64Imm(BPF_ADD, BPF_REG_1, 1);
  e.Alu64Imm(BPF_LSH, BPF_REG_1, 3);
  e.Goto(sized);
  e.Bind(ah);
  e.Alu64Imm(BPF_ADD, BPF_REG_1, 2);
  e.Alu64Imm(BPF_LSH, BPF_REG_1, 2);
  e.Bind(sized);
  e.Alu64Reg(BPF_ADD, kWalkOffset, BPF_REG_1);
  e.Load(BPF_B, kWalkNext, BPF_REG_10, kScratchSlot);
  e.Goto(step_end);

  e.Bind(fragment);
  e.Mov64Reg(BPF_REG_1, kWalkOffset);
  e.Alu64Imm(BPF_ADD, BPF_REG_1, 8);
  e.JumpReg(BPF_JGT, true, BPF_REG_1, kLength, cut);
  EmitCopyVar(e, in, kWalkOffset, 8, kScratchSlot, cut);
  e.Alu64Imm(BPF_ADD, kWalkOffset, 8);
  e.Load(BPF_B, kWalkNext, BPF_REG_10, kScratchSlot);
  // The fragment offset's 13 bits in a little-endian load of bytes 2-3: a
  // later fragment carries payload, not headers.
  e.Load(BPF_H, BPF_REG_1, BPF_REG_10, kScratchSlot + 2);
  e.Alu64Imm(BPF_AND, BPF_REG_1, 0xf8ff);
  e.JumpImm(BPF_JNE, true, BPF_REG_1, 0, later_fragment);
  e.Bind(step_end);
}

void EmitIpv6Walk(Emitter& e, const ParseNeeds& needs, const EbpfFilterInputs& in, Label done) {
  const Label walk_done = e.NewLabel();
  const Label cut = e.NewLabel();
  const Label later_fragment = e.NewLabel();
  e.Load(BPF_B, kWalkNext, BPF_REG_10, kHeaderSlot + 6);
  e.Mov64Imm(kWalkOffset, 40);
  for (int i = 0; i < kIpv6MaxExtensions; ++i) {
    EmitIpv6Step(e, needs, in, walk_done, cut, later_fragment);
  }
  // Past 8 headers: the walk cannot finish if the next is one more.
  if (needs.chain) {
    EmitOrExtensionBit(e);
  }
  EmitUnlinked(e, kWalkNext);
  for (int type : {0, 43, 44, 60, 51}) {
    e.JumpImm(BPF_JEQ, true, BPF_REG_5, type, cut);
  }
  e.Bind(walk_done);
  e.Store(BPF_DW, BPF_REG_10, kProtocolSlot, kWalkNext);
  if (needs.chain) {
    e.Store(BPF_DW, BPF_REG_10, kChainSlot, kWalkNext);
  }
  if (needs.transport) {
    e.Store(BPF_DW, BPF_REG_10, kTransportSlot, kWalkOffset);
  }
  StoreExtentAtMost(e, kWalkOffset);
  if (needs.ports) {
    EmitPorts(e, in, 40, done);
  }
  e.Goto(done);

  // The walk cannot finish: the protocol is the last Next Header read. A
  // later fragment: the header's Next Header; its extent is the header's end.
  e.Bind(cut);
  e.Bind(later_fragment);
  StoreExtentAtMost(e, kWalkOffset);
  e.Store(BPF_DW, BPF_REG_10, kProtocolSlot, kWalkNext);
  if (needs.chain) {
    e.Store(BPF_DW, BPF_REG_10, kChainSlot, kWalkNext);
  }
  e.Goto(done);
}

void EmitDefaults(Emitter& e, const ParseNeeds& needs) {
  e.StoreImm(BPF_DW, BPF_REG_10, kFamilySlot, 0);
  e.StoreImm(BPF_DW, BPF_REG_10, kExtentSlot, 0);
  if (needs.protocol) {
    e.StoreImm(BPF_DW, BPF_REG_10, kProtocolSlot, kAbsent);
  }
  if (needs.chain) {
    e.StoreImm(BPF_DW, BPF_REG_10, kChainSlot, kAbsent);
    e.StoreImm(BPF_DW, BPF_REG_10, kExtensionsSlot, 0);
  }
  if (needs.ports) {
    e.StoreImm(BPF_DW, BPF_REG_10, kSrcPortSlot, kAbsentPort);
    e.StoreImm(BPF_DW, BPF_REG_10, kDstPortSlot, kAbsentPort);
  }
  if (needs.transport) {
    e.StoreImm(BPF_DW, BPF_REG_10, kTransportSlot, kAbsent);
  }
  if (needs.addresses) {
    // Without CAP_PERFMON, 5.10 and 6.1 also verify the mispredicted side
    // of each family test: an IPv6 address read on a path that copied an
    // IPv4 header, or none. The header must be initialised on every path.
    for (int k = 0; k < 40; k += 8) {
      e.StoreImm(BPF_DW, BPF_REG_10, static_cast<std::int16_t>(kHeaderSlot + k), 0);
    }
  }
}

} // namespace

void EmitCopyConst(Emitter& e, const EbpfFilterInputs& in, std::uint32_t offset, std::uint32_t len,
                   std::int16_t slot, Label fail) {
  if (!in.direct_access) {
    EmitHelperCopy(e, in, -1, offset, len, slot, fail);
    return;
  }
  const Label helper = e.NewLabel();
  const Label done = e.NewLabel();
  const auto at = static_cast<std::int32_t>(in.link_header + offset);
  e.Load(BPF_W, BPF_REG_1, kSkb, offsetof(__sk_buff, data));
  e.Load(BPF_W, BPF_REG_2, kSkb, offsetof(__sk_buff, data_end));
  e.Mov64Reg(BPF_REG_3, BPF_REG_1);
  e.Alu64Imm(BPF_ADD, BPF_REG_3, at + static_cast<std::int32_t>(len));
  e.JumpReg(BPF_JGT, true, BPF_REG_3, BPF_REG_2, helper);
  // Whole 8-byte stack slots only (`slot` is 8-aligned, and the bytes past
  // `len` in the last one are the caller's to ignore): a narrower store
  // would leave a partly spilled slot that a later write into it cannot
  // change without CAP_PERFMON on 5.10 and 6.1. Packet loads need no
  // alignment.
  for (std::uint32_t k = 0; k < len; k += 8) {
    const std::uint32_t left = len - k;
    const std::uint8_t size = left >= 8 ? BPF_DW : left >= 4 ? BPF_W : left >= 2 ? BPF_H : BPF_B;
    e.Load(size, BPF_REG_3, BPF_REG_1,
           static_cast<std::int16_t>(at + static_cast<std::int32_t>(k)));
    e.Store(BPF_DW, BPF_REG_10, static_cast<std::int16_t>(slot + static_cast<std::int32_t>(k)),
            BPF_REG_3);
  }
  e.Goto(done);
  e.Bind(helper);
  EmitHelperCopy(e, in, -1, offset, len, slot, fail);
  e.Bind(done);
}

void EmitCopyVar(Emitter& e, const EbpfFilterInputs& in, int offset_reg, std::uint32_t len,
                 std::int16_t slot, Label fail) {
  EmitHelperCopy(e, in, offset_reg, 0, len, slot, fail);
}

void EmitParse(Emitter& e, const ParseNeeds& needs, const EbpfFilterInputs& in) {
  if (!needs.length && !needs.ip) {
    return;
  }
  e.Comment("parse: network-layer length");
  e.Load(BPF_W, kLength, kSkb, offsetof(__sk_buff, len));
  if (in.link_header != 0) {
    const Label long_enough = e.NewLabel();
    e.JumpImm(BPF_JGE, true, kLength, static_cast<std::int32_t>(in.link_header), long_enough);
    e.Mov64Imm(kLength, static_cast<std::int32_t>(in.link_header));
    e.Bind(long_enough);
    e.Alu64Imm(BPF_SUB, kLength, static_cast<std::int32_t>(in.link_header));
  }
  if (!needs.ip) {
    return;
  }
  e.Comment("parse: IP header");
  EmitDefaults(e, needs);
  const Label done = e.NewLabel();
  const Label not4 = e.NewLabel();
  // Shorter than an IPv4 header: no family (packet_parse.cpp).
  e.JumpImm(BPF_JLT, true, kLength, 20, done);
  EmitCopyConst(e, in, 0, 20, kHeaderSlot, done);
  e.Load(BPF_B, BPF_REG_1, BPF_REG_10, kHeaderSlot);
  e.Alu64Imm(BPF_RSH, BPF_REG_1, 4);
  e.JumpImm(BPF_JNE, true, BPF_REG_1, 4, not4);
  EmitIpv4(e, needs, in, done);
  e.Goto(done);
  e.Bind(not4);
  e.JumpImm(BPF_JNE, true, BPF_REG_1, 6, done);
  e.JumpImm(BPF_JLT, true, kLength, 40, done);
  EmitCopyConst(e, in, 0, 40, kHeaderSlot, done); // whole slots (see EmitCopyConst)
  e.StoreImm(BPF_DW, BPF_REG_10, kFamilySlot, 6);
  e.StoreImm(BPF_DW, BPF_REG_10, kExtentSlot, 40);
  if (needs.protocol) {
    EmitIpv6Walk(e, needs, in, done);
  }
  e.Bind(done);
}

} // namespace wgcap::ebpf
