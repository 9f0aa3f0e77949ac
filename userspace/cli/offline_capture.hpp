// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>

#include "cli/arguments.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::cli {

// `wgcap -r`: file → Session (Matcher) → pcap or text. Returns the exit code
// and prints its own messages on stderr. With --wg-peers, packets are
// attributed to the dump's peers and `peer KEY` resolves against them.
int RunOfflineCapture(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher);

} // namespace wgcap::cli
