// SPDX-License-Identifier: Apache-2.0
// A pcapng file walked block by block, as a reader would: interface names
// and filters, each packet's interface id, each statistics block's counters.
// Checks every block's trailing length as it goes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace wgcap::test {

// What a reader takes from the file.
struct Walked {
  std::vector<std::string> names;   // if_name per interface id
  std::vector<std::string> filters; // if_filter text per interface id
  std::vector<std::uint32_t> packet_ids;
  // isb options per interface id: option code -> value.
  std::map<std::uint32_t, std::map<std::uint16_t, std::uint64_t>> statistics;
  std::vector<std::uint32_t> block_types;
};

using Bytes = std::vector<std::uint8_t>;

Walked Walk(const Bytes& file);

} // namespace wgcap::test
