// SPDX-License-Identifier: Apache-2.0
// Kernel WireGuard's peers over generic netlink: resolve the "wireguard"
// family, dump WG_CMD_GET_DEVICE for one interface, walk the nested
// attributes (device → peers → peer → allowed-ips → allowed-ip). Every
// length is checked against what the datagram holds: a reply cut short is
// an error, never a read past its end.
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/unique_fd.hpp"
#include "wireguard/peer_sources.hpp"

namespace wgcap::wireguard {
namespace {

using Bytes = std::span<const std::uint8_t>;

Error Malformed(const std::string& what) {
  return ErrnoError("parse the WireGuard netlink reply", EBADMSG, what);
}

// Calls fn(type, payload) for each attribute in `bytes`.
template <typename Fn> Status ForEachAttr(Bytes bytes, const char* where, Fn&& fn) {
  while (bytes.size() >= NLA_HDRLEN) {
    nlattr attr{};
    std::memcpy(&attr, bytes.data(), sizeof attr);
    if (attr.nla_len < NLA_HDRLEN || attr.nla_len > bytes.size()) {
      return Malformed(std::string("truncated attribute in ") + where);
    }
    if (auto s =
            fn(attr.nla_type & NLA_TYPE_MASK, bytes.subspan(NLA_HDRLEN, attr.nla_len - NLA_HDRLEN));
        !s) {
      return s;
    }
    bytes = bytes.subspan(std::min<std::size_t>(NLA_ALIGN(attr.nla_len), bytes.size()));
  }
  if (!bytes.empty()) {
    return Malformed(std::string("truncated attribute header in ") + where);
  }
  return {};
}

Status ParseAllowedIp(Bytes bytes, std::vector<IpPrefix>& out) {
  std::uint16_t family = 0;
  Bytes address;
  int cidr = -1;
  auto s = ForEachAttr(bytes, "allowed-ip", [&](unsigned type, Bytes p) -> Status {
    if (type == WGALLOWEDIP_A_FAMILY && p.size() >= 2) {
      std::memcpy(&family, p.data(), 2);
    } else if (type == WGALLOWEDIP_A_IPADDR) {
      address = p;
    } else if (type == WGALLOWEDIP_A_CIDR_MASK && !p.empty()) {
      cidr = p[0];
    }
    return {};
  });
  if (!s) {
    return s;
  }
  const std::size_t size = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
  if (size == 0 || address.size() < size || cidr < 0 || cidr > static_cast<int>(size * 8)) {
    return Malformed("allowed-ip without a valid family, address and mask");
  }
  IpPrefix prefix;
  prefix.address.family = size == 4 ? 4 : 6;
  std::copy_n(address.begin(), size, prefix.address.bytes.begin());
  prefix.length = static_cast<std::uint8_t>(cidr);
  for (unsigned bit = prefix.length; bit < size * 8; ++bit) {
    prefix.address.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  out.push_back(prefix);
  return {};
}

Status ParsePeer(Bytes bytes, PeerTable& table) {
  std::optional<PeerKey> key;
  std::vector<IpPrefix> ips;
  auto s = ForEachAttr(bytes, "peer", [&](unsigned type, Bytes p) -> Status {
    if (type == WGPEER_A_PUBLIC_KEY) {
      if (p.size() != WG_KEY_LEN) {
        return Malformed("peer public key of " + std::to_string(p.size()) + " bytes");
      }
      key.emplace();
      std::copy(p.begin(), p.end(), key->begin());
    } else if (type == WGPEER_A_ALLOWEDIPS) {
      return ForEachAttr(p, "allowed-ips",
                         [&](unsigned, Bytes ip) { return ParseAllowedIp(ip, ips); });
    }
    return {};
  });
  if (!s) {
    return s;
  }
  if (!key) {
    return Malformed("peer without a public key");
  }
  // A peer too large for one message continues in the next, key repeated.
  if (!table.peers.empty() && table.peers.back().public_key == *key) {
    auto& into = table.peers.back().allowed_ips;
    into.insert(into.end(), ips.begin(), ips.end());
  } else {
    table.peers.push_back(Peer{*key, std::move(ips)});
  }
  return {};
}

Status ParseDevice(Bytes payload, PeerTable& table) {
  return ForEachAttr(payload, "device", [&](unsigned type, Bytes p) -> Status {
    if (type != WGDEVICE_A_PEERS) {
      return {};
    }
    return ForEachAttr(p, "peer list",
                       [&](unsigned, Bytes peer) { return ParsePeer(peer, table); });
  });
}

// Calls fn(header, payload) per message of a datagram; fn returns true to stop.
template <typename Fn> Status ForEachMessage(Bytes datagram, Fn&& fn) {
  while (datagram.size() >= NLMSG_HDRLEN) {
    nlmsghdr h{};
    std::memcpy(&h, datagram.data(), sizeof h);
    if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > datagram.size()) {
      return Malformed("truncated netlink message");
    }
    if (auto s = fn(h, datagram.subspan(NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN)); !s) {
      return s;
    }
    datagram = datagram.subspan(std::min<std::size_t>(NLMSG_ALIGN(h.nlmsg_len), datagram.size()));
  }
  return {};
}

// The errno of an NLMSG_ERROR or a dump's NLMSG_DONE; 0 if none.
int MessageErrno(Bytes payload) {
  int error = 0;
  if (payload.size() >= sizeof error) {
    std::memcpy(&error, payload.data(), sizeof error);
  }
  if (error >= 0) {
    return 0;
  }
  // Errnos stop at 4095 (MAX_ERRNO); anything below is a broken message, and
  // negating INT_MIN would overflow.
  return error >= -4095 ? -error : EBADMSG;
}

} // namespace

Result<std::uint16_t> ParseFamilyReply(Bytes datagram) {
  std::uint16_t id = 0;
  int errnum = 0;
  auto s = ForEachMessage(datagram, [&](const nlmsghdr& h, Bytes payload) -> Status {
    if (h.nlmsg_type == NLMSG_ERROR) {
      errnum = MessageErrno(payload);
    } else if (h.nlmsg_type == GENL_ID_CTRL && payload.size() >= GENL_HDRLEN) {
      return ForEachAttr(payload.subspan(GENL_HDRLEN), "family", [&](unsigned type, Bytes p) {
        if (type == CTRL_ATTR_FAMILY_ID && p.size() >= 2) {
          std::memcpy(&id, p.data(), 2);
        }
        return Status{};
      });
    }
    return {};
  });
  if (!s) {
    return s.error();
  }
  if (errnum != 0) {
    return ErrnoError("resolve the generic netlink family \"wireguard\"", errnum,
                      errnum == ENOENT ? "the kernel has no WireGuard module loaded" : "");
  }
  if (id == 0) {
    return Malformed("family reply without CTRL_ATTR_FAMILY_ID");
  }
  return id;
}

Result<PeerTable> ParseDeviceDump(const std::vector<std::vector<std::uint8_t>>& datagrams,
                                  std::uint16_t family, const std::string& interface) {
  PeerTable table;
  table.interface = interface;
  bool done = false;
  int errnum = 0;
  for (const auto& datagram : datagrams) {
    auto s = ForEachMessage(datagram, [&](const nlmsghdr& h, Bytes payload) -> Status {
      if (done || errnum != 0) {
        return {};
      }
      if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR) {
        done = true;
        errnum = MessageErrno(payload);
      } else if (h.nlmsg_type == family) {
        if (payload.size() < GENL_HDRLEN) {
          return Malformed("message shorter than its generic netlink header");
        }
        return ParseDevice(payload.subspan(GENL_HDRLEN), table);
      }
      return {};
    });
    if (!s) {
      return s.error();
    }
  }
  if (errnum != 0) {
    return ErrnoError("dump the WireGuard device " + interface, errnum);
  }
  if (!done) {
    return Malformed("dump of " + interface + " ends without NLMSG_DONE");
  }
  return table;
}

} // namespace wgcap::wireguard
