// SPDX-License-Identifier: Apache-2.0
// The kernel filter compiler and the TC program (SPEC 2, bpf) on arbitrary
// expressions. Input: see SplitFilterInput (snap length byte, expression,
// optional packet). For every expression that parses, the program must load:
// the verifier accepts it with that filter and snap length. Where the filter
// is exact, BPF_PROG_TEST_RUN must give the Matcher's verdict on the verdict
// tables' packets and the input's packet, and a sample holding the packet's
// first bytes; where it is not, every packet must come up.
//
// Needs CAP_BPF (root). Each load costs tens of milliseconds, so this target
// runs slowly; scripts/fuzz.sh gives it the same wall-clock budget as the rest.
#include <algorithm>

#include "capture/bpf/kernel_filter_runner.hpp"
#include "filter/kernel_filter.hpp"
#include "fuzz_check.hpp"
#include "support/verdict_packets.hpp"
#include "wgcap/filter_parser.hpp"

namespace {

using wgcap::fuzz::Fail;
using wgcap::fuzz::Hex;

// BPF_PROG_TEST_RUN takes at most about a page of packet data.
constexpr std::size_t kMaxInputPacket = 1500;

// The kernel sees whole packets: captured == original.
void Check(const wgcap::ExpressionMatcher& matcher, const wgcap::KernelFilterProgram& program,
           wgcap::KernelFilterRunner& runner, std::uint32_t snaplen,
           std::span<const std::uint8_t> packet, const std::string& where) {
  const auto length = static_cast<std::uint32_t>(packet.size());
  const bool want = !program.exact || matcher.Match(packet, length);
  auto got = runner.Run(packet);
  if (!got.ok()) {
    Fail(where + ": " + got.error().message + "\npacket " + Hex(packet));
  }
  if (got->has_value() != want) {
    Fail(where + ": matcher " + std::to_string(want) + " kernel " +
         std::to_string(got->has_value()) + "\npacket " + Hex(packet) + "\n" +
         wgcap::Disassemble(program));
  }
  if (!want) {
    return;
  }
  const wgcap::KernelSample& s = **got;
  // At least the snap length (or the whole packet), never more than the packet.
  if (s.original_length != length || s.captured_length > length ||
      s.captured_length < std::min(snaplen, length) || s.data.size() != s.captured_length ||
      !std::equal(s.data.begin(), s.data.end(), packet.begin())) {
    Fail(where + ": sample of " + std::to_string(s.captured_length) + "/" +
         std::to_string(s.original_length) + " bytes for a packet of " + std::to_string(length) +
         ", snap length " + std::to_string(snaplen) + "\npacket " + Hex(packet) + "\nsample " +
         Hex(s.data));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = wgcap::fuzz::SplitFilterInput(std::span(data, size));
  auto parsed = wgcap::ParseFilterExpression(in.text);
  if (!parsed.ok()) {
    return 0;
  }
  const wgcap::ExpressionMatcher matcher(std::move(parsed).value());
  const wgcap::KernelFilterProgram program = wgcap::CompileKernelFilter(matcher.expression());
  const std::string text = wgcap::ToString(matcher.expression());
  if (program.exact != program.note.empty() || (!program.exact && !program.pass_all) ||
      program.pass_all != (program.nodes.empty())) {
    Fail("inconsistent program for " + text + ": " + wgcap::Disassemble(program));
  }
  auto runner = wgcap::KernelFilterRunner::Create(program, in.snaplen);
  if (!runner.ok()) {
    Fail("the program does not load for " + text + " (snap length " + std::to_string(in.snaplen) +
         "): " + runner.error().message + "\n" + wgcap::Disassemble(program));
  }
  for (const auto& p : wgcap::test::VerdictPackets()) {
    Check(matcher, program, **runner, in.snaplen, p.captured(), text + " / " + p.name);
  }
  Check(matcher, program, **runner, in.snaplen,
        in.packet.first(std::min(in.packet.size(), kMaxInputPacket)), text + " / input packet");
  return 0;
}
