// SPDX-License-Identifier: Apache-2.0
// `peer KEY` (SPEC 10): the key's text checked where it was typed, so a typo
// is blamed on its own column before any peer is looked up; which peer the
// text names is decided later, against the interface's peers
// (ResolvePeerTerms).
#include <string>

#include "base/peer_key_text.hpp"
#include "filter/primitive.hpp"
#include "filter/token.hpp"

namespace wgcap::filter {
namespace {

constexpr std::size_t kKeyText = kPeerKeyTextSize;
constexpr std::size_t kMinPrefix = kPeerKeyMinPrefix;

} // namespace

std::optional<Term> PeerTerm(const Token& token, Diagnostic* error) {
  const std::string_view key = token.text;
  const int column = token.column;
  const std::string quoted = "\"" + std::string(key) + "\"";
  auto fail = [&](int at, std::string message) {
    *error = Diagnostic{at, std::move(message)};
    return std::nullopt;
  };
  const std::string word = Lower(key);
  if (token.kind != TokenKind::Word || token.escaped || word == "and" || word == "or" ||
      word == "not") {
    return fail(column, "expected a WireGuard public key (base64) or a prefix of at least " +
                            std::to_string(kMinPrefix) + " of its characters after \"peer\", got " +
                            Describe(token));
  }
  for (std::size_t i = 0; i < key.size(); ++i) {
    const int at = column + static_cast<int>(i);
    if (key[i] == '=') {
      // Only a whole key carries base64's padding: 32 bytes end in one '='.
      if (i + 1 != kKeyText || key.size() != kKeyText) {
        return fail(at, "peer " + quoted + ": \"=\" may only end a whole " +
                            std::to_string(kKeyText) + "-character key");
      }
    } else if (!IsPeerKeyChar(key[i])) {
      return fail(at, "peer " + quoted + ": \"" + std::string(1, key[i]) +
                          "\" is not a base64 character (A-Z, a-z, 0-9, +, /)");
    }
  }
  if (key.size() < kMinPrefix) {
    return fail(column, "peer " + quoted + ": a key prefix needs at least " +
                            std::to_string(kMinPrefix) + " characters");
  }
  if (key.size() > kKeyText) {
    return fail(column + static_cast<int>(kKeyText), "peer " + quoted +
                                                         ": longer than a public key (" +
                                                         std::to_string(kKeyText) + " characters)");
  }
  if (key.size() == kKeyText && key.back() != '=') {
    return fail(column + static_cast<int>(kKeyText) - 1,
                "peer " + quoted + ": a whole key ends with \"=\"");
  }
  Term term;
  term.kind = TermKind::Peer;
  term.peer_text = std::string(key);
  return term;
}

std::string PeerQualifierError(std::string_view first, bool protocol) {
  const std::string q(first);
  return "\"peer\" takes no qualifiers (\"" + q + "\" before it): " +
         (protocol ? "write \"" + q + " and peer KEY\""
                   : std::string("a peer is the source of inbound and the destination of "
                                 "outbound packets; combine it with \"and\""));
}

} // namespace wgcap::filter
