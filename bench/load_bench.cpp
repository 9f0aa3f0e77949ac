// SPDX-License-Identifier: Apache-2.0
// From open to attached (SPEC section 2: under 10 ms for a 40-term
// expression): BpfCapture::Start on the loopback device of a network
// namespace of the bench's own (unshare; it goes with the process), so
// nothing outside is touched. Prints, per expression, the wall time of the
// whole Start and of its parts measured separately: BpfProgram::Load
// (skeleton + prog array + generated filters) and the filter programs'
// verifier counts. Needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN (unshare);
// run by hand or by scripts/bench.sh, not by ctest.
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "capture/bpf/bpf_capture.hpp"
#include "capture/bpf/bpf_program.hpp"
#include "wgcap/filter_parser.hpp"
#include "wgcap/session.hpp"

namespace {

using Clock = std::chrono::steady_clock;

class NullSink final : public wgcap::PacketSink {
public:
  wgcap::Status WritePacket(const wgcap::PacketRecord&) override { return {}; }
  wgcap::Status Flush() override { return {}; }
};

// 40 terms of every kind the generator emits: addresses, nets, ports,
// ranges, protocols, lengths, with and/or/not.
std::string FortyTerms() {
  std::string e;
  for (int i = 0; i < 5; ++i) {
    const std::string n = std::to_string(i + 1);
    if (i > 0) {
      e += " or ";
    }
    // 8 terms: host, net, port (proto + port), portrange (proto + range),
    // greater, not host
    e += "(src host 192.0.2." + n + " and dst net 198.51.100.0/24 and tcp dst port " +
         std::to_string(8000 + i) + " and not udp portrange 1000-" + std::to_string(2000 + i) +
         " and greater " + std::to_string(60 + i) + " and not host 203.0.113." + n + ")";
  }
  return e;
}

int Terms(const wgcap::FilterExpression& e) {
  return static_cast<int>(std::count_if(e.nodes.begin(), e.nodes.end(), [](const auto& n) {
    return n.kind == wgcap::FilterNode::Kind::Term;
  }));
}

bool LoopbackInOwnNamespace() {
  if (unshare(CLONE_NEWNET) != 0) {
    std::perror("unshare(CLONE_NEWNET)");
    return false;
  }
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strcpy(ifr.ifr_name, "lo");
  ifr.ifr_flags = IFF_UP;
  const bool up = s >= 0 && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  if (s >= 0) {
    close(s);
  }
  return up;
}

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

struct Summary {
  double min, median, max;
};

Summary Summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2], v.back()};
}

int Bench(const std::string& text, int runs, wgcap::TcAttachKind attach,
          wgcap::CaptureDirection direction) {
  auto parsed = wgcap::ParseFilterExpression(text);
  if (!parsed) {
    std::fprintf(stderr, "%s: %s\n", text.c_str(), parsed.error().message.c_str());
    return 1;
  }
  std::vector<double> start_ms;
  std::vector<double> load_ms;
  std::uint32_t verified = 0;
  bool exact = true;
  for (int i = 0; i < runs; ++i) {
    wgcap::BpfProgramOptions load;
    load.expression = *parsed;
    load.link_header = 14;
    load.ingress = direction != wgcap::CaptureDirection::Out;
    load.egress = direction != wgcap::CaptureDirection::In;
    const auto t0 = Clock::now();
    auto program = wgcap::BpfProgram::Load(load);
    load_ms.push_back(Ms(Clock::now() - t0));
    if (!program) {
      std::fprintf(stderr, "load: %s\n", program.error().message.c_str());
      return 1;
    }
    verified = (*program)->filter().verified_instructions;
    exact = (*program)->filter_exact();
    program->reset();

    NullSink sink;
    wgcap::Options options;
    options.sinks.push_back(&sink);
    auto session = wgcap::Session::Create(std::move(options));
    if (!session) {
      std::fprintf(stderr, "session: %s\n", session.error().message.c_str());
      return 1;
    }
    wgcap::BpfCaptureOptions capture_options;
    capture_options.expression = *parsed;
    capture_options.attach = attach;
    capture_options.direction = direction;
    wgcap::BpfCapture capture("lo", **session, capture_options);
    const auto t1 = Clock::now();
    auto started = capture.Start(); // open, load, attach, ring thread running
    start_ms.push_back(Ms(Clock::now() - t1));
    if (!started) {
      std::fprintf(stderr, "start: %s\n", started.error().message.c_str());
      return 1;
    }
    capture.Stop();
    (*session)->Stop();
  }
  const Summary s = Summarise(start_ms);
  const Summary l = Summarise(load_ms);
  std::printf("%2d terms%s: open->attached min %.2f median %.2f max %.2f ms | load min %.2f "
              "median %.2f ms | verifier %u insns (%d runs)\n",
              Terms(*parsed), exact ? "" : " (NOT exact)", s.min, s.median, s.max, l.min, l.median,
              verified, runs);
  return 0;
}

} // namespace

// wgcap_bench_load [RUNS] [--clsact] [--in]: --clsact attaches as on a
// kernel without tcx, --in only the ingress hook (-Q in).
int main(int argc, char** argv) {
  int runs = 20;
  auto attach = wgcap::TcAttachKind::Auto;
  auto direction = wgcap::CaptureDirection::InOut;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--clsact") {
      attach = wgcap::TcAttachKind::Clsact;
    } else if (a == "--in") {
      direction = wgcap::CaptureDirection::In;
    } else {
      runs = std::atoi(argv[i]);
    }
  }
  if (runs <= 0 || !LoopbackInOwnNamespace()) {
    std::fprintf(stderr,
                 "usage: %s [RUNS] [--clsact] [--in]; needs CAP_SYS_ADMIN, CAP_BPF, "
                 "CAP_NET_ADMIN\n",
                 argv[0]);
    return 2;
  }
  for (const std::string& e : {std::string(""), std::string("icmp"), FortyTerms()}) {
    if (Bench(e, runs, attach, direction) != 0) {
      return 1;
    }
  }
  return 0;
}
