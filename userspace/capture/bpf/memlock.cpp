// SPDX-License-Identifier: Apache-2.0
// RLIMIT_MEMLOCK on kernels before 5.11, which charge BPF maps to it rather
// than to the memory cgroup (SPEC section 2).
#include <sys/resource.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "capture/bpf/bpf_program.hpp"

namespace wgcap {
namespace {

std::string KiB(std::uint64_t bytes) {
  return std::to_string((bytes + 1023) / 1024) + " KiB";
}

std::string Limit(rlim_t value) {
  return value == RLIM_INFINITY ? "unlimited" : KiB(value);
}

} // namespace

bool KernelChargesMemlock() {
  utsname u{};
  int major = 0;
  int minor = 0;
  if (uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) {
    return false; // cannot tell: the load's own EPERM still says what failed
  }
  return major < 5 || (major == 5 && minor < 11);
}

std::string MemlockHint(std::uint64_t ring_bytes) {
  rlimit current{};
  const std::string limit =
      getrlimit(RLIMIT_MEMLOCK, &current) == 0 ? Limit(current.rlim_cur) : "unknown";
  return "or RLIMIT_MEMLOCK (" + limit + ") is too low for the " + KiB(ring_bytes) +
         " ring buffer: this kernel (before 5.11) charges BPF maps to it; run with "
         "`--ulimit memlock=-1` (docker), `LimitMEMLOCK=infinity` (systemd) or `ulimit -l "
         "unlimited`, or give a smaller -B";
}

Status EnsureMemlockFor(std::uint64_t ring_bytes, std::uint64_t other_bytes, bool charged) {
  if (!charged) {
    return {};
  }
  rlimit current{};
  if (getrlimit(RLIMIT_MEMLOCK, &current) != 0) {
    return ErrnoError("getrlimit(RLIMIT_MEMLOCK)", errno);
  }
  const std::uint64_t needed = ring_bytes + other_bytes;
  if (current.rlim_cur == RLIM_INFINITY || current.rlim_cur >= needed) {
    return {};
  }
  // Unlimited where permitted (CAP_SYS_RESOURCE), as libbpf does: the
  // kernel also charges programs and per-CPU copies we do not count.
  const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  if (setrlimit(RLIMIT_MEMLOCK, &unlimited) == 0) {
    return {};
  }
  // Else up to the hard limit, which needs no privilege.
  if (current.rlim_max == RLIM_INFINITY || current.rlim_max >= needed) {
    const rlimit raised{current.rlim_max, current.rlim_max};
    if (setrlimit(RLIMIT_MEMLOCK, &raised) == 0) {
      return {};
    }
  }
  return Error{"the bpf backend needs RLIMIT_MEMLOCK of at least " + KiB(needed) +
                   " (the ring buffer alone is " + KiB(ring_bytes) +
                   "): this kernel (before 5.11) charges BPF maps to it, the limit is " +
                   Limit(current.rlim_cur) + " (hard " + Limit(current.rlim_max) +
                   ") and raising it needs CAP_SYS_RESOURCE; run with `--ulimit memlock=-1` "
                   "(docker), `LimitMEMLOCK=infinity` (systemd) or `ulimit -l unlimited`, or "
                   "give a smaller -B",
               EPERM};
}

} // namespace wgcap
