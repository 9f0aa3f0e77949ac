// SPDX-License-Identifier: Apache-2.0
// Reading capture files: pcap in both byte orders, µs and ns resolution, and
// pcapng (PcapngReader); OpenCaptureFile picks by the magic. Link-layer
// headers (Ethernet, Linux cooked v1/v2, BSD loopback) are stripped so
// consumers always see the network-layer packet.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "wgcap/packet_sink.hpp"
#include "wgcap/result.hpp"

namespace wgcap {

inline constexpr std::uint32_t kLinkTypeNull = 0;
inline constexpr std::uint32_t kLinkTypeEthernet = 1;
inline constexpr std::uint32_t kLinkTypeLinuxSll = 113;
inline constexpr std::uint32_t kLinkTypeLinuxSll2 = 276;
inline constexpr std::uint32_t kLinkTypeIpv4 = 228;
inline constexpr std::uint32_t kLinkTypeIpv6 = 229;

// Reads bytes sequentially from a file descriptor (a file, a pipe, stdin),
// buffering, and knows the offset of every byte it handed out.
class ByteReader {
public:
  // Takes ownership of fd when `owned`.
  ByteReader(int fd, std::string name, bool owned);
  ~ByteReader();
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  static Result<std::unique_ptr<ByteReader>> OpenFile(const std::string& path); // "-" = stdin

  // Reads up to n bytes into out; returns how many (fewer only at EOF).
  Result<std::size_t> Read(std::uint8_t* out, std::size_t n);
  // Copies up to n (at most 16) bytes without consuming them, so a format
  // can be chosen by its magic even on a pipe; returns how many.
  Result<std::size_t> Peek(std::uint8_t* out, std::size_t n);
  std::uint64_t offset() const noexcept { return offset_; }
  const std::string& name() const noexcept { return name_; }

private:
  int fd_;
  std::string name_;
  bool owned_;
  std::uint64_t offset_ = 0;
  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0, end_ = 0;
};

struct FileRecord {
  std::int64_t timestamp_ns = 0;
  std::uint32_t captured_length = 0;   // as stored
  std::uint32_t original_length = 0;   // as stored
  std::uint64_t file_offset = 0;       // of the record header
  std::span<const std::uint8_t> bytes; // as stored, link header included; valid until the next Next
  std::uint32_t link_type = 0;         // of the record's interface
  Direction direction = Direction::Unknown; // where the file records one (pcapng flags)
  std::uint32_t interface_id = 0;           // pcapng: within its section; pcap: 0
  // pcapng: the interface's if_name, valid for the reader's life; else null.
  const std::string* interface_name = nullptr;
  // pcapng: what our writer's EPB comments say (SPEC 10), `peer=KEY` and
  // `gso=SEGSxSIZE`; the key stays valid for the reader's life.
  const PeerKey* peer = nullptr;
  std::uint16_t gso_segs = 0, gso_size = 0;
};

// A pcap or pcapng file read record by record.
class CaptureFileReader {
public:
  virtual ~CaptureFileReader() = default;
  // Returns false at a clean end of file; an error names the byte offset
  // where a truncated record or a bad header was found.
  virtual Result<bool> Next(FileRecord& record) = 0;
  // Of the first interface (pcapng: the first interface description; a
  // file without one says raw IP): what a banner reports.
  virtual std::uint32_t link_type() const noexcept = 0;
  virtual std::uint32_t snaplen() const noexcept = 0;
};

// Reads the magic and opens the file as pcap or pcapng.
Result<std::unique_ptr<CaptureFileReader>> OpenCaptureFile(std::unique_ptr<ByteReader> in);

class PcapReader final : public CaptureFileReader {
public:
  // Reads and checks the global header.
  static Result<std::unique_ptr<PcapReader>> Open(std::unique_ptr<ByteReader> in);

  Result<bool> Next(FileRecord& record) override;

  std::uint32_t link_type() const noexcept override { return link_type_; }
  std::uint32_t snaplen() const noexcept override { return snaplen_; }
  bool nanosecond() const noexcept { return nanosecond_; }
  bool swapped() const noexcept { return swapped_; }

private:
  explicit PcapReader(std::unique_ptr<ByteReader> in) : in_(std::move(in)) {}

  std::unique_ptr<ByteReader> in_;
  std::uint32_t link_type_ = 0;
  std::uint32_t snaplen_ = 0;
  bool nanosecond_ = false;
  bool swapped_ = false;
  std::vector<std::uint8_t> data_;
};

// True when this reader can strip `link_type` to the network layer.
bool IsSupportedLinkType(std::uint32_t link_type) noexcept;

// The network-layer view of a file record: link header stripped, lengths
// adjusted, direction from the link header where it records one (Linux
// cooked captures), the record's peer and GSO fields carried over. A frame that is not IPv4/IPv6
// yields empty data with original_length = its payload length, so filters see "not IP".
PacketRecord ToNetworkLayer(std::uint32_t link_type, const FileRecord& record) noexcept;
// Same, with the record's own link type; a direction the link header does not
// record comes from the record (pcapng flags).
PacketRecord ToNetworkLayer(const FileRecord& record) noexcept;

} // namespace wgcap
