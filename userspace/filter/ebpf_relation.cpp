// SPDX-License-Identifier: Apache-2.0
// A relation runs in two steps, as libpcap's code for it does: first every
// header its loads count from must be present (IPv4 for ip[], IPv6 for
// ip6[], the transport header of that protocol for tcp[] ...), else the
// relation is false; then the arithmetic, left to right, where a load past
// the packet's end or a division by zero rejects the packet. Values live in
// 8-byte stack temporaries (helpers clobber r1-r5), one per nesting depth.
#include "filter/ebpf_relation.hpp"
#include "filter/alu_op.hpp"
#include "wgcap/filter_parser.hpp"

#include <set>
#include <utility>

namespace wgcap::ebpf {
namespace {

std::int16_t Temp(int depth) {
  return static_cast<std::int16_t>(kTempSlots - 8 * depth);
}

int Depth(const FilterExpression& expr, int index) {
  const ValueNode& v = expr.value(index);
  switch (v.kind) {
  case ValueNode::Kind::Constant:
  case ValueNode::Kind::Length:
    return 1;
  case ValueNode::Kind::Load:
  case ValueNode::Kind::Negate:
    return Depth(expr, v.left);
  case ValueNode::Kind::Binary:
    return std::max(Depth(expr, v.left), 1 + Depth(expr, v.right));
  }
  return 1;
}

// The headers the relation's loads count from: (base, protocol).
void Bases(const FilterExpression& expr, int index, std::set<std::pair<LoadBase, int>>& out) {
  const ValueNode& v = expr.value(index);
  if (v.kind == ValueNode::Kind::Load) {
    out.insert({v.base, v.base == LoadBase::Transport ? v.protocol : 0});
  }
  if (v.left >= 0 && v.kind != ValueNode::Kind::Constant && v.kind != ValueNode::Kind::Length) {
    Bases(expr, v.left, out);
  }
  if (v.kind == ValueNode::Kind::Binary) {
    Bases(expr, v.right, out);
  }
}

bool IsConstant(const FilterExpression& expr, int index) {
  return expr.value(index).kind == ValueNode::Kind::Constant;
}

// The largest constant offset the verifier takes on a packet pointer (MAX_PACKET_OFF).
constexpr std::uint64_t kMaxPacketOffset = 0xffff;

class ValueEmitter {
public:
  ValueEmitter(Emitter& e, const FilterExpression& expr, const EbpfFilterInputs& in, Label reject)
      : e_(e), expr_(expr), in_(in), reject_(reject) {}

  // The value of node `index` into temporary `depth`.
  void Eval(int index, int depth) {
    const ValueNode& v = expr_.value(index);
    switch (v.kind) {
    case ValueNode::Kind::Constant:
      e_.Mov32Imm(BPF_REG_1, static_cast<std::int32_t>(v.constant));
      e_.Store(BPF_DW, BPF_REG_10, Temp(depth), BPF_REG_1);
      return;
    case ValueNode::Kind::Length:
      e_.Store(BPF_DW, BPF_REG_10, Temp(depth), kLength);
      return;
    case ValueNode::Kind::Load:
      EvalLoad(v, depth);
      return;
    case ValueNode::Kind::Negate:
      Eval(v.left, depth);
      e_.Load(BPF_DW, BPF_REG_1, BPF_REG_10, Temp(depth));
      e_.Alu32Imm(BPF_NEG, BPF_REG_1, 0);
      e_.Store(BPF_DW, BPF_REG_10, Temp(depth), BPF_REG_1);
      return;
    case ValueNode::Kind::Binary:
      EvalBinary(v, depth);
      return;
    }
  }

private:
  void EvalBinary(const ValueNode& v, int depth) {
    Eval(v.left, depth);
    const bool shift = v.op == ValueOp::Shl || v.op == ValueOp::Shr;
    const bool divide = v.op == ValueOp::Div || v.op == ValueOp::Mod;
    if (IsConstant(expr_, v.right)) {
      const std::uint32_t k = expr_.value(v.right).constant;
      e_.Load(BPF_DW, BPF_REG_1, BPF_REG_10, Temp(depth));
      if (divide && k == 0) {
        // Never parsed (a constant division by zero is an error), but kept
        // reachable for the verifier: a conditional jump, not a goto.
        e_.Mov64Imm(BPF_REG_2, 0);
        e_.JumpImm(BPF_JEQ, true, BPF_REG_2, 0, reject_);
      }
      if (shift && k >= 32) {
        e_.Mov32Imm(BPF_REG_1, 0); // libpcap's bpf_filter: a shift by 32 or more gives 0
      } else if (!(divide && k == 0)) {
        e_.Alu32Imm(BpfAluOp(v.op), BPF_REG_1, static_cast<std::int32_t>(k));
      }
      e_.Store(BPF_DW, BPF_REG_10, Temp(depth), BPF_REG_1);
      return;
    }
    Eval(v.right, depth + 1);
    e_.Load(BPF_DW, BPF_REG_1, BPF_REG_10, Temp(depth));
    e_.Load(BPF_DW, BPF_REG_2, BPF_REG_10, Temp(depth + 1));
    if (divide) {
      e_.JumpImm(BPF_JEQ, false, BPF_REG_2, 0, reject_);
    }
    if (shift) {
      const Label zero = e_.NewLabel();
      const Label done = e_.NewLabel();
      e_.JumpImm(BPF_JGT, false, BPF_REG_2, 31, zero);
      e_.Alu32Reg(BpfAluOp(v.op), BPF_REG_1, BPF_REG_2);
      e_.Goto(done);
      e_.Bind(zero);
      e_.Mov32Imm(BPF_REG_1, 0);
      e_.Bind(done);
    } else {
      e_.Alu32Reg(BpfAluOp(v.op), BPF_REG_1, BPF_REG_2);
    }
    e_.Store(BPF_DW, BPF_REG_10, Temp(depth), BPF_REG_1);
  }

  // extent = max(extent, end of the load) with the end in r2.
  void RaiseExtent() {
    const Label below = e_.NewLabel();
    e_.Load(BPF_DW, BPF_REG_3, BPF_REG_10, kExtentSlot);
    e_.JumpReg(BPF_JGE, true, BPF_REG_3, BPF_REG_2, below);
    e_.Store(BPF_DW, BPF_REG_10, kExtentSlot, BPF_REG_2);
    e_.Bind(below);
  }

  void EvalLoad(const ValueNode& v, int depth) {
    const std::uint8_t size = v.size == 4 ? BPF_W : v.size == 2 ? BPF_H : BPF_B;
    const ValueNode& offset = expr_.value(v.left);
    // The verifier allows constant packet offsets up to 0xffff only; a
    // larger constant is read like a computed offset (by the helper).
    const std::uint64_t constant_end = std::uint64_t{offset.constant} + v.size;
    if (offset.kind == ValueNode::Kind::Constant && v.base != LoadBase::Transport &&
        (constant_end <= kMaxPacketOffset || constant_end > 0x7fff0000u)) {
      // A constant offset from the packet's start: read it straight.
      const std::uint64_t end = constant_end;
      if (end > 0x7fff0000u) {
        e_.Mov64Imm(BPF_REG_2, 0);
        e_.JumpImm(BPF_JEQ, true, BPF_REG_2, 0, reject_); // past any packet
        e_.Mov64Imm(BPF_REG_1, 0);
        e_.Store(BPF_DW, BPF_REG_10, Temp(depth), BPF_REG_1);
        return;
      }
      e_.JumpImm(BPF_JLT, true, kLength, static_cast<std::int32_t>(end), reject_);
      e_.Mov64Imm(BPF_REG_2, static_cast<std::int32_t>(end));
      RaiseExtent();
      EmitCopyConst(e_, in_, offset.constant, v.size, kScratchSlot, reject_);
    } else {
      Eval(v.left, depth);
      e_.Load(BPF_DW, kWalkOffset, BPF_REG_10, Temp(depth));
      if (v.base == LoadBase::Transport) {
        // header + index wraps in 32 bits, as libpcap's `add x` does.
        e_.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kTransportSlot);
        e_.Alu32Reg(BPF_ADD, kWalkOffset, BPF_REG_1);
      }
      e_.Mov64Reg(BPF_REG_2, kWalkOffset);
      e_.Alu64Imm(BPF_ADD, BPF_REG_2, v.size);
      e_.JumpReg(BPF_JGT, true, BPF_REG_2, kLength, reject_);
      RaiseExtent();
      EmitCopyVar(e_, in_, kWalkOffset, v.size, kScratchSlot, reject_);
    }
    e_.Load(size, BPF_REG_1, BPF_REG_10, kScratchSlot);
    if (v.size > 1) {
      e_.ToBigEndian(BPF_REG_1, v.size * 8);
    }
    e_.Store(BPF_DW, BPF_REG_10, Temp(depth), BPF_REG_1);
  }

  Emitter& e_;
  const FilterExpression& expr_;
  const EbpfFilterInputs& in_;
  Label reject_;
};

std::uint8_t CompareOp(Relation r) {
  switch (r) {
  case Relation::Equal:
    return BPF_JEQ;
  case Relation::NotEqual:
    return BPF_JNE;
  case Relation::Less:
    return BPF_JLT;
  case Relation::LessEqual:
    return BPF_JLE;
  case Relation::Greater:
    return BPF_JGT;
  case Relation::GreaterEqual:
    return BPF_JGE;
  }
  return BPF_JEQ;
}

// Every header the loads count from is there, else on_false.
void EmitPreconditions(Emitter& e, const std::set<std::pair<LoadBase, int>>& bases,
                       Label on_false) {
  for (const auto& [base, protocol] : bases) {
    switch (base) {
    case LoadBase::Packet:
      break;
    case LoadBase::Ip:
    case LoadBase::Ip6:
      e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kFamilySlot);
      e.JumpImm(BPF_JNE, true, BPF_REG_1, base == LoadBase::Ip ? 4 : 6, on_false);
      break;
    case LoadBase::Transport:
      e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kTransportSlot);
      e.JumpImm(BPF_JEQ, true, BPF_REG_1, kAbsent, on_false);
      e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kProtocolSlot);
      e.JumpImm(BPF_JNE, true, BPF_REG_1, protocol, on_false);
      // One rule with the Matcher's: icmp, igmp, igrp, vrrp are IPv4's, icmp6 IPv6's.
      if (const std::uint8_t family = TransportLoadFamily(static_cast<std::uint8_t>(protocol));
          family != 0) {
        e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kFamilySlot);
        e.JumpImm(BPF_JNE, true, BPF_REG_1, family, on_false);
      }
      break;
    }
  }
}

} // namespace

bool RelationNeeds(const FilterExpression& expr, const Term& term, ParseNeeds& needs) {
  needs.length = true;
  std::set<std::pair<LoadBase, int>> bases;
  Bases(expr, term.value_left, bases);
  Bases(expr, term.value_right, bases);
  for (const auto& [base, protocol] : bases) {
    if (base != LoadBase::Packet) {
      needs.ip = true;
    }
    if (base == LoadBase::Transport) {
      needs.protocol = needs.transport = true;
    }
  }
  return Depth(expr, term.value_left) < kMaxTemps && 1 + Depth(expr, term.value_right) < kMaxTemps;
}

void EmitRelation(Emitter& e, const FilterExpression& expr, const Term& term,
                  const EbpfFilterInputs& in, Label on_true, Label on_false, Label reject_packet) {
  const Label end = e.NewLabel();
  const Label t = on_true.next() ? end : on_true;
  const Label f = on_false.next() ? end : on_false;
  std::set<std::pair<LoadBase, int>> bases;
  Bases(expr, term.value_left, bases);
  Bases(expr, term.value_right, bases);
  EmitPreconditions(e, bases, f);
  ValueEmitter values(e, expr, in, reject_packet);
  values.Eval(term.value_left, 0);
  const std::uint8_t op = CompareOp(term.relation);
  if (IsConstant(expr, term.value_right)) {
    e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, Temp(0));
    e.JumpImm(op, false, BPF_REG_1,
              static_cast<std::int32_t>(expr.value(term.value_right).constant), t);
  } else {
    values.Eval(term.value_right, 1);
    e.Load(BPF_DW, BPF_REG_1, BPF_REG_10, Temp(0));
    e.Load(BPF_DW, BPF_REG_2, BPF_REG_10, Temp(1));
    e.JumpReg(op, false, BPF_REG_1, BPF_REG_2, t);
  }
  e.Goto(f);
  e.Bind(end);
}

} // namespace wgcap::ebpf
