// SPDX-License-Identifier: Apache-2.0
// Builds IPv4/IPv6 packets for tests: options, fragments, extension headers,
// TCP/UDP/ICMP/other transports, correct lengths and checksums.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wgcap::test {

class PacketBuilder {
public:
  static PacketBuilder Ipv4(const std::string& src, const std::string& dst);
  static PacketBuilder Ipv6(const std::string& src, const std::string& dst);

  // Transport; exactly one (default: protocol 59/none with no header).
  PacketBuilder& Tcp(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags = 0x02,
                     std::uint32_t seq = 1000, std::uint32_t ack = 0, std::uint16_t window = 64240);
  PacketBuilder& Udp(std::uint16_t sport, std::uint16_t dport);
  PacketBuilder& Icmp(std::uint8_t type, std::uint8_t code, std::uint16_t id = 0,
                      std::uint16_t seq = 0);
  PacketBuilder& Icmp6(std::uint8_t type, std::uint8_t code, std::uint16_t id = 0,
                       std::uint16_t seq = 0);
  // Any protocol number; `header` bytes are the start of its payload.
  PacketBuilder& Protocol(std::uint8_t proto, std::vector<std::uint8_t> header = {});
  PacketBuilder& TcpOptions(std::vector<std::uint8_t> options); // padded to 4

  PacketBuilder& Payload(std::vector<std::uint8_t> bytes);
  PacketBuilder& Payload(const std::string& text);
  PacketBuilder& PayloadSize(std::size_t n); // n bytes of 'x'

  // IPv4 only.
  PacketBuilder& Ipv4Options(std::size_t bytes); // multiple of 4, <= 40 (NOPs + EOL)
  PacketBuilder& Ipv4Fragment(std::uint16_t offset_units, bool more_fragments);
  PacketBuilder& Ipv4Ihl(std::uint8_t ihl); // force a (possibly bad) IHL
  PacketBuilder& Ttl(std::uint8_t ttl);
  PacketBuilder& Id(std::uint16_t id);

  // IPv6 only: extension headers in order (0, 43, 60: length in 8-byte units
  // beyond the first 8; 51 AH: payload len per RFC 4302).
  PacketBuilder& Ipv6Extension(std::uint8_t type, std::uint8_t length_units = 0);
  PacketBuilder& Ipv6Fragment(std::uint16_t offset_units, bool more_fragments);

  std::vector<std::uint8_t> Build() const;

private:
  struct Ext {
    std::uint8_t type;
    std::uint8_t length_units;
    std::uint16_t frag_offset;
    bool frag_more;
  };
  std::vector<std::uint8_t> BuildTransport(std::uint8_t& proto_out) const;

  int family_ = 4;
  std::vector<std::uint8_t> src_, dst_;
  enum class L4 { None, Tcp, Udp, Icmp, Icmp6, Other } l4_ = L4::None;
  std::uint8_t other_proto_ = 59;
  std::vector<std::uint8_t> other_header_;
  std::uint16_t sport_ = 0, dport_ = 0;
  std::uint8_t tcp_flags_ = 0;
  std::uint32_t seq_ = 0, ack_ = 0;
  std::uint16_t window_ = 0;
  std::vector<std::uint8_t> tcp_options_;
  std::uint8_t icmp_type_ = 0, icmp_code_ = 0;
  std::uint16_t icmp_id_ = 0, icmp_seq_ = 0;
  std::vector<std::uint8_t> payload_;
  std::size_t ipv4_options_ = 0;
  std::uint16_t frag_offset_ = 0;
  bool frag_more_ = false;
  int forced_ihl_ = -1;
  std::uint8_t ttl_ = 64;
  std::uint16_t id_ = 0x1234;
  std::vector<Ext> exts_;
};

// Wraps a network-layer packet in an Ethernet header (for link-type tests).
std::vector<std::uint8_t> WithEthernet(const std::vector<std::uint8_t>& ip,
                                       std::uint16_t ethertype);

} // namespace wgcap::test
