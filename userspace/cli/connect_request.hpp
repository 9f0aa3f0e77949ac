// SPDX-License-Identifier: Apache-2.0
// What `wgcap --connect PATH ...` asks `wgcap serve` for.
#pragma once

#include <string>
#include <vector>

#include "cli/arguments.hpp"

namespace wgcap::cli {

// The request's words (without argv[0]), given the client's parsed `args`
// and its argv (as getopt_long left it).
std::vector<std::string> RequestArguments(const Arguments& args, int argc, char** argv);

} // namespace wgcap::cli
