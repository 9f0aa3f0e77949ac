// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>

namespace wgcap {

// Lets a thread sleep until a condition holds without making the thread that
// establishes it ever block: a notifier pays one load, plus a FUTEX_WAKE
// (which never blocks) only while someone is registered as waiting. The
// waiter registers before re-checking the condition and the notifier checks
// for waiters after making it true, both with seq_cst operations, so one of
// them always sees the other and no wake-up is lost. seq_cst operations rather
// than fences because ThreadSanitizer does not model fences.
class EventCount {
public:
  // Then re-check the condition with seq_cst loads, then Wait or CancelWait.
  std::uint32_t PrepareWait() noexcept {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_seq_cst);
  }
  void CancelWait() noexcept { waiters_.fetch_sub(1, std::memory_order_relaxed); }
  void Wait(std::uint32_t key, std::chrono::nanoseconds timeout) noexcept {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    timespec ts{};
    ts.tv_sec = seconds.count();
    ts.tv_nsec = (timeout - seconds).count();
    // EAGAIN (a notify came first), EINTR and ETIMEDOUT all mean: re-check.
    syscall(SYS_futex, FutexWord(), FUTEX_WAIT_PRIVATE, key, &ts, nullptr, 0);
    waiters_.fetch_sub(1, std::memory_order_relaxed);
  }
  // After the seq_cst store that made the condition true.
  void Notify() noexcept {
    if (waiters_.load(std::memory_order_seq_cst) == 0) {
      return;
    }
    Wake();
  }
  // After release stores made the condition true (cheaper per store than
  // seq_cst ones when many come before one notification): the read-modify-
  // write orders those stores before the check for waiters, as the seq_cst
  // store does for Notify. A waiter's PrepareWait either comes first in
  // waiters_'s order (this sees it) or reads what this wrote, and so sees
  // the stores before it.
  void NotifyAfterRelease() noexcept {
    if (waiters_.fetch_add(0, std::memory_order_seq_cst) == 0) {
      return;
    }
    Wake();
  }

private:
  void Wake() noexcept {
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    syscall(SYS_futex, FutexWord(), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }
  std::uint32_t* FutexWord() noexcept { return reinterpret_cast<std::uint32_t*>(&epoch_); }

  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> waiters_{0};
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free &&
              sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

} // namespace wgcap
