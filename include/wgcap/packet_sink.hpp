// SPDX-License-Identifier: Apache-2.0
// What flows from a source to the sinks: the packet's direction, the record
// of one captured packet, and the sink interface every output implements.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "wgcap/ip_address.hpp"
#include "wgcap/result.hpp"

namespace wgcap {

// Whether a packet is entering or leaving the host. Captures from files that
// record no direction (pcap) carry Unknown.
enum class Direction : std::uint8_t {
  Inbound = 0,  // arriving from the network (TC ingress, PACKET_HOST)
  Outbound = 1, // leaving the host (TC egress, PACKET_OUTGOING)
  Unknown = 2,
};

// "IN", "OUT" or "?".
constexpr const char* ToString(Direction d) noexcept {
  switch (d) {
  case Direction::Inbound:
    return "IN";
  case Direction::Outbound:
    return "OUT";
  case Direction::Unknown:
    break;
  }
  return "?";
}

// One captured packet as it flows from a source to the sinks. `data` holds the
// captured network-layer bytes (no link-layer header); `original_length` is
// the length of the whole network-layer packet on the wire.
struct PacketRecord {
  std::int64_t timestamp_ns = 0; // wall clock, ns since the Unix epoch
  std::span<const std::uint8_t> data;
  std::uint32_t original_length = 0;
  Direction direction = Direction::Unknown;
  std::uint32_t ifindex = 0; // 0 where unknown (files)
  // A file's name for the packet's interface (pcapng if_name), valid for the
  // reader's life; null otherwise. Reaches the sinks through
  // Session::Deliver (file reads), not through the queues.
  const std::string* interface_name = nullptr;
  // A GSO/GRO super-packet as the kernel holds it: gso_segs segments of
  // gso_size bytes of payload each; both 0 for an ordinary packet.
  std::uint16_t gso_segs = 0;
  std::uint16_t gso_size = 0;
  // The WireGuard peer the packet belongs to (SPEC 10), set by the Session
  // when it has a PeerDirectory; valid for the directory's life.
  const PeerKey* peer = nullptr;
};

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
