// SPDX-License-Identifier: Apache-2.0
#include "cli/interface_list.hpp"

#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/unique_fd.hpp"
#include "wireguard/peer_sources.hpp"

namespace wgcap::cli {
namespace {

struct DumpRequest {
  nlmsghdr header;
  ifinfomsg info;
};

std::string AttrString(const rtattr* attr) {
  const auto* text = static_cast<const char*>(RTA_DATA(attr));
  return std::string(text, strnlen(text, RTA_PAYLOAD(attr)));
}

// IFLA_INFO_KIND inside IFLA_LINKINFO.
std::string LinkKind(const rtattr* linkinfo) {
  int left = static_cast<int>(RTA_PAYLOAD(linkinfo));
  for (const auto* a = static_cast<const rtattr*>(RTA_DATA(linkinfo)); RTA_OK(a, left);
       a = RTA_NEXT(a, left)) {
    if (a->rta_type == IFLA_INFO_KIND) {
      return AttrString(a);
    }
  }
  return {};
}

InterfaceInfo ParseLink(const nlmsghdr* h) {
  const auto* info = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  InterfaceInfo i;
  i.index = info->ifi_index;
  i.flags = info->ifi_flags;
  int left = static_cast<int>(IFLA_PAYLOAD(h));
  for (const rtattr* a = IFLA_RTA(info); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    if (a->rta_type == IFLA_IFNAME) {
      i.name = AttrString(a);
    } else if ((a->rta_type & NLA_TYPE_MASK) == IFLA_LINKINFO) {
      i.kind = LinkKind(a);
    }
  }
  return i;
}

// Reads the dump's replies until NLMSG_DONE.
Status ReadDump(int fd, std::uint32_t seq, std::vector<InterfaceInfo>& out) {
  alignas(nlmsghdr) static thread_local unsigned char buf[65536];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoError("rtnetlink: receive the link dump", errno);
    }
    int left = static_cast<int>(n);
    for (const auto* h = reinterpret_cast<const nlmsghdr*>(buf); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq) {
        continue;
      }
      if (h->nlmsg_type == NLMSG_DONE) {
        return {};
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        return ErrnoError("rtnetlink: dump links", -err->error);
      }
      if (h->nlmsg_type == RTM_NEWLINK) {
        out.push_back(ParseLink(h));
      }
    }
  }
}

bool IsSocket(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// libpcap's figure of merit, lower first.
int Rank(const InterfaceInfo& i) {
  int rank = 0;
  rank |= (i.flags & IFF_RUNNING) ? 0 : 4;
  rank |= (i.flags & IFF_UP) ? 0 : 2;
  rank |= (i.flags & IFF_LOOPBACK) ? 1 : 0;
  return rank;
}

// libpcap's connection status: the driver's link state (ETHTOOL_GLINK, no
// privilege needed); nothing where the driver cannot tell or for loopback.
const char* LinkStatus(int sock, const InterfaceInfo& i) {
  if ((i.flags & IFF_LOOPBACK) || sock < 0 || i.name.size() >= IFNAMSIZ) {
    return nullptr;
  }
  ethtool_value value{};
  value.cmd = ETHTOOL_GLINK;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, i.name.c_str(), i.name.size());
  ifr.ifr_data = reinterpret_cast<char*>(&value);
  if (ioctl(sock, SIOCETHTOOL, &ifr) != 0) {
    return nullptr;
  }
  return value.data != 0 ? "Connected" : "Disconnected";
}

// "Up, Running, Loopback", or "none"; then the connection status.
std::string FlagsText(const InterfaceInfo& i, const char* status) {
  std::string text;
  for (const auto& [flag, word] : {std::pair{IFF_UP, "Up"}, std::pair{IFF_RUNNING, "Running"},
                                   std::pair{IFF_LOOPBACK, "Loopback"}}) {
    if (i.flags & static_cast<unsigned>(flag)) {
      text += (text.empty() ? "" : ", ") + std::string(word);
    }
  }
  if (text.empty()) {
    text = "none";
  }
  return status != nullptr ? text + ", " + status : text;
}

// " (WireGuard, 2 peers)", " (WireGuard)" when the peers were not read.
std::string WireGuardMark(const InterfaceInfo& i) {
  if (!i.wireguard) {
    return {};
  }
  if (i.peers < 0) {
    return " (WireGuard)";
  }
  return " (WireGuard, " + std::to_string(i.peers) + (i.peers == 1 ? " peer)" : " peers)");
}

} // namespace

Result<std::vector<InterfaceInfo>> ListInterfaces(const std::string& uapi_dir) {
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) {
    return ErrnoError("rtnetlink socket", errno);
  }
  DumpRequest request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = 1;
  request.info.ifi_family = AF_UNSPEC;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd.get(), &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof kernel) < 0) {
    return ErrnoError("rtnetlink: request the link dump", errno);
  }
  std::vector<InterfaceInfo> links;
  if (auto read = ReadDump(fd.get(), request.header.nlmsg_seq, links); !read) {
    return read.error();
  }
  for (InterfaceInfo& i : links) {
    const bool go = i.kind == "tun" && IsSocket(uapi_dir + "/" + i.name + ".sock");
    i.wireguard = i.kind == "wireguard" || go;
    if (i.wireguard) {
      // The kind says which side holds the peers; a failure (no root) only
      // leaves the count out.
      auto table =
          go ? wireguard::ReadUapiPeers(i.name, uapi_dir) : wireguard::ReadKernelPeers(i.name);
      i.peers = table ? static_cast<int>(table->peers.size()) : -1;
    }
  }
  std::sort(links.begin(), links.end(),
            [](const InterfaceInfo& a, const InterfaceInfo& b) { return a.index < b.index; });
  return links;
}

std::string FormatInterfaceList(std::vector<InterfaceInfo> interfaces) {
  std::stable_sort(
      interfaces.begin(), interfaces.end(),
      [](const InterfaceInfo& a, const InterfaceInfo& b) { return Rank(a) < Rank(b); });
  const UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  std::string out;
  int number = 0;
  for (const InterfaceInfo& i : interfaces) {
    out += std::to_string(++number) + "." + i.name + WireGuardMark(i) + " [" +
           FlagsText(i, LinkStatus(sock.get(), i)) + "]\n";
  }
  return out;
}

int RunListInterfaces() {
  auto interfaces = ListInterfaces();
  if (!interfaces) {
    std::fprintf(stderr, "wgcap: %s\n", interfaces.error().message.c_str());
    return 1;
  }
  std::fputs(FormatInterfaceList(std::move(*interfaces)).c_str(), stdout);
  return 0;
}

} // namespace wgcap::cli
