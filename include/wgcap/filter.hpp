// SPDX-License-Identifier: Apache-2.0
// The flat filter of the reference package: non-empty fields are ANDed, with
// the same field semantics as the expression language.
#pragma once

#include <cstdint>

#include "wgcap/ip_address.hpp"
#include "wgcap/matcher.hpp"

namespace wgcap {

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
