// SPDX-License-Identifier: Apache-2.0
// Explicitly little-endian stores, whatever the host, for the capture file
// writers (compilers make each a single store on a little-endian host).
#pragma once

#include <cstdint>

namespace wgcap {

inline void PutLe16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}

inline void PutLe32(std::uint8_t* p, std::uint32_t v) noexcept {
  PutLe16(p, static_cast<std::uint16_t>(v));
  PutLe16(p + 2, static_cast<std::uint16_t>(v >> 16));
}

} // namespace wgcap
