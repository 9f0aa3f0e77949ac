// SPDX-License-Identifier: Apache-2.0
// The producers' side of the Session: Offer and OfferWait.
//
// Design (issue 20: Offer ≤ 30 ns for one producer, still safe for several).
// Each thread that offers claims a lane on its first Offer: a preallocated
// single-producer ring of its own (lane.hpp). A thread-local cache maps the
// session to the lane, so after the first call an Offer is: a plain store of
// the lane's `active` flag, a compiler barrier, a load of `accepting`, the
// counters (owner-only stores), a copy into the slot, one release store of
// the lane's head and a load of `writer_sleeping`. No read-modify-write, no
// seq_cst store, no shared line written. A full lane counts a drop.
//
// The two store-load orderings the old queue paid seq_cst operations for on
// every packet are made asymmetric (asymmetric_fence.hpp): the writer going
// to sleep and Stop waiting for producers in flight run membarrier(), the
// producer a compiler barrier.
//  - Stop stores accepting = false, fences, then waits for every lane's
//    `active` to clear: a producer either saw `accepting` false (and counts
//    nothing) or is seen active and publishes before Stop lets the writer
//    make its last drain. So a packet racing Stop is written or not counted.
//  - The writer sets writer_sleeping, fences, re-checks every lane; a
//    producer publishes, then checks writer_sleeping: one of them sees the
//    other, so no wake-up is lost.
//
// Lanes are never given back while the session lives (a thread may Offer
// again at any time, and it cannot be told when a thread exits without a
// per-thread destructor outliving sessions). Threads beyond the lanes share
// the old multi-producer queue (Vyukov's per-cell sequence numbers, with the
// seq_cst in-flight counter), which is correct for any number of threads,
// just slower. With a packet limit, producers take one ticket per queued
// packet from a shared counter (once room is certain), so exactly `limit`
// packets are queued however many threads race.
#include "session/session_impl.hpp"

namespace wgcap {
namespace {

// A token per thread, never reused (lane owners are compared against it).
std::uint64_t ThreadToken() noexcept {
  static std::atomic<std::uint64_t> last{0};
  thread_local std::uint64_t token = 0;
  if (token == 0) [[unlikely]] {
    token = last.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  return token;
}

// The calling thread's lane in the session it used last (null: the shared
// queue). One entry: a thread alternating between sessions looks its lane
// up again, which finds the one it already owns.
struct LaneCache {
  std::uint64_t session_id = 0;
  Lane* lane = nullptr;
};
thread_local LaneCache t_lane_cache;

Lane* LaneOf(Session::Impl& impl) noexcept {
  LaneCache& cache = t_lane_cache;
  if (cache.session_id != impl.id) [[unlikely]] {
    cache.lane = impl.ClaimLane(ThreadToken());
    cache.session_id = impl.id;
  }
  return cache.lane;
}

// Clears the lane's in-flight flag on every way out; the release store
// orders the packet's publication before Stop's acquire load sees it clear.
class LaneScope {
public:
  explicit LaneScope(Lane& lane) noexcept : lane_(lane) {
    lane_.active.store(1, std::memory_order_relaxed);
    LightFence(); // pairs with Stop's HeavyFence
  }
  ~LaneScope() { lane_.active.store(0, std::memory_order_release); }
  LaneScope(const LaneScope&) = delete;
  LaneScope& operator=(const LaneScope&) = delete;

private:
  Lane& lane_;
};

} // namespace

bool Session::Offer(std::span<const std::uint8_t> data, bool outbound) noexcept {
  return Offer(PacketRecord{
      .timestamp_ns = RealtimeNs(),
      .data = data,
      .original_length = ClampLength(data.size()),
      .direction = outbound ? Direction::Outbound : Direction::Inbound,
  });
}

bool Session::Offer(const PacketRecord& packet) noexcept {
  Impl& impl = *impl_;
  if (Lane* lane = LaneOf(impl)) [[likely]] {
    return impl.OfferOnLane(*lane, packet);
  }
  return impl.OfferShared(packet);
}

bool Session::OfferWait(const PacketRecord& packet) {
  Impl& impl = *impl_;
  if (Lane* lane = LaneOf(impl)) {
    return impl.OfferWaitOnLane(*lane, packet);
  }
  return impl.OfferWaitShared(packet);
}

Lane* Session::Impl::ClaimLane(std::uint64_t thread_token) noexcept {
  for (std::size_t i = 0; i < lane_count; ++i) {
    if (lanes[i].owner.load(std::memory_order_relaxed) == thread_token) {
      return &lanes[i];
    }
  }
  for (std::size_t i = 0; i < lane_count; ++i) {
    std::uint64_t free = 0;
    if (lanes[i].owner.compare_exchange_strong(free, thread_token, std::memory_order_relaxed)) {
      return &lanes[i];
    }
  }
  return nullptr;
}

// --- lanes --------------------------------------------------------------------

Claim Session::Impl::QueueOnLane(Lane& lane, const PacketRecord& packet,
                                 std::uint32_t original_length, const PeerKey* peer) noexcept {
  if (lane.Full()) {
    return Claim::kFull;
  }
  if (!TakeTicket()) {
    return Claim::kLimit;
  }
  lane.Push(packet, original_length, peer);
  NotifyWriter(lane.WakeDue(kLaneWakeShift));
  return Claim::kClaimed;
}

bool Session::Impl::OfferOnLane(Lane& lane, const PacketRecord& packet) noexcept {
  LaneScope scope(lane);
  if (!accepting.load(std::memory_order_relaxed)) {
    return false;
  }
  const std::uint32_t original_length = OriginalLength(packet);
  Bump(lane.received);
  const PeerKey* peer = nullptr;
  if (!Select(packet, original_length, peer)) {
    return false;
  }
  Bump(lane.matched);
  const Claim claim = QueueOnLane(lane, packet, original_length, peer);
  // A full lane once the limit is reached is not a drop: the packet would
  // not have been written anyway.
  if (claim == Claim::kFull && !LimitReached()) {
    Bump(lane.dropped);
  }
  return claim == Claim::kClaimed;
}

// A filtered-out packet returns true: the session is still running, which
// is what a file reader needs to know.
bool Session::Impl::OfferWaitOnLane(Lane& lane, const PacketRecord& packet) {
  const std::uint32_t original_length = OriginalLength(packet);
  const PeerKey* peer = nullptr;
  for (bool first = true;; first = false) {
    if (!first) {
      WaitForLaneRoom(lane);
    }
    // Not in flight while sleeping, so Stop never waits for a sleeper.
    LaneScope scope(lane);
    if (!accepting.load(std::memory_order_relaxed)) {
      return false;
    }
    if (first) {
      Bump(lane.received);
      if (!Select(packet, original_length, peer)) {
        return true;
      }
      Bump(lane.matched);
    }
    const Claim claim = QueueOnLane(lane, packet, original_length, peer);
    if (claim != Claim::kFull) {
      return claim == Claim::kClaimed;
    }
    if (LimitReached()) {
      return false; // room would come, a ticket not
    }
  }
}

void Session::Impl::WaitForLaneRoom(Lane& lane) noexcept {
  const std::uint32_t key = slot_freed.PrepareWait();
  if (!accepting.load(std::memory_order_seq_cst) || !lane.FullSeqCst()) {
    slot_freed.CancelWait();
    return;
  }
  slot_freed.Wait(key, kOfferWaitTimeout);
}

// --- the shared queue -----------------------------------------------------------

Session::Impl::ProducerScope::ProducerScope(Impl& impl) noexcept : impl_(impl) {
  // The first check keeps producers that arrive after Stop off the
  // counter, so Stop's wait for it to reach zero cannot be starved.
  if (!impl_.accepting.load(std::memory_order_relaxed)) {
    return;
  }
  counted_ = true;
  impl_.active_producers.fetch_add(1, std::memory_order_seq_cst);
  admitted_ = impl_.accepting.load(std::memory_order_seq_cst);
}

Session::Impl::ProducerScope::~ProducerScope() {
  if (counted_) {
    impl_.active_producers.fetch_sub(1, std::memory_order_release);
  }
}

// Counts the packet as received and, when the Matcher takes it, matched.
bool Session::Impl::Admit(const PacketRecord& packet, std::uint32_t original_length,
                          const PeerKey*& peer) noexcept {
  received.fetch_add(1, std::memory_order_relaxed);
  if (!Select(packet, original_length, peer)) {
    return false;
  }
  matched.fetch_add(1, std::memory_order_relaxed);
  return true;
}

Claim Session::Impl::ClaimSlot(std::uint64_t& pos) noexcept {
  pos = enqueue_pos.load(std::memory_order_relaxed);
  for (;;) {
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

Claim Session::Impl::Queue(const PacketRecord& packet, std::uint32_t original_length,
                           const PeerKey* peer) noexcept {
  std::uint64_t pos = 0;
  if (ClaimSlot(pos) != Claim::kClaimed) {
    return Claim::kFull;
  }
  Slot& slot = SlotAt(pos);
  // The cell is ours and must be published either way.
  const bool skip = !TakeTicket();
  slot.skip = skip;
  if (!skip) {
    const std::size_t captured = std::min<std::size_t>(packet.data.size(), snaplen);
    if (captured != 0) {
      std::memcpy(SlotData(pos), packet.data.data(), captured);
    }
    slot.timestamp_ns = packet.timestamp_ns;
    slot.original_length = original_length;
    slot.captured_length = static_cast<std::uint32_t>(captured);
    slot.ifindex = packet.ifindex;
    slot.gso_segs = packet.gso_segs;
    slot.gso_size = packet.gso_size;
    slot.peer = peer;
    slot.direction = packet.direction;
  }
  slot.sequence.store(pos + 1, std::memory_order_release);
  NotifyWriter();
  // Not slot.skip: once published, the cell is the writer's.
  return skip ? Claim::kLimit : Claim::kClaimed;
}

bool Session::Impl::OfferShared(const PacketRecord& packet) noexcept {
  ProducerScope scope(*this);
  if (!scope.admitted()) {
    return false;
  }
  const std::uint32_t original_length = OriginalLength(packet);
  const PeerKey* peer = nullptr;
  if (!Admit(packet, original_length, peer)) {
    return false;
  }
  const Claim claim = Queue(packet, original_length, peer);
  if (claim == Claim::kFull && !LimitReached()) {
    dropped.fetch_add(1, std::memory_order_relaxed);
  }
  return claim == Claim::kClaimed;
}

bool Session::Impl::OfferWaitShared(const PacketRecord& packet) {
  const std::uint32_t original_length = OriginalLength(packet);
  const PeerKey* peer = nullptr;
  for (bool first = true;; first = false) {
    if (!first) {
      WaitForFreeSlot();
    }
    ProducerScope scope(*this);
    if (!scope.admitted()) {
      return false;
    }
    if (first && !Admit(packet, original_length, peer)) {
      return true;
    }
    const Claim claim = Queue(packet, original_length, peer);
    if (claim != Claim::kFull) {
      return claim == Claim::kClaimed;
    }
  }
}

bool Session::Impl::QueueFull() noexcept {
  const std::uint64_t pos = enqueue_pos.load(std::memory_order_seq_cst);
  return static_cast<std::int64_t>(SlotAt(pos).sequence.load(std::memory_order_seq_cst) - pos) < 0;
}

void Session::Impl::WaitForFreeSlot() noexcept {
  const std::uint32_t key = slot_freed.PrepareWait();
  if (!accepting.load(std::memory_order_seq_cst) || !QueueFull()) {
    slot_freed.CancelWait();
    return;
  }
  slot_freed.Wait(key, kOfferWaitTimeout);
}

} // namespace wgcap
