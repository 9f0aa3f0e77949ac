// SPDX-License-Identifier: Apache-2.0
// Random packet-data relations (`tcp[13] & 2 != 0`, `ip[6:2] & 0x1fff != 0`,
// `len > 1400`) and expressions mixing them with ordinary primitives, for
// the libpcap differential test and the evaluator fuzz targets; and the
// rewrite that gives libpcap the meaning wgcap gives a transport load on
// IPv6 (SPEC 1: `tcp[]` reads the TCP header of IPv6 packets too; libpcap
// 1.10 makes it IPv4-only).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace wgcap::test {

// Every text it writes is valid for both wgcap and libpcap 1.10.3 and means
// the same in both where the packet is IPv4 (or IPv6 without a transport
// header the relation reads): it brackets wherever libpcap's precedence is
// not C's (`%`, `^`), and avoids libpcap's compile-time refusals (a divisor
// or shift count whose leftmost leaf is 0 or over 31, which gencode.c
// refuses whatever follows) so a refusal is never the difference tested.
class RelationGenerator {
public:
  // `pick(n)`: a uniform integer in [0, n).
  explicit RelationGenerator(std::function<int(int)> pick) : pick_(std::move(pick)) {}

  // `arith relop arith`, loads at constant and variable offsets, all sizes,
  // named values, reads past the end, run-time division by zero.
  std::string Relation(std::string* libpcap = nullptr);
  // Relations and primitives (tcp, udp, icmp, ip6, port, host, less,
  // proto ...) under and/or/not, every binary node bracketed.
  //
  // `libpcap` (optional) receives the text to give libpcap 1.10.3 for the
  // same meaning: each relation behind explicit checks of the headers it
  // loads from, `((ip proto 6 and ip[6:2] & 0x1fff = 0) and tcp[13] > 0)`.
  // libpcap's gen_arth keeps the header checks of its left operand only, so
  // in `0 + tcp[13] > 0` the TCP check is lost and the byte is read from
  // any packet; SPEC 1 (and wgcap) make every load's header count.
  std::string Expression(int depth, std::string* libpcap = nullptr);

private:
  struct Text {
    std::string text;
    int level = 9;         // of the outermost operator; 8: unary minus; 9: a leaf or bracketed
    std::string leftmost;  // the leftmost leaf as written ("40", "len")
    bool constant = false; // no load, no len
    std::vector<std::string> bases = {}; // the load words in it
  };
  Text Value(int depth);
  Text Leaf();
  Text Load(int depth);
  Text Binary(int depth);
  Text Divisor(bool shift, int depth);
  std::string Primitive();
  int Pick(int n) { return pick_(n); }

  std::function<int(int)> pick_;
};

// The libpcap text that checks a load's header as SPEC 1 does ("tcp" →
// "(ip proto 6 and ip[6:2] & 0x1fff = 0)"); empty for ether/link.
std::string HeaderGuard(const std::string& load_word);

// `text` with every `word[e]` / `word[e:n]` load of the transport header
// `word` ("tcp", "udp", "icmp6", "sctp") turned into `ip6[(e) + offset:n]`,
// and its HeaderGuard into "ip6":
// what wgcap's load means on an IPv6 packet whose transport header of that
// protocol starts at `offset`, in words libpcap reads the same way.
std::string RewriteTransportLoads(const std::string& text, const std::string& word,
                                  std::uint32_t offset);

// The expression libpcap must be given to mean, on this packet, what wgcap's
// `text` means (SPEC 1's intended difference); nullopt when `text` already
// does: the packet is not IPv6 with a transport header wgcap locates, or
// `text` loads nothing from that header.
std::optional<std::string> LibpcapEquivalent(const std::string& text,
                                             std::span<const std::uint8_t> packet);

} // namespace wgcap::test
