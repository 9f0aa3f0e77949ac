// SPDX-License-Identifier: Apache-2.0
#include "capture/lifecycle.hpp"

namespace wgcap {

Status CaptureLifecycle::Start(const std::function<Status()>& open,
                               const std::function<void()>& undo) {
  std::lock_guard lock(lifecycle_);
  if (stopped_) {
    return Error{name_ + ": cannot start after Stop", 0, ErrorKind::Usage};
  }
  if (started_) {
    return Error{name_ + ": already started", 0, ErrorKind::Usage};
  }
  if (Status opened = open(); !opened) {
    undo();
    return opened;
  }
  started_ = true;
  return {};
}

void CaptureLifecycle::Stop(const std::function<void()>& stop) {
  std::lock_guard lock(lifecycle_);
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (started_) {
    stop();
  }
}

void CaptureLifecycle::Fail(Error error) {
  {
    std::lock_guard lock(error_mutex_);
    failure_ = std::move(error);
  }
  failed_.store(true, std::memory_order_release);
}

Status CaptureLifecycle::error() const {
  if (!Failed()) {
    return {};
  }
  std::lock_guard lock(error_mutex_);
  return failure_;
}

} // namespace wgcap
