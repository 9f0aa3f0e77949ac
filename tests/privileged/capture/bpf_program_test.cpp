// SPDX-License-Identifier: Apache-2.0
// The loader (BpfProgram): the sample programs and maps from the skeleton,
// the prog array filled, one generated filter program per hook that
// tail-calls its direction's sample program; loading with only CAP_BPF +
// CAP_NET_ADMIN; and the RLIMIT_MEMLOCK path of kernels before 5.11, taken
// here through BpfProgramOptions::memlock_charged (this kernel charges the
// memory cgroup instead).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <linux/pkt_cls.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "capture/bpf/bpf_program.hpp"
#include "support/packet_builder.hpp"
#include "support/privileges.hpp"
#include "wgcap/filter_parser.hpp"
#include "wgcap_abi.h"

namespace wgcap {
namespace {

using ::testing::HasSubstr;

FilterExpression Parse(const std::string& text) {
  auto e = ParseFilterExpression(text);
  EXPECT_TRUE(e) << text;
  return e ? *e : FilterExpression{};
}

BpfProgramOptions Options(const std::string& expression) {
  BpfProgramOptions o;
  o.expression = Parse(expression);
  o.link_header = 14; // BPF_PROG_TEST_RUN builds an Ethernet skb
  o.ring_bytes = 1u << 20;
  return o;
}

int Samples(const BpfProgram& program, std::vector<wgcap_sample_header>& out) {
  auto on_sample = [](void* ctx, void* data, size_t) {
    wgcap_sample_header h;
    std::memcpy(&h, data, sizeof h);
    static_cast<std::vector<wgcap_sample_header>*>(ctx)->push_back(h);
    return 0;
  };
  ring_buffer* rb = ring_buffer__new(program.ring_fd(), on_sample, &out, nullptr);
  if (rb == nullptr) {
    return -1;
  }
  const int n = ring_buffer__consume(rb);
  ring_buffer__free(rb);
  return n;
}

int TestRun(int prog_fd, std::vector<std::uint8_t> packet) {
  std::vector<std::uint8_t> frame = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
  frame.insert(frame.end(), packet.begin(), packet.end());
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
              .data_size_in = static_cast<std::uint32_t>(frame.size()), .repeat = 1);
  EXPECT_EQ(bpf_prog_test_run_opts(prog_fd, &opts), 0) << std::strerror(errno);
  return static_cast<int>(opts.retval);
}

// Runs `body` in a child that holds, of the capabilities, only CAP_BPF and
// CAP_NET_ADMIN (no CAP_SYS_RESOURCE: RLIMIT_MEMLOCK rises only to its hard
// limit), after `before` ran with the parent's; returns what body returned.
std::string InRestrictedChild(const std::function<void()>& before,
                              const std::function<std::string()>& body) {
  int fds[2];
  if (pipe(fds) != 0) {
    return "pipe failed";
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    before();
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    for (int cap : {CAP_BPF, CAP_NET_ADMIN}) {
      data[cap / 32].effective |= 1u << (cap % 32);
      data[cap / 32].permitted |= 1u << (cap % 32);
    }
    if (syscall(SYS_capset, &header, data) != 0) {
      _exit(2);
    }
    const std::string result = body();
    (void)!write(fds[1], result.data(), result.size());
    _exit(0);
  }
  close(fds[1]);
  std::string result;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) {
    result.append(buffer, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "child failed (status " + std::to_string(status) + "): " + result;
  }
  return result;
}

TEST(BpfProgram, FilterTailCallsTheSampleProgramOfItsHook) {
  WGCAP_REQUIRE_PRIVILEGES();
  auto options = Options("icmp");
  options.egress = false;
  auto program = BpfProgram::Load(options);
  ASSERT_TRUE(program) << program.error().message;
  const BpfProgram& p = **program;
  EXPECT_GE(p.ingress_fd(), 0);
  EXPECT_EQ(p.egress_fd(), -1) << "only the hooks asked for are loaded";
  EXPECT_GT(p.filter().verified_instructions, 0u);
  EXPECT_FALSE(p.filter().instructions.empty());

  const auto icmp = test::PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Icmp(8, 0).Build();
  const auto udp = test::PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Udp(1, 2).Build();
  EXPECT_EQ(TestRun(p.ingress_fd(), icmp), TC_ACT_UNSPEC);
  EXPECT_EQ(TestRun(p.ingress_fd(), udp), TC_ACT_UNSPEC);
  std::vector<wgcap_sample_header> samples;
  ASSERT_GE(Samples(p, samples), 0);
  const std::optional<KernelCounters> read = p.ReadCounters();
  ASSERT_TRUE(read);
  const KernelCounters c = *read;
  EXPECT_EQ(c.seen, 2);
  if (p.filter_exact()) {
    ASSERT_EQ(samples.size(), 1u);
    EXPECT_EQ(c.matched, 1);
  } else { // passes all, the Matcher decides
    ASSERT_EQ(samples.size(), 2u);
    EXPECT_EQ(c.matched, 2);
    EXPECT_FALSE(p.filter_note().empty());
  }
  EXPECT_EQ(samples[0].direction, WGCAP_DIR_IN);
  EXPECT_EQ(samples[0].original_length, icmp.size());
}

TEST(BpfProgram, EgressFilterSamplesAsOut) {
  WGCAP_REQUIRE_PRIVILEGES();
  auto options = Options("");
  options.ingress = false;
  auto program = BpfProgram::Load(options);
  ASSERT_TRUE(program) << program.error().message;
  EXPECT_TRUE((*program)->filter_exact());
  EXPECT_EQ((*program)->ingress_fd(), -1);
  const auto udp = test::PacketBuilder::Ipv4("192.0.2.1", "192.0.2.2").Udp(1, 2).Build();
  EXPECT_EQ(TestRun((*program)->egress_fd(), udp), TC_ACT_UNSPEC);
  std::vector<wgcap_sample_header> samples;
  ASSERT_GE(Samples(**program, samples), 0);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].direction, WGCAP_DIR_OUT);
}

// The sidecar's set: the restricted verifier (no CAP_PERFMON, no
// CAP_SYS_ADMIN) accepts the sample programs and the generated filters.
TEST(BpfProgram, LoadsWithOnlyCapBpfAndCapNetAdmin) {
  WGCAP_REQUIRE_PRIVILEGES();
  for (const char* expression :
       {"", "icmp", "tcp port 443 or udp port 53", "protochain 1 or proto 44",
        "ip6 and net 2001:db8::/32 and not tcp portrange 1000-2000"}) {
    const std::string result =
        InRestrictedChild([] {},
                          [&] {
                            auto program = BpfProgram::Load(Options(expression));
                            return program ? std::string("loaded") : program.error().message;
                          });
    EXPECT_EQ(result, "loaded") << expression;
  }
}

// --- RLIMIT_MEMLOCK (kernels before 5.11) ------------------------------------

void LowerMemlock(rlim_t soft, rlim_t hard) {
  const rlimit low{soft, hard};
  if (setrlimit(RLIMIT_MEMLOCK, &low) != 0) {
    _exit(3);
  }
}

TEST(BpfProgram, MemlockTooLowAndNotRaisableNamesLimitSizeAndFixes) {
  WGCAP_REQUIRE_PRIVILEGES();
  const std::string message =
      InRestrictedChild([] { LowerMemlock(64 << 10, 64 << 10); },
                        [] {
                          auto options = Options("icmp");
                          options.ring_bytes = 4u << 20;
                          options.memlock_charged = true;
                          auto program = BpfProgram::Load(options);
                          return program ? std::string("loaded") : program.error().message;
                        });
  EXPECT_THAT(message, HasSubstr("RLIMIT_MEMLOCK"));
  EXPECT_THAT(message, HasSubstr("the ring buffer alone is 4096 KiB"));
  EXPECT_THAT(message, HasSubstr("the limit is 64 KiB"));
  EXPECT_THAT(message, HasSubstr("--ulimit memlock=-1"));
  EXPECT_THAT(message, HasSubstr("LimitMEMLOCK=infinity"));
  EXPECT_THAT(message, HasSubstr("smaller -B"));
}

// The soft limit below what the ring needs, the hard one above it (8 MiB
// where the hard limit is unlimited): raised to the hard limit, no privilege
// needed.
TEST(BpfProgram, MemlockRaisedToTheHardLimitWithoutPrivilege) {
  WGCAP_REQUIRE_PRIVILEGES();
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_MEMLOCK, &before), 0);
  const rlim_t hard = before.rlim_max == RLIM_INFINITY ? 8 << 20 : before.rlim_max;
  ASSERT_GE(hard, 3u << 20) << "too low a hard limit for a 1 MiB ring";
  const std::string result =
      InRestrictedChild([hard] { LowerMemlock(64 << 10, hard); },
                        [] {
                          auto options = Options("icmp");
                          options.memlock_charged = true;
                          auto program = BpfProgram::Load(options);
                          rlimit now{};
                          getrlimit(RLIMIT_MEMLOCK, &now);
                          return (program ? std::string("loaded") : program.error().message) +
                                 " soft " + std::to_string(now.rlim_cur);
                        });
  EXPECT_EQ(result, "loaded soft " + std::to_string(hard));
}

TEST(BpfProgram, MemlockLeftAloneWhereTheKernelChargesTheMemoryCgroup) {
  WGCAP_REQUIRE_PRIVILEGES();
  const std::string result =
      InRestrictedChild([] { LowerMemlock(64 << 10, 64 << 10); },
                        [] {
                          auto options = Options("icmp");
                          options.memlock_charged = false;
                          auto program = BpfProgram::Load(options);
                          return program ? std::string("loaded") : program.error().message;
                        });
  if (KernelChargesMemlock()) {
    GTEST_SKIP() << "this kernel charges RLIMIT_MEMLOCK: " << result;
  }
  EXPECT_EQ(result, "loaded");
}

} // namespace
} // namespace wgcap
