// SPDX-License-Identifier: Apache-2.0
#include "support/relation_cases.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <string_view>

namespace wgcap::test {
namespace {

struct Named {
  const char* name;
  std::uint32_t value;
};
constexpr std::array<Named, 16> kNamed = {{{"tcpflags", 13},
                                           {"tcp-syn", 2},
                                           {"tcp-ack", 16},
                                           {"tcp-fin", 1},
                                           {"tcp-rst", 4},
                                           {"tcp-push", 8},
                                           {"tcp-urg", 32},
                                           {"tcp-cwr", 128},
                                           {"icmptype", 0},
                                           {"icmpcode", 1},
                                           {"icmp-echo", 8},
                                           {"icmp-echoreply", 0},
                                           {"icmp-unreach", 3},
                                           {"icmp6type", 0},
                                           {"icmp6-echo", 128},
                                           {"icmp6-echoreply", 129}}};

// The C levels of the binary operators, loosest first; `safe`: libpcap's
// grammar gives it the same precedence (it declares none for % and ^).
struct Op {
  const char* text;
  int level;
  bool safe;
};
constexpr std::array<Op, 10> kOps = {{{"|", 0, true},
                                      {"^", 1, false},
                                      {"&", 2, true},
                                      {"<<", 3, true},
                                      {">>", 3, true},
                                      {"+", 4, true},
                                      {"-", 4, true},
                                      {"*", 5, true},
                                      {"/", 5, true},
                                      {"%", 5, false}}};

std::string Number(std::uint32_t v, int form) {
  char buf[16];
  if (form == 1) {
    std::snprintf(buf, sizeof buf, "0x%x", v);
  } else if (form == 2 && v != 0 && v < 010000000000) { // 12 digits: libpcap lexes a MAC address
    std::snprintf(buf, sizeof buf, "0%o", v);
  } else {
    std::snprintf(buf, sizeof buf, "%u", v);
  }
  return buf;
}

// The value of a leftmost leaf as written; -1 for `len`.
long LeafValue(const std::string& leaf) {
  for (const Named& n : kNamed) {
    if (leaf == n.name) {
      return n.value;
    }
  }
  if (leaf.empty() || !std::isdigit(static_cast<unsigned char>(leaf[0]))) {
    return -1;
  }
  return static_cast<long>(std::stoul(leaf, nullptr, 0));
}

bool WordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '\\';
}

} // namespace

RelationGenerator::Text RelationGenerator::Leaf() {
  const int kind = Pick(20);
  if (kind < 3) {
    const Named& n = kNamed[static_cast<std::size_t>(Pick(static_cast<int>(kNamed.size())))];
    return {n.name, 9, n.name, true};
  }
  if (kind < 5) {
    const std::string w = Pick(3) == 0 ? "length" : "len";
    return {w, 9, w, false};
  }
  static constexpr std::array<std::uint32_t, 8> kEdges = {0,          1,    2,          1400,
                                                          0xffffffff, 0x80, 0x47455420, 65535};
  const std::uint32_t v = Pick(5) == 0 ? kEdges[static_cast<std::size_t>(Pick(8))]
                                       : static_cast<std::uint32_t>(Pick(256));
  const std::string text = Number(v, Pick(4) == 0 ? 1 : Pick(8) == 0 ? 2 : 0);
  return {text, 9, text, true};
}

RelationGenerator::Text RelationGenerator::Load(int depth) {
  static constexpr std::array<const char*, 16> kBases = {
      "tcp", "tcp", "tcp", "udp", "udp", "icmp",  "icmp", "icmp6",
      "ip",  "ip",  "ip",  "ip6", "ip6", "ether", "link", "sctp"};
  const std::string base = kBases[static_cast<std::size_t>(Pick(16))];
  Text offset;
  const int kind = Pick(20);
  if (kind < 3 && base == "tcp") { // the data offset idiom
    offset = {"((tcp[12:1] & 0xf0) >> 2)", 9, "12", false, {"tcp"}};
  } else if (kind < 5) {
    offset = Value(depth - 1);
  } else if (kind < 7) {
    offset = Leaf();
  } else {
    // Inside the headers, past them, past any packet, or wrapping around.
    const std::uint32_t v = kind < 15   ? static_cast<std::uint32_t>(Pick(48))
                            : kind < 18 ? static_cast<std::uint32_t>(40 + Pick(160))
                            : kind < 19 ? static_cast<std::uint32_t>(1000 + Pick(1000))
                                        : 0xffffffecu + static_cast<std::uint32_t>(Pick(20));
    const std::string text = Number(v, Pick(5) == 0 ? 1 : 0);
    offset = {text, 9, text, true};
  }
  static constexpr std::array<const char*, 5> kSizes = {"", "", ":1", ":2", ":4"};
  offset.bases.push_back(base);
  const std::string text =
      base + "[" + offset.text + kSizes[static_cast<std::size_t>(Pick(5))] + "]";
  return {text, 9, offset.leftmost, false, offset.bases};
}

// A divisor or shift count that gencode.c accepts: its leftmost leaf (the
// first instruction libpcap checks) is not 0 (or over 31 for a shift), and
// it is not constant (libpcap's optimizer folds a constant and refuses 0).
RelationGenerator::Text RelationGenerator::Divisor(bool shift, int depth) {
  if (Pick(2) == 0) {
    Text v = Value(depth);
    const long first = LeafValue(v.leftmost);
    if (!v.constant && first != 0 && (!shift || first <= 31)) {
      return v;
    }
  }
  const std::string text = std::to_string(shift ? Pick(32) : 1 + Pick(300));
  return {text, 9, text, true};
}

RelationGenerator::Text RelationGenerator::Binary(int depth) {
  const Op& op = kOps[static_cast<std::size_t>(Pick(static_cast<int>(kOps.size())))];
  const std::string o = op.text;
  Text left = Value(depth - 1);
  Text right = o == "/" || o == "%" || o == "<<" || o == ">>"
                   ? Divisor(o[0] == '<' || o[0] == '>', depth - 1)
                   : Value(depth - 1);
  if ((o == "*" || o == "&") && right.constant && LeafValue(right.text) == 0) {
    right = {"1", 9, "1", true}; // libpcap's optimizer folds x * 0 to a constant
  }
  // Brackets where C and libpcap could read it otherwise, and sometimes
  // where neither needs them.
  auto bracket = [&](Text& t, bool is_right) {
    const bool need =
        t.level != 9 && (!op.safe || t.level < op.level || (t.level == op.level && is_right));
    if (need || Pick(5) == 0) {
      t.text = "(" + t.text + ")";
      t.level = 9;
    }
  };
  bracket(left, false);
  bracket(right, true);
  Text out{left.text + " " + o + " " + right.text, op.level, left.leftmost,
           left.constant && right.constant, left.bases};
  out.bases.insert(out.bases.end(), right.bases.begin(), right.bases.end());
  if (!op.safe) { // `%` and `^` stay bracketed wherever they are used
    out.text = "(" + out.text + ")";
    out.level = 9;
  }
  return out;
}

RelationGenerator::Text RelationGenerator::Value(int depth) {
  const int kind = Pick(20);
  if (depth <= 0 || kind < 6) {
    return Leaf();
  }
  if (kind < 12) {
    return Load(depth);
  }
  if (kind < 13) { // unary minus, written "-(x)"
    Text v = Value(depth - 1);
    // Level 8: tighter than every binary operator, but libpcap reads
    // `-(a) % b` as `-((a) % b)`, so it is bracketed under % and ^.
    return {"-(" + v.text + ")", 8, v.leftmost, v.constant, v.bases};
  }
  return Binary(depth);
}

std::string RelationGenerator::Relation(std::string* libpcap) {
  static constexpr std::array<const char*, 7> kRelops = {">", "<", ">=", "<=", "=", "==", "!="};
  Text left = Value(3);
  if (left.text[0] == '-') { // tcpdump would read a leading "-" as an option
    left.text = "(" + left.text + ")";
  }
  Text right = Pick(2) == 0 ? Leaf() : Value(2);
  right.bases.insert(right.bases.end(), left.bases.begin(), left.bases.end());
  const std::string text =
      left.text + " " + kRelops[static_cast<std::size_t>(Pick(7))] + " " + right.text;
  if (libpcap != nullptr) {
    std::string guards;
    for (const std::string& base : right.bases) {
      const std::string guard = HeaderGuard(base);
      if (!guard.empty() && guards.find(guard + " and ") != 0 &&
          guards.find(" and " + guard + " and ") == std::string::npos) {
        guards += guard + " and ";
      }
    }
    *libpcap = guards.empty() ? text : "(" + guards + text + ")";
  }
  return text;
}

std::string HeaderGuard(const std::string& word) {
  if (word == "ip" || word == "ip6") {
    return word;
  }
  if (word == "icmp6") {
    return "(ip6 and ip6[6] = 58)";
  }
  const char* number = word == "tcp"    ? "6"
                       : word == "udp"  ? "17"
                       : word == "icmp" ? "1"
                       : word == "sctp" ? "132"
                                        : nullptr;
  return number == nullptr ? std::string()
                           : "(ip proto " + std::string(number) + " and ip[6:2] & 0x1fff = 0)";
}

std::string RelationGenerator::Primitive() {
  static constexpr std::array<const char*, 18> kPrimitives = {"tcp",
                                                              "udp",
                                                              "icmp",
                                                              "icmp6",
                                                              "ip",
                                                              "ip6",
                                                              "port 80",
                                                              "port 53",
                                                              "src port 1000",
                                                              "tcp port 80",
                                                              "udp port 53",
                                                              "less 100",
                                                              "greater 1400",
                                                              "proto 47",
                                                              "host 192.0.2.1",
                                                              "net 2001:db8::/32",
                                                              "dst host 198.51.100.42",
                                                              "ip proto 6"};
  return kPrimitives[static_cast<std::size_t>(Pick(static_cast<int>(kPrimitives.size())))];
}

std::string RelationGenerator::Expression(int depth, std::string* libpcap) {
  std::string ignored;
  std::string& theirs = libpcap != nullptr ? *libpcap : ignored;
  const int kind = Pick(10);
  if (depth <= 0 || kind < 4) {
    if (Pick(3) == 0) {
      theirs = Primitive();
      return theirs;
    }
    return Relation(&theirs);
  }
  if (kind < 5) {
    const std::string operand = Expression(depth - 1, &theirs);
    theirs = "not " + theirs;
    return "not " + operand;
  }
  const char* op = kind < 8 ? " and " : " or ";
  std::string left_theirs, right_theirs;
  const std::string left = Expression(depth - 1, &left_theirs);
  const std::string right = Expression(depth - 1, &right_theirs);
  theirs = "(" + left_theirs + op + right_theirs + ")";
  return "(" + left + op + right + ")";
}

std::string RewriteTransportLoads(const std::string& original, const std::string& word,
                                  std::uint32_t offset) {
  std::string text = original;
  const std::string guard = HeaderGuard(word);
  for (std::size_t at = text.find(guard); !guard.empty() && at != std::string::npos;
       at = text.find(guard, at)) {
    text.replace(at, guard.size(), "ip6");
  }
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const bool at_word = text.compare(i, word.size(), word) == 0 &&
                         (i == 0 || !WordChar(text[i - 1])) &&
                         (i + word.size() >= text.size() || !WordChar(text[i + word.size()]));
    std::size_t open = i + word.size();
    while (at_word && open < text.size() && text[open] == ' ') {
      ++open;
    }
    if (!at_word || open >= text.size() || text[open] != '[') {
      out += text[i++];
      continue;
    }
    // The matching "]" and the size's ":" at this bracket depth.
    int depth = 0;
    std::size_t close = open;
    std::size_t colon = std::string::npos;
    for (; close < text.size(); ++close) {
      depth += text[close] == '[' ? 1 : text[close] == ']' ? -1 : 0;
      if (depth == 1 && text[close] == ':') {
        colon = close;
      }
      if (depth == 0) {
        break;
      }
    }
    const std::size_t end = colon == std::string::npos ? close : colon;
    const std::string index =
        RewriteTransportLoads(text.substr(open + 1, end - open - 1), word, offset);
    out += "ip6[(" + index + ") + " + std::to_string(offset) + text.substr(end, close - end) + "]";
    i = close + 1;
  }
  return out;
}

std::optional<std::string> LibpcapEquivalent(const std::string& text,
                                             std::span<const std::uint8_t> p) {
  if (p.size() < 40 || p[0] >> 4 != 6) {
    return std::nullopt;
  }
  // SPEC 1's extension walk, written again here: hop-by-hop, routing,
  // destination options, fragment (offset 0 only), AH; at most 8.
  std::uint8_t next = p[6];
  std::size_t offset = 40;
  for (int walked = 0; next == 0 || next == 43 || next == 60 || next == 44 || next == 51;
       ++walked) {
    const std::size_t need = next == 44 ? 8 : 2;
    if (walked == 8 || offset + need > p.size()) {
      return std::nullopt;
    }
    const std::uint8_t type = next;
    next = p[offset];
    if (type == 44) {
      if (((p[offset + 2] << 8 | p[offset + 3]) & 0xfff8) != 0) {
        return std::nullopt; // a later fragment: no transport header
      }
      offset += 8;
    } else {
      offset += type == 51 ? (p[offset + 1] + 2u) * 4u : (p[offset + 1] + 1u) * 8u;
    }
  }
  const char* word = next == 6     ? "tcp"
                     : next == 17  ? "udp"
                     : next == 58  ? "icmp6"
                     : next == 132 ? "sctp"
                     : next == 103 ? "pim"
                                   : nullptr;
  if (word == nullptr) {
    return std::nullopt;
  }
  const std::string rewritten =
      RewriteTransportLoads(text, word, static_cast<std::uint32_t>(offset));
  return rewritten == text ? std::nullopt : std::optional<std::string>(rewritten);
}

} // namespace wgcap::test
