// SPDX-License-Identifier: Apache-2.0
// The classic BPF compiler (SPEC 2, afpacket) on arbitrary expressions.
// Input: see SplitFilterInput (snap length byte, expression, optional
// packet). Every program it emits must pass the kernel's own classic checker
// (SO_ATTACH_FILTER on an AF_UNIX datagram socket, no privilege needed) and
// libpcap's; where it is exact, the kernel and libpcap must give the
// Matcher's verdict on the verdict tables' packets and on the input's packet,
// keeping the snap length's worth of a match. Where it is not exact it must
// accept everything (the Matcher then decides alone), or, for `peer` terms,
// every packet the Matcher takes under either attribution (no peer, or the
// peer every term names).
#include <algorithm>

#include "filter/classic_filter.hpp"
#include "filter/classic_socket_runner.hpp"
#include "fuzz_check.hpp"
#include "support/classic_runners.hpp"
#include "support/verdict_packets.hpp"
#include "wgcap/filter_parser.hpp"

namespace {

using wgcap::fuzz::Fail;
using wgcap::fuzz::Hex;

// Every `peer` term of a fuzzed expression names this key.
constexpr wgcap::PeerKey kFuzzPeer{0x5a};

bool MatchesWithAnyPeer(const wgcap::ExpressionMatcher& matcher,
                        std::span<const std::uint8_t> packet, std::uint32_t length) {
  wgcap::ParsedPacket parsed = wgcap::ParsePacket(packet, length);
  if (matcher.MatchParsed(parsed)) {
    return true;
  }
  parsed.peer = &kFuzzPeer;
  return matcher.MatchParsed(parsed);
}

// A socket filter sees the whole datagram: captured == original.
void Check(const wgcap::ExpressionMatcher& matcher, const wgcap::ClassicProgram& program,
           wgcap::ClassicSocketRunner& kernel, std::uint32_t snaplen,
           std::span<const std::uint8_t> packet, const std::string& where) {
  const auto length = static_cast<std::uint32_t>(packet.size());
  const bool peers = wgcap::HasPeerTerms(matcher.expression());
  const bool matched = MatchesWithAnyPeer(matcher, packet, length);
  const unsigned pcap = wgcap::test::RunWithLibpcap(program.instructions, packet, length);
  // Over-approximated `peer` terms: a superset, which libpcap decides too.
  const bool want = program.exact ? matched : !peers || (matched || pcap != 0);
  const auto run = kernel.Run(packet);
  if (!run.ok()) {
    Fail(where + ": " + run.error().message);
  }
  const std::optional<std::size_t>& delivered = run.value();
  if ((pcap != 0) != want || delivered.has_value() != want) {
    Fail(where + ": matcher " + std::to_string(want) + " libpcap " + std::to_string(pcap) +
         " kernel " + std::to_string(delivered.has_value()) + "\npacket " + Hex(packet) + "\n" +
         wgcap::Disassemble(program.instructions));
  }
  // The program returns the snap length; the socket keeps that much.
  const std::size_t keep = std::min<std::size_t>(snaplen, packet.size());
  if (want && (pcap != snaplen || *delivered != keep)) {
    Fail(where + ": kept " + std::to_string(*delivered) + " bytes, libpcap returned " +
         std::to_string(pcap) + ", snap length " + std::to_string(snaplen));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = wgcap::fuzz::SplitFilterInput(std::span(data, size));
  auto parsed = wgcap::ParseFilterExpression(in.text);
  if (!parsed.ok() ||
      !wgcap::ResolvePeerTerms(*parsed, [](std::string_view) { return kFuzzPeer; }).ok()) {
    return 0;
  }
  const wgcap::ExpressionMatcher matcher(std::move(parsed).value());
  const wgcap::ClassicProgram program =
      wgcap::CompileClassicFilter(matcher.expression(), in.snaplen);
  const std::string text = wgcap::ToString(matcher.expression());
  if (program.instructions.empty() ||
      program.instructions.size() > wgcap::kClassicMaxInstructions) {
    Fail(std::to_string(program.instructions.size()) + " instructions for " + text);
  }
  if (program.exact != program.note.empty()) {
    Fail("exact " + std::to_string(program.exact) + " with note \"" + program.note + "\"");
  }
  if (!wgcap::test::ValidWithLibpcap(program.instructions)) {
    Fail("libpcap's bpf_validate refuses the program for " + text + "\n" +
         wgcap::Disassemble(program.instructions));
  }
  wgcap::ClassicSocketRunner kernel(program.instructions);
  if (!kernel.error().empty()) {
    Fail("the kernel refuses the program for " + text + ": " + kernel.error() + "\n" +
         wgcap::Disassemble(program.instructions));
  }
  for (const auto& p : wgcap::test::VerdictPackets()) {
    Check(matcher, program, kernel, in.snaplen, p.captured(), text + " / " + p.name);
  }
  Check(matcher, program, kernel, in.snaplen, in.packet, text + " / input packet");
  return 0;
}
