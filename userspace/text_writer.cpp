// SPDX-License-Identifier: Apache-2.0
// The one-line-per-packet text format (SPEC section 5): time, direction and
// protocol tag, endpoints, and a short description of the transport.
#include "wgcap/text_writer.hpp"

#include <arpa/inet.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "wgcap/packet_parse.hpp"

namespace wgcap {
namespace {

void AppendTime(std::string& line, std::int64_t ns) {
  std::int64_t sec = ns / 1000000000;
  std::int64_t rem = ns % 1000000000;
  if (rem < 0) {
    rem += 1000000000;
    --sec;
  }
  const std::time_t t = static_cast<std::time_t>(sec);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%06" PRId64, tm.tm_hour, tm.tm_min, tm.tm_sec,
                rem / 1000);
  line += buf;
}

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
  char buf[24];
  std::snprintf(buf, sizeof buf, " [%-3s %4s] ", ToString(dir), proto);
  line += buf;
}

void AppendEndpoint(std::string& line, const ParsedPacket& p,
                    const std::array<std::uint8_t, 16>& addr, bool with_port, std::uint16_t port) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(p.family == 4 ? AF_INET : AF_INET6, addr.data(), text, sizeof text);
  if (!with_port) {
    line += text;
    return;
  }
  char buf[INET6_ADDRSTRLEN + 10];
  std::snprintf(buf, sizeof buf, p.family == 6 ? "[%s]:%u" : "%s:%u", text, port);
  line += buf;
}

std::string TcpFlags(std::uint8_t flags) {
  std::string out;
  static constexpr struct {
    std::uint8_t bit;
    char name;
  } kOrder[] = {{0x02, 'S'}, {0x01, 'F'}, {0x04, 'R'}, {0x08, 'P'}, {0x10, '.'}, {0x20, 'U'}};
  for (const auto& f : kOrder) {
    if (flags & f.bit) {
      out += f.name;
    }
  }
  return out.empty() ? "none" : out;
}

} // namespace

TextWriter::TextWriter(ByteWriter& out, bool verbose, bool ascii)
    : out_(out), verbose_(verbose), ascii_(ascii) {}

Status TextWriter::WritePacket(const PacketRecord& packet) {
  const ParsedPacket p = ParsePacket(packet.data, packet.original_length);
  line_.clear();
  AppendTime(line_, packet.timestamp_ns);
  AppendTag(line_, packet.direction, p);
  if (p.family == 0) {
    line_ += "??? len=" + std::to_string(p.original_length) + "\n";
    return out_.Write(line_);
  }
  const std::uint8_t* d = packet.data.data();
  const std::uint32_t l4 = p.transport_offset;
  const std::uint32_t ip_end = std::max(p.original_length, l4);
  AppendEndpoint(line_, p, p.src, p.has_ports, p.src_port);
  line_ += " > ";
  AppendEndpoint(line_, p, p.dst, p.has_ports, p.dst_port);
  char buf[96];
  const bool full_l4 = p.walk_complete && p.fragment_offset == 0;
  if (p.protocol == kProtoTcp && full_l4 && l4 + 20 <= p.captured_length) {
    const std::uint32_t header = (d[l4 + 12] >> 4) * 4u;
    const std::uint32_t payload = ip_end > l4 + header ? ip_end - l4 - header : 0;
    std::snprintf(buf, sizeof buf, " [%s] length %u", TcpFlags(d[l4 + 13]).c_str(), payload);
  } else if (p.protocol == kProtoUdp && full_l4 && p.has_ports) {
    std::snprintf(buf, sizeof buf, " length %u", ip_end > l4 + 8 ? ip_end - l4 - 8 : 0);
  } else if ((p.protocol == kProtoIcmp || p.protocol == kProtoIcmp6) && full_l4 &&
             l4 + 2 <= p.captured_length) {
    std::snprintf(buf, sizeof buf, " type %u, code %u, length %u", d[l4], d[l4 + 1], ip_end - l4);
  } else {
    std::snprintf(buf, sizeof buf, " length %u", p.walk_complete ? ip_end - l4 : 0u);
  }
  line_ += buf;
  line_ += '\n';
  (void)verbose_;
  (void)ascii_;
  return out_.Write(line_);
}

Status TextWriter::Flush() {
  return out_.Flush();
}

} // namespace wgcap
