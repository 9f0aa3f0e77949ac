// SPDX-License-Identifier: Apache-2.0
// -x and -X: the captured bytes after the line, byte for byte as tcpdump
// 4.99 prints them (hex_print and hex_and_ascii_print): 16 bytes a line,
// "\t0x0000: " and then " %02x%02x" per pair, an odd last byte as " %02x";
// with ASCII the hex is padded to 40 columns, then two spaces and the bytes
// 0x21-0x7e as themselves, anything else (space too) as '.'. Written by
// hand rather than through printf: a 1500-byte packet is 94 lines.
#include "text/packet_text.hpp"

namespace wgcap::text {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr std::size_t kPerLine = 16;
constexpr std::size_t kHexWidth = 40; // 8 groups of " xxxx"

void AppendHex(std::string& line, std::uint8_t byte) {
  line += kHexDigits[byte >> 4];
  line += kHexDigits[byte & 0xf];
}

void AppendOffset(std::string& line, std::size_t offset) {
  // tcpdump's "0x%04x": four digits, more past 0xffff (snap lengths reach
  // 262144).
  int digits = 4;
  while (digits < 16 && (offset >> (4 * digits)) != 0) {
    ++digits;
  }
  line += "\t0x";
  for (int d = digits - 1; d >= 0; --d) {
    line += kHexDigits[(offset >> (4 * d)) & 0xf];
  }
  line += ": ";
}

} // namespace

void AppendHexDump(std::string& line, Bytes bytes, bool with_ascii) {
  for (std::size_t start = 0; start < bytes.size(); start += kPerLine) {
    const std::size_t end = start + kPerLine < bytes.size() ? start + kPerLine : bytes.size();
    AppendOffset(line, start);
    const std::size_t hex_start = line.size();
    for (std::size_t i = start; i < end; ++i) {
      if ((i - start) % 2 == 0) {
        line += ' ';
      }
      AppendHex(line, bytes.U8(i));
    }
    if (with_ascii) {
      line.append(kHexWidth - (line.size() - hex_start), ' ');
      line += "  ";
      for (std::size_t i = start; i < end; ++i) {
        const std::uint8_t c = bytes.U8(i);
        line += c > 0x20 && c < 0x7f ? static_cast<char>(c) : '.';
      }
    }
    line += '\n';
  }
}

} // namespace wgcap::text
