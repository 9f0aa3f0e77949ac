// SPDX-License-Identifier: Apache-2.0
#include "wgcap/pcap_writer.hpp"

#include <algorithm>
#include <array>
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

Status PcapWriter::WritePacket(std::int64_t timestamp_ns, std::span<const std::uint8_t> data,
                               std::uint32_t original_length) {
  if (auto header = WriteHeader(); !header) {
    return header;
  }
  // Floor division, so a timestamp before 1970 still has 0 <= fraction < 1 s.
  std::int64_t seconds = timestamp_ns / kNanosPerSecond;
  std::int64_t nanos = timestamp_ns % kNanosPerSecond;
  if (nanos < 0) {
    --seconds;
    nanos += kNanosPerSecond;
  }
  const auto size = static_cast<std::uint32_t>(
      std::min<std::size_t>(data.size(), std::numeric_limits<std::uint32_t>::max()));
  const std::uint32_t captured = std::min(size, snaplen_);
  const std::uint32_t original = std::max(original_length == 0 ? size : original_length, captured);

  std::array<std::uint8_t, 16> record;
  PutLe32(&record[0], static_cast<std::uint32_t>(seconds));
  const std::int64_t fraction = precision_ == PcapTimePrecision::Nano ? nanos : nanos / 1000;
  PutLe32(&record[4], static_cast<std::uint32_t>(fraction));
  PutLe32(&record[8], captured);
  PutLe32(&record[12], original);
  if (auto written = out_.Write(record); !written) {
    return written;
  }
  return out_.Write(data.first(captured));
}

Status PcapWriter::WritePacket(const PacketRecord& packet) {
  return WritePacket(packet.timestamp_ns, packet.data, packet.original_length);
}

Status PcapWriter::Flush() {
  return out_.Flush();
}

} // namespace wgcap
