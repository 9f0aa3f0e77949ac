// SPDX-License-Identifier: Apache-2.0
// The one parse of a network-layer packet, per SPEC section 1. The Matcher
// and the text output both read this; the kernel and classic filters
// reproduce the same rules.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "wgcap/ip_address.hpp"

namespace wgcap {

inline constexpr std::uint8_t kProtoIcmp = 1;
inline constexpr std::uint8_t kProtoTcp = 6;
inline constexpr std::uint8_t kProtoUdp = 17;
inline constexpr std::uint8_t kProtoIcmp6 = 58;
inline constexpr std::uint8_t kProtoSctp = 132;
inline constexpr std::uint8_t kProtoAh = 51;
inline constexpr int kMaxIpv6ExtensionHeaders = 8;

// One bit per kind of header the extension walk steps over: hop-by-hop (0),
// routing (43), fragment (44), destination options (60), AH (51). 0 for any
// other protocol number.
constexpr std::uint8_t ExtensionHeaderBit(std::uint8_t type) noexcept {
  switch (type) {
  case 0:
    return 1u << 0;
  case 43:
    return 1u << 1;
  case 44:
    return 1u << 2;
  case 60:
    return 1u << 3;
  case 51:
    return 1u << 4;
  default:
    return 0;
  }
}

struct ParsedPacket {
  // The captured bytes ParsePacket read, for packet-data relations
  // (`tcp[13] & 2 != 0`); valid while the caller's buffer is. nullptr (no
  // bytes) in a ParsedPacket built by hand.
  const std::uint8_t* data = nullptr;
  // 4 or 6 when the fixed IP header was captured and valid (IPv4: IHL >= 5
  // and the header inside the captured bytes); 0 = not IP / truncated.
  std::uint8_t family = 0;
  bool has_protocol = false;
  std::uint8_t protocol = 0; // upper-layer protocol (after the IPv6 walk)
  // The header chain (`protochain`): ExtensionHeaderBit of every header the
  // walk stepped over (IPv6: the extension walk; IPv4: AH headers behind the
  // IP header, libpcap's protochain walk), and the last Next Header read.
  // IPv6: chain_protocol == protocol. IPv4: protocol stays the IP header's,
  // chain_protocol is what follows the AH headers. Valid when has_protocol.
  std::uint8_t extensions = 0;
  std::uint8_t chain_protocol = 0;
  bool has_ports = false;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::array<std::uint8_t, 16> src{}; // IPv4 in the first 4 bytes
  std::array<std::uint8_t, 16> dst{};

  std::uint32_t original_length = 0; // whole packet on the wire
  std::uint32_t captured_length = 0;
  // Offset of the upper-layer header (past IPv4 options / IPv6 extension
  // headers); valid when has_protocol and the walk finished.
  std::uint32_t transport_offset = 0;
  bool walk_complete = false;        // IPv6: the extension-header chain ended in bounds
  bool is_fragment = false;          // IPv4 MF or offset, or an IPv6 fragment header
  std::uint16_t fragment_offset = 0; // in 8-byte units
  std::uint8_t ttl = 0;              // TTL / hop limit
  std::uint16_t ip_id = 0;           // IPv4 identification; 0 for IPv6
  std::uint32_t ip_length = 0;       // total length from the header (IPv6: 40 + payload length)
  // The WireGuard peer the packet belongs to (PeerDirectory::Attribute), set
  // by the Session before it matches; ParsePacket leaves it null. `peer KEY`
  // tests it.
  const PeerKey* peer = nullptr;
};

// Parses `data` (captured bytes, starting at the IP header). `original_length`
// is the wire length; 0 means "same as data.size()".
ParsedPacket ParsePacket(std::span<const std::uint8_t> data,
                         std::uint32_t original_length = 0) noexcept;

} // namespace wgcap
