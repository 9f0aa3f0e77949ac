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
  Relation,   // packet-data relation: values[value_left] relation values[value_right]
  Peer,       // peer KEY: the packet's WireGuard peer (ParsedPacket::peer) is peer_key
};

// tcpdump's packet-data relations (`tcp[tcpflags] & tcp-syn != 0`,
// `ip[6:2] & 0x1fff != 0`, `len > 1400`): unsigned 32-bit arithmetic over
// constants, the packet length and big-endian loads relative to a header.
// A load whose header is absent (other family or protocol, a later fragment)
// makes its relation false; a load past the captured bytes, or a division or
// modulo by zero at run time, rejects the whole packet.

// Where a load's offset counts from.
enum class LoadBase : std::uint8_t {
  Packet,    // ether[] / link[]: the first byte of the (raw IP) packet
  Ip,        // ip[]: IPv4 header; false on other families
  Ip6,       // ip6[]: IPv6 fixed header; false on other families
  Transport, // tcp[] udp[] icmp[] icmp6[] sctp[] ...: the transport header of
             // `protocol`, located as the port primitives locate it
};

enum class ValueOp : std::uint8_t { Add, Sub, Mul, Div, Mod, And, Or, Xor, Shl, Shr };

struct ValueNode {
  enum class Kind : std::uint8_t {
    Constant, // constant
    Length,   // len: the packet's original length
    Load,     // size bytes at base + values[left]
    Binary,   // values[left] op values[right]
    Negate,   // 0 - values[left]
  };
  Kind kind = Kind::Constant;
  ValueOp op = ValueOp::Add;        // Binary
  LoadBase base = LoadBase::Packet; // Load
  std::uint8_t protocol = 0;        // Load with base Transport: 6 tcp, 17 udp, 1 icmp, ...
  std::uint8_t size = 1;            // Load: 1, 2 or 4
  std::uint32_t constant = 0;       // Constant
  int left = -1;                    // Load (offset), Binary, Negate
  int right = -1;                   // Binary
  int column = 0;                   // 1-based source column
  friend bool operator==(const ValueNode&, const ValueNode&) = default;
};

enum class Relation : std::uint8_t { Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual };

struct Term {
  TermKind kind = TermKind::Protocol;
  Endpoint endpoint = Endpoint::Either; // Host, Net, Port, PortRange
  IpPrefix prefix;                      // Host, Net
  std::uint16_t port_low = 0;           // Port, PortRange
  std::uint16_t port_high = 0;
  std::uint8_t protocol = 0;           // Protocol, ProtoChain
  std::uint8_t family = 0;             // Family
  std::uint32_t length = 0;            // Less, Greater
  Relation relation = Relation::Equal; // Relation (unsigned comparison)
  int value_left = -1;                 // Relation: indices into FilterExpression::values
  int value_right = -1;
  // Peer: the text as typed (a key or a prefix of one), and the full key once
  // ResolvePeerTerms found it (peer_resolved). Unresolved, it matches nothing.
  std::string peer_text;
  PeerKey peer_key{};
  bool peer_resolved = false;

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
  std::vector<ValueNode> values; // the arithmetic of Relation terms
  int root = -1;
  std::string source;
  // Readings a tcpdump user may not expect, each "column N: ...", for the
  // caller to show (the CLI prints them on stderr); the parse goes on.
  std::vector<std::string> warnings;

  bool empty() const noexcept { return root < 0; }
  const FilterNode& node(int i) const { return nodes[static_cast<std::size_t>(i)]; }
  const ValueNode& value(int i) const { return values[static_cast<std::size_t>(i)]; }
};

// Canonical, fully bracketed text of the expression ("(tcp and (port 443))"),
// for -d output and for tests.
std::string ToString(const FilterExpression& expr);
// A Relation term needs its expression to be printed; alone it prints as
// "relation".
std::string ToString(const Term& term);

} // namespace wgcap
