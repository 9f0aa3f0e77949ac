// SPDX-License-Identifier: Apache-2.0
// The Matcher's evaluation of one compiled relation (relation_eval.cpp).
#pragma once

#include "wgcap/filter_parser.hpp"

namespace wgcap {

RelationVerdict RunRelation(const ExpressionMatcher::RelationCode& code,
                            const ExpressionMatcher::Step* steps, const ParsedPacket& packet);

} // namespace wgcap
