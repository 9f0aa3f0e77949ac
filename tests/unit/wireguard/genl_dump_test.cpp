// SPDX-License-Identifier: Apache-2.0
// The generic netlink replies of kernel WireGuard, crafted byte by byte:
// this host has no WireGuard module, so the parsers are what is tested here
// (the request itself runs in the VM tests).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <sys/socket.h>

#include <cstring>

#include "wireguard/peer_sources.hpp"

namespace wgcap::wireguard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint16_t kFamily = 0x1f;

Bytes Attr(std::uint16_t type, const void* data, std::size_t size) {
  Bytes out(NLA_ALIGN(NLA_HDRLEN + size));
  nlattr a{};
  a.nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + size);
  a.nla_type = type;
  std::memcpy(out.data(), &a, sizeof a);
  if (size != 0) { // an empty nest has no data pointer (memcpy from null is UB)
    std::memcpy(out.data() + NLA_HDRLEN, data, size);
  }
  return out;
}

Bytes Nest(std::uint16_t type, const std::vector<Bytes>& children) {
  Bytes body;
  for (const Bytes& c : children) {
    body.insert(body.end(), c.begin(), c.end());
  }
  return Attr(type | NLA_F_NESTED, body.data(), body.size());
}

Bytes AllowedIp(int family, const char* address, std::uint8_t cidr) {
  const auto ip = *IpAddress::Parse(address);
  const std::uint16_t f = static_cast<std::uint16_t>(family);
  return Nest(0, {Attr(WGALLOWEDIP_A_FAMILY, &f, 2),
                  Attr(WGALLOWEDIP_A_IPADDR, ip.bytes.data(), family == AF_INET ? 4 : 16),
                  Attr(WGALLOWEDIP_A_CIDR_MASK, &cidr, 1)});
}

PeerKey KeyOf(std::uint8_t fill) {
  PeerKey k;
  k.fill(fill);
  return k;
}

Bytes PeerAttr(std::uint16_t index, std::uint8_t key_fill, const std::vector<Bytes>& ips) {
  const PeerKey k = KeyOf(key_fill);
  const std::uint64_t rx = 7;
  return Nest(index, {Attr(WGPEER_A_PUBLIC_KEY, k.data(), k.size()),
                      Attr(WGPEER_A_RX_BYTES, &rx, sizeof rx), Nest(WGPEER_A_ALLOWEDIPS, ips)});
}

Bytes Message(std::uint16_t type, const std::vector<Bytes>& attrs, std::uint16_t flags = 0) {
  Bytes body(GENL_HDRLEN);
  body[0] = WG_CMD_GET_DEVICE;
  for (const Bytes& a : attrs) {
    body.insert(body.end(), a.begin(), a.end());
  }
  // Sized once and copied into: GCC 12 misreads a vector insert after a
  // 16-byte vector as out of bounds (-Warray-bounds).
  Bytes out(NLMSG_HDRLEN + body.size());
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(out.size());
  h.nlmsg_type = type;
  h.nlmsg_flags = flags;
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + NLMSG_HDRLEN, body.data(), body.size());
  return out;
}

Bytes Done(int error = 0) {
  Bytes out(NLMSG_HDRLEN + sizeof error);
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(out.size());
  h.nlmsg_type = NLMSG_DONE;
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + NLMSG_HDRLEN, &error, sizeof error);
  return out;
}

Bytes Join(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::vector<std::string> Prefixes(const Peer& p) {
  std::vector<std::string> out;
  for (const auto& prefix : p.allowed_ips) {
    out.push_back(prefix.ToString());
  }
  return out;
}

TEST(GenlDeviceDump, PeersAcrossMessagesAndDatagramsAreJoined) {
  const std::string name = "wg0";
  const std::uint16_t port = 51820;
  // Message 1: device attributes, peer 0x11 complete, peer 0x22 begun.
  const Bytes first =
      Message(kFamily,
              {Attr(WGDEVICE_A_IFNAME, name.c_str(), name.size() + 1),
               Attr(WGDEVICE_A_LISTEN_PORT, &port, 2),
               Nest(WGDEVICE_A_PEERS, {PeerAttr(0, 0x11, {AllowedIp(AF_INET, "198.51.100.0", 24)}),
                                       PeerAttr(1, 0x22, {AllowedIp(AF_INET, "192.0.2.1", 32)})})});
  // Message 2: peer 0x22 continued (key repeated), then peer 0x33.
  const Bytes second =
      Message(kFamily,
              {Attr(WGDEVICE_A_IFNAME, name.c_str(), name.size() + 1),
               Nest(WGDEVICE_A_PEERS, {PeerAttr(0, 0x22, {AllowedIp(AF_INET6, "2001:db8:1::", 48)}),
                                       PeerAttr(1, 0x33,
                                                {AllowedIp(AF_INET6, "2001:db8:2::7", 64),
                                                 AllowedIp(AF_INET, "0.0.0.0", 0)})})});
  auto t = ParseDeviceDump({Join(first, second), Done()}, kFamily, "wg0");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->interface, "wg0");
  ASSERT_EQ(t->peers.size(), 3u);
  EXPECT_EQ(t->peers[0].public_key, KeyOf(0x11));
  EXPECT_THAT(Prefixes(t->peers[0]), ElementsAre("198.51.100.0/24"));
  EXPECT_EQ(t->peers[1].public_key, KeyOf(0x22));
  EXPECT_THAT(Prefixes(t->peers[1]), ElementsAre("192.0.2.1/32", "2001:db8:1::/48"));
  EXPECT_EQ(t->peers[2].public_key, KeyOf(0x33));
  EXPECT_THAT(Prefixes(t->peers[2]), ElementsAre("2001:db8:2::/64", "0.0.0.0/0"));
}

TEST(GenlDeviceDump, NoPeersAndForeignMessages) {
  const std::string name = "wg0";
  const Bytes device = Message(kFamily, {Attr(WGDEVICE_A_IFNAME, name.c_str(), name.size() + 1)});
  const Bytes foreign = Message(kFamily + 1, {Nest(WGDEVICE_A_PEERS, {PeerAttr(0, 1, {})})});
  auto t = ParseDeviceDump({Join(foreign, device), Done()}, kFamily, "wg0");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->peers.empty());
}

TEST(GenlDeviceDump, TruncatedAttributeIsAnError) {
  Bytes m =
      Message(kFamily,
              {Nest(WGDEVICE_A_PEERS, {PeerAttr(0, 0x11, {AllowedIp(AF_INET, "192.0.2.0", 24)})})});
  // Grow the innermost allowed-ip nest's declared length past its parent.
  const std::size_t allowedip_at = NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN /*peers*/ +
                                   NLA_HDRLEN /*peer*/ + NLA_ALIGN(NLA_HDRLEN + 32) +
                                   NLA_ALIGN(NLA_HDRLEN + 8) + NLA_HDRLEN /*allowedips*/;
  std::uint16_t len = 0;
  std::memcpy(&len, m.data() + allowedip_at, 2);
  len = static_cast<std::uint16_t>(len + 8);
  std::memcpy(m.data() + allowedip_at, &len, 2);
  auto t = ParseDeviceDump({m, Done()}, kFamily, "wg0");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().errnum, EBADMSG);
  EXPECT_THAT(t.error().message, HasSubstr("truncated attribute in allowed-ips"));
}

TEST(GenlDeviceDump, TruncatedMessageAndMissingDone) {
  const Bytes m = Message(kFamily, {Nest(WGDEVICE_A_PEERS, {PeerAttr(0, 0x11, {})})});
  const Bytes cut(m.begin(), m.end() - 8);
  EXPECT_THAT(ParseDeviceDump({cut}, kFamily, "wg0").error().message,
              HasSubstr("truncated netlink message"));
  EXPECT_THAT(ParseDeviceDump({m}, kFamily, "wg0").error().message,
              HasSubstr("ends without NLMSG_DONE"));
}

TEST(GenlDeviceDump, BadPeerContents) {
  const PeerKey k = KeyOf(1);
  const Bytes short_key = Message(
      kFamily, {Nest(WGDEVICE_A_PEERS, {Nest(0, {Attr(WGPEER_A_PUBLIC_KEY, k.data(), 16)})})});
  EXPECT_THAT(ParseDeviceDump({short_key, Done()}, kFamily, "wg0").error().message,
              HasSubstr("public key of 16 bytes"));
  const Bytes keyless = Message(
      kFamily,
      {Nest(WGDEVICE_A_PEERS,
            {Nest(0, {Nest(WGPEER_A_ALLOWEDIPS, {AllowedIp(AF_INET, "192.0.2.0", 24)})})})});
  EXPECT_THAT(ParseDeviceDump({keyless, Done()}, kFamily, "wg0").error().message,
              HasSubstr("peer without a public key"));
  const Bytes wide = Message(
      kFamily, {Nest(WGDEVICE_A_PEERS, {PeerAttr(0, 1, {AllowedIp(AF_INET, "192.0.2.0", 33)})})});
  EXPECT_THAT(ParseDeviceDump({wide, Done()}, kFamily, "wg0").error().message,
              HasSubstr("allowed-ip without a valid family"));
}

TEST(GenlDeviceDump, KernelErrorIsReported) {
  auto t = ParseDeviceDump({Done(-ENODEV)}, kFamily, "wg9");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().errnum, ENODEV);
  EXPECT_THAT(t.error().message, HasSubstr("dump the WireGuard device wg9"));
}

TEST(GenlFamilyReply, IdOrTheKernelsError) {
  const std::uint16_t id = 0x2a;
  const std::string name = WG_GENL_NAME;
  auto ok = ParseFamilyReply(
      Message(GENL_ID_CTRL, {Attr(CTRL_ATTR_FAMILY_NAME, name.c_str(), name.size() + 1),
                             Attr(CTRL_ATTR_FAMILY_ID, &id, 2)}));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*ok, id);
  Bytes error = Done(-ENOENT);
  error[4] = NLMSG_ERROR; // nlmsg_type; the payload starts with the errno
  error[5] = 0;
  auto missing = ParseFamilyReply(error);
  ASSERT_FALSE(missing);
  EXPECT_EQ(KindOf(missing.error()), ErrorKind::NotFound);
  EXPECT_THAT(missing.error().message, HasSubstr("no WireGuard module"));
  EXPECT_THAT(ParseFamilyReply(Message(GENL_ID_CTRL, {})).error().message,
              HasSubstr("without CTRL_ATTR_FAMILY_ID"));
}

// The real request: on a host without the module the family is missing, on
// one with it the device is; either way NotFound, with the reason.
TEST(GenlRequest, MissingDeviceOrModuleIsNotFound) {
  auto t = ReadKernelPeers("wgcapnosuch0");
  ASSERT_FALSE(t);
  EXPECT_EQ(KindOf(t.error()), ErrorKind::NotFound) << t.error().message;
  EXPECT_EQ(ReadKernelPeers("").error().kind, ErrorKind::Usage);
  EXPECT_EQ(ReadKernelPeers(std::string(16, 'w')).error().kind, ErrorKind::Usage);
}

} // namespace
} // namespace wgcap::wireguard
