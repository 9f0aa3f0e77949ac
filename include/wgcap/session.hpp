// SPDX-License-Identifier: Apache-2.0
// A capture session: the sinks, the Matcher and the counters of one capture.
// Capture backends deliver packets straight to the sinks on their consumer
// thread (BeginDelivery/Deliver/EndDelivery); library users Offer packets,
// which queues of preallocated slots (one per producing thread) hold for the
// session's writer thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "wgcap/byte_writer.hpp"
#include "wgcap/matcher.hpp"
#include "wgcap/packet_sink.hpp"
#include "wgcap/result.hpp"
#include "wgcap/text_writer.hpp"

namespace wgcap {

// What a capture backend's kernel side counted, published into a Session
// (Stats' kernel_* fields). 0 where the backend has no such counter.
struct KernelCounters {
  std::int64_t seen = 0;            // packets the kernel program saw (bpf)
  std::int64_t matched = 0;         // passed the kernel filter
  std::int64_t ring_drops = 0;      // samples lost: BPF ring buffer full
  std::int64_t drops = 0;           // AF_PACKET drops (PACKET_STATISTICS)
  std::int64_t filter_fallback = 0; // passed up only because the kernel form is not exact
};

// A session takes kernel counters from at most this many sources (captured
// interfaces); `wgcap -i a,b,...` refuses longer lists.
inline constexpr std::size_t kMaxKernelSources = 64;

// One source's kernel counters (Stats::interfaces).
struct InterfaceCounters {
  std::uint32_t ifindex = 0; // 0: a source that named no interface
  KernelCounters kernel;
};

// Capture counters. Every packet that did not reach the sinks is counted in
// exactly one of the drop fields.
struct Stats {
  // Userspace (Session).
  std::int64_t received = 0; // offered to the session
  std::int64_t matched = 0;  // passed the Matcher
  std::int64_t packets = 0;  // written to the sinks
  std::int64_t bytes = 0;    // captured bytes written
  std::int64_t dropped = 0;  // session queue full

  // Kernel (filled by the capture backend; 0 where the backend has none).
  std::int64_t kernel_seen = 0;       // packets the kernel program saw
  std::int64_t kernel_matched = 0;    // passed the kernel filter
  std::int64_t kernel_ring_drops = 0; // samples lost: BPF ring buffer full
  std::int64_t kernel_drops = 0;      // AF_PACKET drops (PACKET_STATISTICS)
  // Packets the kernel passed up only because the expression exceeded what
  // the kernel side can hold (the Matcher decided them).
  std::int64_t kernel_filter_fallback = 0;

  // The kernel_* fields above are the sums over these: one entry per source
  // that published counters (SetKernelCounters), in the order each first
  // did. Several captures feeding one session (-i wg0,wg1) each have one.
  std::vector<InterfaceCounters> interfaces;
};

struct Options {
  // Receives pcap (global header written lazily). Not owned; may be null.
  ByteWriter* output = nullptr;
  // Receives one text line per packet. Not owned; may be null.
  ByteWriter* text_output = nullptr;
  // Further sinks (pcapng, a pcap writer whose header was already written).
  // Not owned.
  std::vector<PacketSink*> sinks;
  // Selects packets; null captures all.
  std::shared_ptr<const Matcher> matcher;
  // Attributes every packet to its WireGuard peer before the Matcher runs
  // (ParsedPacket::peer, for `peer KEY`) and for the sinks
  // (PacketRecord::peer); null: no attribution.
  std::shared_ptr<const PeerDirectory> peers;
  bool verbose = false;            // text: seq/ack, ttl, window, total length
  bool ascii = false;              // text: payload as printable ASCII
  TextOptions text_options;        // the rest of the text layout (-x, -t, -q, -e, ...);
                                   // verbose and ascii above are ORed into it
  std::uint32_t snaplen = 0;       // bytes kept per packet; 0 = 65535
  std::size_t buf_size = 0;        // queue slots (per producer lane); 0 = 256
  bool flush_every_packet = false; // -U
  std::int64_t packet_limit = 0;   // -c: stop after this many written; 0 = none

  // Threads that Offer get a queue of their own (a lane), the first
  // `producer_lanes` of them; later ones share one slower queue. 0 = 4, at
  // most 64.
  std::size_t producer_lanes = 0;
};

class Session {
public:
  // At least one of output, text_output, sinks must be set.
  static Result<std::unique_ptr<Session>> Create(Options options);
  ~Session(); // Stop()s
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Never blocks and never allocates; safe from any number of threads. The
  // packet is timestamped now. Returns true when queued; a full queue counts
  // a drop. After Stop, or once the packet limit is reached, packets are
  // ignored (not counted as drops). A thread's packets keep their order;
  // different threads' packets are written in no particular order.
  bool Offer(std::span<const std::uint8_t> data, bool outbound) noexcept;
  // Same, keeping the source's timestamp, direction and original length.
  bool Offer(const PacketRecord& packet) noexcept;
  // For replaying files: waits for a free slot instead of dropping. Returns
  // false when the session stopped (Stop, packet limit, or a sink error).
  bool OfferWait(const PacketRecord& packet);
  // Direct delivery (SPEC 2: the consumer is the hot path). A capture
  // backend's one consumer thread hands each packet to the sinks from where
  // it lies (ring memory): no queue, no copy, no allocation; `packet.data`
  // need live only for the call. Any number of threads may deliver (one
  // capture per interface of `-i wg0,wg1`): BeginDelivery takes the sinks
  // until EndDelivery, so batches of different threads never interleave and
  // others (and Offer's writer thread) wait meanwhile; a batch should be
  // what one poll drained.
  // BeginDelivery and Deliver return false once the session stopped (Stop,
  // the packet limit, a sink failure): the caller ends the batch and stops
  // consuming. Deliver applies the Matcher and counts as Offer does, trims
  // to the snaplen, and with -U flushes after each packet. EndDelivery
  // flushes when `ran_dry` (nothing more waits in the source, so a reader on
  // a pipe sees the packets now) or when the last flush is 100 ms old.
  bool BeginDelivery();
  bool Deliver(const PacketRecord& packet);
  void EndDelivery(bool ran_dry);

  // Stops accepting packets, drains everything queued to the sinks, calls
  // Finish and Flush on them and joins the writer. Idempotent, thread-safe.
  void Stop();
  // True once the writer thread has exited (after Stop, after the packet
  // limit was reached and drained, or after a sink failed).
  bool Done() const noexcept;
  void WaitDone() const;
  bool WaitDoneFor(std::chrono::milliseconds timeout) const;

  Stats GetStats() const noexcept;
  // Backends publish kernel counters here, each under the index of the
  // interface it captures (a source's latest counts replace its earlier
  // ones); GetStats sums them and lists them per source. Sources beyond
  // kMaxKernelSources are ignored.
  void SetKernelCounters(const KernelCounters& counters, std::uint32_t ifindex = 0) noexcept;
  // The first sink failure, if any (ok() otherwise).
  Status error() const;

  struct Impl;

private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace wgcap
