// SPDX-License-Identifier: Apache-2.0
// The kernel side's cost per packet: wgcap's TC program run with
// BPF_PROG_TEST_RUN against an empty TC program (the floor: the test-run loop
// itself), on the same frame and repeat count. Needs CAP_BPF.
//
//   wgcap_bench_kernel [--runs N] [--repeat N]
//
// BPF_PROG_TEST_RUN does not drain the ring while it repeats, so a case
// whose packets match runs `repeat` small enough for every sample to fit
// the runner's 1 MiB ring (the reservation succeeds), drained between runs;
// the "ring full" row shows what a failed reservation costs instead.
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <unistd.h>
#include <vector>

#include "bench_packets.hpp"
#include "capture/bpf/kernel_filter_runner.hpp"
#include "filter/kernel_filter.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::bench {
namespace {

// One sample of a 128-byte packet takes 160 bytes of ring (8-byte record
// header, 24-byte sample header, 128 bytes); 4096 of them fill 640 KiB of
// the runner's 1 MiB ring.
constexpr std::uint32_t kFittingRepeat = 4096;

struct Settings {
  int runs = 101;
  std::uint32_t repeat = kFittingRepeat;
  std::uint32_t overflow_repeat = 1u << 20;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "wgcap_bench_kernel: %s\n", what.c_str());
  std::exit(1);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ns per packet over `runs` runs of `repeat`: the median run, and the minimum.
struct Figure {
  double median = 0;
  double min = 0;
};

Figure Measure(int runs, const std::function<double()>& run_once) {
  std::vector<double> v;
  for (int i = 0; i < runs; ++i) {
    v.push_back(run_once());
  }
  return {Median(v), *std::min_element(v.begin(), v.end())};
}

// The same frame KernelFilterRunner::Time builds: an Ethernet header whose
// type names the IP version, then the packet.
Bytes EthernetFrame(const Bytes& packet) {
  Bytes f = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00};
  if ((packet[0] >> 4) == 6) {
    f[12] = 0x86;
    f[13] = 0xdd;
  }
  f.insert(f.end(), packet.begin(), packet.end());
  return f;
}

// The floor: `r0 = TC_ACT_UNSPEC; exit`, loaded from raw instructions.
class EmptyProgram {
public:
  EmptyProgram() {
    bpf_insn insns[2] = {};
    insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
    insns[0].dst_reg = BPF_REG_0;
    insns[0].imm = -1;
    insns[1].code = BPF_JMP | BPF_EXIT;
    fd_ = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "wgbench_empty", "GPL", insns, 2, nullptr);
    if (fd_ < 0) {
      Die(std::string("loading the empty TC program: ") + std::strerror(errno) +
          (errno == EPERM ? " (needs CAP_BPF)" : ""));
    }
  }
  ~EmptyProgram() { close(fd_); }
  EmptyProgram(const EmptyProgram&) = delete;
  EmptyProgram& operator=(const EmptyProgram&) = delete;

  double Time(const Bytes& packet, std::uint32_t repeat) const {
    Bytes frame = EthernetFrame(packet);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                .data_size_in = static_cast<std::uint32_t>(frame.size()),
                .repeat = static_cast<int>(repeat));
    if (bpf_prog_test_run_opts(fd_, &opts) != 0) {
      Die(std::string("BPF_PROG_TEST_RUN (empty program): ") + std::strerror(errno));
    }
    return static_cast<double>(opts.duration);
  }

private:
  int fd_ = -1;
};

struct Case {
  std::string name;
  std::string expression;
  Bytes packet;
  bool matches;
  std::uint32_t snaplen = 128;
  SampleMode mode = SampleMode::Auto;
  bool overflow = false;     // run with a repeat far beyond what the ring holds
  bool direct_access = true; // false: every header read by bpf_skb_load_bytes
};

std::unique_ptr<KernelFilterRunner> Load(const Case& c) {
  auto matcher = ParseFilter(c.expression);
  if (!matcher) {
    Die("filter " + c.expression + ": " + matcher.error().message);
  }
  auto runner = KernelFilterRunner::Create(CompileKernelFilter((*matcher)->expression()), c.snaplen,
                                           c.mode, c.direct_access);
  if (!runner) {
    Die("loading wgcap's TC program: " + runner.error().message);
  }
  // The verdict the row claims, checked once before timing.
  auto verdict = (*runner)->Run(c.packet);
  if (!verdict) {
    Die(c.name + ": " + verdict.error().message);
  }
  if (verdict->has_value() != c.matches) {
    Die(c.name + ": the program's verdict is not the expected one");
  }
  return std::move(runner).value();
}

int Main(int argc, char** argv) {
  Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--runs") {
      s.runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--repeat") {
      s.repeat = static_cast<std::uint32_t>(std::max(1, std::atoi(argv[i + 1])));
    } else {
      Die("usage: wgcap_bench_kernel [--runs N] [--repeat N]");
    }
  }
  const Bytes udp = Ipv4Udp(kFloodPort);
  const Bytes udp_other = Ipv4Udp(kFloodPort + 1);
  const std::vector<Case> cases = {
      {"match-all, 128-byte sample", "", udp, true},
      {"match-all, 128-byte sample (output mode)", "", udp, true, 128, SampleMode::Output},
      {"match-all, ring full (reservation fails)", "", udp, true, 128, SampleMode::Auto, true},
      {"tcp and port 443, not matching", "tcp and port 443", udp, false},
      {"6 terms, not matching (fails at the 6th)", kSixTermsV4, udp_other, false},
      // What a non-linear skb costs (and the program did before it read
      // headers from the linear data).
      {"  the same, headers by bpf_skb_load_bytes", kSixTermsV4, udp_other, false, 128,
       SampleMode::Auto, false, false},
      {"6 terms, matching, 128-byte sample", kSixTermsV4, udp, true},
      {"IPv6 + 3 ext. headers, 6 terms, not matching", kSixTermsV6,
       Ipv6UdpWithExtensions(kFloodPort + 1), false},
      {"IPv6 + 3 ext. headers, 6 terms, matching", kSixTermsV6, Ipv6UdpWithExtensions(), true},
  };

  EmptyProgram empty;
  const Figure floor = Measure(s.runs, [&] { return empty.Time(udp, s.repeat); });
  std::printf("BPF_PROG_TEST_RUN, %d runs of %u packets each (median run; min in brackets)\n",
              s.runs, s.repeat);
  std::printf("%-48s %10s %8s %9s\n", "program / packet", "ns/packet", "(min)", "x floor");
  std::printf("%-48s %10.1f %8.1f %9.2f\n", "empty TC program (floor)", floor.median, floor.min,
              1.0);
  for (const Case& c : cases) {
    auto runner = Load(c);
    const std::uint32_t repeat = c.overflow ? s.overflow_repeat : s.repeat;
    // Ring-full rows: after the first ~6500 samples of a run every
    // reservation fails, so over 2^20 packets the figure is the failing path.
    const Figure f = Measure(c.overflow ? std::max(3, s.runs / 10) : s.runs, [&] {
      auto t = runner->Time(c.packet, repeat);
      if (!t) {
        Die(c.name + ": " + t.error().message);
      }
      return *t;
    });
    std::printf("%-48s %10.1f %8.1f %9.2f\n", c.name.c_str(), f.median, f.min,
                f.median / floor.median);
  }
  return 0;
}

} // namespace
} // namespace wgcap::bench

int main(int argc, char** argv) {
  return wgcap::bench::Main(argc, argv);
}
