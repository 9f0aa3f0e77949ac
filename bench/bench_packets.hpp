// SPDX-License-Identifier: Apache-2.0
// The packets every benchmark uses, built once: the injector writes the same
// IPv4 UDP packet that the micro-benchmarks and the kernel benchmark parse,
// so their figures describe the traffic of the end-to-end runs.
// Documentation addresses only (198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
#pragma once

#include <cstdint>
#include <vector>

namespace wgcap::bench {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint16_t kFloodSourcePort = 40000;
inline constexpr std::uint16_t kFloodPort = 9; // discard
inline constexpr std::size_t kFloodPacketSize = 128;

// IPv4 UDP 198.51.100.1:40000 > 203.0.113.1:DST_PORT, `size` bytes in all,
// valid IP and UDP checksums.
Bytes Ipv4Udp(std::uint16_t dst_port = kFloodPort, std::size_t size = kFloodPacketSize);

// IPv4 TCP 198.51.100.1:40000 > 203.0.113.1:443 [P.] with `payload` bytes.
Bytes Ipv4Tcp(std::size_t payload = 88);

// IPv6 UDP 2001:db8:1::1 > 2001:db8:2::1 behind hop-by-hop, routing and
// destination-options headers (the walk SPEC 1 describes), `size` bytes.
Bytes Ipv6UdpWithExtensions(std::uint16_t dst_port = kFloodPort,
                            std::size_t size = kFloodPacketSize);

// Six terms that Ipv4Udp(kFloodPort) satisfies and Ipv4Udp(kFloodPort + 1)
// fails only at the last term, so a non-matching packet walks the whole
// conjunction (the worst case for an "and" chain).
inline constexpr const char* kSixTermsV4 = "ip and udp and src net 198.51.100.0/24 and dst net "
                                           "203.0.113.0/24 and greater 64 and dst port 9";
// The same shape for the IPv6 packet.
inline constexpr const char* kSixTermsV6 = "ip6 and udp and src net 2001:db8:1::/48 and dst net "
                                           "2001:db8:2::/48 and greater 64 and dst port 9";

} // namespace wgcap::bench
