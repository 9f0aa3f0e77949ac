// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "wgcap/filter_ast.hpp"
#include "wgcap/matcher.hpp"
#include "wgcap/result.hpp"

namespace wgcap {

// Parses an expression (SPEC section 1). On error, Error::message is
// "column N: what was expected" for the first error found.
Result<FilterExpression> ParseFilterExpression(std::string_view text);

// Fills in the key of every `peer` term (Term::peer_key, peer_resolved) with
// `resolve`, which turns the typed text (a key, or an unambiguous prefix of
// at least 4 characters) into the full key or an error saying why (unknown:
// naming the interface's peers; ambiguous: naming the candidates). The first
// failure is returned as "column N: ...".
Status ResolvePeerTerms(FilterExpression& expr,
                        const std::function<Result<PeerKey>(std::string_view)>& resolve);
// True when the expression holds a `peer` term.
bool HasPeerTerms(const FilterExpression& expr) noexcept;

// Evaluates a parsed expression in userspace.
class ExpressionMatcher final : public Matcher {
public:
  explicit ExpressionMatcher(FilterExpression expression);
  bool MatchParsed(const ParsedPacket& packet) const override;
  bool MatchesAll() const override { return expression_.empty(); }
  const FilterExpression& expression() const noexcept { return expression_; }

  // Internal (public only for the evaluator's helpers): the expression as
  // evaluated, built once from the AST. Runs of the same connective are one
  // n-ary node and `not` is a flag on its operand, so a chain of N terms is
  // one loop of N inline tests instead of 2N-1 recursive calls; address
  // terms carry their prefix as a 128-bit mask and value. nodes_[0] is the
  // root; an And/Or node's operands are nodes_[first, first + count).
  struct Node {
    enum class Op : std::uint8_t {
      And,
      Or,
      SrcAddress,
      DstAddress,
      EitherAddress,
      SrcPort,
      DstPort,
      EitherPort,
      Protocol,
      ProtoChain,
      Family,
      Less,
      Greater,
      Relation, // relations_[first]
      Peer,     // the packet's peer is the key in address then mask; count = 1 once resolved
    };
    Op op = Op::And;
    bool negate = false;
    std::uint8_t family = 0; // Family; the address family of *Address
    std::uint8_t protocol = 0;
    std::uint16_t port_low = 0;
    std::uint16_t port_high = 0;
    std::uint32_t length = 0;
    std::uint32_t first = 0;
    std::uint32_t count = 0;
    std::uint64_t address[2] = {}; // host bits cleared; bytes in packet order
    std::uint64_t mask[2] = {};
  };

  // A packet-data relation as evaluated: its values in postfix order,
  // steps_[first, first + count), after a check that every header it loads
  // from is present (`needs`, `protocol`).
  struct Step {
    ValueNode::Kind kind;
    ValueOp op;
    LoadBase base;
    std::uint8_t size;
    std::uint32_t constant;
  };
  struct RelationCode {
    std::uint32_t first = 0;
    std::uint32_t count = 0;
    std::uint32_t stack = 0;   // the deepest the evaluation stack gets
    std::uint8_t needs = 0;    // kNeeds* bits
    std::uint8_t protocol = 0; // kNeedsTransport: the transport protocol
    Relation relation = Relation::Equal;
  };
  static constexpr std::uint8_t kNeedsIp = 1, kNeedsIp6 = 2, kNeedsTransport = 4, kNever = 8;

private:
  void Flatten(int ast_node, bool negate, std::size_t slot);
  Node RelationNode(const Term& term);
  bool Holds(const Node& node, const ParsedPacket& packet) const;
  bool HoldsWithRelations(const Node& node, const ParsedPacket& packet, bool& rejected) const;

  FilterExpression expression_;
  std::vector<Node> nodes_;
  std::vector<RelationCode> relations_;
  std::vector<Step> steps_;
};

// Parses and returns a Matcher. Unlike the reference package, which returns a
// nil Matcher for an empty expression, this returns a Matcher whose
// MatchesAll() is true: callers never check for null.
Result<std::shared_ptr<const ExpressionMatcher>> ParseFilter(std::string_view text);

// True when `term` holds for the packet (field semantics of SPEC 1). A
// Relation term needs its expression: EvaluateRelation.
bool EvaluateTerm(const Term& term, const ParsedPacket& packet) noexcept;

// A packet-data relation's outcome (SPEC 1): Reject when a load reads past
// the captured bytes or a division or modulo by zero happens at run time,
// which rejects the whole packet whatever surrounds the relation.
enum class RelationVerdict : std::uint8_t { False, True, Reject };
// The plain evaluation of a Relation term straight off the AST, the
// reference the Matcher's compiled form is checked against.
RelationVerdict EvaluateRelation(const FilterExpression& expression, const Term& relation,
                                 const ParsedPacket& packet) noexcept;
// Whether a load from `base` (and `protocol`, for Transport) finds its header
// in the packet, and the offset that header starts at. The one rule every
// evaluator follows: Ip/Ip6 need that family; Transport needs the upper-layer
// protocol located as the port primitives locate it (IPv4: first fragment;
// IPv6: after the whole extension walk, not a later fragment), and
// icmp/igmp/igrp/vrrp (1, 2, 9, 112) only on IPv4, icmp6 (58) only on IPv6.
std::uint8_t TransportLoadFamily(std::uint8_t protocol) noexcept; // 4, 6, or 0: either
bool LoadHeader(LoadBase base, std::uint8_t protocol, const ParsedPacket& packet,
                std::uint32_t* offset) noexcept;

} // namespace wgcap
