// SPDX-License-Identifier: Apache-2.0
// ICMP (IPv4) in tcpdump 4.99's words (SPEC 5): "DESCRIPTION, length N".
// Unknown types are "type T, code C" as SPEC asks, not tcpdump's "type-#T".
#include <iterator>
#include <span>

#include "text/packet_text.hpp"
#include "text/text_append.hpp"

namespace wgcap::text {
namespace {

constexpr std::uint32_t kIcmpHeader = 8;

// The packet an error message quotes, parsed the one way packets are.
struct Quoted {
  ParsedPacket parsed;
  Bytes bytes;
};

Quoted Quote(const PacketView& packet) {
  const Bytes inner = packet.bytes.Sub(packet.l4() + kIcmpHeader);
  return {ParsePacket(std::span(inner.data(), inner.size())), inner};
}

void AppendQuotedDst(std::string& line, const Quoted& q) {
  AppendAddress(line, q.parsed.family, q.parsed.dst.data());
}

// Code 3 (port): the quoted packet's destination port.
bool AppendPortUnreachable(std::string& line, const Quoted& q) {
  const ParsedPacket& p = q.parsed;
  AppendQuotedDst(line, q);
  if (p.protocol == kProtoTcp || p.protocol == kProtoUdp) {
    if (!p.has_ports) {
      return false;
    }
    Appendf(line, " %s port %u unreachable", p.protocol == kProtoTcp ? "tcp" : "udp", p.dst_port);
    return true;
  }
  const std::uint32_t t = p.transport_offset;
  if (!p.walk_complete || p.fragment_offset != 0 || !q.bytes.Has(t, 4)) {
    return false;
  }
  Appendf(line, " protocol %u port %u unreachable", p.protocol, q.bytes.U16(t + 2));
  return true;
}

bool AppendUnreachable(std::string& line, const PacketView& packet, std::uint8_t code) {
  // "%" marks where the quoted destination goes.
  static constexpr const char* kFormats[] = {
      "net % unreachable",
      "host % unreachable",
      nullptr, // protocol
      nullptr, // port
      nullptr, // need to frag
      "% unreachable - source route failed",
      "net % unreachable - unknown",
      "host % unreachable - unknown",
      "% unreachable - source host isolated",
      "net % unreachable - admin prohibited",
      "host % unreachable - admin prohibited",
      "net % unreachable - tos prohibited",
      "host % unreachable - tos prohibited",
      "host % unreachable - admin prohibited filter",
      "host % unreachable - host precedence violation",
      "host % unreachable - precedence cutoff",
  };
  const Quoted q = Quote(packet);
  if (q.parsed.family == 0) {
    return false;
  }
  switch (code) {
  case 2:
    AppendQuotedDst(line, q);
    Appendf(line, " protocol %u unreachable", q.parsed.protocol);
    return true;
  case 3:
    return AppendPortUnreachable(line, q);
  case 4: {
    AppendQuotedDst(line, q);
    line += " unreachable - need to frag";
    const std::uint16_t mtu = packet.bytes.U16(packet.l4() + 6);
    if (mtu != 0) {
      Appendf(line, " (mtu %u)", mtu);
    }
    return true;
  }
  default:
    break;
  }
  if (code >= std::size(kFormats)) {
    AppendQuotedDst(line, q);
    Appendf(line, " unreachable - #%u", code);
    return true;
  }
  for (const char* c = kFormats[code]; *c != '\0'; ++c) {
    if (*c == '%') {
      AppendQuotedDst(line, q);
    } else {
      line += *c;
    }
  }
  return true;
}

bool AppendRedirect(std::string& line, const PacketView& packet, std::uint8_t code) {
  const Quoted q = Quote(packet);
  if (q.parsed.family == 0) {
    return false;
  }
  // Codes 0-3: network, host, and the same for a type of service.
  if (code < 4) {
    line += code < 2 ? "redirect " : "redirect-tos ";
  } else {
    Appendf(line, "redirect-#%u ", code);
  }
  AppendQuotedDst(line, q);
  line += code >= 4 ? " to " : code % 2 == 0 ? " to net " : " to host ";
  AppendAddress(line, 4, packet.bytes.data() + packet.l4() + 4); // the gateway
  return true;
}

// The description; false when the captured bytes end before what it needs.
bool AppendDescription(std::string& line, const PacketView& packet) {
  const Bytes& d = packet.bytes;
  const std::uint32_t l4 = packet.l4();
  const std::uint8_t type = d.U8(l4);
  const std::uint8_t code = d.U8(l4 + 1);
  const bool full_header = d.Has(l4, kIcmpHeader);
  switch (type) {
  case 0:
  case 8:
    if (!full_header) {
      return false;
    }
    Appendf(line, "echo %s, id %u, seq %u", type == 8 ? "request" : "reply", d.U16(l4 + 4),
            d.U16(l4 + 6));
    return true;
  case 3:
    return full_header && AppendUnreachable(line, packet, code);
  case 4:
    line += "source quench";
    return true;
  case 5:
    return full_header && AppendRedirect(line, packet, code);
  case 9:
    line += "router advertisement";
    return true;
  case 10:
    line += "router solicitation";
    return true;
  case 11:
    if (code == 0) {
      line += "time exceeded in-transit";
    } else if (code == 1) {
      line += "ip reassembly time exceeded";
    } else {
      Appendf(line, "time exceeded-#%u", code);
    }
    return true;
  case 12:
    if (code != 0) {
      Appendf(line, "parameter problem - code %u", code);
      return true;
    }
    if (!d.Has(l4 + 4, 1)) {
      return false;
    }
    Appendf(line, "parameter problem - octet %u", d.U8(l4 + 4));
    return true;
  case 13:
  case 14:
    if (!full_header) {
      return false;
    }
    Appendf(line, "time stamp %s id %u seq %u", type == 13 ? "query" : "reply", d.U16(l4 + 4),
            d.U16(l4 + 6));
    return true;
  case 15:
  case 16:
    line += type == 15 ? "information request" : "information reply";
    return true;
  case 17:
    line += "address mask request";
    return true;
  case 18:
    if (!d.Has(l4 + 8, 4)) {
      return false;
    }
    Appendf(line, "address mask is 0x%08x", d.U32(l4 + 8));
    return true;
  default:
    Appendf(line, "type %u, code %u", type, code);
    return true;
  }
}

} // namespace

Bytes AppendIcmp(std::string& line, const PacketView& packet) {
  const std::uint32_t l4 = packet.l4();
  const std::size_t mark = line.size();
  line += ' ';
  if (!packet.bytes.Has(l4, 4) || !AppendDescription(line, packet)) {
    line.resize(mark);
    line += " [|icmp]";
    return {};
  }
  Appendf(line, ", length %u", packet.ip_end > l4 ? packet.ip_end - l4 : 0);
  return packet.Captured(l4 + kIcmpHeader);
}

} // namespace wgcap::text
