// SPDX-License-Identifier: Apache-2.0
// Userspace per-packet filter cost: the one parse, then the Matcher on a
// parsed packet, for 1 and 6 terms, on packets that match and that do not.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "bench_packets.hpp"
#include "wgcap/filter_parser.hpp"
#include "wgcap/packet_parse.hpp"

namespace wgcap::bench {
namespace {

std::shared_ptr<const ExpressionMatcher> MustParse(const char* expression) {
  auto m = ParseFilter(expression);
  if (!m) {
    std::fprintf(stderr, "filter %s: %s\n", expression, m.error().message.c_str());
    std::abort();
  }
  return *m;
}

void BM_ParsePacket(benchmark::State& state, Bytes packet) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(packet.data());
    ParsedPacket p = ParsePacket(packet);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_ParsePacket, ipv4_udp, Ipv4Udp());
BENCHMARK_CAPTURE(BM_ParsePacket, ipv4_tcp, Ipv4Tcp());
BENCHMARK_CAPTURE(BM_ParsePacket, ipv6_3ext_udp, Ipv6UdpWithExtensions());

// MatchParsed alone: the Matcher's own cost, the parse being shared with
// the text output and measured above.
void BM_MatchParsed(benchmark::State& state, const char* expression, Bytes packet, bool expected) {
  const auto matcher = MustParse(expression);
  const ParsedPacket parsed = ParsePacket(packet);
  if (matcher->MatchParsed(parsed) != expected) {
    state.SkipWithError("verdict differs from the expected one");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(&parsed);
    bool verdict = matcher->MatchParsed(parsed);
    benchmark::DoNotOptimize(verdict);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_MatchParsed, 1term_match, "udp", Ipv4Udp(), true);
BENCHMARK_CAPTURE(BM_MatchParsed, 1term_nomatch, "tcp", Ipv4Udp(), false);
BENCHMARK_CAPTURE(BM_MatchParsed, 6terms_match, kSixTermsV4, Ipv4Udp(kFloodPort), true);
BENCHMARK_CAPTURE(BM_MatchParsed, 6terms_nomatch, kSixTermsV4, Ipv4Udp(kFloodPort + 1), false);
BENCHMARK_CAPTURE(BM_MatchParsed, 6terms_v6_nomatch, kSixTermsV6,
                  Ipv6UdpWithExtensions(kFloodPort + 1), false);
// Packet-data relations (issue 21): the header check, then the arithmetic.
BENCHMARK_CAPTURE(BM_MatchParsed, relation_len, "len > 1400", Ipv4Udp(), false);
BENCHMARK_CAPTURE(BM_MatchParsed, relation_tcpflags, "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
                  Ipv4Tcp(), false);
BENCHMARK_CAPTURE(BM_MatchParsed, relation_http_get,
                  "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420", Ipv4Tcp(), false);
BENCHMARK_CAPTURE(BM_MatchParsed, relation_wrong_protocol, "tcp[13] & 2 != 0", Ipv4Udp(), false);

// Match = parse + MatchParsed: what the Session pays per offered packet.
void BM_Match(benchmark::State& state, const char* expression, Bytes packet, bool expected) {
  const auto matcher = MustParse(expression);
  if (matcher->Match(packet) != expected) {
    state.SkipWithError("verdict differs from the expected one");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(packet.data());
    bool verdict = matcher->Match(packet);
    benchmark::DoNotOptimize(verdict);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_Match, 1term_match, "udp", Ipv4Udp(), true);
BENCHMARK_CAPTURE(BM_Match, 6terms_match, kSixTermsV4, Ipv4Udp(kFloodPort), true);
BENCHMARK_CAPTURE(BM_Match, 6terms_nomatch, kSixTermsV4, Ipv4Udp(kFloodPort + 1), false);

} // namespace
} // namespace wgcap::bench

BENCHMARK_MAIN();
