// SPDX-License-Identifier: Apache-2.0
// The requests behind ReadKernelPeers: CTRL_CMD_GETFAMILY, then a
// WG_CMD_GET_DEVICE dump; the replies go to the parsers in genl_peers.cpp.
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "base/unique_fd.hpp"
#include "wireguard/peer_sources.hpp"

namespace wgcap::wireguard {
namespace {

constexpr std::size_t kReceiveSize = 65536; // a dump datagram is at most 32 KiB

// header, genlmsghdr, one string attribute: all these requests need.
struct Request {
  alignas(nlmsghdr) std::array<std::uint8_t, 64> bytes{};
  std::size_t size = 0;
};

Request BuildRequest(std::uint16_t type, std::uint16_t flags, std::uint32_t seq,
                     std::uint8_t command, std::uint16_t attr_type, const std::string& text) {
  Request r;
  const std::size_t attr_len = NLA_HDRLEN + text.size() + 1;
  r.size = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(attr_len);
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(r.size);
  h.nlmsg_type = type;
  h.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
  h.nlmsg_seq = seq;
  genlmsghdr g{};
  g.cmd = command;
  g.version = 1;
  nlattr a{};
  a.nla_len = static_cast<std::uint16_t>(attr_len);
  a.nla_type = attr_type;
  std::memcpy(r.bytes.data(), &h, sizeof h);
  std::memcpy(r.bytes.data() + NLMSG_HDRLEN, &g, sizeof g);
  std::memcpy(r.bytes.data() + NLMSG_HDRLEN + GENL_HDRLEN, &a, sizeof a);
  std::memcpy(r.bytes.data() + NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN, text.c_str(),
              text.size() + 1);
  return r;
}

Status Send(int fd, const Request& r, const char* operation) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, r.bytes.data(), r.size, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) <
      0) {
    return ErrnoError(operation, errno);
  }
  return {};
}

Result<std::vector<std::uint8_t>> Receive(int fd, const char* operation) {
  std::vector<std::uint8_t> buf(kReceiveSize);
  for (;;) {
    const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_TRUNC);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoError(operation, errno);
    }
    if (static_cast<std::size_t>(n) > buf.size()) {
      return ErrnoError(operation, EMSGSIZE, "netlink reply truncated");
    }
    buf.resize(static_cast<std::size_t>(n));
    return buf;
  }
}

// True when the datagram holds the dump's end (NLMSG_DONE or an error).
bool EndsDump(const std::vector<std::uint8_t>& datagram) {
  std::size_t at = 0;
  while (at + NLMSG_HDRLEN <= datagram.size()) {
    nlmsghdr h{};
    std::memcpy(&h, datagram.data() + at, sizeof h);
    if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR || h.nlmsg_len < NLMSG_HDRLEN) {
      return true; // a malformed one too: the parser reports it
    }
    at += NLMSG_ALIGN(h.nlmsg_len);
  }
  return false;
}

} // namespace

Result<PeerTable> ReadKernelPeers(const std::string& interface) {
  if (interface.empty() || interface.size() >= IFNAMSIZ) {
    return Error{"not an interface name: \"" + interface + "\"", 0, ErrorKind::Usage};
  }
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
  if (!fd.valid()) {
    return ErrnoError("generic netlink socket", errno);
  }
  const timeval timeout{2, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const auto family_request =
      BuildRequest(GENL_ID_CTRL, 0, 1, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
  if (auto s = Send(fd.get(), family_request, "generic netlink: ask for \"wireguard\""); !s) {
    return s.error();
  }
  auto family_reply = Receive(fd.get(), "generic netlink: receive the family");
  if (!family_reply) {
    return family_reply.error();
  }
  auto family = ParseFamilyReply(*family_reply);
  if (!family) {
    return family.error();
  }
  const auto dump_request =
      BuildRequest(*family, NLM_F_DUMP, 2, WG_CMD_GET_DEVICE, WGDEVICE_A_IFNAME, interface);
  if (auto s = Send(fd.get(), dump_request, "generic netlink: dump the WireGuard device"); !s) {
    return s.error();
  }
  std::vector<std::vector<std::uint8_t>> datagrams;
  do {
    auto datagram = Receive(fd.get(), "generic netlink: receive the WireGuard device");
    if (!datagram) {
      return datagram.error();
    }
    datagrams.push_back(std::move(*datagram));
  } while (!EndsDump(datagrams.back()));
  return ParseDeviceDump(datagrams, *family, interface);
}

} // namespace wgcap::wireguard
