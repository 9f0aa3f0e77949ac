// SPDX-License-Identifier: Apache-2.0
// The capture-file sinks: pcap and pcapng writers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

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
  struct RecordHeader { // a record's 16 bytes, before they are laid out
    std::uint32_t seconds, fraction, captured, original;
    void Put(std::uint8_t* record) const noexcept;
  };
  RecordHeader HeaderOf(std::int64_t timestamp_ns, std::size_t data_size,
                        std::uint32_t original_length) const noexcept;
  Status WritePacketSlowly(const RecordHeader& h, std::span<const std::uint8_t> data);

  ByteWriter& out_;
  std::uint32_t snaplen_;
  PcapTimePrecision precision_;
  bool header_written_ = false;
};

// pcapng (little-endian, one section): a section header, one interface
// description per interface, enhanced packet blocks with nanosecond
// timestamps and the direction in epb_flags, and interface statistics at the
// end.
// Block types and option codes, as the pcapng specification
// (draft-ietf-opsawg-pcapng) and Wireshark's wiretap/wtap.h number them.
namespace pcapng {
inline constexpr std::uint32_t kSectionHeader = 0x0a0d0d0a;
inline constexpr std::uint32_t kInterfaceDescription = 1;
inline constexpr std::uint32_t kPacket = 2; // obsolete; read, never written
inline constexpr std::uint32_t kSimplePacket = 3;
inline constexpr std::uint32_t kInterfaceStatistics = 5;
inline constexpr std::uint32_t kEnhancedPacket = 6;
inline constexpr std::uint32_t kByteOrderMagic = 0x1a2b3c4d;
// DLT_RAW as Linux numbers it, the link type of every interface after the
// first (PcapngWriter explains why); readers take it as raw IP too.
inline constexpr std::uint16_t kLinkTypeRawDlt = 12;

inline constexpr std::uint16_t kOptEnd = 0;
inline constexpr std::uint16_t kOptComment = 1; // opt_comment, in any block
inline constexpr std::uint16_t kShbOs = 3;
inline constexpr std::uint16_t kShbUserAppl = 4;
inline constexpr std::uint16_t kIfName = 2;
inline constexpr std::uint16_t kIfDescription = 3;
inline constexpr std::uint16_t kIfTsresol = 9;
inline constexpr std::uint16_t kIfFilter = 11;
inline constexpr std::uint16_t kIfTsoffset = 14;
inline constexpr std::uint16_t kEpbFlags = 2; // also the obsolete PB's pack_flags
inline constexpr std::uint16_t kIsbStartTime = 2;
inline constexpr std::uint16_t kIsbEndTime = 3;
inline constexpr std::uint16_t kIsbIfRecv = 4;
inline constexpr std::uint16_t kIsbIfDrop = 5;
inline constexpr std::uint16_t kIsbFilterAccept = 6;
inline constexpr std::uint16_t kIsbOsDrop = 7;
inline constexpr std::uint16_t kIsbUsrDeliv = 8;

// epb_flags bits 0-1.
inline constexpr std::uint32_t kFlagsInbound = 1;
inline constexpr std::uint32_t kFlagsOutbound = 2;
} // namespace pcapng

// One captured interface, as its description block names it.
struct PcapngInterface {
  std::string name;          // if_name
  std::uint32_t ifindex = 0; // its packets' PacketRecord::ifindex
};

struct PcapngWriterOptions {
  std::uint32_t snaplen = 0;  // 0 means 65535
  std::string interface_name; // if_name of the captured interface
  // The captured interface's index; 0 binds it to the ifindex the first
  // packet carries (files carry 0 throughout).
  std::uint32_t ifindex = 0;
  // Several captured interfaces (-i wg0,wg1): described in this order
  // (interface ids 0, 1, ...), each with the filter; when set, it replaces
  // interface_name and ifindex. Indexes must be distinct and non-zero.
  std::vector<PcapngInterface> interfaces;
  std::string filter;      // if_filter as a filter string; empty: omitted
  std::string description; // if_description; empty: omitted
  std::string application; // shb_userappl ("wgcap 0.1.0"); empty: omitted
  std::string os;          // shb_os; empty: omitted
  // The clock stamped on the statistics blocks (when the counts were taken);
  // null is the realtime clock. Tests pin it.
  std::int64_t (*now_ns)() = nullptr;
};

struct KernelCounters;

// Not thread-safe. The section header and the captured interface's
// description are written lazily, on the first packet, WriteHeader or Finish.
// A packet from another ifindex gets its own interface ("ifindex N"),
// described just before its first packet. A packet attributed to a
// WireGuard peer carries the comment `peer=KEY` (44 base64 characters), a
// GSO/GRO super-packet `gso=SEGSxSIZE`, each an opt_comment of its EPB
// (SPEC 10), so tshark shows them as frame.comment.
class PcapngWriter final : public PacketSink {
public:
  PcapngWriter(ByteWriter& out, PcapngWriterOptions options);
  ~PcapngWriter() override;
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;

  Status WriteHeader(); // idempotent
  // Keeps at most snaplen bytes; the original length stays.
  Status WritePacket(const PacketRecord& packet) override;
  Status Flush() override;
  // One statistics block per interface (idempotent). The capture's counters
  // go on the captured interface: packets the kernel saw, kernel losses,
  // packets the filter accepted, userspace drops; with several captured
  // interfaces, each gets its own kernel counters (Stats::interfaces, by
  // ifindex) and the first also the userspace drops of all. Every interface also gets the packets
  // written for it and the times of its first and last packet.
  Status Finish(const Stats& stats) override;

  std::uint32_t snaplen() const noexcept { return options_.snaplen; }
  std::size_t interface_count() const noexcept { return interfaces_.size(); }

  // The `peer=KEY` options of recent peers, ready made (pcapng_writer.cpp).
  struct PeerComments;

private:
  struct Interface {
    std::uint32_t ifindex = 0;
    bool bound = false; // ifindex known
    std::int64_t packets = 0;
    std::uint64_t first_ns = 0, last_ns = 0;
  };

  Status WritePacketSlowly(const PacketRecord& packet);
  bool WroteWithComments(const PacketRecord& packet, std::uint32_t id) noexcept;
  void Count(std::uint32_t id, std::uint64_t ns) noexcept; // a packet written for `id`
  Result<std::uint32_t> InterfaceFor(std::uint32_t ifindex);
  Status WriteInterfaceDescription(const std::string& name, bool first);
  Status WriteStatistics(std::uint32_t id, const Stats* stats);
  Status WriteOwnStatistics(std::uint32_t id, const KernelCounters* counters,
                            std::optional<std::int64_t> session_drops);
  void PutTimes(std::uint32_t id);
  Status EndStatistics(const Interface& i);
  Status Emit(); // finishes the block in buffer_ and writes it

  ByteWriter& out_;
  PcapngWriterOptions options_;
  std::vector<Interface> interfaces_;
  std::vector<std::uint8_t> buffer_;    // one block other than a packet's
  std::unique_ptr<std::uint8_t[]> epb_; // a packet's block when out_ has no room
  std::unique_ptr<PeerComments> peer_comments_;
  std::uint32_t last_id_ = 0; // the interface of the last packet
  bool header_written_ = false;
  bool finished_ = false;
};

} // namespace wgcap
