// SPDX-License-Identifier: Apache-2.0
#include "cli/live_peers.hpp"

#include <chrono>
#include <utility>

#include "wgcap/filter_parser.hpp"

namespace wgcap::cli {

std::vector<PeerRoute> RoutesOf(const wireguard::PeerTable& table) {
  std::vector<PeerRoute> routes;
  for (const wireguard::Peer& peer : table.peers) {
    for (const IpPrefix& prefix : peer.allowed_ips) {
      routes.push_back({peer.public_key, prefix});
    }
  }
  return routes;
}

LivePeers::LivePeers(std::string interface, std::uint32_t ifindex, std::string uapi_dir)
    : interface_(std::move(interface)), ifindex_(ifindex), uapi_dir_(std::move(uapi_dir)) {}

LivePeers::~LivePeers() {
  Stop();
}

Result<std::unique_ptr<LivePeers>> LivePeers::Open(const std::string& interface,
                                                   std::uint32_t ifindex,
                                                   FilterExpression& expression,
                                                   const std::string& uapi_dir) {
  Result<wireguard::PeerTable> table = wireguard::LoadPeers(interface, uapi_dir);
  if (!table) {
    if (!HasPeerTerms(expression)) {
      return std::unique_ptr<LivePeers>(); // not WireGuard: nothing to attribute
    }
    Error e = table.error();
    e.message = "`peer` needs the WireGuard peers of " + interface +
                ", which could not be read: " + e.message;
    return e;
  }
  const auto resolve = [&table](std::string_view text) -> Result<PeerKey> {
    Result<wireguard::Peer> peer = table->Resolve(text);
    if (!peer) {
      return peer.error();
    }
    return peer->public_key;
  };
  if (auto resolved = ResolvePeerTerms(expression, resolve); !resolved) {
    return resolved.error();
  }
  std::unique_ptr<LivePeers> peers(new LivePeers(interface, ifindex, uapi_dir));
  peers->directory_->Publish(ifindex, RoutesOf(*table));
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
    // The read (a socket round trip, 2 s at most) runs unlocked so Stop
    // never waits on it longer than that.
    Result<wireguard::PeerTable> table = wireguard::LoadPeers(interface_, uapi_dir_);
    if (table) {
      directory_->Publish(ifindex_, RoutesOf(*table));
    }
    lock.lock();
    reads_ += table.ok() ? 1 : 0;
  }
}

} // namespace wgcap::cli
