// SPDX-License-Identifier: Apache-2.0
// wgcap's two TC programs on one interface (ingress = IN, egress = OUT), as
// one object that detaches both on every exit path (SPEC 2).
//
// tcx (Linux 6.6+): two bpf_links owned as fds; the kernel detaches them
// when the last fd closes, so even a SIGKILLed wgcap leaves nothing behind.
//
// Auto falls back to clsact only when the kernel lacks tcx: link creation
// fails with EINVAL, EOPNOTSUPP or ENOTSUPP(524) AND a tcx query of the device
// fails the same way (seen on Debian's 6.1: both EINVAL). An EINVAL while the
// query works is about the program, and is reported; so are EPERM and ENODEV.
//
// clsact + cls_bpf (older kernels, or forced): direct-action filters with
// priority kPriority and handle (PID << 8 | sequence), so a later run can
// tell wgcap's filters apart and whether their owner still runs. The qdisc is
// deleted on Detach only if this object created it and no filter at all is
// left on it; a qdisc wgcap did not create is never deleted. An instance that
// found the qdisc there leaves it, even when wgcap created it: an empty
// clsact qdisc can remain after two overlapping runs.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/unique_fd.hpp"
#include "capture/bpf/tc_netlink.hpp"
#include "wgcap/result.hpp"

namespace wgcap {

// Auto: tcx where the kernel has it, else clsact.
enum class AttachMode { Auto, Tcx, Clsact };

class TcAttachment {
public:
  // The cls_bpf priority of every wgcap filter: rare enough not to collide
  // with filters people add by hand (tc's default priorities start at 49152
  // and count down; hand-written ones are usually small), and it reads as "code".
  // Filters run in priority order, so one with a lower number that ends
  // classification (a drop, a classid) hides those packets from wgcap.
  static constexpr std::uint16_t kPriority = 0xc0de;

  // Attaches ingress_fd on ingress and egress_fd on egress of ifindex (in
  // the calling thread's network namespace). Both are SCHED_CLS programs
  // that return TC_ACT_UNSPEC (tcx: TCX_NEXT) to leave the packet's fate alone.
  // A hook whose fd is -1 is left untouched (-Q in|out), so only the other
  // one costs anything; at least one fd must be given.
  // On any failure nothing stays attached. Errors name the operation, the
  // interface, the errno text and a hint (EPERM: the capabilities needed).
  static Result<std::unique_ptr<TcAttachment>> Attach(int ifindex, int ingress_fd, int egress_fd,
                                                      AttachMode mode = AttachMode::Auto);

  // Removes cls_bpf filters left on ifindex by a wgcap that is no longer
  // running: priority kPriority, and the PID in the handle is gone, or is a
  // process (PID reused, or a zombie) that holds no fd of the filter's
  // program. Filters of running instances, other filters and qdiscs (we
  // cannot know who created one) are left alone. Returns how many filters
  // were removed. Limits: instances must share the PID namespace as well as
  // the network namespace; where /proc/PID/fdinfo is unreadable (no ptrace
  // access) a running PID counts as the owner, so such a leftover stays.
  static Result<int> RemoveLeftovers(int ifindex);

  ~TcAttachment();
  TcAttachment(const TcAttachment&) = delete;
  TcAttachment& operator=(const TcAttachment&) = delete;

  // Removes both programs (best effort: an interface that vanished took them
  // with it). Idempotent; the destructor calls it.
  void Detach() noexcept;

  const char* kind() const noexcept { return kind_ == Kind::Tcx ? "tcx" : "tc"; }
  bool attached() const noexcept { return attached_; }
  int ifindex() const noexcept { return ifindex_; }
  // clsact: the handle of our two filters; tcx: 0.
  std::uint32_t filter_handle() const noexcept { return handle_; }
  // clsact: whether this object created the qdisc (and may delete it).
  bool created_qdisc() const noexcept { return created_qdisc_; }
  // Auto mode on a kernel without tcx: why clsact was used. Else empty.
  const std::string& fallback_reason() const noexcept { return fallback_reason_; }

private:
  enum class Kind { Tcx, Clsact };
  explicit TcAttachment(int ifindex) : ifindex_(ifindex) {}
  Status AttachTcx(int ingress_fd, int egress_fd, bool& kernel_lacks_tcx);
  Status AttachClsact(int ingress_fd, int egress_fd);
  Status AddFilterPair(int ingress_fd, int egress_fd);
  void DetachTcx() noexcept;
  void DetachClsact() noexcept;

  int ifindex_;
  Kind kind_ = Kind::Tcx;
  bool attached_ = false;
  std::string fallback_reason_;
  // tcx
  std::array<UniqueFd, 2> links_;
  // clsact. The socket keeps the namespace of Attach for Detach; the program
  // fds are our own duplicates, held while the filters exist, which is how
  // RemoveLeftovers recognises a running owner.
  std::optional<tc::RtNetlink> netlink_;
  std::array<UniqueFd, 2> programs_;
  std::array<bool, 2> filter_added_{};
  std::uint32_t handle_ = 0;
  bool created_qdisc_ = false;
};

} // namespace wgcap
