// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string_view>

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

private:
  bool Eval(int node, const ParsedPacket& packet) const;
  FilterExpression expression_;
};

// Parses and returns a Matcher. Unlike the reference package, which returns a
// nil Matcher for an empty expression, this returns a Matcher whose
// MatchesAll() is true: callers never check for null.
Result<std::shared_ptr<const ExpressionMatcher>> ParseFilter(std::string_view text);

// True when `term` holds for the packet (field semantics of SPEC 1).
bool EvaluateTerm(const Term& term, const ParsedPacket& packet) noexcept;

} // namespace wgcap
