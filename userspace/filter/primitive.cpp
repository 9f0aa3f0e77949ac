// SPDX-License-Identifier: Apache-2.0
// Desugaring of `[proto] [dir] [kind] ID` into Host/Net/Port/PortRange/
// Protocol/Family terms. The error wordings are libpcap's (gencode.c and
// grammar.y of libpcap 1.10), so a message reads the same as tcpdump's.
#include "filter/primitive.hpp"

#include "filter/ipv4_text.hpp"
#include "filter/system_names.hpp"

#include "wgcap/packet_parse.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <charconv>

namespace wgcap::filter {
namespace {

std::optional<std::uint32_t> Decimal(std::string_view text, std::uint32_t min, std::uint32_t max) {
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    return std::nullopt;
  }
  return v;
}

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A port as written: a number, or a service name with its TCP and UDP
// numbers. A name known for one protocol only restricts the primitive to it,
// as libpcap's pcap_nametoport does.
struct PortValue {
  std::optional<std::uint16_t> tcp;
  std::optional<std::uint16_t> udp;
  bool named = false;
};

// value/length as a prefix, its host bits cleared (SPEC: host bits set in
// the text are ignored).
IpPrefix V4Prefix(std::uint32_t value, int length) {
  if (length < 32) {
    value &= length == 0 ? 0u : ~0u << (32 - length);
  }
  const IpAddress a =
      IpAddress::V4(static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
                    static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value));
  return IpPrefix{a, static_cast<std::uint8_t>(length)};
}

class Builder {
public:
  Builder(const Qualifiers& q, const IdText& id, int column, const AddNode& add, Diagnostic* error)
      : q_(q), id_(id), column_(column), add_(add), error_(error) {}

  int Build() {
    switch (q_.kind) {
    case QualKind::Default:
    case QualKind::Host:
    case QualKind::Net:
      return Address();
    case QualKind::Port:
      return Port();
    case QualKind::PortRange:
      return PortRange();
    case QualKind::Proto:
      return Protocol();
    case QualKind::ProtoChain:
      return ProtoChain();
    }
    return -1;
  }

private:
  int Fail(int column, std::string message) {
    if (error_->message.empty()) {
      *error_ = Diagnostic{column, std::move(message)};
    }
    return -1;
  }
  // Blame the protocol qualifier where it was written, else the ID.
  int ProtoColumn() const { return q_.proto_column != 0 ? q_.proto_column : id_.column; }
  // The protocols that have ports, as in libpcap.
  bool PortProtocol() const {
    return q_.proto == QualProto::None || q_.proto == QualProto::Tcp ||
           q_.proto == QualProto::Udp || q_.proto == QualProto::Sctp;
  }
  std::string Quoted(const std::string& s) const { return "\"" + s + "\""; }

  int Leaf(const Term& term, int column) {
    FilterNode n;
    n.kind = FilterNode::Kind::Term;
    n.term = term;
    n.column = column;
    return add_(n);
  }
  int Leaf(const Term& term) { return Leaf(term, column_); }
  int Join(FilterNode::Kind kind, int left, int right) {
    return AddBinary(kind, left, right, column_, add_);
  }

  // The term with the direction applied: `src and dst` needs both.
  int Directed(Term term) {
    switch (q_.dir) {
    case QualDir::Src:
      term.endpoint = Endpoint::Src;
      return Leaf(term);
    case QualDir::Dst:
      term.endpoint = Endpoint::Dst;
      return Leaf(term);
    case QualDir::SrcAndDst: {
      term.endpoint = Endpoint::Src;
      const int src = Leaf(term);
      term.endpoint = Endpoint::Dst;
      return Join(FilterNode::Kind::And, src, Leaf(term));
    }
    case QualDir::Default:
    case QualDir::SrcOrDst:
      break;
    }
    term.endpoint = Endpoint::Either;
    return Leaf(term);
  }

  // `tcp port 80` is `tcp and port 80`.
  int WithProtocol(QualProto proto, int core) {
    if (proto == QualProto::None || core < 0) {
      return core;
    }
    return Join(FilterNode::Kind::And, AddProtoTerms(proto, ProtoColumn(), add_), core);
  }

  bool LooksLikeAddress(const std::string& text) const {
    return IpAddress::Parse(text).has_value() || text.find('/') != std::string::npos;
  }

  std::optional<IpPrefix> ParseIpv6(bool* is_net);
  std::optional<IpPrefix> ParseIpv4(bool* is_net);
  int MaskLength();
  int Address();
  int WrongKindForAddress(const char* kind);
  std::optional<PortValue> ResolvePort(const std::string& text, int column, bool in_range);
  int Port();
  int PortRange();
  int Protocol();
  int ProtoChain();
  int ProtocolTerm(TermKind kind, const char* keyword);

  const Qualifiers& q_;
  const IdText& id_;
  int column_;
  const AddNode& add_;
  Diagnostic* error_;
};

// The ID as IPv6 text, "ADDR/LEN" or a bare address; a host may carry the
// full length (/128), as libpcap allows.
std::optional<IpPrefix> Builder::ParseIpv6(bool* is_net) {
  if (!id_.mask.empty()) {
    const auto address = IpAddress::Parse(id_.text);
    if (address && address->family == 4) { // IPv4-mapped: an IPv4 network
      std::uint32_t v = 0;
      for (std::size_t i = 0; i < 4; ++i) {
        v = (v << 8) | address->bytes[i];
      }
      const int length = MaskLength();
      *is_net = true;
      return length < 0 ? std::nullopt : std::optional<IpPrefix>(V4Prefix(v, length));
    }
    Fail(id_.mask_column, "\"mask\" applies to IPv4 networks only (write " + id_.text + "/LENGTH)");
    return std::nullopt;
  }
  if (id_.text.find('/') == std::string::npos) {
    const auto address = IpAddress::Parse(id_.text);
    if (!address) {
      Fail(id_.column, "invalid address " + Quoted(id_.text));
      return std::nullopt;
    }
    return IpPrefix::Host(*address);
  }
  std::string why;
  auto prefix = IpPrefix::Parse(id_.text, &why);
  if (!prefix) {
    Fail(id_.column, why);
    return std::nullopt;
  }
  const bool full = prefix->length == prefix->address.size() * 8;
  if (q_.kind == QualKind::Host && !full) {
    Fail(id_.column, "Mask syntax for networks only");
    return std::nullopt;
  }
  *is_net = q_.kind != QualKind::Host; // a prefix with no kind is a net
  return prefix;
}

// The length of "mask M" (M promoted as a short address is), or -1.
int Builder::MaskLength() {
  const auto mask = ParseDottedIpv4(id_.mask);
  const int length = mask ? std::countl_one(mask->value) : -1;
  if (length < 0 || (length < 32 && (mask->value << length) != 0)) {
    Fail(id_.mask_column, "invalid mask " + Quoted(id_.mask) +
                              " (expected a contiguous IPv4 netmask such as 255.255.255.0)");
    return -1;
  }
  return length;
}

// An IPv4 ID as libpcap reads it (ipv4_text.hpp): a number, or a dotted
// form whose missing parts make it a network (`host 10.0.1` is 10.0.1.0/24,
// as gencode promotes it), with an optional "/LEN" or "mask M".
std::optional<IpPrefix> Builder::ParseIpv4(bool* is_net) {
  const auto slash = id_.text.find('/');
  const std::string base = id_.text.substr(0, slash);
  const bool masked = slash != std::string::npos || !id_.mask.empty();
  if (base.find('.') == std::string::npos) {
    const auto number = ParseLibpcapNumber(base);
    if (!number || masked) {
      Fail(id_.column, number ? "a mask or /LEN needs a dotted network such as 10.0.0.0"
                              : "invalid address " + Quoted(base));
      return std::nullopt;
    }
    std::uint32_t v = *number;
    int length = 32;
    // libpcap: a bare number as a net is shifted past its leading zero
    // bytes (`net 10` is 10.0.0.0/8); as a host it is the 32-bit address.
    while (q_.kind == QualKind::Net && v != 0 && (v & 0xff000000u) == 0) {
      v <<= 8;
      length -= 8;
    }
    *is_net = q_.kind == QualKind::Net;
    return V4Prefix(v, length);
  }
  const auto id = ParseDottedIpv4(base);
  if (!id) {
    Fail(id_.column, InvalidIpv4(base));
    return std::nullopt;
  }
  int length = id->bits;
  if (!id_.mask.empty()) {
    length = MaskLength();
    if (length < 0) {
      return std::nullopt;
    }
  } else if (slash != std::string::npos) {
    const auto len = Decimal(id_.text.substr(slash + 1), 0, 32);
    if (!len) {
      Fail(id_.column, "invalid prefix length " + Quoted(id_.text.substr(slash + 1)) +
                           " for IPv4 (expected 0-32)");
      return std::nullopt;
    }
    length = static_cast<int>(*len);
  }
  if (q_.kind == QualKind::Host && masked && length != 32) {
    Fail(id_.column, "Mask syntax for networks only");
    return std::nullopt;
  }
  *is_net = q_.kind == QualKind::Net || length != 32 || (q_.kind != QualKind::Host && masked);
  return V4Prefix(id->value, length);
}

int Builder::Address() {
  bool is_net = q_.kind == QualKind::Net;
  std::optional<IpPrefix> prefix;
  const std::string base = id_.text.substr(0, id_.text.find('/'));
  if (base.find(':') != std::string::npos) {
    prefix = ParseIpv6(&is_net);
  } else if (LooksLikeIpv4Id(base)) {
    prefix = ParseIpv4(&is_net);
  } else {
    return Fail(id_.column,
                Quoted(id_.text) + ": " +
                    (q_.kind == QualKind::Net ? "network names are not looked up; give a network"
                                              : "host names are not looked up; give an address"));
  }
  if (!prefix) {
    return -1;
  }
  const bool v6 = prefix->address.family == 6;
  const std::string type = is_net ? "net" : "host";
  switch (q_.proto) {
  case QualProto::None:
    break;
  case QualProto::Ip:
    if (v6) {
      return Fail(ProtoColumn(), "'ip' modifier applied to ip6 " + type);
    }
    break;
  case QualProto::Ip6:
    if (!v6) {
      return Fail(ProtoColumn(), "'ip6' modifier applied to ip host");
    }
    break;
  default:
    return Fail(ProtoColumn(), std::string("'") + ProtoName(q_.proto) + "' modifier applied to " +
                                   (v6 ? "ip6 " : "") + type);
  }
  Term term;
  term.kind = is_net ? TermKind::Net : TermKind::Host;
  term.prefix = *prefix;
  return WithProtocol(q_.proto, Directed(term));
}

int Builder::WrongKindForAddress(const char* kind) {
  if (!id_.mask.empty() || id_.text.find('/') != std::string::npos) {
    return Fail(id_.column, "Mask syntax for networks only");
  }
  if (IpAddress::Parse(id_.text)->family == 6) {
    return Fail(id_.column, "invalid qualifier against IPv6 address");
  }
  return Fail(id_.column, std::string("'") + kind + "' modifier applied to ip host");
}

std::optional<PortValue> Builder::ResolvePort(const std::string& text, int column, bool in_range) {
  // A number as libpcap's lexer reads it: 0x hex, leading-0 octal (`port
  // 010` is port 8, as in tcpdump).
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  if (AllDigits(text) || text.empty() || hex) {
    const auto number = ParseLibpcapNumber(text);
    const auto port = number && *number >= 1 && *number <= 65535 ? number : std::nullopt;
    if (!port) {
      Fail(column, "invalid port " + Quoted(text) + " (expected 1-65535)");
      return std::nullopt;
    }
    const auto p = static_cast<std::uint16_t>(*port);
    return PortValue{p, p, false};
  }
  const auto dash = text.find('-');
  if (!in_range && dash != std::string::npos && AllDigits(text.substr(0, dash)) &&
      AllDigits(text.substr(dash + 1))) {
    Fail(column, "invalid port " + Quoted(text) + " (expected 1-65535; a range is \"portrange " +
                     text + "\")");
    return std::nullopt;
  }
  PortValue v{Service(text, "tcp"), Service(text, "udp"), true};
  if (!v.tcp && !v.udp) {
    Fail(in_range ? id_.column : column,
         in_range ? "unknown port in range '" + id_.text + "-" + id_.high + "'"
                  : "unknown port '" + text + "'");
    return std::nullopt;
  }
  return v;
}

// A port term for each protocol the name is known for: `port domain` is
// `port 53`, `port ssh` is `tcp and port 22` (ssh is TCP only), a name with
// different TCP and UDP numbers `(tcp and port a) or (udp and port b)`.
int Builder::Port() {
  if (!PortProtocol()) {
    return Fail(ProtoColumn(), "illegal qualifier of 'port'");
  }
  if (LooksLikeAddress(id_.text) || !id_.mask.empty()) {
    return WrongKindForAddress("port");
  }
  const auto value = ResolvePort(id_.text, id_.column, false);
  if (!value) {
    return -1;
  }
  auto port_term = [&](std::uint16_t port) {
    Term t;
    t.kind = TermKind::Port;
    t.port_low = t.port_high = port;
    return Directed(t);
  };
  if (q_.proto == QualProto::Sctp) {
    return WithProtocol(q_.proto, port_term(value->tcp.value_or(*value->udp)));
  }
  if (q_.proto == QualProto::Tcp || q_.proto == QualProto::Udp) {
    const bool tcp = q_.proto == QualProto::Tcp;
    const auto port = tcp ? value->tcp : value->udp;
    if (!port) {
      return Fail(id_.column, "port '" + id_.text + "' is " + (tcp ? "udp" : "tcp"));
    }
    return WithProtocol(q_.proto, port_term(*port));
  }
  if (value->tcp && value->udp && *value->tcp == *value->udp) {
    return port_term(*value->tcp);
  }
  int tcp = -1;
  int udp = -1;
  if (value->tcp) {
    tcp = WithProtocol(QualProto::Tcp, port_term(*value->tcp));
    if (!value->udp) {
      return tcp;
    }
  }
  udp = WithProtocol(QualProto::Udp, port_term(*value->udp));
  return value->tcp ? Join(FilterNode::Kind::Or, tcp, udp) : udp;
}

int Builder::PortRange() {
  if (!PortProtocol()) {
    return Fail(ProtoColumn(), "illegal qualifier of 'portrange'");
  }
  if (LooksLikeAddress(id_.text) || !id_.mask.empty()) {
    return WrongKindForAddress("portrange");
  }
  const auto low = ResolvePort(id_.text, id_.column, true);
  if (!low) {
    return -1;
  }
  const auto high = id_.high.empty() ? low : ResolvePort(id_.high, id_.high_column, true);
  if (!high) {
    return -1;
  }
  // As libpcap: a side named for one protocol restricts the range to it,
  // unless the other side names the other protocol.
  auto restriction = [](const PortValue& v) {
    return !v.named || (v.tcp && v.udp) ? QualProto::None : v.tcp ? QualProto::Tcp : QualProto::Udp;
  };
  const QualProto named =
      restriction(*low) == restriction(*high) ? restriction(*low) : QualProto::None;
  if (q_.proto != QualProto::None && q_.proto != QualProto::Sctp && named != QualProto::None &&
      named != q_.proto) {
    return Fail(id_.column, "port in range '" + id_.text +
                                (id_.high.empty() ? "" : "-" + id_.high) + "' is " +
                                ProtoName(named));
  }
  auto number = [&](const PortValue& v) {
    return q_.proto == QualProto::Udp ? v.udp.value_or(*v.tcp) : v.tcp.value_or(*v.udp);
  };
  Term t;
  t.kind = TermKind::PortRange;
  // As in libpcap, a reversed range means the same ports.
  t.port_low = std::min(number(*low), number(*high));
  t.port_high = std::max(number(*low), number(*high));
  const QualProto proto = q_.proto != QualProto::None ? q_.proto : named;
  return WithProtocol(proto, Directed(t));
}

int Builder::Protocol() {
  return ProtocolTerm(TermKind::Protocol, "proto");
}

int Builder::ProtoChain() {
  return ProtocolTerm(TermKind::ProtoChain, "protochain");
}

// `proto N` and `protochain N`: N as libpcap's lexer reads numbers (hex,
// leading-0 octal), or a name from /etc/protocols (`proto \tcp`), as tcpdump.
int Builder::ProtocolTerm(TermKind kind, const char* keyword) {
  if (LooksLikeAddress(id_.text) || !id_.mask.empty()) {
    return WrongKindForAddress(keyword);
  }
  std::optional<std::uint32_t> n;
  if (LooksLikeIpv4Id(id_.text)) {
    n = ParseLibpcapNumber(id_.text);
    if (!n || *n > 255) {
      return Fail(id_.column, "invalid protocol " + Quoted(id_.text) + " after \"" + keyword +
                                  "\" (expected 0-255)");
    }
  } else if (n = ProtocolNumber(id_.text); !n) {
    return Fail(id_.column, "unknown ip proto '" + id_.text + "'");
  }
  Term t;
  t.kind = kind;
  t.protocol = static_cast<std::uint8_t>(*n);
  return WithProtocol(q_.proto, Leaf(t));
}

} // namespace

int BuildPrimitive(const Qualifiers& q, const IdText& id, int column, const AddNode& add,
                   Diagnostic* error) {
  return Builder(q, id, column, add, error).Build();
}

int AddBinary(FilterNode::Kind kind, int left, int right, int column, const AddNode& add) {
  if (left < 0 || right < 0) {
    return -1;
  }
  FilterNode n;
  n.kind = kind;
  n.left = left;
  n.right = right;
  n.column = column;
  return add(n);
}

} // namespace wgcap::filter
