// SPDX-License-Identifier: Apache-2.0
#include "filter/ipv4_text.hpp"

#include <algorithm>
#include <cctype>

namespace wgcap::filter {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// One {N} of libpcap's lexer: [0-9]+ or 0[xX][0-9A-Fa-f]+.
bool IsLexerNumber(std::string_view t) {
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    return std::all_of(t.begin() + 2, t.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  }
  return !t.empty() && std::all_of(t.begin(), t.end(), IsDigit);
}

} // namespace

std::optional<std::uint32_t> ParseLibpcapNumber(std::string_view t) {
  if (!IsLexerNumber(t)) {
    return std::nullopt;
  }
  unsigned base = 10;
  if (t.size() > 2 && (t[1] == 'x' || t[1] == 'X')) {
    base = 16;
    t.remove_prefix(2);
  } else if (t.size() > 1 && t[0] == '0') {
    base = 8; // as libpcap: 08 and 09 are not numbers
    t.remove_prefix(1);
  }
  std::uint64_t v = 0;
  for (const char c : t) {
    const unsigned digit = IsDigit(c) ? static_cast<unsigned>(c - '0')
                                      : static_cast<unsigned>(std::tolower(c) - 'a' + 10);
    if (digit >= base) {
      return std::nullopt;
    }
    v = v * base + digit;
    if (v > UINT32_MAX) {
      return std::nullopt;
    }
  }
  return static_cast<std::uint32_t>(v);
}

bool LooksLikeIpv4Id(std::string_view text) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    if (!IsLexerNumber(text.substr(start, dot - start))) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) {
      return parts <= 4;
    }
    start = dot + 1;
  }
}

std::optional<Ipv4Id> ParseDottedIpv4(std::string_view text) {
  Ipv4Id id{0, 0};
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::string_view part = text.substr(start, dot - start);
    // __pcap_atoin reads each part in decimal, whatever its prefix.
    if (part.empty() || !std::all_of(part.begin(), part.end(), IsDigit) || id.bits == 32) {
      return std::nullopt;
    }
    unsigned n = 0;
    for (const char c : part) {
      n = n * 10 + static_cast<unsigned>(c - '0');
      if (n > 255) {
        return std::nullopt;
      }
    }
    id.value = (id.value << 8) | n;
    id.bits += 8;
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  if (id.bits < 32) {
    id.value <<= 32 - id.bits; // "Promote short ipaddr"
  }
  return id;
}

std::string InvalidIpv4(std::string_view text) {
  return "invalid IPv4 address '" + std::string(text) + "'";
}

} // namespace wgcap::filter
