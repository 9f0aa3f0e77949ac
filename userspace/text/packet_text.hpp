// SPDX-License-Identifier: Apache-2.0
// The pieces of a text line (SPEC section 5) that TextWriter puts together.
// Each Append* writes the body of one protocol after the endpoints and
// returns the transport payload it found (for -A).
//
// Truncation: where the captured bytes end before a field the line needs,
// the line says so in tcpdump's style, "[|tcp]", "[|udp]", "[|icmp]",
// "[|icmp6]", "[|domain]", "[|tls]", "[|ip6]", and what follows the marker
// is left out; lengths printed are from the IP header, not the capture.
#pragma once

#include <cstdint>
#include <string>

#include "text/bytes.hpp"
#include "wgcap/packet_parse.hpp"

namespace wgcap::text {

class FlowTable;

// One packet as the text writers see it: the one parse plus the bytes.
struct PacketView {
  const ParsedPacket& parsed;
  Bytes bytes;          // the captured network-layer bytes
  std::uint32_t ip_end; // end of the IP packet per its header (for lengths)

  std::uint32_t l4() const noexcept { return parsed.transport_offset; }
  // The captured bytes from `offset` up to the end of the IP packet (so
  // link-layer padding past the IP length is never shown as payload).
  Bytes Captured(std::size_t offset) const noexcept {
    return offset < ip_end ? bytes.Sub(offset, ip_end - offset) : Bytes();
  }
};

// Where the IP packet ends: the header's length when it is consistent,
// else the wire length.
std::uint32_t IpEnd(const ParsedPacket& p) noexcept;

// How much a body says: -v adds TCP's seq/ack/window/options; -q (which
// wins over -v here, as in tcpdump) leaves out TCP flags, options and every
// payload decoding (DNS, TLS, HTTP, SSH), so TCP and UDP say only
// "length N". `flows` is null where sequence numbers are shown raw (-S) or
// not at all.
struct BodyStyle {
  bool verbose = false;
  bool quiet = false;
};

Bytes AppendTcp(std::string& line, const PacketView& packet, FlowTable* flows, BodyStyle style);
Bytes AppendUdp(std::string& line, const PacketView& packet, BodyStyle style);
Bytes AppendIcmp(std::string& line, const PacketView& packet);
Bytes AppendIcmp6(std::string& line, const PacketView& packet);

// A DNS message: `message` is what was captured of it, `length` its size.
void AppendDns(std::string& line, Bytes message, std::uint32_t length);

// ": TEXT" for a TCP payload that starts an SSH banner, a TLS ClientHello,
// ServerHello or alert, or an HTTP request or status line; nothing else.
void AppendPayloadAnnotation(std::string& line, Bytes payload);
// Returns false (and appends nothing) when `payload` is not such a record.
bool AppendTlsAnnotation(std::string& line, Bytes payload);

// -x/-X: every captured byte in tcpdump's hex layout, on lines of their own.
void AppendHexDump(std::string& line, Bytes bytes, bool with_ascii);

// -A: `payload` on its own line(s), bytes outside 0x20-0x7e shown as '.'
// except '\n', '\t' and a '\r' that begins "\r\n".
void AppendAsciiPayload(std::string& line, Bytes payload);

} // namespace wgcap::text
