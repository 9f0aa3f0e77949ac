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

bool Assembler::Finish(std::vector<sock_filter>& out, std::size_t max_instructions) const {
  struct Slot {
    Insn insn;
    std::vector<Label> labels; // labels bound to this instruction
  };
  std::vector<Slot> code;
  code.reserve(insns_.size());
  for (const Insn& insn : insns_) {
    code.push_back(Slot{insn, {}});
  }
  auto next_label = static_cast<Label>(label_at_.size());
  for (std::size_t l = 0; l < label_at_.size(); ++l) {
    if (label_at_[l] >= code.size()) {
      throw std::logic_error("classic assembler: label bound past the end or never bound");
    }
    code[label_at_[l]].labels.push_back(static_cast<Label>(l));
  }

  for (;;) {
    if (code.size() > max_instructions) {
      return false;
    }
    std::vector<std::size_t> position(static_cast<std::size_t>(next_label), kUnbound);
    for (std::size_t i = 0; i < code.size(); ++i) {
      for (Label l : code[i].labels) {
        position[static_cast<std::size_t>(l)] = i;
      }
    }
    auto distance = [&](std::size_t from, Label target) -> std::size_t {
      if (target == kNext) {
        return 0;
      }
      const std::size_t to = position[static_cast<std::size_t>(target)];
      if (to == kUnbound || to <= from) {
        throw std::logic_error("classic assembler: backward or dangling jump");
      }
      return to - from - 1;
    };
    std::size_t far_at = kUnbound;
    bool far_true = false;
    bool far_false = false;
    for (std::size_t i = 0; i < code.size(); ++i) {
      const Insn& insn = code[i].insn;
      if (insn.is_goto || BPF_CLASS(insn.code) != BPF_JMP) {
        continue;
      }
      far_true = distance(i, insn.jt) > kMaxConditionalOffset;
      far_false = distance(i, insn.jf) > kMaxConditionalOffset;
      if (far_true || far_false) {
        far_at = i;
        break;
      }
    }
    if (far_at == kUnbound) {
      out.clear();
      out.reserve(code.size());
      for (std::size_t i = 0; i < code.size(); ++i) {
        const Insn& insn = code[i].insn;
        sock_filter f{insn.code, 0, 0, insn.k};
        if (insn.is_goto) {
          f.k = static_cast<std::uint32_t>(distance(i, insn.jt));
        } else if (BPF_CLASS(insn.code) == BPF_JMP) {
          f.jt = static_cast<std::uint8_t>(distance(i, insn.jt));
          f.jf = static_cast<std::uint8_t>(distance(i, insn.jf));
        }
        out.push_back(f);
      }
      return true;
    }
    // jcond k, T, F  →  jcond k, t1, t2; t1: ja T; t2: ja F (only the far
    // sides get a trampoline). A fall-through side becomes an explicit label
    // first, since the trampolines now follow the jump.
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
}

} // namespace wgcap::classic
