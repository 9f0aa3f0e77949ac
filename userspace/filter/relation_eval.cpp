// SPDX-License-Identifier: Apache-2.0
// Packet-data relations in userspace (SPEC 1): the plain evaluation off the
// AST, and the Matcher's compiled form (postfix steps after one header check).
// Both follow libpcap's run-time rules: unsigned 32-bit arithmetic, a shift
// by 32 or more gives 0 (bpf_filter.c), a division or modulo by zero and a
// load past the captured bytes reject the whole packet.
#include <algorithm>
#include <vector>

#include "filter/relation_eval.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {} // namespace

// The family a transport load needs: that of the protocol's primitive.
std::uint8_t TransportLoadFamily(std::uint8_t protocol) noexcept {
  switch (protocol) {
  case 1:   // icmp
  case 2:   // igmp
  case 9:   // igrp
  case 112: // vrrp, carp
    return 4;
  case 58: // icmp6
    return 6;
  default:
    return 0;
  }
}

namespace {

// false on a zero divisor.
bool Apply(ValueOp op, std::uint32_t a, std::uint32_t b, std::uint32_t* out) noexcept {
  switch (op) {
  case ValueOp::Add:
    *out = a + b;
    return true;
  case ValueOp::Sub:
    *out = a - b;
    return true;
  case ValueOp::Mul:
    *out = a * b;
    return true;
  case ValueOp::Div:
    *out = b == 0 ? 0 : a / b;
    return b != 0;
  case ValueOp::Mod:
    *out = b == 0 ? 0 : a % b;
    return b != 0;
  case ValueOp::And:
    *out = a & b;
    return true;
  case ValueOp::Or:
    *out = a | b;
    return true;
  case ValueOp::Xor:
    *out = a ^ b;
    return true;
  case ValueOp::Shl:
    *out = b > 31 ? 0 : a << b;
    return true;
  case ValueOp::Shr:
    *out = b > 31 ? 0 : a >> b;
    return true;
  }
  return false;
}

bool Compare(Relation r, std::uint32_t a, std::uint32_t b) noexcept {
  switch (r) {
  case Relation::Equal:
    return a == b;
  case Relation::NotEqual:
    return a != b;
  case Relation::Less:
    return a < b;
  case Relation::LessEqual:
    return a <= b;
  case Relation::Greater:
    return a > b;
  case Relation::GreaterEqual:
    return a >= b;
  }
  return false;
}

// Big-endian `size` bytes at header + offset (wrapping in 32 bits, as
// libpcap's `add x` before `ld [x]` does); false past the captured bytes.
bool ReadAt(const ParsedPacket& p, std::uint32_t header, std::uint32_t offset, std::uint8_t size,
            std::uint32_t* out) noexcept {
  const std::uint32_t at = header + offset;
  if (p.data == nullptr || std::uint64_t{at} + size > p.captured_length) {
    return false;
  }
  std::uint32_t v = 0;
  for (std::uint8_t i = 0; i < size; ++i) {
    v = v << 8 | p.data[at + i];
  }
  *out = v;
  return true;
}

// --- the plain evaluation ---------------------------------------------------

// Every header the value loads from is present.
bool HeadersPresent(const FilterExpression& e, int index, const ParsedPacket& p) noexcept {
  const ValueNode& v = e.value(index);
  std::uint32_t unused = 0;
  switch (v.kind) {
  case ValueNode::Kind::Constant:
  case ValueNode::Kind::Length:
    return true;
  case ValueNode::Kind::Load:
    return LoadHeader(v.base, v.protocol, p, &unused) && HeadersPresent(e, v.left, p);
  case ValueNode::Kind::Negate:
    return HeadersPresent(e, v.left, p);
  case ValueNode::Kind::Binary:
    return HeadersPresent(e, v.left, p) && HeadersPresent(e, v.right, p);
  }
  return false;
}

// false: the packet is rejected.
bool Value(const FilterExpression& e, int index, const ParsedPacket& p,
           std::uint32_t* out) noexcept {
  const ValueNode& v = e.value(index);
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  switch (v.kind) {
  case ValueNode::Kind::Constant:
    *out = v.constant;
    return true;
  case ValueNode::Kind::Length:
    *out = p.original_length;
    return true;
  case ValueNode::Kind::Load: {
    std::uint32_t header = 0;
    LoadHeader(v.base, v.protocol, p, &header);
    return Value(e, v.left, p, &a) && ReadAt(p, header, a, v.size, out);
  }
  case ValueNode::Kind::Negate:
    if (!Value(e, v.left, p, &a)) {
      return false;
    }
    *out = 0u - a;
    return true;
  case ValueNode::Kind::Binary:
    return Value(e, v.left, p, &a) && Value(e, v.right, p, &b) && Apply(v.op, a, b, out);
  }
  return false;
}

} // namespace

bool LoadHeader(LoadBase base, std::uint8_t protocol, const ParsedPacket& p,
                std::uint32_t* offset) noexcept {
  *offset = 0;
  switch (base) {
  case LoadBase::Packet:
    return true;
  case LoadBase::Ip:
    return p.family == 4;
  case LoadBase::Ip6:
    return p.family == 6;
  case LoadBase::Transport:
    break;
  }
  const std::uint8_t family = TransportLoadFamily(protocol);
  if (p.family == 0 || (family != 0 && p.family != family) || p.protocol != protocol) {
    return false;
  }
  // IPv4: the first fragment (transport_offset is IHL * 4 on every
  // fragment); IPv6: the walk set transport_offset only when it finished
  // without a later fragment.
  if (p.family == 4 ? p.fragment_offset != 0 : p.transport_offset == 0) {
    return false;
  }
  *offset = p.transport_offset;
  return true;
}

RelationVerdict EvaluateRelation(const FilterExpression& e, const Term& t,
                                 const ParsedPacket& p) noexcept {
  if (!HeadersPresent(e, t.value_left, p) || !HeadersPresent(e, t.value_right, p)) {
    return RelationVerdict::False;
  }
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  if (!Value(e, t.value_left, p, &a) || !Value(e, t.value_right, p, &b)) {
    return RelationVerdict::Reject;
  }
  return Compare(t.relation, a, b) ? RelationVerdict::True : RelationVerdict::False;
}

// --- the Matcher's compiled form -------------------------------------------

namespace {

using Code = ExpressionMatcher::RelationCode;
using Step = ExpressionMatcher::Step;

// Appends the value's steps in postfix order; returns the stack depth it needs.
std::uint32_t Emit(const FilterExpression& e, int index, std::vector<Step>& steps, Code& code) {
  const ValueNode& v = e.value(index);
  std::uint32_t depth = 1;
  switch (v.kind) {
  case ValueNode::Kind::Constant:
  case ValueNode::Kind::Length:
    break;
  case ValueNode::Kind::Load:
    depth = Emit(e, v.left, steps, code);
    if (v.base == LoadBase::Ip || v.base == LoadBase::Ip6) {
      code.needs |=
          v.base == LoadBase::Ip ? ExpressionMatcher::kNeedsIp : ExpressionMatcher::kNeedsIp6;
    } else if (v.base == LoadBase::Transport) {
      if ((code.needs & ExpressionMatcher::kNeedsTransport) != 0 && code.protocol != v.protocol) {
        code.needs |= ExpressionMatcher::kNever; // two transport protocols at once
      }
      code.needs |= ExpressionMatcher::kNeedsTransport;
      code.protocol = v.protocol;
    }
    break;
  case ValueNode::Kind::Negate:
    depth = Emit(e, v.left, steps, code);
    break;
  case ValueNode::Kind::Binary: {
    const std::uint32_t left = Emit(e, v.left, steps, code); // left's steps first
    depth = std::max(left, 1 + Emit(e, v.right, steps, code));
    break;
  }
  }
  steps.push_back(Step{v.kind, v.op, v.base, v.size, v.constant});
  return depth;
}

bool Needs(const Code& c, const ParsedPacket& p, std::uint32_t* transport) noexcept {
  using M = ExpressionMatcher;
  if ((c.needs & M::kNever) != 0 || ((c.needs & M::kNeedsIp) != 0 && p.family != 4) ||
      ((c.needs & M::kNeedsIp6) != 0 && p.family != 6)) {
    return false;
  }
  return (c.needs & M::kNeedsTransport) == 0 ||
         LoadHeader(LoadBase::Transport, c.protocol, p, transport);
}

RelationVerdict Run(const Code& c, const Step* s, const ParsedPacket& p, std::uint32_t* stack) {
  std::uint32_t transport = 0;
  if (!Needs(c, p, &transport)) {
    return RelationVerdict::False;
  }
  std::uint32_t* top = stack; // one past the top
  for (const Step* end = s + c.count; s != end; ++s) {
    switch (s->kind) {
    case ValueNode::Kind::Constant:
      *top++ = s->constant;
      break;
    case ValueNode::Kind::Length:
      *top++ = p.original_length;
      break;
    case ValueNode::Kind::Load:
      if (!ReadAt(p, s->base == LoadBase::Transport ? transport : 0, top[-1], s->size, &top[-1])) {
        return RelationVerdict::Reject;
      }
      break;
    case ValueNode::Kind::Negate:
      top[-1] = 0u - top[-1];
      break;
    case ValueNode::Kind::Binary:
      --top;
      if (!Apply(s->op, top[-1], top[0], &top[-1])) {
        return RelationVerdict::Reject;
      }
      break;
    }
  }
  return Compare(c.relation, stack[0], stack[1]) ? RelationVerdict::True : RelationVerdict::False;
}

} // namespace

ExpressionMatcher::Node ExpressionMatcher::RelationNode(const Term& t) {
  RelationCode code;
  code.first = static_cast<std::uint32_t>(steps_.size());
  code.relation = t.relation;
  const std::uint32_t left = Emit(expression_, t.value_left, steps_, code);
  code.stack = std::max(left, 1 + Emit(expression_, t.value_right, steps_, code));
  code.count = static_cast<std::uint32_t>(steps_.size()) - code.first;
  Node n;
  n.op = Node::Op::Relation;
  n.first = static_cast<std::uint32_t>(relations_.size());
  relations_.push_back(code);
  return n;
}

// Out of line so the Matcher's loop stays small; a short expression uses the
// stack, a deep one the heap.
RelationVerdict RunRelation(const ExpressionMatcher::RelationCode& c,
                            const ExpressionMatcher::Step* steps, const ParsedPacket& p) {
  constexpr std::uint32_t kShort = 32;
  if (c.stack <= kShort) {
    std::uint32_t stack[kShort];
    return Run(c, steps + c.first, p, stack);
  }
  std::vector<std::uint32_t> stack(c.stack);
  return Run(c, steps + c.first, p, stack.data());
}

} // namespace wgcap
