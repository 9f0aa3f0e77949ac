// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>

#include "cli/arguments.hpp"
#include "wgcap/matcher.hpp"

namespace wgcap::cli {

// `wgcap -r`: file → Session (Matcher) → pcap or text. Returns the exit code
// and prints its own messages on stderr.
int RunOfflineCapture(const Arguments& args, std::shared_ptr<const Matcher> matcher);

} // namespace wgcap::cli
