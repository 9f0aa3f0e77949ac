// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wgcap {

// An IPv4 or IPv6 address. IPv4 occupies the first 4 bytes of `bytes`.
struct IpAddress {
  std::uint8_t family = 0; // 4 or 6; 0 = unset
  std::array<std::uint8_t, 16> bytes{};

  // Parses dotted IPv4 or any textual IPv6 form; an IPv4-mapped IPv6 address
  // (::ffff:a.b.c.d) becomes the IPv4 address.
  static std::optional<IpAddress> Parse(std::string_view text);
  static IpAddress V4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);

  bool IsSet() const noexcept { return family != 0; }
  std::size_t size() const noexcept { return family == 4 ? 4 : 16; }
  std::string ToString() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// A network prefix. Host bits of the parsed text are cleared, so
// 192.0.2.77/24 equals 192.0.2.0/24.
struct IpPrefix {
  IpAddress address;
  std::uint8_t length = 0;

  // "ADDR/LEN" or a bare address (full length). Returns nullopt on a bad
  // address; a bad length is reported through `length_error`.
  static std::optional<IpPrefix> Parse(std::string_view text, std::string* error = nullptr);
  static IpPrefix Host(const IpAddress& a) {
    return IpPrefix{a, static_cast<std::uint8_t>(a.size() * 8)};
  }

  // True when `addr` (of `family`, bytes in network order) lies inside.
  bool Contains(std::uint8_t family, const std::uint8_t* addr) const noexcept;
  std::string ToString() const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// A WireGuard public key: 32 bytes (Curve25519), shown as 44-character base64.
using PeerKey = std::array<std::uint8_t, 32>;

} // namespace wgcap
