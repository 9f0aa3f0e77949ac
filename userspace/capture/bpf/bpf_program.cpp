// SPDX-License-Identifier: Apache-2.0
#include "capture/bpf/bpf_program.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "capture/bpf/libbpf_log.hpp"
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

// The last lines of the verifier's log, where it says why it gave up
// (libbpf's own summary lines after it are dropped).
std::string Tail(std::string log, std::size_t lines) {
  const auto end = log.find("-- END PROG LOAD LOG --");
  if (end != std::string::npos) {
    log.resize(end);
  }
  while (!log.empty() && log.back() == '\n') {
    log.pop_back();
  }
  std::size_t at = log.size();
  for (std::size_t n = 0; n <= lines && at > 0; ++n) {
    at = log.rfind('\n', at - 1);
    if (at == std::string::npos) {
      return log;
    }
  }
  return log.substr(at + 1);
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

Result<std::unique_ptr<BpfProgram::Skeleton>> OpenAndLoad(const BpfProgramOptions& o,
                                                          SampleMode mode) {
  auto s = std::make_unique<BpfProgram::Skeleton>();
  s->skel = wgcap_tc__open();
  if (s->skel == nullptr) {
    return ErrnoError("opening the BPF object", errno);
  }
  auto* ro = s->skel->rodata;
  ro->wgcap_pass_all = o.filter.pass_all ? 1 : 0;
  ro->wgcap_needs_transport = o.filter.needs_transport ? 1 : 0;
  ro->wgcap_needs_chain = o.filter.needs_chain ? 1 : 0;
  ro->wgcap_node_count = o.filter.pass_all ? 0 : static_cast<std::uint32_t>(o.filter.nodes.size());
  for (std::size_t i = 0; i < o.filter.nodes.size() && i < WGCAP_FILTER_MAX_NODES; ++i) {
    std::memcpy(const_cast<wgcap_filter_node*>(&ro->wgcap_nodes[i]), &o.filter.nodes[i],
                sizeof(wgcap_filter_node));
  }
  ro->wgcap_snaplen = o.snaplen;
  ro->wgcap_link_header = o.link_header;
  // Direct reads add a register offset to a packet pointer, which the
  // verifier refuses without CAP_PERFMON (its Spectre v1 sanitation covers
  // only stack and map pointers): without it every read takes the helper.
  ro->wgcap_direct_access =
      o.direct_access && (HasCapability(CAP_PERFMON) || HasCapability(CAP_SYS_ADMIN)) ? 1 : 0;
  ro->wgcap_sample_mode = mode == SampleMode::Output ? WGCAP_SAMPLE_OUTPUT : WGCAP_SAMPLE_RESERVE;
  bpf_map__set_max_entries(s->skel->maps.wgcap_samples, RoundUpPowerOfTwo(o.ring_bytes));
  const int cpus = libbpf_num_possible_cpus();
  bpf_map__set_max_entries(s->skel->maps.wgcap_scratch, mode == SampleMode::Output && cpus > 0
                                                            ? static_cast<std::uint32_t>(cpus)
                                                            : 1);
  TakeLibbpfLog();
  if (wgcap_tc__load(s->skel) != 0) {
    const int err = errno;
    const std::string log = TakeLibbpfLog();
    // EPERM is a missing capability; the verifier refuses with EACCES or
    // EINVAL and says why in its log.
    if (err == EPERM) {
      return ErrnoError("loading the BPF program", err, PermissionHint());
    }
    // Without CAP_PERFMON the verifier hardens against Spectre v1; kernels
    // that do not fence mispredicted branches (6.1, not 6.18) then also
    // verify each of them and give up on the filter graph at the 1M
    // instruction limit (E2BIG). Said in the first line, which is the one
    // the --mode auto fallback line shows.
    std::string hint;
    if ((err == E2BIG || err == EACCES) && !HasCapability(CAP_PERFMON) &&
        !HasCapability(CAP_SYS_ADMIN)) {
      hint = " (this kernel's verifier may need CAP_PERFMON)";
    }
    return Error{"loading the BPF program: " + std::string(std::strerror(err)) + hint +
                     (log.empty() ? "" : "; the kernel said:\n" + Tail(log, 6)),
                 err};
  }
  return s;
}

} // namespace

BpfProgram::BpfProgram(std::unique_ptr<Skeleton> skeleton, SampleMode mode)
    : skeleton_(std::move(skeleton)), sample_mode_(mode) {}

BpfProgram::~BpfProgram() = default;

Result<std::unique_ptr<BpfProgram>> BpfProgram::Load(const BpfProgramOptions& options) {
  RouteLibbpfLog();
  if (options.sample_mode != SampleMode::Auto) {
    auto s = OpenAndLoad(options, options.sample_mode);
    if (!s) {
      return s.error();
    }
    return std::unique_ptr<BpfProgram>(new BpfProgram(std::move(s).value(), options.sample_mode));
  }
  // Feature probe by trying: loads straight into ring memory where the
  // verifier accepts them, else the copy. 6.1 and 6.18 accept both (README
  // "Kernel matrix"); the probe keeps a kernel that refuses reserve capturing.
  auto reserve = OpenAndLoad(options, SampleMode::Reserve);
  if (reserve) {
    return std::unique_ptr<BpfProgram>(
        new BpfProgram(std::move(reserve).value(), SampleMode::Reserve));
  }
  // A missing capability, or a program too complex for this verifier
  // (E2BIG: the filter graph, which the output copy shares), fails the same
  // way again; trying would only double the time to the error (seconds,
  // when the verifier gave up at its instruction limit).
  if (reserve.error().errnum == EPERM || reserve.error().errnum == E2BIG) {
    return reserve.error();
  }
  auto output = OpenAndLoad(options, SampleMode::Output);
  if (!output) {
    return output.error();
  }
  return std::unique_ptr<BpfProgram>(new BpfProgram(std::move(output).value(), SampleMode::Output));
}

int BpfProgram::ingress_fd() const {
  return bpf_program__fd(skeleton_->skel->progs.wgcap_ingress);
}
int BpfProgram::egress_fd() const {
  return bpf_program__fd(skeleton_->skel->progs.wgcap_egress);
}
int BpfProgram::ring_fd() const {
  return bpf_map__fd(skeleton_->skel->maps.wgcap_samples);
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
  const int fd = bpf_map__fd(skeleton_->skel->maps.wgcap_counters);
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
