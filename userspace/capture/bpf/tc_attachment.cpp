// SPDX-License-Identifier: Apache-2.0
#include "capture/bpf/tc_attachment.hpp"

#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <string>

namespace wgcap {
namespace {

// The 6.1 UAPI headers installed here predate tcx (Linux 6.6).
constexpr auto kTcxIngress = static_cast<bpf_attach_type>(46); // BPF_TCX_INGRESS
constexpr auto kTcxEgress = static_cast<bpf_attach_type>(47);  // BPF_TCX_EGRESS
constexpr int kEnotsupp = 524; // the kernel-internal ENOTSUPP, which leaks out of bpf()

constexpr std::array<tc::Hook, 2> kHooks = {tc::Hook::Ingress, tc::Hook::Egress};

// Per-process part of the filter handle: two attachments of one process
// (another interface, or the same one) get distinct handles.
std::atomic<std::uint32_t> g_handle_sequence{0};

std::string InterfaceLabel(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr) {
    return std::string(name) + " (index " + std::to_string(ifindex) + ")";
  }
  return "interface index " + std::to_string(ifindex);
}

std::string Hint(int errnum, int ifindex) {
  switch (errnum) {
  case EPERM:
  case EACCES:
    return "needs CAP_NET_ADMIN (and CAP_BPF)";
  case ENODEV:
  case ENXIO:
    return "no interface with index " + std::to_string(ifindex) + " in this network namespace";
  case EINVAL:
    return "is it a SCHED_CLS program?";
  default:
    return {};
  }
}

// "context: inner message; hint". Inner errors of tc_netlink already carry
// the kernel's own text.
Error Annotate(const std::string& context, Error inner, int ifindex) {
  const std::string hint = Hint(inner.errnum, ifindex);
  inner.message = context + ": " + inner.message;
  if (!hint.empty()) {
    inner.message += "; " + hint;
  }
  return inner;
}

bool MeansNoTcx(int errnum) {
  // Before 6.6 BPF_LINK_CREATE and BPF_PROG_QUERY know no attach type 46/47
  // and say EINVAL (before 5.7 there is no BPF_LINK_CREATE: EINVAL too); the
  // others are what a kernel says for a feature it was built without.
  return errnum == EINVAL || errnum == EOPNOTSUPP || errnum == kEnotsupp;
}

// A kernel with tcx answers a tcx query on an existing device (count 0 or
// more); one without answers EINVAL. This tells "kernel lacks tcx" apart
// from an EINVAL of link creation about the program itself. Without
// CAP_NET_ADMIN the query says EPERM on any kernel and cannot tell: taken as
// no tcx, so Auto goes on to clsact, whose error names the capability (on
// 6.1 the link's EINVAL would otherwise blame the program).
bool KernelHasTcx(int ifindex) {
  __u32 count = 0;
  if (bpf_prog_query(ifindex, kTcxIngress, 0, nullptr, nullptr, &count) == 0) {
    return true;
  }
  return !MeansNoTcx(errno) && errno != EPERM && errno != EACCES;
}

// Whether /proc/PID/fdinfo lists an fd (program or link) of program prog_id.
// nullopt when it cannot be read (no ptrace access): we cannot tell.
std::optional<bool> HoldsProgram(pid_t pid, std::uint32_t prog_id) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  if (!d) {
    return errno == ENOENT ? std::optional<bool>(false) : std::nullopt;
  }
  const std::string wanted = "prog_id:\t" + std::to_string(prog_id);
  while (const dirent* entry = readdir(d.get())) {
    std::ifstream info(dir + "/" + entry->d_name);
    for (std::string line; std::getline(info, line);) {
      if (line == wanted) {
        return true;
      }
    }
  }
  return false;
}

// The owner of a filter whose handle names pid still runs: the process
// exists and holds the filter's program (a running wgcap always does, see
// programs_). A zombie or an unrelated process that got the PID does not.
bool OwnerRunning(pid_t pid, std::uint32_t prog_id) {
  if (kill(pid, 0) != 0 && errno == ESRCH) {
    return false;
  }
  if (prog_id == 0) {
    return true; // no program id to check: keep it
  }
  return HoldsProgram(pid, prog_id).value_or(true);
}

} // namespace

Result<std::unique_ptr<TcAttachment>> TcAttachment::Attach(int ifindex, int ingress_fd,
                                                           int egress_fd, AttachMode mode) {
  if (ingress_fd < 0 && egress_fd < 0) {
    return ErrnoError("attach tc programs on " + InterfaceLabel(ifindex), EBADF, "no program fd");
  }
  std::unique_ptr<TcAttachment> a(new TcAttachment(ifindex));
  if (mode != AttachMode::Clsact) {
    bool kernel_lacks_tcx = false;
    Status tcx = a->AttachTcx(ingress_fd, egress_fd, kernel_lacks_tcx);
    if (tcx.ok()) {
      return a;
    }
    if (mode == AttachMode::Tcx || !kernel_lacks_tcx) {
      return tcx.error();
    }
    a->fallback_reason_ = "kernel lacks tcx (Linux 6.6+), using clsact";
  }
  Status clsact = a->AttachClsact(ingress_fd, egress_fd);
  if (!clsact.ok()) {
    return clsact.error(); // a's destructor undoes what was done
  }
  return a;
}

TcAttachment::~TcAttachment() {
  Detach();
}

void TcAttachment::Detach() noexcept {
  DetachTcx();
  DetachClsact();
  attached_ = false;
}

Status TcAttachment::AttachTcx(int ingress_fd, int egress_fd, bool& kernel_lacks_tcx) {
  kind_ = Kind::Tcx;
  const int prog_fds[2] = {ingress_fd, egress_fd};
  const bpf_attach_type types[2] = {kTcxIngress, kTcxEgress};
  for (int i = 0; i < 2; ++i) {
    if (prog_fds[i] < 0) {
      continue; // -Q: this hook stays untouched
    }
    const int fd = bpf_link_create(prog_fds[i], ifindex_, types[i], nullptr);
    if (fd < 0) {
      const int err = -fd;
      DetachTcx(); // the ingress link, if egress failed
      const std::string context =
          std::string("attach tcx ") + tc::HookName(kHooks[i]) + " on " + InterfaceLabel(ifindex_);
      kernel_lacks_tcx = MeansNoTcx(err) && !KernelHasTcx(ifindex_);
      if (kernel_lacks_tcx) {
        return ErrnoError(context, err, "kernel lacks tcx (Linux 6.6+)");
      }
      if (err == EEXIST) {
        return ErrnoError(context, err, "this program is attached there already");
      }
      return Annotate(context, ErrnoError("BPF_LINK_CREATE", err), ifindex_);
    }
    links_[i].Reset(fd);
  }
  attached_ = true;
  return {};
}

Status TcAttachment::AttachClsact(int ingress_fd, int egress_fd) {
  kind_ = Kind::Clsact;
  const std::string context = "attach tc on " + InterfaceLabel(ifindex_);
  auto netlink = tc::RtNetlink::Open();
  if (!netlink.ok()) {
    return Annotate(context, netlink.error(), ifindex_);
  }
  netlink_.emplace(std::move(*netlink));
  // EEXIST: a clsact qdisc is there already (someone else's, or another
  // wgcap's); use it, and never delete it.
  Status qdisc = netlink_->AddClsact(ifindex_);
  if (qdisc.ok()) {
    created_qdisc_ = true;
  } else if (qdisc.error().errnum != EEXIST) {
    return Annotate(context, qdisc.error(), ifindex_);
  }
  const int prog_fds[2] = {ingress_fd, egress_fd};
  for (int i = 0; i < 2; ++i) {
    if (prog_fds[i] < 0) {
      continue; // -Q: no filter on this hook
    }
    programs_[i].Reset(fcntl(prog_fds[i], F_DUPFD_CLOEXEC, 0));
    if (!programs_[i].valid()) {
      return ErrnoError(context + ": duplicate program fd", errno);
    }
  }
  Status filters = AddFilterPair(programs_[0].valid() ? programs_[0].get() : -1,
                                 programs_[1].valid() ? programs_[1].get() : -1);
  if (!filters.ok()) {
    return Annotate(context, filters.error(), ifindex_);
  }
  attached_ = true;
  return {};
}

Status TcAttachment::AddFilterPair(int ingress_fd, int egress_fd) {
  // PIDs stay below 2^22 (PID_MAX_LIMIT), so PID << 8 fits in the 32-bit handle.
  const auto pid = static_cast<std::uint32_t>(getpid());
  const int prog_fds[2] = {ingress_fd, egress_fd};
  const char* names[2] = {"wgcap_ingress", "wgcap_egress"};
  // A handle is taken (EEXIST) only by an earlier attachment of this process
  // that is still there: try the next sequence number.
  for (int attempt = 0; attempt < 256; ++attempt) {
    handle_ = pid << 8 | (g_handle_sequence.fetch_add(1) & 0xff);
    bool taken = false;
    for (int i = 0; i < 2 && !taken; ++i) {
      if (prog_fds[i] < 0) {
        continue;
      }
      Status s =
          netlink_->AddBpfFilter(ifindex_, kHooks[i], kPriority, handle_, prog_fds[i], names[i]);
      if (!s.ok()) {
        if (s.error().errnum != EEXIST) {
          return s;
        }
        taken = true;
        if (filter_added_[0]) {
          (void)netlink_->DeleteFilter(ifindex_, kHooks[0], kPriority, ETH_P_ALL, handle_);
          filter_added_[0] = false;
        }
      } else {
        filter_added_[i] = true;
      }
    }
    if (!taken) {
      return {};
    }
  }
  handle_ = 0;
  return ErrnoError("add bpf filter", EEXIST, "every handle of this process is in use");
}

void TcAttachment::DetachTcx() noexcept {
  for (UniqueFd& link : links_) {
    if (link.valid()) {
      // Detach explicitly: a link fd someone else obtained (bpftool, by id)
      // would otherwise keep the program attached.
      (void)bpf_link_detach(link.get());
      link.Reset();
    }
  }
}

void TcAttachment::DetachClsact() noexcept {
  if (!netlink_) {
    return;
  }
  bool ours_were_there = true;
  for (int i = 1; i >= 0; --i) {
    if (filter_added_[i]) {
      filter_added_[i] = false;
      if (!netlink_->DeleteFilter(ifindex_, kHooks[i], kPriority, ETH_P_ALL, handle_).ok()) {
        ours_were_there = false; // the device or the qdisc went away meanwhile
      }
    }
  }
  // Delete the qdisc only if we created it, our filters were still on it (so
  // it is not a new qdisc someone made after ours vanished), and it is empty
  // now (another wgcap, or anyone, may have added filters). Dump and delete
  // are two requests: a filter added between them is lost with the qdisc.
  if (created_qdisc_ && ours_were_there) {
    bool empty = true;
    for (tc::Hook hook : kHooks) {
      auto entries = netlink_->DumpFilters(ifindex_, hook);
      empty = empty && entries.ok() && entries->empty();
    }
    if (empty) {
      (void)netlink_->DeleteClsact(ifindex_);
    }
  }
  created_qdisc_ = false;
  programs_[0].Reset();
  programs_[1].Reset();
  netlink_.reset();
}

Result<int> TcAttachment::RemoveLeftovers(int ifindex) {
  const std::string context = "remove leftover filters on " + InterfaceLabel(ifindex);
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
    return Annotate(context, ErrnoError("find interface", ENODEV), ifindex);
  }
  auto netlink = tc::RtNetlink::Open();
  if (!netlink.ok()) {
    return Annotate(context, netlink.error(), ifindex);
  }
  const auto self = static_cast<std::uint32_t>(getpid());
  int removed = 0;
  for (tc::Hook hook : kHooks) {
    auto entries = netlink->DumpFilters(ifindex, hook);
    if (!entries.ok()) {
      return Annotate(context, entries.error(), ifindex);
    }
    for (const tc::FilterEntry& e : *entries) {
      const std::uint32_t pid = e.handle >> 8;
      if (e.kind != "bpf" || e.priority != kPriority || e.protocol != ETH_P_ALL || pid == 0 ||
          pid == self || OwnerRunning(static_cast<pid_t>(pid), e.bpf_prog_id)) {
        continue;
      }
      Status s = netlink->DeleteFilter(ifindex, hook, e.priority, e.protocol, e.handle);
      if (s.ok()) {
        ++removed;
      } else if (s.error().errnum != ENOENT) { // ENOENT: another run removed it first
        return Annotate(context, s.error(), ifindex);
      }
    }
  }
  return removed;
}

} // namespace wgcap
