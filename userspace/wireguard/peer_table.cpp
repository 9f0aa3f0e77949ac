// SPDX-License-Identifier: Apache-2.0
#include "wireguard/peer_table.hpp"

#include <algorithm>

#include "base/peer_key_text.hpp"

namespace wgcap::wireguard {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

Error UsageError(std::string message) {
  Error e{std::move(message)};
  e.kind = ErrorKind::Usage;
  return e;
}

std::string PeerList(const std::vector<const Peer*>& peers) {
  std::string text;
  for (const Peer* p : peers) {
    text += (text.empty() ? "" : ", ") + p->ShortKey();
  }
  return text;
}

} // namespace

std::string KeyToBase64(const PeerKey& key) {
  const PeerKeyText text = PeerKeyToText(key);
  return std::string(text.data(), text.size());
}

std::optional<PeerKey> KeyFromBase64(std::string_view text) {
  return PeerKeyFromText(text);
}

std::optional<PeerKey> KeyFromHex(std::string_view text) {
  PeerKey key{};
  if (text.size() != key.size() * 2) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < key.size(); ++i) {
    const int hi = HexValue(text[2 * i]);
    const int lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    key[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return key;
}

const Peer* PeerTable::Lookup(std::uint8_t family, const std::uint8_t* address) const {
  const Peer* best = nullptr;
  int best_length = -1;
  for (const Peer& peer : peers) {
    for (const IpPrefix& prefix : peer.allowed_ips) {
      if (prefix.length > best_length && prefix.Contains(family, address)) {
        best = &peer;
        best_length = prefix.length;
      }
    }
  }
  return best;
}

Result<Peer> PeerTable::Resolve(std::string_view text) const {
  const std::string quoted = "\"" + std::string(text) + "\"";
  if (text.size() < kPeerKeyMinPrefix) {
    return UsageError("peer " + quoted + ": a key prefix needs at least " +
                      std::to_string(kPeerKeyMinPrefix) + " characters");
  }
  const bool full = text.size() == kPeerKeyTextSize;
  const std::string_view body = full ? text.substr(0, kPeerKeyTextSize - 1) : text;
  if (text.size() > kPeerKeyTextSize || !std::all_of(body.begin(), body.end(), IsPeerKeyChar) ||
      (full && !KeyFromBase64(text))) {
    return UsageError("peer " + quoted + ": not a base64 public key or key prefix");
  }
  std::vector<const Peer*> matches;
  std::vector<const Peer*> all;
  for (const Peer& peer : peers) {
    all.push_back(&peer);
    if (peer.KeyText().compare(0, text.size(), text) == 0) {
      matches.push_back(&peer);
    }
  }
  if (matches.size() == 1) {
    return *matches.front();
  }
  if (matches.size() > 1) {
    return UsageError("peer " + quoted + " is ambiguous on " + interface + ": " +
                      PeerList(matches));
  }
  return UsageError("peer " + quoted + " is no peer of " + interface +
                    " (its peers: " + (all.empty() ? std::string("none") : PeerList(all)) + ")");
}

std::vector<PeerRoute> PeerTable::Routes() const {
  std::vector<PeerRoute> routes;
  for (const Peer& peer : peers) {
    for (const IpPrefix& prefix : peer.allowed_ips) {
      routes.push_back({peer.public_key, prefix});
    }
  }
  return routes;
}

PeerTable MergePeerTables(const std::vector<PeerTable>& tables) {
  PeerTable merged;
  for (const PeerTable& table : tables) {
    merged.interface += (merged.interface.empty() ? "" : ", ") + table.interface;
    for (const Peer& peer : table.peers) {
      auto same = std::find_if(merged.peers.begin(), merged.peers.end(),
                               [&](const Peer& p) { return p.public_key == peer.public_key; });
      if (same == merged.peers.end()) {
        merged.peers.push_back(Peer{peer.public_key, {}});
        same = merged.peers.end() - 1;
      }
      for (const IpPrefix& prefix : peer.allowed_ips) {
        if (std::find(same->allowed_ips.begin(), same->allowed_ips.end(), prefix) ==
            same->allowed_ips.end()) {
          same->allowed_ips.push_back(prefix);
        }
      }
    }
  }
  return merged;
}

} // namespace wgcap::wireguard
