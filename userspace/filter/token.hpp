// SPDX-License-Identifier: Apache-2.0
// Tokens of the filter language. Words are maximal runs of characters that
// are not blanks or one of ( ) ! & | -, so IPv6 addresses and prefixes stay
// one word while "1000-2000" splits into three tokens. As in libpcap's lexer,
// a backslash makes the rest of a word a name, never a keyword (`proto \tcp`);
// such a word runs to a blank, "!", "(" or ")".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wgcap::filter {

// Amp and Pipe (a single "&" or "|") belong to relations (`tcp[13] & 2`);
// anywhere else the parser reports them.
enum class TokenKind { Word, LParen, RParen, Bang, AndAnd, OrOr, Amp, Pipe, Dash, End };

struct Token {
  TokenKind kind = TokenKind::End;
  std::string_view text; // points into the source
  int column = 0;        // 1-based
  bool escaped = false;  // written "\\name"; text excludes the backslash
};

struct TokenizeResult {
  std::vector<Token> tokens; // always ends with End
  std::string error;         // "column N: ..." when the text cannot be tokenized
};

TokenizeResult Tokenize(std::string_view source);

// Two tokens with nothing between them ("ftp" "-" "data").
inline bool Touching(const Token& a, const Token& b) {
  return b.column == a.column + static_cast<int>(a.text.size());
}

// ASCII lower case: keywords are case-insensitive.
std::string Lower(std::string_view text);

// Quoted, for messages: `"and"`, or `end of input`.
std::string Describe(const Token& token);

// The warning for "a or b and c" (SPEC 1: `and` binds tighter here, tcpdump
// reads left to right): tokens [start, end) hold the or-chain, `or_op` its
// "or", `first_end` the end of the and-chain's first operand and `and_op`
// its "and" (or the operand after it, for juxtaposition).
std::string PrecedenceWarning(std::string_view source, const std::vector<Token>& tokens,
                              std::size_t start, std::size_t or_op, std::size_t first_end,
                              std::size_t and_op, std::size_t end);

} // namespace wgcap::filter
