// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "wgcap/byte_writer.hpp"
#include "wgcap/packet_sink.hpp"

namespace wgcap {

namespace text {
class FlowTable;
class InterfaceNames;
class TimeColumn;
} // namespace text

// The time at the start of each line, as tcpdump's -t flags choose it.
enum class TimeStamp : std::uint8_t {
  TimeOfDay,     // default: local HH:MM:SS.uuuuuu
  None,          // -t
  Epoch,         // -tt: seconds since the epoch
  SincePrevious, // -ttt: delta to the previous packet
  DateTime,      // -tttt: local date and time
  SinceFirst,    // -ttttt: delta to the first packet
};

// The packet bytes after each line, as tcpdump's -x/-X flags choose them
// (-xx and -XX mean the same here: there is no link-layer header).
enum class HexDump : std::uint8_t { None, Hex, HexAscii };

// Everything that shapes the text (SPEC sections 5 and 6).
struct TextOptions {
  bool verbose = false;                  // -v: seq/ack, options, ttl, id, iplen
  bool ascii = false;                    // -A: the payload as ASCII after the line
  HexDump hex = HexDump::None;           // -x, -xx, -X, -XX
  TimeStamp time = TimeStamp::TimeOfDay; // -t ... -ttttt
  bool nanoseconds = false;              // --time-stamp-precision nano: 9 digits
  bool quiet = false;                    // -q: no flags, options or annotations
  bool interface_name = false;           // -e: the interface name before the tag
  bool absolute_sequence = false;        // -S: raw TCP sequence numbers
  bool number = false;                   // -#: the packet number first
};

// One human-readable line per packet (SPEC section 5), laid out as
//
//   [NUMBER  ][TIME ][IFACE ][DIR PROTO] [peer KEY8 ]BODY[, ttl T, id I, iplen L[, gso NxS]]
//   [hex dump (-x/-X) or payload (-A)]
//
// KEY8 (with -e or -v, for a packet attributed to a WireGuard peer) is the
// first 8 base64 characters of PacketRecord::peer; `gso NxS` (-v, for a
// GSO/GRO super-packet) is its segment count and segment size.
// NUMBER (-#) is tcpdump's "%5u  "; TIME is as the -t flags choose
// (text/time_column.hpp), absent with -t; IFACE (-e) is the capture's
// interface name, "?" for records from files (they carry no index), "ifN"
// for an index the kernel no longer knows. With `quiet`, TCP and UDP bodies
// are only "length N": no flags, seq/ack, options or payload decoding; ICMP
// keeps its description. With `verbose`, TCP sequence numbers are relative
// to each flow's first (flows kept in a table of fixed size, least recently
// used evicted) unless `absolute_sequence`, and the IP suffix follows the
// body. With hex and ascii both set, the hex dump wins, as in tcpdump. Any
// bytes are safe to give it: nothing is read outside the captured bytes,
// and no control character from a packet reaches the output. Not
// thread-safe.
class TextWriter final : public PacketSink {
public:
  TextWriter(ByteWriter& out, const TextOptions& options);
  TextWriter(ByteWriter& out, bool verbose, bool ascii);
  ~TextWriter() override;
  TextWriter(const TextWriter&) = delete;
  TextWriter& operator=(const TextWriter&) = delete;

  Status WritePacket(const PacketRecord& packet) override;
  Status Flush() override;

private:
  void AppendLead(const PacketRecord& packet);

  ByteWriter& out_;
  TextOptions options_;
  std::unique_ptr<text::FlowTable> flows_;      // only where -v shows relative numbers
  std::unique_ptr<text::TimeColumn> time_;      // remembers the first and previous packet
  std::unique_ptr<text::InterfaceNames> names_; // only with -e
  std::uint64_t count_ = 0;                     // packets written, for -#
  std::string line_;                            // reused: no allocation per packet once grown
};

} // namespace wgcap
