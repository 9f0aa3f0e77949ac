// SPDX-License-Identifier: Apache-2.0
#include "support/pcapng_blocks.hpp"

#include <gtest/gtest.h>

#include <utility>

#include "wgcap/pcap_writer.hpp"

namespace wgcap::test {
namespace {

std::uint32_t Le32(const Bytes& b, std::size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}
std::uint16_t Le16(const Bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | b[at + 1] << 8);
}
std::uint64_t Le64(const Bytes& b, std::size_t at) {
  return Le32(b, at) | std::uint64_t{Le32(b, at + 4)} << 32;
}

// Options of a block from `at` to `end`: code -> raw bytes.
std::vector<std::pair<std::uint16_t, Bytes>> Options(const Bytes& b, std::size_t at,
                                                     std::size_t end) {
  std::vector<std::pair<std::uint16_t, Bytes>> out;
  while (at + 4 <= end) {
    const std::uint16_t code = Le16(b, at), length = Le16(b, at + 2);
    if (code == pcapng::kOptEnd || at + 4 + length > end) {
      break;
    }
    out.emplace_back(code, Bytes(b.begin() + static_cast<std::ptrdiff_t>(at + 4),
                                 b.begin() + static_cast<std::ptrdiff_t>(at + 4 + length)));
    at += 4 + ((length + 3u) & ~3u);
  }
  return out;
}

} // namespace

Walked Walk(const Bytes& b) {
  Walked w;
  for (std::size_t at = 0; at + 12 <= b.size();) {
    const std::uint32_t type = Le32(b, at), length = Le32(b, at + 4);
    if (length < 12 || length % 4 != 0 || at + length > b.size()) {
      ADD_FAILURE() << "block at " << at << ": bad length " << length;
      break;
    }
    EXPECT_EQ(Le32(b, at + length - 4), length) << "trailing length at " << at;
    w.block_types.push_back(type);
    const std::size_t end = at + length - 4;
    if (type == pcapng::kInterfaceDescription) {
      std::string name, filter;
      for (const auto& [code, value] : Options(b, at + 16, end)) {
        if (code == pcapng::kIfName) {
          name.assign(value.begin(), value.end());
        } else if (code == pcapng::kIfFilter) {
          filter.assign(value.begin() + 1, value.end()); // after the filter type
        }
      }
      w.names.push_back(name);
      w.filters.push_back(filter);
    } else if (type == pcapng::kEnhancedPacket) {
      w.packet_ids.push_back(Le32(b, at + 8));
    } else if (type == pcapng::kInterfaceStatistics) {
      auto& stats = w.statistics[Le32(b, at + 8)];
      for (const auto& [code, value] : Options(b, at + 20, end)) {
        if (value.size() == 8 && code != pcapng::kIsbStartTime && code != pcapng::kIsbEndTime) {
          stats[code] = Le64(value, 0);
        }
      }
    }
    at += length;
  }
  return w;
}

} // namespace wgcap::test
