// SPDX-License-Identifier: Apache-2.0
#include "cli/live_peers.hpp"

#include <chrono>
#include <utility>

#include "wgcap/filter_parser.hpp"

namespace wgcap::cli {

LivePeers::LivePeers(std::vector<SelectedInterface> interfaces, std::string uapi_dir)
    : interfaces_(std::move(interfaces)), uapi_dir_(std::move(uapi_dir)) {}

LivePeers::~LivePeers() {
  Stop();
}

Result<std::unique_ptr<LivePeers>> LivePeers::Open(const std::vector<SelectedInterface>& interfaces,
                                                   FilterExpression& expression,
                                                   const std::string& uapi_dir) {
  std::vector<SelectedInterface> readable;
  std::vector<wireguard::PeerTable> tables; // every interface's peers, for resolving
  std::vector<std::vector<PeerRoute>> routes;
  for (const SelectedInterface& interface : interfaces) {
    Result<wireguard::PeerTable> table = wireguard::LoadPeers(interface.name, uapi_dir);
    if (!table) {
      if (!HasPeerTerms(expression)) {
        continue; // not WireGuard: nothing to attribute there
      }
      Error e = table.error();
      e.message = "`peer` needs the WireGuard peers of " + interface.name +
                  ", which could not be read: " + e.message;
      return e;
    }
    routes.push_back(table->Routes());
    tables.push_back(std::move(table).value());
    readable.push_back(interface);
  }
  if (readable.empty()) {
    return std::unique_ptr<LivePeers>();
  }
  // One key that is a peer of several links is one peer to resolve, not
  // an ambiguous pair.
  const wireguard::PeerTable all = wireguard::MergePeerTables(tables);
  const auto resolve = [&all](std::string_view text) -> Result<PeerKey> {
    Result<wireguard::Peer> peer = all.Resolve(text);
    if (!peer) {
      return peer.error();
    }
    return peer->public_key;
  };
  if (auto resolved = ResolvePeerTerms(expression, resolve); !resolved) {
    return resolved.error();
  }
  std::unique_ptr<LivePeers> peers(new LivePeers(readable, uapi_dir));
  for (std::size_t i = 0; i < readable.size(); ++i) {
    peers->directory_->Publish(static_cast<std::uint32_t>(readable[i].ifindex),
                               std::move(routes[i]));
  }
  peers->reads_ = 1;
  return peers;
}

void LivePeers::Start(int interval_ms) {
  if (!thread_.joinable()) {
    thread_ = std::thread([this, interval_ms] { Run(interval_ms); });
  }
}

void LivePeers::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::uint64_t LivePeers::reads() const noexcept {
  std::lock_guard lock(mutex_);
  return reads_;
}

void LivePeers::Run(int interval_ms) {
  std::unique_lock lock(mutex_);
  while (
      !stop_cv_.wait_for(lock, std::chrono::milliseconds(interval_ms), [this] { return stop_; })) {
    lock.unlock();
    // The reads (a socket round trip each, 2 s at most) run unlocked so
    // Stop never waits on them longer than that.
    bool all_read = true;
    for (const SelectedInterface& interface : interfaces_) {
      Result<wireguard::PeerTable> table = wireguard::LoadPeers(interface.name, uapi_dir_);
      if (table) {
        directory_->Publish(static_cast<std::uint32_t>(interface.ifindex), table->Routes());
      }
      all_read = all_read && table.ok();
    }
    lock.lock();
    reads_ += all_read ? 1 : 0;
  }
}

} // namespace wgcap::cli
