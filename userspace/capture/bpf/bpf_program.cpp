// SPDX-License-Identifier: Apache-2.0
#include "capture/bpf/bpf_program.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "capture/bpf/ebpf_filter_loader.hpp"
#include "capture/bpf/libbpf_log.hpp"
#include "filter/ebpf_filter.hpp"
#include "wgcap_abi.h"
#include "wgcap_tc.skel.h"

namespace wgcap {

struct BpfProgram::Skeleton {
  wgcap_tc* skel = nullptr;
  ~Skeleton() { wgcap_tc__destroy(skel); }
};

namespace {

std::uint32_t RoundUpPowerOfTwo(std::uint32_t n) {
  std::uint32_t p = 4096;
  while (p < n && p < (1u << 30)) {
    p <<= 1;
  }
  return p;
}

// The backlog past which a sample wakes the ring's consumer: 1/2^shift of
// the ring (below it the consumer's poll timeout picks the samples up, see
// ring_source.cpp). Measured (TUN flood of 128-byte packets, ~330 kpps at
// full speed on the loaded 2-core dev machine, 4 MiB ring, CPU of all wgcap
// threads per M captured, two runs each, no losses): 1/2 67-68 ms, 1/4 69,
// 1/16 90-91 (twice the wakeups); tcpdump 61-79 in the same runs. Paced at
// 300 kpps: 1/2 70-74, 1/4 70-73, 1/16 78-81, tcpdump 50-77. 1/4 costs what
// 1/2 does and leaves 3 MiB (~20 ms at 1 Mpps) for the consumer to get a CPU
// before the ring fills.
constexpr unsigned kWakeupShift = 2;

// Whether the calling thread has capability `cap` in its effective set.
bool HasCapability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) {
    return true; // cannot tell: do not blame this capability
  }
  return (data[cap / 32].effective >> (cap % 32)) & 1u;
}

// What an EPERM from loading means. The kernel wants CAP_BPF for the maps
// and the program and, as ours are TC (SCHED_CLS) programs, CAP_NET_ADMIN
// too; CAP_SYS_ADMIN stands in for both. Naming the one that is missing
// saves a user the guess (a unit with CAP_BPF alone fails here).
std::string PermissionHint() {
  const bool sys_admin = HasCapability(CAP_SYS_ADMIN);
  if (!sys_admin && !HasCapability(CAP_BPF)) {
    return "needs CAP_BPF (or CAP_SYS_ADMIN)";
  }
  if (!sys_admin && !HasCapability(CAP_NET_ADMIN)) {
    return "needs CAP_NET_ADMIN for a TC program (with CAP_BPF)";
  }
  // Both held, so they are not the initial user namespace's, or a security
  // module (or a sysctl) refused.
  return "needs CAP_BPF and CAP_NET_ADMIN in the initial user namespace";
}

// Bytes the kernel charges besides the ring: the scratch buffers (output
// mode), the counters, the programs; generous, as RLIMIT_MEMLOCK is
// raised to it only where it is lower.
// wgcap_peers' capacity: all of WGCAP_PEER_MAP_ENTRIES where that costs
// nothing until used, else room for four times the routes it starts with.
std::uint32_t PeerMapEntries(std::uint32_t routes, bool charged) {
  if (!charged) {
    return WGCAP_PEER_MAP_ENTRIES;
  }
  const std::uint64_t room = std::max<std::uint64_t>(64, std::uint64_t{routes} * 4);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(room, WGCAP_PEER_MAP_ENTRIES));
}

std::uint64_t OtherMapBytes(SampleMode mode, std::uint32_t peer_entries) {
  const int cpus = libbpf_num_possible_cpus();
  const std::uint64_t scratch = sizeof(wgcap_sample_header) + WGCAP_MAX_SNAPLEN;
  // Before 5.11 the LPM trie of the peers is charged for every entry it
  // may hold (a node, key and value each), however empty.
  const std::uint64_t peers = std::uint64_t{peer_entries} *
                              (64 + sizeof(wgcap_peer_lpm_key) + sizeof(wgcap_peer_lpm_value));
  return (mode == SampleMode::Output && cpus > 0 ? static_cast<std::uint64_t>(cpus) : 1) * scratch +
         peers + (1u << 20);
}

// The last `lines` lines of a verifier log, where it says why it gave up.
std::string VerifierLogTail(std::string log, std::size_t lines) {
  log.resize(std::strlen(log.c_str()));
  while (!log.empty() && log.back() == '\n') {
    log.pop_back();
  }
  std::size_t at = log.size();
  for (std::size_t n = 0; n < lines && at > 0; ++n) {
    at = log.rfind('\n', at - 1);
    if (at == std::string::npos) {
      return log;
    }
  }
  return at == log.size() ? log : log.substr(at + 1);
}

// memlock: the ring's size where the kernel charges maps to RLIMIT_MEMLOCK,
// else 0.
Error LoadError(const std::string& what, int err, const std::string& log, std::uint64_t memlock) {
  // EPERM is a missing capability or, on a kernel that charges maps to
  // RLIMIT_MEMLOCK, the limit; the verifier refuses with EACCES or EINVAL
  // and says why in its log.
  if (err == EPERM) {
    return ErrnoError(what, err,
                      PermissionHint() + (memlock != 0 ? " " + MemlockHint(memlock) : ""));
  }
  std::string tail = log;
  if (const auto end = tail.find("-- END PROG LOAD LOG --"); end != std::string::npos) {
    tail.resize(end);
  }
  tail = VerifierLogTail(tail, 6);
  return Error{what + ": " + std::string(std::strerror(err)) +
                   (tail.empty() ? "" : "; the kernel said:\n" + tail),
               err};
}

// The maps the generated filters name (their fds are immediates in the
// instructions), made before the skeleton so the filters can be generated
// and verified while the skeleton loads; the skeleton reuses them.
struct SharedMaps {
  UniqueFd counters;
  UniqueFd slots;
  UniqueFd peers; // wgcap_peers, for `peer` terms
};

Result<SharedMaps> CreateSharedMaps(std::uint64_t memlock, std::uint32_t peer_entries) {
  SharedMaps m;
  m.counters.Reset(bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "wgcap_counters", sizeof(__u32),
                                  sizeof(__u64), WGCAP_COUNTER_MAX, nullptr));
  if (m.counters.valid()) {
    m.slots.Reset(bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "wgcap_sample_pr", sizeof(__u32),
                                 sizeof(__u32), 2, nullptr));
  }
  if (m.slots.valid()) {
    LIBBPF_OPTS(bpf_map_create_opts, lpm, .map_flags = BPF_F_NO_PREALLOC);
    m.peers.Reset(bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "wgcap_peers", sizeof(wgcap_peer_lpm_key),
                                 sizeof(wgcap_peer_lpm_value), peer_entries, &lpm));
  }
  if (!m.peers.valid()) {
    return LoadError("creating the BPF maps", errno, "", memlock);
  }
  return m;
}

Result<std::unique_ptr<BpfProgram::Skeleton>> OpenAndLoad(const BpfProgramOptions& o,
                                                          SampleMode mode, std::uint64_t memlock,
                                                          const SharedMaps& shared) {
  auto s = std::make_unique<BpfProgram::Skeleton>();
  s->skel = wgcap_tc__open();
  if (s->skel == nullptr) {
    return ErrnoError("opening the BPF object", errno);
  }
  auto* ro = s->skel->rodata;
  ro->wgcap_snaplen = o.snaplen;
  ro->wgcap_link_header = o.link_header;
  ro->wgcap_sample_mode = mode == SampleMode::Output ? WGCAP_SAMPLE_OUTPUT : WGCAP_SAMPLE_RESERVE;
  const std::uint32_t ring_bytes = RoundUpPowerOfTwo(o.ring_bytes);
  bpf_map__set_max_entries(s->skel->maps.wgcap_samples, ring_bytes);
  ro->wgcap_wakeup_bytes = ring_bytes >> kWakeupShift;
  const int cpus = libbpf_num_possible_cpus();
  bpf_map__set_max_entries(s->skel->maps.wgcap_scratch, mode == SampleMode::Output && cpus > 0
                                                            ? static_cast<std::uint32_t>(cpus)
                                                            : 1);
  // The sample program of a hook not attached (-Q) is not loaded: each one
  // costs the verifier about a millisecond.
  bpf_program__set_autoload(s->skel->progs.wgcap_sample_in, o.ingress);
  bpf_program__set_autoload(s->skel->progs.wgcap_sample_out, o.egress);
  if (bpf_map__reuse_fd(s->skel->maps.wgcap_counters, shared.counters.get()) != 0 ||
      bpf_map__reuse_fd(s->skel->maps.wgcap_sample_programs, shared.slots.get()) != 0 ||
      bpf_map__reuse_fd(s->skel->maps.wgcap_peers, shared.peers.get()) != 0) {
    return ErrnoError("reusing the BPF maps", errno);
  }
  TakeLibbpfLog();
  if (wgcap_tc__load(s->skel) != 0) {
    const int err = errno;
    return LoadError("loading the BPF program", err, TakeLibbpfLog(), memlock);
  }
  // The slots the generated filter programs tail-call.
  const int slots = bpf_map__fd(s->skel->maps.wgcap_sample_programs);
  const int programs[2] = {bpf_program__fd(s->skel->progs.wgcap_sample_in),
                           bpf_program__fd(s->skel->progs.wgcap_sample_out)};
  for (std::uint32_t slot : {WGCAP_PROG_SAMPLE_IN, WGCAP_PROG_SAMPLE_OUT}) {
    if (programs[slot] >= 0 && bpf_map_update_elem(slots, &slot, &programs[slot], BPF_ANY) != 0) {
      return ErrnoError("filling the sample program array", errno);
    }
  }
  return s;
}

} // namespace

BpfProgram::BpfProgram(std::unique_ptr<Skeleton> skeleton, SampleMode mode)
    : skeleton_(std::move(skeleton)), sample_mode_(mode) {}

BpfProgram::~BpfProgram() = default;

// The generated filter of each hook asked for, generated and loaded on a
// thread of its own (the verifier's time dominates loading; the skeleton
// loads meanwhile). Joined before anything reads them.
struct BpfProgram::PendingFilters {
  struct Load {
    EbpfFilterInputs inputs;
    EbpfFilter generated;
    std::optional<Result<LoadedEbpfFilter>> loaded;
  };
  Load loads[2];
  std::thread threads[2];

  PendingFilters(const BpfProgramOptions& o, const SharedMaps& maps) {
    const bool wanted[2] = {o.ingress, o.egress};
    for (int i = 0; i < 2; ++i) {
      if (!wanted[i]) {
        continue;
      }
      Load& l = loads[i];
      l.inputs.counters_map_fd = maps.counters.get();
      l.inputs.sample_programs_map_fd = maps.slots.get();
      l.inputs.peers_map_fd = maps.peers.get();
      l.inputs.sample_index = i == 0 ? WGCAP_PROG_SAMPLE_IN : WGCAP_PROG_SAMPLE_OUT;
      l.inputs.link_header = o.link_header;
      threads[i] = std::thread([&l, &o, name = kNames[i]] {
        // Direct packet reads where the verifier allows them, else (5.10
        // without CAP_PERFMON) every read through bpf_skb_load_bytes.
        l.loaded = GenerateAndLoadEbpfFilter(o.expression, l.inputs, &l.generated, name);
      });
    }
  }
  ~PendingFilters() { Join(); }
  PendingFilters(const PendingFilters&) = delete;
  PendingFilters& operator=(const PendingFilters&) = delete;
  void Join() {
    for (auto& t : threads) {
      if (t.joinable()) {
        t.join();
      }
    }
  }
  static constexpr const char* kNames[2] = {"wgcap_ingress", "wgcap_egress"};
};

Result<std::unique_ptr<BpfProgram>> BpfProgram::Load(const BpfProgramOptions& options) {
  if (!options.ingress && !options.egress) {
    return Error{"loading the BPF program: no hook asked for (ingress or egress)", EINVAL};
  }
  RouteLibbpfLog();
  const std::uint32_t ring = RoundUpPowerOfTwo(options.ring_bytes);
  const bool charged = options.memlock_charged.value_or(KernelChargesMemlock());
  const std::uint64_t memlock = charged ? ring : 0;
  // Auto may end in the output mode, whose per-CPU scratch is the larger.
  const SampleMode largest =
      options.sample_mode == SampleMode::Reserve ? SampleMode::Reserve : SampleMode::Output;
  const std::uint32_t peer_entries = PeerMapEntries(options.peer_routes, charged);
  if (auto raised = EnsureMemlockFor(ring, OtherMapBytes(largest, peer_entries), charged);
      !raised) {
    return raised.error();
  }
  auto shared = CreateSharedMaps(memlock, peer_entries);
  if (!shared) {
    return shared.error();
  }
  PendingFilters pending(options, *shared);
  auto skeleton = [&]() -> Result<std::pair<std::unique_ptr<Skeleton>, SampleMode>> {
    if (options.sample_mode != SampleMode::Auto) {
      auto s = OpenAndLoad(options, options.sample_mode, memlock, *shared);
      if (!s) {
        return s.error();
      }
      return std::pair{std::move(s).value(), options.sample_mode};
    }
    // Feature probe by trying: loads straight into ring memory where the
    // verifier accepts them, else the copy (README "Kernel matrix").
    auto reserve = OpenAndLoad(options, SampleMode::Reserve, memlock, *shared);
    if (reserve) {
      return std::pair{std::move(reserve).value(), SampleMode::Reserve};
    }
    // A missing capability or memory limit fails the same way again.
    if (reserve.error().errnum == EPERM) {
      return reserve.error();
    }
    auto output = OpenAndLoad(options, SampleMode::Output, memlock, *shared);
    if (!output) {
      return output.error();
    }
    return std::pair{std::move(output).value(), SampleMode::Output};
  }();
  pending.Join();
  if (!skeleton) {
    return skeleton.error();
  }
  std::unique_ptr<BpfProgram> program(new BpfProgram(std::move(skeleton->first), skeleton->second));
  if (auto filters = program->AdoptFilters(pending); !filters) {
    return filters.error();
  }
  return program;
}

// Each hook's filter tail-calls its direction's sample program. An
// expression the generator cannot hold came back as a pass-all program
// (exact false); one the verifier refused is replaced by the empty
// expression's, so the capture still runs and the Matcher decides.
Status BpfProgram::AdoptFilters(PendingFilters& pending) {
  Hook* hooks[2] = {&ingress_, &egress_};
  for (int i = 0; i < 2; ++i) {
    PendingFilters::Load& l = pending.loads[i];
    if (!l.loaded) {
      continue; // a hook not asked for
    }
    if (!l.generated.exact && exact_) {
      exact_ = false;
      note_ = l.generated.note + ": it passes every packet and the userspace Matcher decides";
    }
    // The generator's refusal (an unresolved `peer`) is the user's to fix;
    // the verifier's is worked around below.
    if (!*l.loaded && l.loaded->error().kind == ErrorKind::Filter) {
      return l.loaded->error();
    }
    if (!*l.loaded && l.loaded->error().errnum != EPERM) {
      const std::string& why = l.loaded->error().message;
      if (exact_) {
        exact_ = false;
        note_ = "the kernel's verifier refused the filter program (" +
                why.substr(0, why.find(';')) +
                "): it passes every packet and the userspace Matcher decides";
      }
      l.generated = GenerateEbpfFilter(FilterExpression{}, l.inputs);
      l.loaded = LoadEbpfFilter(l.generated, PendingFilters::kNames[i]);
    }
    if (!*l.loaded) {
      const Error& e = l.loaded->error();
      return e.errnum == EPERM ? ErrnoError("loading the filter program", EPERM, PermissionHint())
                               : e;
    }
    hooks[i]->instructions = std::move(l.generated.instructions);
    hooks[i]->verified_instructions = (*l.loaded)->verified_insns;
    hooks[i]->fd = std::move((*l.loaded)->fd);
  }
  return {};
}

int BpfProgram::ring_fd() const {
  return bpf_map__fd(skeleton_->skel->maps.wgcap_samples);
}
int BpfProgram::counters_fd() const {
  return bpf_map__fd(skeleton_->skel->maps.wgcap_counters);
}
int BpfProgram::peers_fd() const {
  return bpf_map__fd(skeleton_->skel->maps.wgcap_peers);
}
int BpfProgram::sample_programs_fd() const {
  return bpf_map__fd(skeleton_->skel->maps.wgcap_sample_programs);
}

const char* BpfProgram::sample_mode_name() const noexcept {
  return sample_mode_ == SampleMode::Output ? "output" : "reserve";
}

std::optional<KernelCounters> BpfProgram::ReadCounters() const {
  KernelCounters c;
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) {
    return std::nullopt;
  }
  std::vector<std::uint64_t> values(static_cast<std::size_t>(cpus));
  const int fd = counters_fd();
  std::int64_t* out[] = {&c.seen, &c.matched, &c.ring_drops};
  for (std::uint32_t key = 0; key < WGCAP_COUNTER_MAX; ++key) {
    if (bpf_map_lookup_elem(fd, &key, values.data()) != 0) {
      return std::nullopt;
    }
    for (auto v : values) {
      *out[key] += static_cast<std::int64_t>(v);
    }
  }
  return c;
}

} // namespace wgcap
