// SPDX-License-Identifier: Apache-2.0
// UDP: "length N", or a DNS summary on port 53 or 5353 (SPEC 5).
#include "text/packet_text.hpp"
#include "text/text_append.hpp"

namespace wgcap::text {
namespace {

constexpr std::uint32_t kUdpHeader = 8;

bool IsDnsPort(std::uint16_t port) {
  return port == 53 || port == 5353;
}

} // namespace

Bytes AppendUdp(std::string& line, const PacketView& packet, BodyStyle style) {
  const ParsedPacket& p = packet.parsed;
  if (!p.has_ports) {
    line += " [|udp]";
    return {};
  }
  const std::uint32_t l4 = packet.l4();
  const std::uint32_t length =
      packet.ip_end > l4 + kUdpHeader ? packet.ip_end - l4 - kUdpHeader : 0;
  const Bytes payload = packet.Captured(l4 + kUdpHeader);
  if (!style.quiet && (IsDnsPort(p.src_port) || IsDnsPort(p.dst_port))) {
    AppendDns(line, payload, length);
  } else {
    Appendf(line, " length %u", length);
  }
  return payload;
}

} // namespace wgcap::text
