// SPDX-License-Identifier: Apache-2.0
// tcpdump's packet-data relations (SPEC section 1, "Packet-data relations"):
// `arith relop arith` over constants, `len` and `proto[off:size]` loads,
// read straight from the source text. The main tokenizer splits at blanks,
// brackets, "!", "&", "|" and "-" only, so `tcp[13]&2!=0` is not in tokens
// this grammar can use; the relation has a lexer of its own and hands back
// the offset where it ends, which is always a place the main tokenizer splits
// too (a blank, "(", ")", "&&", "||", "!" or the end).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wgcap/filter_ast.hpp"

namespace wgcap::filter {

// `tcpflags` 13, `tcp-syn` 2, `icmp-echo` 8, `icmp6-echo` 128, ... (the
// named values of libpcap 1.10's scanner); nullopt for another word.
std::optional<std::uint32_t> NamedValue(std::string_view lower_word);

// The header a `word[...]` load counts from: `ip` → Ip, `tcp` → Transport 6,
// `ether`/`link` → Packet (raw IP: the first byte of the IP packet).
struct LoadWord {
  LoadBase base;
  std::uint8_t protocol; // Transport
};
std::optional<LoadWord> LoadWordFor(std::string_view lower_word);

struct RelationParse {
  bool ok = false;
  Term term;           // kind Relation, when ok
  std::size_t end = 0; // source offset one past the relation, when ok
  int column = 0;      // of the error
  std::string error;   // without "column N: "
  // The text is a relation beyond doubt (it begins with a load, `len`, a
  // named value or "-", or a comparison was read): its error is the one to
  // report. Otherwise the caller may read the text another way (a bare ID
  // `443`, a bracketed expression `(tcp or udp)`).
  bool committed = false;
};

// Parses `arith relop arith` at `start`, appending its values to `values`
// (at most `max_values` in all; nesting at most `max_depth`). On failure
// `values` is restored.
RelationParse ParseRelation(std::string_view source, std::size_t start,
                            std::vector<ValueNode>& values, std::size_t max_values, int max_depth);

// Whether the text at `start` should be tried as a relation: it begins with
// a load, `len`, a named value, "-" or "(", or a number followed by an
// arithmetic or comparison operator.
bool MayStartRelation(std::string_view source, std::size_t start);

struct Token; // token.hpp

// The relation at token `pos`, for the main parser: NotRelation when the
// text there is no relation (or only might have been one: `(tcp or udp)`).
// Ok: `term` made, `next` is the first token after it. Error: `error` is
// "column N: ...".
struct TokenRelation {
  enum class Status { NotRelation, Ok, Error };
  Status status = Status::NotRelation;
  Term term;
  std::size_t next = 0;
  std::string error;
};
TokenRelation RelationAtToken(std::string_view source, const std::vector<Token>& tokens,
                              std::size_t pos, std::vector<ValueNode>& values,
                              std::size_t max_values, int max_depth);

} // namespace wgcap::filter
