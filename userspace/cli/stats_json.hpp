// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wgcap/session.hpp"

namespace wgcap::cli {

// One captured interface of a live capture, as `--stats` lists it: its
// kernel counters are looked up in Stats::interfaces by ifindex.
struct InterfaceStats {
  std::string name;
  int ifindex = 0;
  std::string backend;      // this interface's: "bpf/tcx", "bpf/tc", "afpacket"
  std::int64_t packets = 0; // written for it
};

// The kernel counters of the interface `ifindex` in Stats::interfaces (zero
// when it published none).
KernelCounters KernelCountersOf(const Stats& stats, int ifindex);

// `--stats`: the final Stats as one JSON object on one line. `backend` is
// "bpf/tcx", "bpf/tc", "afpacket" or "file" (several interfaces on different
// backends: joined by "+"). A live capture adds "interfaces", one object per
// interface in the order given: name, ifindex, backend, packets and its own
// kernel_* counters (the top-level kernel_* are their sums).
std::string StatsJson(const Stats& stats, const std::string& backend,
                      const std::vector<InterfaceStats>& interfaces = {});

} // namespace wgcap::cli
