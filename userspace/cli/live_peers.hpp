// SPDX-License-Identifier: Apache-2.0
// The WireGuard peers of a live capture (SPEC 10): read once, before the
// capture opens, to resolve the expression's `peer` terms and fill the
// PeerDirectory the Session attributes with and the bpf backend mirrors into
// the kernel; then read again every 500 ms on a thread of its own, so a peer
// added while capturing is attributed within a second.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/interface_selection.hpp"
#include "wgcap/filter_ast.hpp"
#include "wgcap/matcher.hpp"
#include "wgcap/result.hpp"
#include "wireguard/peer_sources.hpp"

namespace wgcap::cli {

class LivePeers {
public:
  // Reads each interface's peers (wireguard-go's UAPI socket in `uapi_dir`,
  // else kernel WireGuard over generic netlink), publishes them under its
  // ifindex and resolves the `peer` terms of `expression` in place against
  // the peers of them all. An interface whose peers cannot be read (not
  // WireGuard) attributes nothing; when none can be read the result is null,
  // and when the expression has `peer` terms any unreadable interface is an
  // error saying why. Unknown and ambiguous keys are errors naming the peers
  // (kind Filter).
  static Result<std::unique_ptr<LivePeers>>
  Open(const std::vector<SelectedInterface>& interfaces, FilterExpression& expression,
       const std::string& uapi_dir = wireguard::kDefaultUapiDir);
  ~LivePeers(); // Stop()s
  LivePeers(const LivePeers&) = delete;
  LivePeers& operator=(const LivePeers&) = delete;

  std::shared_ptr<const PeerDirectory> directory() const noexcept { return directory_; }
  // Starts re-reading every `interval_ms`; a failed read keeps the last set
  // (a daemon restarting is no reason to forget the peers).
  void Start(int interval_ms = 500);
  // Ends the thread and joins it. Idempotent.
  void Stop();
  // Times the peers were read and published successfully (the first included).
  std::uint64_t reads() const noexcept;

private:
  LivePeers(std::vector<SelectedInterface> interfaces, std::string uapi_dir);
  void Run(int interval_ms);

  std::vector<SelectedInterface> interfaces_; // those whose peers could be read
  std::string uapi_dir_;
  std::shared_ptr<PeerDirectory> directory_ = std::make_shared<PeerDirectory>();
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::uint64_t reads_ = 0;
};

} // namespace wgcap::cli
