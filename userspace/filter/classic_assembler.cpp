// SPDX-License-Identifier: Apache-2.0
#include "filter/classic_assembler.hpp"

#include <stdexcept>

namespace wgcap::classic {
namespace {

constexpr std::size_t kMaxConditionalOffset = 255;
constexpr std::size_t kUnbound = SIZE_MAX;

} // namespace

Label Assembler::NewLabel() {
  label_at_.push_back(kUnbound);
  return static_cast<Label>(label_at_.size() - 1);
}

void Assembler::Bind(Label label) {
  label_at_[static_cast<std::size_t>(label)] = insns_.size();
}

Label Assembler::AfterNext() {
  const Label l = NewLabel();
  after_next_.push_back(l);
  return l;
}

void Assembler::Emitted() {
  for (Label l : after_next_) {
    label_at_[static_cast<std::size_t>(l)] = insns_.size();
  }
  after_next_.clear();
}

void Assembler::Emit(std::uint16_t code, std::uint32_t k) {
  insns_.push_back(Insn{code, k});
  Emitted();
}

void Assembler::Jump(std::uint16_t code, std::uint32_t k, Label if_true, Label if_false) {
  insns_.push_back(Insn{code, k, if_true, if_false});
  Emitted();
}

void Assembler::Goto(Label target) {
  insns_.push_back(Insn{static_cast<std::uint16_t>(BPF_JMP | BPF_JA), 0, target, kNext, true});
  Emitted();
}

// The program being laid out: each instruction with the labels bound to it.
// A conditional jump whose target is beyond its 8-bit offset gets
// trampolines, which moves everything after it, so the layout repeats until
// every jump reaches.
struct Assembler::Layout {
  struct Slot {
    Insn insn;
    std::vector<Label> labels; // labels bound to this instruction
  };
  std::vector<Slot> code;
  Label next_label;
  std::vector<std::size_t> position; // label -> index in `code`, after Locate

  Layout(const std::vector<Insn>& insns, const std::vector<std::size_t>& label_at)
      : next_label(static_cast<Label>(label_at.size())) {
    code.reserve(insns.size());
    for (const Insn& insn : insns) {
      code.push_back(Slot{insn, {}});
    }
    for (std::size_t l = 0; l < label_at.size(); ++l) {
      if (label_at[l] >= code.size()) {
        throw std::logic_error("classic assembler: label bound past the end or never bound");
      }
      code[label_at[l]].labels.push_back(static_cast<Label>(l));
    }
  }

  void Locate() {
    position.assign(static_cast<std::size_t>(next_label), kUnbound);
    for (std::size_t i = 0; i < code.size(); ++i) {
      for (Label l : code[i].labels) {
        position[static_cast<std::size_t>(l)] = i;
      }
    }
  }

  std::size_t Distance(std::size_t from, Label target) const {
    if (target == kNext) {
      return 0;
    }
    const std::size_t to = position[static_cast<std::size_t>(target)];
    if (to == kUnbound || to <= from) {
      throw std::logic_error("classic assembler: backward or dangling jump");
    }
    return to - from - 1;
  }

  // The first conditional jump with a side out of reach (and which sides),
  // or kUnbound.
  std::size_t FarJump(bool& far_true, bool& far_false) const {
    for (std::size_t i = 0; i < code.size(); ++i) {
      const Insn& insn = code[i].insn;
      if (insn.is_goto || BPF_CLASS(insn.code) != BPF_JMP) {
        continue;
      }
      far_true = Distance(i, insn.jt) > kMaxConditionalOffset;
      far_false = Distance(i, insn.jf) > kMaxConditionalOffset;
      if (far_true || far_false) {
        return i;
      }
    }
    return kUnbound;
  }

  void Encode(std::vector<sock_filter>& out) const {
    out.clear();
    out.reserve(code.size());
    for (std::size_t i = 0; i < code.size(); ++i) {
      const Insn& insn = code[i].insn;
      sock_filter f{insn.code, 0, 0, insn.k};
      if (insn.is_goto) {
        f.k = static_cast<std::uint32_t>(Distance(i, insn.jt));
      } else if (BPF_CLASS(insn.code) == BPF_JMP) {
        f.jt = static_cast<std::uint8_t>(Distance(i, insn.jt));
        f.jf = static_cast<std::uint8_t>(Distance(i, insn.jf));
      }
      out.push_back(f);
    }
  }

  // jcond k, T, F  ->  jcond k, t1, t2; t1: ja T; t2: ja F (only the far
  // sides get a trampoline). A fall-through side becomes an explicit label
  // first, since the trampolines now follow the jump.
  void AddTrampolines(std::size_t far_at, bool far_true, bool far_false) {
    if (far_at + 1 >= code.size()) {
      throw std::logic_error("classic assembler: conditional jump at the end");
    }
    auto explicit_target = [&](Label t) {
      if (t != kNext) {
        return t;
      }
      const Label l = next_label++;
      code[far_at + 1].labels.push_back(l);
      return l;
    };
    const Label t = explicit_target(code[far_at].insn.jt);
    const Label f = explicit_target(code[far_at].insn.jf);
    std::vector<Slot> trampolines;
    auto trampoline = [&](Label target) {
      const Label l = next_label++;
      trampolines.push_back(
          Slot{Insn{static_cast<std::uint16_t>(BPF_JMP | BPF_JA), 0, target, kNext, true}, {l}});
      return l;
    };
    code[far_at].insn.jt = far_true ? trampoline(t) : t;
    code[far_at].insn.jf = far_false ? trampoline(f) : f;
    code.insert(code.begin() + static_cast<std::ptrdiff_t>(far_at) + 1, trampolines.begin(),
                trampolines.end());
  }
};

bool Assembler::Finish(std::vector<sock_filter>& out, std::size_t max_instructions) const {
  Layout layout(insns_, label_at_);
  for (;;) {
    if (layout.code.size() > max_instructions) {
      return false;
    }
    layout.Locate();
    bool far_true = false;
    bool far_false = false;
    const std::size_t far_at = layout.FarJump(far_true, far_false);
    if (far_at == kUnbound) {
      layout.Encode(out);
      return true;
    }
    layout.AddTrampolines(far_at, far_true, far_false);
  }
}

} // namespace wgcap::classic
