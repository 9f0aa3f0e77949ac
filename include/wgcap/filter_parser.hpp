// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
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

private:
  void Flatten(int ast_node, bool negate, std::size_t slot);
  bool Holds(const Node& node, const ParsedPacket& packet) const;

  FilterExpression expression_;
  std::vector<Node> nodes_;
};

// Parses and returns a Matcher. Unlike the reference package, which returns a
// nil Matcher for an empty expression, this returns a Matcher whose
// MatchesAll() is true: callers never check for null.
Result<std::shared_ptr<const ExpressionMatcher>> ParseFilter(std::string_view text);

// True when `term` holds for the packet (field semantics of SPEC 1).
bool EvaluateTerm(const Term& term, const ParsedPacket& packet) noexcept;

} // namespace wgcap
