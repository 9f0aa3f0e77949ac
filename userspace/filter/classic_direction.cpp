// SPDX-License-Identifier: Apache-2.0
// -Q for the AF_PACKET backend: a prologue in front of the compiled socket
// filter that looks at the packet type, which a classic program reads through
// the ancillary load SKF_AD_OFF + SKF_AD_PKTTYPE (no packet byte says it).
#include <linux/if_packet.h>

#include "filter/classic_filter.hpp"

namespace wgcap {
namespace {

constexpr std::uint16_t Code(int c) {
  return static_cast<std::uint16_t>(c);
}

} // namespace

ClassicProgram KeepOnlyDirection(ClassicProgram program, Direction keep, std::uint32_t snaplen) {
  if (keep == Direction::Unknown) {
    return program;
  }
  const bool out = keep == Direction::Outbound;
  // Taken: continue at 3; not taken: 2 rejects. The expression's code may
  // count on A and X starting at 0, as they do at a program's start.
  const std::vector<sock_filter> prologue = {
      {Code(BPF_LD | BPF_W | BPF_ABS), 0, 0,
       static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)},
      {Code(BPF_JMP | BPF_JEQ | BPF_K), static_cast<std::uint8_t>(out ? 1 : 0),
       static_cast<std::uint8_t>(out ? 0 : 1), PACKET_OUTGOING},
      {Code(BPF_RET | BPF_K), 0, 0, 0},
      {Code(BPF_LD | BPF_IMM), 0, 0, 0},
      {Code(BPF_MISC | BPF_TAX), 0, 0, 0},
  };
  if (program.instructions.size() + prologue.size() > kClassicMaxInstructions) {
    // The direction is always decided in the kernel; only the expression
    // falls back to the userspace Matcher.
    program.exact = false;
    program.note = "the expression needs more than " + std::to_string(kClassicMaxInstructions) +
                   " classic BPF instructions with -Q: the socket filter passes every packet of "
                   "that direction and the userspace Matcher decides";
    program.instructions = {
        sock_filter{Code(BPF_RET | BPF_K), 0, 0, snaplen == 0 ? 65535 : snaplen}};
  }
  program.instructions.insert(program.instructions.begin(), prologue.begin(), prologue.end());
  return program;
}

} // namespace wgcap
