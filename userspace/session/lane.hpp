// SPDX-License-Identifier: Apache-2.0
// One producer's lane: a bounded single-producer, single-consumer ring of
// preallocated slots. The thread that claimed it is its only producer, the
// writer thread its only consumer, so publishing a packet is a plain copy
// and one release store, with no read-modify-write anywhere.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

#include "wgcap/packet_sink.hpp"

namespace wgcap::session_internal {

constexpr std::size_t kLaneLine = 64;

// A packet's metadata; its bytes live in the lane's data array. 32 bytes,
// two to a cache line: the captured length (at most the snap length, below
// 2^30) shares a word with the direction.
struct LaneSlot {
  std::int64_t timestamp_ns;
  const PeerKey* peer; // the Session's attribution, or what the source gave
  std::uint32_t original_length;
  std::uint32_t ifindex;
  std::uint32_t captured_and_direction; // captured length << 2 | direction
  std::uint16_t gso_segs;
  std::uint16_t gso_size;
};
static_assert(sizeof(LaneSlot) == 32);

// Adds one to a counter only its owner writes: a load and a store, not a
// locked read-modify-write; other threads only read it.
inline void Bump(std::atomic<std::int64_t>& counter) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

struct alignas(kLaneLine) Lane {
  // Read-only after Init (the owner is set once, by a CAS).
  std::atomic<std::uint64_t> owner{0}; // the claiming thread's token; 0 = free
  std::size_t capacity = 0;
  std::uint32_t snaplen = 0;
  std::unique_ptr<LaneSlot[]> slots;
  std::unique_ptr<std::uint8_t[]> data; // capacity * snaplen

  // The producer's line: it writes these, the writer and GetStats read them.
  alignas(kLaneLine) std::atomic<std::uint64_t> head{0}; // packets published
  std::uint64_t cached_tail = 0;                         // producer's view of tail
  std::size_t head_index = 0;                            // head % capacity
  // Set while the producer is between its check of `accepting` and
  // publishing, so Stop can wait for it (see Session::Impl::Stop).
  std::atomic<std::uint32_t> active{0};
  std::atomic<std::int64_t> received{0};
  std::atomic<std::int64_t> matched{0};
  std::atomic<std::int64_t> dropped{0};

  // The writer's line.
  alignas(kLaneLine) std::atomic<std::uint64_t> tail{0}; // packets consumed
  std::size_t tail_index = 0;                            // tail % capacity

  // Pages no packet ever reaches are never touched, so cost nothing.
  void Init(std::size_t slot_count, std::uint32_t snap) {
    capacity = slot_count;
    snaplen = snap;
    slots = std::make_unique_for_overwrite<LaneSlot[]>(slot_count);
    data = std::make_unique_for_overwrite<std::uint8_t[]>(slot_count * snap);
  }

  // --- the producer ---
  // Re-reads the writer's tail only when the cached one says full, so the
  // writer's line is not pulled over on every packet.
  bool Full() noexcept {
    const std::uint64_t h = head.load(std::memory_order_relaxed);
    if (h - cached_tail < capacity) {
      return false;
    }
    cached_tail = tail.load(std::memory_order_acquire);
    return h - cached_tail >= capacity;
  }
  // Whether the writer should be woken for this lane: it holds at least
  // capacity >> shift packets (by the producer's cached view of the tail,
  // which can only overstate the fill). The last slot always counts, so
  // OfferWait on a full lane has woken the writer before it waits.
  bool WakeDue(unsigned shift) const noexcept {
    const std::uint64_t fill = head.load(std::memory_order_relaxed) - cached_tail;
    return fill >= std::max<std::uint64_t>(1, capacity >> shift) || fill >= capacity;
  }
  // For a producer about to sleep (EventCount's protocol wants seq_cst).
  bool FullSeqCst() const noexcept {
    return head.load(std::memory_order_relaxed) - tail.load(std::memory_order_seq_cst) >= capacity;
  }
  // After !Full().
  void Push(const PacketRecord& packet, std::uint32_t original_length,
            const PeerKey* peer) noexcept {
    const std::size_t captured = std::min<std::size_t>(packet.data.size(), snaplen);
    if (captured != 0) {
      std::memcpy(data.get() + head_index * std::size_t{snaplen}, packet.data.data(), captured);
    }
    const auto captured_and_direction =
        static_cast<std::uint32_t>(captured << 2 | static_cast<unsigned>(packet.direction));
    slots[head_index] = LaneSlot{packet.timestamp_ns,    peer,
                                 original_length,        packet.ifindex,
                                 captured_and_direction, packet.gso_segs,
                                 packet.gso_size};
    head_index = head_index + 1 == capacity ? 0 : head_index + 1;
    head.store(head.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // --- the writer ---
  PacketRecord Front() const noexcept {
    const LaneSlot& s = slots[tail_index];
    return PacketRecord{
        .timestamp_ns = s.timestamp_ns,
        .data = std::span<const std::uint8_t>(data.get() + tail_index * std::size_t{snaplen},
                                              s.captured_and_direction >> 2),
        .original_length = s.original_length,
        .direction = static_cast<Direction>(s.captured_and_direction & 3),
        .ifindex = s.ifindex,
        .gso_segs = s.gso_segs,
        .gso_size = s.gso_size,
        .peer = s.peer,
    };
  }
  // Moves past the front slot once the sinks returned; it is free for the
  // producer once Release publishes the new tail.
  void Pop() noexcept { tail_index = tail_index + 1 == capacity ? 0 : tail_index + 1; }
  void Release(std::uint64_t new_tail) noexcept { tail.store(new_tail, std::memory_order_release); }
};

} // namespace wgcap::session_internal
