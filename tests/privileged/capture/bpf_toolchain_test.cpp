// SPDX-License-Identifier: Apache-2.0
// The BPF toolchain end to end: the object clang built, embedded by the
// bpftool skeleton, loads through libbpf, passes the verifier and runs under
// BPF_PROG_TEST_RUN with the continue verdict and its counters. The sample
// program is run directly, as the generated filter's tail call reaches it,
// with the extent the filter would put in skb->cb.
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

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

struct Sample {
  wgcap_sample_header header{};
  std::vector<std::uint8_t> data;
};

int OnSample(void* ctx, void* data, size_t size) {
  auto* out = static_cast<std::vector<Sample>*>(ctx);
  Sample s;
  std::memcpy(&s.header, data, sizeof s.header);
  const auto* bytes = static_cast<const std::uint8_t*>(data) + sizeof s.header;
  s.data.assign(bytes, bytes + (size - sizeof s.header));
  out->push_back(std::move(s));
  return 0;
}

// The sample program as the filter's tail call reaches it: cb[extent] set.
// snaplen 16 < extent 28: the sample keeps the 28 bytes the verdict read.
TEST(BpfToolchain, SampleProgramKeepsTheExtentAndContinues) {
  WGCAP_REQUIRE_PRIVILEGES();
  std::unique_ptr<wgcap_tc, SkeletonDeleter> skel(wgcap_tc__open());
  ASSERT_TRUE(skel) << std::strerror(errno);
  skel->rodata->wgcap_snaplen = 16;
  skel->rodata->wgcap_link_header = 14; // BPF_PROG_TEST_RUN builds an Ethernet skb
  ASSERT_EQ(wgcap_tc__load(skel.get()), 0) << std::strerror(errno);

  // BPF_PROG_TEST_RUN on sched_cls wants at least an Ethernet header's worth.
  auto packet =
      test::PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Udp(1, 2).PayloadSize(32).Build();
  std::vector<std::uint8_t> frame = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
  frame.insert(frame.end(), packet.begin(), packet.end());
  __sk_buff ctx{};
  ctx.cb[WGCAP_CB_EXTENT] = 28;
  const int prog_fd = bpf_program__fd(skel->progs.wgcap_sample_out);
  constexpr int kRuns = 5;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
              .data_size_in = static_cast<std::uint32_t>(frame.size()), .ctx_in = &ctx,
              .ctx_size_in = sizeof ctx, .repeat = kRuns);
  ASSERT_EQ(bpf_prog_test_run_opts(prog_fd, &opts), 0) << std::strerror(errno);
  EXPECT_EQ(static_cast<int>(opts.retval), TC_ACT_UNSPEC)
      << "the program must never change a packet's fate";

  std::vector<Sample> samples;
  ring_buffer* rb =
      ring_buffer__new(bpf_map__fd(skel->maps.wgcap_samples), OnSample, &samples, nullptr);
  ASSERT_NE(rb, nullptr);
  ring_buffer__consume(rb);
  ring_buffer__free(rb);
  ASSERT_EQ(samples.size(), static_cast<std::size_t>(kRuns));
  EXPECT_EQ(samples[0].header.direction, WGCAP_DIR_OUT);
  EXPECT_EQ(samples[0].header.original_length, packet.size());
  ASSERT_EQ(samples[0].header.captured_length, 28u);
  EXPECT_TRUE(std::equal(packet.begin(), packet.begin() + 28, samples[0].data.begin()));

  // SEEN is the filter's to count; the sample program counts the matches.
  const int counters = bpf_map__fd(skel->maps.wgcap_counters);
  EXPECT_EQ(SumPerCpu(counters, WGCAP_COUNTER_SEEN), 0u);
  EXPECT_EQ(SumPerCpu(counters, WGCAP_COUNTER_MATCHED), static_cast<std::uint64_t>(kRuns));
  EXPECT_EQ(SumPerCpu(counters, WGCAP_COUNTER_RING_FULL), 0u);
}

TEST(BpfToolchain, AbiHeaderLayoutIsFixed) {
  // userspace and the kernel program read the same bytes
  static_assert(sizeof(wgcap_sample_header) == 32);
  static_assert(offsetof(wgcap_sample_header, timestamp_ns) == 0);
  static_assert(offsetof(wgcap_sample_header, ifindex) == 8);
  static_assert(offsetof(wgcap_sample_header, original_length) == 12);
  static_assert(offsetof(wgcap_sample_header, captured_length) == 16);
  static_assert(offsetof(wgcap_sample_header, direction) == 20);
  static_assert(offsetof(wgcap_sample_header, gso_segs) == 22);
  static_assert(offsetof(wgcap_sample_header, gso_size) == 24);
  static_assert(sizeof(wgcap_peer_lpm_key) == 24);
  SUCCEED();
}

} // namespace
} // namespace wgcap
