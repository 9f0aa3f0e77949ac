// SPDX-License-Identifier: Apache-2.0
#include "text/dns_message.hpp"

#include "text/text_append.hpp"

namespace wgcap::text {
namespace {

constexpr std::size_t kMaxNameWireLength = 255;
// Backward-only pointers already end every walk; the cap keeps a hostile
// chain of small backward steps from costing thousands of jumps per name.
constexpr int kMaxPointers = 64;

bool PlainLabelByte(std::uint8_t c) {
  return c > 0x20 && c < 0x7f && c != '.' && c != '\\';
}

void AppendLabel(std::string& text, Bytes label) {
  for (std::size_t i = 0; i < label.size(); ++i) {
    const std::uint8_t c = label.U8(i);
    if (PlainLabelByte(c)) {
      text += static_cast<char>(c);
    } else if (c == '.' || c == '\\') {
      text += '\\';
      text += static_cast<char>(c);
    } else {
      Appendf(text, "\\%03u", c);
    }
  }
  text += '.';
}

} // namespace

std::optional<DnsHeader> ReadDnsHeader(Bytes m) {
  if (!m.Has(0, kDnsHeaderSize)) {
    return std::nullopt;
  }
  return DnsHeader{m.U16(0), m.U16(2), m.U16(4), m.U16(6), m.U16(8), m.U16(10)};
}

std::optional<std::size_t> ReadDnsName(Bytes m, std::size_t offset, std::string* text) {
  std::size_t pos = offset;
  std::size_t segment_start = offset; // where the labels being read began
  std::optional<std::size_t> end;     // past the name in place, once known
  std::size_t wire_length = 0;
  int pointers = 0;
  const std::size_t text_start = text != nullptr ? text->size() : 0;
  for (;;) {
    if (!m.Has(pos, 1)) {
      return std::nullopt;
    }
    const std::uint8_t len = m.U8(pos);
    if ((len & 0xc0) == 0xc0) {
      if (!m.Has(pos, 2)) {
        return std::nullopt;
      }
      const std::size_t target = ((len & 0x3fu) << 8) | m.U8(pos + 1);
      // Compressors only point back to names written earlier, so every
      // legitimate pointer lands before the segment it ends; requiring that
      // makes each jump go strictly backwards and loops impossible.
      if (target >= segment_start || ++pointers > kMaxPointers) {
        return std::nullopt;
      }
      if (!end) {
        end = pos + 2;
      }
      pos = segment_start = target;
      continue;
    }
    if (len & 0xc0) {
      return std::nullopt; // 0x40 / 0x80: obsolete or reserved label types
    }
    wire_length += len + 1u;
    if (wire_length > kMaxNameWireLength || !m.Has(pos + 1, len)) {
      return std::nullopt;
    }
    if (len == 0) {
      if (text != nullptr && text->size() == text_start) {
        *text += '.'; // the root
      }
      return end ? *end : pos + 1;
    }
    if (text != nullptr) {
      AppendLabel(*text, m.Sub(pos + 1, len));
    }
    pos += 1u + len;
  }
}

std::optional<DnsRecord> ReadDnsQuestion(Bytes m, std::size_t offset) {
  const auto after_name = ReadDnsName(m, offset, nullptr);
  if (!after_name || !m.Has(*after_name, 4)) {
    return std::nullopt;
  }
  DnsRecord r;
  r.name = offset;
  r.type = m.U16(*after_name);
  r.klass = m.U16(*after_name + 2);
  r.rdata = r.end = *after_name + 4;
  return r;
}

std::optional<DnsRecord> ReadDnsRecord(Bytes m, std::size_t offset) {
  const auto after_name = ReadDnsName(m, offset, nullptr);
  if (!after_name || !m.Has(*after_name, 10)) {
    return std::nullopt;
  }
  const std::size_t f = *after_name;
  DnsRecord r;
  r.name = offset;
  r.type = m.U16(f);
  r.klass = m.U16(f + 2);
  r.ttl = m.U32(f + 4);
  r.rdlength = m.U16(f + 8);
  r.rdata = f + 10;
  if (!m.Has(r.rdata, r.rdlength)) {
    return std::nullopt;
  }
  r.end = r.rdata + r.rdlength;
  return r;
}

} // namespace wgcap::text
