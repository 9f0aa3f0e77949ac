// SPDX-License-Identifier: Apache-2.0
#include "cli/stats_json.hpp"

#include <cstdio>

namespace wgcap::cli {
namespace {

// A JSON string: interface names may hold '"', '\' and control characters
// (the kernel refuses only '/', ':' and white space).
std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
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
