// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <vector>

#include "wgcap/ip_address.hpp"
#include "wgcap/packet_parse.hpp"
#include "wgcap/packet_sink.hpp"

namespace wgcap {

// Tests whether a raw network-layer packet should be captured.
class Matcher {
public:
  virtual ~Matcher() = default;

  // `original_length` is the packet's wire length (for less/greater); 0 means
  // data.size().
  bool Match(std::span<const std::uint8_t> data, std::uint32_t original_length = 0) const {
    return MatchParsed(ParsePacket(data, original_length));
  }
  // For callers that already parsed the packet (one parse per packet).
  virtual bool MatchParsed(const ParsedPacket& packet) const = 0;
  // True when every packet matches (empty expression, empty Filter).
  virtual bool MatchesAll() const { return false; }
};

// The flat filter of the reference package: non-empty fields are ANDed, with
// the same field semantics as the expression language.
struct Filter final : Matcher {
  IpAddress src_ip;
  IpAddress dst_ip;
  IpAddress host;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t port = 0;
  std::uint8_t proto = 0;

  bool IsEmpty() const noexcept;
  bool MatchParsed(const ParsedPacket& packet) const override;
  bool MatchesAll() const override { return IsEmpty(); }
};

// Which WireGuard peer a packet belongs to (SPEC 10): the allowed-ips of the
// captured interfaces' peers, looked up by longest prefix as WireGuard routes.
// One PeerDirectory serves a capture: the Session attributes every packet
// with it (the `peer` primitive and the outputs read the attribution), the
// bpf backend mirrors it into the kernel's LPM trie, and whoever reads the
// peers (the CLI, every second) publishes new sets into it while it runs.

// One allowed-ip of one peer.
struct PeerRoute {
  PeerKey key{};
  IpPrefix prefix; // host bits clear
  friend bool operator==(const PeerRoute&, const PeerRoute&) = default;
};

class PeerDirectory {
public:
  // A snapshot replaced by Publish is freed by a later Publish once it has
  // been retired for `grace` (see Publish); the default suits every reader
  // in wgcap, tests shorten it.
  explicit PeerDirectory(std::chrono::steady_clock::duration grace = std::chrono::seconds(10));
  ~PeerDirectory();
  PeerDirectory(const PeerDirectory&) = delete;
  PeerDirectory& operator=(const PeerDirectory&) = delete;

  // Replaces the routes of the interface `ifindex`; ifindex 0 holds peers
  // that apply to every interface (a file's, from --wg-peers). Safe against
  // concurrent readers: a lookup sees the old set or the new one, never a
  // mix. Returns true when the set changed (and version() moved).
  // Routes that name no address are dropped, not published: a family other
  // than 4 or 6, or a prefix longer than the family's address (32 or 128
  // bits). Host bits set in a kept route are ignored by lookups.
  bool Publish(std::uint32_t ifindex, std::vector<PeerRoute> routes);

  // The peer whose allowed-ips hold `address` (`family` 4 or 6, 4 or 16
  // bytes in network order) on `ifindex` (falling back to ifindex 0's
  // routes), by longest prefix; nullptr when none. Never blocks, never
  // allocates. A returned key stays valid for the directory's life.
  const PeerKey* Lookup(std::uint32_t ifindex, std::uint8_t family,
                        const std::uint8_t* address) const noexcept;

  // The peer of a packet's tunnel-inner address: the source for Inbound,
  // the destination for Outbound, the source and then the destination when
  // the direction is Unknown (pcap files). nullptr for non-IP packets.
  const PeerKey* Attribute(const ParsedPacket& packet, Direction direction,
                           std::uint32_t ifindex) const noexcept;

  // The routes of `ifindex` as last published (for the kernel's copy).
  std::vector<PeerRoute> Routes(std::uint32_t ifindex) const;
  // Moves on every Publish that changed something; starts at 0.
  std::uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
  // Snapshots allocated now: the current one and those retired but not yet
  // past their grace period (for tests: publishing must not grow it).
  std::size_t held_snapshots() const;

  struct Snapshot;

private:
  const PeerKey* Intern(const PeerKey& key); // under mutex_

  struct Retired {
    std::chrono::steady_clock::time_point at;
    std::unique_ptr<const Snapshot> snapshot;
  };

  const std::chrono::steady_clock::duration grace_;
  mutable std::mutex mutex_; // writers only
  std::atomic<const Snapshot*> current_;
  std::atomic<std::uint64_t> version_{0};
  std::unique_ptr<const Snapshot> owned_; // what current_ points to
  std::deque<Retired> retired_;           // oldest first
  // Interned keys, never erased: PacketRecord::peer and the Matcher keep
  // the pointers Lookup hands out for as long as the directory lives. A
  // set's nodes never move, so the pointers stay valid as it grows.
  std::set<PeerKey> keys_;
};

} // namespace wgcap
