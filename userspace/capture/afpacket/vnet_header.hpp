// SPDX-License-Identifier: Apache-2.0
// GSO/GRO info on the AF_PACKET backend (SPEC 10): with PACKET_VNET_HDR the
// kernel writes a virtio_net_hdr (gso_type, gso_size; no segment count) in
// front of each packet of a TPACKET_V3 ring. It does so only for SOCK_RAW
// sockets, so only on devices without a link header (WireGuard, TUN:
// ARPHRD_NONE), where SOCK_RAW delivers what SOCK_DGRAM does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "capture/gso_info.hpp"

namespace wgcap {

// sizeof(virtio_net_hdr): what precedes each packet in the ring.
inline constexpr std::size_t kVnetHeaderBytes = 10;

struct VnetChoice {
  bool use = false;
  std::string why_not; // "" when used: what -v shows instead of gso info
};

// Whether to ask for vnet headers on `socket_fd` (any socket) for the
// device `ifindex`, given the running kernel's release (uname -r): not on
// a device with a link header, and not before Linux 6.2, whose packet
// sockets drop (and count as dropped) every UDP GSO super-packet they
// cannot describe in a virtio_net_hdr: a capture must not lose QUIC's
// super-packets for the sake of their segment counts.
VnetChoice ChooseVnet(int socket_fd, int ifindex, const std::string& kernel_release);

// True for a release of `major.minor` or later ("6.1.0-57-amd64").
bool KernelAtLeast(const std::string& release, int major, int minor) noexcept;

// The GSO info of one ring frame: `vnet` the 10 bytes before the packet,
// `data` the captured packet from its IP header, `original_length` its
// wire length. The count is derived (DeriveGsoInfo): the header has none.
GsoInfo ReadVnetGso(const std::uint8_t* vnet, std::span<const std::uint8_t> data,
                    std::uint32_t original_length) noexcept;

} // namespace wgcap
