// SPDX-License-Identifier: Apache-2.0
// ICMPv6 in tcpdump 4.99's words (SPEC 5): "DESCRIPTION, length N", without
// tcpdump's "ICMP6, " lead (the tag says ICMP). Unknown types are
// "type T, code C" as SPEC asks.
#include <iterator>
#include <span>

#include "text/packet_text.hpp"
#include "text/text_append.hpp"

namespace wgcap::text {
namespace {

constexpr std::uint32_t kIcmp6Header = 8;

ParsedPacket Quote(const PacketView& packet) {
  const Bytes inner = packet.bytes.Sub(packet.l4() + kIcmp6Header);
  return ParsePacket(std::span(inner.data(), inner.size()));
}

// " ADDR" of a 16-byte address at `offset`; false when not captured.
bool AppendAddressAt(std::string& line, const PacketView& packet, std::size_t offset) {
  if (!packet.bytes.Has(offset, 16)) {
    return false;
  }
  AppendAddress(line, 6, packet.bytes.data() + offset);
  return true;
}

bool AppendUnreachable(std::string& line, const PacketView& packet, std::uint8_t code) {
  static constexpr const char* kCodes[] = {"unreachable route", "unreachable prohibited",
                                           "beyond scope", "unreachable address",
                                           "unreachable port"};
  line += "destination unreachable, ";
  if (code >= std::size(kCodes)) {
    Appendf(line, "unknown unreach code (%u)", code);
    return true;
  }
  line += kCodes[code];
  const ParsedPacket q = Quote(packet);
  if (q.family == 0) {
    return false;
  }
  if (code != 4) {
    line += ' ';
    AppendAddress(line, q.family, q.dst.data());
    if (code == 2) {
      line += ", source address ";
      AppendAddress(line, q.family, q.src.data());
    }
    return true;
  }
  line += ", ";
  AppendAddress(line, q.family, q.dst.data());
  if (q.protocol == kProtoTcp || q.protocol == kProtoUdp) {
    if (!q.has_ports) {
      return false;
    }
    Appendf(line, " %s port %u", q.protocol == kProtoTcp ? "tcp" : "udp", q.dst_port);
    return true;
  }
  const Bytes inner = packet.bytes.Sub(packet.l4() + kIcmp6Header);
  if (!q.walk_complete || q.fragment_offset != 0 || !inner.Has(q.transport_offset, 4)) {
    return false;
  }
  Appendf(line, " protocol %u port %u unreachable", q.protocol, inner.U16(q.transport_offset + 2));
  return true;
}

bool AppendDescription(std::string& line, const PacketView& packet) {
  const Bytes& d = packet.bytes;
  const std::uint32_t l4 = packet.l4();
  const std::uint8_t type = d.U8(l4);
  const std::uint8_t code = d.U8(l4 + 1);
  const bool full_header = d.Has(l4, kIcmp6Header);
  switch (type) {
  case 1:
    return AppendUnreachable(line, packet, code);
  case 2:
    if (!full_header) {
      return false;
    }
    Appendf(line, "packet too big, mtu %u", d.U32(l4 + 4));
    return true;
  case 3:
    if (code == 1) {
      line += "time exceeded in-transit (reassembly)";
      return true;
    }
    if (code != 0) {
      Appendf(line, "time exceeded in-transit, unknown code (%u)", code);
      return true;
    }
    line += "time exceeded in-transit for ";
    if (const ParsedPacket q = Quote(packet); q.family != 0) {
      AppendAddress(line, q.family, q.dst.data());
      return true;
    }
    return false;
  case 4: {
    static constexpr const char* kCodes[] = {"erroneous", "next header", "option",
                                             "incomplete header chain"};
    if (!full_header) {
      return false;
    }
    line += "parameter problem, ";
    if (code < std::size(kCodes)) {
      Appendf(line, "%s - octet %u", kCodes[code], d.U32(l4 + 4));
    } else {
      Appendf(line, "unknown code (%u)", code);
    }
    return true;
  }
  case 128:
  case 129:
    if (!full_header) {
      return false;
    }
    Appendf(line, "echo %s, id %u, seq %u", type == 128 ? "request" : "reply", d.U16(l4 + 4),
            d.U16(l4 + 6));
    return true;
  case 130:
    line += "multicast listener query";
    return true;
  case 131:
    line += "multicast listener report";
    return true;
  case 132:
    line += "multicast listener done";
    return true;
  case 143:
    line += "multicast listener report v2";
    return true;
  case 133:
    line += "router solicitation";
    return true;
  case 134:
    line += "router advertisement";
    return true;
  case 135:
    line += "neighbor solicitation, who has ";
    return AppendAddressAt(line, packet, l4 + 8);
  case 136:
    line += "neighbor advertisement, tgt is ";
    return AppendAddressAt(line, packet, l4 + 8);
  case 137: // the destination is redirected to the target
    line += "redirect, ";
    if (!d.Has(l4 + 8, 32)) {
      return false;
    }
    AppendAddressAt(line, packet, l4 + 24);
    line += " to ";
    return AppendAddressAt(line, packet, l4 + 8);
  default:
    Appendf(line, "type %u, code %u", type, code);
    return true;
  }
}

} // namespace

Bytes AppendIcmp6(std::string& line, const PacketView& packet) {
  const std::uint32_t l4 = packet.l4();
  const std::size_t mark = line.size();
  line += ' ';
  if (!packet.bytes.Has(l4, 4) || !AppendDescription(line, packet)) {
    line.resize(mark);
    line += " [|icmp6]";
    return {};
  }
  Appendf(line, ", length %u", packet.ip_end > l4 ? packet.ip_end - l4 : 0);
  return packet.Captured(l4 + kIcmp6Header);
}

} // namespace wgcap::text
