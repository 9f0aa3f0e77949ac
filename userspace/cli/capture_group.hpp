// SPDX-License-Identifier: Apache-2.0
// `wgcap -i wg0,wg1` / `-i all-wg`: one capture per interface, each opened
// with OpenCapture on its own backend and consumer thread, all delivering to
// the one Session (which hands the sinks to one thread at a time), so one
// file and one text stream hold them all.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/interface_selection.hpp"
#include "wgcap/capture.hpp"
#include "wgcap/packet_sink.hpp"
#include "wgcap/session.hpp"

namespace wgcap::cli {

class CaptureGroup {
public:
  // Opens one capture per interface, in order. On the first failure the
  // ones already open are stopped (their hooks detached) and the error
  // names the interface when it does not already. `on_fallback` hears why
  // an interface's bpf backend could not run.
  Status Open(const std::vector<SelectedInterface>& interfaces, Session& session,
              const std::function<CaptureOptions(int ifindex)>& options_for,
              const std::function<void(const std::string& name, const Error&)>& on_fallback);
  void Stop(); // each capture, in order; idempotent

  const std::vector<std::unique_ptr<Capture>>& captures() const { return captures_; }
  const std::string& name(std::size_t i) const { return names_[i]; }
  // The first capture that ended on its own, or -1.
  int FailedIndex() const;
  // Some capture attached by clsact (-Z keeps CAP_NET_ADMIN to remove it).
  bool AnyClsact() const;
  // "bpf/tcx", or the distinct names joined by "+" ("bpf/tcx+afpacket").
  std::string backend_names() const;
  // The distinct notes on the in-kernel filters (one per backend at most).
  std::vector<std::string> filter_notes() const;

private:
  std::vector<std::unique_ptr<Capture>> captures_;
  std::vector<std::string> names_;
};

// Packets written per interface, for the exit summary of a capture of
// several interfaces with -v. Runs where the sinks run (one thread at a
// time); read after the session stopped.
class InterfaceTally final : public PacketSink {
public:
  explicit InterfaceTally(const std::vector<SelectedInterface>& interfaces);
  Status WritePacket(const PacketRecord& packet) override;
  Status Flush() override { return {}; }
  std::int64_t packets(int ifindex) const;

private:
  std::vector<std::pair<std::uint32_t, std::int64_t>> counts_; // ifindex, packets
};

// The exit summary's per-interface lines (-v with several interfaces):
// "wg0: 12 packets captured, 12 received by filter, 0 dropped by kernel".
std::string PerInterfaceCounts(const std::vector<SelectedInterface>& interfaces, const Stats& stats,
                               const InterfaceTally& tally);

} // namespace wgcap::cli
