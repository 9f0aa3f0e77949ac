// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

namespace wgcap {

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
};

} // namespace wgcap
