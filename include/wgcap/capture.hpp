// SPDX-License-Identifier: Apache-2.0
// A live capture backend: one interface, two implementations (BpfCapture,
// AFPacketCapture), chosen at run time. Each feeds a Session.
#pragma once

#include <string>

#include "wgcap/result.hpp"

namespace wgcap {

// Which packets a live capture takes (tcpdump's -Q), selected in the kernel:
// the bpf backend attaches only that TC hook, the afpacket backend's socket
// filter rejects the other packet type.
enum class CaptureDirection { InOut, In, Out };

class Capture {
public:
  virtual ~Capture() = default;
  // Attaches and starts delivering packets; returns at once. Starting
  // twice, or after Stop, is an error.
  virtual Status Start() = 0;
  // Detaches and hands over everything already captured. Idempotent.
  virtual void Stop() = 0;
  // The capture ended on its own (the interface went away).
  virtual bool Failed() const noexcept = 0;
  virtual Status error() const = 0;
  // "bpf/tcx", "bpf/tc" or "afpacket".
  virtual std::string backend_name() const = 0;
  // Why the in-kernel filter is not exact ("" when it is).
  virtual const std::string& filter_note() const noexcept = 0;
};

} // namespace wgcap
