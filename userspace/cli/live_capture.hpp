// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>

#include "cli/arguments.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::cli {

// `wgcap -i`: a capture backend → Session (Matcher) → pcap or text, until
// SIGINT/SIGTERM, -c, --duration or a failure. Returns the exit code.
int RunLiveCapture(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher);

// `wgcap -d`: the compiled filter forms. Returns the exit code.
int DumpFilters(const Arguments& args, const ExpressionMatcher& matcher);

} // namespace wgcap::cli
