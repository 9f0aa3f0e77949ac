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
#include "cli/capture_group.hpp"
#include "cli/capture_output.hpp"
#include "cli/exit_codes.hpp"
#include "cli/interface_selection.hpp"
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
Status DropAfterAttach(const DropTarget& target, const CaptureGroup& captures) {
  return DropPrivileges(target,
                        captures.AnyClsact() ? KeepCapability::NetAdmin : KeepCapability::None);
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
    // With several interfaces, the first one's (WireGuard links have none).
    const std::string first = args.interface.substr(0, args.interface.find(','));
    // all-wg names WireGuard links only, which are L3: no link header.
    auto link_header = first == kAllWireGuard ? Result<std::uint32_t>(0u) : LinkHeaderLength(first);
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
  // Without -i they stay unresolved: the classic form needs no key, and the
  // eBPF form says what it lacks.
  if (HasPeerTerms(resolved) && !args.interface.empty()) {
    auto selected = SelectInterfaces(args.interface);
    auto peers = selected ? LivePeers::Open(*selected, resolved)
                          : Result<std::unique_ptr<LivePeers>>(selected.error());
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
                       const CaptureGroup& captures, const Reporter& report) {
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
    // One interface gone ends the capture of all, as it ends tcpdump's.
    if (const int failed = captures.FailedIndex(); failed >= 0) {
      return captures.captures().size() == 1
                 ? "the capture failed"
                 : "the capture on " + captures.name(failed) + " failed";
    }
    if (args.duration_ms > 0 && std::chrono::steady_clock::now() >= deadline) {
      return "the duration ended";
    }
    if (!control.should_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kTickMs));
    }
  }
}

// What one live run holds: the interfaces, the output, the session and the
// captures feeding it.
struct LiveRun {
  std::vector<SelectedInterface> interfaces;
  CaptureOutput output;
  std::unique_ptr<InterfaceTally> tally; // several interfaces only
  std::unique_ptr<LivePeers> peers;      // WireGuard interfaces only
  std::unique_ptr<Session> session;
  CaptureGroup captures;
};

// Stops the captures and the session, commits the output, prints the counts.
int Finish(const Arguments& args, LiveRun& run, const Reporter& report) {
  run.captures.Stop();
  run.session->Stop();
  const Stats stats = run.session->GetStats();
  const Status sink = run.session->error();
  const Status committed = run.output.Commit(!sink.ok());
  report.Say(CountsText(stats));
  if (run.tally && args.text.verbose) {
    report.Say(PerInterfaceCounts(run.interfaces, stats, *run.tally));
  }
  if (args.stats) {
    std::vector<InterfaceStats> each;
    for (std::size_t i = 0; i < run.captures.captures().size(); ++i) {
      const SelectedInterface& selected = run.interfaces.at(i);
      each.push_back({selected.name, selected.ifindex, run.captures.captures()[i]->backend_name(),
                      run.tally ? run.tally->packets(selected.ifindex) : stats.packets});
    }
    report.Say(StatsJson(stats, run.captures.backend_names(), each) + "\n");
  }
  const std::string counts =
      ", " + std::to_string(stats.packets) + " packets captured, " +
      std::to_string(stats.dropped + stats.kernel_drops + stats.kernel_ring_drops) + " dropped";
  report.end_reason += counts;
  // A failure replaces the reason but keeps the counts (wgcap serve logs them).
  std::vector<Status> outcomes = {sink};
  for (const auto& capture : run.captures.captures()) {
    outcomes.push_back(capture->error());
  }
  outcomes.push_back(committed);
  for (const Status& status : outcomes) {
    if (!status) {
      const int code = report.Fail(status.error());
      report.end_reason += counts;
      return code;
    }
  }
  return 0;
}

// The output and the session; with several interfaces a tally for -v, and
// for a pcap file the one warning that its records name no interface.
Status OpenOutput(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher,
                  const LiveCaptureIo& io, const LiveCaptureControl& control, LiveRun& run,
                  const Reporter& report) {
  run.output.SetInterfaces(run.interfaces);
  if (run.interfaces.size() > 1) {
    run.tally = std::make_unique<InterfaceTally>(run.interfaces);
    run.output.AddSink(run.tally.get());
    if (!args.write_file.empty() && !args.pcapng) {
      report.Say("wgcap: note: pcap records name no interface: the packets of " +
                 JoinNames(run.interfaces) +
                 " are mixed in one file (pcapng, the default for -w, keeps them apart)\n");
    }
  }
  if (control.drop != nullptr) {
    run.output.OwnFileAs(control.drop->uid, control.drop->gid);
  }
  auto session = run.output.OpenSession(args, std::move(matcher), io.output);
  if (!session) {
    return session.error();
  }
  run.session = std::move(session).value();
  return {};
}

// The filters' notes, then a listening line per interface. SPEC 6 fixes
// the line's start; after it, which way bpf samples reach the ring on this
// kernel (`bpf/README.md`, "Sample copy").
void SayListening(const CaptureGroup& captures, const Reporter& report) {
  for (const std::string& note : captures.filter_notes()) {
    report.Say("wgcap: note: " + note + "\n");
  }
  for (const auto& capture : captures.captures()) {
    report.Say(capture->description() + "\n");
  }
}

// The peers before the session: `peer` terms in `expression` resolve
// against them (and `matcher` is made again with their keys), and the
// Session attributes with them.
Status OpenPeers(FilterExpression& expression, std::shared_ptr<const ExpressionMatcher>& matcher,
                 LiveRun& run) {
  auto peers = LivePeers::Open(run.interfaces, expression);
  if (!peers) {
    return peers.error();
  }
  run.peers = std::move(peers).value();
  if (HasPeerTerms(expression)) {
    matcher = std::make_shared<const ExpressionMatcher>(expression);
  }
  run.output.SetPeers(run.peers ? run.peers->directory() : nullptr, HasPeerTerms(expression));
  return {};
}

} // namespace

int RunLiveCaptureWith(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher,
                       const LiveCaptureIo& io, const LiveCaptureControl& control,
                       std::string& end_reason) {
  const Reporter report{io, end_reason};
  // First, so that nothing (a backend's fallback note, an output file) comes
  // before the one line that matters. The one lookup of each interface: the
  // pcapng header and the captures use these indexes; a missing one is
  // found before anything is attached.
  LiveRun run;
  auto selected = SelectInterfaces(args.interface);
  if (!selected) {
    return report.Fail(selected.error());
  }
  run.interfaces = std::move(selected).value();
  FilterExpression expression = matcher->expression();
  if (auto peers = OpenPeers(expression, matcher, run); !peers) {
    return report.Fail(peers.error());
  }
  // Only a `peer` term looks in the kernel's copy of the peers: without one
  // no capture fills it, so a server with more allowed-ips than it holds
  // keeps bpf (the Session still attributes every packet for the output).
  const std::shared_ptr<const PeerDirectory> kernel_peers =
      run.peers && HasPeerTerms(expression) ? run.peers->directory() : nullptr;
  if (auto opened = OpenOutput(args, matcher, io, control, run, report); !opened) {
    return report.Fail(opened.error());
  }
  auto opened = run.captures.Open(
      run.interfaces, *run.session,
      [&](int ifindex) {
        CaptureOptions options = CaptureOptionsFor(args, expression, ifindex);
        options.peers = kernel_peers;
        return options;
      },
      [&](const std::string& name, const Error& why) {
        const std::string on = run.interfaces.size() > 1 ? " on " + name : "";
        report.Say("wgcap: bpf backend unavailable" + on + " (" + FirstLine(why.message) +
                   "); using afpacket\n");
      });
  if (!opened) {
    run.session->Stop();
    return report.Fail(opened.error());
  }
  // Before -Z: threads made earlier lose every capability with the drop
  // (only the main thread keeps what detaching needs), so the refresh then
  // works only where the peers are readable without privilege; a failed
  // read keeps the last set.
  if (run.peers) {
    run.peers->Start();
  }
  if (control.drop != nullptr) {
    if (auto dropped = DropAfterAttach(*control.drop, run.captures); !dropped) {
      run.captures.Stop();
      run.session->Stop();
      return report.Fail(dropped.error());
    }
  }
  SayListening(run.captures, report);
  end_reason = WaitForEnd(args, control, *run.session, run.captures, report);
  if (run.peers) {
    run.peers->Stop();
  }
  return Finish(args, run, report);
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
