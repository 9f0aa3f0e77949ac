// SPDX-License-Identifier: Apache-2.0
// The one-line-per-packet text format (SPEC sections 5 and 6): number, time,
// interface, direction and protocol tag, endpoints, then the body each
// protocol's file in text/ writes, the -v IP suffix, and the -x/-X dump or
// the -A payload.
#include "wgcap/text_writer.hpp"

#include <cinttypes>
#include <cstdio>

#include "base/peer_key_text.hpp"
#include "text/flow_table.hpp"
#include "text/interface_names.hpp"
#include "text/packet_text.hpp"
#include "text/text_append.hpp"
#include "text/time_column.hpp"
#include "wgcap/packet_parse.hpp"

namespace wgcap {
namespace {

using text::Appendf;
using text::Bytes;

void AppendTag(std::string& line, Direction dir, const ParsedPacket& p) {
  char proto[8];
  if (p.family == 0) {
    std::snprintf(proto, sizeof proto, "?");
  } else if (p.protocol == kProtoTcp) {
    std::snprintf(proto, sizeof proto, "TCP");
  } else if (p.protocol == kProtoUdp) {
    std::snprintf(proto, sizeof proto, "UDP");
  } else if (p.protocol == kProtoIcmp || p.protocol == kProtoIcmp6) {
    std::snprintf(proto, sizeof proto, "ICMP");
  } else {
    std::snprintf(proto, sizeof proto, "P%u", p.protocol);
  }
  Appendf(line, "[%-3s %4s] ", ToString(dir), proto);
}

void AppendEndpoint(std::string& line, const ParsedPacket& p,
                    const std::array<std::uint8_t, 16>& address, std::uint16_t port) {
  if (p.family == 6 && p.has_ports) {
    line += '[';
  }
  text::AppendAddress(line, p.family, address.data());
  if (p.has_ports) {
    Appendf(line, p.family == 6 ? "]:%u" : ":%u", port);
  }
}

// The body after the endpoints; returns the transport payload (for -A).
Bytes AppendBody(std::string& line, const text::PacketView& v, text::FlowTable* flows,
                 text::BodyStyle style) {
  const ParsedPacket& p = v.parsed;
  if (!p.walk_complete) {
    line += " [|ip6]"; // the extension-header chain was cut short or too long
    return {};
  }
  if (p.fragment_offset != 0) {
    // A later fragment: payload without a transport header.
    Appendf(line, " length %u (frag offset %u)", v.ip_end - v.l4(), p.fragment_offset * 8u);
    return v.Captured(v.l4());
  }
  switch (p.protocol) {
  case kProtoTcp:
    return text::AppendTcp(line, v, flows, style);
  case kProtoUdp:
    return text::AppendUdp(line, v, style);
  case kProtoIcmp:
    return text::AppendIcmp(line, v);
  case kProtoIcmp6:
    return text::AppendIcmp6(line, v);
  default:
    Appendf(line, " length %u", v.ip_end - v.l4());
    return v.Captured(v.l4());
  }
}

// SPEC 10: the first 8 characters of the peer's key, enough to tell peers
// apart at a glance (`peer AbCd` filters take any unambiguous prefix).
void AppendPeer(std::string& line, const PeerKey& key) {
  const PeerKeyText text = PeerKeyToText(key);
  line += "peer ";
  line.append(text.data(), 8);
  line += ' ';
}

} // namespace

namespace text {

std::uint32_t IpEnd(const ParsedPacket& p) noexcept {
  // A header length shorter than the headers, or longer than the packet on
  // the wire, is not believed.
  if (p.ip_length >= p.transport_offset && p.ip_length <= p.original_length) {
    return p.ip_length;
  }
  return p.original_length > p.transport_offset ? p.original_length : p.transport_offset;
}

} // namespace text

TextWriter::TextWriter(ByteWriter& out, const TextOptions& options)
    : out_(out), options_(options),
      flows_(options.verbose && !options.quiet && !options.absolute_sequence
                 ? std::make_unique<text::FlowTable>()
                 : nullptr),
      time_(std::make_unique<text::TimeColumn>(options.time, options.nanoseconds)),
      names_(options.interface_name ? std::make_unique<text::InterfaceNames>() : nullptr) {}

TextWriter::TextWriter(ByteWriter& out, bool verbose, bool ascii)
    : TextWriter(out, TextOptions{.verbose = verbose, .ascii = ascii}) {}

TextWriter::~TextWriter() = default;

// Everything before the tag: number, time, interface.
void TextWriter::AppendLead(const PacketRecord& packet) {
  ++count_;
  if (options_.number) {
    Appendf(line_, "%5" PRIu64 "  ", count_); // tcpdump -#
  }
  time_->Append(line_, packet.timestamp_ns);
  if (names_ != nullptr) {
    if (const std::string* name = packet.interface_name;
        name != nullptr && !name->empty() && packet.ifindex == 0) {
      // A file's own name for it (pcapng if_name), escaped as the kernel's.
      AppendEscaped(line_,
                    Bytes(reinterpret_cast<const std::uint8_t*>(name->data()), name->size()));
    } else {
      names_->Append(line_, packet.ifindex);
    }
    line_ += ' ';
  }
}

Status TextWriter::WritePacket(const PacketRecord& packet) {
  const ParsedPacket p = ParsePacket(packet.data, packet.original_length);
  line_.clear();
  AppendLead(packet);
  AppendTag(line_, packet.direction, p);
  if (packet.peer != nullptr && (options_.verbose || options_.interface_name)) {
    AppendPeer(line_, *packet.peer);
  }
  const Bytes bytes(packet.data);
  Bytes payload;
  if (p.family == 0) {
    Appendf(line_, "??? len=%u", p.original_length);
    payload = bytes;
  } else {
    AppendEndpoint(line_, p, p.src, p.src_port);
    line_ += " > ";
    AppendEndpoint(line_, p, p.dst, p.dst_port);
    const text::PacketView view{p, bytes, text::IpEnd(p)};
    payload = AppendBody(line_, view, flows_.get(), {options_.verbose, options_.quiet});
    if (options_.verbose) {
      Appendf(line_, ", ttl %u, id %u, iplen %u", p.ttl, p.ip_id, p.ip_length);
      if (packet.gso_segs != 0) {
        // A GSO/GRO super-packet: why iplen exceeds the tunnel's MTU.
        Appendf(line_, ", gso %ux%u", packet.gso_segs, packet.gso_size);
      }
    }
  }
  line_ += '\n';
  // tcpdump shows one of them, the hex dump first: -X or -x over -A.
  if (options_.hex != HexDump::None) {
    text::AppendHexDump(line_, bytes, options_.hex == HexDump::HexAscii);
  } else if (options_.ascii) {
    text::AppendAsciiPayload(line_, payload);
  }
  return out_.Write(line_);
}

Status TextWriter::Flush() {
  return out_.Flush();
}

} // namespace wgcap
