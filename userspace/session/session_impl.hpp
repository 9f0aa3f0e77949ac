// SPDX-License-Identifier: Apache-2.0
// The Session's state, shared by its two halves: the producers' side
// (session_offer.cpp, which explains the lanes) and the writer thread
// (session_writer.cpp). Private to userspace/session/.
#pragma once

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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
#include "session/asymmetric_fence.hpp"
#include "session/event_count.hpp"
#include "session/lane.hpp"
#include "wgcap/session.hpp"

namespace wgcap {
namespace session_internal {

constexpr std::size_t kCacheLine = 64;
constexpr std::size_t kDefaultSlots = 256;
constexpr std::size_t kDefaultLanes = 4;
// Stop and the writer visit every lane.
constexpr std::size_t kMaxLanes = 64;
// SPEC 4: a reader on a pipe sees packets at least this often.
constexpr auto kFlushInterval = std::chrono::milliseconds(100);
constexpr std::uint64_t kFlushCheckEvery = 16;
// The writer's sleep when every lane is empty. A lane's producer wakes it
// only once the lane holds a quarter of its slots (kLaneWakeShift), as the
// kernel wakes the ring's consumer: fewer packets wait for this timeout, the
// latency bound for a lone Offer (and the period of the 100 ms flush).
constexpr auto kWriterIdleWait = std::chrono::milliseconds(50);
constexpr unsigned kLaneWakeShift = 2;
// OfferWait re-checks on wake-up; the timeout only bounds the damage should
// a wake-up ever be missed.
constexpr auto kOfferWaitTimeout = std::chrono::milliseconds(10);
// How long the writer keeps checking the lanes, some pauses apart, before it
// sleeps: a producer in full flow refills a lane within microseconds, and
// each sleep costs a membarrier (an interrupt on the producers' CPUs) and a
// futex wake from the producer that finds the lane a quarter full. Measured
// in one session (bench/session_bench.cpp, 2 cores, quiet): ~3 us of checks,
// BM_OfferQueued 40 ns and the 6-term Offer 171 ns (the writer slept after
// each batch); 50 us, 25 ns and 57 ns. Idle, it costs 50 us per 50 ms sleep.
constexpr auto kWriterSpinFor = std::chrono::microseconds(50);
constexpr int kPausesPerCheck = 16;
// Lane slots the writer frees per store of the lane's tail.
constexpr std::uint64_t kTailBatch = 16;

inline void CpuRelax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

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
  std::uint16_t gso_segs = 0;
  std::uint16_t gso_size = 0;
  const PeerKey* peer = nullptr;
  Direction direction = Direction::Unknown;
  // Claimed after the packet limit was reached: the writer frees it unread
  // (a claimed cell must be published to keep the ring moving).
  bool skip = false;
};

enum class Claim { kClaimed, kFull, kLimit };

inline std::uint64_t NextSessionId() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}
enum class DrainEnd { kEmpty, kLimit, kFailed };

} // namespace session_internal
using namespace session_internal; // only the session/ sources include this

struct Session::Impl {
  Impl(Options options, std::uint32_t snap, std::size_t slot_count, std::size_t lane_total)
      : matcher_owner(std::move(options.matcher)),
        matcher(matcher_owner && !matcher_owner->MatchesAll() ? matcher_owner.get() : nullptr),
        peers_owner(std::move(options.peers)), peers(peers_owner.get()), snaplen(snap),
        capacity(slot_count), notify_batch(std::max<std::size_t>(1, slot_count / 4)),
        chase_gap(std::clamp<std::uint64_t>(slot_count / 8, 1, 32)),
        limit(options.packet_limit > 0 ? static_cast<std::uint64_t>(options.packet_limit)
                                       : std::numeric_limits<std::uint64_t>::max()),
        flush_every_packet(options.flush_every_packet), slots(std::make_unique<Slot[]>(slot_count)),
        // Pages no packet ever reaches are never touched, so cost nothing.
        data(std::make_unique_for_overwrite<std::uint8_t[]>(slot_count * snap)),
        owned_sinks(options, snap), lane_count(lane_total),
        lanes(std::make_unique<Lane[]>(lane_total)) {
    for (std::size_t i = 0; i < capacity; ++i) {
      slots[i].sequence.store(i, std::memory_order_relaxed);
    }
    for (std::size_t i = 0; i < lane_count; ++i) {
      lanes[i].Init(slot_count, snap);
    }
  }

  Slot& SlotAt(std::uint64_t pos) noexcept { return slots[pos % capacity]; }
  std::uint8_t* SlotData(std::uint64_t pos) noexcept {
    return data.get() + (pos % capacity) * std::size_t{snaplen};
  }

  // --- producers (session_offer.cpp) ----------------------------------------

  // Counts the caller as in flight before it checks `accepting`, so Stop can
  // wait for every shared-queue producer that got past the check to finish
  // publishing. Lane producers use their lane's `active` flag instead.
  class ProducerScope {
  public:
    explicit ProducerScope(Impl& impl) noexcept;
    ~ProducerScope();
    ProducerScope(const ProducerScope&) = delete;
    ProducerScope& operator=(const ProducerScope&) = delete;
    bool admitted() const noexcept { return admitted_; }

  private:
    Impl& impl_;
    bool counted_ = false;
    bool admitted_ = false;
  };

  // The calling thread's lane: the one it claimed, else a free one, else
  // null (the shared queue).
  Lane* ClaimLane(std::uint64_t thread_token) noexcept;
  bool OfferOnLane(Lane& lane, const PacketRecord& packet) noexcept;
  bool OfferWaitOnLane(Lane& lane, const PacketRecord& packet);
  Claim QueueOnLane(Lane& lane, const PacketRecord& packet, std::uint32_t original_length,
                    const PeerKey* peer) noexcept;
  void WaitForLaneRoom(Lane& lane) noexcept;

  // The shared queue, for threads that found no free lane.
  bool Admit(const PacketRecord& packet, std::uint32_t original_length,
             const PeerKey*& peer) noexcept;
  Claim ClaimSlot(std::uint64_t& pos) noexcept;
  Claim Queue(const PacketRecord& packet, std::uint32_t original_length,
              const PeerKey* peer) noexcept;
  bool OfferShared(const PacketRecord& packet) noexcept;
  bool OfferWaitShared(const PacketRecord& packet);
  bool QueueFull() noexcept;
  void WaitForFreeSlot() noexcept;

  // Whether the Matcher takes the packet, and the packet's peer for the
  // sinks: the PeerDirectory's attribution, or without one the peer the
  // source gave (a pcapng comment), which the Matcher reads too (`peer
  // KEY`). A packet is parsed once for both.
  bool Select(const PacketRecord& packet, std::uint32_t original_length,
              const PeerKey*& peer) const noexcept {
    peer = packet.peer;
    if (peers == nullptr) [[likely]] {
      if (matcher == nullptr) {
        return true;
      }
      if (peer == nullptr) [[likely]] {
        return matcher->Match(packet.data, original_length);
      }
    }
    return SelectAttributed(packet, original_length, peer);
  }
  bool SelectAttributed(const PacketRecord& packet, std::uint32_t original_length,
                        const PeerKey*& peer) const noexcept {
    ParsedPacket parsed = ParsePacket(packet.data, original_length);
    if (peers != nullptr) {
      peer = peers->Attribute(parsed, packet.direction, packet.ifindex);
    }
    parsed.peer = peer;
    return matcher == nullptr || matcher->MatchParsed(parsed);
  }

  // One of the `limit` packets the session may queue; always true without a
  // limit. Taken only once room is certain, so a ticket is never wasted.
  bool TakeTicket() noexcept {
    if (limit == std::numeric_limits<std::uint64_t>::max()) [[likely]] {
      return true;
    }
    std::uint64_t taken = tickets.load(std::memory_order_relaxed);
    do {
      if (taken >= limit) {
        return false;
      }
    } while (!tickets.compare_exchange_weak(taken, taken + 1, std::memory_order_relaxed));
    return true;
  }
  bool LimitReached() const noexcept {
    return limit != std::numeric_limits<std::uint64_t>::max() &&
           tickets.load(std::memory_order_relaxed) >= limit;
  }

  // After publishing: wakes the writer if it went to sleep. The light fence
  // pairs with the heavy one in SleepUntilQueued: either the writer's
  // re-check sees the packet or this sees the writer asleep.
  // `due` false leaves a sleeping writer to its timeout (a lane below its
  // wake fill).
  void NotifyWriter(bool due = true) noexcept {
    LightFence();
    if (due && writer_sleeping.load(std::memory_order_relaxed)) [[unlikely]] {
      // One producer wakes it; the others see false and need not.
      if (writer_sleeping.exchange(false, std::memory_order_relaxed)) {
        WakeWriter();
      }
    }
  }
  void WakeWriter() noexcept {
    wake_epoch.fetch_add(1, std::memory_order_seq_cst);
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&wake_epoch), FUTEX_WAKE_PRIVATE, 1,
            nullptr, nullptr, 0);
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
  DrainEnd MustStop() const noexcept;
  void Freed(WriterState& state) noexcept;
  DrainEnd DrainLane(Lane& lane, WriterState& state, std::size_t& drained);
  DrainEnd DrainShared(WriterState& state, std::size_t& drained);
  // A lane holds at least `min_pending` packets, or the shared queue one.
  bool AnyQueued(std::uint64_t min_pending) const noexcept;
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

  // Producers stay cheap: a lane producer marks itself active with a plain
  // store and re-reads `accepting` after a compiler barrier; the heavy fence
  // here makes each one either see `accepting` false or be seen active, and
  // then Stop waits until it has published.
  void Stop() {
    accepting.store(false, std::memory_order_seq_cst);
    slot_freed.Notify(); // OfferWait callers re-check and leave
    HeavyFence();
    for (std::size_t i = 0; i < lane_count; ++i) {
      while (lanes[i].active.load(std::memory_order_acquire) != 0) {
        std::this_thread::yield();
      }
    }
    while (active_producers.load(std::memory_order_seq_cst) != 0) {
      std::this_thread::yield();
    }
    stop_requested.store(true, std::memory_order_seq_cst);
    WakeWriter();
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
    s.dropped = dropped.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < lane_count; ++i) {
      s.received += lanes[i].received.load(std::memory_order_relaxed);
      s.matched += lanes[i].matched.load(std::memory_order_relaxed);
      s.dropped += lanes[i].dropped.load(std::memory_order_relaxed);
    }
    s.packets = packets.load(std::memory_order_relaxed);
    s.bytes = bytes.load(std::memory_order_relaxed);
    AddKernelCounters(s);
    return s;
  }

  // Read-only after Create.
  const std::shared_ptr<const Matcher> matcher_owner;
  const Matcher* const matcher; // null when every packet matches
  const std::shared_ptr<const PeerDirectory> peers_owner;
  const PeerDirectory* const peers; // null: no attribution
  const std::uint32_t snaplen;
  const std::size_t capacity;
  const std::size_t notify_batch; // freed slots per slot_freed wake-up
  // Packets a lane must hold before the writer, awake, drains it again: well
  // below a lane's wake fill (a quarter), several slots' cache lines apart.
  const std::uint64_t chase_gap;
  const std::uint64_t limit; // max when none
  const bool flush_every_packet;
  const std::unique_ptr<Slot[]> slots;
  const std::unique_ptr<std::uint8_t[]> data; // capacity * snaplen
  const SessionSinks owned_sinks;             // the writers Options names, built in file/
  const std::vector<PacketSink*>& sinks = owned_sinks.all();
  // A thread's Offer cache names the session by this, not by its address,
  // which a later session may reuse.
  const std::uint64_t id = NextSessionId();
  const std::size_t lane_count;
  const std::unique_ptr<Lane[]> lanes;

  // Read by every Offer, written once: kept apart from the counters that
  // producers write.
  alignas(kCacheLine) std::atomic<bool> accepting{true};
  std::atomic<bool> stop_requested{false};

  // Written by the shared queue's producers on every packet.
  alignas(kCacheLine) std::atomic<std::int64_t> active_producers{0};
  std::atomic<std::int64_t> received{0};
  std::atomic<std::int64_t> matched{0};
  std::atomic<std::int64_t> dropped{0};
  alignas(kCacheLine) std::atomic<std::uint64_t> enqueue_pos{0};
  // Packets queued, for the packet limit (used only when there is one).
  alignas(kCacheLine) std::atomic<std::uint64_t> tickets{0};

  // Written by the writer thread only.
  alignas(kCacheLine) std::uint64_t dequeue_pos = 0;

  // The sinks and what was written to them: the writer thread and a
  // delivering thread take turns.
  alignas(kCacheLine) std::mutex sinks_mutex;
  SinkState sink_state;
  PacketSink* failed_sink = nullptr;
  std::atomic<std::int64_t> packets{0};
  std::atomic<std::int64_t> bytes{0};
  // Counted by the delivering thread that holds sinks_mutex (stores, not
  // read-modify-writes: deliverers take turns, never overlap).
  std::atomic<std::int64_t> delivered_received{0};
  std::atomic<std::int64_t> delivered_matched{0};
  // The thread between BeginDelivery and EndDelivery, so Stop from its sink
  // does not wait for itself.
  std::atomic<std::thread::id> deliverer_id{};
  std::atomic<bool> delivery_ended{false}; // the writer should Close

  // The writer sleeps on wake_epoch (a futex word) with writer_sleeping set;
  // see NotifyWriter and SleepUntilQueued.
  alignas(kCacheLine) std::atomic<bool> writer_sleeping{false};
  std::atomic<std::uint32_t> wake_epoch{0};
  alignas(kCacheLine) EventCount slot_freed; // OfferWait waits for room

  // One per source of kernel counters (a capture's interface), claimed on
  // its first publication; a fixed array so that publishing and GetStats
  // neither allocate nor lock (only claiming a source takes the mutex).
  struct KernelSource {
    std::atomic<std::uint32_t> ifindex{0};
    std::atomic<std::int64_t> seen{0}, matched{0}, ring_drops{0}, drops{0}, filter_fallback{0};
  };
  alignas(kCacheLine) std::array<KernelSource, kMaxKernelSources> kernel_sources;
  std::atomic<std::size_t> kernel_source_count{0};
  std::mutex kernel_sources_mutex;
  KernelSource* KernelSourceFor(std::uint32_t ifindex) noexcept;
  void AddKernelCounters(Stats& s) const noexcept;

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
