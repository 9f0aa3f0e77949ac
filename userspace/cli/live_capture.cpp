// SPDX-License-Identifier: Apache-2.0
#include "cli/live_capture.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cli/capture_output.hpp"
#include "cli/signals.hpp"
#include "wgcap/afpacket_capture.hpp"
#include "wgcap/bpf_capture.hpp"
#include "wgcap/classic_filter.hpp"
#include "wgcap/kernel_filter.hpp"
#include "wgcap/session.hpp"

namespace wgcap::cli {
namespace {

constexpr int kTickMs = 50;

// The exit summary, in tcpdump's words.
void PrintCounts(const Stats& s) {
  std::fprintf(stderr,
               "%lld packets captured\n%lld packets received by filter\n"
               "%lld packets dropped by kernel\n%lld packets dropped by buffer\n",
               static_cast<long long>(s.packets), static_cast<long long>(s.kernel_matched),
               static_cast<long long>(s.kernel_drops + s.kernel_ring_drops),
               static_cast<long long>(s.dropped));
}

// The first line of a reason (a verifier log can follow it).
std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// The bpf backend where it can run; under --mode auto, AF_PACKET with one
// line naming why not.
Result<std::unique_ptr<Capture>> StartBackend(const Arguments& args, Session& session,
                                              const FilterExpression& expression) {
  if (args.mode != Mode::AFPacket) {
    BpfCaptureOptions options;
    options.snaplen = args.snaplen;
    options.ring_bytes = args.buffer_mib << 20;
    options.expression = expression;
    // Not an option users need: the kernel decides (tcx where it has it).
    // Tests and the kernel matrix force the clsact path with it.
    if (const char* attach = std::getenv("WGCAP_TC_ATTACH"); attach != nullptr) {
      const std::string a = attach;
      options.attach = a == "clsact" ? TcAttachKind::Clsact
                       : a == "tcx"  ? TcAttachKind::Tcx
                                     : TcAttachKind::Auto;
    }
    auto bpf = std::make_unique<BpfCapture>(args.interface, session, std::move(options));
    const Status started = bpf->Start();
    if (started) {
      return std::unique_ptr<Capture>(std::move(bpf));
    }
    if (args.mode == Mode::Bpf) {
      return started.error();
    }
    std::fprintf(stderr, "wgcap: bpf backend unavailable (%s); using afpacket\n",
                 FirstLine(started.error().message).c_str());
  }
  AFPacketOptions options;
  options.snaplen = args.snaplen;
  options.buffer_bytes = args.buffer_mib << 20;
  options.expression = expression;
  auto afpacket = std::make_unique<AFPacketCapture>(args.interface, session, std::move(options));
  if (auto started = afpacket->Start(); !started) {
    return started.error();
  }
  return std::unique_ptr<Capture>(std::move(afpacket));
}

} // namespace

int DumpFilters(const Arguments& args, const ExpressionMatcher& matcher) {
  const ClassicProgram classic = CompileClassicFilter(matcher.expression(), args.snaplen);
  const KernelFilterProgram kernel = CompileKernelFilter(matcher.expression());
  std::printf("expression: %s\n",
              matcher.MatchesAll() ? "(all packets)" : ToString(matcher.expression()).c_str());
  std::printf("classic BPF socket filter (afpacket), %zu instructions%s:\n",
              classic.instructions.size(), classic.exact ? "" : ", NOT exact");
  if (!classic.exact) {
    std::printf("; %s\n", classic.note.c_str());
  }
  std::fputs(Disassemble(classic.instructions).c_str(), stdout);
  std::printf("\nkernel filter (bpf), %zu nodes%s:\n", kernel.nodes.size(),
              kernel.exact ? "" : ", NOT exact");
  if (!kernel.exact) {
    std::printf("; %s\n", kernel.note.c_str());
  }
  std::fputs(Disassemble(kernel).c_str(), stdout);
  return 0;
}

int RunLiveCapture(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher) {
  // Before any thread exists, so the signals reach only the signalfd.
  CaptureSignals signals;

  CaptureOutput output;
  auto session = output.OpenSession(args, matcher);
  if (!session) {
    return Fail(session.error());
  }
  auto capture = StartBackend(args, **session, matcher->expression());
  if (!capture) {
    return Fail(capture.error());
  }
  if (!(*capture)->filter_note().empty()) {
    std::fprintf(stderr, "wgcap: note: %s\n", (*capture)->filter_note().c_str());
  }
  std::fprintf(stderr, "listening on %s (%s), snaplen %u\n", args.interface.c_str(),
               (*capture)->backend_name().c_str(), args.snaplen);

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(args.duration_ms);
  for (;;) {
    const SignalEvent event = signals.Wait(kTickMs);
    if (event == SignalEvent::Stop) {
      break;
    }
    if (event == SignalEvent::PrintCounts) {
      PrintCounts((*session)->GetStats());
    }
    if ((*session)->Done() || (*capture)->Failed()) {
      break; // -c reached, a sink failed, or the interface went away
    }
    if (args.duration_ms > 0 && std::chrono::steady_clock::now() >= deadline) {
      break;
    }
  }
  (*capture)->Stop();
  (*session)->Stop();
  const Stats stats = (*session)->GetStats();
  const Status sink = (*session)->error();
  const Status committed = output.Commit();
  PrintCounts(stats);
  if (!sink) {
    return Fail(sink.error());
  }
  if (auto failed = (*capture)->error(); !failed) {
    return Fail(failed.error());
  }
  if (!committed) {
    return Fail(committed.error());
  }
  return 0;
}

} // namespace wgcap::cli
