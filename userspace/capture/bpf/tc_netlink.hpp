// SPDX-License-Identifier: Apache-2.0
// The few rtnetlink requests the clsact path needs: create and delete the
// clsact qdisc, add and delete one cls_bpf filter, dump the filters of a
// hook. Our own code rather than libbpf's bpf_tc_*: libbpf prints the
// kernel's extended-ack text to stderr on every refused request, including
// the expected EEXIST of a clsact qdisc that is already there, and it cannot
// dump filters. Here the kernel's text goes into the returned Error instead.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "wgcap/result.hpp"

namespace wgcap::tc {

enum class Hook { Ingress, Egress };

// tcm_parent of the clsact hook: TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS/EGRESS).
std::uint32_t HookParent(Hook hook) noexcept;
const char* HookName(Hook hook) noexcept;

// One entry of a filter dump. A classifier instance (one priority and
// protocol) also appears as an entry of its own with handle 0.
struct FilterEntry {
  std::uint32_t handle = 0;
  std::uint16_t priority = 0;
  std::uint16_t protocol = 0; // host byte order (ETH_P_ALL = 3)
  std::uint32_t chain = 0;
  std::string kind;              // "bpf", "u32", ...
  std::uint32_t bpf_prog_id = 0; // TCA_BPF_ID, for kind "bpf"
};

// A NETLINK_ROUTE socket. It belongs to the network namespace of the thread
// that opened it for its whole life, so an owner can tear down from any thread.
class RtNetlink {
public:
  static Result<RtNetlink> Open();

  // EEXIST (errnum) when the device already has a clsact (or ingress) qdisc.
  Status AddClsact(int ifindex);
  Status DeleteClsact(int ifindex);
  // A direct-action cls_bpf filter, protocol ETH_P_ALL, created exclusively:
  // EEXIST when (hook, priority, handle) is taken.
  Status AddBpfFilter(int ifindex, Hook hook, std::uint16_t priority, std::uint32_t handle,
                      int prog_fd, const std::string& name);
  Status DeleteFilter(int ifindex, Hook hook, std::uint16_t priority, std::uint16_t protocol,
                      std::uint32_t handle);
  // Every filter on the hook, all chains. Empty when there is no clsact qdisc.
  Result<std::vector<FilterEntry>> DumpFilters(int ifindex, Hook hook);

private:
  explicit RtNetlink(UniqueFd fd) : fd_(std::move(fd)) {}
  Status Transact(nlmsghdr* request, const char* operation);
  Result<std::vector<FilterEntry>> DumpOnce(nlmsghdr* request, bool& interrupted);

  UniqueFd fd_;
  std::uint32_t seq_ = 0;
};

} // namespace wgcap::tc
