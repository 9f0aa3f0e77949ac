// SPDX-License-Identifier: Apache-2.0
#include "wgcap/ip_address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace wgcap {
namespace {

constexpr std::uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

} // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; the longest IPv6 text is 45 chars.
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) {
    return std::nullopt;
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
    a.family = 4;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    if (std::memcmp(a.bytes.data(), kV4MappedPrefix, sizeof kV4MappedPrefix) == 0) {
      std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
      std::memset(a.bytes.data() + 4, 0, 12);
      a.family = 4;
    } else {
      a.family = 6;
    }
    return a;
  }
  return std::nullopt;
}

IpAddress IpAddress::V4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress ip;
  ip.family = 4;
  ip.bytes[0] = a;
  ip.bytes[1] = b;
  ip.bytes[2] = c;
  ip.bytes[3] = d;
  return ip;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (family == 4) {
    inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  } else if (family == 6) {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  } else {
    return "unset";
  }
  return buf;
}

std::optional<IpPrefix> IpPrefix::Parse(std::string_view text, std::string* error) {
  const auto slash = text.find('/');
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address) {
    if (error) {
      *error = "invalid address \"" + std::string(text.substr(0, slash)) + "\"";
    }
    return std::nullopt;
  }
  IpPrefix p;
  p.address = *address;
  unsigned max = static_cast<unsigned>(address->size() * 8);
  // An IPv4-mapped IPv6 prefix (::ffff:192.0.2.0/120) counts its length over
  // 128 bits; as the IPv4 prefix it is taken for, 96 of them are the mapping.
  const bool mapped =
      address->family == 4 && text.substr(0, slash).find(':') != std::string_view::npos;
  const unsigned bias = mapped ? 96 : 0;
  if (slash == std::string_view::npos) {
    p.length = static_cast<std::uint8_t>(max);
    return p;
  }
  const std::string_view len_text = text.substr(slash + 1);
  unsigned len = 0;
  const auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (len_text.empty() || ec != std::errc() || end != len_text.data() + len_text.size() ||
      len < bias || len > max + bias) {
    if (error) {
      *error = "invalid prefix length \"" + std::string(len_text) + "\" for " +
               (mapped                 ? "an IPv4-mapped address"
                : address->family == 4 ? "IPv4"
                                       : "IPv6") +
               " (expected " + std::to_string(bias) + "-" + std::to_string(max + bias) + ")";
    }
    return std::nullopt;
  }
  len -= bias;
  p.length = static_cast<std::uint8_t>(len);
  for (unsigned bit = len; bit < max; ++bit) {
    p.address.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  return p;
}

bool IpPrefix::Contains(std::uint8_t family, const std::uint8_t* addr) const noexcept {
  if (family != address.family) {
    return false;
  }
  const unsigned full = length / 8;
  if (std::memcmp(addr, address.bytes.data(), full) != 0) {
    return false;
  }
  const unsigned rest = length % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xff00u >> rest);
  return (addr[full] & mask) == address.bytes[full];
}

std::string IpPrefix::ToString() const {
  return address.ToString() + "/" + std::to_string(length);
}

} // namespace wgcap
