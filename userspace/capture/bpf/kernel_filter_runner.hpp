// SPDX-License-Identifier: Apache-2.0
// Runs packets through the loaded TC program with BPF_PROG_TEST_RUN (no
// interface, no attachment): the verdict is whether a sample reached the
// ring, and the sample itself is returned for comparison. Used by
// --parity-check and by the kernel tests and benchmarks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "capture/bpf/bpf_program.hpp"

namespace wgcap {

struct KernelSample {
  std::uint32_t original_length = 0;
  std::uint32_t captured_length = 0;
  std::uint8_t direction = 0;
  std::vector<std::uint8_t> data;
};

class KernelFilterRunner {
public:
  // Loads the program for test runs: packets get a synthetic Ethernet header
  // (BPF_PROG_TEST_RUN builds an Ethernet skb), so link_header is 14.
  static Result<std::unique_ptr<KernelFilterRunner>> Create(const KernelFilterProgram& filter,
                                                            std::uint32_t snaplen,
                                                            SampleMode mode = SampleMode::Auto,
                                                            bool direct_access = true);
  ~KernelFilterRunner();

  // The sample the program produced for `packet` (network-layer bytes), or
  // nullopt when it did not match.
  Result<std::optional<KernelSample>> Run(std::span<const std::uint8_t> packet);
  // Runs `packet` `repeat` times in the kernel; the average ns per run.
  Result<double> Time(std::span<const std::uint8_t> packet, std::uint32_t repeat);

  const BpfProgram& program() const noexcept { return *program_; }

  struct Ring;

private:
  KernelFilterRunner(std::unique_ptr<BpfProgram> program, std::unique_ptr<Ring> ring);
  std::unique_ptr<BpfProgram> program_;
  std::unique_ptr<Ring> ring_;
  std::vector<std::uint8_t> frame_;
};

} // namespace wgcap
