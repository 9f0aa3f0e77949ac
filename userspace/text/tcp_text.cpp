// SPDX-License-Identifier: Apache-2.0
// TCP: flags, and with -v relative sequence numbers and options (SPEC 5).
#include <cstdint>
#include <string>

#include "text/flow_table.hpp"
#include "text/packet_text.hpp"
#include "text/text_append.hpp"

namespace wgcap::text {
namespace {

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20;

void AppendFlags(std::string& line, std::uint8_t flags) {
  // SPEC order (tcpdump's is F S R P . U). ECE and CWR are not shown.
  static constexpr struct {
    std::uint8_t bit;
    char name;
  } kOrder[] = {{kSyn, 'S'}, {kFin, 'F'}, {kRst, 'R'}, {kPsh, 'P'}, {kAck, '.'}, {kUrg, 'U'}};
  line += " [";
  const std::size_t start = line.size();
  for (const auto& f : kOrder) {
    if (flags & f.bit) {
      line += f.name;
    }
  }
  if (line.size() == start) {
    line += "none";
  }
  line += ']';
}

// The sequence-number bases of this packet's two directions.
struct SeqBase {
  FlowTable::Side* own = nullptr;
  FlowTable::Side* peer = nullptr;
};

SeqBase Track(FlowTable& flows, const ParsedPacket& p, std::uint8_t flags, std::uint32_t seq) {
  int direction = 0;
  FlowTable::Flow& flow =
      flows.Find(p.family, {p.src.data(), p.src_port}, {p.dst.data(), p.dst_port}, &direction);
  FlowTable::Side& own = flow.side[direction];
  FlowTable::Side& peer = flow.side[1 - direction];
  if ((flags & kSyn) && !(flags & kAck)) {
    // A new connection (perhaps reusing the ports): both directions restart.
    own = {true, seq};
    peer = {};
  } else if ((flags & kSyn) || !own.seen) {
    own = {true, seq};
  }
  return {&own, &peer};
}

std::uint32_t Relative(const FlowTable::Side* side, std::uint32_t value) {
  return side != nullptr && side->seen ? value - side->first_seq : value;
}

// One option at `i` (its kind is neither EOL nor NOP). Returns its length,
// or 0 after writing "[bad opt]" for one that breaks the layout.
std::size_t AppendOption(std::string& line, Bytes options, std::size_t i, const SeqBase& base) {
  const std::uint8_t kind = options.U8(i);
  const std::uint8_t len = options.U8(i + 1);
  const std::size_t d = i + 2; // the option's data
  if (len < 2) {
    line += "[bad opt]"; // would never advance
    return 0;
  }
  if (kind == 2 && len == 4) {
    Appendf(line, "mss %u", options.U16(d));
  } else if (kind == 3 && len == 3) {
    Appendf(line, "wscale %u", options.U8(d));
  } else if (kind == 4 && len == 2) {
    line += "sackOK";
  } else if (kind == 5 && (len - 2) % 8 == 0) {
    Appendf(line, "sack %u ", (len - 2) / 8u);
    // The blocks acknowledge the other direction's data, as ack does.
    for (std::size_t b = d; b < i + len; b += 8) {
      Appendf(line, "{%u:%u}", Relative(base.peer, options.U32(b)),
              Relative(base.peer, options.U32(b + 4)));
    }
  } else if (kind == 8 && len == 10) {
    Appendf(line, "TS val %u ecr %u", options.U32(d), options.U32(d + 4));
  } else if (kind == 2 || kind == 3 || kind == 4 || kind == 5 || kind == 8) {
    line += "[bad opt]"; // a known option of the wrong size
    return 0;
  } else if (kind == 19) {
    line += "md5";
  } else if (kind == 28) {
    line += "uto";
  } else if (kind == 29) {
    line += "tcp-ao";
  } else if (kind == 30) {
    line += "mptcp";
  } else if (kind == 34) {
    line += "tfo";
  } else {
    Appendf(line, "unknown-%u", kind); // then its data in hex, as tcpdump does
    for (std::size_t b = d; b < i + len; ++b) {
      Appendf(line, "%02x", options.U8(b));
    }
  }
  return len;
}

// tcpdump's names, comma-separated. An option that breaks the header's
// layout ends the list with "[bad opt]"; where the capture ends inside the
// options, the list ends with "[|tcp]".
void AppendOptions(std::string& line, Bytes options, bool captured_all, const SeqBase& base) {
  line += ", options [";
  for (std::size_t i = 0; i < options.size();) {
    if (i > 0) {
      line += ',';
    }
    const std::uint8_t kind = options.U8(i);
    if (kind == 0) {
      line += "eol"; // the rest is padding
      line += ']';
      return;
    }
    if (kind == 1) {
      line += "nop";
      ++i;
      continue;
    }
    if (!options.Has(i, 2) || !options.Has(i, options.U8(i + 1))) {
      line += captured_all ? "[bad opt]]" : "[|tcp]]";
      return;
    }
    const std::size_t len = AppendOption(line, options, i, base);
    if (len == 0) {
      line += ']';
      return;
    }
    i += len;
  }
  line += captured_all ? "]" : options.empty() ? "[|tcp]]" : ",[|tcp]]";
}

} // namespace

Bytes AppendTcp(std::string& line, const PacketView& packet, FlowTable* flows, BodyStyle style) {
  const ParsedPacket& p = packet.parsed;
  const Bytes& d = packet.bytes;
  const std::uint32_t l4 = packet.l4();
  if (!d.Has(l4, 20)) {
    line += " [|tcp]";
    return {};
  }
  const std::uint32_t header = (d.U8(l4 + 12) >> 4) * 4u;
  if (header < 20) {
    Appendf(line, " [bad hdr length %u - too short, < 20]", header);
    return {};
  }
  const std::uint8_t flags = d.U8(l4 + 13);
  const std::uint32_t payload_length =
      packet.ip_end > l4 + header ? packet.ip_end - l4 - header : 0;
  if (style.quiet) {
    Appendf(line, " length %u", payload_length);
    return packet.Captured(l4 + header);
  }
  AppendFlags(line, flags);
  if (style.verbose) {
    const std::uint32_t seq = d.U32(l4 + 4);
    const std::uint32_t ack = d.U32(l4 + 8);
    SeqBase base;
    if (flows != nullptr) {
      base = Track(*flows, p, flags, seq);
    }
    const std::uint32_t rel = Relative(base.own, seq);
    Appendf(line, ", seq %u", rel);
    if (payload_length > 0) {
      Appendf(line, ":%u", rel + payload_length);
    }
    if (flags & kAck) {
      Appendf(line, ", ack %u", Relative(base.peer, ack));
    }
    Appendf(line, ", win %u", d.U16(l4 + 14));
    if (header > 20) {
      const Bytes options = d.Sub(l4 + 20, header - 20);
      AppendOptions(line, options, options.size() == header - 20, base);
    }
    Appendf(line, ", length %u", payload_length);
  } else {
    Appendf(line, " length %u", payload_length);
  }
  const Bytes payload = packet.Captured(l4 + header);
  AppendPayloadAnnotation(line, payload);
  return payload;
}

} // namespace wgcap::text
