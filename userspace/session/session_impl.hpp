// SPDX-License-Identifier: Apache-2.0
// The Session's state, shared by its two halves: the producers' side
// (Offer, inline here: the hot path) and the writer thread
// (session_writer.cpp). Private to userspace/session/.
#pragma once

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include "file/session_sinks.hpp"
#include "session/event_count.hpp"
#include "wgcap/session.hpp"

namespace wgcap {
namespace session_internal {

constexpr std::size_t kCacheLine = 64;
constexpr std::size_t kDefaultSlots = 256;
// SPEC 4: a reader on a pipe sees packets at least this often.
constexpr auto kFlushInterval = std::chrono::milliseconds(100);
constexpr std::uint64_t kFlushCheckEvery = 16;
// Both waits re-check their condition on wake-up; the timeouts only bound the
// damage should a wake-up ever be missed.
constexpr auto kWriterIdleWait = std::chrono::milliseconds(100);
constexpr auto kOfferWaitTimeout = std::chrono::milliseconds(10);

inline std::int64_t RealtimeNs() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline std::uint32_t ClampLength(std::size_t n) noexcept {
  return static_cast<std::uint32_t>(std::min<std::size_t>(n, UINT32_MAX));
}

inline std::uint32_t OriginalLength(const PacketRecord& packet) noexcept {
  return packet.original_length != 0 ? packet.original_length : ClampLength(packet.data.size());
}

// One queue cell; its packet bytes live in a separate array of snaplen-sized
// buffers. A cache line each, so producers filling neighbouring cells do not
// share lines.
struct alignas(kCacheLine) Slot {
  // pos: free for the producer of position pos; pos + 1: holds that packet.
  std::atomic<std::uint64_t> sequence{0};
  std::int64_t timestamp_ns = 0;
  std::uint32_t original_length = 0;
  std::uint32_t captured_length = 0;
  std::uint32_t ifindex = 0;
  Direction direction = Direction::Unknown;
};

enum class Claim { kClaimed, kFull, kLimit };
enum class DrainEnd { kEmpty, kLimit, kFailed };

} // namespace session_internal
using namespace session_internal; // only the session/ sources include this

struct Session::Impl {
  Impl(Options options, std::uint32_t snap, std::size_t slot_count)
      : matcher_owner(std::move(options.matcher)),
        matcher(matcher_owner && !matcher_owner->MatchesAll() ? matcher_owner.get() : nullptr),
        snaplen(snap), capacity(slot_count), notify_batch(std::max<std::size_t>(1, slot_count / 4)),
        limit(options.packet_limit > 0 ? static_cast<std::uint64_t>(options.packet_limit)
                                       : std::numeric_limits<std::uint64_t>::max()),
        flush_every_packet(options.flush_every_packet), slots(std::make_unique<Slot[]>(slot_count)),
        // Pages no packet ever reaches are never touched, so cost nothing.
        data(std::make_unique_for_overwrite<std::uint8_t[]>(slot_count * snap)),
        owned_sinks(options, snap) {
    for (std::size_t i = 0; i < capacity; ++i) {
      slots[i].sequence.store(i, std::memory_order_relaxed);
    }
  }

  Slot& SlotAt(std::uint64_t pos) noexcept { return slots[pos % capacity]; }
  std::uint8_t* SlotData(std::uint64_t pos) noexcept {
    return data.get() + (pos % capacity) * std::size_t{snaplen};
  }

  // --- producers --------------------------------------------------------

  // Counts the caller as in flight before it checks `accepting`, so Stop can
  // wait for every producer that got past the check to finish publishing.
  class ProducerScope {
  public:
    explicit ProducerScope(Impl& impl) noexcept : impl_(impl) {
      // The first check keeps producers that arrive after Stop off the
      // counter, so Stop's wait for it to reach zero cannot be starved.
      if (!impl_.accepting.load(std::memory_order_relaxed)) {
        return;
      }
      counted_ = true;
      impl_.active_producers.fetch_add(1, std::memory_order_seq_cst);
      admitted_ = impl_.accepting.load(std::memory_order_seq_cst);
    }
    ~ProducerScope() {
      if (counted_) {
        impl_.active_producers.fetch_sub(1, std::memory_order_release);
      }
    }
    ProducerScope(const ProducerScope&) = delete;
    ProducerScope& operator=(const ProducerScope&) = delete;
    bool admitted() const noexcept { return admitted_; }

  private:
    Impl& impl_;
    bool counted_ = false;
    bool admitted_ = false;
  };

  // Counts the packet as received and, when the Matcher takes it, matched.
  bool Admit(const PacketRecord& packet, std::uint32_t original_length) noexcept {
    received.fetch_add(1, std::memory_order_relaxed);
    if (matcher != nullptr && !matcher->Match(packet.data, original_length)) {
      return false;
    }
    matched.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // The packet limit caps the positions ever handed out, so exactly `limit`
  // packets are queued however many producers race for the last ones.
  Claim ClaimSlot(std::uint64_t& pos) noexcept {
    pos = enqueue_pos.load(std::memory_order_relaxed);
    for (;;) {
      if (pos >= limit) {
        return Claim::kLimit;
      }
      const std::uint64_t sequence = SlotAt(pos).sequence.load(std::memory_order_acquire);
      const auto lag = static_cast<std::int64_t>(sequence - pos);
      if (lag == 0) {
        if (enqueue_pos.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          return Claim::kClaimed;
        }
      } else if (lag < 0) {
        return Claim::kFull; // the writer has not yet freed this cell
      } else {
        pos = enqueue_pos.load(std::memory_order_relaxed);
      }
    }
  }

  Claim Queue(const PacketRecord& packet, std::uint32_t original_length, bool wake) noexcept {
    std::uint64_t pos = 0;
    const Claim claim = ClaimSlot(pos);
    if (claim != Claim::kClaimed) {
      return claim;
    }
    Slot& slot = SlotAt(pos);
    const std::size_t captured = std::min<std::size_t>(packet.data.size(), snaplen);
    if (captured != 0) {
      std::memcpy(SlotData(pos), packet.data.data(), captured);
    }
    slot.timestamp_ns = packet.timestamp_ns;
    slot.original_length = original_length;
    slot.captured_length = static_cast<std::uint32_t>(captured);
    slot.ifindex = packet.ifindex;
    slot.direction = packet.direction;
    if (wake) {
      slot.sequence.store(pos + 1, std::memory_order_seq_cst);
      queue_filled.Notify();
    } else {
      // The caller notifies after the batch (NotifyAfterRelease orders it).
      slot.sequence.store(pos + 1, std::memory_order_release);
    }
    return Claim::kClaimed;
  }

  bool Offer(const PacketRecord& packet) noexcept {
    ProducerScope scope(*this);
    if (!scope.admitted()) {
      return false;
    }
    const std::uint32_t original_length = OriginalLength(packet);
    if (!Admit(packet, original_length)) {
      return false;
    }
    const Claim claim = Queue(packet, original_length, true);
    if (claim == Claim::kFull) {
      dropped.fetch_add(1, std::memory_order_relaxed);
    }
    return claim == Claim::kClaimed;
  }

  // A filtered-out packet returns true: the session is still running, which
  // is what a file reader needs to know. `wake` false leaves waking the
  // writer to the caller (EndBatch), except before waiting for room: the
  // writer may be asleep on the very packets that fill the queue.
  bool OfferWait(const PacketRecord& packet, bool wake) {
    const std::uint32_t original_length = OriginalLength(packet);
    for (bool first = true;; first = false) {
      if (!first) {
        if (!wake) {
          queue_filled.NotifyAfterRelease();
        }
        WaitForFreeSlot();
      }
      // Not in flight while sleeping, so Stop never waits for a sleeper.
      ProducerScope scope(*this);
      if (!scope.admitted()) {
        return false;
      }
      if (first && !Admit(packet, original_length)) {
        return true;
      }
      const Claim claim = Queue(packet, original_length, wake);
      if (claim != Claim::kFull) {
        return claim == Claim::kClaimed;
      }
    }
  }

  bool QueueFull() noexcept {
    const std::uint64_t pos = enqueue_pos.load(std::memory_order_seq_cst);
    if (pos >= limit) {
      return false; // nothing to wait for; the claim reports the limit
    }
    return static_cast<std::int64_t>(SlotAt(pos).sequence.load(std::memory_order_seq_cst) - pos) <
           0;
  }

  void WaitForFreeSlot() noexcept {
    const std::uint32_t key = slot_freed.PrepareWait();
    if (!accepting.load(std::memory_order_seq_cst) || !QueueFull()) {
      slot_freed.CancelWait();
      return;
    }
    slot_freed.Wait(key, kOfferWaitTimeout);
  }

  // --- the sinks' side (session_writer.cpp) --------------------------------

  // What the sinks were given, by the writer thread or a delivering thread,
  // whichever holds sinks_mutex.
  struct SinkState {
    std::chrono::steady_clock::time_point last_flush = std::chrono::steady_clock::now();
    bool dirty = false;  // written since the last flush
    bool closed = false; // Close ran: nothing more reaches the sinks
    std::uint64_t written = 0;
    std::int64_t written_bytes = 0;
  };
  // The writer thread's own.
  struct WriterState {
    std::size_t freed_unnotified = 0; // slots freed since slot_freed last woke
  };

  void Run() noexcept;
  // These hold sinks_mutex.
  DrainEnd Drain(WriterState& state);
  bool Written(const PacketRecord& packet); // counts it, flushes when due
  bool WriteToSinks(const PacketRecord& packet);
  bool FlushSinks();
  void SleepUntilQueued() noexcept;

  // Direct delivery (Session::BeginDelivery and the rest).
  bool BeginDelivery();
  bool Deliver(const PacketRecord& packet);
  void EndDelivery(bool ran_dry);
  // A delivering thread reached the limit or saw a sink fail: wakes the
  // writer thread to finish the sinks.
  void EndDeliveries() noexcept;
  void Fail(PacketSink* sink, const Error& error);
  // Runs once, on the writer thread, whatever ended the capture. A failed
  // sink gets no further call; the others are finished and flushed, so what
  // they already hold stays complete (a pcapng file keeps its statistics
  // block when the text pipe closed). Packets still queued after a failure
  // are discarded: SPEC 7 says a failed write stops the capture.
  void Close() noexcept;

  // --- any thread ---------------------------------------------------------

  void Stop() {
    accepting.store(false, std::memory_order_seq_cst);
    slot_freed.Notify(); // OfferWait callers re-check and leave
    while (active_producers.load(std::memory_order_seq_cst) != 0) {
      std::this_thread::yield();
    }
    stop_requested.store(true, std::memory_order_seq_cst);
    queue_filled.Notify();
    const std::thread::id self = std::this_thread::get_id();
    if (writer_id.load(std::memory_order_acquire) == self ||
        deliverer_id.load(std::memory_order_acquire) == self) {
      // Called from a sink: the writer drains and exits after it returns
      // (and, on a delivering thread, after the batch ends).
      return;
    }
    std::lock_guard lock(join_mutex);
    if (writer.joinable()) {
      writer.join();
    }
  }

  Stats GetStats() const noexcept {
    Stats s;
    s.received = received.load(std::memory_order_relaxed) +
                 delivered_received.load(std::memory_order_relaxed);
    s.matched =
        matched.load(std::memory_order_relaxed) + delivered_matched.load(std::memory_order_relaxed);
    s.packets = packets.load(std::memory_order_relaxed);
    s.bytes = bytes.load(std::memory_order_relaxed);
    s.dropped = dropped.load(std::memory_order_relaxed);
    s.kernel_seen = kernel_seen.load(std::memory_order_relaxed);
    s.kernel_matched = kernel_matched.load(std::memory_order_relaxed);
    s.kernel_ring_drops = kernel_ring_drops.load(std::memory_order_relaxed);
    s.kernel_drops = kernel_drops.load(std::memory_order_relaxed);
    s.kernel_filter_fallback = kernel_filter_fallback.load(std::memory_order_relaxed);
    return s;
  }

  // Read-only after Create.
  const std::shared_ptr<const Matcher> matcher_owner;
  const Matcher* const matcher; // null when every packet matches
  const std::uint32_t snaplen;
  const std::size_t capacity;
  const std::size_t notify_batch; // freed slots per slot_freed wake-up
  const std::uint64_t limit;      // max when none
  const bool flush_every_packet;
  const std::unique_ptr<Slot[]> slots;
  const std::unique_ptr<std::uint8_t[]> data; // capacity * snaplen
  const SessionSinks owned_sinks;             // the writers Options names, built in file/
  const std::vector<PacketSink*>& sinks = owned_sinks.all();

  // Read by every Offer, written once: kept apart from the counters that
  // producers write.
  alignas(kCacheLine) std::atomic<bool> accepting{true};
  std::atomic<bool> stop_requested{false};

  // Written by producers on every packet.
  alignas(kCacheLine) std::atomic<std::int64_t> active_producers{0};
  std::atomic<std::int64_t> received{0};
  std::atomic<std::int64_t> matched{0};
  std::atomic<std::int64_t> dropped{0};
  alignas(kCacheLine) std::atomic<std::uint64_t> enqueue_pos{0};

  // Written by the writer thread only.
  alignas(kCacheLine) std::uint64_t dequeue_pos = 0;

  // The sinks and what was written to them: the writer thread and a
  // delivering thread take turns.
  alignas(kCacheLine) std::mutex sinks_mutex;
  SinkState sink_state;
  PacketSink* failed_sink = nullptr;
  std::atomic<std::int64_t> packets{0};
  std::atomic<std::int64_t> bytes{0};
  // Counted by the one delivering thread (stores, not read-modify-writes).
  std::atomic<std::int64_t> delivered_received{0};
  std::atomic<std::int64_t> delivered_matched{0};
  // The thread between BeginDelivery and EndDelivery, so Stop from its sink
  // does not wait for itself.
  std::atomic<std::thread::id> deliverer_id{};
  std::atomic<bool> delivery_ended{false}; // the writer should Close

  alignas(kCacheLine) EventCount queue_filled; // the writer waits for packets
  alignas(kCacheLine) EventCount slot_freed;   // OfferWait waits for room

  alignas(kCacheLine) std::atomic<std::int64_t> kernel_seen{0};
  std::atomic<std::int64_t> kernel_matched{0};
  std::atomic<std::int64_t> kernel_ring_drops{0};
  std::atomic<std::int64_t> kernel_drops{0};
  std::atomic<std::int64_t> kernel_filter_fallback{0};

  mutable std::mutex error_mutex;
  Status first_error;
  mutable std::mutex done_mutex;
  mutable std::condition_variable done_cv;
  std::atomic<bool> done{false};
  std::mutex join_mutex;
  std::thread writer;
  // Set by the writer itself, so Stop called from a sink can tell.
  std::atomic<std::thread::id> writer_id{};
};

} // namespace wgcap
