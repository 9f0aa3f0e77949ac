// SPDX-License-Identifier: Apache-2.0
// The filter expression as a classic BPF socket filter (SO_ATTACH_FILTER),
// for the AF_PACKET backend. The program runs on the network-layer packet
// (a SOCK_DGRAM packet socket) and returns the snap length to keep it, 0 to
// drop it. It implements SPEC section 1 exactly, the IPv6 extension-header
// walk unrolled to its 8-header limit.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wgcap/filter_ast.hpp"
#include "wgcap/packet_sink.hpp"

namespace wgcap {

// The kernel refuses classic programs longer than this (BPF_MAXINSNS).
inline constexpr std::size_t kClassicMaxInstructions = 4096;

struct ClassicProgram {
  std::vector<sock_filter> instructions;
  // False when the expression did not fit: the program then accepts every
  // packet and the userspace Matcher decides alone.
  bool exact = true;
  std::string note; // why it is not exact
};

ClassicProgram CompileClassicFilter(const FilterExpression& expression, std::uint32_t snaplen);

// -Q in the kernel: `program` behind a check of the packet type, so only
// incoming packets (keep = Inbound: anything but PACKET_OUTGOING) or only
// outgoing ones (Outbound) reach it; Unknown returns it unchanged.
ClassicProgram KeepOnlyDirection(ClassicProgram program, Direction keep, std::uint32_t snaplen);

// One instruction a line, in the style of `tcpdump -d`.
std::string Disassemble(const std::vector<sock_filter>& program);

} // namespace wgcap
