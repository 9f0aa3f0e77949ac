// SPDX-License-Identifier: Apache-2.0
// Emits classic BPF with symbolic jump targets and resolves them: conditional
// jumps reach at most 255 instructions ahead, so far targets get an
// unconditional trampoline (relaxation until every jump fits).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

namespace wgcap::classic {

using Label = int;
inline constexpr Label kNext = -1; // fall through to the next instruction

class Assembler {
public:
  Label NewLabel();
  void Bind(Label label); // the next emitted instruction carries the label
  // A label for the instruction after the next one emitted: the "continue"
  // side of the jump about to be emitted.
  Label AfterNext();

  void Emit(std::uint16_t code, std::uint32_t k);
  // Conditional jump: BPF_JMP | op | BPF_K (or BPF_X with k ignored).
  void Jump(std::uint16_t code, std::uint32_t k, Label if_true, Label if_false);
  void Goto(Label target);

  // Resolves labels; false when the result exceeds `max_instructions`.
  bool Finish(std::vector<sock_filter>& out, std::size_t max_instructions) const;
  std::size_t size() const noexcept { return insns_.size(); }

private:
  struct Insn {
    std::uint16_t code;
    std::uint32_t k;
    Label jt = kNext;
    Label jf = kNext;
    bool is_goto = false;
  };
  std::vector<Insn> insns_;
  void Emitted();

  std::vector<std::size_t> label_at_; // label → instruction index
  std::vector<Label> after_next_;
  struct Layout; // Finish's working state (classic_assembler.cpp)
};

} // namespace wgcap::classic
