// SPDX-License-Identifier: Apache-2.0
#include "capture/bpf/ring_source.hpp"

#include <bpf/libbpf.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "capture/gso_info.hpp"
#include "wgcap_abi.h"

namespace wgcap {
namespace {

// How often the tick (counters, interface checks) runs, and in a flood
// (the ring never empty) how often the consume loop is left to run it.
constexpr auto kTickInterval = std::chrono::milliseconds(100);
// The kernel side submits with BPF_RB_NO_WAKEUP and forces a wakeup only
// when the backlog crosses a threshold (kWakeupShift in bpf_program.cpp),
// so below it a sample waits for this poll timeout: the latency bound for a
// lone packet (SPEC 4: a pipe reader sees it within 100 ms) and the idle
// cost (one wakeup a timeout). Measured idle on a quiet TUN (2-core dev
// machine, kernel 6.18, run time of all wgcap threads from schedstat, CPU
// per second): 5 ms 10.3 ms/s, 20 ms 3.7, 50 ms 2.8, 100 ms 2.6 (that is
// the 100 ms tick's own cost; ~40 us a wakeup there). 50 ms keeps a lone
// packet well within 100 ms for 0.2 ms/s over the tick.
constexpr int kPollTimeoutMs = 50;
// What OnSample returns to leave libbpf's consume loop, which otherwise runs
// until the ring is empty: in a flood it never is. Checked every so many
// samples (a clock read each time).
constexpr int kLeaveConsume = -EAGAIN;
constexpr unsigned kSamplesPerCheck = 256;

std::int64_t ClockNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

} // namespace

RingSource::RingSource(int ring_fd, Session& session, std::function<void()> tick,
                       std::function<void()> every_poll)
    : ring_fd_(ring_fd), session_(session), tick_(std::move(tick)),
      every_poll_(std::move(every_poll)) {}

RingSource::~RingSource() {
  StopThread();
  ring_buffer__free(ring_);
}

void RingSource::UpdateClockOffset() {
  // The kernel stamps samples with CLOCK_BOOTTIME (monotonic, counts
  // suspend); the wall clock is that plus the current offset.
  boot_to_realtime_ns_ = ClockNs(CLOCK_REALTIME) - ClockNs(CLOCK_BOOTTIME);
}

Status RingSource::Start() {
  UpdateClockOffset();
  ring_ = ring_buffer__new(ring_fd_, &RingSource::OnSample, this, nullptr);
  if (ring_ == nullptr) {
    return ErrnoError("ring_buffer__new", errno);
  }
  wake_.Reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_.valid()) {
    return ErrnoError("eventfd", errno);
  }
  thread_ = std::thread([this] { Run(); });
  return {};
}

int RingSource::OnSample(void* ctx, void* data, std::size_t size) {
  auto* self = static_cast<RingSource*>(ctx);
  if (size < sizeof(wgcap_sample_header)) {
    return 0;
  }
  wgcap_sample_header h;
  std::memcpy(&h, data, sizeof h);
  PacketRecord record;
  record.timestamp_ns = static_cast<std::int64_t>(h.timestamp_ns) + self->boot_to_realtime_ns_;
  record.data = std::span(static_cast<const std::uint8_t*>(data) + sizeof h,
                          std::min<std::size_t>(h.captured_length, size - sizeof h));
  record.original_length = h.original_length;
  record.direction = h.direction == WGCAP_DIR_OUT ? Direction::Outbound : Direction::Inbound;
  record.ifindex = h.ifindex;
  const GsoInfo gso = DeriveGsoInfo(record.data, h.original_length, h.gso_segs, h.gso_size);
  record.gso_segs = gso.segs;
  record.gso_size = gso.size;
  // Straight to the sinks; while they are slow the kernel ring holds the
  // backlog and counts what it cannot take (ring_full).
  if (!self->session_.Deliver(record)) {
    return kLeaveConsume; // the session stopped (limit, sink failure)
  }
  if (self->draining_ || ++self->since_check_ < kSamplesPerCheck) {
    return 0;
  }
  self->since_check_ = 0;
  const bool tick_due = std::chrono::steady_clock::now() - self->last_tick_ >= kTickInterval;
  return tick_due || self->stop_.load(std::memory_order_acquire) ? kLeaveConsume : 0;
}

bool RingSource::ConsumeBatch() {
  if (!session_.BeginDelivery()) {
    return false; // the session stopped (limit, sink failure, Stop)
  }
  // Every sample the ring holds, each handed over from ring memory.
  const int n = ring_buffer__consume(ring_);
  // Ran dry unless left early (a flood): then the flush waits for its
  // interval, not for every batch.
  session_.EndDelivery(n >= 0);
  return n >= 0 || n == kLeaveConsume;
}

void RingSource::Run() {
  last_tick_ = std::chrono::steady_clock::now();
  while (!stop_.load(std::memory_order_acquire)) {
    // poll() on the ring's map fd looks at the ring again when the timeout
    // expires, so samples submitted without a wakeup are seen then (libbpf's
    // epoll-based ring_buffer__poll would miss them: no event was queued).
    pollfd fds[2] = {{ring_fd_, POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    const int n = poll(fds, 2, kPollTimeoutMs);
    if (n < 0 && errno != EINTR) {
      break;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      break; // StopThread
    }
    if ((fds[0].revents & POLLIN) != 0 && !ConsumeBatch()) {
      break;
    }
    if (every_poll_) {
      every_poll_();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_tick_ >= kTickInterval) {
      UpdateClockOffset();
      tick_();
      last_tick_ = now;
    }
  }
}

void RingSource::StopThread() {
  stop_.store(true, std::memory_order_release);
  if (wake_.valid()) {
    const std::uint64_t one = 1;
    (void)!write(wake_.get(), &one, sizeof one);
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

void RingSource::Drain() {
  if (ring_ != nullptr) {
    draining_ = true; // after StopThread: this thread is the only consumer
    if (session_.BeginDelivery()) {
      ring_buffer__consume(ring_);
      session_.EndDelivery(true);
    }
  }
}

} // namespace wgcap
