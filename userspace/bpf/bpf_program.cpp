// SPDX-License-Identifier: Apache-2.0
#include "wgcap/bpf_program.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "bpf/filter_program_load.hpp"
#include "bpf/libbpf_log.hpp"
#include "filter/ebpf_filter.hpp"
#include "wgcap/abi.h"
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
std::uint64_t OtherMapBytes(SampleMode mode) {
  const int cpus = libbpf_num_possible_cpus();
  const std::uint64_t scratch = sizeof(wgcap_sample_header) + WGCAP_MAX_SNAPLEN;
  return (mode == SampleMode::Output && cpus > 0 ? static_cast<std::uint64_t>(cpus) : 1) * scratch +
         (1u << 20);
}

Error LoadError(const std::string& what, int err, const std::string& log, bool memlock) {
  // EPERM is a missing capability or, on a kernel that charges maps to
  // RLIMIT_MEMLOCK, the limit; the verifier refuses with EACCES or EINVAL
  // and says why in its log.
  if (err == EPERM) {
    return ErrnoError(what, err,
                      PermissionHint() +
                          (memlock ? " or a higher RLIMIT_MEMLOCK (this kernel charges BPF maps "
                                     "to it: `--ulimit memlock=-1`, `LimitMEMLOCK=infinity`, or "
                                     "a smaller -B)"
                                   : ""));
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

Result<std::unique_ptr<BpfProgram::Skeleton>> OpenAndLoad(const BpfProgramOptions& o,
                                                          SampleMode mode, bool memlock) {
  auto s = std::make_unique<BpfProgram::Skeleton>();
  s->skel = wgcap_tc__open();
  if (s->skel == nullptr) {
    return ErrnoError("opening the BPF object", errno);
  }
  auto* ro = s->skel->rodata;
  ro->wgcap_snaplen = o.snaplen;
  ro->wgcap_link_header = o.link_header;
  ro->wgcap_sample_mode = mode == SampleMode::Output ? WGCAP_SAMPLE_OUTPUT : WGCAP_SAMPLE_RESERVE;
  const std::uint32_t ring = RoundUpPowerOfTwo(o.ring_bytes);
  bpf_map__set_max_entries(s->skel->maps.wgcap_samples, ring);
  const int cpus = libbpf_num_possible_cpus();
  bpf_map__set_max_entries(s->skel->maps.wgcap_scratch, mode == SampleMode::Output && cpus > 0
                                                            ? static_cast<std::uint32_t>(cpus)
                                                            : 1);
  // The sample program of a hook not attached (-Q) is not loaded: each one
  // costs the verifier about a millisecond.
  bpf_program__set_autoload(s->skel->progs.wgcap_sample_in, o.ingress);
  bpf_program__set_autoload(s->skel->progs.wgcap_sample_out, o.egress);
  if (auto raised = EnsureMemlockFor(ring, OtherMapBytes(mode), memlock); !raised) {
    return raised.error();
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

Result<std::unique_ptr<BpfProgram>> BpfProgram::Load(const BpfProgramOptions& options) {
  if (!options.ingress && !options.egress) {
    return Error{"loading the BPF program: no hook asked for (ingress or egress)", EINVAL};
  }
  RouteLibbpfLog();
  const bool memlock = options.memlock_charged.value_or(KernelChargesMemlock());
  auto skeleton = [&]() -> Result<std::pair<std::unique_ptr<Skeleton>, SampleMode>> {
    if (options.sample_mode != SampleMode::Auto) {
      auto s = OpenAndLoad(options, options.sample_mode, memlock);
      if (!s) {
        return s.error();
      }
      return std::pair{std::move(s).value(), options.sample_mode};
    }
    // Feature probe by trying: loads straight into ring memory where the
    // verifier accepts them, else the copy (README "Kernel matrix").
    auto reserve = OpenAndLoad(options, SampleMode::Reserve, memlock);
    if (reserve) {
      return std::pair{std::move(reserve).value(), SampleMode::Reserve};
    }
    // A missing capability or memory limit fails the same way again.
    if (reserve.error().errnum == EPERM) {
      return reserve.error();
    }
    auto output = OpenAndLoad(options, SampleMode::Output, memlock);
    if (!output) {
      return output.error();
    }
    return std::pair{std::move(output).value(), SampleMode::Output};
  }();
  if (!skeleton) {
    return skeleton.error();
  }
  std::unique_ptr<BpfProgram> program(new BpfProgram(std::move(skeleton->first), skeleton->second));
  if (auto filters = program->LoadFilters(options); !filters) {
    return filters.error();
  }
  return program;
}

// The generated filter per hook, each tail-calling its direction's sample
// program. An expression the generator cannot hold comes back as a
// pass-all program (exact false); one the verifier refuses is replaced by
// the empty expression's, so the capture still runs and the Matcher decides.
Status BpfProgram::LoadFilters(const BpfProgramOptions& options) {
  Hook* hooks[2] = {options.ingress ? &ingress_ : nullptr, options.egress ? &egress_ : nullptr};
  const char* names[2] = {"wgcap_ingress", "wgcap_egress"};
  const unsigned slots[2] = {WGCAP_PROG_SAMPLE_IN, WGCAP_PROG_SAMPLE_OUT};
  for (int i = 0; i < 2; ++i) {
    if (hooks[i] == nullptr) {
      continue;
    }
    EbpfFilterInputs inputs;
    inputs.counters_map_fd = counters_fd();
    inputs.sample_programs_map_fd = sample_programs_fd();
    inputs.sample_index = slots[i];
    inputs.link_header = options.link_header;
    EbpfFilter generated =
        exact_ ? GenerateEbpfFilter(options.expression, inputs)
               : GenerateEbpfFilter(FilterExpression{}, inputs); // the other hook was refused
    if (exact_ && !generated.exact) {
      exact_ = false;
      note_ = generated.note;
    }
    auto loaded = LoadFilterProgram(generated.instructions, names[i]);
    if (!loaded && loaded.error().errnum != EPERM && exact_) {
      exact_ = false;
      const std::string& why = loaded.error().message;
      note_ = "the kernel's verifier refused the filter program (" + why.substr(0, why.find(';')) +
              "): it passes every packet and the userspace Matcher decides";
      generated = GenerateEbpfFilter(FilterExpression{}, inputs);
      loaded = LoadFilterProgram(generated.instructions, names[i]);
    }
    if (!loaded) {
      const Error& e = loaded.error();
      return e.errnum == EPERM ? ErrnoError("loading the filter program", EPERM, PermissionHint())
                               : e;
    }
    hooks[i]->instructions = std::move(generated.instructions);
    hooks[i]->verified_instructions = loaded->verified_instructions;
    hooks[i]->fd = std::move(loaded->fd);
  }
  return {};
}

int BpfProgram::ring_fd() const {
  return bpf_map__fd(skeleton_->skel->maps.wgcap_samples);
}
int BpfProgram::counters_fd() const {
  return bpf_map__fd(skeleton_->skel->maps.wgcap_counters);
}
int BpfProgram::sample_programs_fd() const {
  return bpf_map__fd(skeleton_->skel->maps.wgcap_sample_programs);
}

const char* BpfProgram::sample_mode_name() const noexcept {
  return sample_mode_ == SampleMode::Output ? "output" : "reserve";
}

KernelCounters BpfProgram::ReadCounters() const {
  KernelCounters c;
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) {
    return c;
  }
  std::vector<std::uint64_t> values(static_cast<std::size_t>(cpus));
  const int fd = counters_fd();
  std::int64_t* out[] = {&c.seen, &c.matched, &c.ring_full};
  for (std::uint32_t key = 0; key < WGCAP_COUNTER_MAX; ++key) {
    if (bpf_map_lookup_elem(fd, &key, values.data()) != 0) {
      c.read = false;
      continue;
    }
    for (auto v : values) {
      *out[key] += static_cast<std::int64_t>(v);
    }
  }
  return c;
}

} // namespace wgcap
