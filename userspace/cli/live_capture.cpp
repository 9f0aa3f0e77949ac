// SPDX-License-Identifier: Apache-2.0
#include "cli/live_capture.hpp"

#include <net/if.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <thread>

#include "capture/afpacket/afpacket_capture.hpp"
#include "capture/bpf/bpf_capture.hpp"
#include "cli/capture_output.hpp"
#include "cli/signals.hpp"
#include "cli/stats_json.hpp"
#include "filter/classic_filter.hpp"
#include "filter/kernel_filter.hpp"
#include "wgcap/session.hpp"

namespace wgcap::cli {
namespace {

constexpr int kTickMs = 50;

// The exit summary, in tcpdump's words.
std::string CountsText(const Stats& s) {
  return std::to_string(s.packets) + " packets captured\n" + std::to_string(s.kernel_matched) +
         " packets received by filter\n" + std::to_string(s.kernel_drops + s.kernel_ring_drops) +
         " packets dropped by kernel\n" + std::to_string(s.dropped) +
         " packets dropped by buffer\n";
}

// The first line of a reason (a verifier log can follow it).
std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

CaptureDirection DirectionOf(Hooks hooks) {
  switch (hooks) {
  case Hooks::In:
    return CaptureDirection::In;
  case Hooks::Out:
    return CaptureDirection::Out;
  case Hooks::InOut:
    break;
  }
  return CaptureDirection::InOut;
}

// The bpf backend where it can run; under --mode auto, AF_PACKET with one
// line naming why not.
Result<std::unique_ptr<Capture>> StartBackend(const Arguments& args, Session& session,
                                              const FilterExpression& expression,
                                              const std::function<void(const std::string&)>& say) {
  if (args.mode != Mode::AFPacket) {
    BpfCaptureOptions options;
    options.snaplen = args.snaplen;
    options.ring_bytes = args.buffer_mib << 20;
    options.expression = expression;
    options.direction = DirectionOf(args.hooks);
    // Not an option users need: the kernel decides (tcx where it has it).
    // Tests and the kernel matrix force the clsact path with it.
    if (const char* attach = std::getenv("WGCAP_TC_ATTACH"); attach != nullptr) {
      const std::string a = attach;
      options.attach = a == "clsact" ? TcAttachKind::Clsact
                       : a == "tcx"  ? TcAttachKind::Tcx
                                     : TcAttachKind::Auto;
    }
    // Likewise the sample path (reserve where the verifier accepts it, else
    // output): the kernel matrix runs each path on each kernel with it.
    if (const char* mode = std::getenv("WGCAP_SAMPLE_MODE"); mode != nullptr) {
      const std::string m = mode;
      options.sample_mode = m == "reserve"  ? SampleMode::Reserve
                            : m == "output" ? SampleMode::Output
                                            : SampleMode::Auto;
    }
    auto bpf = std::make_unique<BpfCapture>(args.interface, session, std::move(options));
    const Status started = bpf->Start();
    if (started) {
      return std::unique_ptr<Capture>(std::move(bpf));
    }
    // An interface gone since it was looked up is no reason to try another
    // backend on it.
    if (args.mode == Mode::Bpf || started.error().errnum == ENODEV) {
      return started.error();
    }
    say("wgcap: bpf backend unavailable (" + FirstLine(started.error().message) +
        "); using afpacket\n");
  }
  AFPacketOptions options;
  options.snaplen = args.snaplen;
  options.buffer_bytes = args.buffer_mib << 20;
  options.expression = expression;
  options.direction = DirectionOf(args.hooks);
  auto afpacket = std::make_unique<AFPacketCapture>(args.interface, session, std::move(options));
  if (auto started = afpacket->Start(); !started) {
    return started.error();
  }
  return std::unique_ptr<Capture>(std::move(afpacket));
}

// -Z: from here on the user; only clsact's filters need a privilege
// (CAP_NET_ADMIN) to be removed at exit.
Status DropAfterAttach(const DropTarget& target, const Capture& capture) {
  const bool clsact = capture.backend_name() == "bpf/tc";
  return DropPrivileges(target, clsact ? KeepCapability::NetAdmin : KeepCapability::None);
}

} // namespace

Error NoSuchInterface(const std::string& name) {
  return Error{name + ": no such interface", ENODEV};
}

int DumpFilters(const Arguments& args, const ExpressionMatcher& matcher) {
  ClassicProgram classic = CompileClassicFilter(matcher.expression(), args.snaplen);
  if (args.hooks != Hooks::InOut) { // what the afpacket backend attaches with -Q
    classic = KeepOnlyDirection(std::move(classic),
                                args.hooks == Hooks::In ? Direction::Inbound : Direction::Outbound,
                                args.snaplen);
  }
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

int RunLiveCaptureWith(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher,
                       const LiveCaptureIo& io, const LiveCaptureControl& control,
                       std::string& end_reason) {
  const auto say = [&io](const std::string& line) {
    if (io.message) {
      io.message(line);
    } else {
      std::fputs(line.c_str(), stderr);
    }
  };
  const auto fail = [&](const Error& e) {
    say("wgcap: " + e.message + "\n");
    end_reason = e.message;
    return 1;
  };
  // First, so that nothing (a backend's fallback note, an output file) comes
  // before the one line that matters.
  if (if_nametoindex(args.interface.c_str()) == 0) {
    return fail(NoSuchInterface(args.interface));
  }
  CaptureOutput output;
  if (control.drop != nullptr) {
    output.OwnFileAs(control.drop->uid, control.drop->gid);
  }
  auto session = output.OpenSession(args, matcher, io.output);
  if (!session) {
    return fail(session.error());
  }
  auto capture = StartBackend(args, **session, matcher->expression(), say);
  if (!capture) {
    return fail(capture.error());
  }
  if (control.drop != nullptr) {
    if (auto dropped = DropAfterAttach(*control.drop, **capture); !dropped) {
      (*capture)->Stop();
      (*session)->Stop();
      return fail(dropped.error());
    }
  }
  if (!(*capture)->filter_note().empty()) {
    say("wgcap: note: " + (*capture)->filter_note() + "\n");
  }
  // SPEC 6 fixes the line's start; after it, which way bpf samples reach the
  // ring on this kernel (`bpf/DESIGN.md`, "Sample copy").
  std::string sample_path;
  if (const auto* bpf = dynamic_cast<const BpfCapture*>(capture->get()); bpf != nullptr) {
    sample_path = std::string(", samples by ringbuf ") + bpf->sample_mode_name();
  }
  say("listening on " + args.interface + " (" + (*capture)->backend_name() + "), snaplen " +
      std::to_string(args.snaplen) + sample_path + "\n");

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(args.duration_ms);
  end_reason = "stopped";
  for (;;) {
    bool print_counts = false;
    if (const char* reason = control.should_stop ? control.should_stop(print_counts) : nullptr;
        reason) {
      end_reason = reason;
      break;
    }
    if (print_counts) {
      say(CountsText((*session)->GetStats()));
    }
    if ((*session)->Done()) {
      end_reason =
          (*session)->error().ok() ? "the packet count (-c) was reached" : "a write failed";
      break;
    }
    if ((*capture)->Failed()) {
      end_reason = "the capture failed";
      break;
    }
    if (args.duration_ms > 0 && std::chrono::steady_clock::now() >= deadline) {
      end_reason = "the duration ended";
      break;
    }
    if (!control.should_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kTickMs));
    }
  }
  (*capture)->Stop();
  (*session)->Stop();
  const Stats stats = (*session)->GetStats();
  const Status sink = (*session)->error();
  const Status committed = output.Commit(!sink.ok());
  say(CountsText(stats));
  if (args.stats) {
    say(StatsJson(stats, (*capture)->backend_name()) + "\n");
  }
  const std::string counts =
      ", " + std::to_string(stats.packets) + " packets captured, " +
      std::to_string(stats.dropped + stats.kernel_drops + stats.kernel_ring_drops) + " dropped";
  end_reason += counts;
  // A failure replaces the reason but keeps the counts (wgcap serve logs them).
  for (const Status& status : {sink, (*capture)->error(), committed}) {
    if (!status) {
      fail(status.error());
      end_reason += counts;
      return 1;
    }
  }
  return 0;
}

int RunLiveCapture(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher) {
  // Before anything is attached or created: an unknown user is a usage error.
  int exit_code = 0;
  const std::optional<DropTarget> drop = ResolveDropUser(args.drop_user, exit_code);
  if (exit_code != 0) {
    return exit_code;
  }
  // Before any thread exists, so the signals reach only the signalfd.
  CaptureSignals signals;
  LiveCaptureIo io;
  LiveCaptureControl control;
  control.drop = drop ? &*drop : nullptr;
  control.should_stop = [&signals](bool& print_counts) -> const char* {
    switch (signals.Wait(kTickMs)) {
    case SignalEvent::Stop:
      return "interrupted";
    case SignalEvent::PrintCounts:
      print_counts = true;
      return nullptr;
    case SignalEvent::None:
      break;
    }
    return nullptr;
  };
  std::string reason;
  return RunLiveCaptureWith(args, std::move(matcher), io, control, reason);
}

} // namespace wgcap::cli
