// SPDX-License-Identifier: Apache-2.0
// Issue 21: packet-data relations (`tcp[13] & 2 != 0`, `ip[6:2] & 0x1fff !=
// 0`, `tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420`, `len > 1400`)
// against libpcap 1.10.3 in process and `tcpdump -r` end to end, with the
// generator of tests/support/relation_cases (constant and variable offsets,
// all sizes, arithmetic, named values, reads past the end, run-time division
// by zero, mixed with ordinary primitives under and/or/not).
//
// What is compared how:
// - IPv4 packets, and IPv6 packets without a transport header the
//   expression loads from: wgcap (Matcher, and the classic program run by
//   libpcap's interpreter) against libpcap's unoptimized program of the same
//   text (as the other differential tests: libpcap's optimizer is not the
//   reference; expressions it refuses, e.g. by folding a divisor to 0, are
//   counted and still compared with the unoptimized program).
// - IPv6 packets carrying a TCP, UDP or ICMPv6 header the expression loads
//   from: SPEC 1's intended difference (wgcap reads `tcp[]` on IPv6 after
//   the extension walk; libpcap 1.10 is IPv4-only for tcp/udp and reads
//   icmp6[] at 40). There libpcap is given LibpcapEquivalent's rewrite of the
//   text, `tcp[e:n]` → `ip6[(e) + 40:n]`, which means what wgcap's load means.
// - tcpdump end to end: the packets that need no rewrite for any expression
//   (IPv4, and IPv6 other protocols or later fragments).
// The packets keep to the subset the qualifier test documents (no
// truncation, no IPv6 extension headers but non-first fragments).
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "filter/classic_filter.hpp"
#include "support/classic_runners.hpp"
#include "support/libpcap_reference.hpp"
#include "support/packet_builder.hpp"
#include "support/relation_cases.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::test {
namespace {

constexpr std::uint32_t kSeed = 0x5e1a7105;
constexpr int kPackets = 2000;
constexpr int kExpressions = 600;       // in process, against every packet
constexpr int kBinaryExpressions = 500; // end to end

constexpr std::array<const char*, 4> kIpv4Pool = {"192.0.2.1", "192.0.2.77", "198.51.100.42",
                                                  "203.0.113.9"};
constexpr std::array<const char*, 3> kIpv6Pool = {"2001:db8::1", "2001:db8::2", "2001:db8:8000::1"};
constexpr std::array<std::uint16_t, 6> kPorts = {80, 53, 443, 1000, 22, 8080};
constexpr std::array<std::uint8_t, 8> kIcmpTypes = {0, 3, 8, 11, 5, 13, 17, 4};
constexpr std::array<std::uint8_t, 6> kIcmp6Types = {128, 129, 1, 2, 135, 136};

// TCP with random flags, options and an HTTP GET now and then; UDP; ICMP
// and ICMPv6 of several types; other protocols; IPv4 options and fragments;
// IPv6 non-first fragments; lengths from 20 to 1500 bytes.
Bytes RandomPacket(Random& r) {
  const bool v4 = r.Chance(55);
  PacketBuilder b = v4 ? PacketBuilder::Ipv4(r.Pick(kIpv4Pool), r.Pick(kIpv4Pool))
                       : PacketBuilder::Ipv6(r.Pick(kIpv6Pool), r.Pick(kIpv6Pool));
  if (!v4 && r.Chance(10)) {
    b.Ipv6Fragment(static_cast<std::uint16_t>(r.Uniform(1, 8191)), r.Chance(50));
  }
  const int kind = r.Uniform(0, 99);
  if (kind < 40) {
    b.Tcp(r.Pick(kPorts), r.Pick(kPorts),
          static_cast<std::uint8_t>(r.Chance(50) ? 0x02 : r.Uniform(0, 255)),
          static_cast<std::uint32_t>(r.Uniform(0, 1 << 30)));
    if (r.Chance(25)) {
      b.TcpOptions(r.RandomBytes(static_cast<std::size_t>(4 * r.Uniform(1, 10))));
    }
    if (r.Chance(20)) {
      b.Payload(std::string("GET / HTTP/1.1\r\nHost: example\r\n\r\n"));
    }
  } else if (kind < 65) {
    b.Udp(r.Pick(kPorts), r.Pick(kPorts));
  } else if (kind < 90) {
    const auto id = static_cast<std::uint16_t>(r.Uniform(0, 65535));
    v4 ? b.Icmp(r.Pick(kIcmpTypes), static_cast<std::uint8_t>(r.Uniform(0, 3)), id, 1)
       : b.Icmp6(r.Pick(kIcmp6Types), static_cast<std::uint8_t>(r.Uniform(0, 3)), id, 1);
  } else {
    static constexpr std::array<std::uint8_t, 3> kOther = {47, 50, 89};
    b.Protocol(r.Pick(kOther), r.RandomBytes(8));
  }
  if (r.Chance(10)) {
    b.PayloadSize(static_cast<std::size_t>(r.Uniform(1300, 1450)));
  } else if (r.Chance(60)) {
    b.Payload(r.RandomBytes(static_cast<std::size_t>(r.Uniform(0, 200))));
  }
  if (v4 && r.Chance(15)) {
    b.Ipv4Options(static_cast<std::size_t>(4 * r.Uniform(1, 10)));
  }
  if (v4 && r.Chance(15)) {
    b.Ipv4Fragment(r.Chance(40) ? 0 : static_cast<std::uint16_t>(r.Uniform(1, 8191)), r.Chance(50));
  }
  return b.Build();
}

std::vector<Bytes> RandomPackets(Random& r) {
  std::vector<Bytes> packets;
  for (int i = 0; i < kPackets; ++i) {
    packets.push_back(RandomPacket(r));
  }
  return packets;
}

RelationGenerator Generator(Random& r) {
  return RelationGenerator([&r](int n) { return r.Uniform(0, n - 1); });
}

std::string Join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) {
    out += "\n  " + item;
  }
  return out;
}

// libpcap's programs for one expression: the text's, and the rewrites some
// IPv6 packets need, compiled once each.
class References {
public:
  References(pcap_t* dead, std::string text) : dead_(dead), text_(std::move(text)) {}

  const BpfProgram& For(const Bytes& packet, bool* rewritten) {
    const auto equivalent = LibpcapEquivalent(text_, packet);
    *rewritten = equivalent.has_value();
    const std::string& text = equivalent ? *equivalent : text_;
    auto& slot = programs_[text];
    if (!slot) {
      slot = std::make_unique<BpfProgram>(dead_, text, false);
    }
    return *slot;
  }

private:
  pcap_t* dead_;
  std::string text_;
  std::map<std::string, std::unique_ptr<BpfProgram>> programs_;
};

TEST(TcpdumpRelationDifferential, InProcessAgreesWithLibpcap) {
  const auto started = std::chrono::steady_clock::now();
  Random r(kSeed);
  const std::vector<Bytes> packets = RandomPackets(r);
  RelationGenerator generator = Generator(r);
  const PcapHandle dead(pcap_open_dead(DLT_RAW, 65535));
  ASSERT_NE(dead, nullptr);

  std::vector<std::string> failures;
  std::size_t mismatches = 0, verdicts = 0, matched = 0, discriminating = 0;
  std::size_t optimizer_refusals = 0, rewritten_verdicts = 0, rejected_verdicts = 0;
  auto note = [&](const std::string& text) {
    ++mismatches;
    if (failures.size() < 8) {
      failures.push_back(text);
    }
  };
  for (int e = 0; e < kExpressions; ++e) {
    std::string expression_for_libpcap;
    const std::string expression = generator.Expression(3, &expression_for_libpcap);
    const auto ours = ParseFilter(expression);
    const BpfProgram plain(dead.get(), expression_for_libpcap, false);
    if (!plain.ok() || !ours) {
      note("\"" + expression + "\": libpcap " +
           (plain.ok() ? "accepts" : "rejects (" + plain.error() + ")") + ", wgcap " +
           (ours ? "accepts" : "rejects (" + ours.error().message + ")"));
      continue;
    }
    optimizer_refusals += BpfProgram(dead.get(), expression_for_libpcap, true).ok() ? 0 : 1;
    const ClassicProgram classic = CompileClassicFilter(ours.value()->expression(), 65535);
    References references(dead.get(), expression_for_libpcap);
    bool noted = false; // one line per expression in the report
    std::size_t matched_here = 0;
    for (const auto& packet : packets) {
      bool rewritten = false;
      const BpfProgram& reference = references.For(packet, &rewritten);
      if (!reference.ok()) {
        note("\"" + expression + "\": libpcap rejects its IPv6 rewrite: " + reference.error());
        break;
      }
      const auto length = static_cast<std::uint32_t>(packet.size());
      const bool want = reference.Matches(packet);
      const bool got = ours.value()->Match(packet, length);
      const bool bpf = RunWithLibpcap(classic.instructions, packet, length) != 0;
      ++verdicts;
      rewritten_verdicts += rewritten ? 1 : 0;
      matched_here += want ? 1 : 0;
      if (want != got || (classic.exact && want != bpf)) {
        mismatches += noted ? 1 : 0;
        if (noted) {
          continue;
        }
        noted = true;
        note("\"" + expression + "\" (libpcap: \"" + expression_for_libpcap + "\")" +
             (rewritten ? " (IPv6 rewrite)" : "") + ": libpcap " + (want ? "true" : "false") +
             ", Matcher " + (got ? "true" : "false") + ", classic " + (bpf ? "true" : "false") +
             " on " + Summary(packet) + ": " + Hex(packet));
      }
    }
    // A packet the relation rejects: the same expression with "or ip or ip6"
    // still drops it in libpcap (every generated packet is IP).
    const BpfProgram widened(dead.get(), "(" + expression_for_libpcap + ") or ip or ip6", false);
    for (const auto& packet : packets) {
      rejected_verdicts += widened.ok() && !LibpcapEquivalent(expression_for_libpcap, packet) &&
                                   !widened.Matches(packet)
                               ? 1
                               : 0;
    }
    matched += matched_here;
    discriminating += matched_here != 0 && matched_here != packets.size() ? 1 : 0;
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  std::printf("%d expressions x %d packets = %zu verdicts (%zu against an IPv6 rewrite, %zu "
              "packets rejected by a read past the end or a division by zero), %zu "
              "disagreements, %zu discriminating expressions, %zu refused by libpcap's "
              "optimizer, %lld ms (seed 0x%x)\n",
              kExpressions, kPackets, verdicts, rewritten_verdicts, rejected_verdicts, mismatches,
              discriminating, optimizer_refusals, static_cast<long long>(elapsed.count()), kSeed);
  EXPECT_EQ(mismatches, 0u) << "seed 0x" << std::hex << kSeed << std::dec << ", " << mismatches
                            << " disagreements, first " << failures.size() << ":" << Join(failures);
  EXPECT_EQ(verdicts, static_cast<std::size_t>(kExpressions) * kPackets);
  EXPECT_GT(matched, verdicts / 20);
  EXPECT_LT(matched, verdicts * 19 / 20);
  EXPECT_GT(discriminating, static_cast<std::size_t>(kExpressions) / 3);
  EXPECT_GT(rewritten_verdicts, verdicts / 50);
  EXPECT_GT(rejected_verdicts, verdicts / 200);
}

TEST(TcpdumpRelationDifferential, WgcapRKeepsWhatTcpdumpRKeeps) {
  if (!HaveTcpdump()) {
    GTEST_SKIP() << "tcpdump is not installed";
  }
  Random r(kSeed);
  std::vector<Bytes> packets;
  for (const Bytes& p : RandomPackets(r)) {
    // No rewrite needed: no transport header an IPv6 relation could read.
    if (!LibpcapEquivalent("tcp[0] = 0 or udp[0] = 0 or icmp6[0] = 0", p)) {
      packets.push_back(p);
    }
  }
  TempDir dir;
  const std::string input = dir.File("in.pcap");
  ASSERT_NO_FATAL_FAILURE(WriteInput(input, packets));
  Random g(kSeed + 1);
  RelationGenerator generator = Generator(g);
  std::size_t selected = 0;
  for (int e = 0; e < kBinaryExpressions && !HasFailure(); ++e) {
    std::string theirs;
    const std::string ours = generator.Expression(2, &theirs);
    selected += CompareBinaries(dir, input, packets, ours, kSeed + 1, theirs).records.size();
  }
  std::printf("tcpdump -r and wgcap -r: %d expressions over %zu packets, %zu records selected\n",
              kBinaryExpressions, packets.size(), selected);
  EXPECT_GT(packets.size(), static_cast<std::size_t>(kPackets) / 2);
  EXPECT_GT(selected, 0u);
  EXPECT_LT(selected, packets.size() * kBinaryExpressions);
}

} // namespace
} // namespace wgcap::test
