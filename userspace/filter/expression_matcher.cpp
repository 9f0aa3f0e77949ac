// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cstring>

#include "filter/relation_eval.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

using Node = ExpressionMatcher::Node;
using Op = Node::Op;

bool PortIn(std::uint16_t port, const Term& t) noexcept {
  return port >= t.port_low && port <= t.port_high;
}

bool PortIn(std::uint16_t port, const Node& n) noexcept {
  return port >= n.port_low && port <= n.port_high;
}

// 16 address bytes as two words, in the same byte order the node's mask and
// value were built in, so the comparison is endian-neutral.
bool AddressIn(const std::array<std::uint8_t, 16>& bytes, const Node& n) noexcept {
  std::uint64_t a[2];
  std::memcpy(a, bytes.data(), sizeof a);
  return ((a[0] & n.mask[0]) ^ n.address[0]) == 0 && ((a[1] & n.mask[1]) ^ n.address[1]) == 0;
}

// `proto N`: the upper-layer protocol, or a header the IPv6 extension walk
// stepped over (IPv4 records only AH, and only when its protocol is AH).
bool ProtocolHolds(const ParsedPacket& p, std::uint8_t protocol) noexcept {
  return p.has_protocol &&
         (p.protocol == protocol || (p.extensions & ExtensionHeaderBit(protocol)) != 0);
}

// `protochain N`: anywhere in the walked chain, the last Next Header included.
bool ProtoChainHolds(const ParsedPacket& p, std::uint8_t protocol) noexcept {
  return p.has_protocol &&
         (p.chain_protocol == protocol || (p.extensions & ExtensionHeaderBit(protocol)) != 0);
}

// One term, with the field semantics of EvaluateTerm (SPEC 1): a field the
// packet does not have makes the term false. Address terms need the
// packet's family to equal the prefix's, which also rejects family 0.
inline bool TermHolds(const Node& n, const ParsedPacket& p) noexcept {
  switch (n.op) {
  case Op::SrcAddress:
    return p.family == n.family && AddressIn(p.src, n);
  case Op::DstAddress:
    return p.family == n.family && AddressIn(p.dst, n);
  case Op::EitherAddress:
    return p.family == n.family && (AddressIn(p.src, n) || AddressIn(p.dst, n));
  case Op::SrcPort:
    return p.has_ports && PortIn(p.src_port, n);
  case Op::DstPort:
    return p.has_ports && PortIn(p.dst_port, n);
  case Op::EitherPort:
    return p.has_ports && (PortIn(p.src_port, n) || PortIn(p.dst_port, n));
  case Op::Protocol:
    return ProtocolHolds(p, n.protocol);
  case Op::ProtoChain:
    return ProtoChainHolds(p, n.protocol);
  case Op::Family:
    return p.family == n.family;
  case Op::Less:
    return p.original_length <= n.length;
  case Op::Greater:
    return p.original_length >= n.length;
  case Op::Peer:
    return p.peer != nullptr && n.count == 1 &&
           std::memcmp(p.peer->data(), n.address, sizeof n.address) == 0 &&
           std::memcmp(p.peer->data() + sizeof n.address, n.mask, sizeof n.mask) == 0;
  case Op::And:
  case Op::Or:
  case Op::Relation: // Holds<true> evaluates relations
    break;
  }
  return false;
}

Node TermNode(const Term& t) {
  Node n;
  const auto by_endpoint = [&t](Op src, Op dst, Op either) {
    return t.endpoint == Endpoint::Src ? src : t.endpoint == Endpoint::Dst ? dst : either;
  };
  switch (t.kind) {
  case TermKind::Host:
  case TermKind::Net: {
    n.op = by_endpoint(Op::SrcAddress, Op::DstAddress, Op::EitherAddress);
    n.family = t.prefix.address.family;
    std::uint8_t mask[16] = {};
    const unsigned bits = std::min<unsigned>(t.prefix.length, 128);
    std::fill_n(mask, bits / 8, 0xff);
    if (bits % 8 != 0) {
      mask[bits / 8] = static_cast<std::uint8_t>(0xff00u >> (bits % 8));
    }
    std::uint8_t value[16];
    for (int i = 0; i < 16; ++i) {
      value[i] =
          static_cast<std::uint8_t>(t.prefix.address.bytes[static_cast<std::size_t>(i)] & mask[i]);
    }
    std::memcpy(n.mask, mask, sizeof mask);
    std::memcpy(n.address, value, sizeof value);
    break;
  }
  case TermKind::Port:
  case TermKind::PortRange:
    n.op = by_endpoint(Op::SrcPort, Op::DstPort, Op::EitherPort);
    n.port_low = t.port_low;
    n.port_high = t.port_high;
    break;
  case TermKind::Protocol:
  case TermKind::ProtoChain:
    n.op = t.kind == TermKind::Protocol ? Op::Protocol : Op::ProtoChain;
    n.protocol = t.protocol;
    break;
  case TermKind::Family:
    n.op = Op::Family;
    n.family = t.family;
    break;
  case TermKind::Less:
    n.op = Op::Less;
    n.length = t.length;
    break;
  case TermKind::Greater:
    n.op = Op::Greater;
    n.length = t.length;
    break;
  case TermKind::Relation: // ExpressionMatcher::RelationNode
    break;
  case TermKind::Peer:
    static_assert(sizeof n.address + sizeof n.mask == sizeof t.peer_key);
    n.op = Op::Peer;
    n.count = t.peer_resolved ? 1 : 0;
    std::memcpy(n.address, t.peer_key.data(), sizeof n.address);
    std::memcpy(n.mask, t.peer_key.data() + sizeof n.address, sizeof n.mask);
    break;
  }
  return n;
}

// The operands of a run of `kind` (a and b and c parses as and(and(a,b),c)),
// left to right, so evaluation order is the expression's.
void CollectOperands(const FilterExpression& e, int index, FilterNode::Kind kind,
                     std::vector<int>& out) {
  const FilterNode& n = e.node(index);
  if (n.kind != kind) {
    out.push_back(index);
    return;
  }
  CollectOperands(e, n.left, kind, out);
  CollectOperands(e, n.right, kind, out);
}

} // namespace

bool EvaluateTerm(const Term& t, const ParsedPacket& p) noexcept {
  switch (t.kind) {
  case TermKind::Host:
  case TermKind::Net:
    if (p.family == 0) {
      return false;
    }
    switch (t.endpoint) {
    case Endpoint::Src:
      return t.prefix.Contains(p.family, p.src.data());
    case Endpoint::Dst:
      return t.prefix.Contains(p.family, p.dst.data());
    case Endpoint::Either:
      return t.prefix.Contains(p.family, p.src.data()) || t.prefix.Contains(p.family, p.dst.data());
    }
    return false;
  case TermKind::Port:
  case TermKind::PortRange:
    if (!p.has_ports) {
      return false;
    }
    switch (t.endpoint) {
    case Endpoint::Src:
      return PortIn(p.src_port, t);
    case Endpoint::Dst:
      return PortIn(p.dst_port, t);
    case Endpoint::Either:
      return PortIn(p.src_port, t) || PortIn(p.dst_port, t);
    }
    return false;
  case TermKind::Protocol:
    return ProtocolHolds(p, t.protocol);
  case TermKind::ProtoChain:
    return ProtoChainHolds(p, t.protocol);
  case TermKind::Family:
    return p.family == t.family;
  case TermKind::Less:
    return p.original_length <= t.length;
  case TermKind::Greater:
    return p.original_length >= t.length;
  case TermKind::Relation: // needs its expression's values: EvaluateRelation
    return false;
  case TermKind::Peer:
    return p.peer != nullptr && t.peer_resolved && *p.peer == t.peer_key;
  }
  return false;
}

ExpressionMatcher::ExpressionMatcher(FilterExpression expression)
    : expression_(std::move(expression)) {
  if (!expression_.empty()) {
    nodes_.resize(1);
    Flatten(expression_.root, false, 0);
  }
}

// Writes the node for `index` into nodes_[slot]. A connective's operands go
// into one contiguous block, so evaluating it walks memory in order.
void ExpressionMatcher::Flatten(int index, bool negate, std::size_t slot) {
  const FilterNode& n = expression_.node(index);
  switch (n.kind) {
  case FilterNode::Kind::Not:
    Flatten(n.left, !negate, slot);
    return;
  case FilterNode::Kind::Term: {
    Node term = n.term.kind == TermKind::Relation ? RelationNode(n.term) : TermNode(n.term);
    term.negate = negate;
    nodes_[slot] = term;
    return;
  }
  case FilterNode::Kind::And:
  case FilterNode::Kind::Or: {
    std::vector<int> operands;
    CollectOperands(expression_, index, n.kind, operands);
    const std::size_t first = nodes_.size();
    nodes_.resize(first + operands.size());
    for (std::size_t i = 0; i < operands.size(); ++i) {
      Flatten(operands[i], false, first + i);
    }
    Node connective;
    connective.op = n.kind == FilterNode::Kind::And ? Op::And : Op::Or;
    connective.negate = negate;
    connective.first = static_cast<std::uint32_t>(first);
    connective.count = static_cast<std::uint32_t>(operands.size());
    nodes_[slot] = connective;
    return;
  }
  }
}

bool ExpressionMatcher::MatchParsed(const ParsedPacket& packet) const {
  if (expression_.empty()) {
    return true;
  }
  // Without relations nothing can reject the packet: the plain loop.
  if (relations_.empty()) {
    return Holds(nodes_[0], packet);
  }
  bool rejected = false;
  const bool holds = HoldsWithRelations(nodes_[0], packet, rejected);
  return holds && !rejected;
}

bool ExpressionMatcher::Holds(const Node& n, const ParsedPacket& packet) const {
  if (n.op != Op::And && n.op != Op::Or) {
    return TermHolds(n, packet) != n.negate;
  }
  // And stops at the first false operand, Or at the first true one.
  const bool stop_at = n.op == Op::Or;
  const Node* c = nodes_.data() + n.first;
  for (const Node* end = c + n.count; c != end; ++c) {
    const bool holds = c->op == Op::And || c->op == Op::Or ? Holds(*c, packet)
                                                           : TermHolds(*c, packet) != c->negate;
    if (holds == stop_at) {
      return stop_at != n.negate;
    }
  }
  return !stop_at != n.negate;
}

// Holds with packet-data relations. A relation that rejects the packet sets
// `rejected` and evaluation ends at once, as libpcap's filter returns 0 from
// the load or division that failed.
bool ExpressionMatcher::HoldsWithRelations(const Node& n, const ParsedPacket& packet,
                                           bool& rejected) const {
  const auto term = [&](const Node& t) {
    if (t.op != Op::Relation) {
      return TermHolds(t, packet) != t.negate;
    }
    const RelationVerdict v = RunRelation(relations_[t.first], steps_.data(), packet);
    rejected = rejected || v == RelationVerdict::Reject;
    return (v == RelationVerdict::True) != t.negate;
  };
  if (n.op != Op::And && n.op != Op::Or) {
    return term(n);
  }
  const bool stop_at = n.op == Op::Or;
  const Node* c = nodes_.data() + n.first;
  for (const Node* end = c + n.count; c != end; ++c) {
    const bool holds =
        c->op == Op::And || c->op == Op::Or ? HoldsWithRelations(*c, packet, rejected) : term(*c);
    if (rejected) {
      return false;
    }
    if (holds == stop_at) {
      return stop_at != n.negate;
    }
  }
  return !stop_at != n.negate;
}

Result<std::shared_ptr<const ExpressionMatcher>> ParseFilter(std::string_view text) {
  auto expression = ParseFilterExpression(text);
  if (!expression) {
    return FilterError(expression.error());
  }
  return std::make_shared<const ExpressionMatcher>(std::move(expression).value());
}

} // namespace wgcap
