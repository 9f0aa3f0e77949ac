// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "wgcap/session.hpp"

namespace wgcap::cli {

// `--stats`: the final Stats as one JSON object on one line. `backend` is
// "bpf/tcx", "bpf/tc", "afpacket" or "file".
std::string StatsJson(const Stats& stats, const std::string& backend);

} // namespace wgcap::cli
