// SPDX-License-Identifier: Apache-2.0
// IPv4 addresses and networks as libpcap's lexer and gencode read them, so
// every form tcpdump accepts means the same here: a bare number in decimal,
// 0x hex or leading-0 octal is a 32-bit address (`0xc0a8aad3`); a dotted
// form of 2-4 decimal parts is shortened (`10.0.1`), its missing parts at the
// right (10.0.1.0, covering 24 bits).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wgcap::filter {

// libpcap's stoulen: decimal, 0x/0X hex, leading-0 octal, at most 32 bits.
// nullopt when the text is not such a number or overflows.
std::optional<std::uint32_t> ParseLibpcapNumber(std::string_view text);

// True for text libpcap's lexer takes as a number ({N}) or a dotted IPv4 ID
// ({N}.{N}[.{N}[.{N}]]): digits, hex after 0x, dots between.
bool LooksLikeIpv4Id(std::string_view text);

// A dotted IPv4 ID as __pcap_atoin reads it: each part decimal 0-255, the
// value promoted to the top bits. `bits` is 8 per part written.
struct Ipv4Id {
  std::uint32_t value = 0;
  int bits = 32;
};
std::optional<Ipv4Id> ParseDottedIpv4(std::string_view text);

// "invalid IPv4 address 'TEXT'", libpcap's wording.
std::string InvalidIpv4(std::string_view text);

} // namespace wgcap::filter
