// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>

#include "wgcap/direction.hpp"

namespace wgcap {

// One captured packet as it flows from a source to the sinks. `data` holds the
// captured network-layer bytes (no link-layer header); `original_length` is
// the length of the whole network-layer packet on the wire.
struct PacketRecord {
  std::int64_t timestamp_ns = 0; // wall clock, ns since the Unix epoch
  std::span<const std::uint8_t> data;
  std::uint32_t original_length = 0;
  Direction direction = Direction::Unknown;
  std::uint32_t ifindex = 0; // 0 where unknown (files)
};

} // namespace wgcap
