// SPDX-License-Identifier: Apache-2.0
// Drains wgcap's BPF ring buffer into a Session on its own thread, with
// libbpf's ring_buffer API: each sample goes from the ring's memory straight
// to the sinks (Session::Deliver), no queue and no copy in between. The
// kernel side wakes this thread only past a fill threshold; a short poll
// timeout picks up the rest.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include "base/unique_fd.hpp"
#include "wgcap/result.hpp"
#include "wgcap/session.hpp"

struct ring_buffer;

namespace wgcap {

class RingSource {
public:
  // `tick` runs on the reader thread about every 100 ms (counters, checks).
  // `every_poll`, if set, runs after each poll (at least every 50 ms): for
  // checks cheap enough to make that often (the peers' version).
  RingSource(int ring_fd, Session& session, std::function<void()> tick,
             std::function<void()> every_poll = {});
  ~RingSource();
  RingSource(const RingSource&) = delete;
  RingSource& operator=(const RingSource&) = delete;

  Status Start();
  // Ends the reader thread at once (an eventfd wakes it); samples still in
  // the ring stay there until Drain.
  void StopThread();
  // Hands every sample still in the ring to the session (after detach).
  void Drain();

private:
  static int OnSample(void* ctx, void* data, std::size_t size);
  void Run();
  // One batch: everything the ring holds now, to the session. False once
  // the session stopped.
  bool ConsumeBatch();
  void UpdateClockOffset();

  int ring_fd_;
  Session& session_;
  std::function<void()> tick_;
  std::function<void()> every_poll_;
  ring_buffer* ring_ = nullptr;
  UniqueFd wake_; // eventfd: StopThread wakes the reader's poll
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::int64_t boot_to_realtime_ns_ = 0;
  // The consuming thread's own (the reader, or Drain's caller after it).
  std::chrono::steady_clock::time_point last_tick_{};
  unsigned since_check_ = 0;
  bool draining_ = false;
};

} // namespace wgcap
