// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
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
  PeerDirectory();
  ~PeerDirectory();
  PeerDirectory(const PeerDirectory&) = delete;
  PeerDirectory& operator=(const PeerDirectory&) = delete;

  // Replaces the routes of the interface `ifindex`; ifindex 0 holds peers
  // that apply to every interface (a file's, from --wg-peers). Safe against
  // concurrent readers: a lookup sees the old set or the new one, never a
  // mix. Returns true when the set changed (and version() moved).
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

  struct Snapshot;

private:
  const PeerKey* Intern(const PeerKey& key); // under mutex_

  mutable std::mutex mutex_; // writers only
  std::atomic<const Snapshot*> current_;
  std::atomic<std::uint64_t> version_{0};
  // Every snapshot ever published, freed with the directory: readers hold
  // plain pointers, and peers change a few times a day.
  std::vector<std::unique_ptr<Snapshot>> snapshots_;
  std::vector<std::unique_ptr<PeerKey>> keys_; // interned, never moved
};

} // namespace wgcap
