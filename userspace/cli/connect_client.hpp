// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cli/arguments.hpp"

namespace wgcap::cli {

// `wgcap --connect PATH [capture options] [expression]`: the capture runs in
// a `wgcap serve` daemon and streams back; this side writes it like a local
// capture (stdout, or -w FILE atomically), prints the daemon's messages and
// counts, and turns Ctrl-C into a stop request. `argv` are the original
// arguments. Returns the daemon's exit code for the capture.
int RunConnect(const Arguments& args, int argc, char** argv);

} // namespace wgcap::cli
