// SPDX-License-Identifier: Apache-2.0
// Mirrors a PeerDirectory into the kernel's LPM trie wgcap_peers (SPEC 10),
// where the generated filter's `peer` terms look: the captured interface's
// routes under its ifindex, those for every interface under 0. Called before
// attaching and then from the ring's reader whenever the directory's version
// moves; it writes what changed and deletes what disappeared.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>

#include "wgcap/matcher.hpp"
#include "wgcap/result.hpp"

namespace wgcap {

class PeerMapSync {
public:
  PeerMapSync(int map_fd, std::uint32_t ifindex, std::shared_ptr<const PeerDirectory> peers);

  // Whether the directory moved since the last Sync (one atomic load: the
  // reader asks on every poll).
  bool Due() const noexcept { return !synced_ || peers_->version() != version_; }
  // Brings the map up to the directory. When the routes do not fit, the map
  // keeps what it held, Due() stays false until the directory moves again,
  // and the error (E2BIG) names the map's limit; other errors name the bpf()
  // call that failed.
  Status Sync();

  // The map's key for `route` on `ifindex` (wgcap_peer_lpm_key's bytes).
  using KeyBytes = std::array<std::uint8_t, 24>;
  static KeyBytes KeyFor(std::uint32_t ifindex, const IpPrefix& prefix) noexcept;

private:
  Result<std::map<KeyBytes, PeerKey>> Wanted() const; // the map the directory asks for
  Status WriteChanged(const std::map<KeyBytes, PeerKey>& wanted);
  Status DeleteGone(const std::map<KeyBytes, PeerKey>& wanted);

  int map_fd_;
  std::uint32_t ifindex_;
  std::shared_ptr<const PeerDirectory> peers_;
  std::map<KeyBytes, PeerKey> written_; // what the kernel's map holds
  std::uint32_t capacity_;              // the map's max_entries
  std::uint64_t version_ = 0;
  bool synced_ = false;
};

} // namespace wgcap
