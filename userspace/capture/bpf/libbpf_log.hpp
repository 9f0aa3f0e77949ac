// SPDX-License-Identifier: Apache-2.0
// libbpf's log routed into wgcap: kept, not printed, so a verifier refusal
// can be shown with the error it caused (and with -v), while the warnings
// libbpf prints on expected paths do not reach the user.
#pragma once

#include <string>

namespace wgcap {

// Installs the router (idempotent, thread-safe). When `echo` is set every
// line is also written to stderr.
void RouteLibbpfLog(bool echo = false);

// Returns and clears what libbpf logged on this thread since the last call.
std::string TakeLibbpfLog();

} // namespace wgcap
