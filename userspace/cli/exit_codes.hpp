// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "wgcap/result.hpp"

namespace wgcap::cli {

// The one place an error becomes the agent's exit status (SPEC 6): 2 for
// what was typed wrong (an argument, the expression), 1 for what failed
// while running (permission, a missing interface, I/O, the kernel).
int ExitCode(ErrorKind kind) noexcept;

} // namespace wgcap::cli
