// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "wgcap/packet_record.hpp"
#include "wgcap/result.hpp"

namespace wgcap {

struct Stats;

// Where captured packets go: pcap, pcapng, text. Not thread-safe; the Session
// calls a sink from its one writer thread.
class PacketSink {
public:
  virtual ~PacketSink() = default;
  virtual Status WritePacket(const PacketRecord& packet) = 0;
  virtual Status Flush() = 0;
  // Called once when the capture ends, before the last Flush (pcapng writes
  // its statistics block here).
  virtual Status Finish(const Stats& /*final_stats*/) { return {}; }
};

} // namespace wgcap
