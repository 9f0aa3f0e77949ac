// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>

#include "wgcap/ip_address.hpp"
#include "wgcap/packet_parse.hpp"

namespace wgcap {

// Tests whether a raw network-layer packet should be captured.
class Matcher {
public:
  virtual ~Matcher() = default;

  // `original_length` is the packet's wire length (for less/greater); 0 means
  // data.size().
  bool Match(std::span<const std::uint8_t> data, std::uint32_t original_length = 0) const {
    return MatchParsed(ParsePacket(data, original_length));
  }
  // For callers that already parsed the packet (one parse per packet).
  virtual bool MatchParsed(const ParsedPacket& packet) const = 0;
  // True when every packet matches (empty expression, empty Filter).
  virtual bool MatchesAll() const { return false; }
};

// The flat filter of the reference package: non-empty fields are ANDed, with
// the same field semantics as the expression language.
struct Filter final : Matcher {
  IpAddress src_ip;
  IpAddress dst_ip;
  IpAddress host;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t port = 0;
  std::uint8_t proto = 0;

  bool IsEmpty() const noexcept;
  bool MatchParsed(const ParsedPacket& packet) const override;
  bool MatchesAll() const override { return IsEmpty(); }
};

} // namespace wgcap
