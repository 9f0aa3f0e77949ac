// SPDX-License-Identifier: Apache-2.0
// Filter language parser (SPEC 1) on arbitrary text. Every error names a
// column inside the text (or just past it); every accepted expression prints
// as canonical text that parses back to the same canonical text and the same
// verdicts, and its Matcher gives the plain AST evaluation's verdicts on the
// verdict tables' packets.
#include <charconv>

#include "fuzz_check.hpp"
#include "support/verdict_packets.hpp"
#include "wgcap/filter_parser.hpp"

namespace {

using wgcap::fuzz::Fail;

// "column N: ..." with 1 <= N <= size + 1 (end of input is one past it).
void CheckError(std::string_view text, const std::string& message) {
  constexpr std::string_view kPrefix = "column ";
  if (message.compare(0, kPrefix.size(), kPrefix) != 0) {
    Fail("error without a column: " + message);
  }
  std::size_t column = 0;
  const char* begin = message.data() + kPrefix.size();
  const auto [end, ec] = std::from_chars(begin, message.data() + message.size(), column);
  if (ec != std::errc() || end == begin || *end != ':' || column < 1 || column > text.size() + 1) {
    Fail("error column outside the text (" + std::to_string(text.size()) + " bytes): " + message);
  }
}

// The parser refuses nesting beyond its depth limit, and the fully bracketed
// canonical form of a long chain (`tcp tcp tcp ...`, left-deep) nests one
// bracket per operator: such a form cannot be read back. That is a limit of
// the canonical text, not a parser fault.
bool IsDepthLimit(const wgcap::Error& error) {
  return error.message.find("nested too deeply") != std::string::npos;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = wgcap::ParseFilterExpression(text);
  if (!parsed.ok()) {
    CheckError(text, parsed.error().message);
    return 0;
  }
  const wgcap::ExpressionMatcher matcher(parsed.value());
  const std::string canonical = wgcap::ToString(matcher.expression());
  if (matcher.MatchesAll() != canonical.empty()) {
    Fail("empty canonical text for a non-empty expression: " + std::string(text));
  }

  for (const auto& p : wgcap::test::VerdictPackets()) {
    const wgcap::ParsedPacket parsed_packet = wgcap::ParsePacket(p.captured(), p.original_length());
    if (matcher.MatchParsed(parsed_packet) !=
        wgcap::fuzz::ReferenceMatch(matcher.expression(), parsed_packet)) {
      Fail("the Matcher and the plain AST evaluation differ on " + p.name + ": " + canonical);
    }
  }

  auto again = wgcap::ParseFilterExpression(canonical);
  if (!again.ok()) {
    if (IsDepthLimit(again.error())) {
      return 0;
    }
    Fail("canonical text does not parse: " + canonical + "\n" + again.error().message);
  }
  const std::string twice = wgcap::ToString(again.value());
  if (twice != canonical) {
    Fail("canonical text is not stable:\n" + canonical + "\n" + twice);
  }
  const wgcap::ExpressionMatcher reparsed(std::move(again).value());
  for (const auto& p : wgcap::test::VerdictPackets()) {
    const auto bytes = p.captured();
    if (matcher.Match(bytes, p.original_length()) != reparsed.Match(bytes, p.original_length())) {
      Fail("canonical text changes the verdict on " + p.name + ": " + canonical);
    }
  }
  return 0;
}
