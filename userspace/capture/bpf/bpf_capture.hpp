// SPDX-License-Identifier: Apache-2.0
// The eBPF backend: wgcap's TC program, with the filter compiled in, on the
// ingress (IN) and egress (OUT) of one interface; matches arrive through a
// BPF ring buffer and are handed to the Session, whose Matcher applies again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "capture/bpf/bpf_program.hpp"
#include "wgcap/capture.hpp"
#include "wgcap/filter_ast.hpp"
#include "wgcap/result.hpp"
#include "wgcap/session.hpp"

namespace wgcap {

// The options are the library's (TcAttachKind, SampleMode, the direction
// and the expression for the kernel filter); `mode` is OpenCapture's.
using BpfCaptureOptions = CaptureOptions;

// Bytes before the IP header in what a TC program sees on `interface` (14 on
// Ethernet and loopback, 0 on WireGuard, TUN and other L3 devices); an error
// for a link type the bpf backend does not support.
Result<std::uint32_t> LinkHeaderLength(const std::string& interface);

class BpfCapture final : public Capture {
public:
  BpfCapture(std::string interface, Session& session, BpfCaptureOptions options = {});
  ~BpfCapture() override; // Stop()s
  BpfCapture(const BpfCapture&) = delete;
  BpfCapture& operator=(const BpfCapture&) = delete;

  // Loads, attaches (removing a killed earlier run's leftovers first) and
  // starts draining the ring. Errors name what failed and the capability
  // that is missing (CAP_BPF, CAP_NET_ADMIN). Start twice, or after Stop, is
  // an error.
  Status Start() override;
  // Detaches, drains what the ring still holds, publishes the final
  // counters. Idempotent.
  void Stop() override;

  bool Failed() const noexcept override; // the interface went away
  Status error() const override;
  // "bpf/tcx" or "bpf/tc" once started.
  std::string backend_name() const override;
  // Why the kernel filter is not exact ("" when it is).
  const std::string& filter_note() const noexcept override;
  const char* sample_mode_name() const noexcept;
  // "listening on wg0 (bpf/tcx), snaplen 65535, samples by ringbuf reserve".
  std::string description() const override;
  int ifindex() const noexcept override;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace wgcap
