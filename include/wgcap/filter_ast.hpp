// SPDX-License-Identifier: Apache-2.0
// The filter expression as a tree: the single source of truth that every
// evaluator (userspace Matcher, kernel program, classic socket filter)
// consumes. Nodes live in one vector and refer to each other by index.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wgcap/ip_address.hpp"

namespace wgcap {

enum class Endpoint : std::uint8_t { Either, Src, Dst };

enum class TermKind : std::uint8_t {
  Host,       // prefix holds a full-length prefix
  Net,        // prefix
  Port,       // port_low == port_high
  PortRange,  // port_low..port_high inclusive
  Protocol,   // upper-layer protocol == protocol (tcp, udp, icmp, icmp6, proto N),
              // or protocol is an extension header the IPv6 walk met
  ProtoChain, // protochain N: protocol appears anywhere in the walked header chain
  Family,     // family == 4 (ip) or 6 (ip6)
  Less,       // original length <= length
  Greater,    // original length >= length
};

struct Term {
  TermKind kind = TermKind::Protocol;
  Endpoint endpoint = Endpoint::Either; // Host, Net, Port, PortRange
  IpPrefix prefix;                      // Host, Net
  std::uint16_t port_low = 0;           // Port, PortRange
  std::uint16_t port_high = 0;
  std::uint8_t protocol = 0; // Protocol, ProtoChain
  std::uint8_t family = 0;   // Family
  std::uint32_t length = 0;  // Less, Greater

  friend bool operator==(const Term&, const Term&) = default;
};

struct FilterNode {
  enum class Kind : std::uint8_t { And, Or, Not, Term };
  Kind kind = Kind::Term;
  int left = -1;  // And, Or, Not (operand)
  int right = -1; // And, Or
  Term term;      // Term
  int column = 0; // 1-based source column of the token that made the node
};

// A parsed expression; root == -1 means the empty expression (match all).
struct FilterExpression {
  std::vector<FilterNode> nodes;
  int root = -1;
  std::string source;
  // Readings a tcpdump user may not expect, each "column N: ...", for the
  // caller to show (the CLI prints them on stderr); the parse goes on.
  std::vector<std::string> warnings;

  bool empty() const noexcept { return root < 0; }
  const FilterNode& node(int i) const { return nodes[static_cast<std::size_t>(i)]; }
};

// Canonical, fully bracketed text of the expression ("(tcp and (port 443))"),
// for -d output and for tests.
std::string ToString(const FilterExpression& expr);
std::string ToString(const Term& term);

} // namespace wgcap
