// SPDX-License-Identifier: Apache-2.0
#include "wgcap/pcap_writer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "base/little_endian.hpp"

namespace wgcap {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr std::uint32_t kMagicNano = 0xa1b23c4d;

} // namespace

// Readers built on libpcap reject records longer than 262144 bytes, so a
// larger snaplen would only produce files nobody can open.
PcapWriter::PcapWriter(ByteWriter& out, std::uint32_t snaplen, PcapTimePrecision precision)
    : out_(out), snaplen_(snaplen == 0 ? kDefaultSnaplen : std::min(snaplen, kMaxSnaplen)),
      precision_(precision) {}

Status PcapWriter::WriteHeader() {
  if (header_written_) {
    return {};
  }
  std::array<std::uint8_t, 24> header{};
  PutLe32(&header[0], precision_ == PcapTimePrecision::Nano ? kMagicNano : kMagicMicro);
  PutLe16(&header[4], 2);
  PutLe16(&header[6], 4);
  // thiszone and sigfigs stay 0, as every current writer leaves them.
  PutLe32(&header[16], snaplen_);
  PutLe32(&header[20], kLinkTypeRaw);
  if (auto written = out_.Write(header); !written) {
    return written;
  }
  header_written_ = true;
  return {};
}

// The path nearly every packet takes: header written and room in the file
// buffer, so the record is laid out there whole (no Result to build, no
// virtual call, the packet copied once).
Status PcapWriter::WritePacket(std::int64_t timestamp_ns, std::span<const std::uint8_t> data,
                               std::uint32_t original_length) {
  const RecordHeader h = HeaderOf(timestamp_ns, data.size(), original_length);
  if (header_written_) [[likely]] {
    if (std::uint8_t* record = out_.Claim(16 + std::size_t{h.captured})) [[likely]] {
      h.Put(record);
      if (h.captured != 0) { // an empty span's data() may be null
        std::memcpy(record + 16, data.data(), h.captured);
      }
      return {};
    }
  }
  return WritePacketSlowly(h, data);
}

// The file header first if needed; the record through Write when the file
// buffer has no room (Write flushes, or reports the failure).
Status PcapWriter::WritePacketSlowly(const RecordHeader& h, std::span<const std::uint8_t> data) {
  if (auto header = WriteHeader(); !header) {
    return header;
  }
  std::array<std::uint8_t, 16> record;
  h.Put(record.data());
  if (std::uint8_t* to = out_.Claim(record.size() + h.captured)) {
    std::memcpy(to, record.data(), record.size());
    if (h.captured != 0) {
      std::memcpy(to + record.size(), data.data(), h.captured);
    }
    return {};
  }
  if (auto written = out_.Write(record); !written) {
    return written;
  }
  return out_.Write(data.first(h.captured));
}

// Keeps at most snaplen bytes; the original length stays `original_length`
// (0 = the packet's size) and is never less than what is kept.
PcapWriter::RecordHeader PcapWriter::HeaderOf(std::int64_t timestamp_ns, std::size_t data_size,
                                              std::uint32_t original_length) const noexcept {
  // Floor division, so a timestamp before 1970 still has 0 <= fraction < 1 s.
  std::int64_t seconds = timestamp_ns / kNanosPerSecond;
  std::int64_t nanos = timestamp_ns % kNanosPerSecond;
  if (nanos < 0) {
    --seconds;
    nanos += kNanosPerSecond;
  }
  const auto size = static_cast<std::uint32_t>(
      std::min<std::size_t>(data_size, std::numeric_limits<std::uint32_t>::max()));
  const std::uint32_t captured = std::min(size, snaplen_);
  const std::int64_t fraction = precision_ == PcapTimePrecision::Nano ? nanos : nanos / 1000;
  return RecordHeader{.seconds = static_cast<std::uint32_t>(seconds),
                      .fraction = static_cast<std::uint32_t>(fraction),
                      .captured = captured,
                      .original =
                          std::max(original_length == 0 ? size : original_length, captured)};
}

void PcapWriter::RecordHeader::Put(std::uint8_t* record) const noexcept {
  PutLe32(&record[0], seconds);
  PutLe32(&record[4], fraction);
  PutLe32(&record[8], captured);
  PutLe32(&record[12], original);
}

Status PcapWriter::WritePacket(const PacketRecord& packet) {
  return WritePacket(packet.timestamp_ns, packet.data, packet.original_length);
}

Status PcapWriter::Flush() {
  return out_.Flush();
}

} // namespace wgcap
