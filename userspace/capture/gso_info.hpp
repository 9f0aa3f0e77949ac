// SPDX-License-Identifier: Apache-2.0
// GSO/GRO super-packets (SPEC 10): the segment count and size a backend
// hands to the sinks, from what its kernel interface tells it.
#pragma once

#include <cstdint>
#include <span>

namespace wgcap {

struct GsoInfo {
  std::uint16_t segs = 0; // 0: an ordinary packet
  std::uint16_t size = 0; // payload bytes per segment; 0: an ordinary packet
};

// The info of one packet whose kernel said `gso_size` bytes a segment and
// `gso_segs` segments (0: not known). Not GSO (both 0 out) when gso_size is
// 0. Where the count is not known (AF_PACKET's virtio_net_hdr carries none;
// the skb of a packet injected through TUN or a packet socket carries 0
// until the stack validates it) it is derived as the stack would segment:
// ceil(payload / gso_size), the payload being `original_length` less the IP
// and TCP/UDP headers read from `data` (captured bytes from the IP header).
GsoInfo DeriveGsoInfo(std::span<const std::uint8_t> data, std::uint32_t original_length,
                      std::uint32_t gso_segs, std::uint32_t gso_size) noexcept;

} // namespace wgcap
