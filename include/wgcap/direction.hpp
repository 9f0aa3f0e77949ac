// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

namespace wgcap {

// Whether a packet is entering or leaving the host. Captures from files that
// record no direction (pcap) carry Unknown.
enum class Direction : std::uint8_t {
  Inbound = 0,  // arriving from the network (TC ingress, PACKET_HOST)
  Outbound = 1, // leaving the host (TC egress, PACKET_OUTGOING)
  Unknown = 2,
};

// "IN", "OUT" or "?".
constexpr const char* ToString(Direction d) noexcept {
  switch (d) {
  case Direction::Inbound:
    return "IN";
  case Direction::Outbound:
    return "OUT";
  case Direction::Unknown:
    break;
  }
  return "?";
}

} // namespace wgcap
