// SPDX-License-Identifier: Apache-2.0
// Filter ASTs with packet-data relations built by hand, for evaluators
// tested before (or apart from) the parser that produces them.
#pragma once

#include <cstdint>
#include <string>

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
  // `peer KEY` as ResolvePeerTerms leaves it (resolved) or the parser
  // makes it (not), until the parser produces it (issue 22).
  int Peer(const PeerKey& key, bool resolved = true, const std::string& text = "peerkey") {
    Term t;
    t.kind = TermKind::Peer;
    t.peer_text = text;
    t.peer_key = resolved ? key : PeerKey{};
    t.peer_resolved = resolved;
    return TermNode(t);
  }
  // Copies a parsed expression in; its root's index here (-1 when empty).
  int Adopt(const FilterExpression& e) {
    const int node_base = static_cast<int>(expr_.nodes.size());
    const int value_base = static_cast<int>(expr_.values.size());
    const auto shift = [](int index, int base) { return index < 0 ? index : index + base; };
    for (ValueNode v : e.values) {
      v.left = shift(v.left, value_base);
      v.right = shift(v.right, value_base);
      expr_.values.push_back(v);
    }
    for (FilterNode n : e.nodes) {
      n.left = shift(n.left, node_base);
      n.right = shift(n.right, node_base);
      n.term.value_left = shift(n.term.value_left, value_base);
      n.term.value_right = shift(n.term.value_right, value_base);
      expr_.nodes.push_back(n);
    }
    return shift(e.root, node_base);
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
