// SPDX-License-Identifier: Apache-2.0
// The words of a primitive's qualifiers and what each stands for.
#include <algorithm>
#include <cctype>
#include <iterator>

#include "filter/primitive.hpp"
#include "filter/token.hpp"
#include "wgcap/packet_parse.hpp"

namespace wgcap::filter {

namespace {

// Each protocol qualifier, its number and the IP family libpcap gives it
// (gencode.c, gen_proto_abbrev_internal): `icmp` is ICMP over IPv4 only,
// `pim` and `sctp` are either family. 0 = no number / either family.
struct ProtoWord {
  QualProto proto;
  std::string_view name;
  std::uint8_t protocol;
  std::uint8_t family;
};
constexpr ProtoWord kProtoWords[] = {
    {QualProto::Ip, "ip", 0, 4},
    {QualProto::Ip6, "ip6", 0, 6},
    {QualProto::Tcp, "tcp", kProtoTcp, 0},
    {QualProto::Udp, "udp", kProtoUdp, 0},
    {QualProto::Icmp, "icmp", kProtoIcmp, 4},
    {QualProto::Icmp6, "icmp6", kProtoIcmp6, 6},
    {QualProto::Igmp, "igmp", 2, 4},
    {QualProto::Igrp, "igrp", 9, 4},
    {QualProto::Pim, "pim", 103, 0},
    {QualProto::Vrrp, "vrrp", 112, 4},
    {QualProto::Carp, "carp", 112, 4},
    {QualProto::Sctp, "sctp", kProtoSctp, 0},
    {QualProto::Ah, "ah", 51, 0},
    {QualProto::Esp, "esp", 50, 0},
};

const ProtoWord* Find(QualProto proto) {
  for (const ProtoWord& w : kProtoWords) {
    if (w.proto == proto) {
      return &w;
    }
  }
  return nullptr;
}

} // namespace

std::optional<QualProto> ProtoQualifier(std::string_view w) {
  for (const ProtoWord& p : kProtoWords) {
    if (p.name == w) {
      return p.proto;
    }
  }
  return std::nullopt;
}

const char* ProtoName(QualProto proto) {
  const ProtoWord* w = Find(proto);
  return w != nullptr ? w->name.data() : "";
}

int AddProtoTerms(QualProto proto, int column, const AddNode& add) {
  const ProtoWord* w = Find(proto);
  if (w == nullptr) {
    return -1;
  }
  auto leaf = [&](const Term& t) {
    FilterNode n;
    n.term = t;
    n.column = column;
    return add(n);
  };
  int family = -1;
  if (w->family != 0) {
    Term t;
    t.kind = TermKind::Family;
    t.family = w->family;
    family = leaf(t);
  }
  if (w->protocol == 0) {
    return family;
  }
  Term t;
  t.kind = TermKind::Protocol;
  t.protocol = w->protocol;
  const int number = leaf(t);
  if (family < 0 || number < 0) {
    return family < 0 ? number : -1;
  }
  FilterNode n;
  n.kind = FilterNode::Kind::And;
  n.left = family;
  n.right = number;
  n.column = column;
  return add(n);
}

std::optional<QualKind> KindWord(std::string_view k) {
  if (k == "host") {
    return QualKind::Host;
  }
  if (k == "net") {
    return QualKind::Net;
  }
  if (k == "port") {
    return QualKind::Port;
  }
  if (k == "portrange") {
    return QualKind::PortRange;
  }
  return std::nullopt;
}

bool IsPrimitiveKeyword(std::string_view k) {
  static constexpr std::string_view kWords[] = {"src",  "dst",       "host",  "net",
                                                "port", "portrange", "proto", "protochain",
                                                "less", "greater",   "peer"};
  return ProtoQualifier(k).has_value() ||
         std::find(std::begin(kWords), std::end(kWords), k) != std::end(kWords);
}

std::string NothingToLend(std::string_view id, bool number, bool address) {
  const std::string v(id);
  if (number) {
    return "expected a keyword before \"" + v + "\" (for example \"port " + v +
           "\"); the term before it has no host, net, port, portrange or proto to lend";
  }
  if (address) {
    return "expected a keyword before \"" + v + "\" (for example \"host " + v + "\" or \"net " + v +
           "\")";
  }
  return "unknown keyword \"" + v +
         "\" (expected host, net, port, portrange, src, dst, tcp, udp, icmp, icmp6, ip, ip6, "
         "proto, less, greater, peer, not or \"(\")";
}

std::string MissingValue(const Qualifiers& q, std::string_view after) {
  switch (q.kind) {
  case QualKind::Host:
    return "expected an address after \"host\", got ";
  case QualKind::Net:
    return "expected a prefix after \"net\", got ";
  case QualKind::Port:
  case QualKind::PortRange:
    return "expected a port, got ";
  case QualKind::Proto:
    return "expected a protocol number after \"proto\", got ";
  case QualKind::ProtoChain:
    return "expected a protocol after \"protochain\", got ";
  case QualKind::Default:
    break;
  }
  return "expected host, net, port, portrange or an address after \"" + std::string(after) +
         "\", got ";
}

} // namespace wgcap::filter

namespace wgcap::filter {

std::optional<std::string> LinkLayerWord(std::string_view w) {
  // The primitives of libpcap that read a link-layer header or link-layer
  // metadata (tests/data/libpcap-testrun/extract.py keeps the same list out
  // of the corpus); geneve and vxlan carry Ethernet frames.
  static constexpr std::string_view kWords[] = {
      "ether",   "link",   "llc",        "vlan",       "mpls",  "pppoed",  "pppoes",   "arp",
      "rarp",    "aarp",   "decnet",     "iso",        "atalk", "ipx",     "netbeui",  "stp",
      "lat",     "mopdl",  "moprc",      "sca",        "clnp",  "esis",    "isis",     "fddi",
      "tr",      "wlan",   "radio",      "ppp",        "slip",  "inbound", "outbound", "ifindex",
      "gateway", "geneve", "vxlan",      "ifname",     "rnr",   "rulenum", "reason",   "rset",
      "ruleset", "srnr",   "subrulenum", "action",     "type",  "subtype", "fisu",     "lssu",
      "msu",     "vpi",    "vci",        "lane",       "oam",   "oamf4",   "metac",    "bcc",
      "sc",      "ilmic",  "connectmsg", "metaconnect"};
  if (std::find(std::begin(kWords), std::end(kWords), w) == std::end(kWords)) {
    return std::nullopt;
  }
  return "\"" + std::string(w) + "\" needs a link layer: wgcap captures raw IP";
}

std::optional<std::string> FirstLinkLayerWord(const std::vector<Token>& tokens) {
  for (const Token& t : tokens) {
    if (t.kind != TokenKind::Word || t.escaped) {
      continue;
    }
    std::string word(t.text.substr(0, t.text.find('[')));
    std::transform(word.begin(), word.end(), word.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (auto why = LinkLayerWord(word)) {
      return "column " + std::to_string(t.column) + ": " + *why;
    }
  }
  return std::nullopt;
}

int AddCastTerms(QualProto proto, bool multicast, int column, const AddNode& add,
                 std::string* error) {
  auto dst = [&](TermKind kind, const char* text) {
    FilterNode n;
    n.term.kind = kind;
    n.term.endpoint = Endpoint::Dst;
    n.term.prefix = *IpPrefix::Parse(text);
    n.column = column;
    return add(n);
  };
  // libpcap (netmask 0, as tcpdump reading a file): `ip multicast` is a
  // first destination byte >= 224, `ip broadcast` a destination of all
  // zeros or all ones, `ip6 multicast` ff00::/8. The terms imply the family.
  if (proto == QualProto::Ip && multicast) {
    return dst(TermKind::Net, "224.0.0.0/3");
  }
  if (proto == QualProto::Ip6 && multicast) {
    return dst(TermKind::Net, "ff00::/8");
  }
  if (proto == QualProto::Ip) {
    const int zeros = dst(TermKind::Host, "0.0.0.0");
    const int ones = dst(TermKind::Host, "255.255.255.255");
    FilterNode n;
    n.kind = FilterNode::Kind::Or;
    n.left = zeros;
    n.right = ones;
    n.column = column;
    return zeros < 0 || ones < 0 ? -1 : add(n);
  }
  if (proto == QualProto::Ip6) {
    *error = "only link-layer/IP broadcast filters supported";
    return -1;
  }
  *error = std::string(multicast ? "\"multicast\"" : "\"broadcast\"") +
           (proto == QualProto::None ? "" : std::string(" after \"") + ProtoName(proto) + "\"") +
           " needs a link layer: wgcap captures raw IP (write " +
           (multicast ? "\"ip multicast\" or \"ip6 multicast\")" : "\"ip broadcast\")");
  return -1;
}

} // namespace wgcap::filter
