// SPDX-License-Identifier: Apache-2.0
// Three evaluators of one expression must agree (issue 19): the generated
// eBPF filter under BPF_PROG_TEST_RUN, the classic socket filter in the
// kernel's interpreter, and the userspace Matcher. Input: 4 bytes seed a
// generator of random expressions and random (often malformed) packets
// (tests/support/random_cases); the rest is "S EXPRESSION [\0 PACKET]" as for
// the other filter targets, whose expression, if it parses, is checked too,
// on the same packets, the verdict tables' and the input's own. The seed's
// low bit picks the link header (0: raw IP as on WireGuard, 1: Ethernet).
// On a match the eBPF extent must keep what the Matcher needs.
//
// Needs CAP_BPF and CAP_NET_ADMIN (root); scripts/fuzz.sh skips it without.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "capture/bpf/ebpf_filter_runner.hpp"
#include "filter/classic_filter.hpp"
#include "filter/classic_socket_runner.hpp"
#include "fuzz_check.hpp"
#include "support/random_cases.hpp"
#include "support/verdict_packets.hpp"
#include "wgcap/filter_parser.hpp"

namespace {

using wgcap::fuzz::Fail;
using wgcap::fuzz::Hex;
using Bytes = std::vector<std::uint8_t>;

// BPF_PROG_TEST_RUN takes at most about a page of packet data.
constexpr std::size_t kMaxPacket = 1500;
constexpr int kRandomPackets = 24;

struct Evaluators {
  const wgcap::ExpressionMatcher& matcher;
  const wgcap::ClassicProgram& classic;
  wgcap::ClassicSocketRunner& classic_kernel;
  wgcap::EbpfFilterRunner& ebpf;
  unsigned link_header;
};

void Check(Evaluators& ev, std::span<const std::uint8_t> packet, const std::string& where) {
  packet = packet.first(std::min(packet.size(), kMaxPacket));
  if (ev.link_header == 0 && packet.size() < 14) {
    return; // BPF_PROG_TEST_RUN wants an Ethernet header's worth of frame
  }
  const auto length = static_cast<std::uint32_t>(packet.size());
  const bool want = ev.matcher.Match(packet, length);
  auto ebpf = ev.ebpf.Run(packet);
  if (!ebpf.ok() && ev.link_header == 0 && ebpf.error().errnum == EINVAL) {
    // BPF_PROG_TEST_RUN always reads bytes 12-13 as an Ethernet type; when a
    // raw IP packet has 0x0800 or 0x86dd there and too few bytes after, the
    // kernel refuses the frame before the program runs. A real L3 device
    // never does that, so such a packet cannot be test-run on this link.
    return;
  }
  if (!ebpf.ok()) {
    Fail(where + ": " + ebpf.error().message + "\npacket " + Hex(packet));
  }
  auto classic = ev.classic_kernel.Run(packet);
  if (!classic.ok()) {
    Fail(where + ": classic: " + classic.error().message);
  }
  if ((ev.ebpf.exact() && ebpf->matched != want) || (!ev.ebpf.exact() && !ebpf->matched) ||
      (ev.classic.exact && classic->has_value() != want) ||
      (!ev.classic.exact && !classic->has_value())) {
    Fail(where + ": matcher " + std::to_string(want) + " ebpf " + std::to_string(ebpf->matched) +
         " classic " + std::to_string(classic->has_value()) + "\npacket " + Hex(packet) + "\n" +
         ev.ebpf.disassembly());
  }
  if (want && ev.ebpf.exact()) {
    const std::size_t kept = std::min<std::size_t>(ebpf->extent, packet.size());
    if (ebpf->extent > length || !ev.matcher.Match(packet.first(kept), length)) {
      Fail(where + ": the Matcher differs on the " + std::to_string(ebpf->extent) +
           " bytes the eBPF extent keeps\npacket " + Hex(packet));
    }
  }
}

void CheckExpression(wgcap::FilterExpression expression, unsigned link_header,
                     const std::vector<Bytes>& packets,
                     std::span<const std::uint8_t> input_packet) {
  const wgcap::ExpressionMatcher matcher(std::move(expression));
  const std::string text = wgcap::ToString(matcher.expression());
  const wgcap::ClassicProgram classic = wgcap::CompileClassicFilter(matcher.expression(), 65535);
  wgcap::ClassicSocketRunner classic_kernel(classic.instructions);
  if (!classic_kernel.error().empty()) {
    Fail("the kernel refuses the classic program for " + text + ": " + classic_kernel.error());
  }
  auto ebpf = wgcap::EbpfFilterRunner::Create(matcher.expression(), {link_header, true});
  if (!ebpf.ok()) {
    Fail("the generated filter does not load for " + text + ": " + ebpf.error().message);
  }
  if ((*ebpf)->exact() != (*ebpf)->note().empty()) {
    Fail("exact and note disagree for " + text);
  }
  Evaluators ev{matcher, classic, classic_kernel, **ebpf, link_header};
  const std::string where = text + " (link header " + std::to_string(link_header) + ")";
  for (const Bytes& p : packets) {
    Check(ev, p, where);
  }
  for (const auto& p : wgcap::test::VerdictPackets()) {
    Check(ev, p.captured(), where + " / " + p.name);
  }
  Check(ev, input_packet, where + " / input packet");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::uint32_t seed = 0;
  std::memcpy(&seed, data, std::min<std::size_t>(size, sizeof seed));
  const auto rest = std::span(data, size).subspan(std::min<std::size_t>(size, sizeof seed));
  const unsigned link_header = (seed & 1) != 0 ? 14 : 0;
  // Half the seeds mix packet-data relations (issue 21) into the terms.
  wgcap::test::RandomCases random(seed, /*relations=*/(seed & 2) != 0);
  std::vector<Bytes> packets;
  for (int i = 0; i < kRandomPackets; ++i) {
    packets.push_back(random.Packet());
  }
  const auto in = wgcap::fuzz::SplitFilterInput(rest);
  auto generated = wgcap::ParseFilterExpression(random.Expression());
  if (!generated.ok()) {
    Fail("RandomCases made an expression that does not parse: " + generated.error().message);
  }
  CheckExpression(std::move(generated).value(), link_header, packets, in.packet);
  // A `peer` term needs a peer table to resolve against and a trie to load
  // with; ebpf_peer_test checks those against the Matcher over random
  // tables. Here it stays unresolved, which the generator refuses.
  if (auto parsed = wgcap::ParseFilterExpression(in.text);
      parsed.ok() && !in.text.empty() && !wgcap::HasPeerTerms(*parsed)) {
    CheckExpression(std::move(parsed).value(), link_header, packets, in.packet);
  }
  return 0;
}
