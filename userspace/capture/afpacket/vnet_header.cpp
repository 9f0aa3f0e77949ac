// SPDX-License-Identifier: Apache-2.0
#include "capture/afpacket/vnet_header.hpp"

#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace wgcap {

namespace {

// struct virtio_net_hdr of <linux/virtio_net.h>, which C++ cannot include
// (another struct there has a member named `class`).
struct VnetHeader {
  std::uint8_t flags;
  std::uint8_t gso_type; // VIRTIO_NET_HDR_GSO_*, 0x80 the ECN bit
  std::uint16_t hdr_len;
  std::uint16_t gso_size;
  std::uint16_t csum_start;
  std::uint16_t csum_offset;
};
static_assert(sizeof(VnetHeader) == kVnetHeaderBytes);
constexpr std::uint8_t kGsoNone = 0;
constexpr std::uint8_t kGsoEcn = 0x80;

} // namespace

bool KernelAtLeast(const std::string& release, int major, int minor) noexcept {
  int got_major = 0;
  int got_minor = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &got_major, &got_minor) != 2) {
    return false;
  }
  return got_major > major || (got_major == major && got_minor >= minor);
}

VnetChoice ChooseVnet(int socket_fd, int ifindex, const std::string& kernel_release) {
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
    return {false, "no gso info (interface type unknown)"};
  }
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name, sizeof name);
  if (ioctl(socket_fd, SIOCGIFHWADDR, &ifr) != 0) {
    return {false, "no gso info (interface type unknown)"};
  }
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_NONE) {
    // SOCK_RAW would hand over (and filter) the link header there.
    return {false, "no gso info (a device with a link header)"};
  }
  if (!KernelAtLeast(kernel_release, 6, 2)) {
    return {false, "no gso info (kernel before 6.2)"};
  }
  return {true, ""};
}

GsoInfo ReadVnetGso(const std::uint8_t* vnet, std::span<const std::uint8_t> data,
                    std::uint32_t original_length) noexcept {
  VnetHeader h{};
  std::memcpy(&h, vnet, sizeof h);
  if ((h.gso_type & ~kGsoEcn) == kGsoNone) {
    return {};
  }
  // Little-endian: the kernel writes it so on every little-endian host
  // (vio_le()), which is every host this builds for.
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);
  return DeriveGsoInfo(data, original_length, 0, h.gso_size);
}

} // namespace wgcap
