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

// Looks USER up (getpwnam) and checks that this process may switch to it
// (CAP_SETUID and CAP_SETGID), before anything is attached or created.
// An unknown user is a usage error (errnum 0); a missing capability EPERM.
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
// change itself (glibc applies it to all threads; only this one kept them).
// Call it from the thread that will detach. A target uid of 0 (-Z root)
// changes nothing, as in tcpdump.
Status DropPrivileges(const DropTarget& target, KeepCapability keep);

} // namespace wgcap::cli
