// SPDX-License-Identifier: Apache-2.0
// The lexer of packet-data relations (relation.cpp) and the words they use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wgcap::filter {

enum class Lex { Number, Name, Op, Stop };

struct Lexeme {
  Lex kind = Lex::Stop;
  std::string_view text;
  std::size_t offset = 0;
  std::uint32_t value = 0; // Number
  std::string error;       // a Number that is not one
};

// The lexeme at or after `offset` (blanks skipped). Stop at the end, at
// "&&", "||", and at any character a relation cannot hold.
Lexeme LexAt(std::string_view source, std::size_t offset);
bool IsRelop(const Lexeme& l);
// Binary operators by level, loosest first (C's order; SPEC 1); -1 for
// anything else.
int Level(const Lexeme& l);
inline constexpr int kTightest = 5;
// `443 =`, `12 & 0xf0`: a number with an operator after it. Not
// "1000-2000", a port range as libpcap's lexer reads it (one ID).
bool NumberStartsRelation(std::string_view source, const Lexeme& number);

} // namespace wgcap::filter
