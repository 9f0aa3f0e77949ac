// SPDX-License-Identifier: Apache-2.0
// The text output's golden table: one row per line shape of SPEC section
// 5, a packet and its exact expected text. The fuzz-style test truncates
// and mutates the same packets.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "support/payload_builders.hpp"

namespace wgcap::test {

struct TextSample {
  std::string name;
  Bytes packet;
  std::string expected; // the line(s) after the time stamp ("[?    TCP] ...\n")
  bool verbose = false;
  bool ascii = false;
  std::uint32_t captured = 0; // bytes captured; 0 = all
};

inline void PrintTo(const TextSample& s, std::ostream* os) {
  *os << s.name;
}

// Every line shape of SPEC 5, each packet on its own (a fresh TextWriter).
const std::vector<TextSample>& TextSamples();

} // namespace wgcap::test
