// SPDX-License-Identifier: Apache-2.0
// Desugaring of `[proto] [dir] [kind] ID` into Host/Net/Port/PortRange/
// Protocol/Family terms. The error wordings are libpcap's (gencode.c and
// grammar.y of libpcap 1.10), so a message reads the same as tcpdump's.
#include "filter/primitive.hpp"

#include "wgcap/packet_parse.hpp"

#include <netdb.h>

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

std::optional<std::uint16_t> Service(const std::string& name, const char* protocol) {
  servent entry{};
  servent* found = nullptr;
  char buffer[4096];
  if (getservbyname_r(name.c_str(), protocol, &entry, buffer, sizeof buffer, &found) != 0 ||
      found == nullptr) {
    return std::nullopt;
  }
  return ntohs(static_cast<std::uint16_t>(found->s_port));
}

// A port as written: a number, or a service name with its TCP and UDP
// numbers. A name known for one protocol only restricts the primitive to it,
// as libpcap's pcap_nametoport does.
struct PortValue {
  std::optional<std::uint16_t> tcp;
  std::optional<std::uint16_t> udp;
  bool named = false;
};

int PrefixLength(const IpAddress& mask) {
  std::uint32_t m = 0;
  for (int i = 0; i < 4; ++i) {
    m = (m << 8) | mask.bytes[static_cast<std::size_t>(i)];
  }
  const int length = std::countl_one(m);
  return (length == 32 || (m << length) == 0) ? length : -1;
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
    if (left < 0 || right < 0) {
      return -1;
    }
    FilterNode n;
    n.kind = kind;
    n.left = left;
    n.right = right;
    n.column = column_;
    return add_(n);
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
    return Join(FilterNode::Kind::And, Leaf(ProtoTerm(proto), ProtoColumn()), core);
  }

  bool LooksLikeAddress(const std::string& text) const {
    return IpAddress::Parse(text).has_value() || text.find('/') != std::string::npos;
  }

  std::optional<IpPrefix> ParseMasked(bool* is_net);
  std::optional<IpPrefix> ParseNumber(bool* is_net);
  int Address();
  int WrongKindForAddress(const char* kind);
  std::optional<PortValue> ResolvePort(const std::string& text, int column, bool in_range);
  int Port();
  int PortRange();
  int Protocol();
  int ProtoChain();

  const Qualifiers& q_;
  const IdText& id_;
  int column_;
  const AddNode& add_;
  Diagnostic* error_;
};

std::optional<IpPrefix> Builder::ParseMasked(bool* is_net) {
  const auto address = IpAddress::Parse(id_.text);
  if (!address) {
    Fail(id_.column, "invalid address " + Quoted(id_.text));
    return std::nullopt;
  }
  if (q_.kind == QualKind::Host) {
    Fail(id_.column, "Mask syntax for networks only");
    return std::nullopt;
  }
  if (address->family == 6) {
    Fail(id_.mask_column, "\"mask\" applies to IPv4 networks only (write " + id_.text + "/LENGTH)");
    return std::nullopt;
  }
  const auto mask = IpAddress::Parse(id_.mask);
  const int length = mask && mask->family == 4 ? PrefixLength(*mask) : -1;
  if (length < 0) {
    Fail(id_.mask_column, "invalid mask " + Quoted(id_.mask) +
                              " (expected a contiguous IPv4 netmask such as 255.255.255.0)");
    return std::nullopt;
  }
  *is_net = true;
  // From the address as parsed: an IPv4-mapped one is IPv4 by now.
  return IpPrefix::Parse(address->ToString() + "/" + std::to_string(length));
}

// A bare number, as libpcap 1.10 reads it: a 32-bit IPv4 host (`src 10` is
// 0.0.0.10); for `net`, shifted up past its leading zero bytes (`net 10` is
// 10.0.0.0/8).
std::optional<IpPrefix> Builder::ParseNumber(bool* is_net) {
  auto value = Decimal(id_.text, 0, UINT32_MAX);
  if (!value) {
    Fail(id_.column, "invalid address " + Quoted(id_.text));
    return std::nullopt;
  }
  std::uint32_t v = *value;
  int length = 32;
  if (q_.kind == QualKind::Net) {
    while (v != 0 && (v & 0xff000000u) == 0) {
      v <<= 8;
      length -= 8;
    }
  }
  const IpAddress a =
      IpAddress::V4(static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                    static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v));
  *is_net = q_.kind == QualKind::Net;
  return IpPrefix{a, static_cast<std::uint8_t>(length)};
}

int Builder::Address() {
  bool is_net = q_.kind == QualKind::Net;
  std::optional<IpPrefix> prefix;
  if (!id_.mask.empty()) {
    prefix = ParseMasked(&is_net);
  } else if (AllDigits(id_.text)) {
    prefix = ParseNumber(&is_net);
  } else if (id_.text.find('/') != std::string::npos) {
    if (q_.kind == QualKind::Host) {
      return Fail(id_.column,
                  "invalid address " + Quoted(id_.text) + " (use \"net\" for a prefix)");
    }
    std::string why;
    prefix = IpPrefix::Parse(id_.text, &why);
    if (!prefix) {
      return Fail(id_.column, why);
    }
    is_net = true; // a prefix with no kind is a net
  } else if (const auto address = IpAddress::Parse(id_.text)) {
    prefix = IpPrefix::Host(*address);
  } else {
    return Fail(id_.column, "invalid address " + Quoted(id_.text));
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
  if (AllDigits(text) || text.empty()) {
    const auto port = Decimal(text, 1, 65535);
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
  if (q_.proto != QualProto::None && q_.proto != QualProto::Tcp && q_.proto != QualProto::Udp) {
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
  if (q_.proto != QualProto::None && q_.proto != QualProto::Tcp && q_.proto != QualProto::Udp) {
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
  if (q_.proto != QualProto::None && named != QualProto::None && named != q_.proto) {
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
  if (LooksLikeAddress(id_.text) || !id_.mask.empty()) {
    return WrongKindForAddress("proto");
  }
  const auto n = Decimal(id_.text, 0, 255);
  if (!n) {
    return Fail(id_.column,
                "invalid protocol " + Quoted(id_.text) + " after \"proto\" (expected 0-255)");
  }
  Term t;
  t.kind = TermKind::Protocol;
  t.protocol = static_cast<std::uint8_t>(*n);
  return WithProtocol(q_.proto, Leaf(t));
}

// `protochain N`: N a number 0-255 or a name from /etc/protocols, as
// libpcap's pcap_nametoproto; a leading backslash (`\udp`) is dropped.
int Builder::ProtoChain() {
  if (LooksLikeAddress(id_.text) || !id_.mask.empty()) {
    return WrongKindForAddress("protochain");
  }
  std::optional<std::uint32_t> n;
  if (AllDigits(id_.text)) {
    n = Decimal(id_.text, 0, 255);
  } else {
    const std::string name = id_.text.starts_with('\\') ? id_.text.substr(1) : id_.text;
    protoent entry{};
    protoent* found = nullptr;
    char buffer[1024];
    if (!name.empty() &&
        getprotobyname_r(name.c_str(), &entry, buffer, sizeof buffer, &found) == 0 &&
        found != nullptr && found->p_proto >= 0 && found->p_proto <= 255) {
      n = static_cast<std::uint32_t>(found->p_proto);
    }
  }
  if (!n) {
    return Fail(id_.column, "invalid protocol " + Quoted(id_.text) +
                                " after \"protochain\" (expected 0-255 or a protocol name)");
  }
  Term t;
  t.kind = TermKind::ProtoChain;
  t.protocol = static_cast<std::uint8_t>(*n);
  return WithProtocol(q_.proto, Leaf(t));
}

} // namespace

int BuildPrimitive(const Qualifiers& q, const IdText& id, int column, const AddNode& add,
                   Diagnostic* error) {
  return Builder(q, id, column, add, error).Build();
}

} // namespace wgcap::filter
