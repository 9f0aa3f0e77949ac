// SPDX-License-Identifier: Apache-2.0
#include "wgcap/filter_ast.hpp"

#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

std::string EndpointPrefix(Endpoint e) {
  switch (e) {
  case Endpoint::Src:
    return "src ";
  case Endpoint::Dst:
    return "dst ";
  case Endpoint::Either:
    break;
  }
  return "";
}

std::string BaseName(const ValueNode& v) {
  switch (v.base) {
  case LoadBase::Packet:
    return "link";
  case LoadBase::Ip:
    return "ip";
  case LoadBase::Ip6:
    return "ip6";
  case LoadBase::Transport:
    break;
  }
  switch (v.protocol) {
  case 1:
    return "icmp";
  case 2:
    return "igmp";
  case 6:
    return "tcp";
  case 9:
    return "igrp";
  case 17:
    return "udp";
  case 58:
    return "icmp6";
  case 103:
    return "pim";
  case 112:
    return "vrrp";
  case 132:
    return "sctp";
  default:
    return "transport" + std::to_string(v.protocol);
  }
}

const char* OpText(ValueOp op) {
  static constexpr const char* kText[] = {"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"};
  return kText[static_cast<int>(op)];
}

const char* RelationText(Relation r) {
  static constexpr const char* kText[] = {"==", "!=", "<", "<=", ">", ">="};
  return kText[static_cast<int>(r)];
}

std::string ValueToString(const FilterExpression& expr, int index) {
  const ValueNode& v = expr.value(index);
  switch (v.kind) {
  case ValueNode::Kind::Constant:
    return std::to_string(v.constant);
  case ValueNode::Kind::Length:
    return "len";
  case ValueNode::Kind::Load:
    return BaseName(v) + "[" + ValueToString(expr, v.left) + ":" + std::to_string(v.size) + "]";
  case ValueNode::Kind::Binary:
    return "(" + ValueToString(expr, v.left) + " " + OpText(v.op) + " " +
           ValueToString(expr, v.right) + ")";
  case ValueNode::Kind::Negate:
    return "(-" + ValueToString(expr, v.left) + ")";
  }
  return "?";
}

std::string NodeToString(const FilterExpression& expr, int index) {
  const FilterNode& n = expr.node(index);
  switch (n.kind) {
  case FilterNode::Kind::And:
    return "(" + NodeToString(expr, n.left) + " and " + NodeToString(expr, n.right) + ")";
  case FilterNode::Kind::Or:
    return "(" + NodeToString(expr, n.left) + " or " + NodeToString(expr, n.right) + ")";
  case FilterNode::Kind::Not:
    return "(not " + NodeToString(expr, n.left) + ")";
  case FilterNode::Kind::Term:
    break;
  }
  if (n.term.kind == TermKind::Relation) {
    return ValueToString(expr, n.term.value_left) + " " + RelationText(n.term.relation) + " " +
           ValueToString(expr, n.term.value_right);
  }
  return ToString(n.term);
}

} // namespace

std::string ToString(const Term& t) {
  switch (t.kind) {
  case TermKind::Host:
    return EndpointPrefix(t.endpoint) + "host " + t.prefix.address.ToString();
  case TermKind::Net:
    return EndpointPrefix(t.endpoint) + "net " + t.prefix.ToString();
  case TermKind::Port:
    return EndpointPrefix(t.endpoint) + "port " + std::to_string(t.port_low);
  case TermKind::PortRange:
    return EndpointPrefix(t.endpoint) + "portrange " + std::to_string(t.port_low) + "-" +
           std::to_string(t.port_high);
  case TermKind::Protocol:
    // The number alone: `icmp` is `ip and proto 1` (libpcap's family), so
    // the term is printed as what it matches in either family.
    switch (t.protocol) {
    case 6:
      return "tcp";
    case 17:
      return "udp";
    default:
      return "proto " + std::to_string(t.protocol);
    }
  case TermKind::ProtoChain:
    return "protochain " + std::to_string(t.protocol);
  case TermKind::Family:
    return t.family == 4 ? "ip" : "ip6";
  case TermKind::Less:
    return "less " + std::to_string(t.length);
  case TermKind::Greater:
    return "greater " + std::to_string(t.length);
  case TermKind::Relation:
    return "relation";
  case TermKind::Peer:
    return "peer " + t.peer_text;
  }
  return "?";
}

std::string ToString(const FilterExpression& expr) {
  return expr.empty() ? std::string() : NodeToString(expr, expr.root);
}

} // namespace wgcap

namespace wgcap {

bool HasPeerTerms(const FilterExpression& expr) noexcept {
  for (const FilterNode& n : expr.nodes) {
    if (n.kind == FilterNode::Kind::Term && n.term.kind == TermKind::Peer) {
      return true;
    }
  }
  return false;
}

Status ResolvePeerTerms(FilterExpression& expr,
                        const std::function<Result<PeerKey>(std::string_view)>& resolve) {
  for (FilterNode& n : expr.nodes) {
    if (n.kind != FilterNode::Kind::Term || n.term.kind != TermKind::Peer) {
      continue;
    }
    Result<PeerKey> key = resolve(n.term.peer_text);
    if (!key.ok()) {
      Error e = key.error();
      e.message = "column " + std::to_string(n.column) + ": " + e.message;
      e.column = n.column;
      return FilterError(std::move(e));
    }
    n.term.peer_key = *key;
    n.term.peer_resolved = true;
  }
  return {};
}

} // namespace wgcap
