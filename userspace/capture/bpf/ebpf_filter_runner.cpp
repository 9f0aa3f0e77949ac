// SPDX-License-Identifier: Apache-2.0
#include "capture/bpf/ebpf_filter_runner.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>

#include <cerrno>
#include <cstddef>
#include <vector>

#include "capture/bpf/ebpf_filter_loader.hpp"
#include "capture/bpf/peer_map_sync.hpp"
#include "filter/ebpf_filter.hpp"
#include "wgcap_abi.h"

namespace wgcap {

struct EbpfFilterRunner::Parts {
  UniqueFd counters;
  UniqueFd samples;
  UniqueFd sampler;
  UniqueFd peers;
  std::unique_ptr<PeerMapSync> peer_sync;
  LoadedEbpfFilter filter;
  EbpfFilter generated;
  std::string disassembly;
  EbpfRunnerOptions options;
  std::vector<std::uint8_t> frame;
};

namespace {

// `r0 = kSampledVerdict; exit`: what the tail call lands in.
Result<UniqueFd> LoadSampler() {
  bpf_insn insns[2] = {};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  insns[0].dst_reg = BPF_REG_0;
  insns[0].imm = EbpfFilterRunner::kSampledVerdict;
  insns[1].code = BPF_JMP | BPF_EXIT;
  const int fd =
      bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "wgcap_test_smp", "Dual BSD/GPL", insns, 2, nullptr);
  if (fd < 0) {
    return ErrnoError("loading the stand-in sample program", errno,
                      errno == EPERM ? "needs CAP_BPF and CAP_NET_ADMIN" : "");
  }
  return UniqueFd(fd);
}

Result<UniqueFd> CreateMap(bpf_map_type type, const char* name, std::uint32_t value_size,
                           std::uint32_t entries, std::uint32_t key_size = 4,
                           const bpf_map_create_opts* opts = nullptr) {
  const int fd = bpf_map_create(type, name, key_size, value_size, entries, opts);
  if (fd < 0) {
    return ErrnoError(std::string("creating map ") + name, errno,
                      errno == EPERM ? "needs CAP_BPF" : "");
  }
  return UniqueFd(fd);
}

} // namespace

EbpfFilterRunner::EbpfFilterRunner(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
EbpfFilterRunner::~EbpfFilterRunner() = default;

Result<std::unique_ptr<EbpfFilterRunner>>
EbpfFilterRunner::Create(const FilterExpression& expression, const EbpfRunnerOptions& options) {
  auto parts = std::make_unique<Parts>();
  parts->options = options;
  auto counters = CreateMap(BPF_MAP_TYPE_PERCPU_ARRAY, "wgcap_counters", 8, WGCAP_COUNTER_MAX);
  if (!counters) {
    return counters.error();
  }
  parts->counters = std::move(counters).value();
  auto samples = CreateMap(BPF_MAP_TYPE_PROG_ARRAY, "wgcap_sample_pr", 4, 2);
  if (!samples) {
    return samples.error();
  }
  parts->samples = std::move(samples).value();
  auto sampler = LoadSampler();
  if (!sampler) {
    return sampler.error();
  }
  parts->sampler = std::move(sampler).value();
  LIBBPF_OPTS(bpf_map_create_opts, lpm, .map_flags = BPF_F_NO_PREALLOC);
  auto peers = CreateMap(BPF_MAP_TYPE_LPM_TRIE, "wgcap_peers", sizeof(wgcap_peer_lpm_value),
                         WGCAP_PEER_MAP_ENTRIES, sizeof(wgcap_peer_lpm_key), &lpm);
  if (!peers) {
    return peers.error();
  }
  parts->peers = std::move(peers).value();
  if (options.peers) {
    parts->peer_sync =
        std::make_unique<PeerMapSync>(parts->peers.get(), TestRunIfindex(), options.peers);
  }
  const std::uint32_t slot = options.egress ? WGCAP_PROG_SAMPLE_OUT : WGCAP_PROG_SAMPLE_IN;
  const int sampler_fd = parts->sampler.get();
  if (bpf_map_update_elem(parts->samples.get(), &slot, &sampler_fd, BPF_ANY) != 0) {
    return ErrnoError("filling the sample program array", errno);
  }
  EbpfFilterInputs inputs;
  inputs.counters_map_fd = parts->counters.get();
  inputs.sample_programs_map_fd = parts->samples.get();
  inputs.sample_index = slot;
  inputs.peers_map_fd = parts->peers.get();
  inputs.link_header = options.link_header;
  inputs.direct_access = options.direct_access;
  auto loaded = GenerateAndLoadEbpfFilter(expression, inputs, &parts->generated);
  if (!loaded) {
    return Error{loaded.error().message + "\n" +
                     DisassembleEbpf(GenerateEbpfFilter(expression, inputs)),
                 loaded.error().errnum};
  }
  parts->disassembly = DisassembleEbpf(parts->generated);
  parts->filter = std::move(loaded).value();
  return std::unique_ptr<EbpfFilterRunner>(new EbpfFilterRunner(std::move(parts)));
}

Result<std::uint32_t> EbpfFilterRunner::TestRun(std::span<const std::uint8_t> packet,
                                                std::uint32_t repeat, std::uint32_t* extent,
                                                double* duration) {
  if (parts_->peer_sync && parts_->peer_sync->Due()) {
    if (auto synced = parts_->peer_sync->Sync(); !synced) {
      return synced.error();
    }
  }
  std::vector<std::uint8_t>& frame = parts_->frame;
  frame.clear();
  if (parts_->options.link_header == 14) {
    // An Ethernet header whose type says what the bytes are, as on a veth;
    // the filter reads the version nibble, not the type.
    const bool v6 = !packet.empty() && (packet[0] >> 4) == 6;
    const bool v4 = !packet.empty() && (packet[0] >> 4) == 4;
    frame = {0x02,
             0,
             0,
             0,
             0,
             1,
             0x02,
             0,
             0,
             0,
             0,
             2,
             static_cast<std::uint8_t>(v6   ? 0x86
                                       : v4 ? 0x08
                                            : 0x88),
             static_cast<std::uint8_t>(v6   ? 0xdd
                                       : v4 ? 0x00
                                            : 0xb5)};
  } else if (parts_->options.link_header != 0) {
    frame.assign(parts_->options.link_header, 0);
  }
  frame.insert(frame.end(), packet.begin(), packet.end());
  if (frame.size() < 14) {
    return Error{"BPF_PROG_TEST_RUN needs at least 14 bytes of frame", EMSGSIZE};
  }
  __sk_buff ctx_in{};
  __sk_buff ctx_out{};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
              .data_size_in = static_cast<std::uint32_t>(frame.size()), .ctx_in = &ctx_in,
              .ctx_out = &ctx_out, .ctx_size_in = sizeof ctx_in, .ctx_size_out = sizeof ctx_out,
              .repeat = static_cast<int>(repeat));
  int rc = bpf_prog_test_run_opts(parts_->filter.fd.get(), &opts);
  if (rc != 0 && errno == EINVAL && parts_->options.link_header == 14 && frame[12] != 0x88) {
    // The kernel refuses to test-run an IP ethertype whose header is cut
    // short; a neutral type runs the same code on the same bytes.
    frame[12] = 0x88;
    frame[13] = 0xb5;
    rc = bpf_prog_test_run_opts(parts_->filter.fd.get(), &opts);
  }
  if (rc != 0) {
    return ErrnoError("BPF_PROG_TEST_RUN", errno);
  }
  if (extent != nullptr) {
    *extent = ctx_out.cb[WGCAP_CB_EXTENT];
  }
  if (duration != nullptr) {
    *duration = static_cast<double>(opts.duration);
  }
  return opts.retval;
}

Result<EbpfVerdict> EbpfFilterRunner::Run(std::span<const std::uint8_t> packet) {
  std::uint32_t extent = 0;
  auto r = TestRun(packet, 1, &extent, nullptr);
  if (!r) {
    return r.error();
  }
  const auto code = static_cast<int>(*r);
  if (code != kSampledVerdict && code != -1) {
    return Error{"the filter returned " + std::to_string(code) +
                     " instead of the continue verdict or the sample program's",
                 0};
  }
  return EbpfVerdict{code == kSampledVerdict, code == kSampledVerdict ? extent : 0};
}

Result<double> EbpfFilterRunner::Time(std::span<const std::uint8_t> packet, std::uint32_t repeat) {
  double duration = 0;
  auto r = TestRun(packet, repeat, nullptr, &duration);
  if (!r) {
    return r.error();
  }
  return duration;
}

std::uint32_t EbpfFilterRunner::TestRunIfindex() {
  // BPF_PROG_TEST_RUN gives the skb the namespace's loopback device.
  return if_nametoindex("lo");
}

Result<std::uint64_t> EbpfFilterRunner::Seen() const {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) {
    return ErrnoError("counting possible CPUs", -cpus);
  }
  std::vector<std::uint64_t> values(static_cast<std::size_t>(cpus));
  const std::uint32_t key = WGCAP_COUNTER_SEEN;
  if (bpf_map_lookup_elem(parts_->counters.get(), &key, values.data()) != 0) {
    return ErrnoError("reading wgcap_counters", errno);
  }
  std::uint64_t sum = 0;
  for (auto v : values) {
    sum += v;
  }
  return sum;
}

bool EbpfFilterRunner::direct_access() const noexcept {
  return parts_->filter.direct_access;
}
const std::string& EbpfFilterRunner::direct_refused() const noexcept {
  return parts_->filter.direct_refused;
}
bool EbpfFilterRunner::exact() const noexcept {
  return parts_->generated.exact;
}
const std::string& EbpfFilterRunner::note() const noexcept {
  return parts_->generated.note;
}
std::uint32_t EbpfFilterRunner::verified_insns() const noexcept {
  return parts_->filter.verified_insns;
}
std::size_t EbpfFilterRunner::instruction_count() const noexcept {
  return parts_->generated.instructions.size();
}
const std::string& EbpfFilterRunner::disassembly() const noexcept {
  return parts_->disassembly;
}

} // namespace wgcap
