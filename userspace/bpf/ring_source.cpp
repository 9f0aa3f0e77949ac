// SPDX-License-Identifier: Apache-2.0
#include "bpf/ring_source.hpp"

#include <bpf/libbpf.h>
#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "wgcap/abi.h"

namespace wgcap {
namespace {

constexpr int kPollMs = 100;

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
  self->session_.Offer(record);
  return 0;
}

void RingSource::Run() {
  auto last_tick = std::chrono::steady_clock::now();
  while (!stop_.load(std::memory_order_acquire)) {
    const int n = ring_buffer__poll(ring_, kPollMs);
    if (n < 0 && n != -EINTR) {
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_tick >= std::chrono::milliseconds(kPollMs)) {
      UpdateClockOffset();
      tick_();
      last_tick = now;
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
    ring_buffer__consume(ring_);
  }
}

} // namespace wgcap
