// SPDX-License-Identifier: Apache-2.0
#include "capture/gso_info.hpp"

#include <algorithm>

#include "wgcap/packet_parse.hpp"

namespace wgcap {
namespace {

// Bytes of IP and transport header in front of the payload the kernel
// segments, or 0 when the captured bytes do not show them.
std::uint32_t HeaderBytes(std::span<const std::uint8_t> data,
                          std::uint32_t original_length) noexcept {
  const ParsedPacket p = ParsePacket(data, original_length);
  if (p.family == 0 || !p.has_protocol || (p.family == 6 && !p.walk_complete)) {
    return 0;
  }
  const std::uint32_t l4 = p.transport_offset;
  if (p.protocol == kProtoUdp) {
    return l4 + 8;
  }
  if (p.protocol == kProtoTcp && data.size() >= l4 + 13) {
    return l4 + 4u * (data[l4 + 12] >> 4); // TCP data offset, options included
  }
  return l4; // another protocol: its header is counted as payload
}

} // namespace

GsoInfo DeriveGsoInfo(std::span<const std::uint8_t> data, std::uint32_t original_length,
                      std::uint32_t gso_segs, std::uint32_t gso_size) noexcept {
  if (gso_size == 0) {
    return {};
  }
  GsoInfo info;
  info.size = static_cast<std::uint16_t>(std::min<std::uint32_t>(gso_size, 0xffff));
  if (gso_segs != 0) {
    info.segs = static_cast<std::uint16_t>(std::min<std::uint32_t>(gso_segs, 0xffff));
    return info;
  }
  const std::uint32_t headers = HeaderBytes(data, original_length);
  const std::uint32_t payload = original_length > headers ? original_length - headers : 0;
  // A super-packet is at least one segment even when its headers hide the
  // payload (truncated capture of an exotic protocol). Rounded up without
  // `payload + gso_size - 1`, which wraps for lengths near 2^32.
  const std::uint32_t segs =
      std::max<std::uint32_t>(1, payload / gso_size + (payload % gso_size != 0 ? 1 : 0));
  info.segs = static_cast<std::uint16_t>(std::min<std::uint32_t>(segs, 0xffff));
  return info;
}

} // namespace wgcap
