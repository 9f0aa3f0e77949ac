// SPDX-License-Identifier: Apache-2.0
#include "wgcap/matcher.hpp"

namespace wgcap {
namespace {

bool Is(const IpAddress& want, std::uint8_t family, const std::array<std::uint8_t, 16>& have) {
  return IpPrefix::Host(want).Contains(family, have.data());
}

} // namespace

bool Filter::IsEmpty() const noexcept {
  return !src_ip.IsSet() && !dst_ip.IsSet() && !host.IsSet() && src_port == 0 && dst_port == 0 &&
         port == 0 && proto == 0;
}

bool Filter::MatchParsed(const ParsedPacket& p) const {
  if (src_ip.IsSet() && !Is(src_ip, p.family, p.src)) {
    return false;
  }
  if (dst_ip.IsSet() && !Is(dst_ip, p.family, p.dst)) {
    return false;
  }
  if (host.IsSet() && !Is(host, p.family, p.src) && !Is(host, p.family, p.dst)) {
    return false;
  }
  if ((src_port != 0 || dst_port != 0 || port != 0) && !p.has_ports) {
    return false;
  }
  if (src_port != 0 && p.src_port != src_port) {
    return false;
  }
  if (dst_port != 0 && p.dst_port != dst_port) {
    return false;
  }
  if (port != 0 && p.src_port != port && p.dst_port != port) {
    return false;
  }
  return proto == 0 || (p.has_protocol && p.protocol == proto);
}

} // namespace wgcap
