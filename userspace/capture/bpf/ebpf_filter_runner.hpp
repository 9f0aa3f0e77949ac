// SPDX-License-Identifier: Apache-2.0
// Runs the generated eBPF filter of an expression on packets with
// BPF_PROG_TEST_RUN (no interface, no attachment), as the hook would run
// it: its own counters map, and a prog array whose sample slot holds a
// stand-in sample program that returns kSampledVerdict. A match is a tail
// call into it; the extent the filter stored in skb->cb comes back through
// ctx_out. Used by the kernel parity tests, the fuzz target and the
// benchmarks.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "wgcap/filter_ast.hpp"
#include "wgcap/matcher.hpp"
#include "wgcap/result.hpp"

namespace wgcap {

struct EbpfRunnerOptions {
  // A constructor rather than an aggregate: callers brace the first two
  // ({14, true}) and -Wmissing-field-initializers would flag the rest.
  EbpfRunnerOptions(unsigned link = 14, bool direct = true, bool on_egress = false,
                    std::shared_ptr<const PeerDirectory> peer_directory = {})
      : link_header(link), direct_access(direct), egress(on_egress),
        peers(std::move(peer_directory)) {}
  // 14: packets get a synthetic Ethernet header (as on a veth); 0: the IP
  // packet is the frame, as on WireGuard (packets under 14 bytes cannot be
  // test-run then: the kernel wants an Ethernet header's worth).
  unsigned link_header = 14;
  bool direct_access = true; // false: every read by bpf_skb_load_bytes
  // The hook the program is generated for: egress reads a `peer` term's
  // destination address, ingress its source.
  bool egress = false;
  // Mirrored into the runner's wgcap_peers before every run whose version
  // moved, as BpfCapture does, for TestRunIfindex() (and ifindex 0).
  std::shared_ptr<const PeerDirectory> peers;
};

struct EbpfVerdict {
  bool matched = false;
  std::uint32_t extent = 0; // skb->cb[WGCAP_CB_EXTENT] on a match
};

class EbpfFilterRunner {
public:
  static constexpr int kSampledVerdict = 7;

  static Result<std::unique_ptr<EbpfFilterRunner>> Create(const FilterExpression& expression,
                                                          const EbpfRunnerOptions& options = {});
  ~EbpfFilterRunner();

  // The verdict for `packet` (network-layer bytes).
  Result<EbpfVerdict> Run(std::span<const std::uint8_t> packet);
  // Runs `packet` `repeat` times in the kernel; the average ns per run.
  Result<double> Time(std::span<const std::uint8_t> packet, std::uint32_t repeat);
  // The ifindex a test run's skb has (the loopback device of the caller's
  // network namespace): the one to publish `peers` routes under.
  static std::uint32_t TestRunIfindex();

  // wgcap_counters[WGCAP_COUNTER_SEEN], summed over CPUs.
  Result<std::uint64_t> Seen() const;

  bool exact() const noexcept;
  // Whether the loaded program reads from the linear data (false when asked
  // not to, or when the verifier refused it: 5.10 without CAP_PERFMON).
  bool direct_access() const noexcept;
  const std::string& direct_refused() const noexcept; // the verifier's reason, if refused
  const std::string& note() const noexcept;
  std::uint32_t verified_insns() const noexcept;
  std::size_t instruction_count() const noexcept;
  const std::string& disassembly() const noexcept;

  struct Parts;

private:
  explicit EbpfFilterRunner(std::unique_ptr<Parts> parts);
  Result<std::uint32_t> TestRun(std::span<const std::uint8_t> packet, std::uint32_t repeat,
                                std::uint32_t* extent, double* duration);
  std::unique_ptr<Parts> parts_;
};

} // namespace wgcap
