// SPDX-License-Identifier: Apache-2.0
// An eBPF instruction builder with labels that may only be jumped to
// forwards: the generated filter is straight-line code, so every jump is
// emitted before its label is bound and patched when it is.
#pragma once

#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace wgcap::ebpf {

// A jump target. `Next()` means "the instruction after the code being
// emitted": the caller falls through there.
struct Label {
  int id = -1;
  bool next() const noexcept { return id < 0; }
  static Label Next() noexcept { return Label{}; }
};

class Emitter {
public:
  Label NewLabel();
  // Binds `label` here and patches every jump to it. A jump to the very next
  // instruction is dropped rather than emitted.
  void Bind(Label label);

  void Emit(const bpf_insn& insn);
  void Alu64Imm(std::uint8_t op, int dst, std::int32_t imm);
  void Alu64Reg(std::uint8_t op, int dst, int src);
  void Alu32Imm(std::uint8_t op, int dst, std::int32_t imm);
  void Alu32Reg(std::uint8_t op, int dst, int src);
  void Mov64Imm(int dst, std::int32_t imm) { Alu64Imm(BPF_MOV, dst, imm); }
  void Mov64Reg(int dst, int src) { Alu64Reg(BPF_MOV, dst, src); }
  void Mov32Imm(int dst, std::int32_t imm) { Alu32Imm(BPF_MOV, dst, imm); }
  void Load(std::uint8_t size, int dst, int src, std::int16_t off);  // dst = *(size *)(src + off)
  void Store(std::uint8_t size, int dst, std::int16_t off, int src); // *(size *)(dst + off) = src
  void StoreImm(std::uint8_t size, int dst, std::int16_t off, std::int32_t imm);
  void ToBigEndian(int dst, int bits);
  void LoadMapFd(int dst, int fd);
  void LoadImm64(int dst, std::uint64_t value); // BPF_LD_IMM64, two instructions
  void Call(int helper);
  void Exit();

  void Goto(Label target);
  // if (dst op imm) goto target; `wide` compares 64 bits, else the low 32.
  void JumpImm(std::uint8_t op, bool wide, int dst, std::int32_t imm, Label target);
  void JumpReg(std::uint8_t op, bool wide, int dst, int src, Label target);
  // if (dst op imm) goto on_true else goto on_false; either may be Next().
  void Branch(std::uint8_t op, bool wide, int dst, std::int32_t imm, Label on_true, Label on_false);

  // A comment shown above the next instruction by the disassembler.
  void Comment(std::string text);

  std::size_t size() const noexcept { return insns_.size(); }
  // The instructions; fails (returns false) if a label was jumped to and
  // never bound.
  bool Finish(std::vector<bpf_insn>& insns,
              std::vector<std::pair<std::size_t, std::string>>& comments);

private:
  struct Fixup {
    std::size_t at;
    int label;
  };
  std::vector<bpf_insn> insns_;
  std::vector<Fixup> fixups_;      // unpatched jumps
  std::vector<std::size_t> bound_; // label -> instruction index, or npos
  std::vector<std::pair<std::size_t, std::string>> comments_;
  int deepest_stack_ = 0; // lowest r10 offset accessed
  bool broken_ = false;
};

// Inverse of a conditional jump operator (JEQ <-> JNE, JGT <-> JLE, ...).
std::uint8_t InverseJump(std::uint8_t op);

} // namespace wgcap::ebpf
