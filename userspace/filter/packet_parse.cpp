// SPDX-License-Identifier: Apache-2.0
#include "wgcap/packet_parse.hpp"

#include <cstring>

namespace wgcap {
namespace {

std::uint16_t Load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

bool IsIpv6ExtensionHeader(std::uint8_t next) noexcept {
  return next == 0 || next == 43 || next == 44 || next == 60 || next == 51;
}

bool HasPorts(std::uint8_t protocol) noexcept {
  return protocol == kProtoTcp || protocol == kProtoUdp || protocol == kProtoSctp;
}

void ReadPorts(ParsedPacket& p, const std::uint8_t* data, std::uint32_t offset) noexcept {
  if (HasPorts(p.protocol) && offset + 4 <= p.captured_length) {
    p.has_ports = true;
    p.src_port = Load16(data + offset);
    p.dst_port = Load16(data + offset + 2);
  }
}

// libpcap's protochain walks AH headers behind an IPv4 header too: the same
// limit and bounds as the IPv6 walk, in the first fragment only. It feeds
// `protochain` alone; protocol and ports stay the IPv4 header's.
void WalkIpv4Ah(ParsedPacket& p, const std::uint8_t* d, std::uint32_t offset) noexcept {
  std::uint8_t next = p.protocol;
  for (int walked = 0; next == kProtoAh && p.fragment_offset == 0; ++walked) {
    p.extensions |= ExtensionHeaderBit(kProtoAh);
    if (walked == kMaxIpv6ExtensionHeaders || offset + 2 > p.captured_length) {
      break;
    }
    next = d[offset];
    offset += (d[offset + 1] + 2u) * 4u;
  }
  p.chain_protocol = next;
}

void ParseIpv4(ParsedPacket& p, const std::uint8_t* d) noexcept {
  const std::uint32_t header_length = (d[0] & 0x0fu) * 4u;
  if (header_length < 20 || header_length > p.captured_length) {
    return; // not a usable IPv4 header: every IP term is false
  }
  p.family = 4;
  p.ip_length = Load16(d + 2);
  p.ip_id = Load16(d + 4);
  const std::uint16_t frag = Load16(d + 6);
  p.fragment_offset = frag & 0x1fff;
  p.is_fragment = (frag & 0x3fff) != 0; // MF or an offset
  p.ttl = d[8];
  p.has_protocol = true;
  p.protocol = d[9];
  std::memcpy(p.src.data(), d + 12, 4);
  std::memcpy(p.dst.data(), d + 16, 4);
  p.transport_offset = header_length;
  p.walk_complete = true;
  WalkIpv4Ah(p, d, header_length);
  if (p.fragment_offset == 0) {
    ReadPorts(p, d, header_length);
  }
}

void ParseIpv6(ParsedPacket& p, const std::uint8_t* d) noexcept {
  if (p.captured_length < 40) {
    return;
  }
  p.family = 6;
  p.ip_length = 40u + Load16(d + 4);
  p.ttl = d[7];
  std::memcpy(p.src.data(), d + 8, 16);
  std::memcpy(p.dst.data(), d + 24, 16);
  p.has_protocol = true;

  std::uint8_t next = d[6];
  std::uint32_t offset = 40;
  for (int walked = 0; IsIpv6ExtensionHeader(next); ++walked) {
    // Every extension type read as a Next Header, whether or not its header
    // was captured: a header the walk cannot read is the protocol anyway.
    p.extensions |= ExtensionHeaderBit(next);
    // Past the limit, or the header's fixed part not captured: the walk
    // cannot finish; the protocol is the last Next Header read, no ports.
    const std::uint32_t need = next == 44 ? 8 : 2;
    if (walked == kMaxIpv6ExtensionHeaders || offset + need > p.captured_length) {
      p.protocol = next;
      return;
    }
    const std::uint8_t* h = d + offset;
    if (next == 44) {
      p.is_fragment = true;
      p.fragment_offset = Load16(h + 2) >> 3;
      if (p.fragment_offset != 0) {
        // A later fragment carries payload, not headers: its Next Header is
        // the upper-layer protocol, and there are no ports to read.
        p.protocol = h[0];
        return;
      }
      offset += 8;
    } else if (next == 51) {
      offset += (h[1] + 2u) * 4u;
    } else {
      offset += (h[1] + 1u) * 8u;
    }
    next = h[0];
  }
  p.protocol = next;
  p.transport_offset = offset;
  p.walk_complete = offset <= p.captured_length;
  ReadPorts(p, d, offset);
}

} // namespace

ParsedPacket ParsePacket(std::span<const std::uint8_t> data,
                         std::uint32_t original_length) noexcept {
  ParsedPacket p;
  p.data = data.data();
  p.captured_length = static_cast<std::uint32_t>(data.size());
  p.original_length = original_length != 0 ? original_length : p.captured_length;
  if (data.empty()) {
    return p;
  }
  switch (data[0] >> 4) {
  case 4:
    if (data.size() >= 20) {
      ParseIpv4(p, data.data());
    }
    break;
  case 6:
    ParseIpv6(p, data.data());
    p.chain_protocol = p.protocol;
    break;
  default:
    break;
  }
  return p;
}

} // namespace wgcap
