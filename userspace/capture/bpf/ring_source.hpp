// SPDX-License-Identifier: Apache-2.0
// Drains wgcap's BPF ring buffer into a Session on its own thread, with
// libbpf's ring_buffer API. Samples are offered straight from the ring's
// memory (the Session copies each once, into its slot).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include "wgcap/result.hpp"
#include "wgcap/session.hpp"

struct ring_buffer;

namespace wgcap {

class RingSource {
public:
  // `tick` runs on the reader thread about every 100 ms (counters, checks).
  RingSource(int ring_fd, Session& session, std::function<void()> tick);
  ~RingSource();
  RingSource(const RingSource&) = delete;
  RingSource& operator=(const RingSource&) = delete;

  Status Start();
  // Ends the reader thread; samples still in the ring stay there until Drain.
  void StopThread();
  // Hands every sample still in the ring to the session (after detach).
  void Drain();

private:
  static int OnSample(void* ctx, void* data, std::size_t size);
  void Run();
  void UpdateClockOffset();

  int ring_fd_;
  Session& session_;
  std::function<void()> tick_;
  ring_buffer* ring_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::int64_t boot_to_realtime_ns_ = 0;
  // The consuming thread's own (the reader, or Drain's caller after it).
  std::chrono::steady_clock::time_point last_tick_{};
  unsigned since_check_ = 0;
  bool draining_ = false;
};

} // namespace wgcap
