// SPDX-License-Identifier: Apache-2.0
// Filter ASTs with packet-data relations built by hand, for evaluators
// tested before (or apart from) the parser that produces them.
#pragma once

#include <cstdint>

#include "wgcap/filter_ast.hpp"

namespace wgcap::test {

class AstBuilder {
public:
  int Const(std::uint32_t c) { return Value({.kind = ValueNode::Kind::Constant, .constant = c}); }
  int Len() { return Value({.kind = ValueNode::Kind::Length}); }
  // size bytes at base + offset (a value index); protocol for Transport.
  int Load(LoadBase base, int offset, std::uint8_t size = 1, std::uint8_t protocol = 0) {
    return Value({.kind = ValueNode::Kind::Load,
                  .base = base,
                  .protocol = protocol,
                  .size = size,
                  .left = offset});
  }
  int Tcp(int offset, std::uint8_t size = 1) { return Load(LoadBase::Transport, offset, size, 6); }
  int Bin(ValueOp op, int left, int right) {
    return Value({.kind = ValueNode::Kind::Binary, .op = op, .left = left, .right = right});
  }
  int Neg(int operand) { return Value({.kind = ValueNode::Kind::Negate, .left = operand}); }

  int Rel(int left, Relation r, int right) {
    Term t;
    t.kind = TermKind::Relation;
    t.relation = r;
    t.value_left = left;
    t.value_right = right;
    return TermNode(t);
  }
  int TermNode(const Term& t) {
    FilterNode n;
    n.kind = FilterNode::Kind::Term;
    n.term = t;
    return Node(n);
  }
  int Family(std::uint8_t family) {
    Term t;
    t.kind = TermKind::Family;
    t.family = family;
    return TermNode(t);
  }
  int Protocol(std::uint8_t protocol) {
    Term t;
    t.kind = TermKind::Protocol;
    t.protocol = protocol;
    return TermNode(t);
  }
  int And(int a, int b) { return Connective(FilterNode::Kind::And, a, b); }
  int Or(int a, int b) { return Connective(FilterNode::Kind::Or, a, b); }
  int Not(int a) { return Connective(FilterNode::Kind::Not, a, -1); }

  FilterExpression Finish(int root) {
    expr_.root = root;
    return expr_;
  }

private:
  int Connective(FilterNode::Kind kind, int left, int right) {
    FilterNode n;
    n.kind = kind;
    n.left = left;
    n.right = right;
    return Node(n);
  }
  int Value(const ValueNode& v) {
    expr_.values.push_back(v);
    return static_cast<int>(expr_.values.size() - 1);
  }
  int Node(const FilterNode& n) {
    expr_.nodes.push_back(n);
    return static_cast<int>(expr_.nodes.size() - 1);
  }
  FilterExpression expr_;
};

} // namespace wgcap::test
