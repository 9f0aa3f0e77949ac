// SPDX-License-Identifier: Apache-2.0
// wgcap's kernel side loaded: the clang-built sample programs and maps
// (bpftool skeleton of bpf/wgcap_tc.bpf.c) and, per hook, the eBPF filter
// program generated for the expression, which tail-calls the sample program
// of its direction (bpf/README.md). It owns the programs and maps; attaching
// the filter programs is TcAttachment's job.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <linux/bpf.h>

#include "base/unique_fd.hpp"
#include "wgcap/capture.hpp" // SampleMode
#include "wgcap/filter_ast.hpp"
#include "wgcap/result.hpp"

namespace wgcap {

struct BpfProgramOptions {
  FilterExpression expression;
  std::uint32_t snaplen = 65535;
  std::uint32_t link_header = 0;       // bytes before the IP header (14 on Ethernet)
  std::uint32_t ring_bytes = 4u << 20; // rounded up to a power of two
  SampleMode sample_mode = SampleMode::Auto;
  // The hooks that get a filter program (-Q loads only one: half the
  // verifier's time).
  bool ingress = true;
  bool egress = true;
  // Whether this kernel charges BPF maps to RLIMIT_MEMLOCK (before 5.11);
  // unset: from the kernel release. Set by tests to take the old kernels'
  // path on a new one.
  std::optional<bool> memlock_charged;
  // The WireGuard allowed-ips the capture starts with (0: no peers). Sizes
  // wgcap_peers where maps are charged to RLIMIT_MEMLOCK (before 5.11 an
  // LPM trie is charged for every entry it may hold, ~6 MiB for 65536,
  // more than the usual 8 MiB limit leaves beside the ring); elsewhere it
  // is WGCAP_PEER_MAP_ENTRIES and costs only what it holds.
  std::uint32_t peer_routes = 0;
};

// The generated filter as loaded for one hook.
struct LoadedFilter {
  std::vector<bpf_insn> instructions;
  std::uint32_t verified_instructions = 0; // the verifier's "processed N insns"; 0: unknown
};

class BpfProgram {
public:
  // Errors carry the verifier's or libbpf's words and a hint (CAP_BPF,
  // RLIMIT_MEMLOCK).
  static Result<std::unique_ptr<BpfProgram>> Load(const BpfProgramOptions& options);
  ~BpfProgram();
  BpfProgram(const BpfProgram&) = delete;
  BpfProgram& operator=(const BpfProgram&) = delete;

  // The filter programs to attach; -1 for a hook not loaded.
  int ingress_fd() const noexcept { return ingress_.fd.get(); }
  int egress_fd() const noexcept { return egress_.fd.get(); }
  int ring_fd() const;
  int counters_fd() const;
  int sample_programs_fd() const;
  // wgcap_peers, the LPM trie `peer` terms look in (PeerMapSync fills it).
  int peers_fd() const;
  // seen, matched and ring_drops summed over the CPUs; nullopt when the map
  // could not be read: before Linux 6.5, with kernel.unprivileged_bpf_disabled
  // set, a process without CAP_BPF (wgcap after -Z) gets EPERM from every
  // bpf() call.
  std::optional<KernelCounters> ReadCounters() const;
  SampleMode sample_mode() const noexcept { return sample_mode_; }
  // "reserve" or "output", for the listening line and -d.
  const char* sample_mode_name() const noexcept;

  // False when the kernel passes every packet and the Matcher decides (the
  // generator could not hold the expression, or the verifier refused it).
  bool filter_exact() const noexcept { return exact_; }
  const std::string& filter_note() const noexcept { return note_; }
  // The ingress hook's filter, else the egress one's.
  const LoadedFilter& filter() const noexcept { return ingress_.fd.valid() ? ingress_ : egress_; }

  struct Skeleton;
  struct PendingFilters;

private:
  struct Hook : LoadedFilter {
    UniqueFd fd;
  };
  BpfProgram(std::unique_ptr<Skeleton> skeleton, SampleMode mode);
  Status AdoptFilters(PendingFilters& pending);
  std::unique_ptr<Skeleton> skeleton_;
  SampleMode sample_mode_;
  Hook ingress_;
  Hook egress_;
  bool exact_ = true;
  std::string note_;
};

// RLIMIT_MEMLOCK for a ring of `ring_bytes` on a kernel that charges BPF
// maps to it (before 5.11): raised where permitted, else an error naming
// the limit, the size needed and the fixes. Nothing to do when not
// `charged`. Exposed for the tests.
Status EnsureMemlockFor(std::uint64_t ring_bytes, std::uint64_t other_bytes, bool charged);

// For an EPERM from creating maps on such a kernel: the limit, the ring's
// size and the fixes, as a hint after the capability one.
std::string MemlockHint(std::uint64_t ring_bytes);

// Whether the running kernel charges BPF maps to RLIMIT_MEMLOCK (< 5.11).
bool KernelChargesMemlock();

} // namespace wgcap
