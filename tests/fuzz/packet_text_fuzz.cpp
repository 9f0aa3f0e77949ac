// SPDX-License-Identifier: Apache-2.0
// Packet parsing, the Matcher and the text output (SPEC 1, 5, 7) on
// arbitrary bytes. Input: one control byte, then the network-layer packet.
// The control byte picks the direction (bits 0-1) and the wire length
// (bits 2-3: the packet's own, longer, shorter, or 0 = "the captured
// length"), since a capture may record any of them.
//
// What any input must give (TextWriter's promise, include/wgcap/text_writer.hpp):
// one line ending in '\n' with a time stamp and tag and no control byte;
// with -A, payload lines where only \n, \t and \r\n pass through. The
// Matcher must obey plain boolean logic on every parse and agree with the
// plainest evaluation of its AST.
#include <memory>
#include <vector>

#include "fuzz_check.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/filter_parser.hpp"
#include "wgcap/text_writer.hpp"

namespace {

using wgcap::fuzz::Fail;

// One of each term kind, the absent-field rules and the connectives.
constexpr const char* kExpressions[] = {
    "tcp port 443",
    "udp and (src port 53 or dst port 5353)",
    "portrange 1-1024",
    "host 192.0.2.1 or host 2001:db8::1",
    "src net 198.51.100.0/24 and not dst net 2001:db8::/32",
    "icmp or icmp6 or proto 47 or proto 132",
    "ip6 and not ip",
    "less 60 or greater 1400",
    "not port 22",
};

struct Compiled {
  std::shared_ptr<const wgcap::ExpressionMatcher> matcher;
  std::shared_ptr<const wgcap::ExpressionMatcher> negated;
};

const std::vector<Compiled>& Matchers() {
  static const std::vector<Compiled> matchers = [] {
    std::vector<Compiled> v;
    for (const char* e : kExpressions) {
      auto m = wgcap::ParseFilter(e);
      auto n = wgcap::ParseFilter(std::string("not (") + e + ")");
      if (!m.ok() || !n.ok()) {
        Fail(std::string("fixed expression does not parse: ") + e);
      }
      v.push_back({*m, *n});
    }
    return v;
  }();
  return matchers;
}

std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c <= 0x7e) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

void CheckText(const std::string& out, bool verbose, bool ascii) {
  auto fail = [&](const std::string& what) {
    Fail(what + " (verbose " + std::to_string(verbose) + ", ascii " + std::to_string(ascii) +
         "): " + Printable(out));
  };
  const std::size_t first_newline = out.find('\n');
  if (first_newline == std::string::npos || out.back() != '\n') {
    fail("output does not end its line");
  }
  if (out.size() < 17 || out[2] != ':' || out[5] != ':' || out[8] != '.' || out[15] != ' ' ||
      out[16] != '[') {
    fail("no time stamp and tag");
  }
  for (std::size_t i = 0; i < first_newline; ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (c < 0x20 || c > 0x7e) {
      fail("byte " + std::to_string(c) + " in the line");
    }
  }
  if (!ascii) {
    if (first_newline + 1 != out.size()) {
      fail("more than one line");
    }
    return;
  }
  for (std::size_t i = first_newline + 1; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    const bool crlf = c == '\r' && i + 1 < out.size() && out[i + 1] == '\n';
    if (!(c >= 0x20 && c <= 0x7e) && c != '\n' && c != '\t' && !crlf) {
      fail("byte " + std::to_string(c) + " in the -A payload");
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint8_t control = data[0];
  const std::span<const std::uint8_t> packet(data + 1, size - 1);
  const auto captured = static_cast<std::uint32_t>(packet.size());
  std::uint32_t original = captured;
  switch ((control >> 2) & 3) {
  case 1:
    original = captured + 1 + control * 97u; // cut by the snap length
    break;
  case 2:
    original = captured / 2; // a lying record: less on the wire than captured
    break;
  case 3:
    original = 0; // "same as captured"
    break;
  }

  const wgcap::ParsedPacket parsed = wgcap::ParsePacket(packet, original);
  if (parsed.captured_length != captured) {
    Fail("captured length " + std::to_string(parsed.captured_length));
  }
  if (parsed.has_ports && (!parsed.has_protocol || parsed.family == 0)) {
    Fail("ports without a protocol or family");
  }
  for (const auto& m : Matchers()) {
    if (m.matcher->MatchParsed(parsed) == m.negated->MatchParsed(parsed)) {
      Fail("e and not e agree on " + wgcap::ToString(m.matcher->expression()));
    }
    if (m.matcher->Match(packet, original) != m.matcher->MatchParsed(parsed)) {
      Fail("Match and MatchParsed differ");
    }
    if (m.matcher->MatchParsed(parsed) !=
        wgcap::fuzz::ReferenceMatch(m.matcher->expression(), parsed)) {
      Fail("the Matcher and the plain AST evaluation differ on " +
           wgcap::ToString(m.matcher->expression()));
    }
  }

  // The writers live across inputs: with -v their flow table then fills up
  // and evicts as in a long capture (a fresh table per input would see one
  // flow, and building one costs more than the rest of the input).
  static wgcap::MemoryWriter out;
  static std::unique_ptr<wgcap::TextWriter> writers[4];
  wgcap::PacketRecord record;
  record.timestamp_ns = 1700000000123456789;
  record.data = packet;
  record.original_length = original;
  record.direction = static_cast<wgcap::Direction>(control % 3);
  for (int mode = 0; mode < 4; ++mode) {
    const bool verbose = mode & 1, ascii = mode & 2;
    if (!writers[mode]) {
      writers[mode] = std::make_unique<wgcap::TextWriter>(out, verbose, ascii);
    }
    // Twice: with -v the second sighting of a flow prints relative numbers.
    for (int pass = 0; pass < (verbose ? 2 : 1); ++pass) {
      out.clear();
      if (!writers[mode]->WritePacket(record).ok()) {
        Fail("a memory write failed");
      }
      CheckText(out.str(), verbose, ascii);
    }
  }
  return 0;
}
