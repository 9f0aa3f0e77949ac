// SPDX-License-Identifier: Apache-2.0
// The peers of one WireGuard interface, as a plain value: what `peer KEY`
// resolves against and what attributes a packet to a peer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wgcap/ip_address.hpp"
#include "wgcap/matcher.hpp"
#include "wgcap/result.hpp"

namespace wgcap::wireguard {

using PeerKey = wgcap::PeerKey;

// The 44-character base64 text `wg` prints for a key.
std::string KeyToBase64(const PeerKey& key);
// A 44-character base64 key; nullopt for anything else.
std::optional<PeerKey> KeyFromBase64(std::string_view text);
// The 64 hex digits wireguard-go's UAPI uses; nullopt for anything else.
std::optional<PeerKey> KeyFromHex(std::string_view text);

struct Peer {
  PeerKey public_key{};
  std::vector<IpPrefix> allowed_ips; // IPv4 and IPv6, host bits clear

  std::string KeyText() const { return KeyToBase64(public_key); }
  // The first 8 characters of KeyText(), as text lines show a peer.
  std::string ShortKey() const { return KeyText().substr(0, 8); }
  friend bool operator==(const Peer&, const Peer&) = default;
};

struct PeerTable {
  std::string interface; // the WireGuard link the peers belong to
  std::vector<Peer> peers;

  // The peer whose allowed-ips hold `address` by longest prefix match,
  // WireGuard's own routing rule; nullptr when none does. Linear: tables
  // are small and the capture path uses the kernel's LPM trie instead.
  const Peer* Lookup(const IpAddress& address) const {
    return Lookup(address.family, address.bytes.data());
  }
  // The same for an address inside a packet: `family` 4 or 6, `address`
  // its 4 or 16 bytes in network order.
  const Peer* Lookup(std::uint8_t family, const std::uint8_t* address) const;

  // A full base64 key, or an unambiguous prefix of at least 4 characters.
  // Errors (kind Usage) say why: too short, not base64, ambiguous (with the
  // candidates' first 8 characters), unknown (with this interface's peers).
  Result<Peer> Resolve(std::string_view text) const;
  // Every allowed-ip of every peer, as a PeerDirectory holds them.
  std::vector<PeerRoute> Routes() const;
};

// The peers of several interfaces as one table to resolve `peer KEY`
// against (-i wg0,wg1): its interface names them all, and a key that is a
// peer of several is one peer holding the allowed-ips of all (in first-seen
// order, each once), so naming it is not ambiguous. Peers keep the order
// they are first seen in.
PeerTable MergePeerTables(const std::vector<PeerTable>& tables);

} // namespace wgcap::wireguard
