// SPDX-License-Identifier: Apache-2.0
#include "cli/stats_json.hpp"

#include <cstdio>

namespace wgcap::cli {
namespace {

// The length of the UTF-8 sequence at `text[i]`, or 0 when it is not one
// (a stray continuation byte, a truncated or overlong sequence, a surrogate).
std::size_t Utf8Length(const std::string& text, std::size_t i) {
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char b = byte(i);
  const std::size_t n = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 0;
  if (n == 0 || i + n > text.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) {
      return 0;
    }
  }
  const unsigned second = byte(i + 1);
  if ((b == 0xe0 && second < 0xa0) || (b == 0xed && second >= 0xa0) ||
      (b == 0xf0 && second < 0x90) || (b == 0xf4 && second >= 0x90)) {
    return 0;
  }
  return n;
}

// A JSON string: interface names may hold '"', '\', control characters and
// bytes that are not UTF-8 (the kernel refuses only '/', ':' and white
// space); such a byte is written as the code point of its value, \u00XX,
// so the line stays valid JSON.
std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c >= 0x20 && c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (const std::size_t n = c >= 0x80 ? Utf8Length(text, i) : 0; n > 0) {
      out.append(text, i, n);
      i += n;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
      ++i;
    }
  }
  return out + "\"";
}

void Field(std::string& out, const char* name, std::int64_t value) {
  out += ",\"";
  out += name;
  out += "\":";
  out += std::to_string(value);
}

void KernelFields(std::string& out, const KernelCounters& k) {
  Field(out, "kernel_seen", k.seen);
  Field(out, "kernel_matched", k.matched);
  Field(out, "kernel_ring_drops", k.ring_drops);
  Field(out, "kernel_drops", k.drops);
  Field(out, "kernel_filter_fallback", k.filter_fallback);
}

} // namespace

KernelCounters KernelCountersOf(const Stats& stats, int ifindex) {
  for (const InterfaceCounters& c : stats.interfaces) {
    if (c.ifindex == static_cast<std::uint32_t>(ifindex)) {
      return c.kernel;
    }
  }
  return {};
}

std::string StatsJson(const Stats& s, const std::string& backend,
                      const std::vector<InterfaceStats>& interfaces) {
  std::string out = "{\"backend\":" + Quoted(backend);
  Field(out, "received", s.received);
  Field(out, "matched", s.matched);
  Field(out, "packets", s.packets);
  Field(out, "bytes", s.bytes);
  Field(out, "dropped", s.dropped);
  KernelFields(out, KernelCounters{.seen = s.kernel_seen,
                                   .matched = s.kernel_matched,
                                   .ring_drops = s.kernel_ring_drops,
                                   .drops = s.kernel_drops,
                                   .filter_fallback = s.kernel_filter_fallback});
  if (!interfaces.empty()) {
    out += ",\"interfaces\":[";
    for (std::size_t i = 0; i < interfaces.size(); ++i) {
      const InterfaceStats& each = interfaces[i];
      const KernelCounters kernel = KernelCountersOf(s, each.ifindex);
      out += (i == 0 ? "{\"name\":" : ",{\"name\":") + Quoted(each.name);
      Field(out, "ifindex", each.ifindex);
      out += ",\"backend\":" + Quoted(each.backend);
      Field(out, "packets", each.packets);
      KernelFields(out, kernel);
      out += "}";
    }
    out += "]";
  }
  out += "}";
  return out;
}

} // namespace wgcap::cli
