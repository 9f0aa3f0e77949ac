// SPDX-License-Identifier: Apache-2.0
#include "wireguard/peer_table.hpp"

#include <algorithm>

namespace wgcap::wireguard {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::size_t kKeyTextSize = 44; // 32 bytes: 43 characters and one '='
constexpr std::size_t kMinPrefix = 4;

int Base64Value(char c) {
  const char* at = std::find(kBase64, kBase64 + 64, c);
  return at == kBase64 + 64 ? -1 : static_cast<int>(at - kBase64);
}

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
  std::string out;
  out.reserve(kKeyTextSize);
  std::size_t i = 0;
  for (; i + 3 <= key.size(); i += 3) {
    const unsigned v = (key[i] << 16) | (key[i + 1] << 8) | key[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) {
      out += kBase64[(v >> shift) & 63];
    }
  }
  // 32 = 30 + 2: two bytes left, three characters and one '='.
  const unsigned v = (key[i] << 16) | (key[i + 1] << 8);
  out += kBase64[(v >> 18) & 63];
  out += kBase64[(v >> 12) & 63];
  out += kBase64[(v >> 6) & 63];
  out += '=';
  return out;
}

std::optional<PeerKey> KeyFromBase64(std::string_view text) {
  if (text.size() != kKeyTextSize || text.back() != '=') {
    return std::nullopt;
  }
  PeerKey key{};
  unsigned acc = 0;
  int bits = 0;
  std::size_t out = 0;
  for (char c : text.substr(0, kKeyTextSize - 1)) {
    const int v = Base64Value(c);
    if (v < 0) {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      key[out++] = static_cast<std::uint8_t>(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  // The 2 bits left over must be zero in a canonical key text.
  if (out != key.size() || acc != 0) {
    return std::nullopt;
  }
  return key;
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
  if (text.size() < kMinPrefix) {
    return UsageError("peer " + quoted + ": a key prefix needs at least " +
                      std::to_string(kMinPrefix) + " characters");
  }
  const bool full = text.size() == kKeyTextSize;
  const std::string_view body = full ? text.substr(0, kKeyTextSize - 1) : text;
  if (text.size() > kKeyTextSize ||
      !std::all_of(body.begin(), body.end(), [](char c) { return Base64Value(c) >= 0; }) ||
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

} // namespace wgcap::wireguard
