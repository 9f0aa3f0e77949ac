// SPDX-License-Identifier: Apache-2.0
// -D / --list-interfaces: the interfaces of this network namespace, numbered
// in tcpdump's layout (`1.wg0 (WireGuard, 2 peers) [Up, Running, Connected]`),
// from one rtnetlink RTM_GETLINK dump. Needs no privileges; without them a
// WireGuard link shows no peer count (`(WireGuard)`).
#pragma once

#include <string>
#include <vector>

#include "wgcap/result.hpp"

namespace wgcap::cli {

struct InterfaceInfo {
  int index = 0;
  std::string name;
  unsigned flags = 0; // IFF_UP, IFF_RUNNING, IFF_LOOPBACK, ...
  std::string kind;   // IFLA_INFO_KIND: "wireguard", "tun", "veth", ... or ""
  bool wireguard = false;
  int peers = -1; // a WireGuard link's peer count; -1 when unread (not root)
};

// Every link in the calling thread's network namespace, by index. A link is
// WireGuard when its kind is "wireguard" (the kernel module), or when it is
// a TUN device with a wireguard-go control socket `uapi_dir/NAME.sock`
// (that directory is shared by all namespaces: a same-named tunnel in another
// namespace marks this one too). A WireGuard link's peers are counted where
// they can be read (the UAPI socket or generic netlink; both need root).
Result<std::vector<InterfaceInfo>>
ListInterfaces(const std::string& uapi_dir = "/var/run/wireguard");

// Numbered lines in libpcap's order (running before not running, up before
// down, loopback after the rest; by index within each group) and tcpdump's
// words: "Up, Running, Loopback" or "none", then the driver's link state
// (Connected, Disconnected) where it reports one.
std::string FormatInterfaceList(std::vector<InterfaceInfo> interfaces);

// `wgcap -D`: prints the list; the exit code.
int RunListInterfaces();

} // namespace wgcap::cli
