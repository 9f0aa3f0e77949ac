// SPDX-License-Identifier: Apache-2.0
// The generated eBPF filter (issue 19): how long a 40-term expression takes
// from AST to a loaded program (generate + bpf_prog_load, the verifier
// included), and what the program costs per packet on a miss against an
// empty TC program (`r0 = -1; exit`), both under BPF_PROG_TEST_RUN with the
// same frame and repeat count, interleaved run by run so both see the same
// machine. Needs CAP_BPF.
//
//   wgcap_bench_ebpf [--runs N] [--repeat N]
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_packets.hpp"
#include "capture/bpf/ebpf_filter_loader.hpp"
#include "capture/bpf/ebpf_filter_runner.hpp"
#include "filter/ebpf_filter.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::bench {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "wgcap_bench_ebpf: %s\n", what.c_str());
  std::exit(1);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

FilterExpression Parse(const std::string& text) {
  auto e = ParseFilterExpression(text);
  if (!e) {
    Die("filter " + text + ": " + e.error().message);
  }
  return std::move(e).value();
}

std::string FortyTerms() {
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += (i ? " or " : "") + std::string("(tcp and dst port ") + std::to_string(1000 + i) +
            " and src host 198.51.100." + std::to_string(i + 1) +
            " and not net 2001:db8:" + std::to_string(i) + "::/48)";
  }
  return text;
}

// Ten terms; the UDP packet to port 10 fails only at the last.
constexpr const char* kTenTerms =
    "ip and udp and src net 198.51.100.0/24 and dst net 203.0.113.0/24 and greater 64 and less "
    "1500 and not src port 53 and not dst portrange 5000-6000 and src port 40000 and dst port 9";

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
      Die(std::string("loading the empty TC program: ") + std::strerror(errno));
    }
  }
  ~EmptyProgram() { close(fd_); }
  EmptyProgram(const EmptyProgram&) = delete;
  EmptyProgram& operator=(const EmptyProgram&) = delete;

  // The same frame EbpfFilterRunner builds for `link_header`.
  double Time(const Bytes& packet, unsigned link_header, std::uint32_t repeat) const {
    Bytes frame(packet);
    if (link_header == 14) {
      const bool v6 = (packet[0] >> 4) == 6;
      const std::uint8_t ethernet[14] = {0x02,
                                         0,
                                         0,
                                         0,
                                         0,
                                         1,
                                         0x02,
                                         0,
                                         0,
                                         0,
                                         0,
                                         2,
                                         static_cast<std::uint8_t>(v6 ? 0x86 : 0x08),
                                         static_cast<std::uint8_t>(v6 ? 0xdd : 0x00)};
      frame.insert(frame.begin(), ethernet, ethernet + 14);
    }
    __sk_buff ctx_in{};
    __sk_buff ctx_out{};
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                .data_size_in = static_cast<std::uint32_t>(frame.size()), .ctx_in = &ctx_in,
                .ctx_out = &ctx_out, .ctx_size_in = sizeof ctx_in, .ctx_size_out = sizeof ctx_out,
                .repeat = static_cast<int>(repeat));
    if (bpf_prog_test_run_opts(fd_, &opts) != 0) {
      Die(std::string("BPF_PROG_TEST_RUN (empty program): ") + std::strerror(errno));
    }
    return static_cast<double>(opts.duration);
  }

private:
  int fd_ = -1;
};

// The load on its own (maps made once, as the loader makes them before):
// GenerateEbpfFilter + bpf_prog_load, the verifier included.
void LoadTime(int runs) {
  const FilterExpression forty = Parse(FortyTerms());
  const int counters = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "wgbench_cnt", 4, 8, 3, nullptr);
  const int samples = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "wgbench_smp", 4, 4, 2, nullptr);
  if (counters < 0 || samples < 0) {
    Die(std::string("creating maps: ") + std::strerror(errno));
  }
  std::vector<double> generate_us, load_ms;
  std::uint32_t insns = 0;
  std::size_t size = 0;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const EbpfFilter filter = GenerateEbpfFilter(forty, {counters, samples, 0, 0, true});
    const auto generated = std::chrono::steady_clock::now();
    auto loaded = LoadEbpfFilter(filter);
    const auto end = std::chrono::steady_clock::now();
    if (!loaded) {
      Die("40 terms: " + loaded.error().message);
    }
    insns = loaded->verified_insns;
    size = filter.instructions.size();
    generate_us.push_back(std::chrono::duration<double, std::micro>(generated - start).count());
    load_ms.push_back(std::chrono::duration<double, std::milli>(end - generated).count());
  }
  close(counters);
  close(samples);
  std::printf("40-term expression, median of %d: generate %.0f us + bpf_prog_load %.2f ms "
              "(min %.2f); %zu instructions, verifier processed %u\n",
              runs, Median(generate_us), Median(load_ms),
              *std::min_element(load_ms.begin(), load_ms.end()), size, insns);
}

struct Case {
  const char* name;
  std::string expression;
  Bytes packet;
  unsigned link_header;
};

int Main(int argc, char** argv) {
  int runs = 101;
  std::uint32_t repeat = 4096;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--runs") {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--repeat") {
      repeat = static_cast<std::uint32_t>(std::max(1, std::atoi(argv[i + 1])));
    } else {
      Die("usage: wgcap_bench_ebpf [--runs N] [--repeat N]");
    }
  }
  LoadTime(std::max(5, runs / 5));
  const Bytes udp_other = Ipv4Udp(kFloodPort + 1);
  const std::vector<Case> cases = {
      {"tcp and port 443, UDP packet, raw IP", "tcp and port 443", Ipv4Udp(), 0},
      {"tcp and port 443, UDP packet, Ethernet", "tcp and port 443", Ipv4Udp(), 14},
      {"10 terms, fails at the 10th, raw IP", kTenTerms, udp_other, 0},
      {"10 terms, fails at the 10th, Ethernet", kTenTerms, udp_other, 14},
      {"IPv6 + 3 ext. headers, 6 terms, miss, raw IP", kSixTermsV6,
       Ipv6UdpWithExtensions(kFloodPort + 1), 0},
  };
  EmptyProgram empty;
  std::printf("BPF_PROG_TEST_RUN, %d runs of %u packets each, interleaved with the empty "
              "program (median ns/packet)\n",
              runs, repeat);
  std::printf("%-48s %9s %9s %7s\n", "generated program / packet", "program", "empty", "ratio");
  for (const Case& c : cases) {
    auto runner = EbpfFilterRunner::Create(Parse(c.expression), {c.link_header, true});
    if (!runner) {
      Die(std::string(c.name) + ": " + runner.error().message);
    }
    auto verdict = (*runner)->Run(c.packet);
    if (!verdict || verdict->matched) {
      Die(std::string(c.name) + ": expected a miss");
    }
    std::vector<double> program, floor;
    for (int i = 0; i < runs; ++i) {
      auto t = (*runner)->Time(c.packet, repeat);
      if (!t) {
        Die(t.error().message);
      }
      program.push_back(*t);
      floor.push_back(empty.Time(c.packet, c.link_header, repeat));
    }
    const double p = Median(program);
    const double f = Median(floor);
    std::printf("%-48s %9.1f %9.1f %7.2f\n", c.name, p, f, p / f);
  }
  return 0;
}

} // namespace
} // namespace wgcap::bench

int main(int argc, char** argv) {
  return wgcap::bench::Main(argc, argv);
}
