// SPDX-License-Identifier: Apache-2.0
// The named packets of the verdict tables, shared by every evaluator's tests
// (Matcher now; the classic and kernel filters later run the same rows).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace wgcap::test {

struct NamedPacket {
  std::string name;
  std::vector<std::uint8_t> bytes; // the whole packet
  std::size_t captured_bytes;      // how much of it was captured

  std::span<const std::uint8_t> captured() const { return std::span(bytes.data(), captured_bytes); }
  std::uint32_t original_length() const { return static_cast<std::uint32_t>(bytes.size()); }
};

const std::vector<NamedPacket>& VerdictPackets();

} // namespace wgcap::test
