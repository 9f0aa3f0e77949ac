// SPDX-License-Identifier: Apache-2.0
// Tokens of the filter language. Words are maximal runs of characters that
// are not blanks or one of ( ) ! & | -, so IPv6 addresses and prefixes stay
// one word while "1000-2000" splits into three tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wgcap::filter {

enum class TokenKind { Word, LParen, RParen, Bang, AndAnd, OrOr, Dash, End };

struct Token {
  TokenKind kind = TokenKind::End;
  std::string_view text; // points into the source
  int column = 0;        // 1-based
};

struct TokenizeResult {
  std::vector<Token> tokens; // always ends with End
  std::string error;         // "column N: ..." when the text cannot be tokenized
};

TokenizeResult Tokenize(std::string_view source);

// Quoted, for messages: `"and"`, or `end of input`.
std::string Describe(const Token& token);

} // namespace wgcap::filter
