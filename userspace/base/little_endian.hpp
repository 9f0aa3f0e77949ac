// SPDX-License-Identifier: Apache-2.0
// Explicitly little-endian stores, whatever the host, for the capture file
// writers. On a little-endian host each is one plain store: the byte-wise
// form is not always merged, and then a record header built of byte stores
// and copied out as one 16-byte load stalls store forwarding (most of the
// per-packet cost of a small pcap record).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace wgcap {

inline void PutLe16(std::uint8_t* p, std::uint16_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, sizeof v);
  } else {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
  }
}

inline void PutLe32(std::uint8_t* p, std::uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, sizeof v);
  } else {
    PutLe16(p, static_cast<std::uint16_t>(v));
    PutLe16(p + 2, static_cast<std::uint16_t>(v >> 16));
  }
}

} // namespace wgcap
