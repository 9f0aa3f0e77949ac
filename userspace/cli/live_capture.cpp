// SPDX-License-Identifier: Apache-2.0
#include "cli/live_capture.hpp"

#include <chrono>
#include <cstdio>

#include "cli/capture_output.hpp"
#include "cli/signals.hpp"
#include "wgcap/afpacket_capture.hpp"
#include "wgcap/classic_filter.hpp"
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

} // namespace

int DumpFilters(const Arguments& args, const ExpressionMatcher& matcher) {
  const ClassicProgram classic = CompileClassicFilter(matcher.expression(), args.snaplen);
  std::printf("expression: %s\n",
              matcher.MatchesAll() ? "(all packets)" : ToString(matcher.expression()).c_str());
  std::printf("classic BPF socket filter (afpacket), %zu instructions%s:\n",
              classic.instructions.size(), classic.exact ? "" : ", NOT exact");
  if (!classic.exact) {
    std::printf("; %s\n", classic.note.c_str());
  }
  std::fputs(Disassemble(classic.instructions).c_str(), stdout);
  return 0;
}

int RunLiveCapture(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher) {
  if (args.mode == Mode::Bpf) {
    return Fail(
        Error{"--mode bpf: the eBPF TC backend is not in this build yet; use --mode afpacket", 0});
  }
  // Before any thread exists, so the signals reach only the signalfd.
  CaptureSignals signals;

  CaptureOutput output;
  Options options;
  options.matcher = matcher;
  options.snaplen = args.snaplen;
  options.packet_limit = args.count;
  options.flush_every_packet = args.unbuffered;
  options.verbose = args.verbose;
  options.ascii = args.ascii;
  if (auto opened = output.Open(args, options); !opened) {
    return Fail(opened.error());
  }
  auto session = Session::Create(std::move(options));
  if (!session) {
    return Fail(session.error());
  }
  AFPacketOptions capture_options;
  capture_options.snaplen = args.snaplen;
  capture_options.buffer_bytes = args.buffer_mib << 20;
  capture_options.expression = matcher->expression();
  AFPacketCapture capture(args.interface, **session, std::move(capture_options));
  if (auto started = capture.Start(); !started) {
    return Fail(started.error());
  }
  if (!capture.filter_note().empty()) {
    std::fprintf(stderr, "wgcap: note: %s\n", capture.filter_note().c_str());
  }
  std::fprintf(stderr, "listening on %s (afpacket), snaplen %u\n", args.interface.c_str(),
               args.snaplen);

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
    if ((*session)->Done() || capture.Failed()) {
      break; // -c reached, a sink failed, or the interface went away
    }
    if (args.duration_ms > 0 && std::chrono::steady_clock::now() >= deadline) {
      break;
    }
  }
  capture.Stop();
  (*session)->Stop();
  const Stats stats = (*session)->GetStats();
  const Status sink = (*session)->error();
  const Status committed = output.Commit();
  PrintCounts(stats);
  if (!sink) {
    return Fail(sink.error());
  }
  if (auto failed = capture.error(); !failed) {
    return Fail(failed.error());
  }
  if (!committed) {
    return Fail(committed.error());
  }
  return 0;
}

} // namespace wgcap::cli
