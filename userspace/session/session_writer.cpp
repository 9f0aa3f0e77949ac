// SPDX-License-Identifier: Apache-2.0
// The Session's writer thread: drains the queue in order into the sinks,
// flushes them (SPEC 4: at least every 100 ms), and finishes them once,
// whatever ended the capture.
#include "session/session_impl.hpp"

namespace wgcap {

void Session::Impl::Run() noexcept {
  writer_id.store(std::this_thread::get_id(), std::memory_order_release);
  WriterState state;
  for (;;) {
    // Read before draining: Stop sets it only after every producer that
    // was admitted has published, so this drain sees all of their packets.
    const bool stopping = stop_requested.load(std::memory_order_seq_cst);
    {
      std::lock_guard lock(sinks_mutex);
      if (Drain(state) != DrainEnd::kEmpty || stopping) {
        break;
      }
      // Also what a delivering thread left unflushed (SPEC 4: every 100 ms).
      if (sink_state.dirty && !FlushSinks()) {
        break;
      }
    }
    SleepUntilQueued();
  }
  Close();
}

DrainEnd Session::Impl::Drain(Session::Impl::WriterState& state) {
  for (;;) {
    std::size_t drained = 0;
    // Lane by lane, each up to what it held when visited, so one busy
    // producer cannot starve the others.
    for (std::size_t i = 0; i < lane_count; ++i) {
      if (const DrainEnd end = DrainLane(lanes[i], state, drained); end != DrainEnd::kEmpty) {
        return end;
      }
    }
    if (const DrainEnd end = DrainShared(state, drained); end != DrainEnd::kEmpty) {
      return end;
    }
    // Another pass only for a batch: a writer chasing a producer packet by
    // packet shares its cache lines (the lane's head, the slot array) and
    // moves them between the cores once per packet. What is left waits for
    // the next batch or the writer's timeout.
    if (drained == 0 || !AnyQueued(chase_gap)) {
      if (state.freed_unnotified != 0) {
        state.freed_unnotified = 0;
        slot_freed.NotifyAfterRelease();
      }
      return DrainEnd::kEmpty;
    }
  }
}

// Why the writer must stop before the next packet, if it must.
DrainEnd Session::Impl::MustStop() const noexcept {
  if (failed_sink != nullptr) {
    return DrainEnd::kFailed; // a delivering thread's sink failed
  }
  if (sink_state.written >= limit) {
    return DrainEnd::kLimit;
  }
  return DrainEnd::kEmpty;
}

// A waiting producer is woken once a quarter of a queue is free (or the
// queues ran dry), not for every slot: a wake-up per packet would cost both
// threads a context switch per packet.
void Session::Impl::Freed(WriterState& state) noexcept {
  if (++state.freed_unnotified >= notify_batch) {
    state.freed_unnotified = 0;
    slot_freed.NotifyAfterRelease();
  }
}

// Slots are handed back to the producer kTailBatch at a time (and at the
// end): a store of `tail` per packet would pull the line over to this core
// while a producer on a full lane keeps reading it.
DrainEnd Session::Impl::DrainLane(Lane& lane, WriterState& state, std::size_t& drained) {
  const std::uint64_t head = lane.head.load(std::memory_order_acquire);
  std::uint64_t tail = lane.tail.load(std::memory_order_relaxed);
  DrainEnd end = DrainEnd::kEmpty;
  while (tail != head) {
    if (end = MustStop(); end != DrainEnd::kEmpty) {
      break;
    }
    // The sinks read the packet in place: the slot stays taken until they
    // return, so the lane holds `capacity` packets including this one.
    const PacketRecord packet = lane.Front();
    const bool ok = WriteToSinks(packet) && Written(packet);
    lane.Pop();
    ++tail;
    ++drained;
    // Before a wake-up too: OfferWait re-checks the tail it publishes.
    if (tail % kTailBatch == 0 || state.freed_unnotified + 1 >= notify_batch) {
      lane.Release(tail);
    }
    Freed(state);
    if (!ok) {
      end = DrainEnd::kFailed;
      break;
    }
  }
  lane.Release(tail);
  return end;
}

DrainEnd Session::Impl::DrainShared(WriterState& state, std::size_t& drained) {
  for (;;) {
    if (const DrainEnd end = MustStop(); end != DrainEnd::kEmpty) {
      return end;
    }
    Slot& slot = SlotAt(dequeue_pos);
    if (slot.sequence.load(std::memory_order_acquire) != dequeue_pos + 1) {
      return DrainEnd::kEmpty;
    }
    bool ok = true;
    if (!slot.skip) {
      const PacketRecord packet{
          .timestamp_ns = slot.timestamp_ns,
          .data = std::span<const std::uint8_t>(SlotData(dequeue_pos), slot.captured_length),
          .original_length = slot.original_length,
          .direction = slot.direction,
          .ifindex = slot.ifindex,
          .gso_segs = slot.gso_segs,
          .gso_size = slot.gso_size,
          .peer = slot.peer,
      };
      ok = WriteToSinks(packet) && Written(packet);
    }
    slot.sequence.store(dequeue_pos + capacity, std::memory_order_release);
    ++dequeue_pos;
    ++drained;
    Freed(state);
    if (!ok) {
      return DrainEnd::kFailed;
    }
  }
}

bool Session::Impl::AnyQueued(std::uint64_t min_pending) const noexcept {
  for (std::size_t i = 0; i < lane_count; ++i) {
    if (lanes[i].head.load(std::memory_order_acquire) -
            lanes[i].tail.load(std::memory_order_relaxed) >=
        min_pending) {
      return true;
    }
  }
  return slots[dequeue_pos % capacity].sequence.load(std::memory_order_acquire) == dequeue_pos + 1;
}

bool Session::Impl::Written(const PacketRecord& packet) {
  SinkState& s = sink_state;
  ++s.written;
  s.written_bytes += static_cast<std::int64_t>(packet.data.size());
  packets.store(static_cast<std::int64_t>(s.written), std::memory_order_relaxed);
  bytes.store(s.written_bytes, std::memory_order_relaxed);
  s.dirty = true;
  // The clock is read every kFlushCheckEvery packets: a source that never
  // runs dry (where it flushes anyway) is one moving fast.
  if (flush_every_packet || (s.written % kFlushCheckEvery == 0 &&
                             std::chrono::steady_clock::now() - s.last_flush >= kFlushInterval)) {
    return FlushSinks();
  }
  return true;
}

// Spins a little first: a producer in full flow refills the queue within
// microseconds, and sleeping costs a membarrier and a futex call each side.
void Session::Impl::SleepUntilQueued() noexcept {
  // Between checks the lanes' lines stay with their producers: a check
  // after every publication would move each head line over once per packet.
  const auto spin_until = std::chrono::steady_clock::now() + kWriterSpinFor;
  do {
    for (int j = 0; j < kPausesPerCheck; ++j) {
      CpuRelax();
    }
    if (AnyQueued(chase_gap) || stop_requested.load(std::memory_order_relaxed) ||
        delivery_ended.load(std::memory_order_relaxed)) {
      return;
    }
  } while (std::chrono::steady_clock::now() < spin_until);
  const std::uint32_t key = wake_epoch.load(std::memory_order_seq_cst);
  writer_sleeping.store(true, std::memory_order_seq_cst);
  HeavyFence(); // pairs with NotifyWriter's LightFence
  if (AnyQueued(chase_gap) || stop_requested.load(std::memory_order_seq_cst) ||
      delivery_ended.load(std::memory_order_seq_cst)) {
    writer_sleeping.store(false, std::memory_order_relaxed);
    return;
  }
  timespec timeout{};
  timeout.tv_nsec = std::chrono::nanoseconds(kWriterIdleWait).count();
  // EAGAIN (woken before sleeping), EINTR and ETIMEDOUT all mean: re-check.
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&wake_epoch), FUTEX_WAIT_PRIVATE, key,
          &timeout, nullptr, 0);
  writer_sleeping.store(false, std::memory_order_relaxed);
}

bool Session::Impl::WriteToSinks(const PacketRecord& packet) {
  for (PacketSink* sink : sinks) {
    if (Status status = sink->WritePacket(packet); !status) {
      Fail(sink, status.error());
      return false;
    }
  }
  return true;
}

bool Session::Impl::FlushSinks() {
  for (PacketSink* sink : sinks) {
    if (Status status = sink->Flush(); !status) {
      Fail(sink, status.error());
      return false;
    }
  }
  sink_state.dirty = false;
  sink_state.last_flush = std::chrono::steady_clock::now();
  return true;
}

// --- direct delivery ----------------------------------------------------------

bool Session::Impl::BeginDelivery() {
  sinks_mutex.lock();
  if (sink_state.closed || failed_sink != nullptr || !accepting.load(std::memory_order_acquire)) {
    sinks_mutex.unlock();
    return false;
  }
  deliverer_id.store(std::this_thread::get_id(), std::memory_order_release);
  return true;
}

bool Session::Impl::Deliver(const PacketRecord& packet) {
  // Relaxed: Stop or the limit seen one packet late changes nothing, Close
  // (which needs sinks_mutex) has not run.
  if (failed_sink != nullptr || !accepting.load(std::memory_order_relaxed)) {
    return false;
  }
  const std::uint32_t original_length = OriginalLength(packet);
  // Only the thread holding sinks_mutex writes these: a store, not a locked
  // read-modify-write.
  delivered_received.store(delivered_received.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
  const PeerKey* peer = nullptr;
  if (!Select(packet, original_length, peer)) {
    return true;
  }
  delivered_matched.store(delivered_matched.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
  PacketRecord trimmed = packet;
  trimmed.peer = peer;
  trimmed.data = packet.data.first(std::min<std::size_t>(packet.data.size(), snaplen));
  trimmed.original_length = original_length;
  if (!WriteToSinks(trimmed) || !Written(trimmed)) {
    EndDeliveries(); // the writer closes the other sinks
    return false;
  }
  if (sink_state.written >= limit) {
    accepting.store(false, std::memory_order_seq_cst);
    EndDeliveries();
    return false;
  }
  return true;
}

void Session::Impl::EndDelivery(bool ran_dry) {
  if (sink_state.dirty && failed_sink == nullptr &&
      (ran_dry || std::chrono::steady_clock::now() - sink_state.last_flush >= kFlushInterval)) {
    if (!FlushSinks()) {
      EndDeliveries();
    }
  }
  deliverer_id.store(std::thread::id{}, std::memory_order_release);
  sinks_mutex.unlock();
}

void Session::Impl::EndDeliveries() noexcept {
  delivery_ended.store(true, std::memory_order_seq_cst);
  WakeWriter();
}

void Session::Impl::Fail(PacketSink* sink, const Error& error) {
  if (failed_sink == nullptr) {
    failed_sink = sink;
  }
  std::lock_guard lock(error_mutex);
  if (first_error.ok()) {
    first_error = error;
  }
}

void Session::Impl::Close() noexcept {
  // Covers the packet limit and a sink failure; already false after Stop.
  accepting.store(false, std::memory_order_seq_cst);
  slot_freed.Notify();
  // After a delivering thread's batch: it holds the sinks until then.
  std::lock_guard sinks_lock(sinks_mutex);
  sink_state.closed = true;
  const Stats final_stats = GetStats();
  for (PacketSink* sink : sinks) {
    if (sink == failed_sink) {
      continue;
    }
    Status status = sink->Finish(final_stats);
    if (status) {
      status = sink->Flush();
    }
    if (!status) {
      Fail(sink, status.error());
    }
  }
  {
    std::lock_guard lock(done_mutex);
    done.store(true, std::memory_order_release);
  }
  done_cv.notify_all();
}

} // namespace wgcap
