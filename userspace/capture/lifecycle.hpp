// SPDX-License-Identifier: Apache-2.0
// The part of a live capture both backends share: Start at most once and
// never after Stop, Stop once (and only what was started), and the failure
// the reader thread records when the capture ends on its own.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "wgcap/result.hpp"

namespace wgcap {

class CaptureLifecycle {
public:
  // `name` opens the lifecycle errors: "BpfCapture on wg0".
  explicit CaptureLifecycle(std::string name) : name_(std::move(name)) {}

  // Runs `open` under the lifecycle lock; when it fails, runs `undo` (which
  // releases what `open` took) and returns its error.
  Status Start(const std::function<Status()>& open, const std::function<void()>& undo);
  // Runs `stop` once, under the lock, if Start succeeded. Idempotent.
  void Stop(const std::function<void()>& stop);

  // From the reader thread: the capture ended on its own.
  void Fail(Error error);
  bool Failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  Status error() const;

private:
  std::string name_;
  std::mutex lifecycle_;
  bool started_ = false;
  bool stopped_ = false;
  std::atomic<bool> failed_{false};
  mutable std::mutex error_mutex_;
  Error failure_;
};

} // namespace wgcap
