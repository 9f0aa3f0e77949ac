// SPDX-License-Identifier: Apache-2.0
// The named packets of the verdict tables, shared by every evaluator's tests
// (Matcher now; the classic and kernel filters later run the same rows).
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <utility>
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

// Expression → the names of the packets it must match ("*" = all), covering
// every term, operator, precedence rule and absent-field rule of SPEC 1.
const std::vector<std::pair<std::string, std::string>>& VerdictRows();
std::set<std::string> MatchingNames(const std::string& list);

// The header-chain table (chain_packets.cpp): `proto N` on extension headers
// and `protochain N`, with its own packets.
const std::vector<NamedPacket>& ChainVerdictPackets();
const std::vector<std::pair<std::string, std::string>>& ChainVerdictRows();

// Both tables, for the tests that run every row through an evaluator.
struct VerdictTable {
  const char* name;
  const std::vector<std::pair<std::string, std::string>>* rows;
  const std::vector<NamedPacket>* packets;
};
const std::vector<VerdictTable>& VerdictTables();

} // namespace wgcap::test
