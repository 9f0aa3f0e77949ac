// SPDX-License-Identifier: Apache-2.0
// An asymmetric Dekker fence: the producers' Offer runs on every packet and
// the threads that need the store-load ordering against it (the writer going
// to sleep, Stop waiting for producers in flight) run rarely. So the frequent
// side pays only a compiler barrier and the rare side a
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a full memory
// barrier on every CPU running a thread of this process: after it returns,
// each producer's earlier stores are visible to the caller, and each
// producer's later loads see the caller's earlier stores. Where the kernel
// lacks it (before 4.14, or seccomp), both sides fall back to a shared RMW.
// Pattern: one side stores A, Light/HeavyFence, loads B; the other stores B,
// the other fence, loads A; at least one of them sees the other's store.
#pragma once

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace wgcap::session_internal {

// Set once, before the first Session exists (RegisterAsymmetricFence), and
// read by both sides afterwards.
inline std::atomic<bool> g_membarrier_ready{false};

// Called by Session::Create before a session's threads start; std::call_once
// makes the result visible to every thread that uses a session.
inline void RegisterAsymmetricFence() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    const long commands = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (commands < 0 || (commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) {
      return;
    }
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0) {
      g_membarrier_ready.store(true, std::memory_order_relaxed);
    }
  });
}

// Without membarrier both sides do an acq_rel read-modify-write of this one
// word instead of a fence: the RMWs are totally ordered, and whichever
// comes second reads the first and so sees the stores before it. (A
// seq_cst fence would do the same, but ThreadSanitizer neither models
// fences nor lets GCC build them.) Contended, but only on such kernels.
inline std::atomic<std::uint32_t> g_fence_word{0};

// The producers' side.
inline void LightFence() noexcept {
  if (g_membarrier_ready.load(std::memory_order_relaxed)) [[likely]] {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    g_fence_word.fetch_add(0, std::memory_order_acq_rel);
  }
}

// The rare side.
inline void HeavyFence() noexcept {
  if (g_membarrier_ready.load(std::memory_order_relaxed) &&
      syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) {
    return;
  }
  // Not reached once registered (the kernel fails the command only for an
  // unregistered process).
  g_fence_word.fetch_add(0, std::memory_order_acq_rel);
}

} // namespace wgcap::session_internal
