// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>

#include "wgcap/byte_writer.hpp"
#include "wgcap/packet_sink.hpp"

namespace wgcap {

inline constexpr std::uint32_t kLinkTypeRaw = 101;
inline constexpr std::uint32_t kDefaultSnaplen = 65535;
inline constexpr std::uint32_t kMaxSnaplen = 262144;

// The record timestamps' unit. Nano is the same format with another magic
// (a1b23c4d), which libpcap, tcpdump and tshark read as nanoseconds.
enum class PcapTimePrecision { Micro, Nano };

// pcap (little-endian a1b2c3d4, v2.4, LINKTYPE_RAW, µs timestamps; a1b23c4d
// and ns with PcapTimePrecision::Nano). The global header is written lazily,
// on the first packet or WriteHeader. Not thread-safe.
class PcapWriter final : public PacketSink {
public:
  // snaplen 0 means 65535.
  PcapWriter(ByteWriter& out, std::uint32_t snaplen,
             PcapTimePrecision precision = PcapTimePrecision::Micro);

  Status WriteHeader(); // idempotent
  // Keeps at most snaplen bytes; the record's original length stays
  // `original_length` (0 = data.size()).
  Status WritePacket(std::int64_t timestamp_ns, std::span<const std::uint8_t> data,
                     std::uint32_t original_length = 0);
  Status WritePacket(const PacketRecord& packet) override;
  Status Flush() override;

  std::uint32_t snaplen() const noexcept { return snaplen_; }
  PcapTimePrecision precision() const noexcept { return precision_; }

private:
  ByteWriter& out_;
  std::uint32_t snaplen_;
  PcapTimePrecision precision_;
  bool header_written_ = false;
};

} // namespace wgcap
