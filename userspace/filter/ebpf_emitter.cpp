// SPDX-License-Identifier: Apache-2.0
#include "filter/ebpf_emitter.hpp"

#include <algorithm>

namespace wgcap::ebpf {
namespace {

constexpr std::size_t kUnbound = static_cast<std::size_t>(-1);

bpf_insn Insn(std::uint8_t code, int dst, int src, std::int16_t off, std::int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = static_cast<std::uint8_t>(dst & 0xf);
  i.src_reg = static_cast<std::uint8_t>(src & 0xf);
  i.off = off;
  i.imm = imm;
  return i;
}

bool IsJump(const bpf_insn& i) {
  const std::uint8_t cls = BPF_CLASS(i.code);
  const std::uint8_t op = BPF_OP(i.code);
  return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}

} // namespace

std::uint8_t InverseJump(std::uint8_t op) {
  switch (op) {
  case BPF_JEQ:
    return BPF_JNE;
  case BPF_JNE:
    return BPF_JEQ;
  case BPF_JGT:
    return BPF_JLE;
  case BPF_JLE:
    return BPF_JGT;
  case BPF_JGE:
    return BPF_JLT;
  case BPF_JLT:
    return BPF_JGE;
  default:
    return 0; // JSET and the signed forms are not inverted here
  }
}

Label Emitter::NewLabel() {
  bound_.push_back(kUnbound);
  return Label{static_cast<int>(bound_.size() - 1)};
}

void Emitter::Bind(Label label) {
  if (label.next()) {
    return;
  }
  // Jumps to the instruction that follows them do nothing: drop them.
  while (!insns_.empty() && IsJump(insns_.back()) && !fixups_.empty() &&
         fixups_.back().at == insns_.size() - 1 && fixups_.back().label == label.id) {
    insns_.pop_back();
    fixups_.pop_back();
  }
  const std::size_t here = insns_.size();
  bound_[static_cast<std::size_t>(label.id)] = here;
  std::vector<Fixup> rest;
  for (const Fixup& f : fixups_) {
    if (f.label != label.id) {
      rest.push_back(f);
      continue;
    }
    const std::ptrdiff_t off =
        static_cast<std::ptrdiff_t>(here) - static_cast<std::ptrdiff_t>(f.at) - 1;
    if (off > 0x7fff) {
      broken_ = true;
    }
    insns_[f.at].off = static_cast<std::int16_t>(off);
  }
  fixups_ = std::move(rest);
}

void Emitter::Emit(const bpf_insn& insn) {
  insns_.push_back(insn);
}

void Emitter::Alu64Imm(std::uint8_t op, int dst, std::int32_t imm) {
  Emit(Insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm));
}
void Emitter::Alu64Reg(std::uint8_t op, int dst, int src) {
  Emit(Insn(BPF_ALU64 | op | BPF_X, dst, src, 0, 0));
}
void Emitter::Alu32Imm(std::uint8_t op, int dst, std::int32_t imm) {
  Emit(Insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm));
}
void Emitter::Alu32Reg(std::uint8_t op, int dst, int src) {
  Emit(Insn(BPF_ALU | op | BPF_X, dst, src, 0, 0));
}
void Emitter::Load(std::uint8_t size, int dst, int src, std::int16_t off) {
  if (src == BPF_REG_10) {
    deepest_stack_ = std::min<int>(deepest_stack_, off);
  }
  Emit(Insn(BPF_LDX | size | BPF_MEM, dst, src, off, 0));
}
void Emitter::Store(std::uint8_t size, int dst, std::int16_t off, int src) {
  if (dst == BPF_REG_10) {
    deepest_stack_ = std::min<int>(deepest_stack_, off);
  }
  Emit(Insn(BPF_STX | size | BPF_MEM, dst, src, off, 0));
}
void Emitter::StoreImm(std::uint8_t size, int dst, std::int16_t off, std::int32_t imm) {
  if (dst == BPF_REG_10) {
    deepest_stack_ = std::min<int>(deepest_stack_, off);
  }
  Emit(Insn(BPF_ST | size | BPF_MEM, dst, 0, off, imm));
}
void Emitter::ToBigEndian(int dst, int bits) {
  Emit(Insn(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bits));
}
void Emitter::LoadMapFd(int dst, int fd) {
  Emit(Insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd));
  Emit(Insn(0, 0, 0, 0, 0));
}
void Emitter::LoadImm64(int dst, std::uint64_t value) {
  Emit(Insn(BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0,
            static_cast<std::int32_t>(static_cast<std::uint32_t>(value))));
  Emit(Insn(0, 0, 0, 0, static_cast<std::int32_t>(static_cast<std::uint32_t>(value >> 32))));
}
void Emitter::Call(int helper) {
  Emit(Insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper));
}
void Emitter::Exit() {
  Emit(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

void Emitter::Goto(Label target) {
  if (target.next()) {
    return;
  }
  fixups_.push_back({insns_.size(), target.id});
  Emit(Insn(BPF_JMP | BPF_JA, 0, 0, 0, 0));
}

void Emitter::JumpImm(std::uint8_t op, bool wide, int dst, std::int32_t imm, Label target) {
  if (target.next()) {
    return;
  }
  if (bound_[static_cast<std::size_t>(target.id)] != kUnbound) {
    broken_ = true; // a backward jump: never generated
  }
  fixups_.push_back({insns_.size(), target.id});
  Emit(Insn((wide ? BPF_JMP : BPF_JMP32) | op | BPF_K, dst, 0, 0, imm));
}

void Emitter::JumpReg(std::uint8_t op, bool wide, int dst, int src, Label target) {
  if (target.next()) {
    return;
  }
  if (bound_[static_cast<std::size_t>(target.id)] != kUnbound) {
    broken_ = true;
  }
  fixups_.push_back({insns_.size(), target.id});
  Emit(Insn((wide ? BPF_JMP : BPF_JMP32) | op | BPF_X, dst, src, 0, 0));
}

void Emitter::Branch(std::uint8_t op, bool wide, int dst, std::int32_t imm, Label on_true,
                     Label on_false) {
  if (on_true.next() && on_false.next()) {
    return;
  }
  if (on_true.next()) {
    JumpImm(InverseJump(op), wide, dst, imm, on_false);
    return;
  }
  JumpImm(op, wide, dst, imm, on_true);
  Goto(on_false);
}

void Emitter::Comment(std::string text) {
  comments_.emplace_back(insns_.size(), std::move(text));
}

bool Emitter::Finish(std::vector<bpf_insn>& insns,
                     std::vector<std::pair<std::size_t, std::string>>& comments) {
  insns.clear();
  comments = comments_;
  if (deepest_stack_ < 0) {
    // The whole frame written first: every verifier state then has all of
    // it allocated. Without this, precision tracking through a state whose
    // frame was still small hit "verifier bug: stack slot 14, total slots 8"
    // (6.18) on programs that read ports.
    insns.push_back(Insn(BPF_ST | BPF_DW | BPF_MEM, BPF_REG_10, 0,
                         static_cast<std::int16_t>(deepest_stack_ & ~7), 0));
    for (auto& c : comments) {
      ++c.first;
    }
  }
  insns.insert(insns.end(), insns_.begin(), insns_.end());
  return !broken_ && fixups_.empty();
}

} // namespace wgcap::ebpf
