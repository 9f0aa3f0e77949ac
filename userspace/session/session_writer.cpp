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
    if (Drain(state) != DrainEnd::kEmpty || stopping) {
      break;
    }
    if (state.dirty && !FlushSinks(state)) {
      break;
    }
    SleepUntilQueued();
  }
  Close();
}

DrainEnd Session::Impl::Drain(Session::Impl::WriterState& state) {
  for (;;) {
    Slot& slot = SlotAt(dequeue_pos);
    if (slot.sequence.load(std::memory_order_acquire) != dequeue_pos + 1) {
      if (state.freed_unnotified != 0) {
        state.freed_unnotified = 0;
        slot_freed.Notify();
      }
      return DrainEnd::kEmpty;
    }
    // The sinks read the packet in place: the slot stays taken until they
    // return, so the queue holds `capacity` packets including this one.
    const PacketRecord packet{
        .timestamp_ns = slot.timestamp_ns,
        .data = std::span<const std::uint8_t>(SlotData(dequeue_pos), slot.captured_length),
        .original_length = slot.original_length,
        .direction = slot.direction,
        .ifindex = slot.ifindex,
    };
    if (!WriteToSinks(packet)) {
      return DrainEnd::kFailed;
    }
    slot.sequence.store(dequeue_pos + capacity, std::memory_order_seq_cst);
    ++dequeue_pos;
    // A waiting producer is woken once a quarter of the queue is free (or
    // the queue ran dry, below), not for every slot: a wake-up per packet
    // would cost both threads a context switch per packet.
    if (++state.freed_unnotified >= notify_batch) {
      state.freed_unnotified = 0;
      slot_freed.Notify();
    }

    ++state.written;
    state.written_bytes += packet.data.size();
    packets.store(static_cast<std::int64_t>(state.written), std::memory_order_relaxed);
    bytes.store(state.written_bytes, std::memory_order_relaxed);
    state.dirty = true;
    // The clock is read every kFlushCheckEvery packets: a queue that never
    // runs dry (where it flushes anyway) is one moving fast.
    if (flush_every_packet ||
        (state.written % kFlushCheckEvery == 0 &&
         std::chrono::steady_clock::now() - state.last_flush >= kFlushInterval)) {
      if (!FlushSinks(state)) {
        return DrainEnd::kFailed;
      }
    }
    if (state.written >= limit) {
      return DrainEnd::kLimit;
    }
  }
}

void Session::Impl::SleepUntilQueued() noexcept {
  const std::uint32_t key = queue_filled.PrepareWait();
  const bool queued =
      SlotAt(dequeue_pos).sequence.load(std::memory_order_seq_cst) == dequeue_pos + 1;
  if (queued || stop_requested.load(std::memory_order_seq_cst)) {
    queue_filled.CancelWait();
    return;
  }
  queue_filled.Wait(key, kWriterIdleWait);
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

bool Session::Impl::FlushSinks(Session::Impl::WriterState& state) {
  for (PacketSink* sink : sinks) {
    if (Status status = sink->Flush(); !status) {
      Fail(sink, status.error());
      return false;
    }
  }
  state.dirty = false;
  state.last_flush = std::chrono::steady_clock::now();
  return true;
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
