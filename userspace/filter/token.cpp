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

// "\\name": the name, to a blank, "!", "(" or ")" as libpcap's lexer reads it.
Token EscapedWord(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  while (j < s.size() && !IsBlank(s[j]) && s[j] != '!' && s[j] != '(' && s[j] != ')') {
    ++j;
  }
  return Token{TokenKind::Word, s.substr(i + 1, j - i - 1), static_cast<int>(i) + 1, true};
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
      single(c == '&' ? TokenKind::Amp : TokenKind::Pipe);
      continue;
    case '\\':
      r.tokens.push_back(EscapedWord(s, i));
      if (r.tokens.back().text.empty()) {
        r.error = "column " + std::to_string(column) + ": expected a name after \"\\\"";
        r.tokens.back() = Token{TokenKind::End, {}, column};
        return r;
      }
      i += r.tokens.back().text.size() + 1;
      continue;
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

namespace {

// Source text of tokens [from, to).
std::string Slice(std::string_view source, const std::vector<Token>& tokens, std::size_t from,
                  std::size_t to) {
  const Token& a = tokens[from];
  const Token& b = tokens[to - 1];
  const auto begin = static_cast<std::size_t>(a.column - 1);
  const auto end = static_cast<std::size_t>(b.column - 1) + b.text.size() + (b.escaped ? 1 : 0);
  return std::string(source.substr(begin, end - begin));
}

} // namespace

std::string PrecedenceWarning(std::string_view source, const std::vector<Token>& tokens,
                              std::size_t start, std::size_t or_op, std::size_t first_end,
                              std::size_t and_op, std::size_t end) {
  auto slice = [&](std::size_t from, std::size_t to) { return Slice(source, tokens, from, to); };
  return "column " + std::to_string(tokens[and_op].column) + ": \"" + slice(start, end) +
         "\" is read as \"" + slice(start, or_op) + " " + std::string(tokens[or_op].text) + " (" +
         slice(or_op + 1, end) + ")\"; tcpdump reads \"(" + slice(start, first_end) + ") " +
         slice(and_op, end) + "\"; add parentheses to choose";
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::string Describe(const Token& token) {
  if (token.kind == TokenKind::End) {
    return "end of input";
  }
  return "\"" + std::string(token.escaped ? "\\" : "") + std::string(token.text) + "\"";
}

} // namespace wgcap::filter
