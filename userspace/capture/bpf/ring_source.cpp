// SPDX-License-Identifier: Apache-2.0
#include "capture/bpf/ring_source.hpp"

#include <bpf/libbpf.h>
#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "wgcap_abi.h"

namespace wgcap {
namespace {

constexpr int kPollMs = 100;
// What OnSample returns to leave libbpf's consume loop, which otherwise runs
// until the ring is empty: in a flood it never is. Checked every so many
// samples (a clock read each time).
constexpr int kLeaveConsume = -EAGAIN;
constexpr unsigned kSamplesPerCheck = 256;
// The pause after a poll that found samples. The kernel wakes a consumer
// that has caught up for every sample it submits; one that pauses is behind
// meanwhile and gets no wake-ups, so in a busy second this thread (and the
// writer it wakes once per batch) wakes at most ~200 times rather than once
// per packet, for at most this much more latency (libpcap's default is up to
// a second). The ring holds the backlog (4 MiB by default: ~26,000 samples
// of 128 bytes, 26 ms at 1 Mpps). Measured at 100 kpps: 1 ms costs three
// times the CPU of 5 ms.
constexpr auto kCoalesce = std::chrono::milliseconds(5);

std::int64_t ClockNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

} // namespace

RingSource::RingSource(int ring_fd, Session& session, std::function<void()> tick)
    : ring_fd_(ring_fd), session_(session), tick_(std::move(tick)) {}

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
  // Straight to the sinks; while they are slow the kernel ring holds the
  // backlog and counts what it cannot take (ring_full).
  if (!self->session_.Deliver(record)) {
    return kLeaveConsume; // the session stopped (limit, sink failure)
  }
  if (self->draining_ || ++self->since_check_ < kSamplesPerCheck) {
    return 0;
  }
  self->since_check_ = 0;
  const bool tick_due =
      std::chrono::steady_clock::now() - self->last_tick_ >= std::chrono::milliseconds(kPollMs);
  return tick_due || self->stop_.load(std::memory_order_acquire) ? kLeaveConsume : 0;
}

void RingSource::Run() {
  last_tick_ = std::chrono::steady_clock::now();
  while (!stop_.load(std::memory_order_acquire)) {
    if (!session_.BeginDelivery()) {
      break;
    }
    const int n = ring_buffer__poll(ring_, kPollMs);
    session_.EndDelivery(n >= 0);
    if (n < 0 && n != -EINTR && n != kLeaveConsume) {
      break;
    }
    if ((n > 0 || n == kLeaveConsume) && !stop_.load(std::memory_order_acquire)) {
      std::this_thread::sleep_for(kCoalesce);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_tick_ >= std::chrono::milliseconds(kPollMs)) {
      UpdateClockOffset();
      tick_();
      last_tick_ = now;
    }
  }
}

void RingSource::StopThread() {
  stop_.store(true, std::memory_order_release);
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
