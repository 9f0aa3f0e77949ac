// SPDX-License-Identifier: Apache-2.0
#include "bench_packets.hpp"

#include <algorithm>

namespace wgcap::bench {
namespace {

void Put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

std::uint32_t Sum16(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) {
    sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  }
  if (n % 2 != 0) {
    sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  }
  return sum;
}

std::uint16_t Fold(std::uint32_t sum) {
  while (sum >> 16 != 0) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum);
}

// IPv4 header with the given protocol and total size; addresses fixed.
Bytes Ipv4Header(std::uint8_t protocol, std::size_t size) {
  Bytes b(size, 0);
  b[0] = 0x45;
  Put16(b, 2, static_cast<std::uint16_t>(size));
  Put16(b, 4, 0x1234);
  b[8] = 64;
  b[9] = protocol;
  const std::uint8_t src[] = {198, 51, 100, 1};
  const std::uint8_t dst[] = {203, 0, 113, 1};
  std::copy(std::begin(src), std::end(src), b.begin() + 12);
  std::copy(std::begin(dst), std::end(dst), b.begin() + 16);
  Put16(b, 10, Fold(Sum16(b.data(), 20)));
  return b;
}

// Transport checksum over the IPv4 pseudo-header.
void TransportChecksum4(Bytes& b, std::size_t checksum_at) {
  const std::size_t l4 = 20;
  const std::size_t len = b.size() - l4;
  std::uint32_t sum = Sum16(b.data() + 12, 8); // source and destination
  sum += b[9];
  sum += static_cast<std::uint32_t>(len);
  Put16(b, checksum_at, 0);
  std::uint16_t c = Fold(Sum16(b.data() + l4, len, sum));
  Put16(b, checksum_at, c == 0 ? 0xffff : c);
}

} // namespace

Bytes Ipv4Udp(std::uint16_t dst_port, std::size_t size) {
  Bytes b = Ipv4Header(17, size);
  Put16(b, 20, kFloodSourcePort);
  Put16(b, 22, dst_port);
  Put16(b, 24, static_cast<std::uint16_t>(size - 20));
  for (std::size_t i = 28; i < size; ++i) {
    b[i] = static_cast<std::uint8_t>('a' + i % 26);
  }
  TransportChecksum4(b, 26);
  return b;
}

Bytes Ipv4Tcp(std::size_t payload) {
  Bytes b = Ipv4Header(6, 40 + payload);
  Put16(b, 20, kFloodSourcePort);
  Put16(b, 22, 443);
  b[24] = 0x10; // sequence number 0x10000000
  b[28] = 0x20; // acknowledgment number 0x20000000
  b[32] = 0x50; // data offset 5 words
  b[33] = 0x18; // PSH ACK
  Put16(b, 34, 501);
  for (std::size_t i = 40; i < b.size(); ++i) {
    b[i] = static_cast<std::uint8_t>('a' + i % 26);
  }
  TransportChecksum4(b, 36);
  return b;
}

Bytes Ipv6UdpWithExtensions(std::uint16_t dst_port, std::size_t size) {
  constexpr std::size_t kExtensions = 8 + 24 + 8; // hop-by-hop, routing, dest options
  Bytes b(size, 0);
  b[0] = 0x60;
  Put16(b, 4, static_cast<std::uint16_t>(size - 40));
  b[6] = 0; // hop-by-hop
  b[7] = 64;
  const std::uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const std::uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::copy(std::begin(src), std::end(src), b.begin() + 8);
  std::copy(std::begin(dst), std::end(dst), b.begin() + 24);
  std::size_t at = 40;
  b[at] = 43; // hop-by-hop -> routing; 8 bytes, PadN
  b[at + 2] = 1;
  b[at + 3] = 4;
  at += 8;
  b[at] = 60; // routing -> destination options; 24 bytes, type 0 segments left 0
  b[at + 1] = 2;
  at += 24;
  b[at] = 17; // destination options -> UDP; 8 bytes, PadN
  b[at + 2] = 1;
  b[at + 3] = 4;
  at += 8;
  static_assert(kExtensions == 40);
  Put16(b, at, kFloodSourcePort);
  Put16(b, at + 2, dst_port);
  Put16(b, at + 4, static_cast<std::uint16_t>(size - at));
  for (std::size_t i = at + 8; i < size; ++i) {
    b[i] = static_cast<std::uint8_t>('a' + i % 26);
  }
  // UDP checksum over the IPv6 pseudo-header (mandatory for IPv6).
  std::uint32_t sum = Sum16(b.data() + 8, 32);
  sum += static_cast<std::uint32_t>(size - at);
  sum += 17;
  const std::uint16_t c = Fold(Sum16(b.data() + at, size - at, sum));
  Put16(b, at + 6, c == 0 ? 0xffff : c);
  return b;
}

} // namespace wgcap::bench
