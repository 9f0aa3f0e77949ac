// SPDX-License-Identifier: Apache-2.0
// Lexer of packet-data relations, the named values of libpcap 1.10.3's
// scanner.l and the load words of its grammar.
#include "filter/relation_lexer.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "filter/relation.hpp"
#include "filter/token.hpp"

namespace wgcap::filter {
namespace {

struct Named {
  std::string_view name;
  std::uint32_t value;
};
// libpcap 1.10.3 scanner.l, in its order.
constexpr Named kNamed[] = {
    {"icmptype", 0},
    {"icmpcode", 1},
    {"icmp-echoreply", 0},
    {"icmp-unreach", 3},
    {"icmp-sourcequench", 4},
    {"icmp-redirect", 5},
    {"icmp-echo", 8},
    {"icmp-routeradvert", 9},
    {"icmp-routersolicit", 10},
    {"icmp-timxceed", 11},
    {"icmp-paramprob", 12},
    {"icmp-tstamp", 13},
    {"icmp-tstampreply", 14},
    {"icmp-ireq", 15},
    {"icmp-ireqreply", 16},
    {"icmp-maskreq", 17},
    {"icmp-maskreply", 18},
    {"icmp6type", 0},
    {"icmp6code", 1},
    {"icmp6-destinationunreach", 1},
    {"icmp6-packettoobig", 2},
    {"icmp6-timeexceeded", 3},
    {"icmp6-parameterproblem", 4},
    {"icmp6-echo", 128},
    {"icmp6-echoreply", 129},
    {"icmp6-multicastlistenerquery", 130},
    {"icmp6-multicastlistenerreportv1", 131},
    {"icmp6-multicastlistenerdone", 132},
    {"icmp6-routersolicit", 133},
    {"icmp6-routeradvert", 134},
    {"icmp6-neighborsolicit", 135},
    {"icmp6-neighboradvert", 136},
    {"icmp6-redirect", 137},
    {"icmp6-routerrenum", 138},
    {"icmp6-nodeinformationquery", 139},
    {"icmp6-nodeinformationresponse", 140},
    {"icmp6-ineighbordiscoverysolicit", 141},
    {"icmp6-ineighbordiscoveryadvert", 142},
    {"icmp6-multicastlistenerreportv2", 143},
    {"icmp6-homeagentdiscoveryrequest", 144},
    {"icmp6-homeagentdiscoveryreply", 145},
    {"icmp6-mobileprefixsolicit", 146},
    {"icmp6-mobileprefixadvert", 147},
    {"icmp6-certpathsolicit", 148},
    {"icmp6-certpathadvert", 149},
    {"icmp6-multicastrouteradvert", 151},
    {"icmp6-multicastroutersolicit", 152},
    {"icmp6-multicastrouterterm", 153},
    {"tcpflags", 13},
    {"tcp-fin", 0x01},
    {"tcp-syn", 0x02},
    {"tcp-rst", 0x04},
    {"tcp-push", 0x08},
    {"tcp-ack", 0x10},
    {"tcp-urg", 0x20},
    {"tcp-ece", 0x40},
    {"tcp-cwr", 0x80},
};

struct LoadName {
  std::string_view name;
  LoadWord word;
};
// libpcap's `pname` words that mean something on raw IP.
constexpr LoadName kLoads[] = {
    {"ether", {LoadBase::Packet, 0}},
    {"link", {LoadBase::Packet, 0}},
    {"ip", {LoadBase::Ip, 0}},
    {"ip6", {LoadBase::Ip6, 0}},
    {"tcp", {LoadBase::Transport, 6}},
    {"udp", {LoadBase::Transport, 17}},
    {"icmp", {LoadBase::Transport, 1}},
    {"icmp6", {LoadBase::Transport, 58}},
    {"sctp", {LoadBase::Transport, 132}},
    {"igmp", {LoadBase::Transport, 2}},
    {"igrp", {LoadBase::Transport, 9}},
    {"pim", {LoadBase::Transport, 103}},
    {"vrrp", {LoadBase::Transport, 112}},
    {"carp", {LoadBase::Transport, 112}},
};

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// "08" → error; "0x1f", "017", "42" → value, as libpcap's stoulen reads them.
void ReadNumber(Lexeme& l) {
  std::string_view t = l.text;
  unsigned base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    base = 16;
    t.remove_prefix(2);
  } else if (t.size() > 1 && t[0] == '0') {
    base = 8;
    t.remove_prefix(1);
  }
  std::uint64_t v = 0;
  for (char c : t) {
    const unsigned d = std::isdigit(static_cast<unsigned char>(c)) != 0 ? unsigned(c - '0')
                       : std::isxdigit(static_cast<unsigned char>(c)) != 0
                           ? unsigned(std::tolower(static_cast<unsigned char>(c)) - 'a' + 10)
                           : 99u;
    if (d >= base) {
      l.error = "number " + std::string(l.text) +
                (base == 8 && d < 10 ? " contains non-octal digit" : " is not a number");
      return;
    }
    v = v * base + d;
    if (v > 0xffffffffu) {
      l.error = "number " + std::string(l.text) + " overflows 32 bits";
      return;
    }
  }
  l.value = static_cast<std::uint32_t>(v);
}

} // namespace

std::optional<std::uint32_t> NamedValue(std::string_view w) {
  for (const Named& n : kNamed) {
    if (n.name == w) {
      return n.value;
    }
  }
  return std::nullopt;
}

std::optional<LoadWord> LoadWordFor(std::string_view w) {
  for (const LoadName& l : kLoads) {
    if (l.name == w) {
      return l.word;
    }
  }
  return std::nullopt;
}

Lexeme LexAt(std::string_view s, std::size_t i) {
  while (i < s.size() && IsBlank(s[i])) {
    ++i;
  }
  Lexeme l;
  l.offset = i;
  if (i >= s.size()) {
    return l;
  }
  const char c = s[i];
  if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
    std::size_t j = i;
    while (j < s.size() && IsAlnum(s[j])) {
      ++j;
    }
    l.kind = Lex::Number;
    l.text = s.substr(i, j - i);
    ReadNumber(l);
    return l;
  }
  if (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_') {
    std::size_t j = i;
    while (j < s.size() && (IsAlnum(s[j]) || s[j] == '_')) {
      ++j;
    }
    // "tcp-syn": the longest dashed run that is a named value; "len-1" stays
    // `len - 1`.
    std::size_t best = j;
    for (std::size_t k = j; k < s.size() && s[k] == '-';) {
      std::size_t m = k + 1;
      while (m < s.size() && (IsAlnum(s[m]) || s[m] == '_')) {
        ++m;
      }
      if (m == k + 1) {
        break;
      }
      if (NamedValue(Lower(s.substr(i, m - i)))) {
        best = m;
      }
      k = m;
    }
    l.kind = Lex::Name;
    l.text = s.substr(i, best - i);
    return l;
  }
  static constexpr std::string_view kTwo[] = {"<<", ">>", "<=", ">=", "==", "!="};
  for (std::string_view op : kTwo) {
    if (s.substr(i, 2) == op) {
      l.kind = Lex::Op;
      l.text = op;
      return l;
    }
  }
  if (s.substr(i, 2) == "&&" || s.substr(i, 2) == "||") {
    return l; // Stop: the boolean connective after the relation
  }
  if (std::string_view("[]:()+-*/%&|^<>=").find(c) != std::string_view::npos) {
    l.kind = Lex::Op;
    l.text = s.substr(i, 1);
  }
  return l; // anything else ends the relation
}

bool IsRelop(const Lexeme& l) {
  static constexpr std::string_view kRelops[] = {">", "<", ">=", "<=", "=", "==", "!="};
  return l.kind == Lex::Op &&
         std::find(std::begin(kRelops), std::end(kRelops), l.text) != std::end(kRelops);
}
int Level(const Lexeme& l) {
  if (l.kind != Lex::Op) {
    return -1;
  }
  static constexpr std::array<std::string_view, 10> kOps = {"|", "^", "&", "<<", ">>",
                                                            "+", "-", "*", "/",  "%"};
  static constexpr std::array<int, 10> kLevels = {0, 1, 2, 3, 3, 4, 4, 5, 5, 5};
  for (std::size_t i = 0; i < kOps.size(); ++i) {
    if (kOps[i] == l.text) {
      return kLevels[i];
    }
  }
  return -1;
}

bool NumberStartsRelation(std::string_view s, const Lexeme& number) {
  const Lexeme next = LexAt(s, number.offset + number.text.size());
  if (next.kind == Lex::Op && next.text == "-" &&
      next.offset == number.offset + number.text.size()) {
    return false;
  }
  return IsRelop(next) || Level(next) >= 0;
}

} // namespace wgcap::filter
