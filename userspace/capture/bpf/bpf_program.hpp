// SPDX-License-Identifier: Apache-2.0
// wgcap's TC program loaded into the kernel (bpftool skeleton), configured
// for one filter, one interface kind and one ring size. It owns the programs
// and maps; attaching them is TcAttachment's job.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "filter/kernel_filter.hpp"
#include "wgcap/capture.hpp" // SampleMode
#include "wgcap/result.hpp"

namespace wgcap {

struct BpfProgramOptions {
  KernelFilterProgram filter;
  std::uint32_t snaplen = 65535;
  std::uint32_t link_header = 0;       // bytes before the IP header (14 on Ethernet)
  std::uint32_t ring_bytes = 4u << 20; // rounded up to a power of two
  SampleMode sample_mode = SampleMode::Auto;
  // Headers read straight from the skb's linear data where it holds them;
  // false reads every one with bpf_skb_load_bytes (the path a non-linear
  // skb takes), for the tests.
  bool direct_access = true;
};

struct KernelCounters {
  std::int64_t seen = 0;
  std::int64_t matched = 0;
  std::int64_t ring_full = 0;
  // False when the map could not be read: before Linux 6.5, with
  // kernel.unprivileged_bpf_disabled set, a process without CAP_BPF (wgcap
  // after -Z) gets EPERM from every bpf() call.
  bool read = true;
};

class BpfProgram {
public:
  // Errors carry the verifier's or libbpf's words and a hint (CAP_BPF).
  static Result<std::unique_ptr<BpfProgram>> Load(const BpfProgramOptions& options);
  ~BpfProgram();
  BpfProgram(const BpfProgram&) = delete;
  BpfProgram& operator=(const BpfProgram&) = delete;

  int ingress_fd() const;
  int egress_fd() const;
  int ring_fd() const;
  KernelCounters ReadCounters() const;
  SampleMode sample_mode() const noexcept { return sample_mode_; }
  // "reserve" or "output", for the listening line and -d.
  const char* sample_mode_name() const noexcept;

  struct Skeleton;

private:
  BpfProgram(std::unique_ptr<Skeleton> skeleton, SampleMode mode);
  std::unique_ptr<Skeleton> skeleton_;
  SampleMode sample_mode_;
};

} // namespace wgcap
