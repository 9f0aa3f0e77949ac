// SPDX-License-Identifier: Apache-2.0
// Issue 23, third evaluator: every expression of the libpcap TESTrun corpus
// that wgcap parses (tests/data/libpcap-testrun) is compiled into the
// generated eBPF filter, loaded as wgcap loads it, and run under BPF_PROG_TEST_RUN over
// every packet of crafted.pcap. The kernel's verdict must equal the
// Matcher's on every packet, truncated ones and long IPv6 extension chains
// included; libpcap_testrun_test holds the Matcher (and the classic program)
// to libpcap itself.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "capture/bpf/ebpf_filter_runner.hpp"
#include "support/privileges.hpp"
#include "support/testrun_corpus.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::test {
namespace {

const std::string kDataDir = std::string(WGCAP_SOURCE_DIR) + "/tests/data/libpcap-testrun";

// The generated eBPF filter (issue 19) on the same corpus, on an Ethernet
// link and on a raw IP one (where frames under 14 bytes cannot be
// test-run), with the Matcher deciding the same on the bytes its extent
// keeps.
std::string FirstEbpfDifference(const std::string& expression, const std::vector<Bytes>& packets,
                                unsigned link_header) {
  auto parsed = ParseFilter(expression);
  if (!parsed.ok()) {
    return "";
  }
  const auto matcher = std::move(parsed).value();
  auto runner = EbpfFilterRunner::Create(matcher->expression(), {link_header, true});
  if (!runner.ok()) {
    return "does not load: " + runner.error().message;
  }
  if (!(*runner)->exact()) {
    return "the generated filter is not exact: " + (*runner)->note();
  }
  for (const Bytes& packet : packets) {
    if (link_header == 0 && packet.size() < 14) {
      continue;
    }
    const auto length = static_cast<std::uint32_t>(packet.size());
    const bool want = matcher->Match(packet, length);
    auto got = (*runner)->Run(packet);
    if (!got.ok()) {
      return "test run failed: " + got.error().message;
    }
    if (got->matched != want) {
      return std::string("Matcher ") + (want ? "true" : "false") + ", eBPF " +
             (want ? "false" : "true") + " on " + HexPrefix(packet);
    }
    const std::size_t kept = std::min<std::size_t>(got->extent, packet.size());
    if (want && !matcher->Match(std::span(packet).first(kept), length)) {
      return "the Matcher differs on the " + std::to_string(kept) + " bytes the extent keeps of " +
             HexPrefix(packet);
    }
  }
  return "";
}

TEST(KernelTestrun, GeneratedEbpfAgreesWithMatcherOnTheCorpus) {
  WGCAP_REQUIRE_PRIVILEGES();
  const auto expressions = ReadExpressionList(kDataDir + "/ip-expressions.txt");
  const auto packets = ReadCorpusCapture(kDataDir + "/crafted.pcap");
  ASSERT_GT(expressions.size(), 600u);
  int failures = 0;
  for (const unsigned link_header : {14u, 0u}) {
    for (const std::string& expression : expressions) {
      const std::string diff = FirstEbpfDifference(expression, packets, link_header);
      if (!diff.empty() && ++failures <= 20) {
        ADD_FAILURE() << Quote(expression) << " (link header " << link_header << "): " << diff;
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

} // namespace
} // namespace wgcap::test
