// SPDX-License-Identifier: Apache-2.0
#include "cli/stats_json.hpp"

namespace wgcap::cli {

std::string StatsJson(const Stats& s, const std::string& backend) {
  // The backend names are fixed ASCII words: no escaping needed.
  std::string out = "{\"backend\":\"" + backend + "\"";
  auto field = [&out](const char* name, std::int64_t value) {
    out += ",\"";
    out += name;
    out += "\":";
    out += std::to_string(value);
  };
  field("received", s.received);
  field("matched", s.matched);
  field("packets", s.packets);
  field("bytes", s.bytes);
  field("dropped", s.dropped);
  field("kernel_seen", s.kernel_seen);
  field("kernel_matched", s.kernel_matched);
  field("kernel_ring_drops", s.kernel_ring_drops);
  field("kernel_drops", s.kernel_drops);
  field("kernel_filter_fallback", s.kernel_filter_fallback);
  out += "}";
  return out;
}

} // namespace wgcap::cli
