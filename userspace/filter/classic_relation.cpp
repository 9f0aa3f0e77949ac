// SPDX-License-Identifier: Apache-2.0
// First the header checks of every load (a missing header makes the relation
// false, before anything is read, as in libpcap's gen_relation), then the
// arithmetic in A with intermediate values in scratch slots, then one jump.
#include "filter/classic_relation.hpp"

#include <algorithm>

#include "filter/alu_op.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::classic {
namespace {

constexpr std::uint16_t Code(int c) {
  return static_cast<std::uint16_t>(c);
}

int SizeCode(std::uint8_t size) {
  return size == 4 ? BPF_W : size == 2 ? BPF_H : BPF_B;
}

class RelationEmitter {
public:
  RelationEmitter(Assembler& a, const FilterExpression& e, const RelationSlots& s)
      : a_(a), e_(e), s_(s) {}

  bool Emit(const Term& t, Label yes, Label no) {
    Checks(t.value_left, no);
    Checks(t.value_right, no);
    Value(t.value_left, 0);
    const ValueNode& right = e_.value(t.value_right);
    int src = BPF_K;
    std::uint32_t k = right.constant;
    if (right.kind != ValueNode::Kind::Constant) {
      src = BPF_X;
      k = 0;
      const std::uint32_t slot = Temp(0);
      a_.Emit(Code(BPF_ST), slot);
      Value(t.value_right, 1);
      a_.Emit(Code(BPF_MISC | BPF_TAX), 0);
      a_.Emit(Code(BPF_LD | BPF_MEM), slot);
    }
    auto jump = [&](int op, Label t_label, Label f_label) {
      a_.Jump(Code(BPF_JMP | op | src), k, t_label, f_label);
    };
    switch (t.relation) {
    case Relation::Equal:
      jump(BPF_JEQ, yes, no);
      break;
    case Relation::NotEqual:
      jump(BPF_JEQ, no, yes);
      break;
    case Relation::Greater:
      jump(BPF_JGT, yes, no);
      break;
    case Relation::GreaterEqual:
      jump(BPF_JGE, yes, no);
      break;
    case Relation::Less:
      jump(BPF_JGE, no, yes);
      break;
    case Relation::LessEqual:
      jump(BPF_JGT, no, yes);
      break;
    }
    return ok_;
  }

private:
  void Jeq(std::uint32_t k, Label t, Label f) { a_.Jump(Code(BPF_JMP | BPF_JEQ | BPF_K), k, t, f); }

  // Every load's header, as LoadHeader decides it: jumps to `no` when absent.
  void Checks(int index, Label no) {
    const ValueNode& v = e_.value(index);
    if (v.kind == ValueNode::Kind::Binary) {
      Checks(v.right, no);
    }
    if (v.kind == ValueNode::Kind::Constant || v.kind == ValueNode::Kind::Length) {
      return;
    }
    Checks(v.left, no);
    if (v.kind != ValueNode::Kind::Load || v.base == LoadBase::Packet) {
      return;
    }
    if (v.base != LoadBase::Transport) {
      a_.Emit(Code(BPF_LD | BPF_MEM), s_.family);
      Jeq(v.base == LoadBase::Ip ? 4 : 6, a_.AfterNext(), no);
      return;
    }
    if (const std::uint8_t family = TransportLoadFamily(v.protocol); family != 0) {
      a_.Emit(Code(BPF_LD | BPF_MEM), s_.family);
      Jeq(family, a_.AfterNext(), no);
    }
    a_.Emit(Code(BPF_LD | BPF_MEM), s_.protocol);
    Jeq(v.protocol, a_.AfterNext(), no);
    a_.Emit(Code(BPF_LD | BPF_MEM), s_.transport);
    Jeq(0, no, a_.AfterNext());
  }

  std::uint32_t Temp(std::uint32_t depth) {
    const std::uint32_t slot = s_.first_free + depth;
    if (slot >= BPF_MEMWORDS) {
      ok_ = false;
      return s_.first_free;
    }
    return slot;
  }

  // The value into A; intermediate values in Temp(depth) and above.
  void Value(int index, std::uint32_t depth) {
    const ValueNode& v = e_.value(index);
    switch (v.kind) {
    case ValueNode::Kind::Constant:
      a_.Emit(Code(BPF_LD | BPF_IMM), v.constant);
      return;
    case ValueNode::Kind::Length:
      a_.Emit(Code(BPF_LD | BPF_W | BPF_LEN), 0);
      return;
    case ValueNode::Kind::Negate:
      Value(v.left, depth);
      a_.Emit(Code(BPF_ALU | BPF_NEG), 0);
      return;
    case ValueNode::Kind::Load:
      Load(v, depth);
      return;
    case ValueNode::Kind::Binary:
      Binary(v, depth);
      return;
    }
  }

  // An offset of 2^31 or more is past any packet, but the kernel reads it
  // as a negative offset into its ancillary data or the link-layer header
  // (SKF_AD_OFF, SKF_LL_OFF): it is rejected here, as libpcap's interpreter
  // rejects it.
  void Load(const ValueNode& v, std::uint32_t depth) {
    const ValueNode& offset = e_.value(v.left);
    if (v.base != LoadBase::Transport && offset.kind == ValueNode::Kind::Constant) {
      if (offset.constant >= 0x80000000u) {
        a_.Goto(s_.reject);
        a_.Emit(Code(BPF_LD | BPF_IMM), 0); // unreachable; keeps the code shape
        return;
      }
      a_.Emit(Code(BPF_LD | SizeCode(v.size) | BPF_ABS), offset.constant);
      return;
    }
    Value(v.left, depth);
    if (v.base == LoadBase::Transport) { // header + offset, wrapping as libpcap's `add x`
      a_.Emit(Code(BPF_LDX | BPF_MEM), s_.transport);
      a_.Emit(Code(BPF_ALU | BPF_ADD | BPF_X), 0);
    }
    a_.Jump(Code(BPF_JMP | BPF_JGE | BPF_K), 0x80000000u, s_.reject, a_.AfterNext());
    a_.Emit(Code(BPF_MISC | BPF_TAX), 0);
    a_.Emit(Code(BPF_LD | SizeCode(v.size) | BPF_IND), 0);
  }

  void Binary(const ValueNode& v, std::uint32_t depth) {
    const int op = BpfAluOp(v.op);
    const ValueNode& right = e_.value(v.right);
    const bool shift = v.op == ValueOp::Shl || v.op == ValueOp::Shr;
    if (right.kind == ValueNode::Kind::Constant) { // the parser refused 0 divisors, shifts > 31
      Value(v.left, depth);
      a_.Emit(Code(BPF_ALU | op | BPF_K), right.constant);
      return;
    }
    Value(v.left, depth);
    const std::uint32_t slot = Temp(depth);
    a_.Emit(Code(BPF_ST), slot);
    Value(v.right, depth + 1);
    Label done = classic::kNext;
    if (shift) {
      // A shift by 32 or more gives 0, as libpcap's bpf_filter does; the
      // kernel would shift by the count modulo 32.
      const Label small = a_.NewLabel();
      const Label big = a_.NewLabel();
      done = a_.NewLabel();
      a_.Jump(Code(BPF_JMP | BPF_JGE | BPF_K), 32, big, small);
      a_.Bind(big);
      a_.Emit(Code(BPF_LD | BPF_IMM), 0);
      a_.Goto(done);
      a_.Bind(small);
    }
    a_.Emit(Code(BPF_MISC | BPF_TAX), 0);
    a_.Emit(Code(BPF_LD | BPF_MEM), slot);
    a_.Emit(Code(BPF_ALU | op | BPF_X), 0);
    if (shift) {
      a_.Bind(done);
    }
  }

  Assembler& a_;
  const FilterExpression& e_;
  RelationSlots s_;
  bool ok_ = true;
};

} // namespace

bool EmitRelation(Assembler& a, const FilterExpression& expression, const Term& relation,
                  const RelationSlots& slots, Label yes, Label no) {
  return RelationEmitter(a, expression, slots).Emit(relation, yes, no);
}

namespace {

// Compares the address at `offset` with the prefix, a 32-bit word at a time.
void PrefixAt(Assembler& a, std::uint32_t offset, const IpPrefix& p, Label t, Label f) {
  const int words = (p.length + 31) / 32;
  if (words == 0) {
    a.Goto(t); // /0 holds for every address of the family
    return;
  }
  for (int w = 0; w < words; ++w) {
    const auto* b = &p.address.bytes[static_cast<std::size_t>(w) * 4];
    const std::uint32_t value = static_cast<std::uint32_t>(b[0]) << 24 |
                                static_cast<std::uint32_t>(b[1]) << 16 |
                                static_cast<std::uint32_t>(b[2]) << 8 | b[3];
    const int bits = std::min(32, p.length - w * 32);
    a.Emit(Code(BPF_LD | BPF_W | BPF_ABS), offset + static_cast<std::uint32_t>(w) * 4);
    if (bits < 32) {
      a.Emit(Code(BPF_ALU | BPF_AND | BPF_K), ~0u << (32 - bits));
    }
    a.Jump(Code(BPF_JMP | BPF_JEQ | BPF_K), value, w + 1 == words ? t : a.AfterNext(), f);
  }
}

} // namespace

void EmitAddress(Assembler& a, const Term& term, std::uint32_t family_slot, Label t, Label f) {
  const IpPrefix& p = term.prefix;
  a.Emit(Code(BPF_LD | BPF_MEM), family_slot);
  a.Jump(Code(BPF_JMP | BPF_JEQ | BPF_K), p.address.family, a.AfterNext(), f);
  const std::uint32_t src = p.address.family == 4 ? 12 : 8;
  const std::uint32_t dst = p.address.family == 4 ? 16 : 24;
  if (term.endpoint == Endpoint::Either) {
    const Label try_dst = a.NewLabel();
    PrefixAt(a, src, p, t, try_dst);
    a.Bind(try_dst);
    PrefixAt(a, dst, p, t, f);
    return;
  }
  PrefixAt(a, term.endpoint == Endpoint::Src ? src : dst, p, t, f);
}

namespace {

void PortIn(Assembler& a, std::uint32_t slot, const Term& term, Label t, Label f) {
  a.Emit(Code(BPF_LD | BPF_MEM), slot);
  if (term.port_low == term.port_high) {
    a.Jump(Code(BPF_JMP | BPF_JEQ | BPF_K), term.port_low, t, f);
    return;
  }
  a.Jump(Code(BPF_JMP | BPF_JGE | BPF_K), term.port_low, a.AfterNext(), f);
  a.Jump(Code(BPF_JMP | BPF_JGT | BPF_K), term.port_high, f, t);
}

} // namespace

void EmitPort(Assembler& a, const Term& term, const PortSlots& slots, Label t, Label f) {
  a.Emit(Code(BPF_LD | BPF_MEM), slots.has_ports);
  a.Jump(Code(BPF_JMP | BPF_JEQ | BPF_K), 0, f, a.AfterNext());
  if (term.endpoint == Endpoint::Either) {
    const Label try_dst = a.NewLabel();
    PortIn(a, slots.sport, term, t, try_dst);
    a.Bind(try_dst);
    PortIn(a, slots.dport, term, t, f);
    return;
  }
  PortIn(a, term.endpoint == Endpoint::Src ? slots.sport : slots.dport, term, t, f);
}

} // namespace wgcap::classic
