// SPDX-License-Identifier: Apache-2.0
// What `-i` names: one interface, a comma-separated list (`-i wg0,wg1`), or
// `all-wg`, every WireGuard link of the namespace (SPEC 10). Each name is
// looked up once, here, before anything is attached: a missing one is an
// error naming it and nothing is left behind.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wgcap/result.hpp"

namespace wgcap::cli {

// `-i all-wg`: the word that stands for every WireGuard link.
inline constexpr std::string_view kAllWireGuard = "all-wg";

struct SelectedInterface {
  std::string name;
  int ifindex = 0;
};

// The names of `-i TEXT`, in order; a usage error for an empty name
// ("wg0,,wg1", a trailing comma), a name given twice, or more names than a
// session counts (kMaxKernelSources). Syntax only: nothing is looked up.
Result<std::vector<std::string>> SplitInterfaceList(std::string_view text);

// The interfaces to capture, each resolved once. `all-wg` expands (in
// place, by index) to the WireGuard links of this network namespace (kind
// `wireguard`, or a TUN device with a wireguard-go socket in `uapi_dir`),
// an error when there is none; a link also named elsewhere in the list is
// captured once.
Result<std::vector<SelectedInterface>>
SelectInterfaces(std::string_view text, const std::string& uapi_dir = "/var/run/wireguard");

// "wg0" or "wg0, wg1 and wg2", for messages.
std::string JoinNames(const std::vector<SelectedInterface>& interfaces);

} // namespace wgcap::cli
