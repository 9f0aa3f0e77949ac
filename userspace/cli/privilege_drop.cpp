// SPDX-License-Identifier: Apache-2.0
#include "cli/privilege_drop.hpp"

#include <dirent.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

namespace wgcap::cli {
namespace {

// The raw syscalls: libcap is no dependency of wgcap, and these two calls
// are all it would be used for.
struct CapabilitySets {
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
};

bool GetCapabilities(CapabilitySets& sets) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capget, &header, sets.data) == 0;
}

bool SetCapabilities(CapabilitySets& sets) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capset, &header, sets.data) == 0;
}

bool AnyPermitted(const CapabilitySets& sets) {
  for (const auto& d : sets.data) {
    if (d.permitted != 0) {
      return true;
    }
  }
  return false;
}

bool Effective(const CapabilitySets& sets, int cap) {
  return (sets.data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap)) != 0;
}

Error DropError(const DropTarget& target, const std::string& what, int errnum) {
  return ErrnoError("-Z " + target.name + ": " + what, errnum);
}

// -Z naming the user wgcap already runs as (uid and gid, real, effective
// and saved): there is nothing to switch.
bool AlreadyThere(const DropTarget& target) {
  uid_t r = 0, e = 0, s = 0;
  gid_t rg = 0, eg = 0, sg = 0;
  getresuid(&r, &e, &s);
  getresgid(&rg, &eg, &sg);
  return r == target.uid && e == target.uid && s == target.uid && rg == target.gid &&
         eg == target.gid && sg == target.gid;
}

// The check that the uid change really emptied the other threads' sets
// (the reader and session threads), from their /proc status.
Status OtherThreadsHoldNothing(const DropTarget& target) {
  const std::string self = std::to_string(gettid());
  std::unique_ptr<DIR, int (*)(DIR*)> tasks(opendir("/proc/self/task"), closedir);
  if (!tasks) {
    return DropError(target, "read /proc/self/task", errno);
  }
  while (const dirent* e = readdir(tasks.get())) {
    if (e->d_name[0] == '.' || self == e->d_name) {
      continue;
    }
    std::ifstream status(std::string("/proc/self/task/") + e->d_name + "/status");
    bool seen = false; // a status we cannot read proves nothing
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("CapPrm:", 0) != 0) {
        continue;
      }
      seen = true;
      if (line.find_first_not_of("0\t ", 7) != std::string::npos) {
        return Error{"-Z " + target.name + ": thread " + e->d_name +
                         " still holds capabilities after the switch (" + line + ")",
                     EPERM};
      }
    }
    if (!seen) {
      return Error{"-Z " + target.name + ": cannot read the capabilities of thread " + e->d_name +
                       " after the switch",
                   EPERM};
    }
  }
  return {};
}

} // namespace

Result<DropTarget> ResolveDropTarget(const std::string& user) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  const int rc = getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr) {
    if (rc != 0 && rc != ENOENT && rc != ESRCH) {
      return ErrnoError("-Z " + user + ": look up the user", rc);
    }
    return Error{"-Z: no such user \"" + user + "\"", 0};
  }
  DropTarget target{user, found->pw_uid, found->pw_gid};
  if (target.uid == 0) {
    return target; // nothing to shed
  }
  if (AlreadyThere(target)) {
    // Nothing to switch, but capabilities held without root (ambient or
    // file capabilities) would all stay: -Z cannot shed them here.
    CapabilitySets held;
    if (!GetCapabilities(held) || AnyPermitted(held)) {
      return Error{"-Z " + user + ": already running as " + user +
                       " but holding capabilities, which -Z cannot shed without root (run "
                       "wgcap as root, or without -Z)",
                   EPERM};
    }
    return target;
  }
  // Capabilities are per thread and only the main thread can shed its own;
  // the kernel clears the other threads' sets only when the process leaves
  // uid 0 (and no securebit tells it not to). So, as in tcpdump, -Z is for
  // a wgcap started as root.
  uid_t ruid = 0, euid = 0, suid = 0;
  getresuid(&ruid, &euid, &suid);
  if (ruid != 0 && euid != 0 && suid != 0) {
    return Error{"-Z " + user +
                     ": only a wgcap started as root switches users (run it as root, "
                     "or without -Z)",
                 EPERM};
  }
  const int securebits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
  if (securebits < 0 || (securebits & (1 << SECURE_NO_SETUID_FIXUP)) != 0) {
    return Error{"-Z " + user +
                     ": the securebit no-setuid-fixup would keep (or cannot be read to "
                     "rule out keeping) every thread's capabilities across the switch",
                 EPERM};
  }
  CapabilitySets sets;
  if (!GetCapabilities(sets) || !Effective(sets, CAP_SETUID) || !Effective(sets, CAP_SETGID)) {
    return Error{"-Z " + user + ": switching to another user needs CAP_SETUID and CAP_SETGID",
                 EPERM};
  }
  return target;
}

std::optional<DropTarget> ResolveDropUser(const std::string& user, int& exit_code) {
  exit_code = 0;
  if (user.empty()) {
    return std::nullopt;
  }
  auto target = ResolveDropTarget(user);
  if (!target) {
    std::fprintf(stderr, "wgcap: %s\n", target.error().message.c_str());
    exit_code = target.error().errnum == 0 ? 2 : 1;
    return std::nullopt;
  }
  return std::move(target).value();
}

Status DropPrivileges(const DropTarget& target, KeepCapability keep) {
  if (target.uid == 0 || AlreadyThere(target)) {
    return {};
  }
  if (initgroups(target.name.c_str(), target.gid) != 0) {
    return DropError(target, "initgroups", errno);
  }
  // Across setresuid the permitted set survives only with keep-caps, and
  // only in this thread: the other threads drop everything there.
  if (keep != KeepCapability::None && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    return DropError(target, "PR_SET_KEEPCAPS", errno);
  }
  if (setresgid(target.gid, target.gid, target.gid) != 0) {
    return DropError(target, "setresgid", errno);
  }
  if (setresuid(target.uid, target.uid, target.uid) != 0) {
    return DropError(target, "setresuid", errno);
  }
  CapabilitySets sets; // all empty: inheritable too
  if (keep == KeepCapability::NetAdmin) {
    auto& word = sets.data[CAP_TO_INDEX(CAP_NET_ADMIN)];
    word.permitted = word.effective = CAP_TO_MASK(CAP_NET_ADMIN);
  }
  if (!SetCapabilities(sets)) {
    return DropError(target, "capset", errno);
  }
  (void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  // EINVAL before Linux 4.3, which has no ambient set to clear.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return DropError(target, "clear the ambient capabilities", errno);
  }
  // Nothing this process might execute can gain privileges back.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return DropError(target, "PR_SET_NO_NEW_PRIVS", errno);
  }
  return OtherThreadsHoldNothing(target);
}

} // namespace wgcap::cli
