// SPDX-License-Identifier: Apache-2.0
#include "filter/token.hpp"

namespace wgcap::filter {
namespace {

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsSeparator(char c) {
  return IsBlank(c) || c == '(' || c == ')' || c == '!' || c == '&' || c == '|' || c == '-';
}

} // namespace

TokenizeResult Tokenize(std::string_view s) {
  TokenizeResult r;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const int column = static_cast<int>(i) + 1;
    if (IsBlank(c)) {
      ++i;
      continue;
    }
    auto single = [&](TokenKind kind) {
      r.tokens.push_back(Token{kind, s.substr(i, 1), column});
      ++i;
    };
    switch (c) {
    case '(':
      single(TokenKind::LParen);
      continue;
    case ')':
      single(TokenKind::RParen);
      continue;
    case '!':
      single(TokenKind::Bang);
      continue;
    case '-':
      single(TokenKind::Dash);
      continue;
    case '&':
    case '|':
      if (i + 1 < s.size() && s[i + 1] == c) {
        r.tokens.push_back(
            Token{c == '&' ? TokenKind::AndAnd : TokenKind::OrOr, s.substr(i, 2), column});
        i += 2;
        continue;
      }
      r.error = "column " + std::to_string(column) + ": unexpected \"" + std::string(1, c) +
                "\" (did you mean \"" + std::string(2, c) + "\"?)";
      r.tokens.push_back(Token{TokenKind::End, {}, column});
      return r;
    default:
      break;
    }
    std::size_t j = i;
    while (j < s.size() && !IsSeparator(s[j])) {
      ++j;
    }
    r.tokens.push_back(Token{TokenKind::Word, s.substr(i, j - i), column});
    i = j;
  }
  r.tokens.push_back(Token{TokenKind::End, {}, static_cast<int>(s.size()) + 1});
  return r;
}

std::string Describe(const Token& token) {
  if (token.kind == TokenKind::End) {
    return "end of input";
  }
  return "\"" + std::string(token.text) + "\"";
}

} // namespace wgcap::filter
