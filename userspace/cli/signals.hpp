// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "base/unique_fd.hpp"

namespace wgcap::cli {

enum class SignalEvent { None, Stop, PrintCounts };

// SIGINT, SIGTERM and SIGUSR1 as events on a signalfd. Construct before any
// thread starts, so every thread inherits the blocked mask and only this fd
// sees the signals.
class CaptureSignals {
public:
  CaptureSignals();
  ~CaptureSignals();
  CaptureSignals(const CaptureSignals&) = delete;
  CaptureSignals& operator=(const CaptureSignals&) = delete;

  // Waits up to timeout_ms for a signal.
  SignalEvent Wait(int timeout_ms);

private:
  UniqueFd fd_;
};

} // namespace wgcap::cli
