// SPDX-License-Identifier: Apache-2.0
// The BPF toolchain end to end: the object clang built, embedded by the
// bpftool skeleton, loads through libbpf, passes the verifier and runs under
// BPF_PROG_TEST_RUN with the continue verdict and its counters.
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include <cstring>
#include <memory>

#include "support/packet_builder.hpp"
#include "support/privileges.hpp"
#include "wgcap_abi.h"
#include "wgcap_tc.skel.h"

namespace wgcap {
namespace {

struct SkeletonDeleter {
  void operator()(wgcap_tc* s) const { wgcap_tc__destroy(s); }
};

std::uint64_t SumPerCpu(int map_fd, std::uint32_t key) {
  const int cpus = libbpf_num_possible_cpus();
  std::vector<std::uint64_t> values(static_cast<std::size_t>(cpus));
  if (bpf_map_lookup_elem(map_fd, &key, values.data()) != 0) {
    ADD_FAILURE() << "lookup of counter " << key << " failed";
    return 0;
  }
  std::uint64_t sum = 0;
  for (auto v : values) {
    sum += v;
  }
  return sum;
}

TEST(BpfToolchain, SkeletonLoadsAndRunsWithContinueVerdict) {
  WGCAP_REQUIRE_PRIVILEGES();
  std::unique_ptr<wgcap_tc, SkeletonDeleter> skel(wgcap_tc__open_and_load());
  ASSERT_TRUE(skel) << "wgcap_tc__open_and_load failed: " << std::strerror(errno);

  // BPF_PROG_TEST_RUN on sched_cls wants at least an Ethernet header's worth.
  auto packet =
      test::PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Udp(1, 2).PayloadSize(32).Build();
  const int prog_fd = bpf_program__fd(skel->progs.wgcap_ingress);
  constexpr int kRuns = 5;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(),
              .data_size_in = static_cast<std::uint32_t>(packet.size()), .repeat = kRuns);
  ASSERT_EQ(bpf_prog_test_run_opts(prog_fd, &opts), 0) << std::strerror(errno);
  EXPECT_EQ(static_cast<int>(opts.retval), TC_ACT_UNSPEC)
      << "the program must never change a packet's fate";

  const int counters = bpf_map__fd(skel->maps.wgcap_counters);
  EXPECT_EQ(SumPerCpu(counters, WGCAP_COUNTER_SEEN), static_cast<std::uint64_t>(kRuns));
  // Loaded as is, the program passes every packet to the ring.
  EXPECT_EQ(SumPerCpu(counters, WGCAP_COUNTER_MATCHED), static_cast<std::uint64_t>(kRuns));
  EXPECT_EQ(SumPerCpu(counters, WGCAP_COUNTER_RING_FULL), 0u);
}

TEST(BpfToolchain, AbiHeaderLayoutIsFixed) {
  // userspace and the kernel program read the same bytes
  static_assert(sizeof(wgcap_sample_header) == 24);
  static_assert(offsetof(wgcap_sample_header, timestamp_ns) == 0);
  static_assert(offsetof(wgcap_sample_header, ifindex) == 8);
  static_assert(offsetof(wgcap_sample_header, original_length) == 12);
  static_assert(offsetof(wgcap_sample_header, captured_length) == 16);
  static_assert(offsetof(wgcap_sample_header, direction) == 20);
  SUCCEED();
}

} // namespace
} // namespace wgcap
