// SPDX-License-Identifier: Apache-2.0
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

bool PortIn(std::uint16_t port, const Term& t) noexcept {
  return port >= t.port_low && port <= t.port_high;
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
    return p.has_protocol && p.protocol == t.protocol;
  case TermKind::Family:
    return p.family == t.family;
  case TermKind::Less:
    return p.original_length <= t.length;
  case TermKind::Greater:
    return p.original_length >= t.length;
  }
  return false;
}

ExpressionMatcher::ExpressionMatcher(FilterExpression expression)
    : expression_(std::move(expression)) {}

bool ExpressionMatcher::MatchParsed(const ParsedPacket& packet) const {
  return expression_.empty() || Eval(expression_.root, packet);
}

bool ExpressionMatcher::Eval(int index, const ParsedPacket& packet) const {
  const FilterNode& n = expression_.node(index);
  switch (n.kind) {
  case FilterNode::Kind::And:
    return Eval(n.left, packet) && Eval(n.right, packet);
  case FilterNode::Kind::Or:
    return Eval(n.left, packet) || Eval(n.right, packet);
  case FilterNode::Kind::Not:
    return !Eval(n.left, packet);
  case FilterNode::Kind::Term:
    return EvaluateTerm(n.term, packet);
  }
  return false;
}

} // namespace wgcap
