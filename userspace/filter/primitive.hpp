// SPDX-License-Identifier: Apache-2.0
// One primitive of the filter language, `[proto] [dir] [kind] ID`, read as
// tcpdump reads it (SPEC section 1, "Qualifiers, as tcpdump reads them") and
// desugared into the AST's existing terms under And/Or, so every evaluator
// keeps its semantics.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wgcap/filter_ast.hpp"

namespace wgcap::filter {

struct Token; // token.hpp

enum class QualProto : std::uint8_t {
  None,
  Ip,
  Ip6,
  Tcp,
  Udp,
  Icmp,
  Icmp6,
  Igmp,
  Igrp,
  Pim,
  Vrrp,
  Carp,
  Sctp,
  Ah,
  Esp
};
enum class QualDir : std::uint8_t { Default, Src, Dst, SrcOrDst, SrcAndDst };
enum class QualKind : std::uint8_t { Default, Host, Net, Port, PortRange, Proto, ProtoChain };

// The qualifiers of a primitive. A bare ID after and/or/not takes those of
// the primitive before it, as libpcap's grammar passes them on.
struct Qualifiers {
  QualProto proto = QualProto::None;
  QualDir dir = QualDir::Default;
  QualKind kind = QualKind::Default;
  int proto_column = 0; // where the protocol was written; 0 when inherited
};

using AddNode = std::function<int(const FilterNode&)>;

// Adds `left KIND right` made at `column`; -1 when an operand failed (-1)
// or `add` did.
int AddBinary(FilterNode::Kind kind, int left, int right, int column, const AddNode& add);

// "tcp" → Tcp; nullopt for a word that is not a protocol qualifier.
std::optional<QualProto> ProtoQualifier(std::string_view lower_word);
const char* ProtoName(QualProto proto);
// Adds the terms a protocol qualifier stands for on its own, with libpcap's
// family: `tcp` is proto 6, `icmp` is `ip and proto 1`, `ip6` the family.
// Returns the root, or -1 when `add` failed.
int AddProtoTerms(QualProto proto, int column, const AddNode& add);
// "\"ether\" needs a link layer: ..." for a link-layer primitive's word.
std::optional<std::string> LinkLayerWord(std::string_view lower_word);
// "column N: ..." for the first link-layer word among `tokens`, for input
// the tokenizer could not finish.
std::optional<std::string> FirstLinkLayerWord(const std::vector<Token>& tokens);
// `ip multicast`, `ip broadcast`, `ip6 multicast` (proto None: the bare
// word) as destination terms; -1 with `error` set for the other pairs.
int AddCastTerms(QualProto proto, bool multicast, int column, const AddNode& add,
                 std::string* error);
// "host" → Host, ..., "portrange" → PortRange; nullopt otherwise.
std::optional<QualKind> KindWord(std::string_view lower_word);
// A word that begins a primitive; any other word in operand position is a
// bare ID.
bool IsPrimitiveKeyword(std::string_view lower_word);
// The error for a bare ID with no primitive before it to take qualifiers from.
std::string NothingToLend(std::string_view id, bool number, bool address);
// "expected ... after \"host\", got " for an ID that is missing; `after` is
// the last qualifier written.
std::string MissingValue(const Qualifiers& q, std::string_view after);

// The ID as written. `high` is the upper end of a port range ("1-100",
// "1 - 100", "ftp-telnet"); `mask` the netmask of "net A mask M".
struct IdText {
  std::string text;
  int column = 0;
  std::string high;
  int high_column = 0;
  std::string mask;
  int mask_column = 0;
};

struct Diagnostic {
  int column = 0;
  std::string message; // without the "column N: " prefix
};

// `peer KEY` (SPEC 10): the unresolved term for `key`, the token after
// `peer` (base64, a whole 44-character key or a prefix of at least 4
// characters), or nullopt with `error` at the offending character.
std::optional<Term> PeerTerm(const Token& key, Diagnostic* error);
// The error for qualifiers written before `peer` (`tcp peer K`, `src peer K`):
// `first` is the first qualifier, `protocol` whether it names a protocol.
std::string PeerQualifierError(std::string_view first, bool protocol);

// Adds the nodes of one primitive through `add` and returns its root, or -1
// with `error` set (tcpdump's wording where tcpdump has one). `column` is the
// column every new node records: where the primitive (or the bare ID) begins.
int BuildPrimitive(const Qualifiers& q, const IdText& id, int column, const AddNode& add,
                   Diagnostic* error);

} // namespace wgcap::filter
