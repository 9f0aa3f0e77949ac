// SPDX-License-Identifier: Apache-2.0
// -Z USER: once the capture is attached and the output open, wgcap runs as
// USER (uid, primary gid, USER's supplementary groups) and keeps only the
// capability that detaching still needs.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "wgcap/result.hpp"

namespace wgcap::cli {

struct DropTarget {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Looks USER up (getpwnam) and checks that this process may switch to it,
// before anything is attached or created: it runs as root (only leaving
// uid 0 makes the kernel empty the other threads' capability sets) and
// holds CAP_SETUID and CAP_SETGID. An unknown user is a usage error
// (errnum 0), the rest EPERM. -Z root, or the user wgcap already is: nothing
// to switch.
Result<DropTarget> ResolveDropTarget(const std::string& user);

// -Z as the command line gives it: nothing when `user` is empty; else the
// target, or the error printed as "wgcap: ..." on stderr and `exit_code`
// set (2 for an unknown user, 1 for a missing capability).
std::optional<DropTarget> ResolveDropUser(const std::string& user, int& exit_code);

// What the capture still needs to undo its attachment after the drop:
// nothing for tcx links (they go with their fds) and AF_PACKET; clsact
// filters are deleted over netlink, which needs CAP_NET_ADMIN.
enum class KeepCapability { None, NetAdmin };

// initgroups, setresgid, setresuid; then the calling thread's permitted and
// effective sets hold only `keep`, the inheritable and ambient sets nothing,
// and no_new_privs is set. Other threads lose every capability with the uid
// change itself (glibc applies it to all threads; only this one kept them),
// which is then checked in /proc/self/task. Call it from the thread that
// will detach. -Z root changes nothing, as in tcpdump.
Status DropPrivileges(const DropTarget& target, KeepCapability keep);

} // namespace wgcap::cli
