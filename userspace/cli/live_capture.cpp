// SPDX-License-Identifier: Apache-2.0
#include "cli/live_capture.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <net/if.h>
#include <optional>
#include <thread>

#include "capture/bpf/bpf_capture.hpp"
#include "capture/bpf/bpf_program.hpp"
#include "cli/capture_output.hpp"
#include "cli/exit_codes.hpp"
#include "cli/live_peers.hpp"
#include "cli/signals.hpp"
#include "cli/stats_json.hpp"
#include "filter/classic_filter.hpp"
#include "filter/ebpf_filter.hpp"
#include "wgcap/capture.hpp"
#include "wgcap/session.hpp"
#include "wgcap_abi.h"

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

// Not options users need: the kernel decides (tcx where it has it; reserve
// where the verifier accepts it, else output). Tests and the kernel matrix
// force a path with these variables, read here and nowhere in the library.
TcAttachKind AttachFromEnvironment() {
  const char* attach = std::getenv("WGCAP_TC_ATTACH");
  const std::string a = attach != nullptr ? attach : "";
  return a == "clsact" ? TcAttachKind::Clsact : a == "tcx" ? TcAttachKind::Tcx : TcAttachKind::Auto;
}

SampleMode SampleModeFromEnvironment() {
  const char* mode = std::getenv("WGCAP_SAMPLE_MODE");
  const std::string m = mode != nullptr ? mode : "";
  return m == "reserve"  ? SampleMode::Reserve
         : m == "output" ? SampleMode::Output
                         : SampleMode::Auto;
}

CaptureOptions CaptureOptionsFor(const Arguments& args, const FilterExpression& expression,
                                 int ifindex) {
  CaptureOptions options;
  options.mode = args.mode == Mode::Bpf        ? CaptureMode::Bpf
                 : args.mode == Mode::AFPacket ? CaptureMode::AfPacket
                                               : CaptureMode::Auto;
  options.attach = AttachFromEnvironment();
  options.sample_mode = SampleModeFromEnvironment();
  options.snaplen = args.snaplen;
  options.ring_bytes = args.buffer_mib << 20;
  options.direction = DirectionOf(args.hooks);
  options.expression = expression;
  options.ifindex = ifindex;
  return options;
}

// -Z: from here on the user; only clsact's filters need a privilege
// (CAP_NET_ADMIN) to be removed at exit.
Status DropAfterAttach(const DropTarget& target, const Capture& capture) {
  const bool clsact = capture.backend_name() == "bpf/tc";
  return DropPrivileges(target, clsact ? KeepCapability::NetAdmin : KeepCapability::None);
}

// -d's second part: the eBPF generated for the hook -Q selects (ingress
// unless -Q out), loaded where permitted so that the verifier's count is
// real; said plainly when it could not be loaded.
void DumpEbpfFilter(const Arguments& args, const FilterExpression& expression) {
  BpfProgramOptions options;
  options.expression = expression;
  options.snaplen = args.snaplen;
  options.ring_bytes = 4096;
  options.ingress = args.hooks != Hooks::Out;
  options.egress = args.hooks == Hooks::Out;
  std::string not_loaded;
  if (!args.interface.empty()) {
    auto link_header = LinkHeaderLength(args.interface);
    if (link_header) {
      options.link_header = *link_header;
    } else {
      not_loaded = link_header.error().message;
    }
  }
  Result<std::unique_ptr<BpfProgram>> program =
      not_loaded.empty() ? BpfProgram::Load(options) : Error{not_loaded, 0};
  EbpfFilter shown;
  std::uint32_t verified = 0;
  if (program) {
    shown.instructions = (*program)->filter().instructions;
    shown.exact = (*program)->filter_exact();
    shown.note = (*program)->filter_note();
    verified = (*program)->filter().verified_instructions;
  } else {
    // Not loaded: the same code with no maps behind it (fds -1).
    EbpfFilterInputs inputs;
    inputs.sample_index = options.ingress ? WGCAP_PROG_SAMPLE_IN : WGCAP_PROG_SAMPLE_OUT;
    inputs.link_header = options.link_header;
    shown = GenerateEbpfFilter(expression, inputs);
  }
  std::printf("\neBPF filter program (bpf, %s hook, link header %u bytes), %zu instructions%s:\n",
              options.ingress ? "ingress" : "egress", options.link_header,
              shown.instructions.size(), shown.exact ? "" : ", NOT exact");
  if (!shown.exact) {
    std::printf("; %s\n", shown.note.c_str());
  }
  std::fputs(DisassembleEbpf(shown.instructions).c_str(), stdout);
  if (program && verified > 0) {
    std::printf("verifier: %u instructions processed\n", verified);
  } else if (program) {
    std::printf("verifier: loaded; this kernel did not report a processed-instruction count\n");
  } else {
    std::printf("verifier: not loaded (%s)\n", FirstLine(program.error().message).c_str());
  }
}

} // namespace

int DumpFilters(const Arguments& args, const ExpressionMatcher& given) {
  // `peer` terms resolve against the interface's peers, as a capture would.
  FilterExpression resolved = given.expression();
  if (HasPeerTerms(resolved)) {
    const unsigned ifindex = if_nametoindex(args.interface.c_str());
    auto peers = args.interface.empty()
                     ? Result<std::unique_ptr<LivePeers>>(
                           Error{"`peer` needs an interface (-i) to read the peers of", EINVAL})
                     : LivePeers::Open(args.interface, ifindex, resolved);
    if (!peers) {
      std::fprintf(stderr, "wgcap: %s\n", peers.error().message.c_str());
      return ExitCode(ErrorKind::Filter);
    }
  }
  const ExpressionMatcher matcher(std::move(resolved));
  ClassicProgram classic = CompileClassicFilter(matcher.expression(), args.snaplen);
  if (args.hooks != Hooks::InOut) { // what the afpacket backend attaches with -Q
    classic = KeepOnlyDirection(std::move(classic),
                                args.hooks == Hooks::In ? Direction::Inbound : Direction::Outbound,
                                args.snaplen);
  }
  std::printf("expression: %s\n",
              matcher.MatchesAll() ? "(all packets)" : ToString(matcher.expression()).c_str());
  std::printf("classic BPF socket filter (afpacket), %zu instructions%s:\n",
              classic.instructions.size(), classic.exact ? "" : ", NOT exact");
  if (!classic.exact) {
    std::printf("; %s\n", classic.note.c_str());
  }
  std::fputs(Disassemble(classic.instructions).c_str(), stdout);
  DumpEbpfFilter(args, matcher.expression());
  return 0;
}

namespace {

// Where a live capture's lines go (the client's socket under wgcap serve),
// and the one way it fails: the line, the reason, the exit code.
struct Reporter {
  const LiveCaptureIo& io;
  std::string& end_reason;

  void Say(const std::string& line) const {
    if (io.message) {
      io.message(line);
    } else {
      std::fputs(line.c_str(), stderr);
    }
  }
  int Fail(const Error& e) const {
    Say("wgcap: " + e.message + "\n");
    end_reason = e.message;
    return ExitCode(KindOf(e));
  }
};

// Polls until the capture should end; returns why.
std::string WaitForEnd(const Arguments& args, const LiveCaptureControl& control, Session& session,
                       const Capture& capture, const Reporter& report) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(args.duration_ms);
  for (;;) {
    bool print_counts = false;
    if (const char* reason = control.should_stop ? control.should_stop(print_counts) : nullptr;
        reason) {
      return reason;
    }
    if (print_counts) {
      report.Say(CountsText(session.GetStats()));
    }
    if (session.Done()) {
      return session.error().ok() ? "the packet count (-c) was reached" : "a write failed";
    }
    if (capture.Failed()) {
      return "the capture failed";
    }
    if (args.duration_ms > 0 && std::chrono::steady_clock::now() >= deadline) {
      return "the duration ended";
    }
    if (!control.should_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kTickMs));
    }
  }
}

// Stops the capture and the session, commits the output, prints the counts.
int Finish(const Arguments& args, CaptureOutput& output, Session& session, Capture& capture,
           const Reporter& report) {
  capture.Stop();
  session.Stop();
  const Stats stats = session.GetStats();
  const Status sink = session.error();
  const Status committed = output.Commit(!sink.ok());
  report.Say(CountsText(stats));
  if (args.stats) {
    report.Say(StatsJson(stats, capture.backend_name()) + "\n");
  }
  const std::string counts =
      ", " + std::to_string(stats.packets) + " packets captured, " +
      std::to_string(stats.dropped + stats.kernel_drops + stats.kernel_ring_drops) + " dropped";
  report.end_reason += counts;
  // A failure replaces the reason but keeps the counts (wgcap serve logs them).
  for (const Status& status : {sink, capture.error(), committed}) {
    if (!status) {
      const int code = report.Fail(status.error());
      report.end_reason += counts;
      return code;
    }
  }
  return 0;
}

} // namespace

int RunLiveCaptureWith(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher,
                       const LiveCaptureIo& io, const LiveCaptureControl& control,
                       std::string& end_reason) {
  const Reporter report{io, end_reason};
  // First, so that nothing (a backend's fallback note, an output file) comes
  // before the one line that matters. The one lookup of the interface: the
  // pcapng header and the capture use this index.
  auto ifindex = ResolveInterface(args.interface);
  if (!ifindex) {
    return report.Fail(ifindex.error());
  }
  // The peers before the session: `peer` terms resolve against them, and the
  // Session and the kernel's table attribute with them.
  FilterExpression expression = matcher->expression();
  auto peers = LivePeers::Open(args.interface, static_cast<std::uint32_t>(*ifindex), expression);
  if (!peers) {
    return report.Fail(peers.error());
  }
  const std::shared_ptr<const PeerDirectory> directory = *peers ? (*peers)->directory() : nullptr;
  if (HasPeerTerms(expression)) {
    matcher = std::make_shared<const ExpressionMatcher>(expression);
  }
  CaptureOutput output;
  output.SetInterfaceIndex(static_cast<unsigned>(*ifindex));
  if (control.drop != nullptr) {
    output.OwnFileAs(control.drop->uid, control.drop->gid);
  }
  auto session = output.OpenSession(args, matcher, io.output, directory);
  if (!session) {
    return report.Fail(session.error());
  }
  CaptureOptions capture_options = CaptureOptionsFor(args, expression, *ifindex);
  capture_options.peers = directory;
  auto capture = OpenCapture(args.interface, **session, std::move(capture_options),
                             [&report](const Error& why) {
                               report.Say("wgcap: bpf backend unavailable (" +
                                          FirstLine(why.message) + "); using afpacket\n");
                             });
  if (!capture) {
    return report.Fail(capture.error());
  }
  // Before -Z: threads made earlier lose every capability with the drop
  // (only the main thread keeps what detaching needs), so the refresh then
  // works only where the peers are readable without privilege; a failed
  // read keeps the last set.
  if (*peers) {
    (*peers)->Start();
  }
  if (control.drop != nullptr) {
    if (auto dropped = DropAfterAttach(*control.drop, **capture); !dropped) {
      (*capture)->Stop();
      (*session)->Stop();
      return report.Fail(dropped.error());
    }
  }
  if (!(*capture)->filter_note().empty()) {
    report.Say("wgcap: note: " + (*capture)->filter_note() + "\n");
  }
  // SPEC 6 fixes the line's start; after it, which way bpf samples reach the
  // ring on this kernel (`bpf/README.md`, "Sample copy").
  report.Say((*capture)->description() + "\n");
  end_reason = WaitForEnd(args, control, **session, **capture, report);
  if (*peers) {
    (*peers)->Stop();
  }
  return Finish(args, output, **session, **capture, report);
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
