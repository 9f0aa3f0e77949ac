// SPDX-License-Identifier: Apache-2.0
// Issue 23, third evaluator: every expression of the libpcap TESTrun corpus
// that wgcap parses (tests/data/libpcap-testrun) is compiled into the kernel
// program, loaded as wgcap loads it, and run under BPF_PROG_TEST_RUN over
// every packet of crafted.pcap. The kernel's verdict must equal the
// Matcher's on every packet, truncated ones and long IPv6 extension chains
// included; libpcap_testrun_test holds the Matcher (and the classic program)
// to libpcap itself.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "capture/bpf/kernel_filter_runner.hpp"
#include "filter/kernel_filter.hpp"
#include "support/privileges.hpp"
#include "support/testrun_corpus.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::test {
namespace {

const std::string kDataDir = std::string(WGCAP_SOURCE_DIR) + "/tests/data/libpcap-testrun";

// The first packet on which the kernel and the Matcher differ, or "".
std::string FirstDifference(const std::string& expression, const std::vector<Bytes>& packets) {
  auto parsed = ParseFilter(expression);
  if (!parsed.ok()) {
    return ""; // not parsed: libpcap_testrun_test accounts for it
  }
  const auto matcher = std::move(parsed).value();
  const KernelFilterProgram program = CompileKernelFilter(matcher->expression());
  if (!program.exact) {
    return "the kernel program is not exact: " + program.note;
  }
  auto runner = KernelFilterRunner::Create(program, 65535);
  if (!runner.ok()) {
    return "does not load: " + runner.error().message;
  }
  for (const Bytes& packet : packets) {
    const bool want = matcher->Match(packet, static_cast<std::uint32_t>(packet.size()));
    auto got = (*runner)->Run(packet);
    if (!got.ok()) {
      return "test run failed: " + got.error().message;
    }
    if (got->has_value() != want) {
      return std::string("Matcher ") + (want ? "true" : "false") + ", kernel " +
             (want ? "false" : "true") + " on " + HexPrefix(packet);
    }
  }
  return "";
}

TEST(KernelTestrun, KernelProgramAgreesWithMatcherOnTheCorpus) {
  WGCAP_REQUIRE_PRIVILEGES();
  const auto expressions = ReadExpressionList(kDataDir + "/ip-expressions.txt");
  const auto packets = ReadCorpusCapture(kDataDir + "/crafted.pcap");
  ASSERT_GT(expressions.size(), 600u);
  ASSERT_GT(packets.size(), 2000u);
  int failures = 0;
  for (const std::string& expression : expressions) {
    const std::string diff = FirstDifference(expression, packets);
    if (!diff.empty() && ++failures <= 20) {
      ADD_FAILURE() << Quote(expression) << ": " << diff;
    }
  }
  EXPECT_EQ(failures, 0);
}

} // namespace
} // namespace wgcap::test
