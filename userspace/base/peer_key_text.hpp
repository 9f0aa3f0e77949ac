// SPDX-License-Identifier: Apache-2.0
// A WireGuard public key as the 44 characters of base64 `wg` prints, written
// into a caller's buffer: the text and pcapng writers show a key on every
// attributed packet, so the form they use allocates nothing. Header-only so
// the sinks need no library of their own for it. The one base64 code for
// keys: the peer tables and the filter's `peer` term use it too.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "wgcap/ip_address.hpp"

namespace wgcap {

inline constexpr std::size_t kPeerKeyTextSize = 44; // 32 bytes: 43 characters and one '='
// `peer KEY` takes a whole key or a prefix of at least this many characters.
inline constexpr std::size_t kPeerKeyMinPrefix = 4;

using PeerKeyText = std::array<char, kPeerKeyTextSize>;

inline PeerKeyText PeerKeyToText(const PeerKey& key) noexcept {
  constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  PeerKeyText out{};
  std::size_t o = 0;
  std::size_t i = 0;
  for (; i + 3 <= key.size(); i += 3) {
    const unsigned v = unsigned{key[i]} << 16 | unsigned{key[i + 1]} << 8 | key[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  // 32 = 30 + 2: two bytes left, three characters and one '='.
  const unsigned v = unsigned{key[i]} << 16 | unsigned{key[i + 1]} << 8;
  out[o++] = kAlphabet[(v >> 18) & 63];
  out[o++] = kAlphabet[(v >> 12) & 63];
  out[o++] = kAlphabet[(v >> 6) & 63];
  out[o] = '=';
  return out;
}

namespace detail {
inline int Base64Value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  return c == '+' ? 62 : c == '/' ? 63 : -1;
}
} // namespace detail

// One of base64's 64 characters (not the '=' padding): what a key or a key
// prefix may hold.
inline bool IsPeerKeyChar(char c) noexcept {
  return detail::Base64Value(c) >= 0;
}

// Exactly 44 characters of base64 ending in '=' whose unused low bits are
// zero (the one canonical text of a key); nullopt for anything else.
inline std::optional<PeerKey> PeerKeyFromText(std::string_view text) noexcept {
  if (text.size() != kPeerKeyTextSize || text.back() != '=') {
    return std::nullopt;
  }
  PeerKey key{};
  unsigned acc = 0;
  int bits = 0;
  std::size_t out = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    const int value = detail::Base64Value(text[i]);
    if (value < 0) {
      return std::nullopt;
    }
    acc = (acc << 6 | static_cast<unsigned>(value)) & 0xffffu;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      key[out++] = static_cast<std::uint8_t>(acc >> bits);
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) {
    return std::nullopt; // 43 characters carry 258 bits: the last 2 must be 0
  }
  return key;
}

} // namespace wgcap
