// SPDX-License-Identifier: Apache-2.0
// The words of a primitive's qualifiers and what each stands for.
#include <algorithm>
#include <iterator>

#include "filter/primitive.hpp"
#include "wgcap/packet_parse.hpp"

namespace wgcap::filter {

std::optional<QualProto> ProtoQualifier(std::string_view w) {
  if (w == "ip") {
    return QualProto::Ip;
  }
  if (w == "ip6") {
    return QualProto::Ip6;
  }
  if (w == "tcp") {
    return QualProto::Tcp;
  }
  if (w == "udp") {
    return QualProto::Udp;
  }
  if (w == "icmp") {
    return QualProto::Icmp;
  }
  if (w == "icmp6") {
    return QualProto::Icmp6;
  }
  return std::nullopt;
}

const char* ProtoName(QualProto proto) {
  switch (proto) {
  case QualProto::Ip:
    return "ip";
  case QualProto::Ip6:
    return "ip6";
  case QualProto::Tcp:
    return "tcp";
  case QualProto::Udp:
    return "udp";
  case QualProto::Icmp:
    return "icmp";
  case QualProto::Icmp6:
    return "icmp6";
  case QualProto::None:
    break;
  }
  return "";
}

Term ProtoTerm(QualProto proto) {
  Term t;
  switch (proto) {
  case QualProto::Ip:
  case QualProto::Ip6:
    t.kind = TermKind::Family;
    t.family = proto == QualProto::Ip ? 4 : 6;
    return t;
  case QualProto::Tcp:
    t.protocol = kProtoTcp;
    break;
  case QualProto::Udp:
    t.protocol = kProtoUdp;
    break;
  case QualProto::Icmp:
    t.protocol = kProtoIcmp;
    break;
  case QualProto::Icmp6:
  case QualProto::None:
    t.protocol = kProtoIcmp6;
    break;
  }
  t.kind = TermKind::Protocol;
  return t;
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
  static constexpr std::string_view kWords[] = {
      "src", "dst", "host", "net", "port", "portrange", "proto", "protochain", "less", "greater"};
  return ProtoQualifier(k).has_value() ||
         std::find(std::begin(kWords), std::end(kWords), k) != std::end(kWords);
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
